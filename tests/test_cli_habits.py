"""The CLI behaves like the tools next to it (issue 11): a real `dockyard` process, the real lab,
the real docker CLI's contexts, real shells for completion.
"""

from __future__ import annotations

import grp
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from helpers import DOCKYARD, cli_env, in_terminal
from helpers import dockyard as run_dockyard
from dockyard.cli.main import build_parser
from dockyard.cli.options import subparsers
from dockyard.ui.panes.registry import PANES

PANE_IDS = [spec.id for spec in PANES]

GLOBALS = ("--config", "--readonly", "--context")
KEEP_OUT = ("DOCKER_", "DOCKYARD_CONFIG")  # the tester's own Docker and Dockyard settings


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This checkout's `dockyard`, with none of the tester's Docker or Dockyard settings."""
    return cli_env(extra, drop=KEEP_OUT)


def dockyard(*args: str, env: dict[str, str] | None = None, local_socket: str | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the CLI; `local_socket` says where the local daemon's socket is (tests never rely on this
    machine's /var/run/docker.sock being there or not)."""
    command = DOCKYARD
    if local_socket is not None:
        command = (sys.executable, "-c", "import sys, dockyard.config.contexts as c; c.DEFAULT_SOCKET = sys.argv[1]; "
                   "from dockyard.cli.main import main; sys.exit(main(sys.argv[2:]))", local_socket)
    return run_dockyard(*args, env=env, drop=KEEP_OUT, command=command, timeout=timeout)


@pytest.fixture
def two_hosts(lab, tmp_path) -> str:
    return str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "unix3")))


@pytest.fixture
def docker_home(tmp_path) -> dict[str, str]:
    """An empty HOME and Docker config dir, as on a fresh account."""
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "DOCKER_CONFIG": str(tmp_path / "docker"),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def docker_cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(["docker", *args], env=_env(env), check=True, capture_output=True, timeout=30)


@pytest.fixture
def contexts(lab, docker_home) -> dict[str, str]:
    """Two real contexts made by the docker CLI: labone -> d1, labthree -> d3 (current: labthree)."""
    docker_cli(docker_home, "context", "create", "labone", "--docker", f"host=unix://{lab.d1.socket}")
    docker_cli(docker_home, "context", "create", "labthree", "--docker", f"host=unix://{lab.d3.socket}")
    docker_cli(docker_home, "context", "use", "labthree")
    return docker_home


# --------------------------------------------------------------------------- global options


def test_global_options_work_after_the_subcommand(lab, two_hosts):
    result = dockyard("ps", "--config", two_hosts, "--json")
    assert result.returncode == 0, result.stderr
    assert {c["host"] for c in json.loads(result.stdout)["containers"]} <= {"unix1", "unix3"}
    hosts = dockyard("hosts", "--json", "--readonly", "--config", two_hosts)
    assert hosts.returncode == 0, hosts.stderr
    assert [h["readonly"] for h in json.loads(hosts.stdout)["hosts"]] == [True, True]
    registries = dockyard("registry", "ls", "--config", two_hosts, "--json")
    assert registries.returncode == 0, registries.stderr
    assert [r["name"] for r in json.loads(registries.stdout)["registries"]] == ["lab"]


def _subcommand_paths(parser, prefix=()):
    for sub in subparsers(parser):
        path = (*prefix, sub.prog.split()[-1])
        yield path, sub
        yield from _subcommand_paths(sub, path)


def test_every_subcommand_help_lists_the_global_options():
    paths = list(_subcommand_paths(build_parser()))
    assert {p for p, _ in paths} >= {("ps",), ("hosts",), ("pull",), ("registry",), ("registry", "tags"),
                                     ("config", "check"), ("completion",), ("services",), ("service", "scale")}
    for path, sub in paths:
        assert all(option in sub.format_help() for option in GLOBALS), path
    shown = dockyard("registry", "tags", "--help")  # what a user sees, from the real process
    assert shown.returncode == 0 and "global options:" in shown.stdout
    assert all(option in shown.stdout for option in GLOBALS)


def test_a_subcommand_added_later_gets_the_global_options():
    from dockyard.cli.options import merge_global_options, share_global_options

    parser = build_parser()
    later = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001
    later.add_parser("added-later")
    share_global_options(parser)  # as build_parser does last
    args = merge_global_options(parser.parse_args(["--context", "a", "added-later", "--context", "b", "--readonly"]))
    assert args.context == ["a", "b"] and args.readonly


# --------------------------------------------------------------------------- contexts


def test_only_remote_contexts_give_exit_0_and_no_dead_default(lab, contexts, tmp_path):
    result = dockyard("hosts", "--json", env=contexts, local_socket=str(tmp_path / "no-daemon.sock"))
    assert result.returncode == 0, result.stderr
    assert [h["name"] for h in json.loads(result.stdout)["hosts"]] == ["labone", "labthree"]


def test_the_local_socket_joins_as_default_when_it_exists(lab, contexts):
    result = dockyard("hosts", "--json", env=contexts, local_socket=lab.d1.socket)
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)["hosts"]
    assert [h["name"] for h in hosts] == ["default", "labone", "labthree"]
    assert hosts[0]["state"] == "online"


def test_context_option_picks_hosts_by_context_name(lab, contexts, tmp_path):
    marker = "ctx-" + uuid.uuid4().hex[:6]
    lab.d3.run_container(marker, "sleep", "300")
    nowhere = str(tmp_path / "no-daemon.sock")
    one = dockyard("ps", "--context", "labthree", "--json", env=contexts, local_socket=nowhere)
    assert one.returncode == 0, one.stderr
    containers = json.loads(one.stdout)["containers"]
    assert {c["host"] for c in containers} == {"labthree"} and marker in {c["name"] for c in containers}
    both = dockyard("--context", "labone", "hosts", "--context", "labthree", "--json", env=contexts,
                    local_socket=nowhere)
    assert [h["name"] for h in json.loads(both.stdout)["hosts"]] == ["labone", "labthree"]
    unknown = dockyard("ps", "--context", "nosuch", env=contexts, local_socket=nowhere)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "dockyard: no Docker context named 'nosuch' (contexts: default, labone, labthree; see `docker context ls`)"]


def test_context_option_with_a_config_file_finds_the_context_store(lab, contexts, two_hosts):
    result = dockyard("--config", two_hosts, "hosts", "--context", "labone", "--json", env=contexts)
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)["hosts"]
    assert [(h["name"], h["source"], h["state"]) for h in hosts] == [("labone", "context:labone", "online")]


# --------------------------------------------------------------------------- --json, read-only, ps


def test_json_is_printed_even_when_every_host_failed(lab, tmp_path):
    cfg = lab.write_config(tmp_path / "c.toml", hosts=(
        {"name": "dead1", "url": "tcp://127.0.0.1:9", "connect_timeout": 1},
        {"name": "dead2", "url": f"unix://{tmp_path}/gone.sock"}))
    for args in (("ps",), ("images",), ("hosts",), ("pull", "busybox:nope"), ("images", "--drift")):
        result = dockyard("--config", str(cfg), *args, "--json")
        assert result.returncode == 3, (args, result.stderr)
        assert sorted(e["host"] for e in json.loads(result.stdout)["errors"]) == ["dead1", "dead2"], args


def test_json_is_printed_when_the_registry_fails(lab, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[registries]]\nname = "gone"\nurl = "http://127.0.0.1:9"\n'
                   f'[[hosts]]\nname = "unix1"\nurl = "unix://{lab.d1.socket}"\n')
    for args in (("tags", "gone", "team/app"), ("ls", "gone"), ("inspect", "gone", "team/app:1")):
        result = dockyard("--config", str(cfg), "registry", *args, "--json")
        assert result.returncode == 3, (args, result.stderr)
        data = json.loads(result.stdout)
        assert data["errors"][0]["registry"] == "gone" and data["errors"][0]["error"], args
    unknown = dockyard("--config", str(cfg), "registry", "tags", "nosuch", "x", "--json")
    assert unknown.returncode == 2 and "no registry named 'nosuch'" in json.loads(unknown.stdout)["errors"][0]["error"]


def test_registry_tags_keep_one_natural_order_in_text_and_json(lab, tmp_path):
    """Text and JSON list tags in one order, numbers in them compared as numbers (1.9 before 1.10)."""
    repo = "order/" + uuid.uuid4().hex[:6]
    for tag in ("b", "1.10", "c", "1.9", "a", "1.2"):
        ref = f"{lab.registry.host}/{repo}:{tag}"
        lab.d1.docker("tag", "dockyard-test/busybox:latest", ref)
        lab.d1.docker("push", ref)
    cfg = str(lab.write_config(tmp_path / "c.toml", hosts=("unix1",)))
    text = dockyard("--config", cfg, "registry", "tags", "lab", repo)
    data = dockyard("--config", cfg, "registry", "tags", "lab", repo, "--json")
    assert text.stdout.split() == json.loads(data.stdout)["tags"] == ["1.2", "1.9", "1.10", "a", "b", "c"]


def test_read_only_refusals_exit_2_with_one_line(lab, two_hosts):
    for args in (("pull", "busybox:1"), ("transfer", "dockyard-test/busybox", "--from", "unix1", "--to", "unix3")):
        result = dockyard("--readonly", "--config", two_hosts, *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "read-only" in lines[0] and "unexpected" not in lines[0], lines
        as_json = dockyard("--config", two_hosts, *args, "--json", "--readonly")
        assert as_json.returncode == 2 and "read-only" in json.loads(as_json.stdout)["errors"][0]["error"]


def test_an_unknown_pane_is_a_usage_error():
    """On a terminal (without one the UI would not start at all, whatever the pane)."""
    [said] = in_terminal([*DOCKYARD, "--pane", "nosuch"], _env(), [("", "(panes: ")])
    [line] = [line for line in said.splitlines() if line.strip()]
    assert line.strip() == f"dockyard: no pane named 'nosuch' (panes: {', '.join(PANE_IDS)})"
    assert {"hosts", "containers", "images", "registries"} <= set(PANE_IDS)


def test_ps_json_carries_the_command(lab, two_hosts):
    name = "cmd-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "sleep", "321")
    result = dockyard("--config", two_hosts, "ps", "--json", "--filter", f"name={name}")
    [container] = json.loads(result.stdout)["containers"]
    assert container["command"] == "sleep 321"


# --------------------------------------------------------------------------- errors that say what to do


def test_no_docker_anywhere_says_how_to_add_an_endpoint(docker_home, tmp_path):
    result = dockyard("ps", env=docker_home, local_socket=str(tmp_path / "no-daemon.sock"))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "no Docker endpoint found" in line and "docker context create" in line
    assert f"{docker_home['XDG_CONFIG_HOME']}/dockyard/config.toml" in line  # the config path to edit
    as_json = dockyard("hosts", "--json", env=docker_home, local_socket=str(tmp_path / "no-daemon.sock"))
    assert "no Docker endpoint found" in json.loads(as_json.stdout)["errors"][0]["error"]
    check = dockyard("config", "check", env=docker_home, local_socket=str(tmp_path / "no-daemon.sock"))
    assert check.returncode == 0 and "warning: no Docker endpoint found" in check.stderr


def test_permission_denied_names_the_socket_and_who_may_use_it(lab, fresh_daemon, tmp_path):
    """As a user outside the socket's group: root without CAP_DAC_OVERRIDE, the socket owned by nobody:docker
    (the docker group comes with Debian's docker.io)."""
    os.chown(fresh_daemon.socket, 65534, grp.getgrnam("docker").gr_gid)
    os.chmod(fresh_daemon.socket, 0o660)
    cfg = lab.write_config(tmp_path / "c.toml", hosts=({"name": "local", "url": f"unix://{fresh_daemon.socket}"},))
    cmd = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search",
           sys.executable, "-m", "dockyard", "--config", str(cfg), "hosts", "--json"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=60)
    assert result.returncode == 3, result.stderr
    reason = json.loads(result.stdout)["hosts"][0]["reason"]
    assert reason == (f"permission denied on socket {fresh_daemon.socket}: only nobody and members of the group "
                      "'docker' may use it (add yourself: sudo usermod -aG docker $USER, then log in again)")


# --------------------------------------------------------------------------- shell completion


@pytest.fixture
def completion_env(lab, tmp_path) -> dict[str, str]:
    """A `dockyard` on PATH (this checkout) and a config naming two hosts and the lab registry."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "dockyard"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} -m dockyard "$@"\n')
    launcher.chmod(0o755)
    cfg = lab.write_config(tmp_path / "c.toml", hosts=(
        {"name": "alpha-web", "url": "unix:///nonexistent/a.sock"},
        {"name": "beta-db", "url": "unix:///nonexistent/b.sock"}))
    return _env({"PATH": f"{bin_dir}:{os.environ['PATH']}", "DOCKYARD_CONFIG": str(cfg), "TERM": "xterm",
                 "DOCKER_CONFIG": str(tmp_path / "docker"), "HOME": str(tmp_path)})


def _script(shell: str, env: dict[str, str], tmp_path: Path) -> Path:
    result = subprocess.run(["dockyard", "completion", shell], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    path = tmp_path / {"bash": "dockyard.bash", "zsh": "_dockyard", "fish": "dockyard.fish"}[shell]
    path.write_text(result.stdout)
    return path


def _bash_complete(script: Path, env: dict[str, str], words: list[str]) -> list[str]:
    """What bash's programmable completion offers for the last word of `words` (COMP_* as bash sets them)."""
    line = " ".join(words)
    code = (f"source {script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\nCOMP_CWORD={len(words) - 1}\n"
            f"COMP_LINE={line!r}\nCOMP_POINT=${{#COMP_LINE}}\n"
            f"_shtab_dockyard dockyard {words[-1]!r} {words[-2]!r}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    result = subprocess.run(["bash", "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_bash_completion_offers_subcommands_hosts_and_registries(completion_env, tmp_path):
    script = _script("bash", completion_env, tmp_path)
    assert sorted(_bash_complete(script, completion_env, ["dockyard", "p"])) == ["problems", "ps", "pull"]
    assert _bash_complete(script, completion_env, ["dockyard", "events", "--host", "a"]) == ["alpha-web"]
    assert _bash_complete(script, completion_env, ["dockyard", "ps", "--host", ""]) == ["alpha-web", "beta-db"]
    assert _bash_complete(script, completion_env, ["dockyard", "transfer", "x", "--to", "b"]) == ["beta-db"]
    assert _bash_complete(script, completion_env, ["dockyard", "registry", "tags", ""]) == ["lab"]
    assert "--context" in _bash_complete(script, completion_env, ["dockyard", "images", "--c"])
    assert _bash_complete(script, completion_env, ["dockyard", "--pane", ""]) == PANE_IDS  # the registry's names
    assert _bash_complete(script, completion_env, ["dockyard", "--pane", "im"]) == ["images"]


def test_fish_completion_offers_hosts_and_registries(completion_env, tmp_path):
    script = _script("fish", completion_env, tmp_path)

    def complete(line: str) -> list[str]:
        result = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C {line!r}"],
                                capture_output=True, text=True, env=completion_env, timeout=60)
        assert result.returncode == 0, result.stderr
        return [row.split("\t")[0] for row in result.stdout.splitlines()]

    assert complete("dockyard ps --host ") == ["alpha-web", "beta-db"]
    assert complete("dockyard registry ls ") == ["lab"]
    assert {"pull", "ps", "registry", "completion"} <= set(complete("dockyard "))


def test_zsh_completion_offers_hosts_when_tab_is_pressed(completion_env, tmp_path):
    script = _script("zsh", completion_env, tmp_path)
    # the shell is ready once it has run the setup: it prints 42 (the typed line shows only the sum)
    setup = f"fpath=({script.parent} $fpath)\nautoload -U compinit && compinit -u\necho READY-$((6*7))\n"
    [_, screen] = in_terminal(["zsh", "-f", "-i"], completion_env,
                              [(setup, "READY-42"), ("dockyard ps --host \t\t", "beta-db")])
    assert "alpha-web" in screen and "beta-db" in screen
    [_, screen] = in_terminal(["zsh", "-f", "-i"], completion_env, [(setup, "READY-42"), ("dockyard pu\t", "pull")])
    assert "dockyard pull" in screen


# --------------------------------------------------------------------------- nothing but Dockyard on stderr

OVER_SSH = {  # every subcommand that reaches a host, run against the lab's SSH host
    "hosts": ("hosts",),
    "ps": ("ps", "-a", "--host", "ssh"),
    "images": ("images", "--host", "ssh"),
    "images --drift": ("images", "--drift", "--host", "ssh"),
    "pull": ("pull", "127.0.0.1:9/nothing/here:1", "--host", "ssh"),  # refused by the daemon: its own line
    "transfer": ("transfer", "dockyard-test/busybox:latest", "--from", "ssh", "--to", "unix1"),
    "services": ("services",),
    "nodes": ("nodes",),
    "outdated": ("outdated", "--host", "ssh"),
}


@pytest.fixture(scope="module")
def over_ssh(lab, tmp_path_factory) -> str:
    return str(lab.write_config(tmp_path_factory.mktemp("quiet") / "c.toml", hosts=("unix1", "ssh")))


@pytest.mark.parametrize("command", list(OVER_SSH))
def test_stderr_holds_only_dockyards_own_lines(lab, over_ssh, command):
    """asyncssh's DSA support made cryptography print ten CryptographyDeprecationWarning lines before
    the output of every command that touched an SSH host; stderr is for Dockyard's own messages."""
    result = dockyard("--config", over_ssh, *OVER_SSH[command], env=lab.env())
    assert result.returncode in (0, 3), result.stderr
    foreign = [line for line in result.stderr.splitlines() if not line.startswith(("dockyard: ", "warning: "))]
    assert foreign == []


def test_a_user_who_asks_for_warnings_still_gets_them(lab, over_ssh):
    """The silence is a default: `PYTHONWARNINGS` / `-W` put their filters first and win."""
    loud = dockyard("--config", over_ssh, "ps", "--host", "ssh", env={**lab.env(), "PYTHONWARNINGS": "default"})
    assert loud.returncode == 0 and "CryptographyDeprecationWarning" in loud.stderr
    explicit = run_dockyard("--config", over_ssh, "ps", "--host", "ssh", env=lab.env(), drop=KEEP_OUT,
                            command=(sys.executable, "-W", "always::UserWarning", "-m", "dockyard"))
    assert explicit.returncode == 0 and "CryptographyDeprecationWarning" in explicit.stderr


def test_only_asyncssh_s_cryptography_warnings_are_silenced():
    """The filter is exact: that category from asyncssh's modules; the same category from any other
    module, or another category from asyncssh, still shows. In a fresh interpreter with Python's
    default filters (pytest adds its own)."""
    probe = """
import warnings
from cryptography.utils import CryptographyDeprecationWarning as C
import dockyard.transports.ssh

def shown(category, module):
    with warnings.catch_warnings(record=True) as caught:  # the filters as they are, output recorded
        warnings.warn_explicit("probe", category, "probe.py", 1, module=module, registry={})
    return bool(caught)

print([shown(C, "asyncssh"), shown(C, "asyncssh.crypto.dsa"), shown(C, "asyncsshx"), shown(C, "paramiko.dsskey"),
       shown(UserWarning, "asyncssh.crypto.dsa")])
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), timeout=60)
    assert result.stdout.strip() == "[False, False, True, True, True]", result.stderr

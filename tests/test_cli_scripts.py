"""The CLI as a script uses it: container actions across hosts, logs, exec, `ps -q`, `--format`,
`images --drift --exit-code`, colour only on a terminal. A real `dockyard` process against the lab."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from helpers import DOCKYARD, cli_env, dockyard, in_terminal


def uid() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture
def fleet_cfg(lab, tmp_path):
    """unix1 (d1), unix3 (d3) and ssh (-> d2)."""
    return str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "unix3", "ssh")))


def state(daemon, name: str) -> str:
    result = daemon.docker("inspect", "-f", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else "gone"


# ------------------------------------------------------------------------------------ stop/start/rm


def test_a_name_on_two_hosts_is_refused_until_the_script_says_which(lab, fleet_cfg):
    name = "twin-" + uid()
    lab.d1.run_container(name, "sleep", "300")
    lab.d3.run_container(name, "sleep", "300")
    refused = dockyard("--config", fleet_cfg, "stop", name)
    assert refused.returncode == 2, refused.stderr
    assert "unix1" in refused.stderr and "unix3" in refused.stderr and "--all-hosts" in refused.stderr
    assert "nothing was done" in refused.stderr
    assert state(lab.d1, name) == "running" and state(lab.d3, name) == "running"

    one = dockyard("--config", fleet_cfg, "stop", "--host", "unix1", name)
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines() == [f"unix1/{name}"]  # which host each result is from
    assert state(lab.d1, name) == "exited" and state(lab.d3, name) == "running"

    started = dockyard("--config", fleet_cfg, "start", f"unix1/{name}")  # HOST/NAME, as the logs print it
    assert started.returncode == 0 and started.stdout.splitlines() == [f"unix1/{name}"], started.stderr
    assert state(lab.d1, name) == "running"

    restarted = dockyard("--config", fleet_cfg, "restart", "--all-hosts", "-t", "1", name, "--json")
    assert restarted.returncode == 0, restarted.stderr
    data = json.loads(restarted.stdout)
    assert sorted((r["host"], r["name"], r["ok"]) for r in data["results"]) == [
        ("unix1", name, True), ("unix3", name, True)]

    running = dockyard("--config", fleet_cfg, "rm", "--all-hosts", name)  # docker: no -f, no removal
    assert running.returncode == 3 and running.stdout == ""
    assert f"unix1/{name}" in running.stderr and f"unix3/{name}" in running.stderr
    removed = dockyard("--config", fleet_cfg, "rm", "-f", "--all-hosts", name)  # no prompt: a CLI
    assert removed.returncode == 0, removed.stderr
    assert sorted(removed.stdout.splitlines()) == [f"unix1/{name}", f"unix3/{name}"]
    assert state(lab.d1, name) == "gone" and state(lab.d3, name) == "gone"


def test_an_unknown_name_is_reported_and_the_others_still_go_ahead(lab, fleet_cfg):
    name = "solo-" + uid()
    cid = lab.d3.run_container(name, "sleep", "300")
    result = dockyard("--config", fleet_cfg, "stop", "-t", "1", "no-such-" + uid(), cid[:10])
    assert result.returncode == 3
    assert result.stdout.splitlines() == [f"unix3/{name}"]  # an ID prefix finds it on its host
    assert "no such container" in result.stderr
    assert state(lab.d3, name) == "exited"
    lab.d3.docker("rm", "-f", cid)


def test_a_name_that_begins_another_id_names_that_container_with_or_without_its_host(lab, fleet_cfg):
    """docker's rule: a name wins over an ID prefix, also written HOST/NAME."""
    other = lab.d1.run_container("idof-" + uid(), "sleep", "300")
    name = other[:8]  # a container named like the beginning of the other one's ID
    lab.d1.run_container(name, "sleep", "300")
    try:
        for ref in (name, f"unix1/{name}"):
            result = dockyard("--config", fleet_cfg, "stop", "-t", "1", ref)
            assert result.returncode == 0 and result.stdout.splitlines() == [f"unix1/{name}"], result.stderr
            assert (state(lab.d1, name), state(lab.d1, other)) == ("exited", "running")
            lab.d1.docker("start", name)
    finally:
        lab.d1.docker("rm", "-f", name, other, check=False)


def test_read_only_refuses_an_action_before_doing_anything(lab, fleet_cfg):
    name = "ro-" + uid()
    lab.d1.run_container(name, "sleep", "300")
    result = dockyard("--config", fleet_cfg, "--readonly", "stop", name)
    assert result.returncode == 2 and "read-only" in result.stderr
    assert state(lab.d1, name) == "running"
    lab.d1.docker("rm", "-f", name)


# ------------------------------------------------------------------------------------------- logs


def test_logs_of_containers_on_two_hosts_are_merged_with_padded_prefixes(lab, fleet_cfg):
    tag = uid()
    a = f"la-{tag}"
    b = f"logs-long-{tag}"
    # at the same time on two hosts: a1 (0 s) b1 (0.3) a2 (0.6) b2 (0.9) a3 (1.2)
    lab.d1.run_container(a, "sh", "-c", f"echo {tag} a1; usleep 600000; echo {tag} a2 >&2; usleep 600000; "
                                        f"echo {tag} a3")
    lab.d2.run_container(b, "sh", "-c", f"usleep 300000; echo {tag} b1; usleep 600000; echo {tag} b2")
    lab.d1.docker("wait", a)
    lab.d2.docker("wait", b)
    result = dockyard("--config", fleet_cfg, "logs", "-t", f"unix1/{a}", f"ssh/{b}")
    assert result.returncode == 0, result.stderr
    width = len(f"ssh/{b}")
    pa, pb = f"{'unix1/' + a:<{width}} | ", f"ssh/{b} | "  # padded: the text column stays put
    out = [(ln[:len(pa)], *ln[len(pa):].split(" ", 1)) for ln in result.stdout.splitlines()]
    assert sorted((p, text) for p, _, text in out) == sorted([(pa, f"{tag} a1"), (pa, f"{tag} a3"),
                                                              (pb, f"{tag} b1"), (pb, f"{tag} b2")]), out
    stamps = [stamp for _, stamp, _ in out]
    assert stamps == sorted(stamps)  # one timeline across the two hosts
    # stderr lines on stderr, as docker logs does
    assert [ln[:len(pa)] + ln[len(pa):].split(" ", 1)[1] for ln in result.stderr.splitlines() if tag in ln] == [
        f"{pa}{tag} a2"]
    single = dockyard("--config", fleet_cfg, "logs", "--tail", "1", a)  # one container: as docker logs
    assert single.returncode == 0 and single.stdout == f"{tag} a3\n", single.stdout
    lab.d1.docker("rm", a)
    lab.d2.docker("rm", b)


def test_logs_follow_ends_when_the_containers_stop(lab, fleet_cfg):
    tag = uid()
    name = f"lf-{tag}"
    lab.d3.run_container(name, "sh", "-c", f"for i in 1 2 3; do echo {tag} $i; usleep 400000; done")
    result = dockyard("--config", fleet_cfg, "logs", "-f", "-t", name, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [ln.split(" ", 1)[1] for ln in lines] == [f"{tag} 1", f"{tag} 2", f"{tag} 3"]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", ln) for ln in lines)  # -t: the daemon's timestamps
    assert "broke" not in result.stderr
    lab.d3.docker("rm", "-f", name)


# ------------------------------------------------------------------------------------------- exec


@pytest.mark.parametrize("host", ["unix1", "ssh"])
def test_exec_gives_the_command_exit_code_and_keeps_stdout_and_stderr_apart(lab, fleet_cfg, host):
    daemon = lab.d1 if host == "unix1" else lab.d2
    name = "ex-" + uid()
    daemon.run_container(name, "sleep", "300")
    result = dockyard("--config", fleet_cfg, "exec", "--host", host, name, "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (result.returncode, result.stdout) == (7, "out\n")
    assert "err\n" in result.stderr and "out" not in result.stderr
    piped = dockyard("--config", fleet_cfg, "exec", "-i", f"{host}/{name}", "sh", "-c", "cat; echo done",
                     stdin="hello\nworld\n")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "hello\nworld\ndone\n"  # our input, then its end
    no_input = dockyard("--config", fleet_cfg, "exec", f"{host}/{name}", "cat", stdin="ignored\n")
    assert no_input.returncode == 0 and no_input.stdout == ""  # without -i the command reads nothing
    missing = dockyard("--config", fleet_cfg, "exec", f"{host}/{name}", "no-such-command")
    assert missing.returncode in (126, 127) and "could not run 'no-such-command'" in missing.stderr
    daemon.docker("rm", "-f", name)


def test_exec_it_on_a_terminal_is_interactive(lab, fleet_cfg):
    name = "exit-" + uid()
    lab.d1.run_container(name, "sleep", "300")
    [prompt, answer] = in_terminal([*DOCKYARD, "--config", fleet_cfg, "exec", "-it", name, "sh"],
                                   cli_env({"TERM": "xterm"}),
                                   [("", "# "), ("echo $((6*7))-$(tty)\r", "42-/dev/pts/")])
    assert "42-/dev/pts/" in answer  # a TTY inside the container, our keys reached it
    lab.d1.docker("rm", "-f", name)


# ----------------------------------------------------------------------------------- ps, --format


def test_ps_quiet_and_format_print_what_scripts_read(lab, fleet_cfg):
    name = "fmt-" + uid()
    cid = lab.d3.run_container(name, "sleep", "300", labels={"app": "shop"})
    quiet = dockyard("--config", fleet_cfg, "ps", "-q", "--host", "unix3", "--filter", f"name={name}")
    assert quiet.returncode == 0 and quiet.stdout == cid[:12] + "\n"
    fmt = dockyard("--config", fleet_cfg, "ps", "--filter", f"name={name}",
                   "--format", '{{.Host}}/{{.Name}} {{.State}} {{.Label "app"}} {{.ID}}')
    assert fmt.returncode == 0 and fmt.stdout == f"unix3/{name} running shop {cid[:12]}\n"
    tab = dockyard("--config", fleet_cfg, "ps", "--filter", f"name={name}", "--format", r"table {{.Host}}\t{{.Names}}")
    assert tab.stdout.splitlines() == ["HOST    NAMES", f"unix3   {name}"]
    as_json = dockyard("--config", fleet_cfg, "ps", "--filter", f"name={name}", "--format", "{{json .}}")
    assert json.loads(as_json.stdout)["Labels"] == {"app": "shop"}
    bad = dockyard("--config", fleet_cfg, "ps", "--format", "{{.Nmae}}")
    assert bad.returncode == 2 and ".Nmae" in bad.stderr and "{{" not in bad.stdout
    assert "Names" in bad.stderr and "Traceback" not in bad.stderr  # the fields it could have been
    lab.d3.docker("rm", "-f", cid)


def test_images_and_hosts_take_a_format(lab, fleet_cfg):
    images = dockyard("--config", fleet_cfg, "images", "--host", "unix1", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
    assert images.returncode == 0, images.stderr
    assert re.search(r"^dockyard-test/busybox:latest \d+(\.\d+)?[kM]B$", images.stdout, re.M), images.stdout
    hosts = dockyard("--config", fleet_cfg, "hosts", "--format", "{{.Name}} {{.State}} {{.Images}}")
    assert hosts.returncode == 0, hosts.stderr
    assert [ln.split()[:2] for ln in hosts.stdout.splitlines()] == [["unix1", "online"], ["unix3", "online"],
                                                                  ["ssh", "online"]]


def test_images_drift_exit_code_fails_a_script_when_a_tag_drifts(lab, fleet_cfg):
    ref = f"drift-{uid()}:1"
    lab.d1.docker("tag", "dockyard-test/busybox:latest", ref)
    base = lab.d3.run_container(None, "sh", "-c", "echo changed > /x", detach=False)
    lab.d3.docker("commit", base, ref)  # same tag, another image
    try:
        drifting = dockyard("--config", fleet_cfg, "images", "--drift", "--exit-code", "--host", "unix1",
                            "--host", "unix3")
        assert drifting.returncode == 1, drifting.stderr
        assert any(ln.startswith(ref) and "DRIFT" in ln for ln in drifting.stdout.splitlines())
        plain = dockyard("--config", fleet_cfg, "images", "--drift", "--host", "unix1", "--host", "unix3")
        assert plain.returncode == 0  # without --exit-code, drift is no failure
        one_host = dockyard("--config", fleet_cfg, "images", "--drift", "--exit-code", "--host", "unix1")
        assert one_host.returncode == 0, one_host.stdout
    finally:
        lab.d1.docker("rmi", ref, check=False)
        lab.d3.docker("rm", "-f", base, check=False)
        lab.d3.docker("rmi", ref, check=False)


# ------------------------------------------------------------------------------------------ colour


def test_colour_on_a_terminal_never_in_a_pipe_nor_with_no_color(lab, fleet_cfg):
    name = "col-" + uid()
    lab.d1.run_container(name, "sleep", "300")
    args = [*DOCKYARD, "--config", fleet_cfg, "ps", "--host", "unix1", "--filter", f"name={name}"]
    [screen] = in_terminal(args, cli_env({"TERM": "xterm"}, drop=("NO_COLOR",)), [("", name)])
    assert "\x1b[32mUp " in screen  # running: green, as the Containers pane
    [plain] = in_terminal(args, cli_env({"TERM": "xterm", "NO_COLOR": "1"}), [("", name)])
    assert "\x1b[" not in plain
    piped = dockyard("--config", fleet_cfg, "ps", "--host", "unix1", drop=("NO_COLOR",))
    assert "\x1b" not in piped.stdout and name in piped.stdout
    lab.d1.docker("rm", "-f", name)


# -------------------------------------------------------------------------------------- registries


def test_an_air_gapped_config_leaves_docker_hub_out_and_registry_ls_exits_0(lab, tmp_path):
    cfg = lab.write_config(tmp_path / "c.toml", hosts=("unix1",), docker_hub=False)
    env = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker")}
    result = dockyard("--config", str(cfg), "registry", "ls", "--json", env=env, drop=("DOCKYARD_NO_DOCKER_HUB",))
    assert result.returncode == 0, result.stderr
    names = [r["name"] for r in json.loads(result.stdout)["registries"]]
    assert names == ["lab"]  # the config's registry; no docker.io (nothing asked of it)


# -------------------------------------------------------------------------------------- completion


def test_completion_offers_the_fleet_s_container_names(lab, fleet_cfg):
    twin, solo = "ctwin-" + uid(), "csolo-" + uid()
    lab.d1.run_container(twin, "sleep", "300")
    lab.d3.run_container(twin, "sleep", "300")
    lab.d3.run_container(solo, "sleep", "300")
    listed = dockyard("completion", "--list", "containers", env={"DOCKYARD_CONFIG": fleet_cfg}).stdout.split()
    assert solo in listed and f"unix3/{solo}" in listed
    assert f"unix1/{twin}" in listed and f"unix3/{twin}" in listed
    assert twin not in listed  # on two hosts: the bare name would be refused, so it is not offered
    script = dockyard("completion", "bash").stdout
    assert "_dockyard_containers" in script  # what logs/stop/exec… complete with, asked at tab time
    for name in (twin, solo):
        lab.d1.docker("rm", "-f", name, check=False)
        lab.d3.docker("rm", "-f", name, check=False)


def test_logs_since_takes_what_docker_logs_takes(lab, fleet_cfg):
    tag = uid()
    name = f"ls-{tag}"
    lab.d1.run_container(name, "sh", "-c", f"echo {tag} old; sleep 2; echo {tag} new", detach=False)
    stamped = dockyard("--config", fleet_cfg, "logs", "-t", name).stdout.splitlines()
    new_at = next(ln.split()[0] for ln in stamped if ln.endswith("new"))
    since = dockyard("--config", fleet_cfg, "logs", "--since", new_at[:19] + "Z", name)  # an RFC 3339 time
    assert since.returncode == 0 and since.stdout == f"{tag} new\n", since.stdout
    recent = dockyard("--config", fleet_cfg, "logs", "--since", "10m", name)  # a duration ago, as docker logs
    assert recent.stdout == f"{tag} old\n{tag} new\n"
    bad = dockyard("--config", fleet_cfg, "logs", "--since", "yesterday", name)
    assert bad.returncode == 2 and "--since" in bad.stderr
    lab.d1.docker("rm", name)

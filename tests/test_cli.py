"""The headless CLI as a user runs it: a real `dockyard` process against the real lab."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from helpers import dockyard


@pytest.fixture
def three_hosts(lab, tmp_path):
    """unix1 (d1), unix3 (d3) and ssh (-> d2): the benchmark's fleet."""
    return str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "unix3", "ssh")))


def test_ps_json_lists_containers_from_every_host(lab, three_hosts):
    names = {}
    for d in (lab.d1, lab.d2, lab.d3):
        names[d.name] = "cli-" + uuid.uuid4().hex[:6]
        d.run_container(names[d.name], "sleep", "300", labels={"dockyard.test": "cli"})
    result = dockyard("--config", three_hosts, "ps", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    by_name = {c["name"]: c for c in data["containers"]}
    assert by_name[names[lab.d1.name]]["host"] == "unix1"
    assert by_name[names[lab.d3.name]]["host"] == "unix3"
    assert by_name[names[lab.d2.name]]["host"] == "ssh"
    sample = by_name[names[lab.d1.name]]
    assert set(sample) == {"host", "id", "name", "image", "command", "state", "status", "created", "ports",
                           "labels"}
    assert sample["command"] == "sleep 300"  # the full command, as `docker ps --no-trunc` shows it
    assert sample["state"] == "running" and sample["labels"]["dockyard.test"] == "cli"
    assert len(sample["id"]) == 64


def test_ps_table_has_host_first_and_filters(lab, three_hosts):
    name = "filt-" + uuid.uuid4().hex[:6]
    lab.d3.run_container(name, "sleep", "300", labels={"team": "blue"})
    result = dockyard("--config", three_hosts, "ps", "--filter", "label=team=blue", "--host", "unix3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["HOST", "CONTAINER", "ID"]
    assert len(lines) == 2 and lines[1].startswith("unix3") and name in lines[1]


def test_ps_without_all_hides_stopped_and_with_all_shows_them(lab, three_hosts):
    name = "stopped-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "true", detach=False)
    running = dockyard("--config", three_hosts, "ps", "--json", "--host", "unix1")
    everything = dockyard("--config", three_hosts, "ps", "-a", "--json", "--host", "unix1")
    assert name not in {c["name"] for c in json.loads(running.stdout)["containers"]}
    assert name in {c["name"] for c in json.loads(everything.stdout)["containers"]}


def test_a_dead_host_gives_exit_3_and_the_others_still_print(lab, tmp_path):
    cfg = lab.write_config(tmp_path / "c.toml", hosts=(
        "unix1", {"name": "dead", "url": "tcp://127.0.0.1:9", "connect_timeout": 1}))
    result = dockyard("--config", str(cfg), "ps", "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert [e["host"] for e in data["errors"]] == ["dead"]
    assert "refused" in data["errors"][0]["error"].lower()
    assert "dead:" in result.stderr
    table = dockyard("--config", str(cfg), "ps")
    assert table.returncode == 3 and table.stdout.startswith("HOST")
    assert "Traceback" not in table.stderr


def test_images_json(lab, three_hosts):
    result = dockyard("--config", three_hosts, "images", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    hosts_with_image = {i["host"] for i in data["images"] if "dockyard-test/busybox:latest" in i["tags"]}
    assert hosts_with_image == {"unix1", "unix3", "ssh"}
    assert set(data["images"][0]) == {"host", "id", "tags", "size", "created"}


def test_hosts_json_reports_daemon_facts_and_states(lab, tmp_path):
    cfg = lab.write_config(tmp_path / "c.toml", hosts=(
        "unix1", "tls3", "ssh-jump", {"name": "dead", "url": "unix:///nonexistent/docker.sock"}))
    result = dockyard("--config", str(cfg), "hosts", "--json")
    assert result.returncode == 3
    hosts = {h["name"]: h for h in json.loads(result.stdout)["hosts"]}
    for name in ("unix1", "tls3", "ssh-jump"):
        h = hosts[name]
        assert h["state"] == "online", h
        assert h["server_version"].startswith("20.10")
        assert h["api_version"] == "1.41"
        assert h["os"] == "linux" and h["cpus"] >= 1 and h["memory"] > 0
        assert h["containers"] >= h["containers_running"] >= 0 and h["images"] >= 1
        assert 0 < h["latency_ms"] < 1000
    assert hosts["ssh-jump"]["transport"] == "ssh+jump"
    assert hosts["dead"]["state"] == "unreachable" and "does not exist" in hosts["dead"]["reason"]


def test_hosts_table_warns_about_plain_tcp(lab, tmp_path):
    cfg = lab.write_config(tmp_path / "c.toml", hosts=("tcp2",))
    result = dockyard("--config", str(cfg), "hosts")
    assert result.returncode == 0, result.stderr
    assert "tcp2" in result.stdout and "online" in result.stdout
    assert "tcp2" in result.stderr and "unauthenticated" in result.stderr.lower()


def test_hostile_container_name_is_printed_inert(lab, three_hosts):
    name = "evil-" + uuid.uuid4().hex[:6]
    lab.d1.run_container(name, "sleep", "300", labels={"x": "\x1b]0;pwned\x07\x1b[2J[red]boom[/red]"})
    result = dockyard("--config", three_hosts, "ps", "--filter", f"name={name}", "--host", "unix1")
    assert "\x1b" not in result.stdout
    data = json.loads(dockyard("--config", three_hosts, "ps", "--json", "--filter", f"name={name}").stdout)
    assert data["containers"][0]["labels"]["x"] == "\x1b]0;pwned\x07\x1b[2J[red]boom[/red]"


def test_readonly_flag_is_accepted_and_reported(lab, three_hosts):
    result = dockyard("--config", three_hosts, "--readonly", "hosts", "--json")
    assert all(h["readonly"] for h in json.loads(result.stdout)["hosts"])


class TestConfigErrors:
    def test_syntax_error_names_file_line_and_column(self, tmp_path):
        cfg = tmp_path / "bad.toml"
        cfg.write_text('[[hosts]]\nname = "a"\nurl = unix:///x\n')
        result = dockyard("--config", str(cfg), "ps")
        assert result.returncode == 2
        assert f"{cfg}:3:" in result.stderr
        assert "Traceback" not in result.stderr

    def test_unknown_key_with_did_you_mean_exits_2(self, tmp_path):
        cfg = tmp_path / "bad.toml"
        cfg.write_text('[[hosts]]\nname = "a"\nurl = "unix:///x"\nconect_timeout = 3\n')
        result = dockyard("--config", str(cfg), "hosts")
        assert result.returncode == 2
        assert "hosts[0].conect_timeout" in result.stderr and "connect_timeout" in result.stderr

    def test_config_check_reports_and_validates(self, lab, tmp_path):
        cfg = lab.write_config(tmp_path / "c.toml", hosts=("unix1", "tcp2", "tls3", "ssh-jump"))
        result = dockyard("config", "check", "--config", str(cfg))
        assert result.returncode == 0, result.stderr
        for name in ("unix1", "tcp2", "tls3", "ssh-jump"):
            assert name in result.stdout
        assert "unauthenticated" in (result.stdout + result.stderr).lower()

    def test_missing_explicit_config_file(self, tmp_path):
        result = dockyard("--config", str(tmp_path / "nope.toml"), "ps")
        assert result.returncode == 2 and "nope.toml" in result.stderr

    def test_unknown_host_name_is_a_usage_error(self, lab, three_hosts):
        result = dockyard("--config", three_hosts, "ps", "--host", "nosuch")
        assert result.returncode == 2 and "nosuch" in result.stderr

    def test_bad_filter_is_a_usage_error(self, lab, three_hosts):
        result = dockyard("--config", three_hosts, "ps", "--filter", "garbage")
        assert result.returncode == 2 and "KEY=VALUE" in result.stderr


def test_zero_config_uses_docker_contexts(lab, tmp_path):
    """No config file: the fleet is the Docker CLI's contexts plus the default endpoint."""
    docker_config = tmp_path / "docker"
    env = {"DOCKER_CONFIG": str(docker_config), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
    subprocess.run(["docker", "context", "create", "labone", "--docker", f"host=unix://{lab.d1.socket}"],
                   env={**env_clean, **env}, check=True, capture_output=True)
    subprocess.run(["docker", "context", "use", "labone"], env={**env_clean, **env}, check=True,
                   capture_output=True)
    # DOCKER_HOST: the current endpoint, as the CLI would pick it
    result = dockyard("hosts", "--json", drop=("DOCKER_", "DOCKYARD_"),
                      env={**env, "DOCKER_HOST": f"unix://{lab.d3.socket}"})
    hosts = {h["name"]: h for h in json.loads(result.stdout)["hosts"]}
    assert hosts["labone"]["state"] == "online"
    assert hosts["labone"]["source"] == "context:labone"
    assert hosts["default"]["url"] == f"unix://{lab.d3.socket}" and hosts["default"]["state"] == "online"
    assert result.returncode == 0, result.stderr


def test_pull_of_a_private_image_sends_the_docker_login(lab, tmp_path):
    """`docker login` stored the credentials (config.json `auths`); `dockyard pull` sends them, as the TUI
    does. Without them the registry (htpasswd) refuses the daemon: "no basic auth credentials"."""
    import registry_lab as rl
    from lab import IMAGE

    password = "pw-" + uuid.uuid4().hex
    reg = rl.RegistryServer(lab.root, "reg-login", htpasswd={"carol": password}).start()
    try:
        docker_config = tmp_path / "docker"
        docker_config.mkdir()

        def docker(*args: str, input: str | None = None) -> None:
            subprocess.run(["docker", "--config", str(docker_config), "-H", f"unix://{lab.d1.socket}", *args],
                           input=input, capture_output=True, text=True, check=True, timeout=60)

        ref = f"{reg.host}/private/busybox:{uuid.uuid4().hex[:8]}"
        docker("login", reg.host, "-u", "carol", "--password-stdin", input=password)
        assert reg.host in json.loads((docker_config / "config.json").read_text())["auths"]
        docker("tag", IMAGE, ref)
        docker("push", ref)
        config = str(lab.write_config(tmp_path / "c.toml", hosts=("unix3",)))

        anonymous = dockyard("--config", config, "pull", ref, "--json", env={"DOCKER_CONFIG": str(tmp_path / "none")})
        assert anonymous.returncode == 3
        (error,) = json.loads(anonymous.stdout)["errors"]
        assert error["host"] == "unix3" and "no basic auth credentials" in error["error"]

        pulled = dockyard("--config", config, "pull", ref, "--json", env={"DOCKER_CONFIG": str(docker_config)})
        assert pulled.returncode == 0, pulled.stdout + pulled.stderr
        (result,) = json.loads(pulled.stdout)["results"]
        assert result["host"] == "unix3" and result["ok"]
        assert result["image_id"] == json.loads(lab.d3.docker("inspect", ref).stdout)[0]["Id"]
        assert password not in pulled.stdout + pulled.stderr + anonymous.stdout + anonymous.stderr
    finally:
        reg.stop()

"""Outdated images (fleet/freshness.py, `dockyard outdated`, the containers pane's update column)
against the real lab: the lab registry, dockerd hosts (one over SSH), Podman.

The scenario (module fixture): a tag pushed to the lab registry; containers from it on d1 (unix),
d2 (over SSH) and Podman; then new content pushed to the same tag from d1, so d1 holds the new tag
while its container still runs the old image. A locally built image; a multi-arch OCI index put
through the registry API; references to a registry that went down and to one that wants a login.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from dataclasses import dataclass, field

import pytest

import lab as _lab
import registry_lab
from fleet_hosts import config, ssh_host, unix_host
from helpers import dockyard, until
from dockyard.config.model import HostConfig, RegistryConfig
from dockyard.fleet import Fleet
from dockyard.imageref import canonical
from dockyard.fleet.freshness import CURRENT, LOCAL, OUTDATED, PINNED, UNKNOWN


def build(daemon, tag: str, label: str) -> str:
    """A new image FROM the lab image with one label (new content, new digest); returns its id."""
    daemon.docker("build", "-q", "-t", tag, "-", input=f"FROM {_lab.IMAGE}\nLABEL dockyard.test={label}\n")
    return daemon.docker("image", "inspect", "-f", "{{.Id}}", tag).stdout.strip()


def manifest_requests(registry, repo: str) -> int:
    """Dockyard's manifest requests for `repo` in the registry's own access log (what it really served)."""
    pattern = re.compile(rf'"(HEAD|GET) /v2/{re.escape(repo)}/manifests/[^ ]* HTTP/[0-9.]+" \d+ \d+ "[^"]*" "dockyard/')
    with open(registry.log_path, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if pattern.search(line))


@dataclass
class Scenario:
    ref: str  # the tag everything runs (new content pushed to it after the containers started)
    names: dict[str, str] = field(default_factory=dict)  # role -> container name
    repo: str = ""  # the repository path in the registry ("fresh/app-…")
    multi_ref: str = ""
    multi_index: str = ""
    multi_platform: str = ""
    down_ref: str = ""
    login_ref: str = ""
    local_ref: str = ""
    hosts: list[HostConfig] = field(default_factory=list)


@pytest.fixture(scope="module")
def scenario(lab, podman):
    uid = uuid.uuid4().hex[:8]
    reg = lab.registry.host
    s = Scenario(ref=f"{reg}/fresh/app-{uid}:1", repo=f"fresh/app-{uid}")
    d1, d2, d3 = lab.d1, lab.d2, lab.d3
    made: list[tuple[object, str]] = []
    servers = []
    held: list[socket.socket] = []

    def run(daemon, role: str, image: str) -> None:
        name = f"fr-{role}-{uid}"
        daemon.run_container(name, "sleep", "600", image=image)
        made.append((daemon, name))
        s.names[role] = name

    try:
        # the tag, pushed from d1; pulled on d2 (reached over SSH) and Podman; a container on each
        d1.docker("tag", _lab.IMAGE, s.ref)
        d1.docker("push", s.ref)
        d2.docker("pull", s.ref)
        podman.docker("pull", s.ref)
        run(d1, "unix", s.ref)
        run(d2, "ssh", s.ref)
        run(podman, "podman", s.ref)
        # new content under the same tag, from d1: d1 now holds the new tag, its container the old image
        build(d1, s.ref, "v2-" + uid)
        d1.docker("push", s.ref)
        # a container from the new image: current
        run(d1, "new", s.ref)

        # built on the host, never pushed
        s.local_ref = f"fresh-local-{uid}:dev"
        build(d1, s.local_ref, "local-" + uid)
        run(d1, "local", s.local_ref)

        # created by digest
        digest = d1.docker("image", "inspect", "-f", "{{index .RepoDigests 0}}", s.ref).stdout.strip()
        run(d1, "pinned", digest)

        # multi-arch: the platform image pushed by d3, an OCI index over it (and a second platform)
        api = registry_lab.RegistryAPI(lab.registry.url)
        multi_repo = f"fresh/multi-{uid}"
        plat_ref = f"{reg}/{multi_repo}:plat"
        d3.docker("tag", _lab.IMAGE, plat_ref)
        d3.docker("push", plat_ref)
        body, media_type = api.get_manifest(multi_repo, "plat")
        s.multi_platform = registry_lab.sha256(body)
        arch = d3.docker("version", "-f", "{{.Server.Arch}}").stdout.strip()
        other = api.push_image(multi_repo, None, arch="arm64" if arch != "arm64" else "amd64")
        other_body, _ = api.get_manifest(multi_repo, other)
        index = json.dumps({"schemaVersion": 2, "mediaType": registry_lab.OCI_INDEX, "manifests": [
            {"mediaType": media_type, "digest": s.multi_platform, "size": len(body),
             "platform": {"architecture": arch, "os": "linux"}},
            {"mediaType": registry_lab.OCI_MANIFEST, "digest": other, "size": len(other_body),
             "platform": {"architecture": "arm64" if arch != "arm64" else "amd64", "os": "linux"}},
        ]}).encode()
        s.multi_index = api.put_manifest(multi_repo, "1", index, registry_lab.OCI_INDEX)
        s.multi_ref = f"{reg}/{multi_repo}:1"
        d1.docker("pull", s.multi_ref)  # a normal pull: RepoDigest = the index digest
        run(d1, "multi", s.multi_ref)
        d3.docker("tag", plat_ref, s.multi_ref)  # d3 has only the platform digest under that name
        run(d3, "multi-platform", s.multi_ref)

        # a registry that goes down after the push, and one that wants a login we do not have
        gone = registry_lab.RegistryServer(lab.root, f"reg-gone-{uid}")
        gone.start()
        servers.append(gone)
        s.down_ref = f"{gone.host}/fresh/gone:1"
        d1.docker("tag", _lab.IMAGE, s.down_ref)
        d1.docker("push", s.down_ref)
        run(d1, "down", s.down_ref)
        gone.stop()
        # its port stays ours, bound but not listening (connection refused), so that no other
        # server on this machine (another lab) can take it and answer in its place
        hold = socket.socket()
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hold.bind(("127.0.0.1", gone.port))
        held.append(hold)
        password = "pw-" + uid
        locked = registry_lab.RegistryServer(lab.root, f"reg-login-{uid}", htpasswd={"dora": password})
        locked.start()
        servers.append(locked)
        s.login_ref = f"{locked.host}/fresh/locked:1"
        d1.docker("login", locked.host, "-u", "dora", "--password-stdin", input=password)
        d1.docker("tag", _lab.IMAGE, s.login_ref)
        d1.docker("push", s.login_ref)
        run(d1, "login", s.login_ref)

        s.hosts = [unix_host(d1, "unix1"), ssh_host(lab, d2, name="ssh"),
                   HostConfig(name="podman", url=f"unix://{podman.socket}"), unix_host(d3, "unix3")]
        yield s
    finally:
        for daemon, name in made:
            daemon.docker("rm", "-f", name, check=False)
        for server in servers:
            server.stop()
        for hold in held:
            hold.close()
        if s.login_ref:
            d1.docker("logout", s.login_ref.partition("/")[0], check=False)


def fleet_config(lab, s: Scenario, **kw):
    return config(*s.hosts, registries=(RegistryConfig(name="lab", url=lab.registry.url, insecure=True),), **kw)


def by_name(report) -> dict[str, object]:
    return {row.container.name: row for row in report.rows}


class TestCheck:
    async def test_states_across_hosts_transports_and_engines(self, lab, scenario):
        s = scenario
        async with Fleet(fleet_config(lab, s), live=False) as fleet:
            report = await fleet.freshness.check()
            rows = by_name(report)
            state = {role: rows[name].freshness for role, name in s.names.items()}
            # the tag moved on: every container started before is outdated, on every host and engine
            for role in ("unix", "ssh", "podman"):
                assert state[role].state == OUTDATED, (role, state[role])
                assert state[role].running_digest != state[role].registry_digest
            assert rows[s.names["ssh"]].container.host == "ssh"
            assert rows[s.names["podman"]].container.host == "podman"
            # d1 pulled (built) the new tag itself: its old container is still outdated, the new one current
            assert state["new"].state == CURRENT
            assert state["unix"].registry_digest == state["new"].registry_digest == state["new"].running_digest
            assert state["local"].state == LOCAL and "built or loaded" in state["local"].reason
            assert state["pinned"].state == PINNED
            # multi-arch: current after a normal pull (index digest) and when only the platform digest is held
            assert state["multi"].state == CURRENT
            assert state["multi"].registry_digest == s.multi_index
            assert state["multi-platform"].state == CURRENT
            assert state["multi-platform"].running_digest == s.multi_platform
            # a registry that is down, one that refuses: unknown with the reason in words
            assert state["down"].state == UNKNOWN and state["down"].reason.startswith("registry unreachable")
            assert state["login"].state == UNKNOWN and state["login"].reason.startswith("unauthorised")
            assert any("unreachable" in e["error"] and e["reference"] == canonical(s.down_ref) for e in report.errors)
            # the API the other parts use says the same
            c = rows[s.names["ssh"]].container
            assert fleet.freshness.state_of("ssh", c.id) == state["ssh"]

    async def test_one_request_per_reference_and_cached(self, lab, scenario):
        s = scenario
        async with Fleet(fleet_config(lab, s), live=False) as fleet:
            before = manifest_requests(lab.registry, s.repo)
            report = await fleet.freshness.check()
            # three hosts run that tag: the registry was asked once
            assert manifest_requests(lab.registry, s.repo) - before == 1
            assert report.requests >= 1
            again = await fleet.freshness.check()
            assert again.requests == 0  # cached
            assert manifest_requests(lab.registry, s.repo) - before == 1
            await fleet.freshness.check(refresh=True)
            assert manifest_requests(lab.registry, s.repo) - before == 2


def write_config(lab, s: Scenario, tmp_path, podman) -> str:
    hosts = ["unix1", "ssh", "unix3", {"name": "podman", "url": f"unix://{podman.socket}"}]
    return str(lab.write_config(tmp_path / "dockyard.toml", hosts))


class TestBackground:
    async def test_a_live_fleet_checks_by_itself_after_its_first_delay(self, lab, scenario):
        s = scenario
        async with Fleet(fleet_config(lab, s), live=True) as fleet:
            await fleet.wait_settled(15)
            await until(lambda: all(session.cache.counts() is not None for session in fleet.sessions.values()),
                        15, "every host listed")
            assert fleet.freshness.last_check is None  # the first minute belongs to the rows and stats
            ssh = next(c for c in fleet.cached("containers", ["ssh"]) if c.name == s.names["ssh"])
            assert fleet.freshness.known("ssh", ssh.id) is None
            await fleet.freshness.close()  # the same background loop, without the minute's wait
            heard = []
            fleet.subscribe(lambda change: heard.append(change.hosts("freshness")))
            fleet.freshness.start(delay=0.1)
            await until(lambda: fleet.freshness.known("ssh", ssh.id) is not None, 20, "a background check")
            assert fleet.freshness.known("ssh", ssh.id).state == OUTDATED
            await until(lambda: any("ssh" in hosts for hosts in heard), 5, "observers told")


class TestCLI:
    def test_outdated_json_and_table(self, lab, scenario, podman, tmp_path):
        s = scenario
        path = write_config(lab, s, tmp_path, podman)
        done = dockyard("outdated", "--config", path, "--json", env=lab.env())
        assert done.returncode == 3, done.stderr  # a registry is down, one refuses
        data = json.loads(done.stdout)
        rows = {c["name"]: c for c in data["containers"]}
        for role in ("unix", "ssh", "podman"):
            row = rows[s.names[role]]
            assert row["status"] == "outdated" and row["image"] == s.ref
            assert row["running_digest"].startswith("sha256:") and row["registry_digest"] != row["running_digest"]
        assert rows[s.names["ssh"]]["host"] == "ssh" and rows[s.names["podman"]]["host"] == "podman"
        assert rows[s.names["new"]]["status"] == "current"
        assert rows[s.names["local"]]["status"] == "local" and rows[s.names["local"]]["reason"]
        assert rows[s.names["multi"]]["status"] == "current"
        assert rows[s.names["multi-platform"]]["status"] == "current"
        assert rows[s.names["down"]]["status"] == "unknown"
        assert rows[s.names["login"]]["status"] == "unknown" and "unauthorised" in rows[s.names["login"]]["reason"]
        assert {e["reference"] for e in data["errors"]} == {canonical(s.down_ref), canonical(s.login_ref)}
        assert set(rows[s.names["unix"]]) >= {"host", "name", "id", "image", "status", "running_digest",
                                               "registry_digest", "reason"}

        table_run = dockyard("outdated", "--config", path, "--host", "ssh", "--host", "podman", env=lab.env())
        assert table_run.returncode == 0, table_run.stderr  # only the tag on the lab registry: all answered
        lines = table_run.stdout.splitlines()
        assert lines[0].split() == ["HOST", "NAME", "IMAGE", "STATUS", "RUNNING", "→", "AVAILABLE"]
        mine = [line for line in lines if s.names["ssh"] in line or s.names["podman"] in line]
        assert len(mine) == 2 and all("outdated" in line and " → " in line for line in mine)
        assert not any(s.names["unix"] in line for line in lines)  # --host


class TestScreen:
    async def test_outdated_marks_filter_details_and_images(self, lab, scenario):
        from helpers import make_app, names_on_screen, plain, summary, table_rows, until
        from dockyard.ui.container_view import ContainerScreen

        s = scenario
        app, notes = make_app(fleet_config(lab, s))
        mine = {("unix1", s.names["unix"]), ("ssh", s.names["ssh"]), ("podman", s.names["podman"])}
        async with app.run_test(size=(160, 40)) as pilot:
            await until(lambda: mine <= names_on_screen(app), 15, "rows")
            marks = lambda: {(r["HOST"], r["NAME"]): r["↑"] for r in table_rows(app)}  # noqa: E731
            assert {marks()[k] for k in mine} == {""}  # nothing said before a check (none in the first minute)
            await pilot.press("U")  # check now
            await until(lambda: {marks()[k] for k in mine} == {"↑"}, 15,
                        f"outdated marks (notices so far: {notes})", pilot=pilot)
            shown = marks()
            assert shown[("unix1", s.names["new"])] == ""  # current: quiet
            assert shown[("unix1", s.names["local"])] == ""  # local: quiet
            assert shown[("unix1", s.names["multi"])] == "" and shown[("unix3", s.names["multi-platform"])] == ""
            assert shown[("unix1", s.names["down"])] == "?" and shown[("unix1", s.names["login"])] == "?"
            assert any("outdated" in message for message, _ in notes)

            await pilot.press("slash", *"update:outdated", "enter")
            await until(lambda: {(h, n) for h, n in names_on_screen(app) if n.endswith(s.names["unix"][-8:])} == mine,
                        5, "only the outdated rows", pilot=pilot)

            table = app.panes["containers"].table
            row = next(i for i, r in enumerate(table_rows(app)) if r["NAME"] == s.names["ssh"])
            table.move_cursor(row=row)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ContainerScreen), 10, "details open", pilot=pilot)
            state = app.fleet.freshness.state_of("ssh", app.screen.container.id)
            text = plain(app.screen.query_one("#detail-image").render())
            assert "outdated" in text and state.running_digest in text and state.registry_digest in text
            assert "checked" in text
            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, ContainerScreen), 10, "details closed", pilot=pilot)
            await pilot.press("escape")  # clears the filter (it applies to every pane)
            await until(lambda: "filter:" not in summary(app), 5, "filter cleared", pilot=pilot)

            await pilot.press("3")  # the Images pane
            await until(lambda: any(r.get("REPOSITORY:TAG") == s.ref for r in table_rows(app, "images")), 10,
                        "image rows", pilot=pilot)
            images = {(r["HOST"], r["REPOSITORY:TAG"]): r["↑"] for r in table_rows(app, "images")}
            assert images[("ssh", s.ref)] == "↑"  # ssh still holds the old image under the tag
            assert images[("unix1", s.ref)] == ""  # unix1 holds the new one


def impostor_after_push(lab, made, handler: type, role: str) -> tuple[str, str, object]:
    """A container on d1 from an image pushed to a real registry, whose port then serves `handler`
    (a purpose-built server: a fault the real registry cannot produce). Returns (container name,
    reference, server); shut the server down afterwards."""
    import http.server
    import threading

    uid = uuid.uuid4().hex[:8]
    real = registry_lab.RegistryServer(lab.root, f"reg-{role}-{uid}")
    real.start()
    ref = f"{real.host}/fresh/{role}:1"
    try:
        lab.d1.docker("tag", _lab.IMAGE, ref)
        lab.d1.docker("push", ref)
        name = f"fr-{role}-{uid}"
        made.append((lab.d1, name))
        lab.d1.run_container(name, "sleep", "600", image=ref)
    finally:
        real.stop()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", real.port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return name, ref, server


class TestFaults:
    async def test_429_is_honoured_with_its_retry_after_and_never_retried_in_a_loop(self, lab, made):
        """A registry that answers 429: unknown, saying so, and no second request before its
        Retry-After, even when asked to re-check."""
        import http.server

        seen: list[str] = []

        class Limited(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_HEAD(self):
                seen.append(self.command + " " + self.path)
                self.send_response(429)
                self.send_header("Retry-After", "120")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

        name, _, server = impostor_after_push(lab, made, Limited, "limited")
        try:
            async with Fleet(config(unix_host(lab.d1, "unix1")), live=False) as fleet:
                report = await fleet.freshness.check()
                row = next(r for r in report.rows if r.container.name == name)
                assert row.freshness.state == UNKNOWN
                assert row.freshness.reason.startswith("rate limited") and "retry in 120 s" in row.freshness.reason
                assert "next check after" in row.freshness.reason
                assert len(seen) == 1
                again = await fleet.freshness.check(refresh=True)  # the U key: still waits for Retry-After
                assert next(r for r in again.rows if r.container.name == name).freshness.state == UNKNOWN
                assert len(seen) == 1  # (other references on d1 may be asked again; this registry is not)
        finally:
            server.shutdown()
            server.server_close()

    async def test_a_slow_registry_does_not_hold_back_the_others(self, lab, made):
        """A registry that takes its time: the containers of other references are judged (and the
        observers told) as soon as their own registry answered, while the slow one is still asked."""
        import http.server
        import threading

        release = threading.Event()

        class Slow(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_HEAD(self):
                release.wait(30)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

        uid = uuid.uuid4().hex[:8]
        fast_ref = f"{lab.registry.host}/fresh/fast-{uid}:1"
        lab.d1.docker("tag", _lab.IMAGE, fast_ref)
        lab.d1.docker("push", fast_ref)
        fast = f"fr-fast-{uid}"
        made.append((lab.d1, fast))
        fast_id = lab.d1.run_container(fast, "sleep", "600", image=fast_ref)
        slow, _, server = impostor_after_push(lab, made, Slow, "slow")
        try:
            async with Fleet(config(unix_host(lab.d1, "unix1")), live=False) as fleet:
                heard = []
                fleet.subscribe(lambda change: heard.append(change.hosts("freshness")))
                check = asyncio.ensure_future(fleet.freshness.check())
                await until(lambda: fleet.freshness.known("unix1", fast_id) is not None, 10, "the fast one judged")
                assert not check.done()
                assert fleet.freshness.known("unix1", fast_id).state == CURRENT
                await until(lambda: {"unix1"} in heard, 5, "observers told")
                release.set()
                report = await asyncio.wait_for(check, 30)
                row = next(r for r in report.rows if r.container.name == slow)
                assert row.freshness.state == UNKNOWN and "503" in row.freshness.reason
        finally:
            release.set()
            server.shutdown()
            server.server_close()

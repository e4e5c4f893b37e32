"""Images, volumes and networks across the fleet, against the real lab (issue 5).

Fleet: unix1 (d1), ssh (-> d2 over SSH), unix3 (d3); a dead tcp host where a failing host is wanted.
Every image, volume and network a test makes has a unique name, so tests do not see each other's;
exact prune comparisons run on a fresh daemon that only the test uses.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from urllib.parse import quote

import pytest
from fleet_hosts import config, ssh_host, unix_host
from helpers import dockyard
from lab import IMAGE, unix_http

from dockyard.config.model import HostConfig
from dockyard.fleet import DaemonError, Fleet, ReadOnlyError
from dockyard.fleet.volumes import VolumeInUse
from dockyard.imageref import parse_image_ref

DEAD = HostConfig(name="dead", url="tcp://127.0.0.1:9", connect_timeout=1.5, request_timeout=3)


def uid() -> str:
    return uuid.uuid4().hex[:8]


def three(lab, *extra: HostConfig, **kw):
    return config(unix_host(lab.d1, "unix1"), ssh_host(lab, lab.d2, name="ssh"), unix_host(lab.d3, "unix3"),
                  *extra, **kw)


def image_id(daemon, ref: str) -> str:
    """The image ID as the daemon itself reports it (`docker image inspect`)."""
    return daemon.docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()


def has_image(daemon, ref: str) -> bool:
    return daemon.docker("image", "inspect", ref, check=False).returncode == 0


def import_tiny_image(daemon, ref: str, size: int = 256) -> str:
    """A unique one-layer image (`docker import` of a tarball with random bytes); returns its ID."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = os.urandom(size)
        info = tarfile.TarInfo("payload")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    parsed = parse_image_ref(ref)
    repo, tag = parsed.repository, parsed.ref
    status, body = unix_http(daemon.socket, "POST", f"/images/create?fromSrc=-&repo={quote(repo)}&tag={quote(tag)}",
                             body=buf.getvalue(), headers={"Content-Type": "application/x-tar"}, timeout=30)
    assert status == 200 and b"error" not in body, body
    return image_id(daemon, ref)


def create_container(daemon, image: str, *args: str) -> str:
    """A created (never started) container, network mode none."""
    name = "obj-" + uid()
    daemon.docker("create", "--network", "none", "--name", name, *args, image, "sh")
    return name


async def collect(stream):
    return [ev async for ev in stream]


# ---------------------------------------------------------------------- pull / push


class TestPullPush:
    async def test_push_to_lab_registry_then_pull_onto_three_hosts_and_a_dead_one(self, lab):
        ref = f"{lab.registry.host}/x/unique:t1-{uid()}"
        import_tiny_image(lab.d1, ref, size=2_000_000)  # a layer the registry has never seen: real byte progress
        async with Fleet(three(lab, DEAD), live=False) as fleet:
            pushed = await collect(fleet.images.push("unix1", ref))
            final = pushed[-1]
            assert final.done and final.ok, final.error
            assert final.digest and final.digest.startswith("sha256:")
            assert any(ev.kind == "layer" and ev.total for ev in pushed), "per-layer push progress"

            events = await collect(fleet.images.pull(ref, ["unix1", "ssh", "unix3", "dead"]))
        results = {ev.host: ev for ev in events if ev.done}
        assert set(results) == {"unix1", "ssh", "unix3", "dead"}
        assert sum(ev.done for ev in events) == 4  # exactly one result per host
        want = image_id(lab.d1, ref)
        for host, daemon in (("unix1", lab.d1), ("ssh", lab.d2), ("unix3", lab.d3)):
            assert results[host].ok, results[host].error
            assert results[host].image_id == want == image_id(daemon, ref)
        assert not results["dead"].ok and "refused" in results["dead"].error.lower()
        for host in ("ssh", "unix3"):  # they had to download: layer events with byte counts
            layers = [ev for ev in events if ev.host == host and ev.kind == "layer"]
            assert any(ev.status == "Downloading" and ev.current and ev.total for ev in layers), layers
            assert any(ev.status == "Pull complete" for ev in layers)
            assert all(ev.layer for ev in layers)
            # the host's result comes after all its progress
            assert [ev for ev in events if ev.host == host][-1].done

    async def test_a_missing_image_is_that_hosts_error_in_words(self, lab):
        ref = f"{lab.registry.host}/x/missing:{uid()}"
        async with Fleet(three(lab), live=False) as fleet:
            events = await collect(fleet.images.pull(ref, ["unix1", "ssh"]))
        results = [ev for ev in events if ev.done]
        assert len(results) == 2 and not any(r.ok for r in results)
        assert all("not found" in r.error or "unknown" in r.error for r in results), [r.error for r in results]


# ---------------------------------------------------------------------- transfer


class TestTransfer:
    async def test_unix_to_ssh_and_unix3_then_back_verified_by_image_id(self, lab):
        there = f"dockyard-xfer/there:{uid()}"
        lab.d1.docker("tag", IMAGE, there)
        async with Fleet(three(lab), live=False) as fleet:
            events = await collect(fleet.images.transfer([there], "unix1", ["ssh", "unix3"]))
            results = {ev.target: ev for ev in events if ev.done}
            assert set(results) == {"ssh", "unix3"}
            for target, daemon in (("ssh", lab.d2), ("unix3", lab.d3)):
                r = results[target]
                assert r.ok, r.error
                assert r.image_ids == {there: image_id(lab.d1, there)} == {there: image_id(daemon, there)}
                assert r.bytes > 1_000_000 and r.rate > 0
            progress = [ev for ev in events if ev.kind == "progress"]
            assert progress and progress[-1].bytes >= results["ssh"].bytes
            assert progress[-1].total and progress[-1].sent.keys() == {"ssh", "unix3"}

            back = f"dockyard-xfer/back:{uid()}"
            lab.d2.docker("tag", IMAGE, back)
            events = await collect(fleet.images.transfer(back, "ssh", ["unix1"]))
        (result,) = [ev for ev in events if ev.done]
        assert result.ok, result.error
        assert result.image_ids[back] == image_id(lab.d2, back) == image_id(lab.d1, back)

    async def test_several_images_in_one_stream(self, lab):
        refs = [f"dockyard-xfer/multi:{uid()}", f"dockyard-xfer/tiny:{uid()}"]
        lab.d1.docker("tag", IMAGE, refs[0])
        import_tiny_image(lab.d1, refs[1])
        async with Fleet(three(lab), live=False) as fleet:
            (result,) = [ev async for ev in fleet.images.transfer(refs, "unix1", ["unix3"]) if ev.done]
        assert result.ok, result.error
        assert result.image_ids == {r: image_id(lab.d1, r) for r in refs} == {r: image_id(lab.d3, r) for r in refs}

    async def test_a_dead_target_does_not_stop_the_others_and_a_missing_image_is_reported(self, lab):
        ref = f"dockyard-xfer/dead:{uid()}"
        lab.d1.docker("tag", IMAGE, ref)
        async with Fleet(three(lab, DEAD), live=False) as fleet:
            results = {ev.target: ev async for ev in fleet.images.transfer([ref], "unix1", ["dead", "unix3"]) if ev.done}
            assert results["unix3"].ok and image_id(lab.d3, ref) == image_id(lab.d1, ref)
            assert not results["dead"].ok and "refused" in results["dead"].error.lower()

            missing = f"dockyard-xfer/none:{uid()}"
            results = [ev async for ev in fleet.images.transfer([missing], "unix1", ["ssh", "unix3"]) if ev.done]
        assert {r.target for r in results} == {"ssh", "unix3"}
        for r in results:
            assert not r.ok and "source unix1" in r.error and "No such image" in r.error, r.error

    async def test_a_target_equal_to_the_source_is_refused(self, lab):
        async with Fleet(three(lab), live=False) as fleet:
            with pytest.raises(Exception, match="both the source and a target"):
                fleet.images.transfer([IMAGE], "unix1", ["unix1"])


# ---------------------------------------------------------------------- drift, history, inspect


class TestDrift:
    async def test_one_host_whose_tag_points_elsewhere_is_drift(self, lab):
        drifting = f"dockyard-drift/app:{uid()}"
        steady = f"dockyard-drift/steady:{uid()}"
        lab.d1.docker("tag", IMAGE, drifting)
        lab.d1.docker("tag", IMAGE, steady)
        async with Fleet(three(lab), live=False) as fleet:
            async for ev in fleet.images.transfer([drifting, steady], "unix1", ["ssh", "unix3"]):
                assert not ev.done or ev.ok, ev.error
            other = import_tiny_image(lab.d3, drifting)  # unix3's tag now points at another image
            rows = {r.reference: r for r in await fleet.images.drift()}
        row = rows[drifting]
        assert row.drifted
        assert row.hosts["unix1"] == row.hosts["ssh"] == image_id(lab.d1, IMAGE)
        assert row.hosts["unix3"] == other != row.hosts["unix1"]
        assert not rows[steady].drifted and set(rows[steady].hosts) == {"unix1", "ssh", "unix3"}
        ordered = list(rows.values())
        assert all(r.drifted for r in ordered[: sum(r.drifted for r in ordered)])  # drifted rows first

    async def test_a_tag_missing_on_a_host_is_listed_as_missing_not_drift(self, lab):
        only_here = f"dockyard-drift/only:{uid()}"
        lab.d1.docker("tag", IMAGE, only_here)
        async with Fleet(three(lab, DEAD), live=False) as fleet:
            rows, failed = await fleet.images.drift_report()
        row = {r.reference: r for r in rows}[only_here]
        assert not row.drifted and set(row.hosts) == {"unix1"} and set(row.missing) == {"ssh", "unix3"}
        assert [f.host for f in failed] == ["dead"]

    async def test_history_and_inspect(self, lab):
        async with Fleet(three(lab), live=False) as fleet:
            history = await fleet.images.history("ssh", IMAGE)
            info = await fleet.images.inspect("ssh", IMAGE)
        assert history[0].id == info["Id"] == image_id(lab.d2, IMAGE)
        assert any("busybox" in h.created_by and h.size > 1_000_000 for h in history)


# ---------------------------------------------------------------------- tag, remove, prune


class TestRemoveAndPrune:
    async def test_tag_and_remove_with_and_without_force(self, lab):
        ref = f"dockyard-rm/img:{uid()}"
        want = import_tiny_image(lab.d1, ref)
        extra = f"dockyard-rm/extra:{uid()}"
        async with Fleet(three(lab), live=False) as fleet:
            parsed = parse_image_ref(extra)
            repo, tag = parsed.repository, parsed.ref
            await fleet.images.tag("unix1", ref, repo, tag)
            assert image_id(lab.d1, extra) == want
            removed = await fleet.images.remove("unix1", extra)  # a second tag: only untagged
            assert removed.untagged == (extra,) and removed.deleted == ()
            container = create_container(lab.d1, ref)
            with pytest.raises(DaemonError, match="conflict") as refused:
                await fleet.images.remove("unix1", ref)
            assert "container" in str(refused.value)
            assert has_image(lab.d1, ref)
            removed = await fleet.images.remove("unix1", ref, force=True)
        assert ref in removed.untagged and want in removed.deleted
        assert not has_image(lab.d1, ref)
        lab.d1.docker("rm", container)

    async def test_prune_dry_run_lists_exactly_what_the_real_prune_removes(self, lab, fresh_daemon):
        d = fresh_daemon
        dangling = import_tiny_image(d, "p/a:1", size=50_000)
        newer_a = import_tiny_image(d, "p/a:1")  # takes the tag: the first one dangles
        used_old = import_tiny_image(d, "p/b:1")
        create_container(d, "p/b:1")
        newer_b = import_tiny_image(d, "p/b:1")  # old p/b dangles but a container uses it
        unused = import_tiny_image(d, "p/c:1")
        async with Fleet(config(unix_host(d, "fresh")), live=False) as fleet:
            (dry,) = await fleet.images.prune(["fresh"], dry_run=True)
            assert dry.ok and dry.value.dry_run
            assert [i.id for i in dry.value.images] == [dangling]
            assert dry.value.space_reclaimed >= 50_000
            assert has_image(d, dangling)  # a dry run removes nothing
            (real,) = await fleet.images.prune(["fresh"])
            assert {i.id for i in real.value.images} == {dangling}
            assert real.value.space_reclaimed >= 50_000
            assert not has_image(d, dangling) and has_image(d, used_old)

            (dry,) = await fleet.images.prune(["fresh"], dangling_only=False, dry_run=True)
            would = {i.id for i in dry.value.images}
            assert {newer_a, newer_b, unused, image_id(d, IMAGE)} == would  # not used_old
            assert ("p/c:1",) in [i.tags for i in dry.value.images]
            (real,) = await fleet.images.prune(["fresh"], dangling_only=False)
        assert {i.id for i in real.value.images} == would
        assert has_image(d, used_old) and not has_image(d, unused)


# ---------------------------------------------------------------------- volumes


class TestVolumes:
    async def test_lifecycle_create_in_use_refused_force_removes(self, lab):
        name = "vol-" + uid()
        async with Fleet(three(lab), live=False) as fleet:
            volume = await fleet.volumes.create("ssh", name, {"team": "blue"})
            assert volume.name == name and volume.labels == {"team": "blue"} and volume.host == "ssh"
            usage = {v.name: v for v in await fleet.volumes.usage("ssh")}
            assert usage[name].used_by == () and usage[name].size >= 0
            cid = lab.d2.run_container(None, "sh", "-c", "head -c 200000 /dev/urandom > /data/f",
                                       detach=False, args=["-v", f"{name}:/data"])
            user = lab.d2.docker("inspect", "--format", "{{.Name}}", cid).stdout.strip().lstrip("/")
            usage = {v.name: v for v in await fleet.volumes.usage("ssh")}
            assert usage[name].used_by == (user,) and usage[name].size >= 200_000
            with pytest.raises(VolumeInUse, match=f"in use by container.*{user}"):
                await fleet.volumes.remove("ssh", name)
            assert lab.d2.docker("volume", "inspect", name, check=False).returncode == 0
            removed = await fleet.volumes.remove("ssh", name, force=True)
            assert removed == [user]
        assert lab.d2.docker("volume", "inspect", name, check=False).returncode != 0
        assert lab.d2.docker("inspect", cid, check=False).returncode != 0

    async def test_prune_dry_run_then_real(self, lab, fresh_daemon):
        d = fresh_daemon
        async with Fleet(config(unix_host(d, "fresh")), live=False) as fleet:
            await fleet.volumes.create("fresh", "keep")
            await fleet.volumes.create("fresh", "go-empty")
            await fleet.volumes.create("fresh", "go-full")
            d.run_container(None, "sh", "-c", "head -c 100000 /dev/urandom > /data/f", detach=False,
                            args=["-v", "go-full:/data", "--rm"])
            d.run_container(None, "sleep", "300", args=["-v", "keep:/data"])
            dry = await fleet.volumes.prune("fresh", dry_run=True)
            assert dry.volumes == ("go-empty", "go-full") and dry.space_reclaimed >= 100_000
            assert {v.name for v in await fleet.volumes.usage("fresh")} == {"keep", "go-empty", "go-full"}
            real = await fleet.volumes.prune("fresh")
            assert real.volumes == dry.volumes and real.space_reclaimed >= 100_000
            assert [v.name for v in await fleet.volumes.usage("fresh")] == ["keep"]


# ---------------------------------------------------------------------- networks


class TestNetworks:
    async def test_internal_network_create_connect_disconnect_remove(self, lab):
        net = "net-" + uid()
        container = create_container(lab.d2, IMAGE)  # network mode none, never started
        async with Fleet(three(lab), live=False) as fleet:
            created = await fleet.networks.create("ssh", net, labels={"team": "blue"})
            assert created.internal and created.name == net and created.labels == {"team": "blue"}
            assert created.driver == "bridge" and created.subnets
            info = await fleet.networks.inspect("ssh", net)
            assert info["Internal"] is True
            await fleet.networks.disconnect("ssh", "none", container)  # leave "none" to join another network
            await fleet.networks.connect("ssh", net, container)
            assert await fleet.networks.containers("ssh", net) == [container]
            with pytest.raises(DaemonError):
                await fleet.networks.connect("ssh", net, "no-such-container-" + uid())
            await fleet.networks.disconnect("ssh", net, container)
            assert await fleet.networks.containers("ssh", net) == []
            await fleet.networks.remove("ssh", net)
            assert net not in {n.name for n in await fleet.session("ssh").call(lambda c: c.list_networks())}
        lab.d2.docker("rm", container)


# ---------------------------------------------------------------------- read-only


class TestReadOnly:
    async def test_every_mutating_op_is_refused_and_nothing_changes(self, lab):
        name = "ro-" + uid()
        lab.d1.docker("volume", "create", name)
        lab.d1.docker("network", "create", "--internal", name)
        container = create_container(lab.d1, IMAGE)
        ref = f"{lab.registry.host}/x/ro:{uid()}"
        calls = {
            "pull": lambda f: f.images.pull(ref, ["unix1", "ssh"]),
            "push": lambda f: f.images.push("unix1", IMAGE),
            "tag": lambda f: f.images.tag("unix1", IMAGE, "ro/x", "1"),
            "remove_image": lambda f: f.images.remove("unix1", IMAGE),
            "prune_images": lambda f: f.images.prune(["unix1"]),
            "transfer": lambda f: f.images.transfer([IMAGE], "ssh", ["unix1"]),
            "create_volume": lambda f: f.volumes.create("unix1", name + "x"),
            "remove_volume": lambda f: f.volumes.remove("unix1", name),
            "prune_volumes": lambda f: f.volumes.prune("unix1"),
            "create_network": lambda f: f.networks.create("unix1", name + "x"),
            "remove_network": lambda f: f.networks.remove("unix1", name),
            "connect": lambda f: f.networks.connect("unix1", name, container),
            "disconnect": lambda f: f.networks.disconnect("unix1", "none", container),
        }
        refused = []
        async with Fleet(three(lab), live=False, readonly=True) as fleet:
            for op, call in calls.items():
                try:
                    result = call(fleet)
                    if hasattr(result, "__await__"):
                        await result
                except ReadOnlyError:
                    refused.append(op)
            # looking is allowed
            (dry,) = await fleet.images.prune(["unix1"], dry_run=True)
            assert dry.ok
            assert (await fleet.volumes.prune("unix1", dry_run=True)).dry_run
            assert await fleet.images.drift()
        assert refused == list(calls)
        assert lab.d1.docker("volume", "inspect", name, check=False).returncode == 0
        assert lab.d1.docker("network", "inspect", name, check=False).returncode == 0
        assert lab.d1.docker("volume", "inspect", name + "x", check=False).returncode != 0
        assert not has_image(lab.d1, "ro/x:1")
        lab.d1.docker("rm", container)
        lab.d1.docker("network", "rm", name)
        lab.d1.docker("volume", "rm", name)

    async def test_a_read_only_host_can_be_a_transfer_source_not_a_target(self, lab):
        ref = f"dockyard-xfer/ro:{uid()}"
        lab.d1.docker("tag", IMAGE, ref)
        cfg = config(unix_host(lab.d1, "ro", readonly=True), ssh_host(lab, lab.d2, name="ssh"))
        async with Fleet(cfg, live=False) as fleet:
            (result,) = [ev async for ev in fleet.images.transfer([ref], "ro", ["ssh"]) if ev.done]
            assert result.ok, result.error
            with pytest.raises(ReadOnlyError, match="host ro is read-only"):
                fleet.images.transfer([ref], "ssh", ["ro"])
            with pytest.raises(ReadOnlyError):
                fleet.images.pull(ref, ["ssh", "ro"])  # refused before any host pulls


# ---------------------------------------------------------------------- CLI


@pytest.fixture
def cli_config(lab, tmp_path) -> str:
    dead = {"name": "dead", "url": "tcp://127.0.0.1:9", "connect_timeout": 1.5}
    return str(lab.write_config(tmp_path / "c.toml", hosts=("unix1", "ssh", "unix3", dead)))


class TestCLI:
    def test_pull_json_per_host_results_and_exit_3(self, lab, cli_config):
        ref = f"{lab.registry.host}/x/cli:{uid()}"
        lab.d1.docker("tag", IMAGE, ref)
        lab.d1.docker("push", ref)
        result = dockyard("--config", cli_config, "pull", ref, "--host", "ssh", "--host", "unix3",
                          "--host", "dead", "--json")
        assert result.returncode == 3, result.stderr
        data = json.loads(result.stdout)
        by_host = {r["host"]: r for r in data["results"]}
        assert by_host["ssh"]["ok"] and by_host["ssh"]["image_id"] == image_id(lab.d2, ref)
        assert by_host["unix3"]["ok"] and by_host["unix3"]["image_id"] == image_id(lab.d3, ref)
        assert not by_host["dead"]["ok"] and [e["host"] for e in data["errors"]] == ["dead"]
        assert "dead" in result.stderr

        text = dockyard("--config", cli_config, "pull", ref, "--host", "unix1", "--host", "ssh")
        assert text.returncode == 0, text.stderr
        assert "unix1: pulled" in text.stdout and "ssh: pulled" in text.stdout

    def test_transfer_json_and_text(self, lab, cli_config):
        ref = f"dockyard-xfer/cli:{uid()}"
        lab.d1.docker("tag", IMAGE, ref)
        result = dockyard("--config", cli_config, "transfer", ref, "--from", "unix1", "--to", "ssh", "--to", "unix3",
                          "--json")
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert {r["target"] for r in data["results"] if r["ok"]} == {"ssh", "unix3"}
        assert image_id(lab.d2, ref) == image_id(lab.d3, ref) == image_id(lab.d1, ref)
        assert all(r["image_ids"][ref] == image_id(lab.d1, ref) for r in data["results"])

        text = dockyard("--config", cli_config, "transfer", ref, "--from", "ssh", "--to", "unix3", "--to", "dead")
        assert text.returncode == 3
        assert "unix3: loaded and verified" in text.stdout and "dead: transfer failed" in text.stderr

        bad = dockyard("--config", cli_config, "transfer", ref, "--from", "nope", "--to", "ssh")
        assert bad.returncode == 2 and "nope" in bad.stderr

    def test_images_drift(self, lab, cli_config):
        ref = f"dockyard-drift/cli:{uid()}"
        lab.d1.docker("tag", IMAGE, ref)
        import_tiny_image(lab.d3, ref)
        result = dockyard("--config", cli_config, "images", "--drift", "--json")
        assert result.returncode == 3  # the dead host
        data = json.loads(result.stdout)
        row = {r["reference"]: r for r in data["drift"]}[ref]
        assert row["drifted"] and set(row["hosts"]) == {"unix1", "unix3"} and row["missing"] == ["ssh"]
        text = dockyard("--config", cli_config, "images", "--drift", "--host", "unix1", "--host", "unix3")
        assert text.returncode == 0, text.stderr
        line = next(ln for ln in text.stdout.splitlines() if ln.startswith(ref))
        assert "DRIFT" in line and image_id(lab.d1, ref).split(":")[1][:12] in line

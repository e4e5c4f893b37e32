"""Each pane's rows from model objects (no lab, no app): what the table shows and what the filter sees.

Like k9s's render package: the functions that turn a container, host, image, volume, network or
registry level into a row are pure, so every column can be checked without a daemon.
"""

from __future__ import annotations

from types import SimpleNamespace

from dockyard.fleet import Container, ContainerStats, HostKeyOffer, HostState, HostStatus, Image, Network, Port, Volume
from dockyard.ui.filtering import matcher
from dockyard.ui.panes.containers import COLUMNS, compact_status, container_row, group_rows
from dockyard.ui.panes.hosts import host_row, host_totals
from dockyard.ui.panes.images import drift_rows, image_rows
from dockyard.ui.panes.networks import network_row
from dockyard.ui.panes.registries import Level, level_rows
from dockyard.ui.panes.volumes import volume_row

ID_A, ID_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def shown(row) -> list[str]:
    return [c.plain for c in row.cells]


def container(name="shop-web-1", host="web1", state="running", project="shop", **kw) -> Container:
    labels = {"com.docker.compose.project": project} if project else {}
    return Container(host=host, id=kw.pop("id", "f" * 64), name=name, image=kw.pop("image", "nginx:1.27"),
                     state=state, status=kw.pop("status", "Up 5 minutes"), created=0, labels=labels, **kw)


def stats(cpu: float | None, mem: int | None) -> ContainerStats:
    return ContainerStats(host="web1", id="f" * 64, at=0.0, cpu_percent=cpu, mem_usage=mem, mem_limit=None,
                          net_rx=0, net_tx=0, blk_read=0, blk_write=0, pids=1)


# ---------------------------------------------------------------------------------------------- containers

def test_a_container_row_shows_every_column_with_live_cpu_and_memory():
    c = container(ports=(Port(80, "tcp", 8080, "127.0.0.1"),), status="Up Less than a second")
    row = container_row(c, stats(12.345, 3 * 1024 * 1024), marked=False)
    assert shown(row) == [" ", "web1", "shop-web-1", "nginx:1.27", "", "running", "Up <1s", "12.3", "3.00MiB",
                          "127.0.0.1:8080->80/tcp", "shop"]
    assert len(row.cells) == len(COLUMNS)
    assert row.cells[5].style == "green"
    assert row.sort_values["cpu"] == 12.345 and row.sort_values["mem"] == 3 * 1024 * 1024


def test_a_marked_container_shows_the_mark_and_a_stopped_one_has_no_numbers():
    row = container_row(container(state="exited", status="Exited (0) About an hour ago"), None, marked=True)
    assert shown(row)[0] == "●" and row.cells[2].style == "bold magenta"
    assert shown(row)[5:9] == ["exited", "Exited (0) ~1 hour ago", "-", "-"]
    assert row.cells[5].style == "dim"


def test_daemon_strings_in_a_row_are_text_not_markup_or_escapes():
    row = container_row(container(name="[bold]x[/bold]\x1b[2J", image="img\x07"), None, marked=False)
    assert shown(row)[2] == "[bold]x[/bold]\\x1b[2J"
    assert shown(row)[3] == "img\\x07"


def test_the_filter_sees_visible_columns_and_the_container_fields():
    row = container_row(container(), stats(1.0, 1), marked=False)
    assert matcher("host:web1 project:shop state:running image:nginx")(row.texts, row.fields)
    assert matcher("label:com.docker.compose.project=shop")(row.texts, row.fields)
    assert matcher("Up")(row.texts, row.fields)  # the STATUS column as shown
    assert not matcher("host:web")(row.texts, row.fields)


def test_grouping_puts_a_header_with_a_running_count_above_each_project():
    rows = [container_row(container("a", project="shop"), None, False),
            container_row(container("b", project="shop", state="exited", id="e" * 64), None, False),
            container_row(container("c", project=None, id="d" * 64), None, False)]
    grouped = group_rows(rows, "project", {})
    assert [r.key for r in grouped if r.data is None] == ["group:(no project)", "group:shop"]
    header = next(r for r in grouped if r.key == "group:shop")
    assert shown(header)[1:3] == ["▼ shop", "1/2 running"] and len(header.cells) == len(COLUMNS)
    assert group_rows(rows, "none", {}) is rows


def test_grouping_by_host_follows_the_config_order():
    rows = [container_row(container("a", host="zeta"), None, False),
            container_row(container("b", host="alpha", id="e" * 64), None, False)]
    grouped = group_rows(rows, "host", {"zeta": 0, "alpha": 1})
    assert [r.key for r in grouped if r.data is None] == ["group:zeta", "group:alpha"]


def test_compact_status_shortens_dockers_long_phrases():
    assert compact_status("Up About a minute (healthy)") == "Up ~1 minute (healthy)"
    assert compact_status("Up 3 hours") == "Up 3 hours"


# ---------------------------------------------------------------------------------------------- hosts

def host(state=HostState.ONLINE, **kw) -> HostStatus:
    return HostStatus(name=kw.pop("name", "web1"), url="unix:///run/docker.sock", transport="unix", state=state,
                      **kw)


def test_an_online_host_shows_its_facts_and_container_totals():
    s = host(server_version="20.10.24", containers=5, containers_running=3, images=7, cpus=4,
             memory=8 * 1024 ** 3, latency_ms=1.25)
    row = host_row(s, (55.5, 512 * 1024 ** 2, 3, 3))
    assert shown(row) == ["web1", "unix", "online", "20.10.24", "3/5", "7", "4", "8GiB", "55.5", "512MiB",
                          "1.2 ms", ""]


def test_totals_say_so_while_not_every_running_container_is_sampled():
    row = host_row(host(), (10.0, 1024, 1, 2))
    assert shown(row)[8:10] == ["~10.0", "~1KiB"]
    assert shown(host_row(host()))[8:10] == ["-", "-"]  # nothing sampled yet


def test_a_host_that_is_not_online_says_why_and_a_read_only_one_says_so():
    row = host_row(host(HostState.UNREACHABLE, reason="connection refused", readonly=True))
    assert shown(row)[0] == "web1 (ro)"
    assert shown(row)[2] == "unreachable" and shown(row)[11] == "connection refused"
    assert row.cells[2].style == "red"
    offer = HostKeyOffer(hop="web1", host="127.0.0.1", port=2222, key_type="ssh-ed25519",
                         fingerprint="SHA256:abc", changed=False)
    row = host_row(host(HostState.HOST_KEY_UNKNOWN, host_key=offer))
    assert shown(row)[11] == "ssh-ed25519 SHA256:abc (web1)"


def test_host_totals_add_up_running_containers_only():
    containers = [container("a", id="1" * 64), container("b", id="2" * 64),
                  container("c", state="exited", id="3" * 64), container("d", host="db", id="4" * 64)]
    sampled = {"1" * 64: stats(10.0, 100), "4" * 64: stats(None, None)}
    totals = host_totals(containers, lambda h, cid: sampled.get(cid))
    assert totals == {"web1": (10.0, 100, 1, 2), "db": (0.0, 0, 0, 1)}


# ---------------------------------------------------------------------------------------------- images

def image(host="web1", image_id=ID_A, tags=("shop/web:1.0",), size=12_345_678) -> Image:
    return Image(host=host, id=image_id, tags=tags, size=size, created=0)


def test_an_image_has_one_row_per_tag_and_dangling_ones_only_when_asked():
    rows = image_rows(image(tags=("shop/web:1.0", "shop/web:latest")), users=2, marked=True, show_dangling=False)
    assert [shown(r)[:5] for r in rows] == [["●", "web1", "shop/web:1.0", "", "a" * 12],
                                           ["●", "web1", "shop/web:latest", "", "a" * 12]]
    assert [shown(r)[5] for r in rows] == ["12.3MB", "12.3MB"] and shown(rows[0])[7] == "2"
    assert image_rows(image(tags=()), 0, False, show_dangling=False) == []
    dangling = image_rows(image(tags=()), 0, False, show_dangling=True)
    assert shown(dangling[0])[2] == "<none>:<none>" and dangling[0].cells[2].style == "dim"


def test_the_drift_view_flags_a_tag_that_differs_between_hosts():
    rows = drift_rows([image("web1", ID_A, ("app:1", "base:1")), image("web2", ID_B, ("app:1", "base:1")),
                       image("web3", ID_A, ("app:1",)), image("web2", "sha256:" + "c" * 64, ("base:1",))])
    by_ref = {r.sort_values["ref"]: shown(r) for r in rows}
    assert by_ref["app:1"] == [" ", "app:1", "DRIFT", "web1, web2, web3",
                               f"{'a' * 12} (web1, web3), {'b' * 12} (web2)", ""]
    assert by_ref["base:1"][2:] == ["DRIFT", "web1, web2", f"{'a' * 12} (web1), {'c' * 12} (web2)", "web3"]
    same = drift_rows([image("web1"), image("web2")])
    assert shown(same[0])[2:] == ["same", "web1, web2", "a" * 12, ""]


# ---------------------------------------------------------------------------------------------- volumes, networks

def test_a_volume_row_shows_its_size_once_known_and_who_uses_it():
    v = Volume(host="web1", name="data", driver="local", mountpoint="/var/lib/docker/volumes/data/_data")
    assert shown(volume_row(v, None, [], False))[5:] == ["…", "-"]
    row = volume_row(v, 2_000_000, ["db", "backup"], True)
    assert shown(row) == ["●", "web1", "data", "local", "/var/lib/docker/volumes/data/_data", "2MB", "db, backup"]
    assert row.sort_values["used"] == 2


def test_a_network_row_shows_internal_networks_and_attached_containers():
    n = Network(host="web1", id="n" * 64, name="backend", driver="bridge", scope="local",
                subnets=("172.30.0.0/16",), internal=True)
    assert shown(network_row(n, ["api", "db"], False)) == [" ", "web1", "backend", "bridge (internal)", "local",
                                                          "172.30.0.0/16", "api, db"]
    bare = Network(host="web1", id="m" * 64, name="none", driver="null", scope="local")
    assert shown(network_row(bare, [], False))[4:] == ["local", "-", "-"]


# ---------------------------------------------------------------------------------------------- registries

def test_registry_levels_list_registries_then_repositories_and_tags():
    entry = SimpleNamespace(name="lab", source="config", config=SimpleNamespace(url="http://127.0.0.1:5000"))
    rows = level_rows(Level("registries"), [entry], {"lab": ("error: 401", "-")}, [])
    assert shown(rows[0]) == ["lab", "http://127.0.0.1:5000", "config", "error: 401", "-"]
    assert rows[0].cells[3].style == "red"
    assert shown(level_rows(Level("registries"), [entry], {}, [])[0])[3] == "checking…"
    repos = level_rows(Level("repos", registry="lab", items=["shop/web", "shop/db"]), [], {}, ["old/one"])
    assert [shown(r) for r in repos] == [["shop/web"], ["shop/db"]]
    no_catalog = level_rows(Level("repos", registry="hub"), [], {}, ["library/busybox"])
    assert [r.data for r in no_catalog] == ["library/busybox"]  # the recent ones stand in
    assert level_rows(Level("tags", registry="lab", repo="shop/web"), [], {}, ["x"]) == []


# ---------------------------------------------------------------------------------------------- freshness


def test_the_update_column_is_quiet_unless_outdated_or_unknown_and_the_filter_term_matches_it():
    from dockyard.fleet.freshness import Freshness
    from dockyard.ui.filtering import matcher

    def row(state):
        return container_row(container(), None, False, update=Freshness(state, "docker.io/library/nginx:1.27"))

    update = [c.key for c in COLUMNS].index("update")
    assert [shown(row(s))[update] for s in ("outdated", "unknown", "current", "local", "pinned")] == \
        ["↑", "?", "", "", ""]
    assert shown(container_row(container(), None, False))[update] == ""  # not checked yet
    outdated, current = row("outdated"), row("current")
    assert matcher("update:outdated")(outdated.texts, outdated.fields)
    assert not matcher("update:outdated")(current.texts, current.fields)
    assert matcher("!update:outdated")(current.texts, current.fields)
    image_row = image_rows(image(), 1, False, False, lambda ref: Freshness("outdated", ref))[0]
    assert shown(image_row)[3] == "↑" and matcher("update:outdated")(image_row.texts, image_row.fields)


def test_the_hosts_pane_totals_are_sampled_slowly_and_each_host_at_its_own_moment():
    """A slow wish (the Hosts pane's totals) is sampled at its own pace, unless a faster owner wants
    the same container; from its third sample each host keeps its own phase, so ~400 containers
    behind 40 hosts are not all asked in the same second."""
    from dockyard.fleet.stats import StatsWatcher
    from dockyard.ui.panes.hosts import TOTALS_EVERY

    watcher = StatsWatcher(lambda host: None, lambda host, kind: None)  # (no sampling runs here)
    watcher._wanted["hosts"] = ({("a", "1"), ("b", "2")}, TOTALS_EVERY)
    assert watcher._plan("a") == {("a", "1"): TOTALS_EVERY}
    watcher._wanted["containers"] = ({("a", "1")}, 0.0)  # the Containers pane shows it: its pace wins
    assert watcher._plan("a") == {("a", "1"): watcher.refresh}
    del watcher._wanted["containers"]
    for key in (("a", "1"), ("b", "2")):
        watcher._asked[key] = (100.0, 1)
        assert watcher._due(key, TOTALS_EVERY) == (100.0 + watcher.tick, 0.0)  # CPU % needs a 2nd sample
    phases = set()
    for key in (("a", "1"), ("b", "2")):
        watcher._asked[key] = (100.0, 2)
        due, early = watcher._due(key, TOTALS_EVERY)
        assert 100.0 + TOTALS_EVERY <= due < 100.0 + 2 * TOTALS_EVERY and early == 0.0
        phases.add(due)
        watcher._asked[key] = (due, 3)
        assert watcher._due(key, TOTALS_EVERY)[0] == due + TOTALS_EVERY  # then at the pace, in that phase
    assert len(phases) == 2

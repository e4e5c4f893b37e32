"""Reading daemon replies, without a lab: the API range, stats fields, error bodies, resumed logs."""

from __future__ import annotations

import pytest

from dockyard.fleet import BadReply, UnsupportedAPI
from dockyard.fleet.docker_api import STATS_SHAPE, _error_message, _shape_problem, negotiated_api
from dockyard.fleet.logs import _Overlap


@pytest.mark.parametrize("theirs, their_min, spoken", [
    ("1.41", "1.12", "1.41"),  # Docker 20.10, Podman 4.3
    ("1.43", "1.12", "1.43"),
    ("1.52", "1.24", "1.47"),  # a newer daemon still serves 1.47
])
def test_the_api_version_spoken_is_the_highest_both_know(theirs, their_min, spoken):
    assert negotiated_api("h", {"ApiVersion": theirs, "MinAPIVersion": their_min}) == spoken


def test_a_daemon_outside_the_range_is_unsupported_in_words():
    with pytest.raises(UnsupportedAPI, match=r"speaks Docker Engine API 1.40; Dockyard supports .* 1.41 to 1.47"):
        negotiated_api("h", {"ApiVersion": "1.40"})
    with pytest.raises(UnsupportedAPI, match="needs Docker Engine API 1.50 or newer"):
        negotiated_api("h", {"ApiVersion": "1.52", "MinAPIVersion": "1.50"})
    with pytest.raises(BadReply, match="h: unreadable reply to GET /version: no Docker API version"):
        negotiated_api("h", {"Version": "x"})


def test_stats_fields_may_be_missing_but_not_of_another_type():
    podman = {"read": "2026-01-01T00:00:00Z", "pids_stats": {"current": 2}, "memory_stats": {"usage": 5, "limit": 9},
              "cpu_stats": {"cpu_usage": {"total_usage": 1, "percpu_usage": [1, 0]}, "system_cpu_usage": 3},
              "networks": {"network": {"rx_bytes": 0, "tx_bytes": 0}},
              "blkio_stats": {"io_service_bytes_recursive": [], "io_serviced_recursive": None}}
    assert _shape_problem(podman, STATS_SHAPE) is None
    assert _shape_problem({}, STATS_SHAPE) is None
    assert _shape_problem({"memory_stats": {"usage": "lots"}}, STATS_SHAPE) == "memory_stats.usage is str, not int"
    assert _shape_problem({"networks": [1]}, STATS_SHAPE) == "networks is not an object"
    assert _shape_problem({"cpu_stats": {"online_cpus": True}}, STATS_SHAPE) == "cpu_stats.online_cpus is bool, not int"
    assert _shape_problem([], STATS_SHAPE) == "the reply is not an object"


def test_error_replies_are_read_by_their_body():
    assert _error_message(b'{"message": "No such container: x"}', "Not Found") == "No such container: x"
    assert _error_message(b"", "Not Found") == "not found"  # Podman's empty application/json 404
    assert _error_message(b"page not found\n", "Not Found") == "page not found"
    assert _error_message(b"\x1b[31mred", "Bad") == "?[31mred"


def lines(texts, ts="S"):
    return [("stdout", t, ts) for t in texts]


def resume(delivered, resumed):
    overlap = _Overlap("S", [("stdout", t) for t in delivered])
    out = [line for item in resumed for line in overlap.feed(item)] + overlap.feed(None)
    return [text for _, text, _ in out]


def test_a_resumed_podman_follow_drops_exactly_what_it_sends_again():
    delivered = [str(i) for i in range(23, 35)]  # the lines shown in whole second S
    # it starts inside the delivered lines, or before the first one the view had
    assert resume(delivered, lines(map(str, range(27, 35))) + lines(["0", "1"], "T")) == ["0", "1"]
    assert resume(delivered, lines(map(str, range(15, 35))) + lines(["0"])) == ["0"]  # new in second S too
    assert resume(["a", "b", "a"], lines(["a", "b", "a", "c"])) == ["c"]
    assert resume(["5"], lines(["1", "2"]) + lines(["3"], "T")) == ["1", "2", "3"]  # no repeat: all new
    # dockerd's nanosecond stamps: nothing of the last stamp comes again, nothing is held
    overlap = _Overlap("2026-01-01T00:00:00.123456789Z", [("stdout", "x")])
    assert overlap.feed(("stdout", "y", "2026-01-01T00:00:00.2Z")) == [("stdout", "y", "2026-01-01T00:00:00.2Z")]


async def test_a_log_stream_that_is_not_multiplexed_says_so(tmp_path):
    """A daemon whose inspect says "no TTY" but whose logs are plain text: the logs end with a
    notice naming the problem (a name error in that message once ended them in silence)."""
    import json

    from malformed_daemon import VICTIM_ID, MalformedDaemon

    from dockyard.config.model import Config, HostConfig
    from dockyard.fleet import Fleet, LogNotice, LogSource

    inspect = json.dumps({"Id": VICTIM_ID, "Name": "/victim", "Config": {"Tty": False, "Image": "x", "Labels": {}},
                          "State": {"Running": True, "Status": "running"}}).encode()
    path = str(tmp_path / "d.sock")
    replies = {"logs": (200, "text/plain", b"plain text where frames belong\n" * 3),
               "inspect": (200, "application/json", inspect)}
    async with MalformedDaemon(path, replies):
        async with Fleet(Config(hosts=(HostConfig(name="fake", url=f"unix://{path}"),)), live=False) as fleet:
            items = [item async for item in fleet.containers.logs([LogSource("fake", VICTIM_ID, "victim")],
                                                                  follow=False, tail=10)]
    notices = [item.message for item in items if isinstance(item, LogNotice)]
    assert notices == ["logs unreadable: not a multiplexed log stream (starts 'plain te')"], items


async def test_a_log_source_that_meets_an_unexpected_error_says_so(tmp_path):
    """An inspect reply whose `Config` is a string made the source fail with an AttributeError the
    merge never reported: the view just had no lines, as if the container were silent."""
    import json

    from malformed_daemon import VICTIM_ID, MalformedDaemon

    from dockyard.config.model import Config, HostConfig
    from dockyard.fleet import Fleet, LogNotice, LogSource

    inspect = json.dumps({"Id": VICTIM_ID, "Name": "/victim", "Config": "x", "State": {"Running": True}}).encode()
    path = str(tmp_path / "d.sock")
    async with MalformedDaemon(path, {"inspect": (200, "application/json", inspect)}):
        async with Fleet(Config(hosts=(HostConfig(name="fake", url=f"unix://{path}"),)), live=False) as fleet:
            items = [item async for item in fleet.containers.logs([LogSource("fake", VICTIM_ID, "victim")],
                                                                  follow=True, tail=10)]
    [notice] = items
    assert isinstance(notice, LogNotice) and notice.broken
    assert notice.message.startswith("logs stopped by an unexpected error (AttributeError: ")
    assert notice.message.endswith("open the logs again to retry")

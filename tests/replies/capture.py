"""Capture the recorded Docker API replies the unit tests read (run by hand, as root, from the checkout):

    python3 tests/replies/capture.py [dockerd] [podman] [swarm]     (default: all three)

Each engine comes up the way the lab starts it (a dockerd 20.10 from tests/lab, Podman 4's Docker API
from tests/podman_lab.py, the two swarms of tests/swarm_lab.py), gets the same few named objects, and
the replies of the endpoints Dockyard parses are written as JSON under tests/replies/<engine>/. Names
and ids are the lab's; the machine's hostname is replaced by "lab-host", proxy settings and swarm join
tokens are dropped. Log streams are stored demultiplexed: [[stream, text], ...] per frame.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: `import lab`

import lab as _lab  # noqa: E402
from lab import IMAGE, LabError, unix_http  # noqa: E402

ENGINES = ("dockerd", "podman", "swarm")
DIRS = {"dockerd": "dockerd-20.10", "podman": "podman-4", "swarm": "swarm"}
STACK = "com.docker.stack.namespace"
COMPOSE = "com.docker.compose.project"
# Two lines a second on stdout and one on stderr, interleaved: what the merge tests sort.
CHATTY = "i=0; while [ $i -lt 4 ]; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.3; done"


def get(sock: str, path: str, raw: bool = False, timeout: float = 30) -> Any:
    status, body = unix_http(sock, "GET", path, timeout=timeout)
    if status != 200:
        raise LabError(f"GET {path}: {status} {body[:300]!r}")
    return body if raw else json.loads(body)


def frames(body: bytes) -> list[list[str]]:
    """A multiplexed log body (8-byte headers: stream, 0, 0, 0, big-endian length) as [stream, text]."""
    out, names = [], {1: "stdout", 2: "stderr"}
    while len(body) >= 8:
        size = int.from_bytes(body[4:8], "big")
        out.append([names.get(body[0], "stdout"), body[8:8 + size].decode("utf-8", "replace")])
        body = body[8 + size:]
    return out


def scrub(value: Any) -> Any:
    hostname = socket.gethostname()
    text = json.dumps(value)
    if hostname:
        text = text.replace(json.dumps(hostname)[1:-1], "lab-host")
    value = json.loads(text)

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ("" if k in ("HttpProxy", "HttpsProxy", "NoProxy") else walk(x))
                    for k, x in v.items() if k != "JoinTokens"}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return walk(value)


def write(engine: str, name: str, value: Any) -> None:
    d = HERE / DIRS[engine]
    d.mkdir(exist_ok=True)
    (d / f"{name}.json").write_text(json.dumps(scrub(value), indent=1, sort_keys=True) + "\n")
    print(f"  {DIRS[engine]}/{name}.json")


def engine_objects(d: _lab.Daemon) -> dict[str, str]:
    """A running `web` (compose label, a volume), an exited `job`, a `chatty` logger, a network."""
    d.docker("volume", "create", "--label", f"{COMPOSE}=shop", "shop-data")
    d.docker("network", "create", "--internal", "--label", f"{COMPOSE}=shop", "shop-back")
    web = d.docker("run", "-d", "--name", "web", "--network", "none", "--label", f"{COMPOSE}=shop",
                   "--label", "com.docker.compose.service=web", "-v", "shop-data:/data", IMAGE,
                   "sh", "-c", "while true; do echo tick; sleep 1; done").stdout.strip()
    d.docker("run", "--name", "job", "--network", "none", IMAGE, "sh", "-c", "echo done")
    chatty = d.docker("run", "-d", "--name", "chatty", "--network", "none", IMAGE, "sh", "-c", CHATTY).stdout.strip()
    time.sleep(2.5)  # chatty has printed and exited; web has a CPU history for stats
    return {"web": web, "chatty": chatty}


def capture_engine(engine: str, d: _lab.Daemon) -> None:
    ids = engine_objects(d)
    sock = d.socket
    write(engine, "version", get(sock, "/version"))
    write(engine, "info", get(sock, "/info"))
    write(engine, "containers", get(sock, "/containers/json?all=1"))
    write(engine, "container-web", get(sock, f"/containers/{ids['web']}/json"))
    write(engine, "images", get(sock, "/images/json"))
    write(engine, "image-history", get(sock, f"/images/{quote(IMAGE, safe='')}/history"))
    write(engine, "volumes", get(sock, "/volumes"))
    write(engine, "networks", get(sock, "/networks"))
    write(engine, "system-df", get(sock, "/system/df", timeout=60))
    write(engine, "stats-web", get(sock, f"/containers/{ids['web']}/stats?stream=false"))
    write(engine, "top-web", get(sock, f"/containers/{ids['web']}/top"))
    body = get(sock, f"/containers/{ids['chatty']}/logs?stdout=1&stderr=1&timestamps=1", raw=True)
    write(engine, "logs-chatty", frames(body))


def capture_dockerd() -> None:
    root = tempfile.mkdtemp(prefix="dyl", dir="/tmp")
    _lab.owner.claim(root)
    d = _lab.Daemon(root, "d1")
    try:
        d.start()
        d.ensure_image()
        capture_engine("dockerd", d)
    finally:
        d.stop()
        _lab.owner.sweep(root)
        _lab.owner.release(root)


def capture_podman() -> None:
    import podman_lab

    root = tempfile.mkdtemp(prefix="dyl", dir="/tmp")
    _lab.owner.claim(root)
    source = _lab.Daemon(root, "src")
    p = podman_lab.Podman.create()
    try:
        source.start()
        source.ensure_image()
        p.start()
        p.load_image_from(source)
        capture_engine("podman", p)
    finally:
        p.stop()
        source.stop()
        _lab.owner.sweep(root)
        _lab.owner.release(root)


def capture_swarm() -> None:
    import swarm_lab

    sw = swarm_lab.SwarmLab.start()
    try:
        sw.create_service("shop_web", replicas=2, labels={STACK: "shop"})
        sw.create_service("agent", mode="global")
        a1 = sw.a1
        a1.api("POST", "/secrets/create", {"Name": "shop_key", "Labels": {STACK: "shop"},
                                           "Data": "bm90IGEgcmVhbCBrZXk="})  # "not a real key"
        a1.api("POST", "/configs/create", {"Name": "shop_conf", "Labels": {STACK: "shop"},
                                           "Data": "cG9ydD04MAo="})  # "port=80"
        for name, path in (("services", "/services?status=true"), ("tasks", "/tasks"), ("nodes", "/nodes"),
                           ("secrets", "/secrets"), ("configs", "/configs"), ("info-manager", "/info")):
            write("swarm", name, get(a1.daemon.socket, path))
        write("swarm", "info-worker", get(sw.a3.daemon.socket, "/info"))
        write("swarm", "info-other-swarm", get(sw.b1.daemon.socket, "/info"))
    finally:
        sw.stop()


def main(argv: list[str]) -> int:
    wanted = argv or list(ENGINES)
    _lab.owner.stop_on_signals()
    for engine in wanted:
        print(f"{engine}:")
        {"dockerd": capture_dockerd, "podman": capture_podman, "swarm": capture_swarm}[engine]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

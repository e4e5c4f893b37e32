"""Fault suite: a deterministic corpus of broken configs through `dockyard config check`.

Mutations of two seeds (the documented example, and a small valid fleet whose files exist) from a
fixed seed: byte edits, hostile values in place of real ones, whole-file oddities. Every run must
end with exit 0 or 2 (3 is the CLI's "some hosts failed", which `config check` never needs), never
a traceback or "unexpected error", never over 10 s, and print nothing raw that a terminal obeys.
Runs in-process (the real `main()`), so a few hundred cases take seconds.
"""

from __future__ import annotations

import collections
import contextlib
import io
import random
import re
import time
from pathlib import Path

import pytest
from hostile import HOSTILE, bad_characters

from dockyard.cli.main import main
from dockyard.config import Config, load_config

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
SEED = 1414
CORPUS_SIZE = 400
SLOWEST_ALLOWED = 10.0

VALID = """\
connect_timeout = 3
request_timeout = 20
ssh_config = "{d}/ssh_config"

[[hosts]]
name = "local"
url = "unix://{d}/docker.sock"
labels = {{ env = "dev" }}

[[hosts]]
name = "tls-1"
url = "tcp://127.0.0.1:2376"
[hosts.tls]
ca = "{d}/ca.pem"
cert = "{d}/cert.pem"
key = "{d}/key.pem"

[[hosts]]
name = "ssh-1"
url = "ssh://deploy@127.0.0.1:2222"
identity_file = ["{d}/id_ed25519"]
jump = "bastion"
known_hosts = "{d}/known_hosts"
connect_timeout = 2.5

[[registries]]
name = "lab"
url = "http://127.0.0.1:5000"

[[registries]]
url = "https://127.0.0.1:5443"
username = "ci"
password_env = "CI_PW"
[registries.tls]
ca = "{d}/ca.pem"

[keys]
"container.stop" = "s"

[ui]
log_tail = 200
log_buffer = 5000
refresh_hz = 2
shells = {{ "image:postgres" = "bash" }}
"""

# Values put in place of a real one: wrong types, limits, nan/inf, huge, hostile text, nesting.
VALUES = [
    "nan", "-inf", "inf", "0", "-1", "1e400", "99999999999999999999999999", "0.0000001", "true", "\"\"",
    "[]", "{}", "[1, \"a\"]", "1979-05-27T07:32:00Z", "07:32:00", "\"unix:///\"", "\"tcp://127.0.0.1:0\"",
    "\"tcp://[::1]:0\"", "\"ssh://@127.0.0.1\"", "\"ssh://root@127.0.0.1:\"", "\"unix:///x.sock \"",
    "\"ssh://ro ot@127.0.0.1:2223\"", "\"https://u:p@127.0.0.1\"", "\"" + "x" * 5000 + "\"",
    "[" * 40 + "]" * 40, "{a = " * 40 + "1" + "}" * 40, "\"~nobody/x\"", "\"~/\"",
] + ['"' + h.encode("unicode_escape").decode().replace('"', '\\"') + '"' for h in HOSTILE]

NOISE = ["[", "]", "[[", "]]", "=", "\"", "'", "\"\"\"", "#", "\n", "\\", ",", "{", "}", ".", "\x00", "\x1b",
         "\u202e", "\ud800", "\xff", " ", "\t", "\r", "é", "🐳", "=\n", "[hosts]\n", "[[hosts]]\n"]


def mutate(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    op = rng.randrange(9)
    if op == 0:  # delete a span
        i = rng.randrange(len(text))
        return text[:i] + text[i + rng.randint(1, 40):]
    if op == 1:  # insert noise
        i = rng.randrange(len(text) + 1)
        return text[:i] + "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 4))) + text[i:]
    if op == 2:  # duplicate a line (duplicate keys, tables, hosts)
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        return "\n".join(lines)
    if op == 3:  # swap two lines (keys leave their table)
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if op == 4:  # truncate
        return text[: rng.randrange(len(text))]
    if op in (5, 6):  # a hostile value for a real key
        keyed = [i for i, line in enumerate(lines) if re.match(r"\s*[\w\".-]+\s*=", line)] or [0]
        i = rng.choice(keyed)
        key = lines[i].split("=", 1)[0]
        lines[i] = f"{key}= {rng.choice(VALUES)}"
        return "\n".join(lines)
    if op == 7:  # an unknown or secret-looking key somewhere
        i = rng.randrange(len(lines) + 1)
        lines.insert(i, rng.choice(["passwd = \"hunter2\"", "token = \"abc\"", "colour = 1", "\"\" = 1",
                                    "hosts = 3", "ui = \"x\"", "[ui.extra]", "[[registries]]"]))
        return "\n".join(lines)
    return rng.choice([  # whole-file oddities
        "", "\ufeff" + text, text.replace("\n", "\r\n"), text.replace("\n", "\r"), text * 3,
        "x = " + "[" * 5000 + "]" * 5000, "x" + ".a" * 3000 + " = 1", "# " + "c" * 900_000,
        rng.randbytes(200).decode("latin-1"), text.replace("=", ":"),
    ])


def corpus(valid: str, example: str) -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    out = [("valid", valid), ("example", example)]
    while len(out) < CORPUS_SIZE:
        base = rng.choice((valid, example))
        text = base
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            text = mutate(rng, text) or " "
        out.append((f"m{len(out):03d}", text))
    return out


def unusable(config: Config) -> str | None:
    """What a config that passed the check must still guarantee to the fleet and the UI."""
    for h in config.hosts:
        for t in (h.connect_timeout, h.request_timeout):
            if not 0 < t <= 86400:  # nan fails this too
                return f"host {h.name!r} has a timeout of {t}"
        if not re.fullmatch(r"(unix:///\S.*\S|tcp://\S+:[1-9]\d*|ssh://\S+)", h.url):
            return f"host {h.name!r} has the url {h.url!r}"
    if not (100 <= config.ui.log_buffer <= 1_000_000 and 1 <= config.ui.log_tail <= 1_000_000
            and 0 < config.ui.refresh_hz <= 60):
        return f"ui is {config.ui}"
    return None


def check(path: Path) -> tuple[int, str, float]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["config", "check", "--config", str(path)])
        except SystemExit as exc:  # argparse; never expected here
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue() + err.getvalue(), time.monotonic() - t0


@pytest.fixture
def fleet_files(tmp_path, monkeypatch):
    d = tmp_path / "files"
    d.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem", "id_ed25519", "known_hosts", "ssh_config"):
        (d / name).write_text("placeholder\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("CI_PW", "x")
    monkeypatch.delenv("DOCKYARD_DEBUG", raising=False)
    return d


def test_config_corpus_exits_0_or_2_without_traceback(tmp_path, fleet_files, fault_figures):
    valid = VALID.format(d=fleet_files)
    example = (ROOT / "config" / "dockyard.example.toml").read_text()
    codes: collections.Counter[int] = collections.Counter()
    failures, slowest = [], 0.0
    t0 = time.monotonic()
    for name, text in corpus(valid, example):
        path = tmp_path / f"{name}.toml"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        code, output, took = check(path)
        codes[code] += 1
        slowest = max(slowest, took)
        bad = bad_characters(output, allowed="\n")
        if code not in (0, 2) or "Traceback" in output or "unexpected error" in output or bad or took > SLOWEST_ALLOWED:
            failures.append(f"{name}: exit {code}, {took:.1f} s, raw {bad}: {output[-300:]!r}")
        elif code == 0 and (broken := unusable(load_config(str(path)))):
            failures.append(f"{name}: passed the check but {broken}")
    assert check(tmp_path / "valid.toml")[0] == 0  # the seed itself is healthy
    assert not failures, "\n".join(failures[:10])
    assert codes[0] >= 10 and codes[2] >= CORPUS_SIZE // 2  # the corpus reaches both outcomes
    fault_figures["config corpus"] = (f"{CORPUS_SIZE} configs (seed {SEED}): exit 0 x{codes[0]}, exit 2 x{codes[2]}, "
                                      f"other x{sum(codes.values()) - codes[0] - codes[2]}; slowest {slowest:.2f} s, "
                                      f"all {time.monotonic() - t0:.1f} s")


def test_corpus_is_deterministic(fleet_files):
    valid, example = VALID.format(d=fleet_files), (ROOT / "config" / "dockyard.example.toml").read_text()
    assert corpus(valid, example) == corpus(valid, example)

"""Unit tests of dockyard.config: file loading, every error message, Docker contexts. No daemon needed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dockyard.config import (
    Config,
    ConfigError,
    HostConfig,
    TLSConfig,
    load_config,
    load_docker_contexts,
    resolve_config_path,
)
from dockyard.config import contexts
from dockyard.config.contexts import context_id
from dockyard.config.schema import schema_json

ROOT = Path(__file__).resolve().parent.parent
# Subprocesses run this checkout's source, not whichever dockyard is installed.
SOURCE_ENV = {**os.environ, "PYTHONPATH": str(ROOT / "tui")}


@pytest.fixture
def local_socket(tmp_path: Path, monkeypatch) -> Path:
    """Where this test's local daemon socket (`default`) would be: absent until a test binds it."""
    path = tmp_path / "docker.sock"
    monkeypatch.setattr(contexts, "DEFAULT_SOCKET", str(path))
    return path


def bind_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return sock


@pytest.fixture
def env(tmp_path: Path, local_socket: Path) -> dict[str, str]:
    """An isolated environment: fake HOME, an empty Docker config dir, no local daemon socket."""
    (tmp_path / "home").mkdir()
    (tmp_path / "docker").mkdir()
    return {"HOME": str(tmp_path / "home"), "DOCKER_CONFIG": str(tmp_path / "docker")}


def write(tmp_path: Path, text: str, name: str = "config.toml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def errors_of(tmp_path: Path, env: dict, text: str, **kw) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env, **kw)
    assert str(info.value) == "\n".join(info.value.messages)
    return info.value.messages


def one_error(tmp_path: Path, env: dict, text: str, **kw) -> str:
    messages = errors_of(tmp_path, env, text, **kw)
    assert len(messages) == 1, messages
    return messages[0]


# --- path resolution -------------------------------------------------------------------------------


class TestResolvePath:
    def test_cli_beats_env(self, env):
        env["DOCKYARD_CONFIG"] = "/etc/dockyard.toml"
        assert resolve_config_path("/x/c.toml", env) == ("/x/c.toml", True)

    def test_dockyard_config(self, env):
        env["DOCKYARD_CONFIG"] = "~/d.toml"
        assert resolve_config_path(None, env) == (env["HOME"] + "/d.toml", True)

    def test_xdg(self, env):
        env["XDG_CONFIG_HOME"] = "/xdg"
        assert resolve_config_path(None, env) == ("/xdg/dockyard/config.toml", False)

    def test_relative_xdg_ignored(self, env):
        env["XDG_CONFIG_HOME"] = "relative"
        assert resolve_config_path(None, env) == (env["HOME"] + "/.config/dockyard/config.toml", False)

    def test_home_default(self, env):
        assert resolve_config_path(None, env) == (env["HOME"] + "/.config/dockyard/config.toml", False)

    def test_explicit_missing_is_error(self, env, tmp_path):
        with pytest.raises(ConfigError, match="config file not found"):
            load_config(str(tmp_path / "nope.toml"), env)
        env["DOCKYARD_CONFIG"] = str(tmp_path / "nope.toml")
        with pytest.raises(ConfigError, match="nope.toml: config file not found"):
            load_config(None, env)

    def test_default_path_is_read(self, env):
        cfg_dir = Path(env["HOME"]) / ".config" / "dockyard"
        cfg_dir.mkdir(parents=True)
        (cfg_dir / "config.toml").write_text('[[hosts]]\nname = "a"\nurl = "unix:///a.sock"\n')
        config = load_config(None, env)
        assert config.path == str(cfg_dir / "config.toml")
        assert [h.name for h in config.hosts] == ["a"]

    def test_missing_default_is_zero_config(self, env, local_socket):
        config = load_config(None, env)
        assert config.path is None
        assert config.hosts == () and config.current_context is None  # no Docker anywhere
        with bind_socket(local_socket):
            config = load_config(None, env)
        assert [h.name for h in config.hosts] == ["default"]
        assert config.current_context == "default"


# --- a good file ----------------------------------------------------------------------------------


def test_full_host_mapping(tmp_path, env):
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca", "cert", "key"):
        (certs / f"{name}.pem").write_text("x")
    ident = tmp_path / "id"
    ident.write_text("k")
    path = write(tmp_path, f"""
        readonly = true
        connect_timeout = 2
        request_timeout = 9.5
        [[hosts]]
        name = "loc"
        url = "unix://~/docker.sock"
        [[hosts]]
        name = "tls1"
        url = "tcp://Build.Example:2376/"
        tls = {{ cert_path = "{certs}" }}
        [[hosts]]
        name = "tls2"
        url = "tcp://10.0.0.2"
        [hosts.tls]
        ca = "{certs}/ca.pem"
        verify = false
        [[hosts]]
        name = "plain"
        url = "tcp://[::1]"
        request_timeout = 1
        [[hosts]]
        name = "s.1"
        url = "ssh://me@MyAlias:2222"
        identity_file = "{ident}"
        jump = " a@hop1:22 , hop2"
        labels = {{ env = "prod" }}
        readonly = true
        enabled = false
        [[hosts]]
        name = "s-2"
        url = "ssh://other"
        jump = ["hop3"]
        identity_file = ["{ident}"]
        socket = "/run/docker.sock"
        passphrase_command = "pass show x"
        [ui]
        theme = "ansi-dark"
        log_tail = 10
        refresh_hz = 0.5
        [keys]
        "container.stop" = "s"
    """)
    config = load_config(path, env)
    assert isinstance(config, Config) and config.readonly and config.path == path
    loc, tls1, tls2, plain, s1, s2 = config.hosts
    assert loc.url == f"unix://{env['HOME']}/docker.sock" and loc.source == "config"
    assert loc.connect_timeout == 2.0 and loc.request_timeout == 9.5
    assert tls1.url == "tcp://build.example:2376"
    assert tls1.tls == TLSConfig(ca=f"{certs}/ca.pem", cert=f"{certs}/cert.pem", key=f"{certs}/key.pem")
    assert tls2.url == "tcp://10.0.0.2:2376" and tls2.tls == TLSConfig(ca=f"{certs}/ca.pem", verify=False)
    assert tls2.transport_name == "tls"
    assert plain.url == "tcp://[::1]:2375" and plain.tls is None and plain.request_timeout == 1.0
    assert s1.url == "ssh://me@MyAlias:2222"  # alias kept verbatim
    assert s1.jump == ("a@hop1:22", "hop2") and s1.transport_name == "ssh+jump"
    assert s1.identity_file == (str(ident),) and s1.labels == {"env": "prod"}
    assert s1.readonly and not s1.enabled and s1.socket == "/var/run/docker.sock"
    assert s2.jump == ("hop3",) and s2.socket == "/run/docker.sock" and s2.passphrase_command == "pass show x"
    assert config.ui.theme == "ansi-dark" and config.ui.log_tail == 10 and config.ui.refresh_hz == 0.5
    assert config.keys == {"container.stop": "s"}
    joined = "\n".join(config.warnings)
    assert "hosts[3].url: host 'plain': tcp://[::1]:2375 without [hosts.tls]" in joined and "unauthenticated root access" in joined
    assert "hosts[2].tls.verify: verify = false" in joined
    assert config.host("s-2") is s2


def test_registries_mapping(tmp_path, env):
    env["REG_PW"] = "x"
    path = write(tmp_path, """
        [[hosts]]
        name = "a"
        url = "unix:///a.sock"
        [[registries]]
        name = "company"
        url = "https://reg.example.com/"
        username = "bot"
        password_env = "REG_PW"
        tls = { verify = false }
        [[registries]]
        url = "ghcr.io"
        credentials = "docker"
        [[registries]]
        name = "lab"
        url = "127.0.0.1:5000"
        insecure = true
        [[registries]]
        name = "cmd"
        url = "http://localhost:5001"
        username = "u"
        password_command = "echo pw"
    """)
    config = load_config(path, env)
    company, ghcr, lab, cmd = config.registries
    assert company.url == "https://reg.example.com" and company.password_env == "REG_PW"
    assert company.tls is not None and company.tls.verify is False
    assert ghcr.name == "ghcr.io" and ghcr.url == "https://ghcr.io" and ghcr.credentials == "docker"
    assert lab.url == "http://127.0.0.1:5000" and lab.insecure
    assert cmd.url == "http://localhost:5001" and cmd.insecure and cmd.password_command == "echo pw"
    joined = "\n".join(config.warnings)
    assert "registries[2].url" in joined and "registries[3].url" in joined and "registries[0].tls.verify" in joined


# --- errors ---------------------------------------------------------------------------------------


def test_toml_syntax_error_has_line_and_column(tmp_path, env):
    message = one_error(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = unix
    """)
    path = str(tmp_path / "config.toml")
    assert message.startswith(f"{path}:3:7: ")
    assert "(at line" not in message


def test_toml_error_at_end_of_document(tmp_path, env):
    message = one_error(tmp_path, env, '[[hosts]]\nname = "a\n')
    assert message.startswith(str(tmp_path / "config.toml") + ":2:")


def test_bad_url_scheme(tmp_path, env):
    message = one_error(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "unix:///a"
        [[hosts]]
        name = "b"
        url = "unix:///b"
        [[hosts]]
        name = "c"
        url = "http://x"
    """)
    path = str(tmp_path / "config.toml")
    assert message == f"{path}: hosts[2].url: must start with unix://, tcp:// or ssh:// (got 'http://x') (line 9)"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("unix://relative.sock", "must be absolute"),
        ("tcp://host:notaport", "invalid port"),
        ("tcp://user@host", "take no user"),
        ("tcp://host:2375/path", "must not have a path"),
        ("ssh://", "has no host"),
        # seven urls that passed `config check` and failed only when connecting (issue 14)
        ("unix:///", "names a directory"),
        ("ssh://@127.0.0.1", "empty user name"),
        ("ssh://root@127.0.0.1:", "invalid port"),
        ("ssh://ro ot@127.0.0.1:2223", "must not contain spaces"),
        ("unix:///run/docker.sock ", "must not start or end with a space"),
        ("tcp://127.0.0.1:0", "invalid port: use 1..65535"),
        ("tcp://[::1]:0", "invalid port: use 1..65535"),
    ],
)
def test_bad_url_details(tmp_path, env, url, expected):
    message = one_error(tmp_path, env, f'[[hosts]]\nname = "a"\nurl = "{url}"\n')
    assert "hosts[0].url: " in message and expected in message and "(line 3)" in message


def test_unknown_key_did_you_mean(tmp_path, env):
    message = one_error(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "unix:///a"
        conect_timeout = 3
    """)
    assert "hosts[0].conect_timeout: unknown key (did you mean 'connect_timeout'?)" in message
    assert message.endswith("(line 4)")


def test_unknown_key_without_close_match_lists_allowed(tmp_path, env):
    message = one_error(tmp_path, env, "[ui]\nzzz = 1\n")
    assert "ui.zzz: unknown key (allowed here: theme, log_tail, log_buffer, refresh_hz, shells, confirm)" in message


def test_confirmations_per_action(tmp_path, env):
    """`[ui.confirm]`: stop and restart ask unless turned off; a key not set keeps its default."""
    cfg = load_config(write(tmp_path, "[ui.confirm]\nrestart = false\nstart = true\n"), env)
    assert cfg.ui.confirm == {"stop": True, "restart": False, "start": True, "pause": False}
    assert load_config(write(tmp_path, "readonly = false\n"), env).ui.confirm["stop"] is True
    assert "ui.confirm.stopp: unknown key (did you mean 'stop'?)" in one_error(tmp_path, env,
                                                                            "[ui.confirm]\nstopp = false\n")
    assert "ui.confirm.stop" in one_error(tmp_path, env, "[ui.confirm]\nstop = \"no\"\n")


def test_unknown_top_level_table(tmp_path, env):
    message = one_error(tmp_path, env, '[[host]]\nname = "a"\nurl = "unix:///a"\n')
    assert "host: unknown key (did you mean 'hosts'?)" in message


def test_wrong_types(tmp_path, env):
    messages = errors_of(tmp_path, env, """\
        readonly = "yes"
        [[hosts]]
        name = "a"
        url = "unix:///a"
        connect_timeout = "abc"
        labels = { env = 1 }
        identity_file = 3
        [ui]
        log_tail = 1.5
    """)
    text = "\n".join(messages)
    assert "readonly: expected a boolean, got string 'yes'" in text
    assert "hosts[0].connect_timeout: expected a number, got string 'abc'" in text
    assert "hosts[0].labels.env: expected a string, got integer 1" in text
    assert "hosts[0].identity_file: expected a string or an array of strings, got integer 3" in text
    assert "ui.log_tail: expected an integer, got number 1.5" in text
    # ssh option on a unix host is reported as well: all errors, not the first one
    assert "hosts[0].identity_file: only valid with ssh:// urls" in text


def test_hosts_must_be_array_of_tables(tmp_path, env):
    message = one_error(tmp_path, env, 'hosts = "x"\n')
    assert "hosts: expected an array, got string 'x'" in message


def test_missing_required(tmp_path, env):
    messages = errors_of(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "unix:///a"
        [[hosts]]
        name = "b"
        [[registries]]
        name = "r"
    """)
    assert any(m.endswith("hosts[1]: missing required key 'url' (line 4)") for m in messages), messages
    assert any("registries[0]: missing required key 'url'" in m for m in messages), messages


def test_duplicate_names(tmp_path, env):
    messages = errors_of(tmp_path, env, """\
        [[hosts]]
        name = "prod"
        url = "unix:///a"
        [[hosts]]
        name = "b"
        url = "unix:///b"
        [[hosts]]
        name = "c"
        url = "unix:///c"
        [[hosts]]
        name = "prod"
        url = "unix:///d"
        [[registries]]
        url = "reg.example.com"
        [[registries]]
        name = "reg.example.com"
        url = "https://other.example.com"
    """)
    text = "\n".join(messages)
    assert "hosts[3].name: duplicate host name 'prod' (also hosts[0]) (line 11)" in text
    assert "registries[1].name: duplicate registry name 'reg.example.com' (also registries[0])" in text


@pytest.mark.parametrize(
    "key, value",
    [("connect_timeout", "0"), ("request_timeout", "-1")],
)
def test_non_positive_timeouts(tmp_path, env, key, value):
    message = one_error(tmp_path, env, f'[[hosts]]\nname = "a"\nurl = "unix:///a"\n{key} = {value}\n')
    assert f"hosts[0].{key}: must be greater than 0 (got {value})" in message


@pytest.mark.parametrize("value", ["nan", "+nan", "-nan", "inf", "+inf", "-inf"])
@pytest.mark.parametrize("key", ["connect_timeout", "request_timeout"])
def test_nan_and_infinite_timeouts_are_refused(tmp_path, env, key, value):
    """A nan timeout never fires: the host would never connect (and never fail)."""
    messages = errors_of(tmp_path, env, f'{key} = {value}\n[[hosts]]\nname = "a"\nurl = "unix:///a"\n'
                                        f'{key} = {value}\n')
    assert [m.split(": ", 1)[1] for m in messages] == [
        f"{key}: must be a finite number (got {float(value)}) (line 1)",
        f"hosts[0].{key}: must be a finite number (got {float(value)}) (line 5)"]


def test_maximum_is_checked(tmp_path, env):
    text = "\n".join(errors_of(tmp_path, env, "request_timeout = 1e9\n[ui]\nlog_buffer = 99999999999999999999999999\n"
                                              "log_tail = 1000001\nrefresh_hz = 61\n"))
    assert "ui.log_buffer: must be at most 1000000 (got 99999999999999999...) (line 3)" in text
    assert "ui.log_tail: must be at most 1000000 (got 1000001)" in text
    assert "ui.refresh_hz: must be at most 60 (got 61)" in text
    assert "request_timeout: must be at most 86400 (got 1000000000)" in text


def _schema_keywords(schema: dict, found: set[str]) -> set[str]:
    found |= set(schema)
    for sub in schema.get("properties", {}).values():
        _schema_keywords(sub, found)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _schema_keywords(schema[key], found)
    for sub in schema.get("oneOf", []):
        _schema_keywords(sub, found)
    return found


def test_validator_implements_every_keyword_the_schema_uses():
    from dockyard.config.schema import ANNOTATIONS, CONFIG_SCHEMA, KEYWORDS, validate

    unknown = _schema_keywords(CONFIG_SCHEMA, set()) - KEYWORDS - ANNOTATIONS
    assert not unknown, f"schema keywords the validator ignores: {unknown}"
    # ... and each keyword it claims does refuse something.
    probes = {
        "type": ({"type": "integer"}, "x"), "properties": ({"properties": {"a": {"type": "string"}}}, {"a": 1}),
        "required": ({"required": ["a"]}, {}), "additionalProperties": ({"additionalProperties": False}, {"a": 1}),
        "items": ({"items": {"type": "string"}}, [1]), "enum": ({"enum": ["a"]}, "b"),
        "minimum": ({"minimum": 1}, 0), "maximum": ({"maximum": 1}, 2), "exclusiveMinimum": ({"exclusiveMinimum": 0}, 0),
        "minLength": ({"minLength": 1}, ""), "pattern": ({"pattern": "^a"}, "b"),
        "oneOf": ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, 1.5),
    }
    assert set(probes) == KEYWORDS
    for keyword, (schema, bad) in probes.items():
        assert validate(bad, schema), f"{keyword} accepted {bad!r}"


def test_non_regular_files_are_refused_before_reading(tmp_path, env):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # nobody writes: opening it for reading the usual way would wait forever
    for path in ("/dev/zero", "/dev/urandom", str(tmp_path), str(fifo)):
        with pytest.raises(ConfigError, match="not a regular file"):
            load_config(path, env)


def test_config_over_1_mib_is_refused(tmp_path, env):
    big = tmp_path / "big.toml"
    big.write_text("# padding\n" * 120_000)
    with pytest.raises(ConfigError, match=r"too large for a config \(1,200,000 bytes; at most 1024 KiB\)"):
        load_config(str(big), env)


@pytest.mark.parametrize("text", [
    "x = " + "[" * 5000 + "]" * 5000,
    "x = " + "{a=" * 5000 + "1" + "}" * 5000,
    "x" + ".a" * 5000 + " = 1",
    "[" + ".".join(["t"] * 5000) + "]",
    "x = " + "[" * 40 + "]" * 40,
])
def test_deep_nesting_is_a_config_error(tmp_path, env, text):
    message = one_error(tmp_path, env, text + "\n")
    assert "nested too deeply (at most 32 levels)" in message or "nested more than 32 levels deep" in message


def test_deep_nesting_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    result = subprocess.run([sys.executable, "-m", "dockyard", "config", "check", "--config", path],
                            capture_output=True, text=True, env=SOURCE_ENV)
    assert result.returncode == 2 and "nested too deeply" in result.stderr and "Traceback" not in result.stderr


def test_top_level_and_ui_limits(tmp_path, env):
    text = "\n".join(errors_of(tmp_path, env, "connect_timeout = 0\n[ui]\nlog_tail = 0\nrefresh_hz = 0\n"))
    assert "connect_timeout: must be greater than 0" in text
    assert "ui.log_tail: must be at least 1 (got 0)" in text
    assert "ui.refresh_hz: must be greater than 0 (got 0)" in text


def test_bad_host_name(tmp_path, env):
    message = one_error(tmp_path, env, '[[hosts]]\nname = "-bad name"\nurl = "unix:///a"\n')
    assert "hosts[0].name: must start with a letter or digit" in message and "'-bad name'" in message


@pytest.mark.parametrize(
    "section, key, hint",
    [
        ("[[registries]]\nname = 'r'\nurl = 'r.example'", "password", "password_env"),
        ("[[registries]]\nname = 'r'\nurl = 'r.example'", "token", "credentials = \"docker\""),
        ("[[hosts]]\nname = 'h'\nurl = 'ssh://h'", "passphrase", "passphrase_command"),
        ("[[hosts]]\nname = 'h'\nurl = 'ssh://h'", "ssh_password", "ssh-agent"),
        ("", "api_secret", "password_env"),
    ],
)
def test_clear_secret_refused_and_not_echoed(tmp_path, env, section, key, hint):
    messages = errors_of(tmp_path, env, f"{section}\n{key} = 'hunter2-s3cr3t'\n")
    assert len(messages) == 1, messages
    assert "secrets in clear are not allowed" in messages[0] and hint in messages[0]
    assert f"{key}:" in messages[0]
    assert "hunter2" not in messages[0]


def test_secret_in_url_not_echoed(tmp_path, env):
    text = "\n".join(errors_of(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "ssh://me:hunter2@box"
        [[registries]]
        url = "https://me:hunter3@reg.example"
    """))
    assert "hosts[0].url: must not hold a password" in text and "registries[0].url: must not hold a password" in text
    assert "hunter" not in text


def test_tls_rules(tmp_path, env):
    text = "\n".join(errors_of(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "ssh://a"
        tls = { ca = "/ca.pem" }
        [[hosts]]
        name = "b"
        url = "tcp://b"
        tls = { cert_path = "/certs", ca = "/ca.pem" }
        [[hosts]]
        name = "c"
        url = "tcp://c"
        tls = { cert = "/cert.pem" }
        [[hosts]]
        name = "d"
        url = "unix:///d"
        socket = "/x.sock"
    """, check_files=False))
    assert "hosts[0].tls: only valid with tcp:// urls (this host is ssh://)" in text
    assert "hosts[1].tls.cert_path: use either cert_path or ca/cert/key, not both" in text
    assert "hosts[2].tls.cert: cert needs key too" in text
    assert "hosts[3].socket: only valid with ssh:// urls (this host is unix://)" in text


def test_missing_files_checked_or_skipped(tmp_path, env):
    text = """\
        [[hosts]]
        name = "t"
        url = "tcp://t"
        [hosts.tls]
        ca = "~/nope/ca.pem"
        [[hosts]]
        name = "s"
        url = "ssh://s"
        identity_file = ["~/.ssh/none"]
        known_hosts = "/nope/known_hosts"
        [[hosts]]
        name = "d"
        url = "tcp://d"
        tls = { cert_path = "/nope-dir" }
    """
    messages = "\n".join(errors_of(tmp_path, env, text))
    assert f"hosts[0].tls.ca: file not found: '{env['HOME']}/nope/ca.pem' (line 5)" in messages
    assert f"hosts[1].identity_file[0]: file not found: '{env['HOME']}/.ssh/none'" in messages
    assert "known_hosts" not in messages  # created when the user accepts a host key
    assert "hosts[2].tls.cert_path: directory not found: '/nope-dir'" in messages
    config = load_config(write(tmp_path, text), env, check_files=False)
    assert config.hosts[2].tls.ca == "/nope-dir/ca.pem"


def test_disabled_host_files_not_checked(tmp_path, env):
    config = load_config(write(tmp_path, """
        [[hosts]]
        name = "old"
        url = "tcp://old"
        enabled = false
        tls = { ca = "/gone/ca.pem" }
    """), env)
    assert not config.hosts[0].enabled and config.hosts[0].tls.ca == "/gone/ca.pem"


def test_jump_hops_validated(tmp_path, env):
    message = one_error(tmp_path, env, '[[hosts]]\nname = "a"\nurl = "ssh://a"\njump = "hop1,,hop2"\n')
    assert "hosts[0].jump: each hop must be" in message


def test_registry_rules(tmp_path, env):
    text = "\n".join(errors_of(tmp_path, env, """\
        [[registries]]
        name = "a"
        url = "ftp://a"
        [[registries]]
        name = "b"
        url = "b.example"
        credentials = "docker"
        username = "me"
        [[registries]]
        name = "c"
        url = "c.example"
        password_env = "X"
        password_command = "y"
        [[registries]]
        name = "d"
        url = "d.example"
        credentials = "vault"
        [[registries]]
        name = "e"
        url = "http://e.example"
        tls = { verify = true }
    """, check_files=False))
    assert "registries[0].url: must be http://, https:// or a bare host[:port]" in text
    assert "registries[1].credentials: credentials = \"docker\" takes user and password" in text
    assert "registries[2].password_command: use either password_env or password_command" in text
    assert "registries[2]: missing required key 'username'" in text
    assert "registries[3].credentials: must be one of \"docker\" (got string 'vault')" in text
    assert "registries[4].tls: only valid with https:// registries" in text


def test_all_errors_sorted_by_line(tmp_path, env):
    messages = errors_of(tmp_path, env, """\
        [[hosts]]
        name = "a"
        url = "http://a"
        [[hosts]]
        name = "b"
        url = "unix:///b"
        bogus = 1
    """)
    assert len(messages) == 2
    assert "hosts[0].url" in messages[0] and "hosts[1].bogus" in messages[1]


def test_empty_file_warns_empty_fleet(tmp_path, env):
    config = load_config(write(tmp_path, "# nothing\n"), env)
    assert config.hosts == () and any("fleet is empty" in w for w in config.warnings)


# --- Docker contexts ------------------------------------------------------------------------------


def make_context(docker_dir: Path, name: str, host: str, *, skip_verify=False, description=None, tls=()):
    cid = context_id(name)
    meta = docker_dir / "contexts" / "meta" / cid
    meta.mkdir(parents=True)
    metadata = {"Description": description} if description else {}
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": metadata,
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
    }))
    if tls:
        tls_dir = docker_dir / "contexts" / "tls" / cid / "docker"
        tls_dir.mkdir(parents=True)
        for part in tls:
            (tls_dir / f"{part}.pem").write_text("pem")
    return docker_dir / "contexts" / "tls" / cid / "docker"


class TestContexts:
    def test_default_is_there_when_its_socket_exists(self, env, local_socket):
        assert load_docker_contexts(env) == ([], None)
        with bind_socket(local_socket):
            hosts, current = load_docker_contexts(env)
        assert hosts == [HostConfig(name="default", url=f"unix://{local_socket}", source="default",
                                    description="local daemon (default socket)")]
        assert current == "default"

    def test_default_is_there_when_chosen_even_without_a_socket(self, env):
        hosts, current = load_docker_contexts({**env, "DOCKER_CONTEXT": "default"})
        assert [h.name for h in hosts] == ["default"] and current == "default"
        (Path(env["DOCKER_CONFIG"]) / "config.json").write_text(json.dumps({"currentContext": "default"}))
        assert [h.name for h in load_docker_contexts(env)[0]] == ["default"]

    def test_only_remote_contexts_give_no_dead_default(self, env):
        make_context(Path(env["DOCKER_CONFIG"]), "box", "ssh://me@box")
        (Path(env["DOCKER_CONFIG"]) / "config.json").write_text(json.dumps({"currentContext": "box"}))
        hosts, current = load_docker_contexts(env)
        assert [h.name for h in hosts] == ["box"] and current == "box"

    def test_store_is_read(self, env):
        docker = Path(env["DOCKER_CONFIG"])
        tls_dir = make_context(docker, "remote", "tcp://10.1.2.3", description="far away", tls=("ca", "cert", "key"))
        make_context(docker, "box", "ssh://me@box")
        make_context(docker, "insecure", "tcp://10.9.9.9:2376", skip_verify=True)
        hosts, current = load_docker_contexts({**env, "DOCKER_CONTEXT": "default"})
        assert [h.name for h in hosts] == ["default", "box", "insecure", "remote"]
        _, box, insecure, remote = hosts
        assert box.url == "ssh://me@box" and box.source == "context:box" and box.tls is None
        assert remote.url == "tcp://10.1.2.3:2376" and remote.description == "far away"
        assert remote.tls == TLSConfig(ca=str(tls_dir / "ca.pem"), cert=str(tls_dir / "cert.pem"),
                                       key=str(tls_dir / "key.pem"), verify=True)
        assert insecure.tls == TLSConfig(verify=False)
        assert current == "default"

    def test_malformed_meta_is_skipped_with_warning(self, env):
        docker = Path(env["DOCKER_CONFIG"])
        make_context(docker, "good", "unix:///good.sock")
        bad = docker / "contexts" / "meta" / "abc"
        bad.mkdir()
        (bad / "meta.json").write_text("{not json")
        noep = docker / "contexts" / "meta" / "def"
        noep.mkdir()
        (noep / "meta.json").write_text(json.dumps({"Name": "k8s", "Endpoints": {}}))
        warnings: list[str] = []
        hosts, _ = load_docker_contexts(env, warnings=warnings)
        assert [h.name for h in hosts] == ["good"]
        assert any("malformed meta.json" in w and "skipped" in w for w in warnings), warnings
        assert any("'k8s' has no docker endpoint" in w for w in warnings), warnings

    def test_precedence(self, env):
        docker = Path(env["DOCKER_CONFIG"])
        for name in ("ctx-env", "ctx-file"):
            make_context(docker, name, f"unix:///{name}.sock")
        (docker / "config.json").write_text(json.dumps({"currentContext": "ctx-file"}))
        assert load_docker_contexts(env)[1] == "ctx-file"
        assert load_docker_contexts({**env, "DOCKER_CONTEXT": "ctx-env"})[1] == "ctx-env"
        hosts, current = load_docker_contexts({**env, "DOCKER_CONTEXT": "ctx-env", "DOCKER_HOST": "tcp://h:1"})
        assert current == "default"
        assert hosts[0] == HostConfig(name="default", url="tcp://h:1", source="DOCKER_HOST", description="DOCKER_HOST")

    def test_unknown_current_context_warns(self, env):
        warnings: list[str] = []
        _, current = load_docker_contexts({**env, "DOCKER_CONTEXT": "ghost"}, warnings=warnings)
        assert current is None and any("'ghost' does not exist" in w for w in warnings)

    def test_docker_host_tls(self, env, tmp_path):
        certs = tmp_path / "certs"
        certs.mkdir()
        for part in ("ca", "cert", "key"):
            (certs / f"{part}.pem").write_text("pem")
        hosts, _ = load_docker_contexts({**env, "DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "1",
                                         "DOCKER_CERT_PATH": str(certs)})
        assert hosts[0].url == "tcp://h:2376"
        assert hosts[0].tls == TLSConfig(ca=f"{certs}/ca.pem", cert=f"{certs}/cert.pem", key=f"{certs}/key.pem")
        # no DOCKER_CERT_PATH: ~/.docker (here DOCKER_CONFIG) holds the files
        for part in ("ca", "cert", "key"):
            (Path(env["DOCKER_CONFIG"]) / f"{part}.pem").write_text("pem")
        hosts, _ = load_docker_contexts({**env, "DOCKER_HOST": "tcp://h", "DOCKER_TLS_VERIFY": "1"})
        assert hosts[0].tls.ca == f"{env['DOCKER_CONFIG']}/ca.pem"
        hosts, _ = load_docker_contexts({**env, "DOCKER_HOST": "tcp://h:2375"})
        assert hosts[0].tls is None

    def test_zero_config(self, env):
        make_context(Path(env["DOCKER_CONFIG"]), "box", "ssh://box")
        config = load_config(None, {**env, "DOCKER_CONTEXT": "box"})
        assert config.path is None and config.current_context == "box"
        assert [h.source for h in config.hosts] == ["context:box"]

    def test_import_contexts_merge(self, tmp_path, env):
        docker = Path(env["DOCKER_CONFIG"])
        make_context(docker, "box", "ssh://box")
        make_context(docker, "mine", "ssh://other")
        path = write(tmp_path, """
            import_contexts = true
            connect_timeout = 7
            [[hosts]]
            name = "mine"
            url = "unix:///mine.sock"
        """)
        config = load_config(path, {**env, "DOCKER_CONTEXT": "default"})
        assert [(h.name, h.source) for h in config.hosts] == [
            ("mine", "config"), ("default", "default"), ("box", "context:box")]
        assert config.hosts[2].connect_timeout == 7.0
        assert config.current_context == "default"
        assert any("'mine' skipped" in w for w in config.warnings)

    def test_real_docker_cli_layout(self, env):
        run_env = {**os.environ, "DOCKER_CONFIG": env["DOCKER_CONFIG"], "HOME": env["HOME"]}
        run_env.pop("DOCKER_HOST", None)
        run_env.pop("DOCKER_CONTEXT", None)
        for args in (["context", "create", "lab1", "--description", "from the CLI",
                      "--docker", "host=tcp://127.0.0.1:1"],
                     ["context", "create", "sshbox", "--docker", "host=ssh://me@box"],
                     ["context", "use", "sshbox"]):
            subprocess.run(["docker", *args], env=run_env, check=True, capture_output=True, timeout=30)
        hosts, current = load_docker_contexts(env)
        by_name = {h.name: h for h in hosts}
        assert by_name["lab1"].url == "tcp://127.0.0.1:1" and by_name["lab1"].description == "from the CLI"
        assert by_name["sshbox"].url == "ssh://me@box"
        assert current == "sshbox"


# --- shipped files --------------------------------------------------------------------------------


def test_example_config_loads(env):
    config = load_config(str(ROOT / "config" / "dockyard.example.toml"), env, check_files=False)
    kinds = {h.transport_name for h in config.hosts}
    assert {"unix", "tls", "ssh", "ssh+jump"} <= kinds
    assert any(not h.enabled for h in config.hosts)
    assert {r.name for r in config.registries} == {"company", "ghcr", "lab"}


def test_example_documents_every_option():
    from dockyard.config.schema import CONFIG_SCHEMA

    text = (ROOT / "config" / "dockyard.example.toml").read_text()

    def keys(schema):
        for key, sub in schema.get("properties", {}).items():
            yield key
            yield from keys(sub)
            yield from keys(sub.get("items", {}))

    missing = [k for k in keys(CONFIG_SCHEMA) if k not in text]
    assert not missing


def test_every_schema_property_has_a_description():
    from dockyard.config.schema import CONFIG_SCHEMA

    def walk(schema, path):
        for key, sub in schema.get("properties", {}).items():
            assert sub.get("description"), f"{path}.{key}"
            walk(sub, f"{path}.{key}")
            walk(sub.get("items", {}), f"{path}.{key}[]")

    walk(CONFIG_SCHEMA, "")


def test_schema_file_is_up_to_date():
    committed = (ROOT / "config" / "dockyard.schema.json").read_text()
    assert committed == schema_json(), "regenerate: python -m dockyard.config.schema > config/dockyard.schema.json"
    out = subprocess.run([sys.executable, "-m", "dockyard.config.schema"], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=SOURCE_ENV)
    assert out.stdout == committed and out.stderr == ""


def test_config_layer_is_stdlib_only():
    code = ("import sys, dockyard.config; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'aiodocker', 'asyncssh', 'aiohttp')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=SOURCE_ENV)
    assert out.stdout.strip() == "[]"

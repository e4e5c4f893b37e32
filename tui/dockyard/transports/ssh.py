"""SSH transport: one persistent SSH connection per host, one channel per HTTP connection.

Every HTTP connection aiohttp opens becomes a direct-streamlocal channel to the daemon's
unix socket on the far side, over a single asyncssh connection (measured: +0.3 ms per
request over a direct socket; no docker CLI or local ssh binary needed). Jump hosts are
connected hop by hop so each hop gets our known_hosts and options, which asyncssh's
string `tunnel=` form would not apply.

Host keys are strict: an unknown key raises `HostKeyUnknown` (with the SHA256
fingerprint) that a user may accept once or save; a changed key raises `HostKeyChanged`
and is never accepted. Which known_hosts files count is what ssh_config says for the hop
(UserKnownHostsFile, GlobalKnownHostsFile, HostKeyAlias, StrictHostKeyChecking), unless the
host's own `known_hosts` names one file: Dockyard is never weaker than the user's `ssh`.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import shlex
import socket
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import aiohttp
from cryptography.utils import CryptographyDeprecationWarning

# asyncssh names cryptography's DSA classes at import, which current cryptography releases deprecate:
# ten lines of warnings before the output of every command that touches an SSH host, nothing a user
# can act on. Only that category, only from asyncssh's own modules; appended after any -W or
# PYTHONWARNINGS filter, so whoever asks for it (`-W default`, `-W error::…`) still gets it.
warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|\Z)", append=True)
import asyncssh  # noqa: E402 - after the filter above
from aiohttp.client_proto import ResponseHandler
from aiohttp.helpers import ceil_timeout

from dockyard.config.model import HostConfig
from dockyard.transports.base import Transport
from dockyard.transports.links import Links
from dockyard.transports.errors import (
    AuthFailed,
    HostKeyChanged,
    HostKeyProblem,
    HostKeyRefused,
    HostKeyUnknown,
    InWords,
    TransportError,
    Unreachable,
)

from dockyard.transports.hostkeys import HostKeyTrust, PassphrasePrompt, known_hosts_pattern  # noqa: F401

# A frozen or vanished link is noticed within interval * (count_max + 1) ≈ 3 s.
KEEPALIVE_INTERVAL = 1.0
KEEPALIVE_COUNT_MAX = 2
# Ciphers, in order of preference, unless ssh_config's `Ciphers` says otherwise: AES-GCM first.
# asyncssh's chacha20-poly1305 makes several Python-level cipher objects per packet (measured 42 µs
# a packet against 4 µs for aes128-gcm, one C call): behind a jump host every packet is encrypted
# twice in this process, and 200 hosts' handshakes and listings spent a quarter of their CPU there.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
           "aes256-ctr", "aes192-ctr", "aes128-ctr")

# OpenSSH's defaults (ssh_config(5)) when the config names no file.
DEFAULT_USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
DEFAULT_GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


def default_known_hosts(host: HostConfig) -> str:
    """Where an accepted key of this host's target is saved: its `known_hosts`, else ssh_config's first file."""
    if host.known_hosts:
        return os.path.expanduser(host.known_hosts)
    try:
        user, _ = known_hosts_files(host, ssh_config_options(_ssh_config_paths(host), target_hop(host)))
    except Unreachable:
        user = [os.path.expanduser(DEFAULT_USER_KNOWN_HOSTS[0])]
    return user[0] if user else os.path.expanduser(DEFAULT_USER_KNOWN_HOSTS[0])


def _expand_tokens(path: str, options: dict[str, object]) -> str:
    """~ and the ssh_config tokens that make sense in a known_hosts path (%d %u %h %n %p %r %%)."""
    tokens = {"d": os.path.expanduser("~"), "u": getpass.getuser(), "h": str(options.get("Hostname", "")),
              "p": str(options.get("Port", 22)), "r": str(options.get("User", getpass.getuser())),
              "%": "%"}
    path = re.sub(r"%(.)", lambda m: tokens.get(m.group(1), m.group(0)), path)
    return os.path.expanduser(path)


def known_hosts_files(host: HostConfig, options: dict[str, object]) -> tuple[list[str], list[str]]:
    """(user files, global files) to check a hop's key against, first user file receives saved keys.

    The host's `known_hosts` in Dockyard's config names the only file; otherwise ssh_config's
    UserKnownHostsFile and GlobalKnownHostsFile, with OpenSSH's defaults (`none` means no file).
    """
    if host.known_hosts:
        return [os.path.expanduser(host.known_hosts)], []
    user = options.get("UserKnownHostsFile", DEFAULT_USER_KNOWN_HOSTS)
    global_ = options.get("GlobalKnownHostsFile", DEFAULT_GLOBAL_KNOWN_HOSTS)
    return ([_expand_tokens(str(p), options) for p in user],  # type: ignore[union-attr]
            [_expand_tokens(str(p), options) for p in global_])  # type: ignore[union-attr]


def _stat_identity(path: str) -> tuple[int, int, int, int]:
    """What changes when a file is written or replaced (OSError: no such file, or unreadable)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _file_identity(path: str) -> tuple[int, int, int, int] | None:
    """A known_hosts file's `_stat_identity` (None: no such file)."""
    try:
        return _stat_identity(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise Unreachable(f"cannot read known_hosts {path}: {exc.strerror or exc}") from None


# Parsed known_hosts, by their files and those files' identities: hundreds of hosts connecting
# together read the same files, and parsing them once per hop and host was ~2 % of a 200-host
# fleet's connect CPU. A saved key changes the file, and with it the key of this cache.
_known_hosts_cache: dict[tuple, asyncssh.SSHKnownHosts] = {}


def _load_known_hosts(paths: list[str]) -> asyncssh.SSHKnownHosts:
    """Every listed file that exists, as one set of entries (parsed again only when a file changed)."""
    key = tuple((path, _file_identity(path)) for path in paths)
    known = _known_hosts_cache.get(key)
    if known is not None:
        return known
    known = asyncssh.SSHKnownHosts()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                known.load(fh.read())
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, ValueError) as exc:
            raise Unreachable(f"cannot read known_hosts {path}: {exc}") from None
    if len(_known_hosts_cache) > 64:  # old versions of the files: nobody asks for them again
        _known_hosts_cache.clear()
    _known_hosts_cache[key] = known
    return known


@dataclass(frozen=True)
class HostKeyPolicy:
    """How one hop's key is checked: against which files, under which name, how strictly."""

    known: asyncssh.SSHKnownHosts
    save_to: str | None  # first user known_hosts file
    alias: str | None = None  # HostKeyAlias: the name keys are looked up and saved under
    strict: bool = False  # StrictHostKeyChecking yes: an unknown key is refused, never offered


def host_key_policy(host: HostConfig, options: dict[str, object]) -> HostKeyPolicy:
    user, global_ = known_hosts_files(host, options)
    alias = options.get("HostKeyAlias")
    strict = str(options.get("StrictHostKeyChecking") or "").lower() in ("yes", "true")
    return HostKeyPolicy(_load_known_hosts(user + global_), user[0] if user else None,
                         str(alias) if alias else None, strict)


class _Client(asyncssh.SSHClient):
    """Records the key a server offered so a failed check can say unknown vs changed."""

    def __init__(self, hop: str, trust: HostKeyTrust, policy: HostKeyPolicy,
                 on_lost: Callable[[str], None] | None, outermost: bool = True):
        self.hop = hop
        self.outermost = outermost  # its own socket (not tunnelled through another hop)
        self.trust = trust
        self.known = policy.known
        self.policy = policy
        self.on_lost = on_lost
        self.problem: HostKeyProblem | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        # Called only when the key is NOT among known_hosts' trusted keys for this host.
        key_line = key.export_public_key("openssh").decode().split()[:2]
        key_line_s = " ".join(key_line)
        fingerprint = key.get_fingerprint("sha256")
        trusted = self.known.match(host, addr, port)[0]
        if trusted:
            self.problem = HostKeyChanged(self.hop, host, port, key.get_algorithm(), fingerprint)
            return False
        if self.trust.is_accepted(host, port, key_line_s):
            return True
        if self.policy.strict:
            self.problem = HostKeyRefused(self.hop, host, port, key.get_algorithm(), fingerprint)
            return False
        pattern = self.policy.alias or known_hosts_pattern(host, port)
        self.problem = HostKeyUnknown(self.hop, host, port, key.get_algorithm(), fingerprint, key_line_s,
                                      save_to=self.policy.save_to, pattern=pattern)
        return False

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        _no_cbc_countermeasure(conn)
        if self.outermost:  # once per socket: a shared jump hop is not wrapped again per host
            _ack_promptly(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.on_lost is not None:
            self.on_lost(f"SSH link to {self.hop} lost" + (f": {exc}" if exc else ""))


_EMPTY_IGNORE = (asyncssh.packet.String(b""),)


def _no_cbc_countermeasure(conn: asyncssh.SSHClientConnection) -> None:
    """Stop asyncssh from sending an empty MSG_IGNORE before every packet, unless the cipher is CBC.

    That ignore is RFC 4251 9.3.1's countermeasure against the CBC mode's predictable IVs; asyncssh
    sends it whatever the cipher, and so every message cost two packets (OpenSSH sends none). With
    AES-GCM, ChaCha20-Poly1305 or CTR there is no chained IV to protect. Behind a jump host the cost
    doubled twice: each of the inner packets is an outer channel message, itself preceded by its own
    ignore: one probe of a 200-host fleet was six encryptions and four socket writes, now two and one.
    Any other packet, and every packet of a CBC connection, goes out as asyncssh sends it."""
    send = conn.send_packet

    def send_packet(pkttype: int, *args: bytes, handler: object = None) -> None:
        if (pkttype == asyncssh.constants.MSG_IGNORE and args == _EMPTY_IGNORE
                and b"-cbc" not in getattr(conn, "_enc_alg_cs", b"-cbc")):  # unknown: keep it
            return
        send(pkttype, *args, handler=handler)

    conn.send_packet = send_packet  # type: ignore[method-assign]


# --------------------------------------------------------------------------- hops and ssh config


@dataclass(frozen=True)
class Hop:
    """One SSH endpoint as written: `[user@]host[:port]`, the host possibly an ssh-config alias."""

    spec: str
    host: str
    user: str | None = None
    port: int | None = None


_HOP_RE = re.compile(r"^(?:ssh://)?(?:(?P<user>[^@/]+)@)?(?P<host>\[[^\]]+\]|[^:/@]+)(?::(?P<port>\d+))?/?$")


def parse_hop(spec: str) -> Hop:
    m = _HOP_RE.match(spec.strip())
    if not m:
        raise Unreachable(f"cannot parse SSH destination {spec!r}")
    host = m.group("host").strip("[]")
    port = int(m.group("port")) if m.group("port") else None
    return Hop(spec.strip().removeprefix("ssh://").rstrip("/"), host, m.group("user"), port)


def target_hop(host: HostConfig) -> Hop:
    """The host's own SSH destination, from the endpoint parsed at config load."""
    e = host.endpoint
    if e.scheme != "ssh" or not e.address:
        raise Unreachable(f"cannot parse SSH destination {host.url!r}")
    return Hop(e.url.removeprefix("ssh://"), e.address, e.user, e.port)


def _ssh_config_paths(host: HostConfig) -> list[str]:
    path = os.path.expanduser(host.ssh_config or "~/.ssh/config")
    return [path] if os.path.exists(path) else []


class _ClientConfig(asyncssh.config.SSHClientConfig):
    """asyncssh's ssh_config parser, also reading StrictHostKeyChecking (which asyncssh ignores)."""

    _handlers = {**asyncssh.config.SSHClientConfig._handlers,  # noqa: SLF001
                 "stricthostkeychecking": ("StrictHostKeyChecking", asyncssh.config.SSHConfig._set_string)}


def ssh_config_options(paths: list[str], hop: Hop) -> dict[str, object]:
    """What ~/.ssh/config says for this destination (ProxyJump, ServerAliveInterval, …)."""
    if not paths:
        return {}
    try:
        cfg = _ClientConfig.load(
            None, paths, False, False, False, getpass.getuser(),
            hop.user if hop.user else (), hop.host, hop.port if hop.port else (),
        )
    except (OSError, asyncssh.ConfigParseError) as exc:
        raise Unreachable(f"cannot read ssh config: {exc}") from None
    return dict(cfg._options)  # noqa: SLF001 - read-only view of the resolved options


def jump_chain(host: HostConfig, target: Hop, paths: list[str]) -> list[Hop]:
    """Hops before the target: the config's `jump`, else the target's ProxyJump (recursively)."""
    if host.jump:
        return [parse_hop(s) for s in host.jump]
    chain: list[Hop] = []
    seen: set[str] = set()
    current = target
    while True:
        proxy = ssh_config_options(paths, current).get("ProxyJump")
        if not proxy or str(proxy).lower() == "none":
            break
        hops = [parse_hop(s) for s in str(proxy).split(",")]
        if hops[0].spec in seen or len(seen) > 8:
            raise Unreachable(f"ProxyJump loop at {hops[0].spec}")
        seen.add(hops[0].spec)
        chain = hops + chain
        current = hops[0]
    return chain


# --------------------------------------------------------------------------- keys


class KeyLoader:
    """Loads identity files once per run, decrypting with passphrase_command or a prompt.

    Decrypted keys stay in memory for reconnects; the passphrase itself is not kept.
    """

    def __init__(self, host: HostConfig, prompt: PassphrasePrompt | None):
        self.host = host
        self.prompt = prompt
        self._keys: list[asyncssh.SSHKey] | None = None

    async def keys(self) -> list[asyncssh.SSHKey] | None:
        if not self.host.identity_file:
            return None  # asyncssh defaults: agent + ~/.ssh/id_*
        if self._keys is None:
            keys = []
            for path in self.host.identity_file:
                keys.append(await self._load(os.path.expanduser(path)))
            self._keys = keys
        return self._keys

    async def _load(self, path: str) -> asyncssh.SSHKey:
        try:
            return _read_plain_key(path)
        except (OSError,) as exc:
            raise AuthFailed(f"cannot read identity file {path}: {exc.strerror or exc}") from None
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as exc:
            if "passphrase" not in str(exc).lower():
                raise AuthFailed(f"identity file {path} is not a usable key: {exc}") from None
        passphrase = await self._passphrase(path)
        if passphrase is None:
            raise AuthFailed(f"identity file {path} is encrypted and no passphrase is available "
                             "(use ssh-agent, passphrase_command, or run interactively)")
        try:
            return asyncssh.read_private_key(path, passphrase)
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError):
            raise AuthFailed(f"wrong passphrase for identity file {path}") from None

    async def _passphrase(self, path: str) -> str | None:
        if self.host.passphrase_command:
            proc = await asyncio.create_subprocess_shell(  # run by the shell, as documented
                self.host.passphrase_command,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                stdin=asyncio.subprocess.DEVNULL,
            )
            out, _ = await proc.communicate()
            if proc.returncode != 0:
                raise AuthFailed(f"passphrase_command exited with status {proc.returncode}")
            return out.decode().rstrip("\r\n")
        if self.prompt is not None:
            return await self.prompt(self.host.name, path)
        return None


# Identity files without a passphrase, parsed, by the file's identity: a fleet of hundreds of hosts
# sharing one key read and parsed it once per host (~4 % of a 200-host fleet's connect CPU). An
# encrypted key is not kept here: each host's KeyLoader keeps what it decrypted.
_plain_keys: dict[tuple[str, tuple[int, int, int, int]], asyncssh.SSHKey] = {}


def _read_plain_key(path: str) -> asyncssh.SSHKey:
    """`asyncssh.read_private_key(path)`, parsed once while the file stays the same."""
    key = (path, _stat_identity(path))  # OSError: the caller says the file cannot be read
    cached = _plain_keys.get(key)
    if cached is None:
        cached = asyncssh.read_private_key(path)
        if len(_plain_keys) > 64:
            _plain_keys.clear()
        _plain_keys[key] = cached
    return cached


# --------------------------------------------------------------------------- aiohttp over channels


class _ChannelSession(asyncssh.SSHUNIXSession):
    """Feeds an SSH channel's bytes to aiohttp's ResponseHandler (or the liveness probe's stream);
    the channel acts as its transport."""

    def __init__(self, proto: ResponseHandler):
        self.proto = proto

    def connection_made(self, chan: asyncssh.SSHUNIXChannel) -> None:
        self.proto.connection_made(chan)  # type: ignore[arg-type]

    def data_received(self, data: bytes, datatype: object) -> None:
        self.proto.data_received(data)

    def eof_received(self) -> bool:
        self.proto.eof_received()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        # asyncssh's ConnectionLost is no OSError: aiohttp would hand it up raw to every caller
        if exc is not None and not isinstance(exc, OSError):
            exc = ConnectionResetError(f"SSH connection lost: {exc}")
        self.proto.connection_lost(exc)

    def pause_writing(self) -> None:
        self.proto.pause_writing()

    def resume_writing(self) -> None:
        self.proto.resume_writing()


class SSHChannelConnector(aiohttp.BaseConnector):
    """aiohttp connector whose connections are channels to a remote unix socket."""

    def __init__(self, conn: asyncssh.SSHClientConnection, socket_path: str, where: str = "the SSH host", **kwargs):
        super().__init__(**kwargs)
        self._conn = conn
        self._socket_path = socket_path
        self._where = where  # the SSH destination as configured (user@host:port), for messages
        self._open_failed: str | None = None  # why channels to the socket fail, found out once

    async def _create_connection(self, req, traces, timeout):  # type: ignore[override]
        """A new channel to the socket, closed by itself if nobody waits for it any more.

        Cancelling asyncssh's open (a cancelled request, or sock_connect's timeout) does not stop
        the server's confirmation: the channel then opens with no owner and stays open until the
        SSH connection ends (measured: 59 of 60 log streams cancelled while opening left their
        channels open). So the open runs shielded, and a caller that gives up on it leaves a
        callback that closes the channel the moment it opens.
        """
        opening = asyncio.ensure_future(self._conn.create_unix_connection(
            lambda: _ChannelSession(self._factory()), self._socket_path, encoding=None))
        handed_over = False
        try:
            async with ceil_timeout(timeout.sock_connect, ceil_threshold=timeout.ceil_threshold):
                _, session = await asyncio.shield(opening)
            handed_over = True
        except asyncssh.ChannelOpenError as exc:
            if self._open_failed is None:
                self._open_failed = await self._why_open_failed(exc)
            raise aiohttp.ClientConnectorError(req.connection_key, InWords(self._open_failed)) from None
        except (asyncio.TimeoutError, TimeoutError):  # sock_connect's bound
            within = f" within {timeout.sock_connect:g}s" if timeout.sock_connect else ""
            raise aiohttp.ClientConnectorError(req.connection_key, InWords(
                f"the Docker socket {self._socket_path} on {self._where} did not accept a connection over SSH"
                f"{within} (is the SSH link or dockerd there stuck?)")) from None
        except (asyncssh.Error, OSError) as exc:
            detail = exc.reason if isinstance(exc, asyncssh.Error) else (exc.strerror or str(exc))
            raise aiohttp.ClientConnectorError(req.connection_key, InWords(
                f"cannot reach the Docker socket {self._socket_path} on {self._where} over SSH: {detail}")) from None
        finally:
            if not handed_over:  # cancelled, timed out or failed: nobody will use this channel
                opening.add_done_callback(_close_unwanted_channel)
        return session.proto


    async def _why_open_failed(self, exc: asyncssh.ChannelOpenError) -> str:
        """Why sshd would not open a channel to the socket, in words. OpenSSH says only "open failed"
        (code 2) whether the socket is missing, refuses us, or forwarding to unix sockets is off; one
        `test -S` on the host (once per connection, only after a failure) tells the first apart."""
        path, where = self._socket_path, self._where
        try:
            probe = await asyncio.wait_for(self._conn.run(f"test -S {shlex.quote(path)}", check=False), 5)
            exists = {0: True, 1: False}.get(probe.exit_status)  # anything else: a shell we can't read
        except (asyncssh.Error, OSError, asyncio.TimeoutError):  # no shell for this key (ForceCommand, restrict)
            exists = None
        if exists is False:
            return (f"no Docker socket at {path} on {where} (over SSH): check the host's `socket` setting "
                    "(where dockerd listens on that machine, e.g. `docker context inspect` there) and that "
                    "dockerd runs")
        if exists:
            return (f"the Docker socket {path} on {where} exists, but sshd would not open it (over SSH, "
                    f"said: {exc.reason}): check that dockerd runs, that the SSH user may use the socket "
                    "(the docker group), and that sshd allows forwarding to unix sockets "
                    "(AllowStreamLocalForwarding yes, no `restrict` or `no-port-forwarding` on the key)")
        return (f"cannot open the Docker socket {path} on {where} over SSH (sshd said: {exc.reason}): check "
                "the host's `socket` setting, that dockerd runs, that the SSH user may use the socket "
                "(the docker group), and that sshd allows forwarding to unix sockets (AllowStreamLocalForwarding)")


def _close_unwanted_channel(opening: asyncio.Future) -> None:
    """Close a channel whose open finished after its caller gave up (a failed open needs nothing)."""
    if not opening.cancelled() and opening.exception() is None:
        chan, _ = opening.result()
        chan.close()


def _ack_promptly(conn: asyncssh.SSHClientConnection) -> None:
    """Keep the SSH socket in TCP quick-ACK mode (the outermost hop's: the one with a socket).

    sshd sends channel data with Nagle on; a reply larger than one SSH packet (~32 KB)
    leaves its tail waiting for our ACK, which Linux delays up to 40 ms (measured: a
    37 KB `containers/json` took 47 ms over SSH, 3.7 ms direct). Re-arming TCP_QUICKACK
    after each read makes the kernel ACK at once. Applied once, as the connection is made: every
    host connecting through a shared jump hop used to wrap its reads again (200 hosts: 200
    nested calls and setsockopts per read; each reconnect one more, towards a RecursionError).
    """
    sock = conn.get_extra_info("socket")
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if sock is None or quickack is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # (a ProxyCommand's socket pair has no TCP to tune)
    received = conn.data_received

    def data_received(data: bytes, datatype: object = None) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
        except OSError:
            pass
        received(data, datatype)

    conn.data_received = data_received  # type: ignore[method-assign]


class ProxyCommand:
    """A hop's ssh_config ProxyCommand, run as OpenSSH runs it (`sh -c "exec CMD"`) on a socketpair.

    Not asyncssh's own ProxyCommand support: that lets the command's stderr (`ssh -W`'s complaints)
    through to the terminal the TUI draws on. Here it is kept, and its last line explains a failure.
    """

    def __init__(self, command: str):
        self.command = command
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", f"exec {self.command}", stdin=theirs, stdout=theirs,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            ours.close()
            raise Unreachable(f"ProxyCommand {self.command!r}: {exc.strerror or exc}") from None
        finally:
            theirs.close()
        self._reader = asyncio.create_task(self._read_stderr())
        return ours

    async def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                self.lines = [*self.lines[-4:], line]

    def said(self) -> str:
        return self.lines[-1] if self.lines else ""

    async def stop(self) -> None:
        """End the command (it normally ends by itself once the connection closes) and read what it said."""
        if self.proc is not None and self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 0.5)
            except asyncio.TimeoutError:
                self.proc.terminate()
                try:
                    await asyncio.wait_for(self.proc.wait(), 2)
                except asyncio.TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, 1)
            except (asyncio.TimeoutError, OSError, ValueError):
                self._reader.cancel()


class SSHTransport(Transport):
    """The target's own connection, over the jump hops it shares with other hosts (`Links`)."""

    kind = "ssh"

    def __init__(self, conns: list[asyncssh.SSHClientConnection], socket_path: str,
                 proxies: list[ProxyCommand] | None = None, links: Links | None = None,
                 jumps: list[tuple[Hashable, asyncssh.SSHClientConnection, str]] | None = None,
                 where: str = "the SSH host"):
        self.jumps = jumps or []  # (pool key, connection, hop spec) of shared jump hops, outermost first
        self.own = conns  # this host's own connection(s): the target
        self.conns = [conn for _, conn, _ in self.jumps] + conns  # every hop, outermost first, target last
        self.proxies = proxies or []  # the first hop's ProxyCommand, if that hop is this host's own
        self.links = links
        super().__init__("http://docker", SSHChannelConnector(conns[-1], socket_path, where, limit=0))

    def jump_lost(self, reason: str) -> None:
        self._lost(reason)

    async def open_stream(self, factory: Callable[[], asyncio.Protocol]) -> asyncio.Protocol | None:
        """One more channel to the Docker socket (no descriptor: it rides the SSH connection);
        closed by itself if the caller gave up while it opened, as the connector's channels."""
        connector = self.connector
        assert isinstance(connector, SSHChannelConnector)
        opening = asyncio.ensure_future(connector._conn.create_unix_connection(
            lambda: _ChannelSession(factory()), connector._socket_path, encoding=None))
        try:
            _, session = await asyncio.shield(opening)
        except BaseException:
            opening.add_done_callback(_close_unwanted_channel)
            raise
        return session.proto

    def target_lost(self, reason: str) -> None:
        """The target's link died; when a jump hop under it died too, that is the one reason to give
        (every host behind the hop then says the same). Decided a moment later: the hop's own
        news may come just after its tunnels'."""
        def decide() -> None:
            for _, conn, spec in self.jumps:
                if conn.is_closed():
                    self._lost(f"SSH link to jump host {spec} lost")
                    return
            self._lost(reason)
        asyncio.get_running_loop().call_later(0.05, decide)

    async def close(self) -> None:
        await super().close()
        for conn in reversed(self.own):
            conn.close()
        for conn in reversed(self.own):
            try:
                await asyncio.wait_for(conn.wait_closed(), 2)
            except (asyncio.TimeoutError, asyncssh.Error, OSError):
                pass
        for proxy in self.proxies:
            await proxy.stop()
        if self.links is not None:
            for key, conn, _ in reversed(self.jumps):
                self.links.release_hop(key, conn, self.jump_lost)


def _hop_key(host: HostConfig, chain: list[Hop]) -> Hashable:
    """What makes two hosts' jump hop the same connection: the chain up to it, and how we log in."""
    return (tuple(h.spec for h in chain), host.identity_file, host.known_hosts, host.ssh_config,
            host.passphrase_command)


async def open_ssh(host: HostConfig, trust: HostKeyTrust, keys: KeyLoader, links: Links | None = None) -> SSHTransport:
    """Connect every hop in turn, then the target; jump hops are shared through `links` (one
    connection per distinct hop for the whole fleet), the target connection is this host's."""
    links = links or Links()
    paths = _ssh_config_paths(host)
    target = target_hop(host)
    hops = jump_chain(host, target, paths) + [target]
    client_keys = await keys.keys()
    jumps: list[tuple[Hashable, asyncssh.SSHClientConnection, str]] = []
    conns: list[asyncssh.SSHClientConnection] = []
    proxies: list[ProxyCommand] = []
    transport: SSHTransport | None = None
    pending_lost: list[str] = []

    def target_lost(reason: str) -> None:
        if transport is not None:
            transport.target_lost(reason)
        else:
            pending_lost.append(reason)

    def jump_lost(reason: str) -> None:
        if transport is not None:
            transport.jump_lost(reason)
        else:
            pending_lost.append(reason)

    try:
        for i, hop in enumerate(hops[:-1]):
            key = _hop_key(host, hops[:i + 1])
            tunnel = jumps[-1][1] if jumps else None
            conn = await links.acquire_hop(
                key, lambda hop=hop, key=key, tunnel=tunnel: _open_shared_hop(
                    host, hop, key, tunnel, trust, paths, client_keys, links),
                jump_lost)
            jumps.append((key, conn, hop.spec))
        conn, proxy = await _connect_hop(host, target, jumps[-1][1] if jumps else None, trust, paths,
                                         client_keys, target_lost,
                                         0.0 if links.ssh_probed else links.ssh_keepalive)
        conns.append(conn)
        proxies += [proxy] if proxy else []
        transport = SSHTransport(conns, host.socket, proxies, links, jumps, where=target.spec)
        for reason in pending_lost:  # lost while the rest connected
            transport._lost(reason)
        return transport
    except BaseException:
        for conn in reversed(conns):
            conn.close()
        for proxy in proxies:
            await proxy.stop()
        for key, conn, _ in reversed(jumps):
            links.release_hop(key, conn, jump_lost)
        raise


async def _open_shared_hop(host, hop, key, tunnel, trust, paths, client_keys, links: Links):
    """Open a jump hop for the pool: (connection, close). Its loss is told to every host using it."""
    opened: list[asyncssh.SSHClientConnection] = []

    def lost(reason: str) -> None:
        if opened:
            links.hop_lost(key, opened[0], f"SSH link to jump host {hop.spec} lost")

    conn, proxy = await _connect_hop(host, hop, tunnel, trust, paths, client_keys, lost, links.ssh_keepalive)
    opened.append(conn)
    if conn.is_closed():  # lost before we could listen
        lost("closed")

    async def close() -> None:
        conn.close()
        try:
            await asyncio.wait_for(conn.wait_closed(), 2)
        except (asyncio.TimeoutError, asyncssh.Error, OSError):
            pass
        if proxy is not None:
            await proxy.stop()

    return conn, close


def _connect_words(hop: Hop, exc: OSError) -> str:
    """A failed TCP connect to an SSH server, in words (asyncio's own: "Connect call failed ('127.0.0.1', 22)")."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {hop.host!r} ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused: no SSH server listens on port {hop.port or 22} there"
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def hop_connect_timeout(host: HostConfig, options: dict[str, object]) -> float:
    """ssh_config's ConnectTimeout for this hop when it sets one, else the host's connect_timeout."""
    value = options.get("ConnectTimeout")
    return float(value) if isinstance(value, int) and value > 0 else host.connect_timeout


def connect_budget(host: HostConfig) -> float:
    """How long connecting every hop may take in all (the session's outer bound on an attempt)."""
    paths = _ssh_config_paths(host)
    try:
        target = target_hop(host)
        hops = jump_chain(host, target, paths) + [target]
        total = sum(hop_connect_timeout(host, ssh_config_options(paths, hop)) for hop in hops) + 1
    except Unreachable:
        return host.connect_timeout
    return max(host.connect_timeout, total)


async def _connect_hop(host, hop, tunnel, trust, paths, client_keys, on_lost, keepalive: float = KEEPALIVE_INTERVAL):
    """One hop's connection, and the ProxyCommand carrying it (the first hop's, when ssh_config has one)."""
    options = ssh_config_options(paths, hop)
    command = options.get("ProxyCommand") if tunnel is None else None
    proxy = ProxyCommand(str(command)) if command else None
    sock = await proxy.start() if proxy else None
    try:
        return await _connect_one(host, hop, tunnel, trust, paths, client_keys, on_lost, options, sock,
                                  keepalive), proxy
    except Unreachable as exc:
        if proxy is None:
            raise
        await proxy.stop()
        said = proxy.said()
        raise Unreachable(f"{exc} (ProxyCommand said: {said})" if said else str(exc)) from None
    except BaseException:
        if proxy is not None:
            await proxy.stop()
        raise


async def _connect_one(host, hop, tunnel, trust, paths, client_keys, on_lost, options, sock,
                       keepalive: float = KEEPALIVE_INTERVAL):
    clients: list[_Client] = []
    policy = host_key_policy(host, options)
    timeout = hop_connect_timeout(host, options)

    def factory() -> _Client:
        client = _Client(hop.spec, trust, policy, on_lost, outermost=tunnel is None)
        clients.append(client)
        return client

    kwargs: dict[str, object] = dict(
        tunnel=tunnel, known_hosts=policy.known, client_factory=factory,
        config=paths, connect_timeout=timeout,
    )
    if "ServerAliveInterval" not in options:
        kwargs.update(keepalive_interval=keepalive, keepalive_count_max=KEEPALIVE_COUNT_MAX)
    if "Ciphers" not in options:
        kwargs["encryption_algs"] = CIPHERS
    if hop.user:
        kwargs["username"] = hop.user
    if hop.port:
        kwargs["port"] = hop.port
    if sock is not None:
        kwargs["sock"] = sock
    if client_keys is not None:
        kwargs["client_keys"] = client_keys
    try:
        return await asyncio.wait_for(asyncssh.connect(hop.host, **kwargs), timeout + 1)
    except asyncssh.HostKeyNotVerifiable as exc:
        problem = clients[-1].problem if clients else None
        if problem is not None:
            raise problem from None
        if "revoked" in str(exc):
            raise HostKeyChanged(hop.spec, hop.host, hop.port or 22, "revoked", "(revoked key)") from None
        raise Unreachable(f"{hop.spec}: {exc}") from None
    except asyncssh.PermissionDenied as exc:
        raise AuthFailed(f"{hop.spec}: permission denied ({exc.reason})") from None
    except (asyncio.TimeoutError, TimeoutError):
        raise Unreachable(f"{hop.spec}: SSH connect timed out after {timeout:g}s") from None
    except asyncssh.DisconnectError as exc:
        raise Unreachable(f"{hop.spec}: {exc.reason}") from None
    except asyncssh.ChannelOpenError as exc:
        raise Unreachable(f"{hop.spec}: jump host could not open a tunnel: {exc.reason}") from None
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
        raise AuthFailed(f"{hop.spec}: {exc}") from None
    except OSError as exc:
        raise Unreachable(f"{hop.spec}: {_connect_words(hop, exc)}") from None
    except TransportError:
        raise
    except asyncssh.Error as exc:
        raise Unreachable(f"{hop.spec}: {exc}") from None

"""The validated configuration as plain, immutable data.

Everything above `dockyard.config` reads these dataclasses only; nothing here knows TOML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.config.urls import Endpoint, endpoint_of

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class TLSConfig:
    """Client TLS for a `tcp://` host: CA to verify the daemon, cert/key to prove who we are."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class HostConfig:
    """One Docker daemon of the fleet.

    `url` is normalised: `unix:///abs/path`, `tcp://host:port`, or `ssh://[user@]host[:port]`
    (host may be an `~/.ssh/config` alias, resolved by the SSH transport). `endpoint` is that url
    parsed (config/urls.py): the loaders pass the one they parsed; made in code, it is parsed here.
    """

    name: str
    url: str
    tls: TLSConfig | None = None
    # SSH only
    identity_file: tuple[str, ...] = ()
    known_hosts: str | None = None  # None: ssh_config's UserKnownHostsFile + GlobalKnownHostsFile
    jump: tuple[str, ...] = ()  # hops "[user@]host[:port]" or ssh-config aliases, outermost first
    socket: str = DEFAULT_REMOTE_SOCKET  # the daemon's socket on the SSH host
    passphrase_command: str | None = None  # prints the key passphrase on stdout
    ssh_config: str | None = None  # None: ~/.ssh/config
    # all transports
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    labels: dict[str, str] = field(default_factory=dict)
    readonly: bool = False
    swarm: str | None = None  # the name its swarm goes by (default: the swarm's first manager host)
    enabled: bool = True
    source: str = "config"  # "config", "context:NAME", "DOCKER_HOST", "default"
    description: str | None = None  # free text shown in the Hosts view (contexts: Metadata.Description)
    endpoint: Endpoint = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.endpoint is None or self.endpoint.url != self.url:  # made in code, or dataclasses.replace(url=)
            object.__setattr__(self, "endpoint", endpoint_of(self.url, self.tls is not None))

    @property
    def scheme(self) -> str:
        """'unix', 'tcp' or 'ssh'."""
        return self.endpoint.scheme

    @property
    def transport_name(self) -> str:
        """What the Hosts table shows: unix, tcp, tls, ssh or ssh+jump."""
        if self.scheme == "tcp":
            return "tls" if self.tls is not None else "tcp"
        if self.scheme == "ssh" and self.jump:
            return "ssh+jump"
        return self.scheme


@dataclass(frozen=True)
class RegistryTLS:
    ca: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class RegistryConfig:
    """A v2/OCI registry. The password itself is never stored here, only where to get it."""

    name: str
    url: str
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None
    credentials: str | None = None  # "docker": use the Docker credential store
    tls: RegistryTLS | None = None
    insecure: bool = False


CONFIRM_DEFAULTS = {"stop": True, "restart": True, "start": False, "pause": False}


@dataclass(frozen=True)
class UIConfig:
    theme: str | None = None
    log_tail: int = 500
    log_buffer: int = 20000
    refresh_hz: float = 2.0
    shells: dict[str, str] = field(default_factory=dict)  # "host:NAME" / "image:REPO[:TAG]" -> command
    # single-container actions that ask first (several at once, kill and remove always ask)
    confirm: dict[str, bool] = field(default_factory=lambda: dict(CONFIRM_DEFAULTS))


@dataclass(frozen=True)
class RecreateConfig:
    """How `recreate` judges a replacement: running `grace` s, or healthy within `health_timeout` s."""

    grace: float = 10.0
    health_timeout: float = 120.0


@dataclass(frozen=True)
class ProblemsConfig:
    """Thresholds of the Problems view and `dockyard problems` ([problems])."""

    restart_loop_count: int = 3  # restarts within the window that make a restart loop
    restart_loop_window: float = 600.0  # seconds; also how long an OOM kill or a die is remembered
    service_degraded_after: float = 60.0  # seconds a swarm service may stay below its desired replicas
    reclaimable_gb: float = 20.0  # a daemon's reclaimable disk space (system df) from which it is a problem
    reclaimable_every: float = 3600.0  # seconds between two /system/df reads of a host (it is slow)


@dataclass(frozen=True)
class EventsConfig:
    """The fleet-wide event history ([events])."""

    keep: int = 5000  # events the TUI keeps (all hosts together)
    read_back: float = 3600.0  # seconds before launch whose events each daemon is asked for (0: none)


@dataclass(frozen=True)
class Config:
    """The whole configuration; `path` is None in zero-config mode (Docker contexts)."""

    path: str | None = None
    hosts: tuple[HostConfig, ...] = ()
    registries: tuple[RegistryConfig, ...] = ()
    readonly: bool = False
    import_contexts: bool = False
    docker_hub: bool = True  # list Docker Hub among the registries (false: air-gapped sites)
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, for the TUI
    ui: UIConfig = field(default_factory=UIConfig)
    recreate: RecreateConfig = field(default_factory=RecreateConfig)
    problems: ProblemsConfig = field(default_factory=ProblemsConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    warnings: tuple[str, ...] = ()
    ssh_handshakes: int = 16  # SSH hosts connecting at once (sshd's MaxStartups)
    current_context: str | None = None  # the Docker CLI's current context, when contexts were loaded
    freshness_cache_minutes: float = 15.0  # how long a registry's answer for a tag is trusted (fleet/freshness.py)

    def host(self, name: str) -> HostConfig:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

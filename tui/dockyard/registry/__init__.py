"""Registry HTTP API v2 / OCI distribution: client, credentials, the list of known registries.

Controller layer: aiohttp + stdlib, never Textual.

| who reads what            | from                                                              |
|---------------------------|-------------------------------------------------------------------|
| `RegistryClient`          | the registry's `/v2/` API, its token service                      |
| `CredentialSource`        | `password_env`, `password_command`, Docker `config.json` + helpers |
| `known_registries`        | `[[registries]]`, Docker `config.json` logins, Docker Hub default  |
| `Registries`              | those entries, a client each, credentials; `auth_for(image)` for pull/push |
"""

from dockyard.lazy import lazy_names

# Every name the package exports, and the module that holds it, imported on first use: the client
# and the registries list need aiohttp, and the terminal UI's first frame reads the errors only
# (standard library), not the models or the credentials.
__getattr__ = lazy_names(__name__, globals(), {
    **dict.fromkeys(("BadReference", "CatalogUnsupported", "CredentialError", "DeletionDisabled", "Denied",
                     "NotARegistry", "NotFound", "RateLimited", "ReadOnlyRegistry", "RegistryError",
                     "RegistryTimeout", "TLSFailure", "Unauthorized", "Unreachable"), "dockyard.registry.errors"),
    **dict.fromkeys(("Credentials", "CredentialSource", "Secret"), "dockyard.registry.credentials"),
    **dict.fromkeys(("Layer", "Manifest", "PingResult", "Platform", "Reference", "parse_reference"),
                    "dockyard.registry.models"),
    "RegistryClient": "dockyard.registry.client", "parse_challenges": "dockyard.registry.client",
    **dict.fromkeys(("DOCKER_HUB", "Registries", "RegistryEntry", "find_registry", "known_registries"),
                    "dockyard.registry.registries")})


__all__ = [
    "DOCKER_HUB", "BadReference", "CatalogUnsupported", "CredentialError", "CredentialSource", "Credentials",
    "DeletionDisabled", "Denied", "Layer", "Manifest", "NotARegistry", "NotFound", "PingResult", "Platform",
    "RateLimited", "ReadOnlyRegistry", "Reference", "Registries", "RegistryClient", "RegistryEntry", "RegistryError",
    "RegistryTimeout", "Secret", "TLSFailure", "Unauthorized", "Unreachable", "find_registry",
    "known_registries", "parse_challenges", "parse_reference",
]

"""`ConfigError`: every problem of a config file at once, so the user fixes them in one go."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used. `messages` holds one human line per problem."""

    def __init__(self, messages: list[str] | str):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))

    def __str__(self) -> str:
        return "\n".join(self.messages)

"""qnet's exceptions: every user-facing error names where, which field, the value and what is allowed."""

from __future__ import annotations

__all__ = ["QnetError", "ConfigError", "NetworkError"]


class QnetError(ValueError):
    """Base class of qnet's user-facing errors (the CLI prints them as one line)."""


class ConfigError(QnetError):
    """A network file or a parameter value is invalid."""

    def __init__(self, where: str, field: str | None, value: object, allowed: str):
        self.where, self.field, self.value, self.allowed = where, field, value, allowed
        loc = f"{where}.{field}" if field else where
        if value is None:  # a missing field or table
            super().__init__(f"{loc}: {allowed}")
        else:
            super().__init__(f"{loc} = {value!r} is invalid: {allowed}")


class NetworkError(QnetError):
    """A request does not fit the network: unknown node, no link, no path."""

"""qnet's exceptions: every user-facing error names where, which field, the value and what is allowed."""

from __future__ import annotations

__all__ = ["QnetError", "ConfigError", "NetworkError"]


class QnetError(ValueError):
    """Base class of qnet's user-facing errors (the CLI prints them as one line, exit status 2).

    A subclass of :class:`ValueError`, so code that catches bad values keeps working.

    Examples
    --------
    >>> import qnet
    >>> try:
    ...     qnet.load_network("no-such-file.toml")
    ... except qnet.QnetError as exc:
    ...     print(exc)
    network file 'no-such-file.toml' not found
    """


class ConfigError(QnetError):
    """A network file or a parameter value is invalid.

    Parameters
    ----------
    where : str
        The table that holds the value (``"nodes.alice"``, ``"fibres.alice-station"``, ...).
    field : str or None
        The field, or None for a whole table.
    value : object
        The offending value, or None for a missing field or table.
    allowed : str
        What is allowed, in words.

    Examples
    --------
    >>> print(ConfigError("nodes.alice", "t2_s", -1.0, "a number > 0 (or inf)"))
    nodes.alice.t2_s = -1.0 is invalid: a number > 0 (or inf)
    >>> print(ConfigError("nodes", None, None, "a network needs at least one [nodes.NAME] table"))
    nodes: a network needs at least one [nodes.NAME] table
    """

    def __init__(self, where: str, field: str | None, value: object, allowed: str):
        self.where, self.field, self.value, self.allowed = where, field, value, allowed
        loc = f"{where}.{field}" if field else where
        if value is None:  # a missing field or table
            super().__init__(f"{loc}: {allowed}")
        else:
            super().__init__(f"{loc} = {value!r} is invalid: {allowed}")


class NetworkError(QnetError):
    """A request does not fit the network: unknown node, no link, no path.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> try:
    ...     qnet.link_spec(graph, "alice", "carol")
    ... except NetworkError as exc:
    ...     print(type(exc).__name__)
    NetworkError
    """

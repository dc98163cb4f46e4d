"""Requests for entanglement: who wants pairs (or GHZ states), how fast, from when to when.

A requests file is TOML with one ``[[requests]]`` table per request (fields of :class:`Request`)::

    [[requests]]
    a = "campus"            # required: the two memory nodes that want pairs
    b = "airport"
    rate_hz = 2.0           # optional demand, pairs per second (omit: as fast as possible)
    min_fidelity = 0.8      # optional, the fidelity the user needs (default 0)
    start_s = 0.0           # optional active window [start_s, stop_s) on the simulation clock
    stop_s = 30.0
    priority = 1            # optional, higher is served first (default 0)
    # c = "harbour"         # optional third party: GHZ states of (a, b, c)

:func:`read_requests` reads a file, :func:`requests_from_table` checks a parsed table (the same
TOML parser as network files, :func:`qnet.network.tables.parse_toml`), :func:`check_requests`
checks the parties against a network. Every problem is one line naming the request and field
(``requests[3].rate_hz = -1.0 is invalid: ...``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from qnet.errors import ConfigError, NetworkError, QnetError

__all__ = ["Request", "REQUEST_FIELDS", "read_requests", "requests_from_table", "check_requests"]


def _real(key: str, value: object, allowed: str) -> float:
    """``value`` as a float; a non-number (a string, a bool, a date) is a ConfigError on ``key``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError("request", key, value, allowed)
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float (TOML integers are unbounded in tomllib)
        raise ConfigError("request", key, value, allowed) from None


@dataclass(frozen=True)
class Request:
    """One user request.

    Parameters
    ----------
    a, b : str
        The memory nodes that want pairs.
    c : str or None
        A third party: the request wants GHZ states of (a, b, c), fused at a node joined to all
        three by elementary links (an entanglement switch).
    rate_hz : float or None
        Demand (pairs per second; one demand every 1/rate_hz seconds from ``start_s``). None
        (default): as fast as possible.
    min_fidelity : float
        Fidelity the user needs; the result reports the fraction of deliveries at or above it.
    start_s, stop_s : float
        Active window [start_s, stop_s) on the simulation clock (s).
    priority : int
        Higher is served first when requests contend for a memory (default 0).

    Raises
    ------
    ConfigError
        A field out of range or of the wrong type, naming it (``request.rate_hz = ...``).

    Examples
    --------
    >>> from qnet.repeater.traffic.requests import Request
    >>> Request("alice", "bob", rate_hz=2.0).stop_s
    inf
    >>> Request("alice", "bob", rate_hz="fast")
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: request.rate_hz = 'fast' is invalid: a demand > 0 pairs per second (omit it: as fast as possible)
    """

    a: str
    b: str
    c: str | None = None
    rate_hz: float | None = None
    min_fidelity: float = 0.0
    start_s: float = 0.0
    stop_s: float = math.inf
    priority: int = 0

    def __post_init__(self) -> None:
        names = [n for n in (self.a, self.b, self.c) if n is not None]
        for key, n in zip("abc", names):
            if not isinstance(n, str) or not n:
                raise ConfigError("request", key, n, "a memory-node name")
        if len(set(names)) < len(names):
            raise ConfigError(
                "request", "b" if self.a == self.b else "c", names[-1], "a node different from the others"
            )
        if self.rate_hz is not None:
            allowed = "a demand > 0 pairs per second (omit it: as fast as possible)"
            r = _real("rate_hz", self.rate_hz, allowed)
            if not (r > 0.0 and math.isfinite(r)):
                raise ConfigError("request", "rate_hz", self.rate_hz, allowed)
            object.__setattr__(self, "rate_hz", r)
        f = _real("min_fidelity", self.min_fidelity, "a fidelity in [0, 1]")
        if not 0.0 <= f <= 1.0:
            raise ConfigError("request", "min_fidelity", self.min_fidelity, "a fidelity in [0, 1]")
        object.__setattr__(self, "min_fidelity", f)
        s = _real("start_s", self.start_s, "a time >= 0 in seconds")
        if not (s >= 0.0 and math.isfinite(s)):
            raise ConfigError("request", "start_s", self.start_s, "a time >= 0 in seconds")
        stop_allowed = f"a time > start_s = {s:g} s (inf: until the end)"
        e = _real("stop_s", self.stop_s, stop_allowed)
        if not e > s:
            raise ConfigError("request", "stop_s", self.stop_s, stop_allowed)
        object.__setattr__(self, "start_s", s)
        object.__setattr__(self, "stop_s", e)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ConfigError("request", "priority", self.priority, "an integer (higher is served first)")

    @property
    def parties(self) -> tuple[str, ...]:
        """(a, b) or (a, b, c)."""
        return (self.a, self.b) if self.c is None else (self.a, self.b, self.c)


#: Fields of a ``[[requests]]`` table (those of :class:`Request`); ``a`` and ``b`` are required.
REQUEST_FIELDS = ("a", "b", "c", "rate_hz", "min_fidelity", "start_s", "stop_s", "priority")


def read_requests(path: str | Path) -> tuple[Request, ...]:
    """Read a requests file (TOML, ``[[requests]]`` tables) into requests, in file order.

    Parameters
    ----------
    path : str or path-like
        The requests file.

    Returns
    -------
    tuple of Request

    Raises
    ------
    QnetError
        One line: the file is missing, a folder, unreadable, not UTF-8 or not valid TOML, or
        (:func:`requests_from_table`) names the request and field that is wrong.

    Examples
    --------
    >>> [r.parties for r in read_requests("examples/requests/metro.toml")][:2]
    [('campus', 'airport'), ('downtown', 'north')]
    >>> read_requests("no_such_requests.toml")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: requests file 'no_such_requests.toml' not found
    """
    from qnet.network.io import read_toml_file

    data, _raw = read_toml_file(path, "requests file")
    where = f"requests file {str(path)!r}"
    return requests_from_table(data, source=where)


def requests_from_table(table: Mapping[str, Any], source: str = "requests table") -> tuple[Request, ...]:
    """Check a parsed requests table ``{"requests": [{...}, ...]}`` and build its requests.

    Parameters
    ----------
    table : Mapping
        The parsed TOML (only the array ``requests`` of tables is allowed, with at least one).
    source : str
        What it is (``"requests file 'x.toml'"``), for the messages about the whole table.

    Returns
    -------
    tuple of Request
        In the table's order (a request's index in it is its index in results and traces).

    Raises
    ------
    QnetError
        One line: a :class:`~qnet.errors.ConfigError` naming ``requests[i].FIELD``, its value
        and what is allowed (an unknown field, a missing ``a`` or ``b``, a wrong type or a value
        out of range), or the table's own fault naming ``source`` (no ``[[requests]]``, another
        table).

    Examples
    --------
    >>> requests_from_table({"requests": [{"a": "x", "b": "y", "rate_hz": 2}]})[0].rate_hz
    2.0
    >>> requests_from_table({"requests": [{"a": "x", "b": "y"}, {"a": "x", "b": "z", "rate_hz": -1}]})
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: requests[1].rate_hz = -1 is invalid: a demand > 0 pairs per second (omit it: as fast as possible)
    """
    fix = "a requests file is one [[requests]] table per request, each with at least a and b"
    if not isinstance(table, Mapping):
        raise QnetError(f"{source}: expected a table; {fix}")
    for key in table:
        if key != "requests":
            raise QnetError(f"{source}: unknown table {key!r}; {fix}")
    entries = table.get("requests")
    if entries is None or entries == []:
        raise QnetError(f"{source}: no [[requests]] table; {fix}")
    if not isinstance(entries, list):
        raise ConfigError("requests", None, entries, f"must be an array of tables; {fix}")
    return tuple(_request(i, entry) for i, entry in enumerate(entries))


def _request(i: int, entry: Any) -> Request:
    """``requests[i]`` as a :class:`Request`, every error renamed to ``requests[i].FIELD``."""
    where = f"requests[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(where, None, entry, "must be a table ([[requests]])")
    for key, value in entry.items():
        if key not in REQUEST_FIELDS:
            raise ConfigError(where, key, value, f"unknown field; a request has {', '.join(REQUEST_FIELDS)}")
    for key in ("a", "b"):
        if key not in entry:
            raise ConfigError(where, key, None, "missing: a request names two memory nodes a and b")
    try:
        return Request(**entry)
    except ConfigError as exc:
        raise ConfigError(where, exc.field, exc.value, exc.allowed) from None


def _few(names: Iterable[str], limit: int = 8) -> str:
    """``'a, b, c'`` or ``'a, b, ... (12 in all)'``, sorted."""
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def check_requests(graph, requests: Iterable[Request]) -> None:
    """Check that every party of every request is a memory node of ``graph``.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        A network (:func:`qnet.load_network`).
    requests : iterable of Request
        In file order (the index in messages is the position here).

    Raises
    ------
    NetworkError
        One line naming ``requests[i].a`` (or b, c) and the node: unknown (with a few memory
        nodes the network has) or a station.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> check_requests(graph, [Request("alice", "bob")])
    >>> check_requests(graph, [Request("alice", "carol")])
    Traceback (most recent call last):
    ...
    qnet.errors.NetworkError: requests[0].b = 'carol' is not a node of the network; its memory nodes are alice, bob
    >>> check_requests(graph, [Request("alice", "station")])
    Traceback (most recent call last):
    ...
    qnet.errors.NetworkError: requests[0].b = 'station' is a station; a request joins memory nodes
    """
    from qnet.link.prepared import prepare_network

    net = prepare_network(graph)
    for i, request in enumerate(requests):
        for key, name in zip("abc", request.parties):
            if name not in net.graph:
                raise NetworkError(
                    f"requests[{i}].{key} = {name!r} is not a node of the network; "
                    f"its memory nodes are {_few(list(net.link_graph.nodes))}"
                )
            if not net.is_memory(name):
                raise NetworkError(f"requests[{i}].{key} = {name!r} is a station; a request joins memory nodes")

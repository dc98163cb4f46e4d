"""Network files (TOML) -> ``networkx.Graph``: reading a file.

File format (field names are public and stable)::

    [network]
    fibre_speed_km_per_s = 2.0e5      # optional, speed of light in fibre

    [nodes.alice]
    kind = "memory"                   # t2_s, t1_s, decay, emission_efficiency, ...
    [nodes.mid]
    kind = "station"                  # scheme, detector_efficiency, dark_count_probability, ...

    [[fibres]]
    a = "alice"
    b = "mid"
    length_km = 5.0
    attenuation_db_per_km = 0.2       # optional; name optional (default "alice-mid")

Rules beyond the field values (each broken rule is one :class:`~qnet.errors.QnetError` line):

* node and fibre names use letters, digits, ``_`` and ``-`` only, so that every name can be
  reached by ``--set nodes.NAME.FIELD=...``, ``--vary`` (fields joined by ``,``) and ``--via A,B``;
* a node's name is its table's key: a ``name`` field inside ``[nodes.NAME]`` is refused;
* fibre names are unique; the default ``"A-B"`` can collide (``m`` - ``s-n`` and ``m-s`` - ``n``),
  and then one of the two fibres needs an explicit ``name`` (see
  :func:`~qnet.network.hardware.default_fibre_name` for why no separator avoids this);
* a fibre joins a memory node to a station: qnet's links are memory - station - memory, so a
  fibre between two memories or two stations would be ignored and is refused instead;
* tables and arrays nest at most :data:`~qnet.network.tables.MAX_NESTING` levels (deeper input, e.g. a value nested
  600 deep, would exhaust Python's recursion limit).

This module reads files (:func:`read_network_table`, :func:`load_network`); :mod:`qnet.network.tables`
parses and checks the raw table and applies ``--set``, :mod:`qnet.network.graph` validates it into the graph.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from qnet.errors import QnetError
from qnet.network.graph import network_from_dict
from qnet.network.tables import parse_toml

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

__all__ = ["load_network", "read_network_table", "read_toml_file"]


def read_toml_file(path: str | Path, what: str) -> tuple[dict[str, Any], bytes]:
    """Read and parse one TOML file; every failure is one line naming ``what`` and the file.

    Parameters
    ----------
    path : str or path-like
        The file.
    what : str
        What the file is, for the messages (``"network file"``, ``"requests file"``).

    Returns
    -------
    (dict, bytes)
        The parsed table and the file's bytes.

    Raises
    ------
    QnetError
        Missing, a folder, unreadable, not UTF-8, not valid TOML, or nested more than
        :data:`~qnet.network.tables.MAX_NESTING` levels deep.

    Examples
    --------
    >>> data, raw = read_toml_file("examples/requests/metro.toml", "requests file")
    >>> len(data["requests"]), raw[:1]
    (3, b'#')
    >>> read_toml_file("examples", "requests file")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: requests file 'examples' is a folder, expected a TOML file
    """
    if not str(path):
        raise QnetError(f"{what} '': expected a file name")
    where = f"{what} {str(path)!r}"
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise QnetError(f"{where} not found") from None
    except IsADirectoryError:
        raise QnetError(f"{where} is a folder, expected a TOML file") from None
    except OSError as exc:
        raise QnetError(f"{where} cannot be read: {exc.strerror or exc}") from None
    try:
        data = parse_toml(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QnetError(f"{where} is not valid TOML: {exc}") from None
    except ValueError as exc:
        raise QnetError(f"{where} is refused: {exc}") from None
    return data, raw


def read_network_table(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a network file into its raw table (not yet validated) and the file's sha256.

    Parameters
    ----------
    path : str or path-like
        The TOML network file.

    Returns
    -------
    (dict, str)
        The parsed TOML table and the sha256 of the file's bytes.

    Raises
    ------
    QnetError
        One line naming the file: missing, a folder, unreadable, not UTF-8, not valid TOML, or
        nested more than :data:`~qnet.network.tables.MAX_NESTING` levels deep.

    Examples
    --------
    >>> data, sha = read_network_table("examples/liu2026_ion_link.toml")
    >>> sorted(data["nodes"]), len(sha)
    (['alice', 'bob', 'station'], 64)
    >>> read_network_table("no_such_file.toml")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: network file 'no_such_file.toml' not found
    """
    data, raw = read_toml_file(path, "network file")
    return data, hashlib.sha256(raw).hexdigest()


def load_network(path: str | Path, overrides: Iterable[str] = ()) -> "nx.Graph":
    """Load a TOML network file, apply ``--set``-style overrides, validate, return the graph.

    Parameters
    ----------
    path : str or path-like
        The TOML network file (stored as the graph attribute ``source``).
    overrides : iterable of str
        ``--set`` arguments, ``SECTION.NAME.FIELD=VALUE``, applied before validation.

    Returns
    -------
    networkx.Graph
        Nodes carry ``hardware``, edges ``fibre`` (see :mod:`qnet.network.graph`).

    Raises
    ------
    QnetError
        One line naming the file, or the table, field and value of the first problem.

    Examples
    --------
    >>> graph = load_network("examples/liu2026_ion_link.toml",
    ...                      ["fibres.alice-station.length_km=10", "nodes.alice.decay=gaussian"])
    >>> graph.edges["alice", "station"]["fibre"].length_km, graph.nodes["alice"]["hardware"].decay
    (10.0, 'gaussian')
    >>> load_network("examples/liu2026_ion_link.toml", ["nodes.alice.t2_s=-1"])
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: nodes.alice.t2_s = -1.0 is invalid: a number > 0 (or inf)
    """
    data, _sha = read_network_table(path)
    return network_from_dict(data, source=str(path), overrides=overrides)

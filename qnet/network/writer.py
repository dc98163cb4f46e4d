"""Writing a network table as a TOML network file (the inverse of :func:`qnet.network.io.read_network_table`).

A small writer for the subset of TOML that network files use: a ``[network]`` table,
``[nodes.NAME]`` tables and a ``[[fibres]]`` array of tables, whose values are strings,
booleans, integers and floats (``inf`` and ``nan`` included). Floats are written with
``repr``, which round-trips every double exactly, so ``tomllib.loads(to_toml(table)) == table``.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from pathlib import Path
from typing import Any, Mapping

from qnet.errors import QnetError

__all__ = ["toml_scalar", "to_toml", "write_network"]


def toml_scalar(value: Any) -> str:
    """A string, boolean or number (numpy scalars too) as a TOML value that reads back exactly.

    Floats are written with ``repr`` (every double round-trips), ``inf``/``nan`` as TOML's own.

    Parameters
    ----------
    value : str, bool, int or float (or a numpy scalar of those kinds)
        The value.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        For any other type (lists, tables, None, ...).

    Examples
    --------
    >>> toml_scalar(0.1), toml_scalar(float("-inf")), toml_scalar(True), toml_scalar(3), toml_scalar("gaussian")
    ('0.1', '-inf', 'true', '3', '"gaussian"')
    """
    numpy = sys.modules.get("numpy")  # numpy's bool_ is not a numbers.Integral; never imported here
    if isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_)):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    raise TypeError(f"{value!r} is not a TOML scalar (string, bool, int or float)")


def _value(where: str, value: Any) -> str:
    try:
        return toml_scalar(value)
    except TypeError:
        raise QnetError(
            f"{where} = {value!r}: cannot be written to a network file (string, bool, int or float only)"
        ) from None


def _key(key: str) -> str:
    return key if key.replace("_", "a").replace("-", "a").isalnum() and key.isascii() else json.dumps(key)


def _table(lines: list[str], header: str, table: Mapping[str, Any]) -> None:
    lines += ["", header]
    lines += [f"{_key(k)} = {_value(f'{header} {k}', v)}" for k, v in table.items()]


def to_toml(table: Mapping[str, Any], header: str = "") -> str:
    """A network table as TOML text (``[network]``, ``[nodes.NAME]``, ``[[fibres]]``), optionally after a comment.

    Parameters
    ----------
    table : Mapping
        A network table (what :func:`qnet.network.generate.network_table` returns).
    header : str
        Text put first, each line as a ``#`` comment.

    Examples
    --------
    >>> import tomllib
    >>> table = {"nodes": {"a": {"kind": "memory", "t2_s": 1.0, "t1_s": float("inf")}},
    ...          "fibres": [{"a": "a", "b": "s", "length_km": 2.5}]}
    >>> print(to_toml(table, header="made by hand"))
    # made by hand
    <BLANKLINE>
    [nodes.a]
    kind = "memory"
    t2_s = 1.0
    t1_s = inf
    <BLANKLINE>
    [[fibres]]
    a = "a"
    b = "s"
    length_km = 2.5
    <BLANKLINE>
    >>> tomllib.loads(to_toml(table)) == table
    True
    """
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for key in table:
        if key not in ("network", "nodes", "fibres"):
            raise QnetError(f"table {key!r}: not a network-file table (network, nodes, fibres)")
    if table.get("network"):
        _table(lines, "[network]", table["network"])
    for name, node in table.get("nodes", {}).items():
        _table(lines, f"[nodes.{_key(name)}]", node)
    for fibre in table.get("fibres", []):
        _table(lines, "[[fibres]]", fibre)
    while lines and lines[0] == "":
        lines.pop(0)
    return "\n".join(lines) + "\n"


def write_network(table: Mapping[str, Any], path: str | Path, header: str = "", overwrite: bool = False) -> Path:
    """Write ``table`` as a TOML network file at ``path`` (checked by :func:`qnet.outputs.check_output_path`, written atomically).

    Examples
    --------
    >>> import tempfile, qnet
    >>> from qnet.network.generate import line, network_table, read_hardware
    >>> out = write_network(network_table(line(3, 10.0), read_hardware("examples/hardware/ion.toml")),
    ...                     Path(tempfile.mkdtemp()) / "line.toml")
    >>> sorted(n for n in qnet.load_network(out) if not n.startswith("s-"))
    ['n0', 'n1', 'n2']
    """
    from qnet.outputs import check_output_path, write_text_atomic

    out = check_output_path(path, overwrite=overwrite)
    write_text_atomic(out, to_toml(table, header))
    return out

"""A sweep's output files: the table's sidecars and overwrite rule, the metadata, resuming, the final rewrite.

Every table has ``OUT.meta.json`` (and ``OUT.partial.csv``, the journal, for Parquet):
:func:`sidecar_paths`. :func:`check_sweep_output` applies qnet's one overwrite rule to all of
them; a resumed output is checked to come from the same evaluator (:func:`read_meta`,
:func:`read_existing`, every row's :func:`sweep_id`); :func:`finalize` rewrites the table in grid
order at the end.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from qnet.errors import QnetError
from qnet.studies.sweep.axes import MAX_POINTS, Grid
from qnet.studies.sweep.table import (
    SWEEP_ID_COLUMN,
    canonical,
    output_format,
    read_csv,
    read_parquet,
    read_table,
    write_csv,
    write_parquet,
)

__all__ = [
    "sweep_id",
    "sidecar_paths",
    "check_sweep_output",
    "check_grid_size",
    "check_disk_space",
    "read_existing",
    "read_meta",
    "finalize",
    "write_json",
    "versions",
    "now",
]

_MISSING = object()


def now() -> str:
    """The current local time, ISO 8601 to the second with its UTC offset (for the metadata).

    Examples
    --------
    >>> datetime.datetime.fromisoformat(now()).tzinfo is not None
    True
    """
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


def versions(extra: Iterable[str] = ()) -> dict[str, str | None]:
    """The versions of qnet, Python, qiskit, qiskit-aer, numpy and the ``extra`` distributions (None: absent).

    Each is the ``Version`` header of its installed ``*.dist-info/METADATA``
    (:func:`_installed_version`), which is what ``importlib.metadata.version`` returns, without
    parsing the whole file (a few ms of a sweep's start-up each).

    Examples
    --------
    >>> sorted(versions(["no-such-distribution"]))
    ['no-such-distribution', 'numpy', 'python', 'qiskit', 'qiskit-aer', 'qnet']
    >>> versions(["no-such-distribution"])["no-such-distribution"] is None
    True
    """
    from qnet import __version__

    out: dict[str, str | None] = {"qnet": __version__, "python": sys.version.split()[0]}
    for dist in ("qiskit", "qiskit-aer", "numpy", *extra):
        out[dist] = _installed_version(dist)
    return out


def _installed_version(dist: str) -> str | None:
    """The ``Version`` header of the first ``DIST-*.dist-info/METADATA`` on ``sys.path``.

    Falls back on ``importlib.metadata.version`` when there is none (eggs, zip files, other
    finders); None when that does not know the distribution either.

    Examples
    --------
    >>> import importlib.metadata
    >>> _installed_version("numpy") == importlib.metadata.version("numpy")
    True
    """
    found = _dist_info(dist)
    version = None if found is None else _version_header(os.path.join(found, "METADATA"))
    if version is not None:
        return version
    from importlib.metadata import PackageNotFoundError, version as metadata_version

    try:
        return metadata_version(dist)
    except PackageNotFoundError:
        return None


def _dist_info(dist: str) -> str | None:
    """The first ``.dist-info`` directory of ``dist`` on ``sys.path``, or None."""
    want = re.sub(r"[-_.]+", "_", dist).lower()  # the directory's spelling (PEP 503, PEP 427)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and re.sub(r"[-_.]+", "_", name.partition("-")[0]).lower() == want:
                return os.path.join(entry or ".", name)
    return None


def _version_header(path: str) -> str | None:
    """The ``Version:`` header of a METADATA file, or None."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("Version:"):
                    return line[len("Version:") :].strip()
                if not line.strip():
                    return None  # the end of the headers
    except OSError:
        pass
    return None


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, atomically (the metadata sidecar).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.json"
    >>> write_json(path, {"points": 2})
    >>> json.loads(path.read_text())
    {'points': 2}
    """
    from qnet.outputs import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, default=repr) + "\n")


def sweep_id(description: Mapping[str, Any]) -> str:
    """16 hex digits naming what a sweep computes (a hash of its evaluator's ``describe()``).

    Written on every row (column ``sweep_id``): a resumed sweep checks the table itself, so
    rows of another network, link or ``--set`` are never mixed in, even without ``OUT.meta.json``.

    Parameters
    ----------
    description : mapping
        The evaluator's ``describe()`` (JSON-ready; it holds the network table's sha256).

    Returns
    -------
    str
        The first 16 hex digits of the sha256 of its canonical JSON.

    Examples
    --------
    >>> len(sweep_id({"evaluator": "link"})), sweep_id({"a": 1, "b": 2}) == sweep_id({"b": 2, "a": 1})
    (16, True)
    """
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 20:
        return repr(value[:12] + "...")
    return repr(value)


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """'FIELD was OLD, now NEW' for each field that differs between two descriptions."""
    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k, _MISSING) != new.get(k, _MISSING)]
    return "; ".join(
        f"{k} was {_shown(old[k]) if k in old else '(absent)'}, now {_shown(new[k]) if k in new else '(absent)'}"
        for k in keys
    )


def sidecar_paths(output: str | Path, fmt: str | None = None) -> tuple[Path, ...]:
    """The files a sweep writes next to ``output``: ``OUT.meta.json`` (and ``OUT.partial.csv`` for Parquet).

    Parameters
    ----------
    output : str or Path
        The table.
    fmt : str, optional
        'csv' or 'parquet' (default: from the suffix).

    Returns
    -------
    tuple of Path
        The metadata sidecar, then the Parquet journal where there is one.

    Examples
    --------
    >>> [p.name for p in sidecar_paths("out.csv")], [p.name for p in sidecar_paths("out.parquet")]
    (['out.csv.meta.json'], ['out.parquet.meta.json', 'out.parquet.partial.csv'])
    """
    output = Path(output)
    meta = output.with_name(output.name + ".meta.json")
    if output_format(output, fmt) == "parquet":
        return meta, output.with_name(output.name + ".partial.csv")
    return (meta,)


def check_sweep_output(
    output: str | Path, fmt: str | None = None, *, resume: bool = False, overwrite: bool = False
) -> bool:
    """Check a sweep's output and its sidecars before anything is computed.

    The rule of :func:`qnet.outputs.check_output_path` for the table and for every sidecar: the
    folder exists, no path is a folder, and an existing file is replaced only with
    ``overwrite``; ``resume`` continues an existing table (its sidecars are then its own).

    Parameters
    ----------
    output : str or Path
        The table (``-o``).
    fmt : str, optional
        'csv' or 'parquet' (default: from the suffix).
    resume, overwrite : bool
        ``--resume`` and ``--overwrite``.

    Returns
    -------
    bool
        True when there is a table to resume.

    Raises
    ------
    QnetError
        One line naming the path that may not be written and the option that would allow it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_sweep_output(folder / "t.csv")
    False
    >>> _ = (folder / "t.csv").write_text("x\\n")
    >>> check_sweep_output(folder / "t.csv", resume=True)
    True
    """
    from qnet.outputs import check_output_path

    output = check_output_path(output, overwrite=True)
    sidecars = sidecar_paths(output, fmt)
    resuming = resume and any(p.exists() for p in (output, *sidecars[1:]))
    if resuming:
        return True
    if output.exists() and not overwrite:
        raise QnetError(f"-o {output}: exists; use --resume to continue it or --overwrite to replace it")
    for path in sidecars:
        check_output_path(path, overwrite=overwrite)
    return False


def check_grid_size(grid: Grid) -> None:
    """Refuse a grid of more than :data:`~qnet.studies.sweep.MAX_POINTS` points (one line QnetError).

    Examples
    --------
    >>> from qnet.studies.sweep import parse_vary
    >>> check_grid_size(Grid([parse_vary("nodes.a.t2_s=1:2:100000"), parse_vary("nodes.b.t2_s=1:2:10000")]))
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: the grid has 1,000,000,000 points (100000 x 10000): at most 100,000,000 in one sweep; split it into several
    """
    if grid.size > MAX_POINTS:
        shape = " x ".join(map(str, grid.sizes))
        raise QnetError(
            f"the grid has {grid.size:,} points ({shape}): at most {MAX_POINTS:,} in one sweep; split it into several"
        )


def check_disk_space(grid: Grid, todo: int, columns: Sequence[str], folder: Path) -> None:
    """Refuse a sweep whose ``todo`` rows cannot fit on the disk of ``folder`` (one line QnetError).

    Examples
    --------
    >>> from qnet.studies.sweep import parse_values
    >>> check_disk_space(Grid([parse_values("nodes.a.t2_s=1,2")]), 2, ["nodes.a.t2_s", "error"], Path("."))
    """
    shape = " x ".join(map(str, grid.sizes)) or "1"
    need = todo * 12 * len(columns)  # a number in CSV is 12-24 bytes with its comma
    free = shutil.disk_usage(folder).free
    if need > free:
        raise QnetError(
            f"the grid has {grid.size:,} points ({shape}): their table needs at least {need / 1e9:.3g} GB "
            f"and {str(folder)!r} has {free / 1e9:.3g} GB free; use fewer points"
        )


def read_existing(output: Path, journal_path: Path, columns: list[str], ident: str) -> list[list[str]]:
    """Rows already in the output (and its Parquet journal), checked to come from this sweep.

    Raises a one-line QnetError when the columns differ or a row's ``sweep_id`` is not ``ident``.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(out, ["x", "error", "sweep_id"], [["1.0", "", "abc"]])
    >>> read_existing(out, out, ["x", "error", "sweep_id"], "abc")
    [['1.0', '', 'abc']]
    """
    rows: list[list[str]] = []
    for p in dict.fromkeys((output, journal_path)):
        if not p.exists():
            continue
        header, found = read_table(p) if p == output else read_csv(p)
        if not header:
            continue
        if header != columns:
            if header == columns[:-1]:
                raise QnetError(
                    f"cannot resume {p}: it has no {SWEEP_ID_COLUMN} column (an older qnet wrote it), so its rows "
                    f"cannot be checked against this sweep; write to a new output or use --overwrite"
                )
            raise QnetError(
                f"cannot resume {p}: its columns ({', '.join(header)}) differ from this sweep's "
                f"({', '.join(columns)}); vary the same fields or write to a new output"
            )
        other = next((row[-1] for row in found if row[-1] != ident), None)
        if other is not None:
            raise QnetError(
                f"cannot resume {p}: its rows have {SWEEP_ID_COLUMN} {other or '(empty)'} and this sweep is {ident} "
                f"(another network table, link, --set or evaluator); write to a new output or use --overwrite"
            )
        rows += found
    return rows


def read_meta(meta_path: Path, output: Path, describe: Mapping[str, Any]) -> dict[str, Any]:
    """The sidecar of a resumed output ({} when missing or unreadable); refuses another evaluator.

    Examples
    --------
    >>> read_meta(Path("no-such.meta.json"), Path("no-such.csv"), {"evaluator": "link"})
    {}
    """
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    old = meta.get("evaluator")
    if isinstance(old, Mapping) and old != describe:
        raise QnetError(
            f"cannot resume {output}: it was made for a different network, link or --set ({_differences(old, describe)}); write to a new output"
        )
    return meta


def finalize(
    output: Path, fmt: str, journal_path: Path, columns: list[str], grid_: Grid, text_columns: set[str]
) -> None:
    """Rewrite the table in grid order (last row wins for a repeated point), atomically.

    Rows that are not in the grid (a resumed output of another grid) stay, after it; a Parquet
    output's journal is removed once the table is written.

    Examples
    --------
    >>> import tempfile
    >>> from qnet.studies.sweep import parse_values
    >>> out = Path(tempfile.mkdtemp()) / "t.csv"
    >>> columns = ["nodes.a.t2_s", "error", "sweep_id"]
    >>> write_csv(out, columns, [["2", "", "id"], ["1", "", "id"]])
    >>> finalize(out, "csv", out, columns, Grid([parse_values("nodes.a.t2_s=1,2")]), set())
    >>> read_csv(out)[1]
    [['1', '', 'id'], ['2', '', 'id']]
    """
    n_fields = len(grid_.fields)
    rows: list[list[str]] = []
    if fmt == "parquet" and output.exists():
        rows += read_parquet(output)[1]
    if journal_path.exists():
        rows += read_csv(journal_path)[1]
    latest: dict[tuple, list[str]] = {}
    for row in rows:
        key = tuple(canonical(c) for c in row[:n_fields])
        latest.pop(key, None)  # keep the last occurrence, at its last position
        latest[key] = row

    def place(item: tuple[int, tuple]) -> tuple[int, int]:
        i = grid_.index(item[1])
        return (0, i) if i is not None else (1, item[0])

    table = [latest[k] for _, k in sorted(enumerate(latest), key=place)]
    if fmt == "csv":
        write_csv(output, columns, table)
    else:
        write_parquet(output, columns, table, text_columns)
        journal_path.unlink(missing_ok=True)

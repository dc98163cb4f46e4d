"""Writing a traffic run's event trace: Parquet (needs pyarrow) or CSV, one row per event.

Columns are :data:`~qnet.repeater.traffic.records.TRACE_COLUMNS`, in that order: float columns
(``time_s``, ``fidelity``) as float64, integer columns (pair ids, parents, request, memory
slots) as int64, names and the event kind as text. A missing value (the NaN fidelity of events
other than deliveries) is a null in Parquet and an empty cell in CSV; floats are written in full
(``repr``), so a CSV reads back to the same numbers. The file follows qnet's output rule
(:mod:`qnet.outputs`: checked before the run with :func:`check_trace_path`, written through a
temporary file, an existing file replaced only with ``overwrite``).
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Mapping

import numpy as np

from qnet.errors import QnetError
from qnet.outputs import check_output_path, replacing
from qnet.repeater.traffic.records import TRACE_COLUMNS

__all__ = ["TRACE_FORMATS", "trace_format", "check_trace_path", "write_trace"]

#: Trace formats by file suffix.
TRACE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def trace_format(path: str | os.PathLike, option: str = "--trace") -> str:
    """``"parquet"`` or ``"csv"`` from the file's suffix.

    Examples
    --------
    >>> trace_format("run.parquet"), trace_format("run.CSV")
    ('parquet', 'csv')
    >>> trace_format("run.txt")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --trace run.txt: expected a .parquet or .csv file name
    """
    fmt = TRACE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise QnetError(f"{option} {path}: expected a .parquet or .csv file name")
    return fmt


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise QnetError("a Parquet trace needs pyarrow: pip install 'qnet[parquet]' (or write a .csv trace)") from None


def check_trace_path(path: str | os.PathLike, *, overwrite: bool = False, option: str = "--trace") -> Path:
    """Check a trace's path before the run: its suffix, pyarrow for Parquet, and the output rule.

    Parameters
    ----------
    path : str or path-like
        ``.parquet`` (or ``.pq``) or ``.csv``.
    overwrite : bool
        Whether an existing file may be replaced.
    option : str
        The option that named it, for the messages.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    QnetError
        One line: another suffix, pyarrow missing, the folder missing, or the file exists.

    Examples
    --------
    >>> check_trace_path("no-such-folder/t.csv")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --trace no-such-folder/t.csv: folder 'no-such-folder' does not exist
    """
    if trace_format(path, option) == "parquet":
        _require_pyarrow()
    return check_output_path(path, overwrite=overwrite, option=option)


def _columns(trace: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    if trace is None:
        raise QnetError("the run recorded no trace: run simulate_traffic with trace=True")
    missing = [c for c in TRACE_COLUMNS if c not in trace]
    if missing:
        raise QnetError(f"trace lacks the columns {', '.join(missing)} (expected {', '.join(TRACE_COLUMNS)})")
    cols = {c: np.asarray(trace[c]) for c in TRACE_COLUMNS}
    sizes = {c: v.shape for c, v in cols.items()}
    if len({s for s in sizes.values()}) != 1 or len(next(iter(sizes.values()))) != 1:
        raise QnetError(f"trace columns must be 1-d and of equal length, got shapes {sizes}")
    return cols


#: Column types (the rest are int64): float64 and text columns.
_FLOAT_COLUMNS = ("time_s", "fidelity")
_TEXT_COLUMNS = ("event", "node", "node_a", "node_b", "link")


def _kind(name: str) -> str:
    """'f' (float64), 'i' (int64) or 's' (text): the type of a trace column, fixed by its name."""
    return "f" if name in _FLOAT_COLUMNS else "s" if name in _TEXT_COLUMNS else "i"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) or math.isinf(value) else ""
    return str(value)


def write_trace(
    trace: Mapping[str, np.ndarray] | None, path: str | os.PathLike, *, overwrite: bool = False, option: str = "--trace"
) -> Path:
    """Write a run's trace (``TrafficRun.trace``) to ``path``: Parquet or CSV by suffix.

    Parameters
    ----------
    trace : mapping of str to numpy.ndarray
        :data:`~qnet.repeater.traffic.records.TRACE_COLUMNS` -> equal-length arrays.
    path : str or path-like
        ``.parquet``/``.pq`` (needs pyarrow: ``pip install 'qnet[parquet]'``) or ``.csv``.
    overwrite : bool
        Whether an existing file may be replaced.
    option : str
        The option that named the path, for the messages.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    QnetError
        One line: no trace recorded, missing columns, a bad path (:func:`check_trace_path`).

    Examples
    --------
    >>> import tempfile
    >>> trace = {c: np.full(2, -1) for c in TRACE_COLUMNS}
    >>> trace.update(time_s=np.array([0.5, 1.25]), event=np.array(["herald", "delivery"]), node=np.array(["", ""]),
    ...              node_a=np.array(["a", "a"]), node_b=np.array(["b", "b"]), link=np.array(["s", ""]),
    ...              fidelity=np.array([np.nan, 0.9]))
    >>> out = write_trace(trace, Path(tempfile.mkdtemp()) / "t.csv")
    >>> print(out.read_text())
    time_s,event,pair,parent_a,parent_b,parent_c,request,node,node_a,node_b,memory_a,memory_b,link,fidelity
    0.5,herald,-1,-1,-1,-1,-1,,a,b,-1,-1,s,
    1.25,delivery,-1,-1,-1,-1,-1,,a,b,-1,-1,,0.9
    <BLANKLINE>
    """
    cols = _columns(trace)
    out = check_trace_path(path, overwrite=overwrite, option=option)
    if trace_format(out, option) == "parquet":
        _write_parquet(cols, out)
    else:
        _write_csv(cols, out)
    return out


def _write_csv(cols: dict[str, np.ndarray], out: Path) -> None:
    lists = []
    for name, values in cols.items():
        kind = _kind(name)
        if kind == "f":
            lists.append([_cell(x) for x in values.astype(float).tolist()])
        elif kind == "i":
            lists.append(values.astype(np.int64).tolist())
        else:
            lists.append([str(x) for x in values.tolist()])
    with replacing(out) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(TRACE_COLUMNS)
            writer.writerows(zip(*lists))


def _write_parquet(cols: dict[str, np.ndarray], out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for name, values in cols.items():
        kind = _kind(name)
        if kind == "f":
            v = values.astype(np.float64)
            arrays.append(pa.array(v, type=pa.float64(), mask=np.isnan(v)))
        elif kind == "i":
            arrays.append(pa.array(values.astype(np.int64), type=pa.int64()))
        elif values.dtype.kind == "U":  # numpy strings: converted by Arrow itself (fast)
            arrays.append(pa.array(values, type=pa.string()))
        else:
            arrays.append(pa.array([str(x) for x in values.tolist()], type=pa.string()))
    with replacing(out) as tmp:
        pq.write_table(pa.table(arrays, names=list(TRACE_COLUMNS)), tmp)

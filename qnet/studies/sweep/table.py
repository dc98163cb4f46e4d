"""Sweep tables on disk: the columns every table has, CSV and Parquet reading and writing.

A sweep writes its rows to an append-only CSV journal (:class:`Journal`, flushed after every
chunk, the rows formatted by :class:`RowFormatter`) and, when needed, rewrites the table at the
end (:func:`write_csv`, :func:`write_parquet`, atomically). Cells are strings: floats as their
``repr`` (they read back exactly), ``inf`` as ``inf``, booleans as ``true``/``false``.

Only the standard library is imported at module level (pyarrow where Parquet is used).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, overload

from qnet.errors import QnetError
from qnet.studies.choices import TABLE_FORMATS

__all__ = [
    "ERROR_COLUMN",
    "SWEEP_ID_COLUMN",
    "output_format",
    "require_pyarrow",
    "cell_text",
    "canonical",
    "np_bool_types",
    "read_csv",
    "read_parquet",
    "read_table",
    "write_csv",
    "write_parquet",
    "Journal",
    "RowFormatter",
    "ColumnRows",
]

#: The column of a point's error message (empty when the point succeeded).
ERROR_COLUMN = "error"
#: The last column of every sweep table: :func:`~qnet.studies.sweep.sweep_id` of what computed the row.
SWEEP_ID_COLUMN = "sweep_id"


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """'csv' or 'parquet': ``fmt`` if given, else from the suffix (.parquet/.pq), else csv.

    Parameters
    ----------
    path : str or Path
        The table's path.
    fmt : str, optional
        'csv' or 'parquet'.

    Returns
    -------
    str
        'csv' or 'parquet'.

    Raises
    ------
    QnetError
        When ``fmt`` is neither.

    Examples
    --------
    >>> output_format("a.pq"), output_format("a.txt"), output_format("a.csv", "parquet")
    ('parquet', 'csv', 'parquet')
    """
    if fmt is not None:
        if fmt not in TABLE_FORMATS:
            raise QnetError(f"format {fmt!r} is invalid; allowed: {', '.join(TABLE_FORMATS)}")
        return fmt
    return "parquet" if Path(path).suffix.lower() in (".parquet", ".pq") else "csv"


def require_pyarrow() -> None:
    """Raise a one-line :class:`~qnet.errors.QnetError` saying what to install when pyarrow is missing.

    Examples
    --------
    >>> try:
    ...     require_pyarrow()
    ... except QnetError as exc:
    ...     assert "pip install" in str(exc)
    """
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise QnetError("Parquet output needs pyarrow: pip install 'qnet[parquet]' (or write CSV)") from None


def cell_text(value: Any) -> str:
    """The CSV cell of a value: a float as its ``repr``, a bool as true/false, None as ''.

    Parameters
    ----------
    value : object
        A point value or a result.

    Returns
    -------
    str

    Examples
    --------
    >>> [cell_text(v) for v in (0.1, float("inf"), True, 3, None, "gaussian")]
    ['0.1', 'inf', 'true', '3', '', 'gaussian']
    """
    kind = type(value)
    if kind is float:  # the common case, first
        return repr(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, np_bool_types())):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def canonical(value: Any) -> Any:
    """A comparable form of an input value (CSV cell or Python value): numbers as float.

    A point read back from a table equals the grid's point in this form.

    Parameters
    ----------
    value : object
        A CSV cell or a Python value.

    Returns
    -------
    float or str

    Examples
    --------
    >>> canonical("1.5") == canonical(1.5), canonical(True), canonical("gaussian")
    (True, 'true', 'gaussian')
    """
    if type(value) is float:
        return value
    if isinstance(value, (bool, np_bool_types())):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return text


def np_bool_types() -> tuple[type, ...]:
    """``(numpy.bool_,)`` when numpy is imported already, else ``()`` (numpy is never imported here).

    Examples
    --------
    >>> import numpy
    >>> np_bool_types() == (numpy.bool_,)
    True
    """
    numpy = sys.modules.get("numpy")
    return (numpy.bool_,) if numpy is not None else ()


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows as strings) of a CSV table; an unterminated last line is dropped.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    (list of str, list of list of str)
        The header and the rows that have as many cells as it.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(path, ["x", "error"], [["1.0", ""]])
    >>> read_csv(path)
    (['x', 'error'], [['1.0', '']])
    """
    data = path.read_bytes()
    if not data:
        return [], []
    if not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader, [])
    rows = [r for r in reader if len(r) == len(header)]
    return header, rows


def read_parquet(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows as strings, :func:`cell_text`) of a Parquet table (needs pyarrow).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> write_parquet(path, ["x", "kind", "error"], [["1.5", "a", ""]], {"kind"})
    >>> read_parquet(path)
    (['x', 'kind', 'error'], [['1.5', 'a', '']])
    """
    require_pyarrow()
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    header = table.column_names
    columns = [table.column(name).to_pylist() for name in header]
    return header, [[cell_text(v) for v in row] for row in zip(*columns)]


def read_table(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows as strings) of a sweep output, CSV or Parquet (by suffix).

    Parameters
    ----------
    path : str or Path
        The table.

    Returns
    -------
    (list of str, list of list of str)
        The header and the complete rows.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(path, ["x", "y"], [["1.0", "2.5"], ["2.0", "inf"]])
    >>> read_table(path)
    (['x', 'y'], [['1.0', '2.5'], ['2.0', 'inf']])
    """
    path = Path(path)
    if output_format(path) == "parquet":
        return read_parquet(path)
    return read_csv(path)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a CSV table atomically (through a temporary sibling, synced); see :func:`read_csv`.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_csv(path, ["x"], [["1.0"], ["2.0"]])
    >>> path.read_text().split()
    ['x', '1.0', '2.0']
    """
    from qnet.outputs import replacing

    with replacing(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
        fh.flush()
        os.fsync(fh.fileno())


def write_parquet(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: set[str]) -> None:
    """Write string rows as a Parquet table atomically: float64 columns, except ``text_columns``,
    the error column and any column that does not parse as numbers (strings).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.parquet"
    >>> write_parquet(path, ["x", "error"], [["1.5", ""], ["inf", "bad"]], set())
    >>> read_table(path)
    (['x', 'error'], [['1.5', ''], ['inf', 'bad']])
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        numeric = name not in text_columns
        if numeric and name != ERROR_COLUMN:
            try:
                values = [float(c) if c != "" else None for c in cells]
                arrays.append(pa.array(values, type=pa.float64()))
                continue
            except ValueError:
                pass
        arrays.append(pa.array([c if c != "" else None for c in cells], type=pa.string()))
    from qnet.outputs import replacing

    with replacing(path) as tmp:
        pq.write_table(pa.table(arrays, names=list(header)), tmp)


class Journal:
    """Append-only CSV file, flushed after every chunk (a cut last line is dropped on opening).

    Parameters
    ----------
    path : Path
        The file (created with ``header`` when missing or empty).
    header : sequence of str
        The columns.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "j.csv"
    >>> journal = Journal(path, ["x", "error"])
    >>> journal.write([["1.0", ""]])
    >>> journal.close()
    >>> read_csv(path)
    (['x', 'error'], [['1.0', '']])
    """

    def __init__(self, path: Path, header: Sequence[str]):
        self.path = path
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            data = path.read_bytes()
            if not data.endswith(b"\n"):  # a killed writer left half a line: cut it
                with open(path, "r+b") as fh:
                    fh.truncate(data.rfind(b"\n") + 1)
        self.fh = open(path, "a", newline="", encoding="utf-8")
        self.writer = csv.writer(self.fh)
        if not exists or path.stat().st_size == 0:
            self.writer.writerow(header)
            self.fh.flush()

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        """Append rows of cells and flush."""
        self.writer.writerows(rows)
        self.fh.flush()

    def write_text(self, text: str) -> None:
        """Append lines already formatted as this CSV dialect (:class:`RowFormatter`)."""
        self.fh.write(text)
        self.fh.flush()

    def close(self, sync: bool = False) -> None:
        """Close the file (``sync``: fsync it first, when it is the final table)."""
        if not self.fh.closed:
            if sync:  # the journal is the final table: on disk, as write_csv leaves it
                self.fh.flush()
                os.fsync(self.fh.fileno())
            self.fh.close()


class ColumnRows(Sequence[dict[str, Any]]):
    """A chunk's rows held as columns: a read-only sequence of row dicts, each built when read.

    An evaluator's ``evaluate`` may return one instead of a list of dicts (the batch link sweep
    does): the sweep writer takes its columns as they are, without a dict per row. It compares
    equal to any sequence of the same rows, and pickles (worker processes send it back).

    Parameters
    ----------
    names : sequence of str
        The column names (the keys of every row).
    columns : sequence of sequences
        One sequence of values per name, all the same length.

    Raises
    ------
    ValueError
        When the names and columns differ in number, or the columns in length.

    Examples
    --------
    >>> rows = ColumnRows(("y", "error"), ([1.0, 2.0], ["", ""]))
    >>> len(rows), rows[1], rows == [{"y": 1.0, "error": ""}, {"y": 2.0, "error": ""}]
    (2, {'y': 2.0, 'error': ''}, True)
    >>> rows.column("y")
    [1.0, 2.0]
    """

    __slots__ = ("names", "columns")

    def __init__(self, names: Sequence[str], columns: Sequence[Sequence[Any]]):
        names, columns = tuple(names), tuple(columns)
        if len(names) != len(columns) or not names or len({len(c) for c in columns}) != 1:
            raise ValueError(f"ColumnRows needs one column per name, all of one length: {len(names)} names")
        self.names, self.columns = names, columns

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return dict(zip(self.names, [c[i] for c in self.columns]))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = self.names
        return (dict(zip(names, values)) for values in zip(*self.columns))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ColumnRows({list(self)!r})"

    def column(self, name: str) -> Sequence[Any]:
        """The values of column ``name`` (KeyError if there is none)."""
        try:
            return self.columns[self.names.index(name)]
        except ValueError:
            raise KeyError(name) from None


class RowFormatter:
    """Table rows as CSV text, exactly as ``csv.writer`` writes their ``cell_text`` strings.

    Formats column by column: a column of floats through ``repr`` (each distinct value once
    when the column repeats values, as the grid's inputs, the lengths and the attempt times
    do), a column of ints through ``str``, any other through :func:`cell_text`. When no cell
    of a chunk needs quoting (floats and ints never do), its rows are joined directly (what the
    csv module writes for them); otherwise each row that needs it goes through the csv module.

    Parameters
    ----------
    n_columns : int
        How many value columns :meth:`lines` gets (the error and sweep_id columns come after).

    Examples
    --------
    >>> RowFormatter(2).lines([[1.0, 2.0], [0.5, "a,b"]], ["", "bad"], "id").splitlines()
    ['1.0,0.5,,id', '2.0,"a,b",bad,id']
    """

    def __init__(self, n_columns: int):
        self.n_columns = n_columns
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    @staticmethod
    def _column(values: Sequence[Any]) -> tuple[list[str], bool]:
        """(the cells of a column, whether none of them can need quoting)."""
        kinds = set(map(type, values))
        if kinds == {float}:
            if 2 * len(set(values[:64])) > len(values[:64]):  # mostly distinct, by a sample: each printed
                return list(map(repr, values)), True
            distinct = dict.fromkeys(values)
            # 0.0 and -0.0 are one key but print differently: a column with -0.0 is printed value by value
            if 4 * len(distinct) > len(values) or (0.0 in distinct and _negative_zero(values)):
                return list(map(repr, values)), True
            text = {v: repr(v) for v in distinct}
            return list(map(text.__getitem__, values)), True
        if kinds == {int}:
            text = {v: str(v) for v in dict.fromkeys(values)}
            return list(map(text.__getitem__, values)), True
        return [cell_text(v) for v in values], False

    def lines(self, columns: list[Sequence[Any]], errors: list[str], ident: str | None = None) -> str:
        """CSV lines: the columns' cells, then ``errors``, then ``ident`` on every row (when given)."""
        cells = []
        plain = True  # no cell needs quoting
        for values in columns:
            column, safe = self._column(values)
            cells.append(column)
            plain = plain and (safe or not _needs_quotes(column))
        cells.append(errors)
        plain = plain and not _needs_quotes(errors)
        if ident is not None:
            cells.append([ident] * len(errors))
            plain = plain and not _needs_quotes([ident])
        n = len(cells)
        if plain and n > 1:
            return "\r\n".join(map(",".join, zip(*cells))) + "\r\n" if errors else ""
        out = []
        for row in zip(*cells):
            line = ",".join(row)
            if n > 1 and line.count(",") == n - 1 and '"' not in line and "\n" not in line and "\r" not in line:
                out.append(line + "\r\n")
            else:  # a cell needs quoting (or the row is one empty cell): the csv module decides
                self.buffer.seek(0)
                self.buffer.truncate()
                self.writer.writerow(row)
                out.append(self.buffer.getvalue())
        return "".join(out)


def _negative_zero(values: Sequence[float]) -> bool:
    """Whether one of the floats is -0.0."""
    return any(math.copysign(1.0, z) < 0 for z in filter((0.0).__eq__, values))


def _needs_quotes(cells: Sequence[str]) -> bool:
    """Whether the csv module could quote one of these cells (a comma, a quote or a line break in it)."""
    text = "".join(cells)
    return "," in text or '"' in text or "\n" in text or "\r" in text

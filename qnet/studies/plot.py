"""Figures from result tables: ``qnet plot`` and :func:`plot_results`.

A result table is what ``qnet sweep`` writes (one row per point: the varied fields, every
:data:`qnet.link.results.LINK_FIELDS` column, ``error`` and, where present, ``total_length_km``,
``fibre_transmission`` and ``plob_bits_per_s``), or any CSV with a header row, or a list of
dict rows in Python. :func:`plot_results` draws chosen columns against one column and returns
the matplotlib ``Figure`` (built without pyplot, so no global state and no GUI backend; saving
uses Agg for PNG).

What is drawn, and why:

* **Rows with a non-empty ``error``** are skipped; the figure says how many.
* **Rates** (columns ending in ``_hz`` or ``_per_s``, e.g. ``rate_hz``, ``diqkd_key_rate_hz``) go on a
  log axis by default (``logy`` overrides); non-positive values cannot be shown there and are
  left out (counted). ``link_efficiency`` and ``success_probability`` also default to log.
  When rates and other figures are plotted together, the others get a second (right) axis.
* **PLOB bound**: when a rate is plotted and the table has ``plob_bits_per_s`` (the repeaterless
  capacity of the link's fibre per attempt time, -log2(1 - eta_fibre)/T_att), it is drawn
  dashed on the rate axis.
* **link_efficiency = 1** (entanglement made as fast as it is lost) is drawn when
  ``link_efficiency`` is plotted.
* **DI-QKD zero crossing**: when the table has ``diqkd_key_fraction``, a vertical line marks the
  first x (in increasing x) where the key fraction becomes 0 after being positive.
* **Several curves per column**: when another input column is not a function of x (a second
  grid axis, e.g. the bright-state population in a length x alpha sweep), one curve is drawn
  per value of those columns, labelled ``column (field=value, ...)``.

The figure file follows qnet's one output rule (:func:`qnet.outputs.check_output_path`): checked
before anything is read or drawn, an existing file replaced only with ``overwrite``, written
through a temporary sibling. Drawing needs matplotlib (``pip install 'qnet[plot]'``).

Only the standard library is imported at module level.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from qnet.errors import QnetError
from qnet.link.results import LINK_FIELDS
from qnet.studies.sweep.evaluators import LINK_EXTRA_COLUMNS, PLOB_COLUMN
from qnet.studies.sweep.table import ERROR_COLUMN, SWEEP_ID_COLUMN

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_results", "read_results", "PlotInfo", "is_rate_column", "OUTPUT_SUFFIXES"]

DIQKD_COLUMN = "diqkd_key_fraction"
#: Columns that are outputs of a point (never used to split the rows into curves).
_OUTPUT_COLUMNS = frozenset(
    (*LINK_FIELDS, *(f"{name}_se" for name in LINK_FIELDS), *LINK_EXTRA_COLUMNS, ERROR_COLUMN, SWEEP_ID_COLUMN)
)
#: Non-rate columns that span decades and default to a log axis.
_LOG_COLUMNS = frozenset(("link_efficiency", "success_probability"))
#: Formats savefig is asked to write.
OUTPUT_SUFFIXES = (".png", ".svg", ".pdf")

_LABELS = {
    "total_length_km": "total fibre length (km)",
    "fibre_transmission": "fibre transmission",
    "rate_hz": "heralded pairs per second",
    "diqkd_key_rate_hz": "DI-QKD key (bit/s)",
    "bb84_key_rate_hz": "BB84 key (bit/s)",
    "bb84_key_fraction": "BB84 key (bit/pair)",
    "fidelity": "fidelity to |Psi+>",
    "link_efficiency": "link efficiency (rate x T_coh)",
    "success_probability": "success probability per attempt",
    "attempt_time_s": "attempt time (s)",
    "pair_coherence_time_s": "pair coherence time (s)",
    "diqkd_key_fraction": "DI-QKD key (bit/pair)",
    "qber": "QBER",
    "chsh": "CHSH S",
}


def is_rate_column(name: str) -> bool:
    """Whether column ``name`` is a per-second figure (``rate_hz``, ``diqkd_key_rate_hz``, ``plob_bits_per_s``, ...).

    Parameters
    ----------
    name : str
        A column name.

    Returns
    -------
    bool
        True for names ending in ``_hz`` or ``_per_s`` (drawn on a log axis by default).

    Examples
    --------
    >>> is_rate_column("rate_hz"), is_rate_column("plob_bits_per_s"), is_rate_column("fidelity")
    (True, True, False)
    """
    return name.endswith("_hz") or name.endswith("_per_s")


@dataclass
class PlotInfo:
    """What :func:`plot_results` did (also available as ``fig.qnet_plot``).

    Attributes
    ----------
    x : str
        The x column.
    y : tuple of str
        The columns drawn.
    rows, skipped_error_rows : int
        Rows read, and rows with an error (not drawn).
    groups : tuple of str
        One label per curve group ("" when there is one).
    logy : dict
        Axis ("left"/"right") -> log scale.
    notes : list of str
        What was not drawn, as the legend's title says.

    Examples
    --------
    >>> rows = [{"x": 1, "rate_hz": 10.0, "error": ""}, {"x": 2, "rate_hz": 0.0, "error": ""}]
    >>> info = plot_results(rows, "x", "rate_hz").qnet_plot
    >>> info.logy, info.hidden_nonpositive, info.notes
    ({'left': True}, {'rate_hz': 1}, ['rate_hz: 1 value <= 0 not drawn on the log axis'])
    """

    x: str
    y: tuple[str, ...]
    rows: int  # rows read
    skipped_error_rows: int  # rows with a non-empty error, not drawn
    groups: tuple[str, ...]  # one label per curve group ("" when there is one)
    logy: dict[str, bool]  # axis ("left"/"right") -> log scale
    hidden_nonpositive: dict[str, int] = field(default_factory=dict)  # column -> values left off a log axis
    hidden_infinite: dict[str, int] = field(default_factory=dict)  # column -> infinite values, not drawn
    plob: bool = False
    link_efficiency_line: bool = False
    diqkd_zero_x: dict[str, float | None] = field(default_factory=dict)  # group -> first x with key fraction 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def read_results(source: str | Path | Iterable[Mapping[str, Any]]) -> tuple[list[str], list[dict[str, Any]], str]:
    """(columns, rows, name) of a result table: a CSV (or Parquet) path or dict rows.

    Parameters
    ----------
    source : str, Path or iterable of mapping
        A CSV or Parquet file (``qnet sweep`` output or any CSV with a header row), or rows.

    Returns
    -------
    (list of str, list of dict, str)
        The columns, the rows (cells as read: strings from a file) and a name for messages.

    Raises
    ------
    QnetError
        For a missing, unreadable or empty file.

    Examples
    --------
    >>> read_results([{"x": 1, "y": 2.0}, {"x": 2, "z": "a"}])
    (['x', 'y', 'z'], [{'x': 1, 'y': 2.0}, {'x': 2, 'z': 'a'}], 'the rows given')
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise QnetError(f"results file {str(path)!r} not found")
        if path.is_dir():
            raise QnetError(f"results file {str(path)!r} is a folder")
        if path.suffix.lower() == ".parquet":
            from qnet.studies.sweep import read_table

            header, cells = read_table(path)
            return list(header), [dict(zip(header, r)) for r in cells], str(path)
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                header = next(reader, None)
                body = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise QnetError(f"results file {str(path)!r} cannot be read: {exc}") from None
        if not header or not any(h.strip() for h in header):
            raise QnetError(f"results file {str(path)!r} is empty (expected a CSV with a header row)")
        header = [h.strip() for h in header]
        rows = [dict(zip(header, r)) for r in body if any(c.strip() for c in r)]
        return header, rows, str(path)
    rows = [dict(r) for r in source]
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    return columns, rows, "the rows given"


def _number(value: Any) -> float:
    """A cell as a float; empty, missing and non-numeric cells are NaN (JSON null is None)."""
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def _has_error(row: Mapping[str, Any]) -> bool:
    e = row.get(ERROR_COLUMN)
    return e is not None and not (isinstance(e, float) and math.isnan(e)) and str(e).strip() != ""


def _split_columns(y: str | Sequence[str]) -> tuple[str, ...]:
    names = [c.strip() for c in (y.split(",") if isinstance(y, str) else y)]
    if not names or any(not n for n in names):
        raise QnetError(f"--y {y!r}: expected one column or comma-separated columns (e.g. rate_hz,diqkd_key_rate_hz)")
    if len(set(names)) != len(names):
        raise QnetError(f"--y {y!r}: a column is named twice")
    return tuple(names)


def _group_columns(header: Sequence[str], x: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Input columns that are not a function of x (they split the rows into curves)."""
    out = []
    for c in header:
        if c == x or c in _OUTPUT_COLUMNS:
            continue
        seen: dict[Any, Any] = {}
        for r in rows:
            key, value = r.get(x), r.get(c)
            if key in seen and seen[key] != value:
                out.append(c)
                break
            seen.setdefault(key, value)
    return out


def _fmt(value: Any) -> str:
    v = _number(value)
    return f"{v:.4g}" if math.isfinite(v) else str(value)


# --------------------------------------------------------------------------- plotting


def plot_results(
    source: str | Path | Iterable[Mapping[str, Any]],
    x: str,
    y: str | Sequence[str],
    output: str | Path | None = None,
    *,
    logy: bool | None = None,
    title: str | None = None,
    overwrite: bool = False,
    figsize: tuple[float, float] = (7.5, 4.5),
    dpi: int = 120,
    ax: Any = None,
) -> "Figure":
    """Draw columns ``y`` of a result table against column ``x``; return the Figure.

    ``source`` is a CSV path (``qnet sweep`` output or any CSV with a header), a Parquet path,
    or a list of dict rows. ``y`` is one column, several comma-joined, or a sequence. ``logy``
    forces the y scale of every axis (default: log where a rate or ``link_efficiency`` is
    drawn). ``output`` (.png, .svg or .pdf) saves the figure; an existing file only with
    ``overwrite``. ``ax``: draw into this
    matplotlib Axes (e.g. one panel of a larger figure) instead of a new Figure.

    Reference lines and skipped rows are described in the module docstring; ``fig.qnet_plot``
    (and ``ax.qnet_plot``, per panel) is a :class:`PlotInfo` of what was drawn.

    Parameters
    ----------
    source : str, Path or iterable of mapping
        The table (see :func:`read_results`).
    x : str
        The column on the x axis.
    y : str or sequence of str
        The columns drawn.
    output : str or Path, optional
        The figure file (.png, .svg or .pdf).
    logy : bool, optional
        Force the y scale of every axis.
    title : str, optional
        The figure's title.
    overwrite : bool
        Replace an existing ``output``.
    figsize : (float, float)
        Inches; ``dpi``: dots per inch (a new Figure only).
    ax : matplotlib Axes, optional
        Draw here instead of a new Figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    QnetError
        For a missing file, an unknown column (naming the available ones), a table with no
        numeric data to draw, an output that may not be written, or matplotlib missing.

    Examples
    --------
    >>> import tempfile
    >>> rows = [{"length_km": 1, "rate_hz": 10.0, "fidelity": 0.9, "error": ""},
    ...         {"length_km": 2, "rate_hz": 5.0, "fidelity": 0.8, "error": ""},
    ...         {"length_km": 3, "rate_hz": "", "fidelity": "", "error": "never heralds"}]
    >>> out = Path(tempfile.mkdtemp()) / "rate.png"
    >>> fig = plot_results(rows, "length_km", "rate_hz,fidelity", out)
    >>> out.suffix, out.exists(), fig.qnet_plot.skipped_error_rows, fig.qnet_plot.logy
    ('.png', True, 1, {'left': True, 'right': False})
    """
    ys = _split_columns(y)
    if output is not None:
        from qnet.outputs import check_output_path

        if Path(output).suffix.lower() not in OUTPUT_SUFFIXES:
            raise QnetError(
                f"-o {output}: the figure format comes from the suffix: one of {', '.join(OUTPUT_SUFFIXES)}"
            )
        check_output_path(output, overwrite=overwrite)
    if ax is None:
        _require_matplotlib()
    table = _load(source, x, ys)
    layout = _Layout.of(table, x, ys, logy)
    own = ax is None
    if own:
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=dpi)
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    axes = {"left": ax}
    if layout.axes_cols["right"]:
        axes["right"] = ax.twinx()
    info = PlotInfo(
        x=x,
        y=ys,
        rows=len(table.rows),
        skipped_error_rows=table.skipped,
        groups=tuple(layout.labels.values()),
        logy=dict(layout.log),
    )
    handles = _draw(axes, table, layout, x, ys, info)
    _finish_axes(axes, table, layout, x, info, handles, title)
    if own:
        fig.tight_layout()
    fig.qnet_plot = info  # type: ignore[attr-defined]
    ax.qnet_plot = info
    if output is not None:
        from qnet.outputs import replacing

        with replacing(output) as tmp:
            fig.savefig(tmp, format=Path(output).suffix.lower()[1:])
    return fig


@dataclass
class _Table:
    """The rows of a result table: all of them, those without an error, and those drawn (sorted by x)."""

    header: list[str]
    rows: list[dict[str, Any]]
    name: str
    good: list[dict[str, Any]]
    points: list[dict[str, Any]]

    @property
    def skipped(self) -> int:
        return len(self.rows) - len(self.good)


def _load(source: Any, x: str, ys: tuple[str, ...]) -> _Table:
    """Read the table and keep the rows to draw; one-line errors for unknown columns or nothing to draw."""
    header, rows, name = read_results(source)
    if not header:
        raise QnetError(f"{name}: no rows and no columns")
    for col in (x, *ys):
        if col not in header:
            available = [h for h in header if h != ERROR_COLUMN]
            raise QnetError(f"unknown column {col!r} in {name}; available: {', '.join(available)}")
    if x in ys:
        raise QnetError(f"column {x!r} is both --x and --y")
    good = [r for r in rows if not _has_error(r)]
    skipped = len(rows) - len(good)
    if not good:
        raise QnetError(
            f"no numeric data to plot in {name}: "
            + (f"all {skipped} rows have an error" if rows else "the table has no rows")
        )
    points = [r for r in good if math.isfinite(_number(r.get(x)))]
    if not points:
        raise QnetError(
            f"no numeric data to plot in {name}: column {x!r} has no finite number in the {len(good)} rows without an error"
        )
    for col in ys:
        if not any(not math.isnan(_number(r.get(col))) for r in points):
            raise QnetError(
                f"no numeric data to plot in {name}: column {col!r} has no number in the rows without an error"
            )
    points.sort(key=lambda r: _number(r.get(x)))
    return _Table(header, rows, name, good, points)


@dataclass
class _Layout:
    """Curves (one per combination of the inputs that are not a function of x) and axes (rates left)."""

    groups: dict[tuple, list[dict[str, Any]]]
    labels: dict[tuple, str]
    rates: list[str]
    axes_cols: dict[str, list[str]]
    log: dict[str, bool]
    linear_fallback: list[str]

    @classmethod
    def of(cls, table: _Table, x: str, ys: tuple[str, ...], logy: bool | None) -> "_Layout":
        gcols = _group_columns(table.header, x, table.points)
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for r in table.points:
            groups.setdefault(tuple(str(r.get(c)) for c in gcols), []).append(r)
        labels = {k: ", ".join(f"{c}={_fmt(v)}" for c, v in zip(gcols, k)) for k in groups}
        rates = [c for c in ys if is_rate_column(c)]
        others = [c for c in ys if not is_rate_column(c)]
        axes_cols = {"left": rates or others, "right": others if rates else []}

        def default_log(cols: Sequence[str]) -> bool:
            return any(is_rate_column(c) or c in _LOG_COLUMNS for c in cols)

        log = {side: (default_log(cols) if logy is None else bool(logy)) for side, cols in axes_cols.items() if cols}
        linear_fallback = []
        for side, is_log in log.items():  # a log axis needs something positive to show
            if is_log and not any(_number(r.get(c)) > 0 for c in axes_cols[side] for r in table.points):
                log[side] = False
                linear_fallback.append(side)
        return cls(groups, labels, rates, axes_cols, log, linear_fallback)


_COLOURS = [f"C{i}" for i in range(10)]
_STYLES = ["-", "-.", ":", (0, (5, 1, 1, 1))]


def _draw(axes: dict[str, Any], table: _Table, layout: _Layout, x: str, ys: tuple[str, ...], info: PlotInfo) -> list:
    """Draw every curve and the reference lines; the legend handles."""
    handles: list = []
    plob_drawn: list[list[float]] = []
    several = len(layout.groups) > 1
    for gi, (key, grows) in enumerate(layout.groups.items()):
        xs = [_number(r.get(x)) for r in grows]
        suffix = f" ({layout.labels[key]})" if layout.labels[key] else ""
        for side, cols in layout.axes_cols.items():
            for col in cols:
                handles.append(_draw_column(axes[side], side, col, grows, xs, gi, suffix, layout, ys, info))
            if cols and side == "left" and layout.rates and PLOB_COLUMN in table.header and PLOB_COLUMN not in ys:
                line = _draw_plob(axes[side], grows, xs, layout.log[side], suffix if several else "", plob_drawn)
                if line is not None:
                    handles.append(line)
                    info.plob = True
        if DIQKD_COLUMN in table.header:
            key_x = _zero_crossing(xs, [_number(r.get(DIQKD_COLUMN)) for r in grows])
            info.diqkd_zero_x[layout.labels[key]] = key_x
            if key_x is not None:
                label = f"DI-QKD key fraction = 0 from {x} = {key_x:.4g}" + suffix
                line = axes["left"].axvline(
                    key_x, color="grey" if not several else _COLOURS[gi % 10], ls=":", lw=1.2, label=label
                )
                line.set_gid("reference:diqkd_zero")
                handles.append(line)
    if "link_efficiency" in ys:
        side = "left" if "link_efficiency" in layout.axes_cols["left"] else "right"
        line = axes[side].axhline(1.0, color="grey", ls="--", lw=0.9, label="link efficiency = 1")
        line.set_gid("reference:link_efficiency_1")
        handles.append(line)
        info.link_efficiency_line = True
    return handles


def _draw_column(
    a: Any,
    side: str,
    col: str,
    grows: list,
    xs: list[float],
    gi: int,
    suffix: str,
    layout: _Layout,
    ys: tuple[str, ...],
    info: PlotInfo,
) -> Any:
    """One column of one curve group; counts the values a log axis or infinity hides."""
    ci = ys.index(col)
    vals = [_number(r.get(col)) for r in grows]
    infinite = sum(1 for v in vals if math.isinf(v))
    if infinite:  # e.g. link_efficiency of memories that never decay
        info.hidden_infinite[col] = info.hidden_infinite.get(col, 0) + infinite
        vals = [math.nan if math.isinf(v) else v for v in vals]
    if layout.log[side]:
        bad = sum(1 for v in vals if v <= 0)
        if bad:
            info.hidden_nonpositive[col] = info.hidden_nonpositive.get(col, 0) + bad
        vals = [v if v > 0 else math.nan for v in vals]
    # several columns: a colour per column (and a line style per group); one column: a colour per group
    style = _STYLES[gi % len(_STYLES)] if len(layout.groups) > 1 and len(ys) > 1 else "-"
    colour = _COLOURS[(ci if len(ys) > 1 else gi) % 10]
    if side == "right":
        style = "-." if style == "-" else style
    label = col + suffix + (" [right axis]" if side == "right" else "")
    (line,) = a.plot(xs, vals, linestyle=style, color=colour, marker="." if len(xs) < 30 else None, label=label)
    line.set_gid(f"y:{col}")
    return line


def _draw_plob(a: Any, grows: list, xs: list[float], log: bool, suffix: str, drawn: list[list[float]]) -> Any:
    """The PLOB bound of one curve group, dashed (None when it has no value or equals one drawn)."""
    plob = [_number(r.get(PLOB_COLUMN)) for r in grows]
    plob = [v if math.isfinite(v) and (v > 0 or not log) else math.nan for v in plob]
    if not any(math.isfinite(v) for v in plob) or any(_same(plob, p) for p in drawn):
        return None
    (line,) = a.plot(xs, plob, "k--", lw=1.2, label="PLOB bound (repeaterless, per attempt time)" + suffix)
    line.set_gid("reference:plob")
    drawn.append(plob)
    return line


def _finish_axes(
    axes: dict[str, Any], table: _Table, layout: _Layout, x: str, info: PlotInfo, handles: list, title: str | None
) -> None:
    """Scales, labels, grid, the notes (what was not drawn) and the legend."""
    ax = axes["left"]
    for side, a in axes.items():
        a.set_yscale("log" if layout.log[side] else "linear")
        cols = layout.axes_cols[side]
        a.set_ylabel(
            _LABELS.get(cols[0], cols[0])
            if len(cols) == 1
            else ("per second" if side == "left" and layout.rates else ", ".join(cols))
        )
    ax.set_xlabel(_LABELS.get(x, x))
    ax.grid(True, which="both", alpha=0.3)
    for side in layout.linear_fallback:
        info.notes.append(f"{', '.join(layout.axes_cols[side])}: no value > 0, linear axis")
    skipped, n = table.skipped, len(table.rows)
    if skipped:
        info.notes.append(
            f"{skipped} of {n} rows {'has' if skipped == 1 else 'have'} an error and {'is' if skipped == 1 else 'are'} not drawn"
        )
    for col, k in info.hidden_nonpositive.items():
        info.notes.append(f"{col}: {k} value{'s' if k > 1 else ''} <= 0 not drawn on the log axis")
    for col, k in info.hidden_infinite.items():
        info.notes.append(f"{col}: {k} infinite value{'s' if k > 1 else ''} not drawn")
    dropped = len(table.good) - len(table.points)
    if dropped:
        info.notes.append(f"{dropped} row{'s' if dropped > 1 else ''} without a number in {x!r} not drawn")
    # the notes head the legend, so they never hide data or each other
    ax.legend(handles=handles, fontsize=7, loc="best", title="\n".join(info.notes) or None, title_fontsize=6)
    if title:
        ax.set_title(title, fontsize=9)


def _require_matplotlib() -> None:
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise QnetError("qnet plot needs matplotlib: pip install 'qnet[plot]'") from None


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all((u == v) or (math.isnan(u) and math.isnan(v)) for u, v in zip(a, b))


def _zero_crossing(xs: Sequence[float], values: Sequence[float]) -> float | None:
    """First x at which ``values`` (in increasing x) is 0 after having been positive."""
    positive = False
    for xv, v in zip(xs, values):
        if math.isnan(v):
            continue
        if v > 0:
            positive = True
        elif positive:
            return xv
    return None

"""Running a sweep: :func:`run_sweep` evaluates a grid chunk by chunk and streams the rows to disk.

The run, step by step: check the request and lock the output (:func:`run_sweep`); read what a
resumed output holds and decide what is left (:func:`_prepare`); write the metadata sidecar
(:func:`_start_metadata`); evaluate the chunks on an executor and append each finished chunk
to the journal (:class:`_Writer`, :func:`_execute`); and finally rewrite the table in grid
order and record how the run ended (:func:`_finish`).

Only the standard library is imported at module level.
"""

from __future__ import annotations

import gc
import itertools
import math
import operator
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from qnet.errors import QnetError
from qnet.studies.progress import Progress
from qnet.studies.sweep.evaluators import Evaluator, error_message
from qnet.studies.sweep.executors import WorkerDied, check_dask_address, dask_address, start_executor
from qnet.studies.sweep.profile import StageTimes, SweepProfile
from qnet.studies.sweep.axes import Axis, Grid
from qnet.studies.sweep.output import (
    check_disk_space,
    check_grid_size,
    check_sweep_output,
    finalize,
    now,
    read_existing,
    read_meta,
    sidecar_paths,
    sweep_id,
    versions,
    write_json,
)
from qnet.studies.sweep.table import (
    ERROR_COLUMN,
    SWEEP_ID_COLUMN,
    ColumnRows,
    Journal,
    RowFormatter,
    canonical,
    output_format,
    require_pyarrow,
)

__all__ = ["run_sweep", "SweepSummary"]

#: While a run has the cyclic collector off, the young objects are collected once there are
#: this many more (a fast chunk leaves ~2,000; the collector's own threshold is 700).
_YOUNG_GARBAGE = 20_000


@dataclass
class SweepSummary:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    output : Path
        The table.
    points : int
        Grid points.
    skipped : int
        Points already in the output (resume).
    evaluated : int
        Points evaluated by this run.
    errors : int
        Of those, points recorded with an error.
    seconds : float
        Wall time of the run (s).
    status : str
        'complete', 'interrupted' or 'failed'.
    metadata_path : Path
        The sidecar ``OUT.meta.json``.
    profile : SweepProfile or None
        Where the time went (``run_sweep(profile=True)``), else None.

    Examples
    --------
    >>> SweepSummary(Path("t.csv"), 4, 0, 4, 1, 2.0, "complete", Path("t.csv.meta.json")).points_per_second
    2.0
    """

    output: Path
    points: int  # grid points
    skipped: int  # already in the output (resume)
    evaluated: int  # evaluated by this run
    errors: int  # of those, points recorded with an error
    seconds: float
    status: str  # complete, interrupted, failed
    metadata_path: Path
    profile: SweepProfile | None = None  # stage times, when run_sweep(profile=True)

    @property
    def points_per_second(self) -> float:
        """Points evaluated per second of this run (inf when it took no time)."""
        return self.evaluated / self.seconds if self.seconds > 0 else math.inf


def run_sweep(
    evaluator: Evaluator,
    axes: Sequence[Axis],
    output: str | Path,
    *,
    fmt: str | None = None,
    chunk_size: int | None = None,
    workers: int = 1,
    dask: Any = None,
    dask_security: Any = None,
    dask_insecure: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    retry_errors: bool = False,
    progress: bool = True,
    progress_stream: Any = None,
    progress_interval: float = 10.0,
    metadata: Mapping[str, Any] | None = None,
    profile: bool = False,
) -> SweepSummary:
    """Evaluate ``evaluator`` over the grid of ``axes`` and write the table to ``output``.

    See :mod:`qnet.studies.sweep`. ``workers > 1`` evaluates in that many local processes at once; ``dask`` (a
    scheduler address or a ``distributed.Client``) sends the chunks to a Dask cluster instead;
    an address that is not on this machine needs ``tls://`` (``dask_security``, see
    :func:`~qnet.studies.sweep.dask_security`) or ``dask_insecure``
    (:func:`~qnet.studies.sweep.check_dask_address`). An existing output is an error unless
    ``resume`` (skip the points it holds; with ``retry_errors`` the points recorded with an
    error are evaluated again) or ``overwrite``; the sidecars follow the same rule
    (:func:`~qnet.studies.sweep.check_sweep_output`), and the output is locked for the run (a
    second run on it fails). A run that stops before finishing any point leaves no file behind.

    Parameters
    ----------
    evaluator : Evaluator
        What computes each point's row (:class:`~qnet.studies.sweep.LinkEvaluator`, ...).
    axes : sequence of Axis
        The grid (:func:`~qnet.studies.sweep.parse_vary`, :func:`~qnet.studies.sweep.parse_values`).
    output : str or Path
        The table (.csv, or .parquet/.pq for Parquet).
    fmt : str, optional
        'csv' or 'parquet' (default: from the suffix).
    chunk_size : int, optional
        Points per chunk (default: the evaluator's, smaller for parallel runs).
    workers : int
        Local processes evaluating at once: for an evaluator that ``helps_while_workers_start``
        (a link sweep) this process and ``workers - 1`` spawned workers, else ``workers``
        spawned workers (:func:`~qnet.studies.sweep.executors.start_executor`).
    dask, dask_security, dask_insecure
        A Dask scheduler address or client, its TLS settings, and plain TCP to another machine.
    resume, overwrite, retry_errors : bool
        What to do with an existing output (see above).
    progress, progress_stream, progress_interval
        The progress line: on or off, where (stderr by default), and how often (s) when not a terminal.
    metadata : mapping, optional
        Merged into the sidecar ``OUT.meta.json``.
    profile : bool
        Time the stages of the run (:class:`~qnet.studies.sweep.profile.SweepProfile` in the
        summary and in the run's entry of ``OUT.meta.json``).

    Returns
    -------
    SweepSummary

    Raises
    ------
    KeyboardInterrupt
        After writing what finished.
    WorkerDied
        When a worker dies (the finished points are on disk).
    QnetError
        For an invalid request, or (saying whether to ``--resume``) when the run fails.

    Examples
    --------
    >>> import tempfile, tomllib
    >>> from qnet.studies.sweep import LinkEvaluator, parse_values, read_table
    >>> with open("examples/liu2026_ion_link.toml", "rb") as fh:
    ...     ev = LinkEvaluator(network=tomllib.load(fh), a="alice", b="bob", link_backend="batch")
    >>> out = Path(tempfile.mkdtemp()) / "t.csv"
    >>> summary = run_sweep(ev, [parse_values("fibres.alice-station.length_km=1,2")], out, progress=False)
    >>> summary.points, summary.errors, summary.status
    (2, 0, 'complete')
    >>> header, rows = read_table(out)
    >>> header[:2], [round(float(r[header.index("fidelity")]), 3) for r in rows]
    (['fibres.alice-station.length_km', 'fidelity'], [0.9..., 0.9...])
    """
    t_start = time.perf_counter()
    output = Path(output)
    fmt = output_format(output, fmt)
    if not isinstance(evaluator, Evaluator):
        raise TypeError(f"evaluator {evaluator!r} is not a qnet.studies.sweep.Evaluator")
    if fmt == "parquet":
        require_pyarrow()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QnetError(f"workers = {workers!r} is invalid: an integer >= 1")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise QnetError(f"chunk size = {chunk_size!r} is invalid: an integer >= 1")
    if isinstance(dask, str):
        check_dask_address(dask, security=dask_security, insecure=dask_insecure)
    grid_ = Grid(axes)
    check_grid_size(grid_)
    columns = list(grid_.fields) + list(evaluator.columns) + [ERROR_COLUMN, SWEEP_ID_COLUMN]
    if len(set(columns)) != len(columns):
        raise QnetError(f"a varied field has the name of a result column: {columns}")
    check_sweep_output(output, fmt, resume=resume, overwrite=overwrite)
    from qnet.outputs import output_lock

    lock = output_lock(output)
    try:
        plan = _prepare(
            evaluator, grid_, output, fmt, columns, resume=resume, overwrite=overwrite, retry_errors=retry_errors
        )
        run = _Run(
            evaluator,
            axes,
            plan,
            chunk_size=chunk_size,
            workers=workers,
            dask=dask,
            dask_security=dask_security,
            bar_args=dict(stream=progress_stream, interval=progress_interval, enabled=progress),
            metadata=metadata,
            profile=profile,
            t_start=t_start,
        )
        return run.go()
    finally:
        lock.release()


@dataclass
class _Plan:
    """What the output holds and what is left to do, once the output is locked."""

    grid: Grid
    output: Path
    fmt: str
    columns: list[str]
    meta_path: Path
    journal_path: Path
    resuming: bool
    describe: dict[str, Any]
    ident: str
    existing: list[list[str]]
    meta: dict[str, Any]
    done_keys: set[tuple]
    skipped: int

    @property
    def todo(self) -> int:
        return self.grid.size - self.skipped


def _prepare(
    evaluator: Evaluator,
    grid_: Grid,
    output: Path,
    fmt: str,
    columns: list[str],
    *,
    resume: bool,
    overwrite: bool,
    retry_errors: bool,
) -> _Plan:
    """Read what a resumed output holds, check the disk, clear an overwritten output."""
    meta_path, *rest = sidecar_paths(output, fmt)
    journal_path = rest[0] if rest else output
    resuming = check_sweep_output(output, fmt, resume=resume, overwrite=overwrite)  # again, under the lock
    describe = evaluator.describe()
    ident = sweep_id(describe)
    existing: list[list[str]] = []
    meta: dict[str, Any] = {}
    if resuming:
        meta = read_meta(meta_path, output, describe)
        existing = read_existing(output, journal_path, columns, ident)
    n_fields = len(grid_.fields)
    error_at = columns.index(ERROR_COLUMN)
    done_keys = {
        tuple(canonical(c) for c in row[:n_fields]) for row in existing if not (retry_errors and row[error_at])
    }
    skipped = sum(map(grid_.count, done_keys))
    check_disk_space(grid_, grid_.size - skipped, columns, output.parent)
    if not resuming:
        for p in (output, journal_path, meta_path):
            p.unlink(missing_ok=True)  # --overwrite (check_sweep_output allowed it)
    return _Plan(
        grid_,
        output,
        fmt,
        columns,
        meta_path,
        journal_path,
        resuming,
        describe,
        ident,
        existing,
        meta,
        done_keys,
        skipped,
    )


def _chunk_size(evaluator: Evaluator, chunk_size: int | None, workers: int, dask: Any, todo: int) -> int:
    """The points per chunk: as asked, else the evaluator's, smaller when parallel (4 chunks per worker)."""
    size = chunk_size or evaluator.chunk_size
    if (dask is not None or workers > 1) and chunk_size is None:
        n = workers if dask is None else 4
        size = max(16, min(size, math.ceil(todo / (4 * n)) if todo else size))
    return size


def _todo(grid: Grid, done: set[tuple]) -> Iterable[tuple[int, tuple]]:
    """(position, point) of every grid point not in ``done`` (canonical keys), lazily."""
    if not done:
        return enumerate(grid)
    return (
        (i, p) for i, p in enumerate(grid) if tuple([v if type(v) is float else canonical(v) for v in p]) not in done
    )


def _chunks(
    todo: Iterable[tuple[int, tuple]], size: int, inflight: dict[int, list[tuple]]
) -> Iterator[tuple[list[int], list[tuple]]]:
    """Chunks (positions, points) of ``size`` points; each chunk's points wait in ``inflight`` until written."""
    it = iter(todo)
    while batch := list(itertools.islice(it, size)):
        indices, values = map(list, zip(*batch))
        inflight[indices[0]] = values
        yield indices, values


def _start_metadata(
    evaluator: Evaluator,
    axes: Sequence[Axis],
    plan: _Plan,
    *,
    size: int,
    workers: int,
    dask: Any,
    metadata: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, this run's entry in it), written to the sidecar before the first chunk."""
    extra = (["dask", "distributed"] if dask is not None else []) + (["pyarrow"] if plan.fmt == "parquet" else [])
    address = None if dask is None else (dask if isinstance(dask, str) else dask_address(dask))
    run_info = {
        "started": now(),
        "finished": None,
        "status": "running",
        "link_backend": evaluator.link_backend,
        "workers": workers if dask is None else None,
        "dask": address,
        "dask_tls": None if address is None else address.startswith("tls://"),
        "chunk_size": size,
        "points_skipped": plan.skipped,
        "points_evaluated": 0,
        "errors": 0,
        "versions": versions(extra),
    }
    meta = {
        **plan.meta,
        **(dict(metadata) if metadata else {}),
        "format": plan.fmt,
        "columns": plan.columns,
        "axes": [a.as_dict() for a in axes],
        "points": plan.grid.size,
        "evaluator": plan.describe,
        SWEEP_ID_COLUMN: plan.ident,
        "seed": evaluator.seed,
        "method": evaluator.method_description,
    }
    meta.setdefault("runs", [])
    meta["runs"] = list(meta["runs"]) + [run_info]
    write_json(plan.meta_path, meta)
    return meta, run_info


class _Writer:
    """Appends finished chunks to the journal, counting points and errors, and moves the progress bar.

    Chunks are appended in the order they were started (grid order): a chunk that finishes
    before an earlier one (parallel workers) waits in memory for it, so a fresh CSV output stays
    in grid order and needs no final rewrite. :meth:`flush` appends the waiting chunks whatever
    their order when the run ends without the earlier ones (Ctrl-C, a failure).
    """

    def __init__(self, evaluator: Evaluator, plan: _Plan, inflight: dict[int, list[tuple]], bar: Progress):
        self.plan, self.inflight, self.bar = plan, inflight, bar
        self.n_fields = len(plan.grid.fields)
        self.value_columns = tuple(evaluator.columns)
        self.formatter = RowFormatter(self.n_fields + len(self.value_columns))
        self.journal = Journal(plan.journal_path, plan.columns)
        self.evaluated = self.errors = 0
        # a fresh CSV output written in grid order with no repeated point is already the final
        # table: the rewrite at the end is then skipped
        self.in_order = plan.fmt == "csv" and not plan.existing and not plan.grid.has_repeats
        self.last = -1
        self.collect = False  # collect young garbage between chunks (set while the run has gc off)
        self.ready: dict[int, tuple[list[int], list[dict[str, Any]]]] = {}  # finished, waiting for an earlier chunk

    def write(self, indices: list[int], rows: list[dict[str, Any]]) -> None:
        """Take one finished chunk: appended now, with the waiting ones it unblocks, or when the earlier ones are."""
        self.ready[indices[0]] = (indices, rows)
        while self.inflight:
            waiting = self.ready.pop(next(iter(self.inflight)), None)  # the oldest chunk not written yet
            if waiting is None:
                return
            self._append(*waiting)

    def flush(self) -> None:
        """Append the chunks still waiting for an earlier one (the run ends without it)."""
        for first in sorted(self.ready):
            self._append(*self.ready.pop(first))

    def _append(self, indices: list[int], rows: list[dict[str, Any]]) -> None:
        """Append one finished chunk to the journal."""
        values = self.inflight.pop(indices[0])
        if isinstance(rows, ColumnRows):  # (no error column: no errors)
            errs: Sequence[Any] = rows.column(ERROR_COLUMN) if ERROR_COLUMN in rows.names else [None] * len(rows)
        else:
            errs = [row.get(ERROR_COLUMN) for row in rows]
        n_err = 0
        if any(errs):
            lines = [" ".join(str(err).split()) if err else "" for err in errs]  # one line each
            n_err = sum(map(bool, lines))
        else:
            lines = [""] * len(rows)
        if indices[0] <= self.last or any(map(operator.ge, indices, indices[1:])):
            self.in_order = False
        self.last = indices[-1]
        columns_: list[Sequence[Any]] = list(zip(*values)) if values else []
        columns_ += self._value_columns(rows, n_err)
        self.journal.write_text(self.formatter.lines(columns_, lines, self.plan.ident))
        self.evaluated += len(indices)
        self.errors += n_err
        self.bar.update(len(indices), n_err)
        if self.collect and gc.get_count()[0] > _YOUNG_GARBAGE:
            gc.collect(1)

    def _value_columns(self, rows: list[dict[str, Any]], n_err: int) -> list[Sequence[Any]]:
        """The evaluator's columns of the rows (None where a row lacks one: an error row)."""
        names = self.value_columns
        if isinstance(rows, ColumnRows) and set(names) <= set(rows.names):  # (as the evaluator made them)
            return [rows.column(c) for c in names]
        if not n_err and len(names) > 1:
            try:  # every row has every column: picked out in C
                return list(zip(*map(operator.itemgetter(*names), rows)))
            except KeyError:
                pass
        return [[row.get(c) for row in rows] for c in names]

    def finished(self) -> str:
        """What a failed run leaves: where the finished points are, and how to complete them."""
        done = self.plan.skipped + self.evaluated + sum(len(indices) for indices, _ in self.ready.values())
        if done == 0:
            return "nothing was written"
        return f"the {done} finished points are in {self.plan.output}: rerun with --resume to complete it"


class _Run:
    """One run of :func:`run_sweep` on a locked output."""

    def __init__(
        self,
        evaluator: Evaluator,
        axes: Sequence[Axis],
        plan: _Plan,
        *,
        chunk_size: int | None,
        workers: int,
        dask: Any,
        dask_security: Any,
        bar_args: dict[str, Any],
        metadata: Mapping[str, Any] | None,
        profile: bool = False,
        t_start: float | None = None,
    ):
        self.evaluator, self.plan = evaluator, plan
        self.workers, self.dask, self.dask_security = workers, dask, dask_security
        self.size = _chunk_size(evaluator, chunk_size, workers, dask, plan.todo)
        self.meta, self.run_info = _start_metadata(
            evaluator, axes, plan, size=self.size, workers=workers, dask=dask, metadata=metadata
        )
        self.inflight: dict[int, list[tuple]] = {}
        self.bar = Progress(plan.grid.size, plan.skipped, label="qnet sweep", unit="points", **bar_args)
        self.writer = _Writer(evaluator, plan, self.inflight, self.bar)
        self.status = "failed"
        self.t0 = time.perf_counter()
        self.profile = profile
        self.t_start = self.t0 if t_start is None else t_start
        self.times, self.worker_times = StageTimes(), StageTimes()

    def go(self) -> SweepSummary:
        """Run the chunks, then finish the files whatever happened."""
        # the cyclic garbage collector would walk everything alive (modules, the grid) again and
        # again (~10% of a fast sweep): young generations only, once per chunk, during the run
        gc_enabled = gc.isenabled()
        gc.disable()
        self.writer.collect = gc_enabled
        try:
            self._execute()
        finally:
            if gc_enabled:
                gc.enable()
            self._finish()
        plan, w = self.plan, self.writer
        return SweepSummary(
            plan.output,
            plan.grid.size,
            plan.skipped,
            w.evaluated,
            w.errors,
            time.perf_counter() - self.t0,
            self.status,
            plan.meta_path,
            self._profile(),
        )

    def _profile(self) -> SweepProfile | None:
        """The stage times so far ("wait": the main process's time no stage claims), or None."""
        if not self.profile:
            return None
        total = time.perf_counter() - self.t_start
        main = dict(self.times.seconds)
        main["wait"] = max(0.0, total - sum(main.values()))
        parallel = self.dask is not None or self.workers > 1
        return SweepProfile(
            total, self.writer.evaluated, self.workers if parallel else 1, main, dict(self.worker_times.seconds)
        )

    def _take(self, result: tuple) -> None:
        """Write one finished chunk (and keep its stage times)."""
        t = time.perf_counter()
        self.writer.write(result[0], result[1])
        if self.profile:
            self.times.add("write", time.perf_counter() - t)
            if len(result) > 2:
                parallel = self.dask is not None or self.workers > 1
                (self.worker_times if parallel else self.times).merge(result[2])

    def _execute(self) -> None:
        """Evaluate every chunk left, writing each as it finishes; turn failures into one-line errors."""
        plan, writer = self.plan, self.writer
        parallel = self.dask is not None or self.workers > 1
        evaluator = self.evaluator.for_parallel() if parallel else self.evaluator
        chunks = _chunks(_todo(plan.grid, plan.done_keys), self.size, self.inflight)
        executor = None
        try:
            executor = start_executor(
                evaluator,
                plan.grid.fields,
                chunks,
                workers=self.workers if plan.todo else 1,
                dask=self.dask,
                security=self.dask_security,
                profile=self.profile,
                points=plan.todo,
            )
            if self.profile:
                self.times.add("prepare", time.perf_counter() - self.t_start)
            for result in executor:
                self._take(result)
            self.status = "complete"
            self.times.merge(getattr(executor, "local_times", {}))  # chunks the main process evaluated itself
        except KeyboardInterrupt:
            self.status = "interrupted"
            if executor is not None:
                try:
                    for result in executor.drain():
                        self._take(result)
                except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for running chunks
                    pass
            raise
        except WorkerDied as exc:
            raise WorkerDied(f"{exc}; {writer.finished()}") from None
        except QnetError as exc:
            raise QnetError(f"{exc}; {writer.finished()}" if writer.evaluated else str(exc)) from None
        except Exception as exc:
            raise QnetError(f"the sweep stopped: {error_message(exc)}; {writer.finished()}") from exc
        finally:
            if executor is not None:
                executor.close()

    def _finish(self) -> None:
        """Close the journal; remove every file when nothing finished, else write the final table and metadata."""
        plan, writer = self.plan, self.writer
        t_finish = time.perf_counter()
        writer.flush()
        writer.journal.close(sync=writer.in_order)
        self.bar.close()
        if self.status != "complete" and not plan.resuming and writer.evaluated == 0:
            for p in (
                plan.output,
                plan.journal_path,
                plan.meta_path,
            ):  # nothing finished: leave nothing to block a rerun
                p.unlink(missing_ok=True)
            return
        if not writer.in_order:
            text_columns = self._text_columns()
            finalize(plan.output, plan.fmt, plan.journal_path, plan.columns, plan.grid, text_columns)
        self.run_info.update(
            finished=now(),
            status=self.status,
            points_evaluated=writer.evaluated,
            errors=writer.errors,
            seconds=round(time.perf_counter() - self.t0, 3),
        )
        if self.profile:
            self.times.add("finish", time.perf_counter() - t_finish)
        profile = self._profile()  # None unless profiled
        if profile is not None:
            self.run_info["profile"] = profile.to_dict()
        write_json(plan.meta_path, self.meta)

    def _text_columns(self) -> set[str]:
        """Columns a Parquet table stores as text: string inputs, the evaluator's text columns, sweep_id."""
        first = next(iter(self.plan.grid))
        fields = self.plan.grid.fields
        return (
            {f for f, v in zip(fields, first) if isinstance(v, str)}
            | {SWEEP_ID_COLUMN}
            | set(self.evaluator.text_columns)
        )

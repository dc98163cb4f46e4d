"""Parameter sweeps at scale: a grid of points, evaluated in chunks, streamed to a table on disk.

The pieces, each usable on its own:

* **Axes and grid.** An :class:`Axis` gives one or more fields (``nodes.NAME.FIELD``,
  ``fibres.NAME.FIELD``, ``network.FIELD``, the keys of ``qnet link --set``) and their values;
  fields of one axis vary *together*. :class:`Grid` is the outer product of the axes, the last
  axis varying fastest, generated point by point and never listed (:func:`grid` lists a small
  one). :func:`parse_vary` reads ``FIELD[,FIELD...]=START:STOP:N[:log]`` into a :class:`Range`
  (values computed on demand) and :func:`parse_values` reads ``FIELD[,FIELD...]=V1,V2,...``
  (TOML values; a bare word is a string). A grid of more than :data:`MAX_POINTS` points, or
  whose table would not fit on the disk, is refused before anything is written.
* **Evaluators** (pluggable). An evaluator turns a list of points (``{field: value}`` dicts) into
  one result dict per point: its ``columns`` (numbers) or ``{"error": message}`` (or a
  :class:`~qnet.studies.sweep.table.ColumnRows`, the same rows held as columns, which the writer
  takes without a dict per row: the batch link evaluator returns one). It must be
  picklable (it travels to worker processes and Dask workers) and subclasses :class:`Evaluator`,
  whose defaults it may override: ``describe()`` (a JSON-ready dict identifying what it
  computes: a resumed sweep must match it), ``chunk_size`` (preferred points per chunk) and
  ``for_parallel()`` (a copy configured for one-thread workers). For ``workers > 1`` its class must be importable from a module (worker
  processes are spawned). :class:`LinkEvaluator` evaluates one elementary link,
  :class:`ChainEvaluator` a repeater chain (exact where available, else a seeded Monte Carlo
  whose per-point seed is derived from the point, so serial, parallel and resumed sweeps agree),
  :class:`TrafficEvaluator` a traffic run of many requests. An axis over ``seed``
  (:data:`RUN_FIELDS`) sets a chain's or traffic run's seed per point: replications.
* **Execution** (:func:`run_sweep`). Points go to the evaluator in chunks (256 by default:
  one Aer ``run()`` per chunk), in this process, in ``workers`` local processes at once
  (``workers > 1``: for a link sweep this process and ``workers - 1`` spawned workers, else
  ``workers`` spawned workers; Aer ``max_parallel_threads=1`` each) or on an existing ``dask.distributed`` cluster
  (``dask=ADDRESS`` or a ``Client``). The Dask scheduler runs the code it is sent and qnet
  unpickles what comes back, so the cluster must be trusted; an address on another machine
  needs ``tls://`` (:func:`dask_security`) or an explicit ``dask_insecure``
  (:func:`check_dask_address`).
* **Nothing lost.** Rows are appended to the output chunk by chunk and flushed (a Parquet
  output is journalled to ``OUT.partial.csv`` and written at the end). Ctrl-C waits for the
  chunks already running, writes them and stops; a killed worker stops the sweep with every
  finished point on disk; any other failure stops it with one line saying whether to resume.
  A run that finished no point leaves no file behind. ``resume=True`` skips the points already
  in the output (matched on the varied inputs) and appends the rest, after checking that the
  output was made by the same evaluator (its ``OUT.meta.json``, naming what differs, and every
  row's ``sweep_id``). While a run writes an output it holds :func:`qnet.outputs.output_lock`
  on it: a second run on the same output fails. A point that fails (an invalid value, a link that
  never heralds) is a row with its message in ``error``. When the sweep ends (or is
  interrupted) the table is rewritten in grid order, atomically (a point listed twice in the
  grid is one row; rows of a resumed output that are not in this grid stay, after it).
* **Output.** One row per point: every varied field as a column (its full key as the name),
  the evaluator's columns (for a link: :data:`qnet.link.results.LINK_FIELDS` and
  :data:`LINK_EXTRA_COLUMNS`: total fibre length, fibre transmission, PLOB bound), then ``error``
  (empty when the point succeeded) and ``sweep_id`` (:func:`sweep_id`: what computed the row).
  CSV numbers are written with ``repr`` (they read back exactly); ``inf`` is written as
  ``inf``. A sidecar ``OUT.meta.json`` records the versions, the network file's sha256, the
  axes (a range as its START, STOP, N), the overrides, the engine, the workers and the start
  and finish times of every run into this output. The table and its sidecars follow one
  overwrite rule (:func:`check_sweep_output`).

The modules, one job each: :mod:`~qnet.studies.sweep.axes` (axes, grid, point values),
:mod:`~qnet.studies.sweep.evaluators` (the :class:`Evaluator` base class, link and chain
evaluators) with :mod:`~qnet.studies.sweep.linkpoints` (the link's fast per-point update),
:mod:`~qnet.studies.sweep.traffic` (the traffic evaluator),
:mod:`~qnet.studies.sweep.table` (table files), :mod:`~qnet.studies.sweep.executors` (serial,
worker processes, Dask), :mod:`~qnet.studies.sweep.output` (sidecars, metadata, resume),
:mod:`~qnet.studies.sweep.profile` (stage times, ``qnet sweep --profile``) and
:mod:`~qnet.studies.sweep.runner` (:func:`run_sweep`). This package imports them on first use
(:func:`qnet._lazy.attach`); only the standard library is imported at module level (numpy,
qiskit, dask and pyarrow are imported where they are used).
"""

from qnet._lazy import attach

SUBMODULES = ("axes", "evaluators", "linkpoints", "table", "executors", "output", "runner", "traffic", "profile")
EXPORTS = {
    "TrafficEvaluator": "traffic",
    "TRAFFIC_REQUEST_COLUMNS": "traffic",
    "RUN_FIELDS": "axes",
    "Axis": "axes",
    "parse_vary": "axes",
    "parse_values": "axes",
    "grid": "axes",
    "Grid": "axes",
    "Range": "axes",
    "MAX_POINTS": "axes",
    "check_field": "axes",
    "Evaluator": "evaluators",
    "LinkEvaluator": "evaluators",
    "LINK_EXTRA_COLUMNS": "evaluators",
    "ChainEvaluator": "evaluators",
    "clear_cache": "evaluators",
    "run_sweep": "runner",
    "SweepSummary": "runner",
    "SweepProfile": "profile",
    "check_sweep_output": "output",
    "sidecar_paths": "output",
    "sweep_id": "output",
    "SWEEP_ID_COLUMN": "table",
    "ERROR_COLUMN": "table",
    "read_table": "table",
    "ColumnRows": "table",
    "output_format": "table",
    "check_dask_address": "executors",
    "dask_security": "executors",
    "WorkerDied": "executors",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

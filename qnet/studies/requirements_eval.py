"""The figures of a route at given improvement factors, and the journal that makes a search resumable.

:class:`RequirementsEvaluator` is a sweep :class:`~qnet.studies.sweep.Evaluator`: a point is
``{variable name: improvement factor}``, a row the end-to-end figures (``qnet chain --json``
names) of the route with every variable's fields moved by its factor
(:func:`~qnet.studies.improvements.improved_value`), or an error. The network is rebuilt from
its raw table with ``--set``-style overrides (the same validation as ``qnet chain --set``); the
links of all points of a call run in one Aer (or batch) call.

Two methods: ``exact`` (:func:`qnet.repeater.chain.exact_chain`: deterministic, so a search on
it needs no common random numbers) and ``monte_carlo`` with **common random numbers**: every
point uses the same seed, so its deliveries draw the same uniforms (numpy draws a geometric
number of attempts by inverting one uniform) and two nearby points differ by the parameters,
not by the luck of the draw. The figures are then piecewise constant in the success
probabilities (integer attempt counts) and smooth in the coherence times.

:class:`Journal` appends each evaluated point to a JSON-lines file (a header line describes the
problem; a resumed search must describe the same one) so a rerun with ``--resume`` replays the
search from the file instead of recomputing it.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from qnet.errors import QnetError
from qnet.studies.improvements import TARGET_FIGURES, Variable
from qnet.studies.sweep.evaluators import Evaluator, error_message, table_sha256

__all__ = ["RequirementsEvaluator", "Journal", "BatchWorkers", "METHODS", "FIGURE_COLUMNS"]

#: The evaluation methods.
METHODS = ("exact", "monte_carlo")
#: The figures every row holds (plus ``error``).
FIGURE_COLUMNS = TARGET_FIGURES


@dataclass(frozen=True)
class RequirementsEvaluator(Evaluator):
    """The route's end-to-end figures at improvement factors (module docstring).

    Parameters
    ----------
    network : mapping
        The raw network table.
    hops : tuple of (a, b, station)
        The route (fixed for the whole search).
    variables : tuple of Variable
        What a point's factors move.
    overrides : tuple of str
        ``--set`` strings applied first.
    method : str
        ``"exact"`` or ``"monte_carlo"`` (common random numbers: the same ``seed`` for every point).
    samples : int
        Monte Carlo deliveries per point.
    seed : int
        The Monte Carlo seed shared by every point.
    swap_policy : str
        ``"asap"`` or ``"nested"``.
    link_backend : str
        Link backend: ``"aer"`` or ``"batch"``.
    source : str
        The table's file name, for error messages.

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.improvements import Variable
    >>> with open("examples/ion_repeater_chain.toml", "rb") as fh:
    ...     table = tomllib.load(fh)
    >>> t2 = Variable("nodes.*.t2_s", "time", ("nodes.alice.t2_s", "nodes.r1.t2_s"), (10.0, 10.0))
    >>> ev = RequirementsEvaluator(table, (("alice", "r1", "s1"),), (t2,))
    >>> low, high = ev.evaluate([{"nodes.*.t2_s": 1.0}, {"nodes.*.t2_s": 100.0}])
    >>> low["fidelity"] < high["fidelity"], low["error"]
    (True, '')
    """

    network: Mapping[str, Any]
    hops: tuple[tuple[str, str, str], ...]
    variables: tuple[Variable, ...]
    overrides: tuple[str, ...] = ()
    method: str = "exact"
    samples: int = 1000
    seed: int = 1
    swap_policy: str = "asap"
    link_backend: str = "aer"
    source: str = "<dict>"
    columns: tuple[str, ...] = field(default=FIGURE_COLUMNS, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise QnetError(f"method {self.method!r} is invalid; one of {', '.join(METHODS)}")
        if self.method == "monte_carlo" and (
            isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 2
        ):
            raise QnetError(f"samples = {self.samples!r} is invalid: an integer >= 2")

    def describe(self) -> dict[str, Any]:
        """What a resumed search must match: the network's hash, the route, the variables, the method."""
        return {
            "evaluator": "requirements",
            "network_table_sha256": table_sha256(self.network),
            "set": list(self.overrides),
            "hops": [list(h) for h in self.hops],
            "variables": [v.as_dict() for v in self.variables],
            "method": self.method,
            "samples": self.samples if self.method == "monte_carlo" else None,
            "seed": self.seed if self.method == "monte_carlo" else None,
            "swap_policy": self.swap_policy,
            "link_backend": self.link_backend,
        }

    def point_overrides(self, point: Mapping[str, float]) -> list[str]:
        """The ``--set`` strings of a point: every variable's fields at its factor."""
        from qnet.studies.sweep.axes import toml_literal

        out = list(self.overrides)
        for var in self.variables:
            k = float(point[var.name])
            if not (1.0 <= k < math.inf):
                raise QnetError(f"{var.name}: improvement factor {k!r} is invalid: a finite number >= 1")
            out += [f"{f}={toml_literal(v)}" for f, v in zip(var.fields, var.values(k))]
        return out

    def evaluate(self, points: Sequence[Mapping[str, float]]) -> list[dict[str, Any]]:
        """One row per point: the figures of :data:`FIGURE_COLUMNS` and ``method``, or ``{"error": ...}``."""
        from qnet.network.graph import network_from_dict

        rows: list[dict[str, Any] | None] = [None] * len(points)
        graphs: list[tuple[int, Any]] = []
        for i, point in enumerate(points):
            try:
                graphs.append(
                    (i, network_from_dict(self.network, source=self.source, overrides=self.point_overrides(point)))
                )
            except QnetError as exc:
                rows[i] = {"error": error_message(exc)}
        for (i, graph), built in zip(graphs, self._build([g for _i, g in graphs])):
            rows[i] = self._row(graph, built)
        return [r if r is not None else {"error": "not evaluated"} for r in rows]

    def _build(self, graphs: list[Any]) -> list[Any]:
        """Each graph's built chain (one link run for all), or the exception that stopped it."""
        from qnet.repeater.path import build_chains

        if not graphs:
            return []
        try:
            return list(
                build_chains([(g, list(self.hops)) for g in graphs], self.swap_policy, link_backend=self.link_backend)
            )
        except QnetError:  # one point's link never heralds: build them one by one
            out: list[Any] = []
            for g in graphs:
                try:
                    out.append(
                        build_chains([(g, list(self.hops))], self.swap_policy, link_backend=self.link_backend)[0]
                    )
                except QnetError as exc:
                    out.append(exc)
            return out

    def _row(self, graph: Any, built: Any) -> dict[str, Any]:
        from qnet.repeater.path import simulate_path
        from qnet.repeater.routing import Hop

        if isinstance(built, Exception):
            return {"error": error_message(built)}
        try:
            result = simulate_path(
                graph,
                [Hop(*h) for h in self.hops],
                exact=self.method == "exact",
                samples=self.samples,
                seed=self.seed,
                swap_policy=self.swap_policy,
                link_backend=self.link_backend,
                built=built,
            )
        except QnetError as exc:
            return {"error": error_message(exc)}
        row: dict[str, Any] = {name: float(getattr(result, name)) for name in FIGURE_COLUMNS}
        row["error"] = ""
        return row


class Journal:
    """Evaluated points of one search, kept in memory and appended to a JSON-lines file.

    The file's first line is ``{"qnet_requirements": 1, "describe": ...}``; each further line
    ``{"k": [factors in variable order], "row": {...}}``. Opening an existing file resumes it:
    its description must equal the evaluator's (else a one-line error says what differs). The
    file is locked (``FILE.lock``, :func:`qnet.outputs.output_lock`) while it is open.

    Parameters
    ----------
    describe : dict
        :meth:`RequirementsEvaluator.describe`.
    path : path-like, optional
        The file (None: memory only).
    resume : bool
        Continue an existing file (else it must not exist, unless ``overwrite``).
    overwrite : bool
        Replace an existing file.

    Examples
    --------
    >>> j = Journal({"evaluator": "requirements"})
    >>> j.add((1.0, 2.0), {"fidelity": 0.9, "error": ""})
    >>> j.get((1.0, 2.0))["fidelity"], j.get((1.0, 3.0)), len(j)
    (0.9, None, 1)
    """

    def __init__(
        self,
        describe: Mapping[str, Any],
        path: str | Path | None = None,
        *,
        resume: bool = False,
        overwrite: bool = False,
    ):
        self.describe = json.loads(json.dumps(describe))
        self.rows: dict[tuple[float, ...], dict[str, Any]] = {}
        self.path = None if path is None else Path(path)
        self.resumed = 0
        self._fh: Any = None
        self._lock: Any = None
        if self.path is None:
            return
        from qnet.outputs import check_output_path, output_lock

        if self.path.is_file() and not (resume or overwrite):
            raise QnetError(
                f"-o {self.path}: exists; add --resume to continue that search or --overwrite to replace it"
            )
        check_output_path(self.path, overwrite=overwrite or resume, option="-o")
        self._lock = output_lock(self.path)  # a second search on the same journal is refused
        try:
            if resume and self.path.exists():
                self._read()
                self._fh = open(self.path, "a", encoding="utf-8")
                return
            self._fh = open(self.path, "w", encoding="utf-8")
        except BaseException:
            self._lock.release()
            raise
        self._fh.write(json.dumps({"qnet_requirements": 1, "describe": self.describe}) + "\n")
        self._fh.flush()

    def _read(self) -> None:
        assert self.path is not None
        with open(self.path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        try:
            head = json.loads(lines[0]) if lines else {}
        except json.JSONDecodeError:
            head = {}
        if head.get("qnet_requirements") != 1:
            raise QnetError(f"--resume {self.path}: not a qnet requirements journal (written by -o)")
        if head.get("describe") != self.describe:
            old, new = head.get("describe", {}), self.describe
            keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise QnetError(f"--resume {self.path}: the journal is of another search (differs in {', '.join(keys)})")
        for line in lines[1:]:
            try:
                item = json.loads(line)
                row = {n: (float(v) if isinstance(v, str) and n != "error" else v) for n, v in item["row"].items()}
                self.rows[tuple(float(v) for v in item["k"])] = row
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by an interrupted write
        self.resumed = len(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, k: Sequence[float]) -> dict[str, Any] | None:
        """The row of factors ``k``, or None."""
        return self.rows.get(tuple(float(v) for v in k))

    def add(self, k: Sequence[float], row: Mapping[str, Any]) -> None:
        """Record a row (and append it to the file)."""
        key = tuple(float(v) for v in k)
        self.rows[key] = dict(row)
        if self._fh is not None:
            clean = {n: (v if not isinstance(v, float) or math.isfinite(v) else repr(v)) for n, v in row.items()}
            self._fh.write(json.dumps({"k": list(key), "row": clean}) + "\n")

    def flush(self) -> None:
        """Push the appended lines to the file."""
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        """Close the file and release its lock."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class BatchWorkers:
    """Evaluate a batch in this process (``workers`` = 1) or split across spawned worker processes
    (the sweep's worker setup: one BLAS thread each, Ctrl-C is the parent's, they end with it).

    Parameters
    ----------
    evaluator : RequirementsEvaluator
        What computes the rows (pickled to the workers).
    workers : int
        Processes (1: evaluate here).

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.improvements import Variable
    >>> with open("examples/ion_repeater_chain.toml", "rb") as fh:
    ...     table = tomllib.load(fh)
    >>> t2 = Variable("nodes.*.t2_s", "time", ("nodes.alice.t2_s",), (10.0,))
    >>> pool = BatchWorkers(RequirementsEvaluator(table, (("alice", "r1", "s1"),), (t2,), link_backend="batch"), 1)
    >>> [row["error"] for row in pool.evaluate([{"nodes.*.t2_s": 1.0}, {"nodes.*.t2_s": 2.0}])]
    ['', '']
    >>> pool.close()
    """

    def __init__(self, evaluator: RequirementsEvaluator, workers: int):
        self.ev, self.workers = evaluator, workers
        self.pool: Any = None

    def evaluate(self, points: list[dict[str, float]]) -> list[dict[str, Any]]:
        """One row per point, in order (:meth:`RequirementsEvaluator.evaluate`)."""
        if self.workers <= 1 or len(points) < 2:
            return self.ev.evaluate(points)
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is None:
            import multiprocessing
            import os
            from concurrent.futures import ProcessPoolExecutor

            from qnet.studies.sweep.executors import _init_worker

            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
        n = min(self.workers, len(points))
        try:
            parts = list(self.pool.map(self.ev.evaluate, [points[i::n] for i in range(n)]))
        except BrokenProcessPool as exc:
            from qnet.studies.sweep.executors import WorkerDied

            raise WorkerDied(f"a worker process died ({exc})") from None
        out: list[dict[str, Any]] = [{}] * len(points)
        for i, rows in enumerate(parts):
            out[i::n] = rows
        return out

    def close(self) -> None:
        """Stop the worker processes (if any were started)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

"""Minimal hardware requirements: ``qnet requirements`` and :func:`find_requirements`.

The question (da Silva et al. 2021; Avis et al. 2023; da Silva, Avis et al. 2024 — sources in
docs/literature.md): by how little must the named hardware parameters improve so that the
end-to-end pair between A and B meets every target (``fidelity>=0.9``, ``rate_hz>=1``, ...)?

Each variable i has an improvement factor k_i in [1, KMAX_i]
(:mod:`qnet.studies.improvements`: p -> p^(1/k) for probabilities, T -> k T for times, ...).
The search works in z_i = ln k_i and minimises the cost

* ``log`` (default): sum_i w_i ln k_i — "how many e-folds of improvement", linear in z;
* ``factor``: sum_i w_i (k_i - 1) — the sum of improvement factors of Avis et al., less the
  constant (each parameter left alone costs 0),

subject to every target's margin g_j(z) >= 0 (:meth:`~qnet.studies.improvements.Target.margin`,
relative to the target's size). Method:

1. today's hardware (k = 1) and the most improved (k = KMAX) are evaluated; if today's meets
   every target the answer is "no improvement"; if the most improved does not, the smallest
   target margin is maximised (SLSQP on (z, s): max s s.t. g_j(z) >= s, at most 15 iterations) from there, and if no
   point meets every target, a :class:`RequirementsUnreachable` error names the targets that
   the best point found still misses, with their values there;
2. ``starts`` start points: on rays z = t d from 0 (d = the diagonal KMAX, then random
   directions from a fixed seed), the smallest feasible t is found by a scan and bisection;
3. from each, ``scipy.optimize.minimize(method="SLSQP")`` with the exact cost gradient and the
   targets' Jacobian by forward differences (one batch of n points per Jacobian; step 1e-4 in
   ln k on the exact chain, 2e-2 with the Monte Carlo, whose figures are piecewise constant in
   the success probabilities);
4. the end point is nudged towards KMAX until it strictly meets every target; the cheapest
   point that meets every target among **all** evaluations is the answer.

Targets whose margin at the answer is below 1e-3 (0.1 % of the target) are *binding*; variables at
KMAX are reported as bound by their range. Every evaluation goes through a
:class:`~qnet.studies.requirements_eval.Journal` (``-o FILE``; ``--resume`` replays a search from
it); Ctrl-C stops the search and keeps the cheapest point found so far, marked interrupted.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Mapping, Sequence

from qnet.errors import QnetError
from qnet.studies.improvements import Target
from qnet.studies.requirements_eval import BatchWorkers, Journal, RequirementsEvaluator
from qnet.studies.requirements_result import RequirementsResult, format_requirements

__all__ = [
    "RequirementsResult",
    "RequirementsUnreachable",
    "solve_requirements",
    "find_requirements",
    "format_requirements",
    "COSTS",
    "BINDING_TOL",
]

#: The cost functions (module docstring).
COSTS = ("log", "factor")
#: A target whose relative margin is below this at the answer is binding.
BINDING_TOL = 1e-3
#: A point meets a target when its relative margin is >= -this: 0, a target is met exactly, not to rounding.
FEASIBILITY_TOL = 0.0


class RequirementsUnreachable(QnetError):
    """No point within the factors' ranges meets every target (the message names which and the best found)."""


class _Status:
    """Progress on stderr: evaluations, phase, best cost (redrawn on a terminal, a line every 10 s otherwise)."""

    def __init__(self, enabled: bool, stream: Any = None):
        self.enabled, self.stream = enabled, (sys.stderr if stream is None else stream)
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = self.last = time.perf_counter()
        self.interval = 0.2 if self.tty else 10.0
        self.shown = False

    def show(self, evaluations: int, phase: str, best: float | None, final: bool = False) -> None:
        from qnet.studies.progress import clock

        now = time.perf_counter()
        if not self.enabled or (not final and now - self.last < self.interval):
            return
        self.last = now
        cost = "none meets every target yet" if best is None else f"{best:.6g}"
        line = (
            f"qnet requirements: {evaluations} evaluations, {phase}, best cost {cost}, elapsed {clock(now - self.t0)}"
        )
        self.stream.write(("\r" + line + "\x1b[K" + ("\n" if final else "")) if self.tty else line + "\n")
        self.stream.flush()
        self.shown = True


class _Problem:
    """Points z = ln k -> rows (journal first, then one evaluator batch), margins, cost; tracks the best point."""

    def __init__(
        self,
        evaluator: RequirementsEvaluator,
        targets: Sequence[Target],
        cost_kind: str,
        journal: Journal,
        status: _Status,
        workers: int = 1,
    ):
        import numpy as np

        self.workers = BatchWorkers(evaluator, workers)
        self.ev, self.targets, self.cost_kind, self.journal, self.status = (
            evaluator,
            tuple(targets),
            cost_kind,
            journal,
            status,
        )
        self.names = [v.name for v in evaluator.variables]
        self.zmax = np.array([math.log(v.max_factor) for v in evaluator.variables])
        self.w = np.array([v.weight for v in evaluator.variables])
        self.phase = "starting"
        self.best: tuple[float, Any, dict] | None = None  # (cost, z, row) of the cheapest feasible point
        self.closest: tuple[float, Any, dict] | None = None  # (min margin, z, row) of the least infeasible point

    def factors(self, z: Any) -> tuple[float, ...]:
        import numpy as np

        return tuple(float(k) for k in np.exp(np.clip(np.asarray(z, dtype=float), 0.0, self.zmax)))

    def cost(self, z: Any) -> float:
        import numpy as np

        z = np.clip(np.asarray(z, dtype=float), 0.0, self.zmax)
        return float(self.w @ z) if self.cost_kind == "log" else float(self.w @ np.expm1(z))

    def cost_grad(self, z: Any) -> Any:
        import numpy as np

        return self.w.copy() if self.cost_kind == "log" else self.w * np.exp(np.clip(z, 0.0, self.zmax))

    def margins(self, row: Mapping[str, Any]) -> Any:
        import numpy as np

        if row.get("error"):
            return np.full(len(self.targets), -1.0)
        return np.array([t.margin(row.get(t.figure, math.nan)) for t in self.targets])

    def rows(self, zs: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of the points ``zs`` (journal hits, the rest in one batch)."""
        keys = [self.factors(z) for z in zs]
        todo = list(dict.fromkeys(k for k in keys if self.journal.get(k) is None))
        if todo:
            new = self.workers.evaluate([dict(zip(self.names, k)) for k in todo])
            for k, row in zip(todo, new):
                self.journal.add(k, row)
            self.journal.flush()
        out = [self.journal.get(k) or {"error": "not evaluated"} for k in keys]
        for k, row in zip(keys, out):
            self._track(k, row)
        self.status.show(len(self.journal), self.phase, None if self.best is None else self.best[0])
        return out

    def _track(self, k: tuple[float, ...], row: dict[str, Any]) -> None:
        import numpy as np

        z = np.log(np.array(k))
        m = float(np.min(self.margins(row))) if self.targets else 0.0
        if m >= -FEASIBILITY_TOL:
            c = self.cost(z)
            if self.best is None or c < self.best[0]:
                self.best = (c, z, row)
        elif self.closest is None or m > self.closest[0]:
            self.closest = (m, z, row)

    def margins_at(self, z: Any) -> Any:
        return self.margins(self.rows([z])[0])

    def feasible(self, z: Any) -> bool:
        return bool(min(self.margins_at(z), default=0.0) >= -FEASIBILITY_TOL)


def _jacobian(problem: _Problem, z: Any, step: float) -> Any:
    """Forward-difference Jacobian of the margins at z (backward where z is at its upper end): one batch."""
    import numpy as np

    n = len(z)
    base = problem.margins_at(z)
    pts, hs = [], []
    for i in range(n):
        h = step if z[i] + step <= problem.zmax[i] else -step
        p = np.array(z, dtype=float)
        p[i] += h
        pts.append(p)
        hs.append(h)
    rows = problem.rows(pts)
    jac = np.empty((len(base), n))
    for i, (row, h) in enumerate(zip(rows, hs)):
        jac[:, i] = (problem.margins(row) - base) / h
    return jac


def _ray_start(problem: _Problem, d: Any, bisections: int = 6) -> Any | None:
    """The smallest feasible t on the ray z = t d (t in (0, 1]; a scan of 4 then bisection), or None."""
    import numpy as np

    ts = [0.25, 0.5, 0.75, 1.0]
    rows = problem.rows([t * d for t in ts])
    ok = [t for t, r in zip(ts, rows) if float(np.min(problem.margins(r))) >= -FEASIBILITY_TOL]
    if not ok:
        return None
    hi = min(ok)
    lo = max([0.0] + [t for t in ts if t < hi])
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        if problem.feasible(mid * d):
            hi = mid
        else:
            lo = mid
    return hi * d


def _slsqp(problem: _Problem, z0: Any, step: float, maxiter: int) -> Any:
    """A local minimum of the cost subject to the targets, from z0 (SLSQP)."""
    import numpy as np
    from scipy.optimize import minimize

    bounds = [(0.0, float(u)) for u in problem.zmax]
    res = minimize(
        problem.cost,
        np.asarray(z0, dtype=float),
        jac=problem.cost_grad,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "ineq", "fun": problem.margins_at, "jac": lambda z: _jacobian(problem, z, step)}],
        options={"maxiter": maxiter, "ftol": 1e-9},
    )
    return np.clip(res.x, 0.0, problem.zmax)


def _nudge(problem: _Problem, z: Any) -> None:
    """Evaluate z moved towards KMAX by growing fractions, until a point meets every target (tracked as best)."""
    if problem.feasible(z):
        return
    deltas = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 0.1]
    problem.rows([z + d * (problem.zmax - z) for d in deltas])  # the feasible ones are tracked


def _maximin(problem: _Problem, z0: Any, step: float, maxiter: int) -> None:
    """Maximise the smallest target margin from z0 (SLSQP on (z, s)); points are tracked."""
    import numpy as np
    from scipy.optimize import minimize

    n = len(z0)
    bounds = [(0.0, float(u)) for u in problem.zmax] + [(None, None)]

    def cons(x: Any) -> Any:
        return problem.margins_at(x[:n]) - x[n]

    def cons_jac(x: Any) -> Any:
        jac = _jacobian(problem, x[:n], step)
        return np.hstack([jac, -np.ones((jac.shape[0], 1))])

    x0 = np.append(z0, float(np.min(problem.margins_at(z0))))
    grad = np.zeros(n + 1)
    grad[n] = -1.0
    minimize(
        lambda x: -x[n],
        x0,
        jac=lambda x: grad,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "ineq", "fun": cons, "jac": cons_jac}],
        options={"maxiter": maxiter, "ftol": 1e-9},
    )


def solve_requirements(
    evaluator: RequirementsEvaluator,
    targets: Sequence[Target],
    *,
    cost: str = "log",
    starts: int = 3,
    maxiter: int = 50,
    journal: Journal | None = None,
    progress: bool = False,
    seed: int = 0,
    stream: Any = None,
    workers: int = 1,
) -> RequirementsResult:
    """The cheapest improvement of ``evaluator``'s variables that meets every target (module docstring).

    Parameters
    ----------
    evaluator : RequirementsEvaluator
        The route, the variables and the method.
    targets : sequence of Target
        The requirements (at least one).
    cost : str
        ``"log"`` (sum of w ln k, default) or ``"factor"`` (sum of w (k - 1)).
    starts : int
        Local searches (>= 1).
    maxiter : int
        SLSQP iterations per local search.
    journal : Journal, optional
        Where evaluations are kept (default: memory only).
    progress : bool
        Progress on stderr.
    seed : int
        Seed of the random start directions.
    stream : file, optional
        Where progress goes (stderr).
    workers : int
        Processes that evaluate a batch (the Jacobian's n points) together (default 1: this one).

    Returns
    -------
    RequirementsResult

    Raises
    ------
    RequirementsUnreachable
        When no point within the ranges meets every target.
    KeyboardInterrupt
        Ctrl-C before any point met every target (otherwise the result is marked interrupted).

    Examples
    --------
    >>> import tomllib
    >>> from qnet.studies.improvements import Variable, parse_target
    >>> with open("examples/ion_repeater_chain.toml", "rb") as fh:
    ...     table = tomllib.load(fh)
    >>> t2 = Variable("nodes.*.t2_s", "time", ("nodes.alice.t2_s", "nodes.r1.t2_s"), (0.02, 0.02))
    >>> ev = RequirementsEvaluator(table, (("alice", "r1", "s1"),), (t2,), link_backend="batch")
    >>> r = solve_requirements(ev, [parse_target("fidelity>=0.97")], starts=1)
    >>> round(r.factors[0], 2), r.binding
    (1.98, ('fidelity>=0.97',))
    """
    import numpy as np

    if cost not in COSTS:
        raise QnetError(f"cost {cost!r} is invalid; one of {', '.join(COSTS)}")
    if not targets:
        raise QnetError("--target: give at least one target (e.g. fidelity>=0.9)")
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise QnetError(f"starts = {starts!r} is invalid: an integer >= 1")
    journal = journal if journal is not None else Journal(evaluator.describe())
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise QnetError(f"workers = {workers!r} is invalid: an integer >= 1")
    problem = _Problem(evaluator, targets, cost, journal, _Status(progress, stream), workers)
    step = 1e-4 if evaluator.method == "exact" else 2e-2
    n = len(problem.zmax)
    baseline_row: dict | None = None
    interrupted = False
    try:
        problem.phase = "today's hardware and the most improved"
        baseline_row, top_row = problem.rows([np.zeros(n), problem.zmax.copy()])
        if problem.best is None or problem.best[0] > 0:
            if float(np.min(problem.margins(top_row))) < -FEASIBILITY_TOL:
                problem.phase = "maximising the smallest margin"
                _maximin(problem, problem.zmax.copy(), step, min(maxiter, 15))
                if problem.best is None:
                    raise _unreachable(problem)
            rng = np.random.default_rng(seed)
            for j in range(starts):
                problem.phase = f"local search {j + 1}/{starts}"
                d = problem.zmax.copy() if j == 0 else rng.uniform(0.05, 1.0, n) * problem.zmax
                z0 = _ray_start(problem, d)
                if z0 is None:
                    z0 = problem.best[1] if problem.best is not None else problem.zmax.copy()
                _nudge(problem, _slsqp(problem, z0, step, maxiter))
    except KeyboardInterrupt:
        if problem.best is None:
            raise
        interrupted = True
    finally:
        problem.workers.close()
        journal.flush()
        problem.status.show(
            len(journal),
            "done" if not interrupted else "interrupted",
            None if problem.best is None else problem.best[0],
            final=problem.status.shown,
        )
    assert problem.best is not None
    return _result(problem, baseline_row, interrupted)


def _unreachable(problem: _Problem) -> RequirementsUnreachable:
    """The error naming the targets the least infeasible point still misses."""
    assert problem.closest is not None
    _m, z, row = problem.closest
    if row.get("error"):
        return RequirementsUnreachable(f"no point within the improvement ranges gives a working chain: {row['error']}")
    margins = problem.margins(row)
    missed = [
        f"{t} (best found {row.get(t.figure, math.nan):.6g})"
        for t, m in zip(problem.targets, margins)
        if m < -FEASIBILITY_TOL
    ]
    where = ", ".join(f"{n} x{k:.4g}" for n, k in zip(problem.names, problem.factors(z)))
    ranges = ", ".join(f"{v.name} up to x{v.max_factor:g}" for v in problem.ev.variables)
    others = " together with the other targets" if len(problem.targets) > len(missed) else ""
    return RequirementsUnreachable(
        f"cannot meet {'; '.join(missed)}{others} by improving {ranges}; the best point found is at {where}"
    )


def _result(problem: _Problem, baseline_row: dict | None, interrupted: bool) -> RequirementsResult:
    assert problem.best is not None
    c, z, row = problem.best
    margins = problem.margins(row)
    binding = tuple(str(t) for t, m in zip(problem.targets, margins) if m < BINDING_TOL)
    at_max = tuple(nm for nm, zi, zm in zip(problem.names, z, problem.zmax) if zi >= zm - 1e-9)
    ev = problem.ev
    path = tuple([ev.hops[0][0]] + [b for _a, b, _s in ev.hops])
    base = None if baseline_row is None or baseline_row.get("error") else dict(baseline_row)
    return RequirementsResult(
        variables=ev.variables,
        targets=problem.targets,
        cost_kind=problem.cost_kind,
        factors=problem.factors(z),
        cost=float(c),
        figures=dict(row),
        baseline=base,
        binding=binding,
        at_max=at_max,
        method=ev.method,
        path=path,
        evaluations=len(problem.journal),
        resumed=problem.journal.resumed,
        interrupted=interrupted,
    )


def find_requirements(
    network: Mapping[str, Any] | str,
    a: str,
    b: str,
    improve: str | Sequence[str],
    targets: Sequence[str | Target],
    *,
    via: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    max_factor: float | None = None,
    weights: Mapping[str, float] | None = None,
    cost: str = "log",
    method: str | None = None,
    samples: int = 1000,
    seed: int = 1,
    swap_policy: str = "asap",
    link_backend: str = "aer",
    starts: int = 3,
    output: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    source: str | None = None,
    workers: int = 1,
) -> RequirementsResult:
    """Parse, set up and solve a requirements search (what ``qnet requirements`` runs).

    Parameters
    ----------
    network : mapping or str
        The raw network table, or a TOML file's path.
    a, b : str
        The end nodes.
    improve : str or sequence of str
        ``--improve`` texts (:func:`~qnet.studies.improvements.parse_improve`).
    targets : sequence of str or Target
        ``--target`` texts (:func:`~qnet.studies.improvements.parse_target`).
    via : sequence of str, optional
        The inner memory nodes in order; default: the route with the fewest hops (chosen once,
        with today's hardware, and kept for the whole search).
    overrides : sequence of str
        ``--set`` strings.
    max_factor : float, optional
        Largest factor of a variable that gives none (default 100).
    weights : mapping, optional
        Cost weight per ``--improve`` entry.
    cost : str
        ``"log"`` or ``"factor"``.
    method : str, optional
        ``"exact"``, ``"monte_carlo"``, or None: exact where the chain has an exact method at
        today's hardware and at a probe point with every factor different, else the Monte Carlo.
    samples, seed : int
        Monte Carlo deliveries per point and the common seed.
    swap_policy : str
        ``"asap"`` or ``"nested"``.
    link_backend : str
        Link backend: ``"aer"`` or ``"batch"``.
    starts : int
        Local searches.
    output : str, optional
        The journal file (``-o``).
    resume, overwrite : bool
        Continue, or replace, an existing journal.
    progress : bool
        Progress on stderr.
    source : str, optional
        The network file's name, for messages.
    workers : int
        Processes evaluating each batch of points (default 1).

    Returns
    -------
    RequirementsResult

    Raises
    ------
    QnetError
        Unknown fields or targets, a bad route, an existing journal without ``resume``/``overwrite``.
    RequirementsUnreachable
        No point within the ranges meets every target.

    Examples
    --------
    >>> r = find_requirements("examples/ion_repeater_chain.toml", "alice", "r1", "nodes.*.t2_s", ["fidelity>=0.97"],
    ...                       overrides=["nodes.alice.t2_s=0.02", "nodes.r1.t2_s=0.02"], link_backend="batch", starts=1)
    >>> r.method, round(r.new_values()["nodes.alice.t2_s"], 4)
    ('exact', 0.0396)
    """
    from qnet.network.graph import network_from_dict
    from qnet.studies.improvements import DEFAULT_MAX_FACTOR, expand_variables, parse_improve, parse_target

    if isinstance(network, str):
        from qnet.network.io import read_network_table

        source = source or network
        network, _sha = read_network_table(network)
    source = source or "<dict>"
    specs = tuple(s for text in ([improve] if isinstance(improve, str) else improve) for s in parse_improve(text))
    tgts = tuple(t if isinstance(t, Target) else parse_target(t) for t in targets)
    graph = network_from_dict(network, source=source, overrides=list(overrides))
    hops = _route(graph, a, b, via)
    kmax = DEFAULT_MAX_FACTOR if max_factor is None else float(max_factor)
    if not (1.0 < kmax < math.inf):
        raise QnetError(f"--max-factor {max_factor!r} is invalid: a finite number > 1")
    if weights:
        for key, w in weights.items():
            if not (0.0 < float(w) < math.inf):
                raise QnetError(f"--weight {key}={w!r} is invalid: a finite number > 0")
    variables = expand_variables(graph, hops, specs, kmax, dict(weights or {}))
    route = tuple((str(x), str(y), str(s)) for x, y, s in hops)

    def build(how: str) -> RequirementsEvaluator:
        return RequirementsEvaluator(
            network, route, variables, tuple(overrides), how, samples, seed, swap_policy, link_backend, source
        )

    evaluator = build(method if method is not None else _choose_method(build("exact")))
    journal = Journal(evaluator.describe(), output, resume=resume, overwrite=overwrite)
    try:
        return solve_requirements(
            evaluator, tgts, cost=cost, starts=starts, journal=journal, progress=progress, workers=workers
        )
    finally:
        journal.close()


def _route(graph: Any, a: str, b: str, via: Sequence[str] | None) -> list:
    from qnet.repeater.routing import best_path, explicit_path

    if via is not None:
        inner = [n.strip() for n in via if n.strip()]
        if not inner:
            raise QnetError("--via needs at least one node name")
        return explicit_path(graph, [a, *inner, b])
    return best_path(graph, a, b, "hops")


def _choose_method(exact_ev: RequirementsEvaluator) -> str:
    """ "exact" when today's hardware and a probe point with every factor different have an exact method."""
    probe = {v.name: 1.0 + 0.37 * (i + 1) / len(exact_ev.variables) for i, v in enumerate(exact_ev.variables)}
    rows = exact_ev.evaluate([{v.name: 1.0 for v in exact_ev.variables}, probe])
    return "exact" if not any("exact mode" in r.get("error", "") for r in rows) else "monte_carlo"

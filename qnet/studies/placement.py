"""Repeater placement on a fibre map (``qnet place``): the fewest repeaters that serve every demand.

The problem (after Rabbie, Chakraborty, Avis and Wehner, npj Quantum Inf. 8, 5 (2022),
arXiv:2005.14715): a fibre map (:func:`read_map`), a hardware file and demands (pairs of map
nodes with a minimum fidelity and/or rate, :func:`read_demands`). Choose which map nodes become
repeaters; every other node passes the fibre through. A demand is served by a *candidate*: one
of its ``paths`` shortest routes through the map cut at some repeaters into segments, each
segment one heralded link (:mod:`qnet.studies.placement_chain`). Every map node may hold a
repeater (``sites`` restricts them), the end nodes of other demands included unless
``end_repeaters=False`` (the paper's partition of the nodes into end nodes and repeater sites).

1. **Enumerate** (:func:`candidates`, :mod:`qnet.studies.placement_candidates`): for each route,
   a depth-first search over where to cut it, bounded by ``max_link_km`` (the paper's L_max),
   ``max_repeaters_per_path`` (its N_max) and the screen: a partial chain whose fidelity or rate
   bound already misses the demand's target is dropped (adding a link never raises either
   bound). Every distinct segment length is simulated once. Only the repeater sets that are
   minimal (no other candidate of the demand needs a subset) enter the MILP. A demand without
   targets keeps only chains none of whose repeaters could go (two neighbouring segments longer
   than L_max together): every chain within the bounds serves it.
2. **MILP** (:func:`solve_milp`, :mod:`qnet.studies.placement_milp`; ``scipy.optimize.milp``
   with HiGHS): binary y_v (node v is a repeater), z_{d,S} in [0, 1] (demand d uses repeater set
   S); z_{d,S} <= y_v for v in S; sum_S z_{d,S} >= 1; sum_v y_v <= K; minimise sum_v y_v. (z may
   stay continuous: z_{d,S} > 0 only if every y_v of S is 1, and then z = 1 is as good.)
3. **Verify** (:func:`place`): each demand's candidates whose repeaters were all chosen are run
   through qnet's chain model (exact where it exists, else seeded Monte Carlo), best screen
   first, until one meets the targets; a candidate that misses them is removed for good and the
   MILP solved again. Since the screen only over-estimates (:mod:`qnet.studies.placement_chain`),
   no candidate that qnet's chain model accepts is ever left out, so the final count is the
   fewest repeaters over the enumerated routes (up to the Monte Carlo's sampling error on
   chains of more than two links, judged on the point estimates).

Demands, maps, options and results are :mod:`qnet.studies.placement_data`.
Infeasible demands and a too-small ``max_repeaters`` raise :class:`PlacementError` (one line:
which demand, the best chain found); Ctrl-C returns what was found with ``status="interrupted"``.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import networkx as nx

from qnet.errors import QnetError
from qnet.network.generate import Hardware
from qnet.studies.placement_candidates import _best_chain, candidates
from qnet.studies.placement_chain import ChainCheck, verify_chain
from qnet.studies.placement_data import (
    Candidate,
    Demand,
    DemandPlan,
    Placement,
    PlacementError,
    PlacementOptions,
    read_demands,
    read_map,
)
from qnet.studies.placement_milp import _minimal, solve_milp

__all__ = [
    "Demand",
    "read_demands",
    "read_map",
    "Candidate",
    "PlacementOptions",
    "DemandPlan",
    "Placement",
    "PlacementError",
    "candidates",
    "solve_milp",
    "place",
]


#: The figures of a chain not yet run through the chain model (a demand without targets).
_UNCHECKED = ChainCheck(math.nan, math.nan, "unchecked", None)

#: Candidates of a demand left unserved by a MILP answer that are checked at once (cuts more per round).
EXTRA_CHECKS = 8

_DEFAULT_OPTIONS = PlacementOptions()  # frozen: one shared default is safe


def _fmt_chain(c: Candidate) -> str:
    return f"{len(c.repeaters)} repeaters ({', '.join(c.repeaters) or 'none'}), segments {', '.join(f'{x:.0f}' for x in c.segments_km)} km"


def _infeasible(d: Demand, best: Candidate | None, check: ChainCheck | None = None) -> PlacementError:
    want = " and ".join(
        ([f"fidelity >= {d.min_fidelity:g}"] if d.min_fidelity else [])
        + ([f"rate >= {d.min_rate_hz:g} /s"] if d.min_rate_hz else [])
    )
    if best is None:
        return PlacementError(
            f"demand {d.label} cannot be met ({want}): no chain within the bounds (--max-link-km, --paths)"
        )
    if check is not None:
        return PlacementError(
            f"demand {d.label} cannot be met ({want}): every candidate fell short in qnet's chain model; "
            f"best found: fidelity {check.fidelity:.4f}, rate {check.rate_hz:.3g} /s ({check.method}) "
            f"with {_fmt_chain(best)}"
        )
    return PlacementError(
        f"demand {d.label} cannot be met ({want}): best found: fidelity <= {best.fidelity_bound:.4f}, "
        f"rate <= {best.rate_bound_hz:.3g} /s with {_fmt_chain(best)}"
    )


def place(
    g: nx.Graph,
    demands: Sequence[Demand],
    hw: Hardware,
    opts: PlacementOptions = _DEFAULT_OPTIONS,
    progress: Callable[[str], None] | None = None,
) -> Placement:
    """Fewest repeaters on ``g`` that serve every demand (module docstring).

    Parameters
    ----------
    g : networkx.Graph
        The map (:func:`read_map`): ``length_km`` on edges.
    demands : sequence of Demand
    hw : Hardware
        Every node's memory, every link's station and fibre.
    opts : PlacementOptions
    progress : callable, optional
        Called with one line of news at each step.

    Returns
    -------
    Placement

    Raises
    ------
    PlacementError
        A demand that no candidate serves, or more repeaters needed than ``max_repeaters``.

    Examples
    --------
    >>> from qnet.network.generate import line, read_hardware
    >>> g = line(5, 40.0)  # n0 - n1 - n2 - n3 - n4, 160 km in all
    >>> p = place(g, [Demand("n0", "n4", min_rate_hz=0.5)], read_hardware("examples/hardware/ion.toml"))
    >>> p.status, len(p.repeaters), p.plans[0].check.rate_hz >= 0.5
    ('optimal', 1, True)
    """
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    for d in demands:
        for n in (d.a, d.b):
            if n not in g:
                raise QnetError(f"demand {d.label}: no node {n!r} on the map")
    cands, info = candidates(g, demands, hw, opts, progress)
    for di, (d, cs) in enumerate(zip(demands, cands)):
        if not cs:
            raise _infeasible(d, _best_chain(g, d, di, hw, opts, info))
    v = _Verifier(demands, cands, hw, opts)
    chosen: frozenset = frozenset()
    lower, it = 0, 0
    plans: dict = {}
    notes = [] if info["exhaustive"] else [f"enumeration stopped at {opts.max_candidates} candidates for a demand"]
    status = "optimal" if info["exhaustive"] else "feasible"
    try:
        while True:
            it += 1
            chosen, st, lower = _solve_round(v, demands, opts)
            if st != "optimal":
                status = "feasible"
            say(f"MILP round {it}: {len(chosen)} repeaters; verifying the demands' chains")
            plans = {}
            for di in range(len(demands)):
                plan = v.serve(di, chosen)
                if plan is not None:
                    plans[di] = plan
            if len(plans) == len(demands):
                plans = {di: v.final(plan) for di, plan in plans.items()}
                break
    except KeyboardInterrupt:
        status = "interrupted"
        notes.append("interrupted: repeaters are the last MILP answer, verified for the demands listed")
    return Placement(
        tuple(sorted(chosen)),
        tuple(plans[i] for i in sorted(plans)),
        status,
        lower,
        it,
        sum(len(c) for c in cands),
        info["segments"],
        info["exhaustive"],
        time.perf_counter() - t0,
        v.removed,
        tuple(notes),
    )


def _solve_round(v: "_Verifier", demands: Sequence[Demand], opts: PlacementOptions) -> tuple[frozenset, str, int]:
    """One MILP over the candidates still alive; raises when a demand has none left or K is too small."""
    columns = [_minimal([frozenset(c.repeaters) for c in cs]) for cs in v.alive]
    for di, sets in enumerate(columns):
        if not sets:
            cand, chk = v.failed_best[di]
            raise _infeasible(demands[di], cand, chk)
    sol, st, lower = solve_milp(columns, opts.max_repeaters, opts.time_limit_s)
    if st == "timeout":
        raise PlacementError(
            f"the MILP found no placement within --time-limit {opts.time_limit_s:g} s; "
            "raise it, or lower --paths / --max-repeaters-per-path"
        )
    if sol is None:
        free, _st, _lb = solve_milp(columns, None, opts.time_limit_s)
        n = len(free) if free is not None else "?"
        raise PlacementError(
            f"--max-repeaters {opts.max_repeaters}: too few; the demands need at least {n} "
            f"(best found without the limit, not yet verified: {', '.join(sorted(free or ()))})"
        )
    return sol, st, lower


class _Verifier:
    """The candidates still alive per demand, and qnet's chain model on them (each chain once per target)."""

    def __init__(
        self, demands: Sequence[Demand], cands: Sequence[Sequence[Candidate]], hw: Hardware, opts: PlacementOptions
    ):
        self.demands, self.hw, self.opts = demands, hw, opts
        self.alive = [list(cs) for cs in cands]
        self.checks: dict[tuple, ChainCheck] = {}
        self.failed_best: dict[int, tuple[Candidate, ChainCheck]] = {}
        self.removed = 0

    def _run(self, c: Candidate, targets: tuple[float, float] | None) -> ChainCheck:
        o = self.opts
        return verify_chain(c.chain, c.segments_km, self.hw, o.samples, o.seed, o.link_backend, targets)

    def check(self, di: int, c: Candidate) -> ChainCheck | None:
        """Its figures if ``c`` meets demand ``di``, else None (and ``c`` is removed for good)."""
        d = self.demands[di]
        if d.min_fidelity == 0 and d.min_rate_hz == 0:
            return _UNCHECKED  # every chain meets no requirement: figures computed once, at the end
        key = (c.segments_km, d.min_fidelity, d.min_rate_hz)
        chk = self.checks.get(key)
        if chk is None:
            chk = self.checks[key] = self._run(c, (d.min_fidelity, d.min_rate_hz))
        if d.met(chk.fidelity, chk.rate_hz):
            return chk
        self.alive[di].remove(c)
        self.removed += 1
        prev = self.failed_best.get(di)
        if prev is None or d.score(chk.fidelity, chk.rate_hz) > d.score(prev[1].fidelity, prev[1].rate_hz):
            self.failed_best[di] = (c, chk)
        return None

    def serve(self, di: int, chosen: frozenset) -> DemandPlan | None:
        """The best verified chain of demand ``di`` on repeaters ``chosen``; None after cutting deeper."""
        d = self.demands[di]
        usable = sorted(
            (c for c in self.alive[di] if set(c.repeaters) <= chosen),
            key=lambda c: (-d.score(c.fidelity_bound, c.rate_bound_hz), len(c.repeaters)),
        )
        for c in usable:
            chk = self.check(di, c)
            if chk is not None:
                return DemandPlan(d, c, chk)
        nxt = sorted(self.alive[di], key=lambda c: (len(c.repeaters), -d.score(c.fidelity_bound, c.rate_bound_hz)))
        for c in nxt[:EXTRA_CHECKS]:  # cut deeper: the demand's next best candidates, whatever their repeaters
            self.check(di, c)
        return None

    def final(self, plan: DemandPlan) -> DemandPlan:
        """``plan`` with its chain's figures (run now for a demand without targets)."""
        if plan.check is not _UNCHECKED:
            return plan
        return DemandPlan(plan.demand, plan.candidate, self._run(plan.candidate, None))

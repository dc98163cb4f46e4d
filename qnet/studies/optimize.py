"""Choose a link parameter: ``qnet optimize`` and :func:`optimize_link`.

One parameter x (one field, several fields that take the same value, or the station's
position) is varied over a closed range [lo, hi] to maximise one figure of the link's
:class:`~qnet.link.results.LinkResult` (``rate_hz``, ``diqkd_key_rate_hz``, ``link_efficiency``,
``fidelity``, ...), optionally subject to ``fidelity >= min_fidelity`` (e.g. the most pairs per
second at F >= 0.9).

Fields are the keys of ``qnet link --set``: ``nodes.NAME.FIELD``, ``fibres.NAME.FIELD`` or
``network.fibre_speed_km_per_s``, restricted to the numeric fields that enter an elementary
link (not the repeater fields ``gate_fidelity``, ``readout_fidelity``, ``swap_time_s``,
``cutoff_s``, ``memories``) of the link's own nodes and fibres. ``station_position`` moves the
station along the two fibres of the link keeping their total length: x is the fraction of the
total on A's side (L_A = x L, L_B = (1 - x) L).

Method (every evaluation is the exact compiled circuit on Aer, or on :mod:`qnet.link.batch`):

1. a grid scan of ``grid_points`` evenly spaced values, all in one run (so a local optimum
   or a narrow feasible window is not missed between two points of a local search);
2. around the best feasible grid point, a bounded scalar search
   (``scipy.optimize.minimize_scalar(method="bounded")``) on the bracket formed by its two
   grid neighbours, with infeasible points penalised (worse than the best grid point, the
   more so the further their fidelity is below the target);
3. where the fidelity constraint cuts the bracket (a neighbour is infeasible), the boundary
   F(x) = min_fidelity is found by ``scipy.optimize.brentq`` and is a candidate too;
4. the best feasible candidate wins. Feasible means F >= min_fidelity - 1e-12.

If no grid point is feasible the fidelity itself is maximised the same way before the
constraint is declared infeasible (a :class:`~qnet.errors.QnetError` that gives the highest
fidelity found and where). Points whose value is invalid for the field raise at the range's
ends before any evaluation; points that fail otherwise (a link that never heralds) count as
infeasible.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from qnet._deprecation import renamed_keywords
from qnet.errors import QnetError
from qnet.network.fields import FieldPath
from qnet.studies.ranges import RangeError, parse_bounds

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from qnet.link.results import LinkResult

__all__ = [
    "OptimizeResult",
    "optimize_link",
    "format_optimum",
    "parse_vary_range",
    "STATION_POSITION",
    "LINK_PARAMETERS",
]

STATION_POSITION = "station_position"
#: Numeric fields that enter an elementary link, per table kind.
LINK_PARAMETERS = {
    "memory": (
        "t2_s",
        "t1_s",
        "emission_efficiency",
        "conversion_efficiency",
        "prep_time_s",
        "bright_state_population",
    ),
    "station": ("detector_efficiency", "dark_count_probability", "visibility", "phase_noise_rad"),
    "fibre": ("length_km", "attenuation_db_per_km"),
    "network": ("fibre_speed_km_per_s",),
}
FEASIBILITY_TOL = 1e-12


@dataclass(frozen=True)
class OptimizeResult:
    """The best value found and the link's figures there.

    value: the optimal x; objective: the maximised figure there; link: the full
    :class:`~qnet.link.results.LinkResult` at x; constraint_active: the fidelity constraint binds
    (F = min_fidelity to 1e-9); at_bound: "lower"/"upper" when x is at an end of the range
    (the optimum may lie outside it), else None; evaluations: link evaluations made; grid:
    the scan as (x, objective, fidelity) with None where a point failed; arm_lengths_km:
    (L_A, L_B) at x when the station position was varied.

    Attributes
    ----------
    fields : tuple of str
        What was varied.
    bounds : (float, float)
        The range searched.
    maximize : str
        The figure maximised (a :data:`~qnet.link.results.LINK_FIELDS` name).
    min_fidelity : float or None
        The fidelity constraint.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> result = optimize_link(graph, "alice", "bob", "nodes.alice.bright_state_population", (0.05, 0.3),
    ...                        "fidelity", grid_points=3, link_backend="batch")
    >>> result.at_bound, sorted(result.to_dict())[:3]
    ('lower', ['arm_lengths_km', 'at_bound', 'bounds'])
    """

    fields: tuple[str, ...]
    bounds: tuple[float, float]
    maximize: str
    min_fidelity: float | None
    value: float
    objective: float
    link: "LinkResult"
    constraint_active: bool
    at_bound: str | None
    evaluations: int
    grid: tuple[tuple[float, float | None, float | None], ...]
    arm_lengths_km: tuple[float, float] | None = None

    @property
    def fidelity(self) -> float:
        return self.link.fidelity

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinities become None, as in ``qnet link --json``)."""
        from qnet.link.results import json_number

        return {
            "fields": list(self.fields),
            "bounds": [self.bounds[0], self.bounds[1]],
            "maximize": self.maximize,
            "min_fidelity": self.min_fidelity,
            "value": self.value,
            "objective": json_number(self.objective),
            "constraint_active": self.constraint_active,
            "at_bound": self.at_bound,
            "evaluations": self.evaluations,
            "arm_lengths_km": None if self.arm_lengths_km is None else list(self.arm_lengths_km),
            "link": self.link.to_dict(),
        }


# --------------------------------------------------------------------------- parsing and fields


def parse_vary_range(text: str) -> tuple[tuple[str, ...], tuple[float, float]]:
    """``FIELD[,FIELD...]=LO:HI`` -> (fields, (lo, hi)) (``qnet optimize --vary``).

    Parameters
    ----------
    text : str
        The option's text; the fields are checked by :func:`optimize_link`, LO:HI by
        :func:`qnet.studies.ranges.parse_bounds`.

    Returns
    -------
    (tuple of str, (float, float))

    Raises
    ------
    QnetError
        One line naming the option when the text is not FIELD[,FIELD...]=LO:HI.

    Examples
    --------
    >>> parse_vary_range("nodes.alice.t2_s,nodes.bob.t2_s=0.5:2")
    (('nodes.alice.t2_s', 'nodes.bob.t2_s'), (0.5, 2.0))
    """
    if "=" not in text:
        raise QnetError(
            f"--vary {text!r}: expected FIELD[,FIELD...]=LO:HI (e.g. nodes.alice.bright_state_population=0.01:0.3)"
        )
    left, right = text.split("=", 1)
    fields = tuple(f.strip() for f in left.split(","))
    try:
        return fields, parse_bounds(right)
    except RangeError as exc:
        raise QnetError(f"--vary {text!r}: {exc}") from None


def _fields(fields: str | Sequence[str]) -> tuple[str, ...]:
    out = tuple(f.strip() for f in (fields.split(",") if isinstance(fields, str) else fields))
    if not out or any(not f for f in out):
        raise QnetError(f"fields {fields!r}: expected one or more comma-separated fields")
    if len(set(out)) != len(out):
        raise QnetError(f"fields {fields!r}: a field is named twice")
    if STATION_POSITION in out and len(out) > 1:
        raise QnetError(f"{STATION_POSITION} is varied on its own (it sets both arms of the link)")
    return out


def _bounds(bounds: Sequence[float], fields: tuple[str, ...]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise QnetError(f"bounds {bounds!r}: expected two numbers (LO, HI)") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise QnetError(f"range {lo:g}:{hi:g} of {','.join(fields)} is invalid: two finite numbers with LO < HI")
    if fields == (STATION_POSITION,) and not (0.0 <= lo and hi <= 1.0):
        raise QnetError(
            f"range {lo:g}:{hi:g} of {STATION_POSITION} is invalid: a fraction of the total length, within 0:1"
        )
    return lo, hi


def _setter(
    graph: "nx.Graph", a: str, b: str, s: str, fields: tuple[str, ...]
) -> tuple[Callable[[float], "nx.Graph"], float | None]:
    """(x -> graph with every field set to x, total length when the station moves)."""
    from qnet.network.hardware import MemoryNode

    if fields == (STATION_POSITION,):
        fa, fb = graph.edges[a, s]["fibre"], graph.edges[s, b]["fibre"]
        total = fa.length_km + fb.length_km
        if not total > 0:
            raise QnetError(f"{STATION_POSITION}: the fibres {fa.name} and {fb.name} have no length to share")

        def move(x: float) -> "nx.Graph":
            g = graph.copy()
            g.edges[a, s]["fibre"] = dataclasses.replace(fa, length_km=x * total)
            g.edges[s, b]["fibre"] = dataclasses.replace(fb, length_km=max(0.0, (1.0 - x) * total))
            return g

        return move, total

    link_fibres = {graph.edges[a, s]["fibre"].name: (a, s), graph.edges[s, b]["fibre"].name: (s, b)}
    targets: list[tuple[str, Any, str]] = []  # (kind, node name or edge, field)
    for key in fields:
        try:
            path = FieldPath.parse(key)
        except QnetError:
            raise QnetError(
                f"{key!r}: a field is nodes.NAME.FIELD, fibres.NAME.FIELD, network.fibre_speed_km_per_s or {STATION_POSITION}"
            ) from None
        if path.section == "network":
            if path.field not in LINK_PARAMETERS["network"]:
                raise QnetError(f"{key}: the network field that enters a link is fibre_speed_km_per_s")
            targets.append(("network", None, path.field))
            continue
        name, fname = path.name, path.field
        if path.section == "nodes":
            if name not in graph:
                raise QnetError(f"{key}: no node named {name!r} (nodes: {', '.join(sorted(map(str, graph)))})")
            if name not in (a, b, s):
                raise QnetError(f"{key}: node {name!r} is not part of the link {a} - {s} - {b}, so it cannot change it")
            kind = "memory" if isinstance(graph.nodes[name]["hardware"], MemoryNode) else "station"
            where: Any = name
        else:
            if name not in link_fibres:
                names = sorted(d["fibre"].name for _u, _v, d in graph.edges(data=True))
                if name not in names:
                    raise QnetError(f"{key}: no fibre named {name!r} (fibres: {', '.join(names)})")
                raise QnetError(
                    f"{key}: fibre {name!r} is not part of the link {a} - {s} - {b}, so it cannot change it"
                )
            kind, where = "fibre", link_fibres[name]
        if fname not in LINK_PARAMETERS[kind]:
            raise QnetError(
                f"{key}: {fname!r} is not a numeric field of an elementary link's {kind}; "
                f"allowed: {', '.join(LINK_PARAMETERS[kind])}"
            )
        targets.append((kind, where, fname))

    def assign(x: float) -> "nx.Graph":
        g = graph.copy()
        for kind, where, fname in targets:
            if kind == "network":
                if not (0 < x < math.inf):
                    from qnet.errors import ConfigError

                    raise ConfigError("network", fname, x, "a finite number > 0 (km/s)")
                g.graph[fname] = float(x)
            elif kind == "fibre":
                g.edges[where]["fibre"] = dataclasses.replace(g.edges[where]["fibre"], **{fname: float(x)})
            else:
                g.nodes[where]["hardware"] = dataclasses.replace(g.nodes[where]["hardware"], **{fname: float(x)})
        return g

    return assign, None


# --------------------------------------------------------------------------- evaluation


class _Evaluations:
    """Link results at x, cached; a failed point is stored as its exception."""

    def __init__(self, apply: Callable[[float], "nx.Graph"], a: str, b: str, s: str, link_backend: str):
        self.apply, self.a, self.b, self.s, self.link_backend = apply, a, b, s, link_backend
        self.cache: dict[float, Any] = {}

    def run(self, xs: Sequence[float]) -> list[Any]:
        from qnet.link.circuit import compile_link
        from qnet.link.spec import link_spec

        todo = []
        for x in dict.fromkeys(float(v) for v in xs):
            if x in self.cache:
                continue
            try:
                todo.append((x, compile_link(link_spec(self.apply(x), self.a, self.b, self.s))))
            except QnetError as exc:
                self.cache[x] = exc
        if todo:
            for (x, _c), r in zip(todo, self._run([c for _x, c in todo])):
                self.cache[x] = r
        return [self.cache[float(x)] for x in xs]

    def _run(self, compiled: list[Any]) -> list[Any]:
        from qnet.link.run import run_links

        try:
            return list(run_links(compiled, link_backend=self.link_backend))
        except QnetError:  # one link of the batch never heralds: run them one by one
            out: list[Any] = []
            for c in compiled:
                try:
                    out.append(run_links([c], link_backend=self.link_backend)[0])
                except QnetError as exc:
                    out.append(exc)
            return out


@renamed_keywords(engine="link_backend")
def optimize_link(
    graph: "nx.Graph",
    a: str,
    b: str,
    fields: str | Sequence[str],
    bounds: Sequence[float],
    maximize: str,
    min_fidelity: float | None = None,
    *,
    station: str | None = None,
    grid_points: int = 41,
    xtol: float | None = None,
    link_backend: str = "aer",
) -> OptimizeResult:
    """Maximise ``maximize`` of the link ``a`` - station - ``b`` over one parameter in ``bounds``.

    ``fields``: one field, several (a comma-joined string or a sequence) that all take the
    value x, or ``"station_position"`` (fraction of the two arms' total length on A's side).
    ``min_fidelity``: keep only x with fidelity >= it. ``grid_points``: the coarse scan (>= 3).
    ``xtol``: absolute tolerance on x (default 1e-9 of the range). ``link_backend``: "aer" (default)
    or "batch" (:mod:`qnet.link.batch`, the same circuits in numpy). See the module docstring for
    the method.

    Parameters
    ----------
    graph : networkx.Graph
        The network (:func:`qnet.load_network`).
    a, b : str
        The link's memory nodes.
    fields : str or sequence of str
        What x sets (see above).
    bounds : (float, float)
        The range [lo, hi] of x.
    maximize : str
        A :data:`~qnet.link.results.LINK_FIELDS` figure, e.g. ``"rate_hz"``.
    min_fidelity : float, optional
        The constraint F >= min_fidelity.
    station : str, optional
        The station between ``a`` and ``b`` (default: the one there is).
    grid_points : int
        Points of the coarse scan (>= 3).
    xtol : float, optional
        Absolute tolerance on x.
    link_backend : str
        "aer" or "batch".

    Returns
    -------
    OptimizeResult

    Raises
    ------
    QnetError
        For an unknown field or figure, an invalid range, or a constraint no x in the range meets.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> both = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"
    >>> result = optimize_link(graph, "alice", "bob", both, (0.01, 0.3), "rate_hz", 0.9, grid_points=3,
    ...                        xtol=1e-6, link_backend="batch")
    >>> round(result.value, 3), round(result.fidelity, 3), result.constraint_active
    (0.065, 0.9, True)
    """
    from qnet.link.spec import find_station

    fields = _fields(fields)
    lo, hi = _bounds(bounds, fields)
    f0 = _check_request(maximize, min_fidelity, link_backend, grid_points)
    xtol = 1e-9 * (hi - lo) if xtol is None else float(xtol)
    s = find_station(graph, a, b, station)
    apply, total = _setter(graph, a, b, s, fields)
    label = ",".join(fields)
    for end in (lo, hi):  # an invalid value at an end of the range is the user's range, not a point
        try:
            apply(end)
        except QnetError as exc:
            raise QnetError(f"range {lo:g}:{hi:g} of {label}: {exc}") from None

    search = _Search(_Evaluations(apply, a, b, s, link_backend), maximize, f0, xtol)
    step = (hi - lo) / (grid_points - 1)
    xs = [lo + i * step for i in range(grid_points)]
    xs[-1] = hi
    results = search.ev.run(xs)
    grid = tuple(
        (x, None, None) if isinstance(r, Exception) else (x, float(search.objective(r)), float(r.fidelity))
        for x, r in zip(xs, results)
    )
    ok = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
    if not ok:
        raise QnetError(f"no value of {label} in {lo:g}:{hi:g} gives a working link: {results[0]}")
    x_k, r_k, (lo_b, hi_b), values = search.start(xs, results, ok, f"{label} in {lo:g}:{hi:g}")
    candidates = search.candidates(x_k, r_k, values, lo_b, hi_b)
    scored = [(x, search.ev.run([x])[0]) for x in candidates]
    scored = [(x, r) for x, r in scored if search.feasible(r)]
    x_best, r_best = max(scored, key=lambda item: (search.objective(item[1]), -abs(item[0] - x_k)))
    at_bound = "lower" if x_best - lo <= 10 * xtol else "upper" if hi - x_best <= 10 * xtol else None
    active = f0 is not None and abs(r_best.fidelity - f0) <= 1e-9
    return OptimizeResult(
        fields=fields,
        bounds=(lo, hi),
        maximize=maximize,
        min_fidelity=f0,
        value=x_best,
        objective=float(search.objective(r_best)),
        link=r_best,
        constraint_active=active,
        at_bound=at_bound,
        evaluations=len(search.ev.cache),
        grid=grid,
        arm_lengths_km=None if total is None else (x_best * total, max(0.0, (1.0 - x_best) * total)),
    )


def _check_request(maximize: str, min_fidelity: float | None, link_backend: str, grid_points: int) -> float | None:
    """Refuse an unknown figure or link backend, a bad fidelity target or grid; the target as a float."""
    from qnet.link.results import LINK_FIELDS
    from qnet.link.choices import check_link_backend

    if maximize not in LINK_FIELDS:
        raise QnetError(f"maximize {maximize!r}: unknown figure; one of {', '.join(LINK_FIELDS)}")
    if min_fidelity is not None and not (0.0 <= float(min_fidelity) <= 1.0):
        raise QnetError(f"min_fidelity = {min_fidelity!r} is invalid: a number in [0, 1]")
    check_link_backend(link_backend)
    if isinstance(grid_points, bool) or not isinstance(grid_points, int) or grid_points < 3:
        raise QnetError(f"grid_points = {grid_points!r} is invalid: an integer >= 3")
    return None if min_fidelity is None else float(min_fidelity)


class _Search:
    """Steps 2 and 3 of the method (module docstring) around the best grid point."""

    def __init__(self, ev: _Evaluations, maximize: str, f0: float | None, xtol: float):
        self.ev, self.maximize, self.f0, self.xtol = ev, maximize, f0, xtol

    def objective(self, r: Any) -> float:
        v = getattr(r, self.maximize)
        return v if not math.isnan(v) else -math.inf

    def feasible(self, r: Any) -> bool:
        f0 = self.f0
        return (
            not isinstance(r, Exception)
            and not math.isnan(r.fidelity)
            and (f0 is None or r.fidelity >= f0 - FEASIBILITY_TOL)
        )

    def start(
        self, xs: list[float], results: list[Any], ok: list[int], where: str
    ) -> tuple[float, Any, tuple[float, float], list[float]]:
        """(x, result, bracket, objective values) of the best feasible grid point, or of the fidelity
        maximum near the best grid fidelity when no grid point is feasible (QnetError if none is)."""
        from scipy.optimize import minimize_scalar

        def bracket(k: int) -> tuple[float, float]:
            return xs[max(k - 1, 0)], xs[min(k + 1, len(xs) - 1)]

        feas = [i for i in ok if self.feasible(results[i])]
        if feas:
            k = max(feas, key=lambda i: self.objective(results[i]))
            return xs[k], results[k], bracket(k), [self.objective(results[i]) for i in feas]
        # a narrow feasible window may sit between grid points: maximise the fidelity there first
        k = max(ok, key=lambda i: results[i].fidelity)
        lo_b, hi_b = bracket(k)
        res = minimize_scalar(
            lambda x: _fid_penalty(self.ev.run([x])[0]),
            bounds=(lo_b, hi_b),
            method="bounded",
            options={"xatol": self.xtol},
        )
        x_k, r_k = float(res.x), self.ev.run([res.x])[0]
        if not self.feasible(r_k):
            fmax, xmax = max((results[k].fidelity, xs[k]), (getattr(r_k, "fidelity", -1.0), x_k))
            raise QnetError(
                f"no value of {where} gives fidelity >= {self.f0:g}: the highest fidelity is {fmax:.6g} (at {xmax:.6g})"
            )
        return x_k, r_k, (lo_b, hi_b), [self.objective(r_k)]

    def candidates(self, x_k: float, r_k: Any, values: list[float], lo_b: float, hi_b: float) -> list[float]:
        """x_k, the bounded search's optimum in the bracket, and where the constraint cuts the bracket."""
        from scipy.optimize import minimize_scalar

        v_k = self.objective(r_k)
        candidates: list[float] = [x_k]
        if not math.isfinite(v_k):
            return candidates
        scale = max([abs(v) for v in values if math.isfinite(v)] + [1e-300])

        def penalised(x: float) -> float:
            r = self.ev.run([x])[0]
            if isinstance(r, Exception):
                return -v_k + 10.0 * scale
            if not self.feasible(r):
                return -v_k + scale * (1.0 + (self.f0 - r.fidelity))
            v = self.objective(r)
            return -v if math.isfinite(v) else (-v_k - scale if v > 0 else -v_k + 10.0 * scale)

        res = minimize_scalar(penalised, bounds=(lo_b, hi_b), method="bounded", options={"xatol": self.xtol})
        candidates.append(float(res.x))
        if self.f0 is not None:  # where the constraint F(x) = f0 cuts the bracket, its boundary is a candidate
            candidates += self._boundaries(candidates, lo_b, hi_b)
        return candidates

    def _boundaries(self, candidates: list[float], lo_b: float, hi_b: float) -> list[float]:
        """Feasible points next to the roots of F(x) = f0 between a feasible candidate and an infeasible bracket end."""
        from scipy.optimize import brentq

        xtol, out = self.xtol, []

        def gap(x: float) -> float:
            r = self.ev.run([x])[0]
            return (r.fidelity - self.f0) if not isinstance(r, Exception) else -1.0

        for x_in in dict.fromkeys(candidates):
            if gap(x_in) < 0:
                continue
            for xb in (lo_b, hi_b):
                if xb == x_in or gap(xb) >= 0:
                    continue
                root = brentq(gap, min(x_in, xb), max(x_in, xb), xtol=xtol, rtol=1e-15)
                for x in (root, root + math.copysign(xtol, x_in - xb)):  # the feasible side of the root
                    if self.feasible(self.ev.run([x])[0]):
                        out.append(x)
                        break
        return out


def _fid_penalty(r: Any) -> float:
    return 2.0 if isinstance(r, Exception) or math.isnan(r.fidelity) else -r.fidelity


def format_optimum(result: OptimizeResult) -> str:
    """A readable report: what was varied, the optimum, and the link's figures there (``qnet optimize``).

    Parameters
    ----------
    result : OptimizeResult
        From :func:`optimize_link`.

    Returns
    -------
    str

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> result = optimize_link(graph, "alice", "bob", "station_position", (0.2, 0.8), "rate_hz", grid_points=3,
    ...                        link_backend="batch")
    >>> print(format_optimum(result).splitlines()[0])
    qnet optimize: maximize rate_hz
    """
    from qnet.link.results import format_table

    what = ", ".join(result.fields)
    goal = f"maximize {result.maximize}" + (
        f" subject to fidelity >= {result.min_fidelity:g}" if result.min_fidelity is not None else ""
    )
    lines = [f"qnet optimize: {goal}", f"varying {what} over {result.bounds[0]:g}:{result.bounds[1]:g}"]
    value = f"{result.value:.10g}"
    if result.arm_lengths_km is not None:
        la, lb = result.arm_lengths_km
        value += f"  (station at {la:.6g} km from {result.link.node_a}, {lb:.6g} km from {result.link.node_b})"
    lines.append(f"best value: {value}")
    lines.append(f"{result.maximize} there: {result.objective:.6g}")
    notes = []
    if result.constraint_active:
        notes.append("the fidelity constraint is active (F = target)")
    if result.at_bound:
        notes.append(f"the optimum is at the {result.at_bound} end of the range: it may lie outside it")
    notes.append(f"{result.evaluations} link evaluations")
    lines.append("(" + "; ".join(notes) + ")")
    lines.append("")
    lines.append(format_table(result.link))
    return "\n".join(lines)

"""Repeater placement on a fibre map (``qnet place``): the fewest repeaters that serve every demand.

The problem (after Rabbie, Chakraborty, Avis and Wehner, npj Quantum Inf. 8, 5 (2022),
arXiv:2005.14715): a fibre map (:func:`read_map`), a hardware file and demands (pairs of map
nodes with a minimum fidelity and/or rate, :func:`read_demands`). Choose which map nodes become
repeaters; every other node passes the fibre through. A demand is served by a *candidate*: one
of its ``paths`` shortest routes through the map cut at some repeaters into segments, each
segment one heralded link (:mod:`qnet.studies.placement_chain`). Every map node may hold a
repeater (``sites`` restricts them), the end nodes of other demands included unless
``end_repeaters=False`` (the paper's partition of the nodes into end nodes and repeater sites).

1. **Enumerate** (:func:`candidates`): for each route, a depth-first search over where to cut
   it, bounded by ``max_link_km`` (the paper's L_max), ``max_repeaters_per_path`` (its
   N_max) and the screen: a partial chain whose fidelity or rate bound already misses the
   demand's target is dropped (adding a link never raises either bound). Every distinct
   segment length is simulated once. Only the repeater sets that are minimal (no other
   candidate of the demand needs a subset) enter the MILP. A demand without targets keeps only
   chains none of whose repeaters could go (two neighbouring segments longer than L_max
   together): every chain within the bounds serves it.
2. **MILP** (:func:`solve_milp`, ``scipy.optimize.milp`` with HiGHS): binary y_v (node v is a
   repeater), z_{d,S} in [0, 1] (demand d uses repeater set S); z_{d,S} <= y_v for v in S;
   sum_S z_{d,S} >= 1; sum_v y_v <= K; minimise sum_v y_v. (z may stay continuous: z_{d,S} > 0
   only if every y_v of S is 1, and then z = 1 is as good.)
3. **Verify** (:func:`place`): each demand's candidates whose repeaters were all chosen are run
   through qnet's chain model (exact where it exists, else seeded Monte Carlo), best screen
   first, until one meets the targets; a candidate that misses them is removed for good and the
   MILP solved again. Since the screen only over-estimates (:mod:`qnet.studies.placement_chain`),
   no candidate that qnet's chain model accepts is ever left out, so the final count is the
   fewest repeaters over the enumerated routes (up to the Monte Carlo's sampling error on
   chains of more than two links, judged on the point estimates).

Infeasible demands and a too-small ``max_repeaters`` raise :class:`PlacementError` (one line:
which demand, the best chain found); Ctrl-C returns what was found with ``status="interrupted"``.
"""

from __future__ import annotations

import math
import re
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import networkx as nx

from qnet.errors import QnetError
from qnet.network.generate import Hardware
from qnet.studies.placement_chain import (
    ChainCheck, ScreenState, SegmentLink, attempts_per_round, screen_bounds, screen_extend, screen_start, segment_links,
    verify_chain,
)

__all__ = ["Demand", "read_demands", "read_map", "Candidate", "PlacementOptions", "DemandPlan", "Placement",
           "PlacementError", "candidates", "solve_milp", "place"]


#: The figures of a chain not yet run through the chain model (a demand without targets).
_UNCHECKED = ChainCheck(math.nan, math.nan, "unchecked", None)

#: Candidates of a demand left unserved by a MILP answer that are checked at once (cuts more per round).
EXTRA_CHECKS = 8


class PlacementError(QnetError):
    """A demand cannot be met, or not with at most ``max_repeaters`` repeaters (the message says which and the best found)."""


@dataclass(frozen=True)
class Demand:
    """Two map nodes that want entanglement, and what they need (0: no requirement).

    Examples
    --------
    >>> Demand("Amsterdam", "Maastricht", min_fidelity=0.8).label
    'Amsterdam-Maastricht'
    """

    a: str
    b: str
    min_fidelity: float = 0.0
    min_rate_hz: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.a}-{self.b}"

    def score(self, fidelity: float, rate_hz: float) -> float:
        """min(fidelity / target, rate / target) over the targets set (>= 1: met)."""
        parts = [fidelity / self.min_fidelity] if self.min_fidelity > 0 else []
        parts += [rate_hz / self.min_rate_hz] if self.min_rate_hz > 0 else []
        return min(parts, default=math.inf)

    def met(self, fidelity: float, rate_hz: float) -> bool:
        return fidelity >= self.min_fidelity and rate_hz >= self.min_rate_hz


_DEMAND_FIELDS = ("a", "b", "min_fidelity", "min_rate_hz")


def _target(where: str, key: str, value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= upper or math.isinf(value):
        allowed = "a number in [0, 1]" if upper == 1.0 else "a finite number >= 0 (1/s)"
        raise QnetError(f"{where}.{key} = {value!r} is invalid: {allowed}")
    return float(value)


def read_demands(path: str | Path, nodes: Sequence[str] | None = None) -> tuple[Demand, ...]:
    """Read a demands file: ``[[demands]]`` tables (``a``, ``b``, ``min_fidelity``, ``min_rate_hz``), optional ``[defaults]``.

    Parameters
    ----------
    path : str or path-like
        The TOML file.
    nodes : sequence of str, optional
        The map's node names: every ``a``/``b`` must be one.

    Returns
    -------
    tuple of Demand

    Raises
    ------
    QnetError
        One line naming the demand, the field, the value and what is allowed.

    Examples
    --------
    >>> ds = read_demands("examples/maps/surfnet_demands.toml")
    >>> len(ds), ds[0].min_fidelity > 0
    (10, True)
    """
    where = f"demands file {str(path)!r}"
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QnetError(f"{where} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise QnetError(f"{where} cannot be read: {exc}") from None
    for key in data:
        if key not in ("demands", "defaults"):
            raise QnetError(f"{where}: unknown table [{key}]; allowed: [defaults], [[demands]]")
    defaults = data.get("defaults", {})
    rows = data.get("demands")
    if not isinstance(defaults, dict):
        raise QnetError(f"{where}: [defaults] must be a table")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise QnetError(f"{where}: needs at least one [[demands]] table (a, b, min_fidelity, min_rate_hz)")
    known = set(nodes) if nodes is not None else None
    out, seen = [], set()
    for i, row in enumerate(rows):
        w = f"demands[{i}]"
        row = {**defaults, **row}
        for key in row:
            if key not in _DEMAND_FIELDS:
                raise QnetError(f"{w}.{key}: unknown field; allowed: {', '.join(_DEMAND_FIELDS)}")
        for key in ("a", "b"):
            if not isinstance(row.get(key), str):
                raise QnetError(f"{w}.{key} = {row.get(key)!r} is invalid: a node name of the map")
            if known is not None and row[key] not in known:
                raise QnetError(f"{w}.{key} = {row[key]!r}: no such node on the map")
        if row["a"] == row["b"]:
            raise QnetError(f"{w}: a = b = {row['a']!r}; a demand joins two different nodes")
        pair = frozenset((row["a"], row["b"]))
        if pair in seen:
            raise QnetError(f"{w}: {row['a']} - {row['b']} is listed twice")
        seen.add(pair)
        out.append(Demand(row["a"], row["b"], _target(w, "min_fidelity", row.get("min_fidelity", 0.0), 1.0),
                          _target(w, "min_rate_hz", row.get("min_rate_hz", 0.0), math.inf)))
    return tuple(out)


def read_map(path: str | Path, detour_factor: float = 1.0, largest_component: bool = False) -> nx.Graph:
    """A fibre map (GraphML or GML, :func:`qnet.network.importers.read_topology`), named by label, lengths times ``detour_factor``.

    A GML file whose nodes all have distinct ``label``\\ s (the Internet Topology Zoo's) is
    named by them (made safe as the importer does) instead of by its numeric ids.

    Examples
    --------
    >>> g = read_map("examples/maps/Surfnet.gml")
    >>> g.number_of_nodes(), g.number_of_edges(), round(g.edges["Amsterdam", "Utrecht"]["length_km"], 1)
    (50, 68, 35.2)
    >>> round(read_map("examples/maps/Surfnet.gml", 1.5).edges["Amsterdam", "Utrecht"]["length_km"], 2)
    52.87
    """
    from qnet.network.importers import read_topology

    if isinstance(detour_factor, bool) or not isinstance(detour_factor, (int, float)) or not 1.0 <= detour_factor < math.inf:
        raise QnetError(f"--detour-factor {detour_factor!r} is invalid: a number >= 1 (fibre length / great-circle length)")
    g = read_topology(path, largest_component=largest_component)
    suffix = Path(path).suffix.lower()
    raw = nx.read_gml(path, label="id") if suffix == ".gml" else nx.read_graphml(path)
    g.graph["lonlat"] = all("Latitude" in d and "Longitude" in d for _n, d in raw.nodes(data=True))
    if suffix == ".gml":
        labels = {re.sub(r"[^\w-]", "_", str(k), flags=re.ASCII): d.get("label") for k, d in raw.nodes(data=True)}
        names = {k: re.sub(r"[^\w-]", "_", str(v), flags=re.ASCII) for k, v in labels.items() if isinstance(v, str)}
        if len(names) == len(labels) and len(set(names.values())) == len(names):
            g = nx.relabel_nodes(g, {k: v for k, v in names.items() if k in g})
    for _u, _v, d in g.edges(data=True):
        d["length_km"] = d["length_km"] * float(detour_factor)
    g.graph["detour_factor"] = float(detour_factor)
    return g


@dataclass(frozen=True)
class Candidate:
    """One way to serve a demand: a route through the map cut into segments at ``repeaters``.

    ``fidelity_bound`` and ``rate_bound_hz`` are the screen's upper bounds
    (:func:`qnet.studies.placement_chain.chain_bounds`).
    """

    demand: int
    route: tuple[str, ...]
    repeaters: tuple[str, ...]
    segments_km: tuple[float, ...]
    fidelity_bound: float
    rate_bound_hz: float

    @property
    def chain(self) -> tuple[str, ...]:
        """The chain's memory nodes: the demand's ends with the repeaters between them."""
        return (self.route[0], *self.repeaters, self.route[-1])


@dataclass(frozen=True)
class PlacementOptions:
    """Bounds and settings of a placement (defaults in brackets).

    paths [8]: routes per demand (shortest first); max_repeaters_per_path [6]: N_max;
    max_link_km [inf]: L_max, the longest segment; max_repeaters [None]: K, the most repeaters in
    all; sites [None]: the map nodes allowed to hold a repeater (default all but demand ends);
    samples [1000], seed [0]: the Monte Carlo of verification; link_backend ["batch"];
    max_candidates [50000]: per demand, the enumeration stops there (and says so);
    time_limit_s [60]: per MILP solve; end_repeaters [True]: a demand's end node may also be a
    repeater for the other demands (a repeater installed at a user's site; it counts as one);
    False keeps the paper's partition of end nodes and repeater sites.
    """

    paths: int = 8
    max_repeaters_per_path: int = 6
    max_link_km: float = math.inf
    max_repeaters: int | None = None
    sites: tuple[str, ...] | None = None
    samples: int = 1000
    seed: int | None = 0
    link_backend: str = "batch"
    max_candidates: int = 50_000
    time_limit_s: float = 60.0
    end_repeaters: bool = True


@dataclass(frozen=True)
class DemandPlan:
    """How a demand is served: the candidate chosen and qnet's chain model on it."""

    demand: Demand
    candidate: Candidate
    check: ChainCheck


@dataclass(frozen=True)
class Placement:
    """The result of :func:`place`.

    ``status``: ``"optimal"`` (fewest repeaters over the enumerated candidates, every demand
    verified), ``"feasible"`` (a MILP hit its time limit, or the enumeration its
    ``max_candidates``: verified, fewest not proven) or
    ``"interrupted"`` (Ctrl-C: ``repeaters`` is the last MILP answer, ``plans`` the demands
    verified on it so far). ``lower_bound`` is the MILP's bound on the count.
    """

    repeaters: tuple[str, ...]
    plans: tuple[DemandPlan, ...]
    status: str
    lower_bound: int
    iterations: int
    candidates: int
    segments: int
    exhaustive: bool
    elapsed_s: float
    removed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- enumeration


def _routes(g: nx.Graph, d: Demand, k: int) -> list[tuple[list[str], list[float]]]:
    """Up to ``k`` shortest simple routes and the cumulative fibre length (km) at each node."""
    from itertools import islice

    out = []
    for route in islice(nx.shortest_simple_paths(g, d.a, d.b, weight="length_km"), k):
        cum = [0.0]
        for u, v in zip(route, route[1:]):
            cum.append(cum[-1] + g.edges[u, v]["length_km"])
        out.append((route, cum))
    return out


def _search(route, cum, sites, links: dict[float, SegmentLink], hw: Hardware, opts: PlacementOptions,
            keep: Callable[[float, float], bool], emit: Callable[[tuple[int, ...], float, float], bool],
            minimal: bool = False) -> bool:
    """Depth-first search over the cuts of one route; ``keep(f, r)`` prunes, ``emit`` returns False to stop.

    ``minimal``: only repeater sets of which no repeater can go (two neighbouring segments
    together longer than ``max_link_km``): for a demand without targets, where every chain within
    the bounds serves and a superset is never needed.
    """
    mem = hw.memory.get("memories")
    g_f, r_f = float(hw.memory.get("gate_fidelity", 1.0)), float(hw.memory.get("readout_fidelity", 1.0))
    m = len(route) - 1
    multi = attempts_per_round(mem, 2)

    def seg(i: int, j: int) -> SegmentLink | None:
        km = round(cum[j] - cum[i], 9)
        return links.get(km) if km <= opts.max_link_km else None

    def go(i: int, reps: tuple[int, ...], state: ScreenState | None) -> bool:
        for j in range(i + 1, m + 1):
            s = seg(i, j)
            if s is None:
                break  # cum is increasing: every later j is longer still
            if j < m and (j not in sites or len(reps) >= opts.max_repeaters_per_path):
                continue
            if minimal and reps and cum[j] - cum[reps[-2] if len(reps) > 1 else 0] <= opts.max_link_km + 1e-9:
                continue  # the repeater at i could go: not a minimal set
            if state is None and j == m:  # a single link: all the end nodes' memories attempt on it
                single = attempts_per_round(mem, 1)
                f, r = s.fidelity, s.exponential_rate_hz(single)
                if keep(f, r) and not emit(reps, f, r):
                    return False
                continue
            new = screen_start(s, multi) if state is None else screen_extend(state, s, multi, g_f, r_f)
            f, r = screen_bounds(new)
            if not keep(f, r):
                continue
            if j == m:
                if not emit(reps, f, r):
                    return False
            elif not go(j, reps + (j,), new):
                return False
        return True

    return go(0, (), None)


def _segment_lengths(routes, sites_of, opts: PlacementOptions) -> set[float]:
    out = set()
    for (route, cum), sites in zip(routes, sites_of):
        m = len(route) - 1
        for i in range(m):
            if i and i not in sites:
                continue
            for j in range(i + 1, m + 1):
                km = round(cum[j] - cum[i], 9)
                if km > opts.max_link_km:
                    break
                if j == m or j in sites:
                    out.add(km)
    return out


def candidates(g: nx.Graph, demands: Sequence[Demand], hw: Hardware, opts: PlacementOptions,
               progress: Callable[[str], None] | None = None) -> tuple[list[list[Candidate]], dict[str, Any]]:
    """Every candidate of every demand that passes the screen (module docstring, step 1).

    Returns
    -------
    (list of list of Candidate, dict)
        Per demand its candidates; ``info`` has ``segments`` (distinct lengths simulated),
        ``exhaustive`` (False if some demand hit ``max_candidates``), ``links`` (length -> SegmentLink)
        and ``routes`` (per demand).
    """
    ends = set() if opts.end_repeaters else {n for d in demands for n in (d.a, d.b)}
    allowed = set(opts.sites) if opts.sites is not None else set(g)
    routes_of = [_routes(g, d, opts.paths) for d in demands]
    flat = [rc for routes in routes_of for rc in routes]
    sites_of = [{i for i, n in enumerate(route) if n in allowed and n not in ends} for route, _c in flat]
    lengths = _segment_lengths(flat, sites_of, opts)
    if progress:
        progress(f"simulating {len(lengths)} distinct segment links")
    links = segment_links(sorted(lengths), hw, opts.link_backend)
    out: list[list[Candidate]] = []
    exhaustive, k = True, 0
    for di, (d, routes) in enumerate(zip(demands, routes_of)):
        found: list[Candidate] = []
        for route, cum in routes:
            sites = sites_of[k]
            k += 1

            def emit(reps, f, r, route=route, cum=cum, found=found, di=di) -> bool:
                pts = (0, *reps, len(route) - 1)
                found.append(Candidate(di, tuple(route), tuple(route[i] for i in reps),
                                       tuple(round(cum[b] - cum[a], 9) for a, b in zip(pts, pts[1:])), f, r))
                return len(found) < opts.max_candidates

            if not _search(route, cum, sites, links, hw, opts, d.met, emit, minimal=not (d.min_fidelity or d.min_rate_hz)):
                exhaustive = False
                break
        out.append(found)
        if progress:
            progress(f"demand {d.label}: {len(found)} candidate chains")
    return out, {"segments": len(links), "exhaustive": exhaustive, "links": links, "routes": routes_of, "sites": sites_of}


def _best_chain(g: nx.Graph, d: Demand, di: int, hw: Hardware, opts: PlacementOptions, info: dict) -> Candidate | None:
    """The chain with the best score (:meth:`Demand.score`) over the demand's routes, by branch and bound."""
    best: list[Any] = [-1.0, None]
    routes = info["routes"][di]
    start = sum(len(r) for r in info["routes"][:di])
    for (route, cum), sites in zip(routes, info["sites"][start:start + len(routes)]):
        def emit(reps, f, r, route=route, cum=cum) -> bool:
            s = d.score(f, r)
            if s > best[0]:
                pts = (0, *reps, len(route) - 1)
                best[:] = [s, Candidate(di, tuple(route), tuple(route[i] for i in reps),
                                        tuple(round(cum[b] - cum[a], 9) for a, b in zip(pts, pts[1:])), f, r)]
            return True

        _search(route, cum, sites, info["links"], hw, opts, lambda f, r: d.score(f, r) > best[0], emit)
    return best[1]


# ----------------------------------------------------------------------------- MILP


def _minimal(sets: Sequence[frozenset]) -> list[frozenset]:
    """The sets of which no other listed set is a proper subset (each once)."""
    kept: list[frozenset] = []
    for s in sorted(set(sets), key=lambda x: (len(x), sorted(x))):
        if not any(k <= s for k in kept):
            kept.append(s)
    return kept


@contextmanager
def _quiet_stdout():
    """Point file descriptor 1 at devnull for a while (C-level prints), where it can be."""
    import os
    import sys

    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
        saved = os.dup(fd)
    except (AttributeError, ValueError, OSError):  # no real stdout (captured): nothing to quiet
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def solve_milp(columns: Sequence[Sequence[frozenset]], max_repeaters: int | None = None,
               time_limit_s: float = 60.0) -> tuple[frozenset | None, str, int]:
    """Fewest repeaters such that every demand has one of its repeater sets chosen (module docstring, step 2).

    Parameters
    ----------
    columns : sequence of sequences of frozenset
        Per demand, the repeater sets that serve it.
    max_repeaters : int, optional
        K: at most this many repeaters.
    time_limit_s : float
        HiGHS time limit.

    Returns
    -------
    (frozenset or None, str, int)
        The repeaters (None if none found), the status (``"optimal"``, ``"feasible"``: time limit
        with a solution, ``"infeasible"``, ``"timeout"``: time limit without one) and the bound
        on the count (rounded up).

    Examples
    --------
    >>> solve_milp([[frozenset("x"), frozenset("y")], [frozenset("y"), frozenset("zw")]])  # y serves both
    (frozenset({'y'}), 'optimal', 1)
    >>> solve_milp([[frozenset("xy")]], max_repeaters=1)[1]
    'infeasible'
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    nodes = sorted({v for sets in columns for s in sets for v in s})
    if any(len(sets) == 0 for sets in columns):
        return None, "infeasible", 0
    if all(any(not s for s in sets) for sets in columns):
        return frozenset(), "optimal", 0
    col = {v: i for i, v in enumerate(nodes)}
    zs = [(d, s) for d, sets in enumerate(columns) for s in sets]
    ny, nz = len(nodes), len(zs)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add_row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        """One constraint low <= sum(value x[column]) <= high, in the order rows are added."""
        r = len(lo)
        for column, value in entries:
            rows.append(r)
            cols.append(column)
            vals.append(value)
        lo.append(low)
        hi.append(high)

    for j, (_d, s) in enumerate(zs):  # z - y_v <= 0
        for v in sorted(s):  # a fixed row order: HiGHS breaks ties by it
            add_row([(ny + j, 1.0), (col[v], -1.0)], -np.inf, 0.0)
    for d in range(len(columns)):  # sum z >= 1
        add_row([(ny + j, 1.0) for j, (dd, _s) in enumerate(zs) if dd == d], 1.0, np.inf)
    if max_repeaters is not None:
        add_row([(k, 1.0) for k in range(ny)], -np.inf, float(max_repeaters))
    r = len(lo)
    a = coo_matrix((vals, (rows, cols)), shape=(r, ny + nz)).tocsr()
    c = np.concatenate([np.ones(ny), np.zeros(nz)])
    with _quiet_stdout():  # some HiGHS builds print solver notes on the C stdout
        res = milp(c, constraints=LinearConstraint(a, lo, hi), integrality=np.concatenate([np.ones(ny), np.zeros(nz)]),
                   bounds=Bounds(0, 1), options={"time_limit": float(time_limit_s)})
    if res.x is None:
        return None, ("infeasible" if res.status == 2 else "timeout"), 0
    chosen = frozenset(v for v, x in zip(nodes, res.x[:ny]) if x > 0.5)
    bound = getattr(res, "mip_dual_bound", None)
    lower = math.ceil(bound - 1e-6) if bound is not None and math.isfinite(bound) else len(chosen)
    return chosen, ("optimal" if res.status == 0 else "feasible"), min(lower, len(chosen))


# ----------------------------------------------------------------------------- the loop


def _fmt_chain(c: Candidate) -> str:
    return f"{len(c.repeaters)} repeaters ({', '.join(c.repeaters) or 'none'}), segments {', '.join(f'{x:.0f}' for x in c.segments_km)} km"


def _infeasible(d: Demand, best: Candidate | None, check: ChainCheck | None = None) -> PlacementError:
    want = " and ".join(([f"fidelity >= {d.min_fidelity:g}"] if d.min_fidelity else [])
                        + ([f"rate >= {d.min_rate_hz:g} /s"] if d.min_rate_hz else []))
    if best is None:
        return PlacementError(f"demand {d.label} cannot be met ({want}): no chain within the bounds (--max-link-km, --paths)")
    if check is not None:
        return PlacementError(f"demand {d.label} cannot be met ({want}): every candidate fell short in qnet's chain model; "
                              f"best found: fidelity {check.fidelity:.4f}, rate {check.rate_hz:.3g} /s ({check.method}) "
                              f"with {_fmt_chain(best)}")
    return PlacementError(f"demand {d.label} cannot be met ({want}): best found: fidelity <= {best.fidelity_bound:.4f}, "
                          f"rate <= {best.rate_bound_hz:.3g} /s with {_fmt_chain(best)}")


def place(g: nx.Graph, demands: Sequence[Demand], hw: Hardware, opts: PlacementOptions = PlacementOptions(),
          progress: Callable[[str], None] | None = None) -> Placement:
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
    return Placement(tuple(sorted(chosen)), tuple(plans[i] for i in sorted(plans)), status, lower, it,
                     sum(len(c) for c in cands), info["segments"], info["exhaustive"], time.perf_counter() - t0,
                     v.removed, tuple(notes))


def _solve_round(v: "_Verifier", demands: Sequence[Demand], opts: PlacementOptions) -> tuple[frozenset, str, int]:
    """One MILP over the candidates still alive; raises when a demand has none left or K is too small."""
    columns = [_minimal([frozenset(c.repeaters) for c in cs]) for cs in v.alive]
    for di, sets in enumerate(columns):
        if not sets:
            cand, chk = v.failed_best[di]
            raise _infeasible(demands[di], cand, chk)
    sol, st, lower = solve_milp(columns, opts.max_repeaters, opts.time_limit_s)
    if st == "timeout":
        raise PlacementError(f"the MILP found no placement within --time-limit {opts.time_limit_s:g} s; "
                             "raise it, or lower --paths / --max-repeaters-per-path")
    if sol is None:
        free, _st, _lb = solve_milp(columns, None, opts.time_limit_s)
        n = len(free) if free is not None else "?"
        raise PlacementError(f"--max-repeaters {opts.max_repeaters}: too few; the demands need at least {n} "
                             f"(best found without the limit, not yet verified: {', '.join(sorted(free or ()))})")
    return sol, st, lower


class _Verifier:
    """The candidates still alive per demand, and qnet's chain model on them (each chain once per target)."""

    def __init__(self, demands: Sequence[Demand], cands: Sequence[Sequence[Candidate]], hw: Hardware, opts: PlacementOptions):
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
        usable = sorted((c for c in self.alive[di] if set(c.repeaters) <= chosen),
                        key=lambda c: (-d.score(c.fidelity_bound, c.rate_bound_hz), len(c.repeaters)))
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

"""Candidate chains of a placement (:mod:`qnet.studies.placement`, step 1): where to cut each demand's routes.

A depth-first search over the cuts of each of a demand's shortest routes, pruned by the screen's
upper bounds (:mod:`qnet.studies.placement_chain`), ``max_link_km`` and ``max_repeaters_per_path``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import networkx as nx

from qnet.network.generate import Hardware
from qnet.studies.placement_chain import (
    ScreenState,
    SegmentLink,
    attempts_per_round,
    screen_bounds,
    screen_extend,
    screen_start,
    segment_links,
)
from qnet.studies.placement_data import Candidate, Demand, PlacementOptions

__all__ = ["candidates"]


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


def _search(
    route,
    cum,
    sites,
    links: dict[float, SegmentLink],
    hw: Hardware,
    opts: PlacementOptions,
    keep: Callable[[float, float], bool],
    emit: Callable[[tuple[int, ...], float, float], bool],
    minimal: bool = False,
) -> bool:
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


def candidates(
    g: nx.Graph,
    demands: Sequence[Demand],
    hw: Hardware,
    opts: PlacementOptions,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[list[Candidate]], dict[str, Any]]:
    """Every candidate of every demand that passes the screen (:mod:`qnet.studies.placement`, step 1).

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
                found.append(
                    Candidate(
                        di,
                        tuple(route),
                        tuple(route[i] for i in reps),
                        tuple(round(cum[b] - cum[a], 9) for a, b in zip(pts, pts[1:])),
                        f,
                        r,
                    )
                )
                return len(found) < opts.max_candidates

            if not _search(
                route, cum, sites, links, hw, opts, d.met, emit, minimal=not (d.min_fidelity or d.min_rate_hz)
            ):
                exhaustive = False
                break
        out.append(found)
        if progress:
            progress(f"demand {d.label}: {len(found)} candidate chains")
    return out, {
        "segments": len(links),
        "exhaustive": exhaustive,
        "links": links,
        "routes": routes_of,
        "sites": sites_of,
    }


def _best_chain(g: nx.Graph, d: Demand, di: int, hw: Hardware, opts: PlacementOptions, info: dict) -> Candidate | None:
    """The chain with the best score (:meth:`Demand.score`) over the demand's routes, by branch and bound."""
    best: list[Any] = [-1.0, None]
    routes = info["routes"][di]
    start = sum(len(r) for r in info["routes"][:di])
    for (route, cum), sites in zip(routes, info["sites"][start : start + len(routes)]):

        def emit(reps, f, r, route=route, cum=cum) -> bool:
            s = d.score(f, r)
            if s > best[0]:
                pts = (0, *reps, len(route) - 1)
                best[:] = [
                    s,
                    Candidate(
                        di,
                        tuple(route),
                        tuple(route[i] for i in reps),
                        tuple(round(cum[b] - cum[a], 9) for a, b in zip(pts, pts[1:])),
                        f,
                        r,
                    ),
                ]
            return True

        _search(route, cum, sites, info["links"], hw, opts, lambda f, r: d.score(f, r) > best[0], emit)
    return best[1]

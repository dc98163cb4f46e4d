"""The exact best-first label-setting search of key-rate routing, and brute force to check it.

Why the search is exact (the route model: :mod:`qnet.repeater.keyroute`)
-------------------------------------------------------------------------
K depends on |s| only (h is symmetric about 1/2) and is non-decreasing in each |s_j|: h(Q) falls
as |s_z| or |s_x| grows, and S grows with every |s_j|. The model's E[max] is the quadrature
t_0 + sum_j w_j (1 - exp(sum_i ln F_i(t_j))) with positive weights w_j, so it is non-decreasing
when any link's ln F_i(t_j) falls at any grid time (a link added, or slowed) -- exactly, for the
model as computed (every floating-point step is monotone). A partial route's label is (the
pending last hop and its first node's memory share, |s| so far, L = sum of its finished links'
ln F on the grid); its completions share their future with every label of the same pending hop.
Label 1 *dominates* label 2 there when its share is no smaller, |s1| >= |s2| componentwise (on
the components K uses) and L1 >= L2 at every grid time: then for every completion C, label 1 + C
has no smaller K and no larger E[max] than label 2 + C. A walk that revisits a node is no better
than the simple path left after cutting its cycle (fewer links and swaps; memory shares without
``memory_split`` do not depend on which links a repeater joins), so dominance may ignore which
nodes each label visited; where a node has a ``memory_split`` that argument fails and dominance
also requires label 1 to have visited a subset of label 2's nodes. The search pops the label with
the highest upper bound K(min(1, |s| H(v))) / E(L + ln F_pending + ln G_v), H(v) the best
per-component product of correlations (swaps included) from v to the destination and ln G_v(t)
an upper bound on the ln CDF of any continuation from v (the largest product of link CDFs over
paths to the destination at coarse grid times, each link at its largest possible rate, carried to
the finer times by monotonicity in t, and the widest-path rate), all by backward Dijkstra; the
pending link is taken at its largest share. It stops when no bound exceeds the best complete
route: no label left can beat it. Bounds are rounded outward by 1e-12 relative, so only routes
within that of the optimum can be lost (ties).
"""

from __future__ import annotations

import heapq

import networkx as nx
import numpy as np

from qnet.errors import ConfigError, NetworkError
from qnet.link.prepared import PreparedNetwork
from qnet.repeater.keyroute.bounds import SearchTables
from qnet.repeater.keyroute.model import KeyRoute, KeyRouteModel, _key_fractions, key_fraction
from qnet.repeater.routing import Hop

__all__ = ["best_key_route", "exhaustive_key_route"]


class _Search:
    """One best-first label-setting search (:meth:`KeyRouteModel.best`; module docstring)."""

    def __init__(self, model: KeyRouteModel, tables: SearchTables, a: str, b: str, metric: str) -> None:
        self.m, self.t, self.a, self.b, self.metric = model, tables, a, b, metric
        self.ib = model.index[b]
        self.comps = (0, 2) if metric == "key_rate" else (0, 1, 2)
        self.h, self.future = tables.bounds(b)
        self.zero = np.zeros_like(model.grid.t)
        # label fields, by label id
        self.arc: list[int] = []
        self.share: list[int] = []
        self.s: list[np.ndarray] = []
        self.log_cdf: list[np.ndarray] = []
        self.parent: list[int] = []
        self.visited: list[int] = []
        self.alive: list[bool] = []
        self.front: dict[int, list[int]] = {}
        self.heap: list[tuple[float, int]] = []
        self.best_value = 0.0
        self.best_route: list[int] | None = None

    def _dominates(self, i: int, j: int) -> bool:
        if self.share[i] < self.share[j]:
            return False
        si, sj = self.s[i], self.s[j]
        if any(si[c] < sj[c] for c in self.comps):
            return False
        if self.m.needs_visited and (self.visited[i] & ~self.visited[j]) != 0:
            return False
        return bool(np.all(self.log_cdf[i] >= self.log_cdf[j]))

    def _arcs(self, label: int, last: int) -> list[int]:
        out = [last]
        while label >= 0:
            out.append(self.arc[label])
            label = self.parent[label]
        return out[::-1]

    def _complete(self, parent: int, arc: int, share: int, s: np.ndarray, log_cdf: np.ndarray) -> None:
        m = self.m
        sb = m.shares(self.b, (m.arcs[arc][2],))
        if sb is None:
            return
        full = log_cdf + m._link_vec(m.arcs[arc][3], min(share, sb[0]))
        value = key_fraction(s, self.metric) / m.grid.mean(full)
        if value > self.best_value:
            self.best_value, self.best_route = value, self._arcs(parent, arc)

    def _add_all(
        self, parent: int, arcs: list[int], shares: list[int], s_all: np.ndarray, log_cdf: np.ndarray, visited: int
    ) -> None:
        m, t = self.m, self.t
        inner = []
        for i, (e, sh) in enumerate(zip(arcs, shares)):
            if t.arc_v[e] == self.ib:
                self._complete(parent, e, sh, s_all[i], log_cdf)
            elif not (visited >> int(t.arc_v[e])) & 1:
                inner.append(i)
        if not inner:
            return
        idx = np.array(inner)
        ws = t.arc_v[np.array(arcs)[idx]]
        bound_s = np.minimum(1.0, np.abs(s_all[idx]) * self.h[ws])
        k_ub = _key_fractions(bound_s, self.metric)
        live = [j for j in range(len(idx)) if k_ub[j] > 0.0]
        if not live:
            return
        rows = [m._vec_id(int(t.arc_link[arcs[inner[j]]]), shares[inner[j]]) for j in live]
        lcdf = log_cdf[None, :] + m._vec_rows[rows] + self.future[ws[live]]
        e_lb = m.grid.t0 + (-np.expm1(lcdf)) @ m.grid.wt
        for j, e_j in zip(live, e_lb):
            ub = k_ub[j] / e_j
            if ub > self.best_value:
                i = inner[j]
                self._push(parent, arcs[i], shares[i], s_all[i], log_cdf, visited, ub)

    def _push(
        self, parent: int, arc: int, share: int, s: np.ndarray, log_cdf: np.ndarray, visited: int, ub: float
    ) -> None:
        lid = len(self.arc)
        self.arc.append(arc)
        self.share.append(share)
        self.s.append(np.abs(s))
        self.log_cdf.append(log_cdf)
        self.parent.append(parent)
        self.visited.append(visited | (1 << int(self.t.arc_v[arc])))
        self.alive.append(True)
        front = self.front.setdefault(arc, [])
        for other in front:
            if self.alive[other] and self._dominates(other, lid):
                self.alive[lid] = False
                return
        for other in front:
            if self.alive[other] and self._dominates(lid, other):
                self.alive[other] = False
        front[:] = [o for o in front if self.alive[o]] + [lid]
        heapq.heappush(self.heap, (-ub, lid))

    def _extend(self, lid: int) -> None:
        """Every one-link continuation of label ``lid`` (its pending link finished with the share it now gets)."""
        m, t = self.m, self.t
        arc = self.arc[lid]
        v, st_in, li = m.arcs[arc][1], m.arcs[arc][2], m.arcs[arc][3]
        visited = self.visited[lid]
        groups: dict[int, tuple[list[int], list[int]]] = {}  # pending link's k -> (arcs, next shares)
        for e in m.out[v]:
            w, st_out, lo = m.arcs[e][1], m.arcs[e][2], m.arcs[e][3]
            if m.p[lo] <= 0.0 or (visited >> m.index[w]) & 1:
                continue
            sh = m.shares(v, (st_in, st_out))
            if sh is None:
                continue
            group = groups.setdefault(min(self.share[lid], sh[0]), ([], []))
            group[0].append(e)
            group[1].append(sh[1])
        s_v = self.s[lid] * m.swap[v]
        for k, (arcs, shares) in groups.items():
            s_all = s_v * t.s_abs[t.arc_link[np.array(arcs)]]
            self._add_all(lid, arcs, shares, s_all, self.log_cdf[lid] + m._link_vec(li, k), visited)

    def run(self) -> KeyRoute:
        m, t = self.m, self.t
        start = 1 << m.index[self.a]
        arcs, shares = [], []
        for e in m.out[self.a]:
            sh = m.shares(self.a, (m.arcs[e][2],))
            if sh is not None and m.p[m.arcs[e][3]] > 0.0:
                arcs.append(e)
                shares.append(sh[0])
        if arcs:
            self._add_all(-1, arcs, shares, t.s_abs[t.arc_link[np.array(arcs)]], self.zero, start)
        while self.heap:
            neg_ub, lid = heapq.heappop(self.heap)
            if -neg_ub <= self.best_value:
                break
            if self.alive[lid]:
                self._extend(lid)
        if self.best_route is None:
            raise NetworkError(
                f"no route from {self.a!r} to {self.b!r} delivers key ({self.metric}: every route's key "
                "fraction is 0 under the route model, docs/conventions.md §13)"
            )
        route = m.evaluate([Hop(*m.arcs[e][:3]) for e in self.best_route], self.metric)
        return KeyRoute(**{**route.__dict__, "labels": len(self.arc)})


def best_key_route(
    graph: nx.Graph | PreparedNetwork,
    a: str,
    b: str,
    metric: str = "key_rate",
    link_results: dict | None = None,
    model: KeyRouteModel | None = None,
) -> KeyRoute:
    """The route from ``a`` to ``b`` with the highest key rate under the route model (:mod:`qnet.repeater.keyroute`).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    a, b : str
        End memory nodes.
    metric : str
        ``"key_rate"`` (BB84/BBM92, default) or ``"diqkd_key_rate"``.
    link_results : dict, optional
        Link results by hop (:func:`~qnet.repeater.routing.all_link_results`); computed when not given.
    model : KeyRouteModel, optional
        A model of this network already built (reused across many pairs).

    Returns
    -------
    KeyRoute

    Raises
    ------
    NetworkError
        An unknown metric or node, equal ends, or no route that delivers key.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.keyroute import best_key_route
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> r = best_key_route(graph, "alice", "r2")
    >>> r.nodes, r.attempts_per_round
    (['alice', 'r1', 'r2'], (1, 1))
    """
    if model is None:
        model = _cached_model(graph, link_results)
    return model.best(a, b, metric)


_LAST_MODEL: list = []  # [(graph, link_results, model)]: the last model built from given link results


def _cached_model(graph: nx.Graph | PreparedNetwork, link_results: dict | None) -> KeyRouteModel:
    """The model of (graph, link_results), reused while both are the same objects (a traffic run's requests)."""
    if link_results is None:
        return KeyRouteModel(graph)
    if _LAST_MODEL and _LAST_MODEL[0][0] is graph and _LAST_MODEL[0][1] is link_results:
        return _LAST_MODEL[0][2]
    model = KeyRouteModel(graph, link_results)
    _LAST_MODEL[:] = [(graph, link_results, model)]
    return model


def exhaustive_key_route(
    model: KeyRouteModel, a: str, b: str, metric: str = "key_rate", cutoff: int | None = None
) -> KeyRoute | None:
    """Brute force: every simple route from ``a`` to ``b`` (parallel links included) evaluated; the best.

    For small graphs and tests (the number of simple paths grows exponentially).

    Parameters
    ----------
    model : KeyRouteModel
        The network's model.
    a, b : str
        End memory nodes.
    metric : str
        ``"key_rate"`` or ``"diqkd_key_rate"``.
    cutoff : int, optional
        Longest route considered (links).

    Returns
    -------
    KeyRoute or None
        The best route, or None when no route delivers key.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.keyroute import KeyRouteModel, exhaustive_key_route
    >>> model = KeyRouteModel(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> exhaustive_key_route(model, "alice", "bob").key_rate_hz == model.best("alice", "bob").key_rate_hz
    True
    """
    best = None
    for edges in nx.all_simple_edge_paths(model.lg, a, b, cutoff=cutoff):
        try:
            r = model.evaluate([Hop(u, v, st) for u, v, st in edges], metric)
        except ConfigError:
            continue
        if r.key_rate_hz > 0.0 and (best is None or r.key_rate_hz > best.key_rate_hz):
            best = r
    return best

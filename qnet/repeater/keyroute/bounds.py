"""The bounds of the key-rate route search: how good any completion of a partial route can be.

For a destination b: H(v), the best per-component product of correlations (swaps included) from
v to b, and ln G_v(t), an upper bound on the ln CDF of any continuation from v (the search's bound,
:mod:`qnet.repeater.keyroute.search`). Built once per :class:`~qnet.repeater.keyroute.model.KeyRouteModel`
(the arrays of its links), then solved per destination by backward Dijkstra (scipy).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qnet.repeater.keyroute.model import KeyRouteModel

_COARSE_POINTS = 64  # grid times at which the search's completion bound solves its path problems


class SearchTables:
    """Per-model arrays of the search's bounds (arc endpoints, link correlations, widest-path tree, coarse CDFs).

    Parameters
    ----------
    model : KeyRouteModel
        The network's links under the route model.
    """

    def __init__(self, model: KeyRouteModel) -> None:
        self.m = model
        self._arrays()
        self._completion_tables()

    def _arrays(self) -> None:
        """Per-model arrays for the search's bounds: arc endpoints, link correlations, widest-path tree."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import minimum_spanning_tree

        m = self.m
        n = len(m.nodes)
        self.arc_u = np.array([m.index[x] for x, _y, _s, _l in m.arcs], dtype=np.int64)
        self.arc_v = np.array([m.index[y] for _x, y, _s, _l in m.arcs], dtype=np.int64)
        self.arc_link = np.array([li for *_x, li in m.arcs], dtype=np.int64)
        self.s_abs = np.abs(np.array(m.s)).reshape(-1, 3)
        self.swap_abs = np.abs(np.array([m.swap[x] for x in m.nodes])).reshape(-1, 3)
        self.arc_ok = np.array([m.p[li] > 0.0 for li in self.arc_link], dtype=bool)
        # widest path: the slowest link's largest possible rate on the best route between two nodes lies on a
        # minimum spanning tree of 1/rate (the minimax path property); parallel links keep their fastest.
        kcap = {x: (hw.memories or 1) for x, hw in m.hw.items()}
        best_inv: dict[tuple[int, int], float] = {}
        for li, (x, y, _st) in enumerate(m.links):
            if m.p[li] <= 0.0:
                continue
            i, j = sorted((m.index[x], m.index[y]))
            if i == j:
                continue
            inv = 1.0 / m.rate_hz(li, min(kcap[x], kcap[y]))
            best_inv[(i, j)] = min(inv, best_inv.get((i, j), math.inf))
        self.cap_log_cdf = np.array(
            [
                m.grid.log_cdf(m.rate_hz(li, min(kcap[x], kcap[y])))
                if m.p[li] > 0.0
                else np.full(len(m.grid.t), -np.inf)
                for li, (x, y, _st) in enumerate(m.links)
            ]
        )
        rows = [i for i, _j in best_inv]
        cols = [j for _i, j in best_inv]
        tree = minimum_spanning_tree(coo_matrix((list(best_inv.values()), (rows, cols)), shape=(n, n)).tocsr())
        self.tree = (tree + tree.T).tocsr()

    def bounds(self, b: str) -> tuple[np.ndarray, np.ndarray]:
        """H[v]: best per-component |s| product from v (its swap included) to b; W[v]: widest rate to b.

        H is a backward Dijkstra on -ln(|s_link| |c_v|) per component (scipy), inflated by 1e-12
        relative so that rounding never makes it an underestimate; W follows the widest-path tree.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import breadth_first_order, dijkstra

        m = self.m
        n, ib = len(m.nodes), m.index[b]
        ok = self.arc_ok & (self.arc_u != ib)
        u, v, li = self.arc_u[ok], self.arc_v[ok], self.arc_link[ok]
        h = np.zeros((n, 3))
        with np.errstate(divide="ignore"):
            for c in range(3):
                cost = -np.log(self.s_abs[li, c] * self.swap_abs[u, c])
                keep = np.isfinite(cost)
                order = np.lexsort((cost[keep], v[keep], u[keep]))  # parallel arcs: keep the cheapest
                uu, vv, cc = u[keep][order], v[keep][order], cost[keep][order]
                first = np.ones(len(uu), dtype=bool)
                first[1:] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
                # reversed graph (edges v -> u) from b; zero costs stay edges (1e-300 floor)
                graph = coo_matrix((np.maximum(cc[first], 1e-300), (vv[first], uu[first])), shape=(n, n)).tocsr()
                dist = dijkstra(graph, directed=True, indices=ib)
                h[:, c] = np.exp(-dist) * (1.0 + 1e-12)
        wide = np.zeros(n)
        order, pred = breadth_first_order(self.tree, ib, directed=False, return_predecessors=True)
        wide[ib] = math.inf
        inv = self.tree
        for x in order[1:]:
            p = pred[x]
            wide[x] = min(wide[p], 1.0 / inv[x, p])
        with np.errstate(divide="ignore"):  # nodes that cannot reach b (W = 0) get -inf: pruned before use
            g = np.minimum(np.log(-np.expm1(-np.outer(wide, m.grid.t))), self._completion_log_cdf(ib))
        return h, g

    def _completion_tables(self) -> None:
        """Undirected link graph with each link's largest-rate -ln CDF at coarse grid times (parallel links: min)."""
        from scipy.sparse import csr_matrix

        m = self.m
        n, size = len(m.nodes), len(m.grid.t)
        # where CDFs are far from 0 (t >= 0.01 / the fastest rate): below it 1 - CDF is ~1 whatever the bound
        first = int(np.searchsorted(m.grid.t, 0.01 / m.grid.hi_hz))
        step = max(1, -(-(size - first) // _COARSE_POINTS))
        self.coarse = np.unique(np.r_[np.arange(first, size, step), size - 1])
        self.coarse_of = np.searchsorted(self.coarse, np.arange(size))  # the first coarse time at or after each time
        ends = [tuple(sorted((m.index[x], m.index[y]))) for x, y, _st in m.links]
        usable = [li for li in range(len(m.links)) if m.p[li] > 0.0 and ends[li][0] != ends[li][1]]
        usable.sort(key=lambda li: ends[li])
        keys = [ends[li] for li in usable]
        starts = [k for k in range(len(keys)) if k == 0 or keys[k] != keys[k - 1]]
        cost = (
            -self.cap_log_cdf[np.array(usable, dtype=np.int64)][:, self.coarse]
            if usable
            else np.zeros((0, len(self.coarse)))
        )
        self.pair_cost = np.maximum(np.minimum.reduceat(cost, starts, axis=0), 1e-300) if usable else cost
        rows = np.array([keys[k][0] for k in starts], dtype=np.int64)
        cols = np.array([keys[k][1] for k in starts], dtype=np.int64)
        self.pair_graph = csr_matrix((np.arange(1.0, len(starts) + 1.0), (rows, cols)), shape=(n, n))
        self.pair_perm = (self.pair_graph.data - 1.0).astype(np.int64)

    def _completion_log_cdf(self, ib: int) -> np.ndarray:
        """ln G_v(t): an upper bound on ln P(all links of any continuation v -> b are done by t), every grid time.

        At the coarse times, the largest product of the links' CDFs over paths to b (a shortest path on
        -ln CDF per time, scipy's Dijkstra), each link at its largest possible rate; between them the value of
        the next coarse time (every CDF grows with t, so that bounds it); shrunk toward 0 by 1e-12 relative so
        that rounding never makes it too small.
        """
        from scipy.sparse.csgraph import dijkstra

        dist = np.empty((len(self.m.nodes), len(self.coarse)))
        graph = self.pair_graph.copy()
        for c in range(len(self.coarse)):
            graph.data = self.pair_cost[self.pair_perm, c]
            dist[:, c] = dijkstra(graph, directed=False, indices=ib)
        return -dist[:, self.coarse_of] * (1.0 - 1e-12)

"""Key-rate routing: the route with the highest secret-key rate, found exactly (``--metric key_rate``).

The secret-key rate of a chain is not isotonic (Tang, Hinkley, Goodenough, Krastanov & Avis,
arXiv:2511.20628): extending two partial routes by the same link can reverse their order, so a
shortest path on any additive cost can miss the best route. This module defines the key rate of a
route with one documented model (the *route model*, ``docs/conventions.md`` §13) and finds the
route maximising it by a best-first label-setting search over partial routes that is exact for
that model (same value as brute force over all simple paths, which :func:`exhaustive_key_route`
does on small graphs).

Route model (swap as soon as possible, before waiting)
------------------------------------------------------
* Link i of the route delivers the Pauli-twirled (Bell-diagonal) part of its state, described by
  its correlations toward |Psi+>: s_i = (<XX>, <YY>, -<ZZ>) (1, 1, 1 for |Psi+>).
* A swap at repeater v with ``gate_fidelity`` f and ``readout_fidelity`` r multiplies the
  correlations by c_v = (f(2r-1), f(2r-1)^2, f(2r-1)) (the Bell measurement of ``docs/conventions.md``
  §11: depolarising CNOT, each measured bit flipped with probability 1 - r). Bell-diagonal pairs
  compose under swapping by the Klein-group convolution, whose characters multiply, so the route
  delivers s = s_1 * c_1 * s_2 * ... * s_n (componentwise).
* Link i makes k_i attempts per round, k_i from the route's memory shares exactly as
  ``qnet chain`` assigns them (:func:`qnet.link.multiplexing.link_shares`), and delivers after an
  exponential time of rate lambda_i = (1 - (1 - p_i)^k_i) / T_att,i (its ``rate_hz``). Swaps are
  instantaneous and deterministic, pairs do not decohere while they wait and no cutoff discards
  them: the chain delivers when its slowest link has, at mean time
  E[max_i X_i] = integral_0^inf (1 - prod_i (1 - exp(-lambda_i t))) dt, and rate_hz = 1 / E[max].
  The integral is taken by the trapezoid rule in log t (step 0.2 over the network's whole range of
  rates; relative error below 1e-13, tested against the closed forms H_n / lambda and inclusion-
  exclusion).
* key_rate_hz = K(s) * rate_hz, K the BB84/BBM92 key fraction 1 - h(Q_Z) - h(Q_X) with
  Q_Z = (1 - s_z)/2, Q_X = (1 - s_x)/2 (``key_rate``), or the DI-QKD fraction from
  S = 2 sqrt(the two largest s_i^2) and Q_Z (``diqkd_key_rate``) (:mod:`qnet.quantum.figures`).

The model leaves out what ``qnet chain`` adds to a chosen route: memory decoherence while pairs
wait, cutoffs, swap times and the non-Bell-diagonal part of the link states. ``qnet path
--metric key_rate`` therefore *chooses* the route with this model and then *reports* it with the
chain simulation like any other route.

Why the search is exact
-----------------------
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

Examples
--------
>>> import qnet
>>> from qnet.repeater.keyroute import best_key_route
>>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
>>> route = best_key_route(graph, "alice", "bob")
>>> route.nodes, route.key_rate_hz > 0
(['alice', 'r1', 'r2', 'r3', 'bob'], True)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from qnet.errors import ConfigError, NetworkError
from qnet.link.multiplexing import link_shares, success_per_round
from qnet.quantum.figures import bb84_key_fraction_from_errors, correlation_matrix, diqkd_key_fraction
from qnet.repeater.choices import KEY_METRICS
from qnet.repeater.routing import Hop, _check_node, all_link_results, link_graph

__all__ = [
    "KEY_METRICS",
    "KeyRoute",
    "KeyRouteModel",
    "best_key_route",
    "exhaustive_key_route",
    "key_fraction",
    "mean_max_exponential",
    "link_correlations",
    "swap_factors",
]

#: Step of the trapezoid rule in ln t for E[max] (relative error < 1e-13, module docstring).
GRID_STEP = 0.2
_T_LOW = 1e-16  # the grid starts at this fraction of the fastest link's mean time
_T_HIGH = 60.0  # and ends at this many mean times of the slowest
_COARSE_POINTS = 64  # grid times at which the search's completion bound solves its path problems


def key_fraction(s: np.ndarray, metric: str = "key_rate") -> float:
    """Secret bits per pair of the Bell-diagonal pair with correlations ``s`` toward |Psi+>.

    Parameters
    ----------
    s : array_like, shape (3,)
        (<XX>, <YY>, -<ZZ>) of the pair (signs do not matter: the fractions depend on |s|).
    metric : str
        ``"key_rate"`` (BB84/BBM92: 1 - h(Q_Z) - h(Q_X)) or ``"diqkd_key_rate"`` (DI-QKD from CHSH).

    Returns
    -------
    float
        The key fraction, >= 0.

    Examples
    --------
    >>> from qnet.repeater.keyroute import key_fraction
    >>> round(key_fraction([0.8, 0.8, 0.8]), 6)     # Werner w = 0.8: 1 - 2 h(0.1)
    0.062009
    >>> key_fraction([1.0, 1.0, 1.0], "diqkd_key_rate")
    1.0
    """
    return float(_key_fractions(np.asarray(s, dtype=float).reshape(1, 3), metric)[0])


def _key_fractions(s: np.ndarray, metric: str) -> np.ndarray:
    """:func:`key_fraction` of each row of ``s`` (n, 3)."""
    a = np.abs(s)
    q_z = (1.0 - a[:, 2]) / 2.0
    if metric == "key_rate":
        return np.atleast_1d(bb84_key_fraction_from_errors(q_z, (1.0 - a[:, 0]) / 2.0))
    sq = np.sort(a * a, axis=1)
    chsh = 2.0 * np.sqrt(sq[:, 1] + sq[:, 2])  # the two largest (sorted: exactly monotone in each |s_j|)
    return np.atleast_1d(diqkd_key_fraction(chsh, q_z))


def swap_factors(gate_fidelity: float, readout_fidelity: float) -> np.ndarray:
    """Factors c = (f(2r-1), f(2r-1)^2, f(2r-1)) a noisy swap applies to the correlations.

    Parameters
    ----------
    gate_fidelity, readout_fidelity : float
        f and r of the repeater (``docs/conventions.md`` §11).

    Returns
    -------
    ndarray, shape (3,)

    Examples
    --------
    >>> from qnet.repeater.keyroute import swap_factors
    >>> [round(float(c), 6) for c in swap_factors(0.99, 0.95)]
    [0.891, 0.8019, 0.891]
    """
    e = 2.0 * float(readout_fidelity) - 1.0
    f = float(gate_fidelity)
    return np.array([f * e, f * e * e, f * e])


def link_correlations(rho: np.ndarray) -> np.ndarray:
    """(<XX>, <YY>, -<ZZ>) of a two-qubit state: its Bell-diagonal part's correlations toward |Psi+>.

    Parameters
    ----------
    rho : ndarray, shape (4, 4)
        The pair, memory A first.

    Returns
    -------
    ndarray, shape (3,)

    Examples
    --------
    >>> from qnet.quantum.states import bell_projector
    >>> from qnet.repeater.keyroute import link_correlations
    >>> [round(float(x), 12) for x in link_correlations(bell_projector("psi+"))]
    [1.0, 1.0, 1.0]
    """
    t = np.real(np.diag(correlation_matrix(rho)))
    return np.array([t[0], t[1], -t[2]])


class _TimeGrid:
    """Trapezoid rule in ln t for E[max] of independent exponential times with rates in [lo, hi]."""

    def __init__(self, lo_hz: float, hi_hz: float) -> None:
        self.hi_hz = hi_hz
        x0, x1 = math.log(_T_LOW / hi_hz), math.log(_T_HIGH / lo_hz)
        n = int(math.ceil((x1 - x0) / GRID_STEP))
        self.t = np.exp(x0 + GRID_STEP * np.arange(n + 1))
        w = np.full(n + 1, GRID_STEP)
        w[0] = w[-1] = GRID_STEP / 2.0
        self.wt = w * self.t
        self.t0 = float(self.t[0])  # the integrand is 1 (to 1e-16) below the first node

    def log_cdf(self, rate_hz: float) -> np.ndarray:
        """ln P(X <= t) on the grid for an exponential time of rate ``rate_hz``."""
        return np.log(-np.expm1(-rate_hz * self.t))

    def mean(self, log_cdf: np.ndarray) -> float:
        """E[max] from ln P(max <= t) (the sum of the links' log CDFs)."""
        return self.t0 + float(np.dot(self.wt, -np.expm1(log_cdf)))


def mean_max_exponential(rates_hz: Sequence[float]) -> float:
    """E[max_i X_i] (s) of independent exponential times X_i of rates ``rates_hz`` (route model).

    Parameters
    ----------
    rates_hz : sequence of float
        Rates (Hz), > 0.

    Returns
    -------
    float
        Mean time (s) until all have happened.

    Examples
    --------
    >>> from qnet.repeater.keyroute import mean_max_exponential
    >>> round(mean_max_exponential([2.0, 2.0, 2.0]), 12) == round((1 + 1/2 + 1/3) / 2, 12)
    True
    """
    rates = [float(r) for r in rates_hz]
    grid = _TimeGrid(min(rates), max(rates))
    return grid.mean(sum((grid.log_cdf(r) for r in rates), np.zeros_like(grid.t)))


@dataclass(frozen=True)
class KeyRoute:
    """A route and its figures under the route model (module docstring).

    Parameters
    ----------
    hops : tuple of Hop
        The route.
    metric : str
        ``"key_rate"`` (BB84/BBM92) or ``"diqkd_key_rate"``.
    key_rate_hz : float
        Secret bits per second (Hz): key_fraction / mean_completion_time_s.
    key_fraction : float
        Secret bits per delivered pair.
    rate_hz : float
        Pairs per second (Hz), 1 / E[max of the links' times].
    fidelity : float
        <Psi+|rho|Psi+> of the delivered Bell-diagonal pair, (1 + s_x + s_y + s_z)/4.
    correlations : tuple of float
        (s_x, s_y, s_z) = (<XX>, <YY>, -<ZZ>) of the delivered pair.
    attempts_per_round : tuple of int
        k of each link on this route.
    labels : int
        Partial routes the search created (0 for an evaluation).
    """

    hops: tuple[Hop, ...]
    metric: str
    key_rate_hz: float
    key_fraction: float
    rate_hz: float
    fidelity: float
    correlations: tuple[float, float, float]
    attempts_per_round: tuple[int, ...]
    labels: int = 0

    @property
    def nodes(self) -> list[str]:
        """Memory nodes in route order."""
        return [self.hops[0].node_a] + [h.node_b for h in self.hops]


def _check_metric(metric: str) -> None:
    if metric not in KEY_METRICS:
        raise NetworkError(f"metric = {metric!r} is invalid for key-rate routing: one of {', '.join(KEY_METRICS)}")


class KeyRouteModel:
    """Every elementary link of a network under the route model, ready for searches and evaluations.

    Parameters
    ----------
    graph : networkx.Graph
        The network.
    link_results : dict, optional
        (a, b, station) -> LinkResult of every elementary link (:func:`~qnet.repeater.routing.all_link_results`);
        computed (each distinct link once) when not given.
    link_backend : str
        Link backend (``"aer"`` or ``"batch"``) when ``link_results`` is computed here.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.keyroute import KeyRouteModel
    >>> model = KeyRouteModel(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> r = model.evaluate(["alice", "r1", "r2"])
    >>> r.attempts_per_round, 0 < r.key_rate_hz < r.rate_hz
    ((1, 1), True)
    """

    def __init__(self, graph: nx.Graph, link_results: dict | None = None, link_backend: str = "aer") -> None:
        self.graph = graph
        self.lg = link_graph(graph)
        results = all_link_results(graph, link_backend=link_backend) if link_results is None else link_results
        self.nodes = list(self.lg.nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.hw = {n: graph.nodes[n]["hardware"] for n in self.nodes}
        self.swap = {n: swap_factors(hw.gate_fidelity, hw.readout_fidelity) for n, hw in self.hw.items()}
        self.needs_visited = any(hw.memory_split for hw in self.hw.values())
        self.links: list[tuple[str, str, str]] = []
        self.p, self.t_att, self.s = [], [], []
        self.arcs: list[tuple[str, str, str, int]] = []  # (from, to, station, link)
        self.out: dict[str, list[int]] = {n: [] for n in self.nodes}
        self.arc_of: dict[tuple[str, str, str], int] = {}
        for u, v, st in self.lg.edges(keys=True):
            r = results.get((u, v, st)) or results[(v, u, st)]
            li = len(self.links)
            self.links.append((u, v, st))
            self.p.append(float(r.success_probability))
            self.t_att.append(float(r.attempt_time_s))
            self.s.append(link_correlations(np.asarray(r.density_matrix)))
            for x, y in ((u, v), (v, u)):
                self.arc_of[(x, y, st)] = len(self.arcs)
                self.out[x].append(len(self.arcs))
                self.arcs.append((x, y, st, li))
        kmax = max([1] + [hw.memories or 1 for hw in self.hw.values()])
        usable = [i for i, p in enumerate(self.p) if p > 0.0]
        lo = min((self.p[i] / self.t_att[i] for i in usable), default=1.0)
        hi = max((success_per_round(self.p[i], kmax) / self.t_att[i] for i in usable), default=1.0)
        self.grid = _TimeGrid(lo, hi)
        self._vec: dict[tuple[int, int], int] = {}
        self._vec_rows = np.empty((64, len(self.grid.t)))
        self._rate: dict[tuple[int, int], float] = {}
        self._shares: dict[tuple[str, tuple[str, ...]], tuple[int, ...] | None] = {}

    def rate_hz(self, link: int, k: int) -> float:
        """Delivery rate (Hz) of ``link`` making ``k`` attempts per round: (1 - (1 - p)^k) / T_att."""
        key = (link, k)
        if key not in self._rate:
            self._rate[key] = float(success_per_round(self.p[link], k)) / self.t_att[link]
        return self._rate[key]

    def _vec_id(self, link: int, k: int) -> int:
        """Row of ``_vec_rows`` holding ln P(X <= t) of ``link`` with ``k`` attempts per round."""
        key = (link, k)
        row = self._vec.get(key)
        if row is None:
            row = len(self._vec)
            if row == len(self._vec_rows):  # grow by doubling (rows handed out earlier stay valid views)
                self._vec_rows = np.concatenate([self._vec_rows, np.empty_like(self._vec_rows)])
            self._vec_rows[row] = self.grid.log_cdf(self.rate_hz(link, k))
            self._vec[key] = row
        return row

    def _link_vec(self, link: int, k: int) -> np.ndarray:
        return self._vec_rows[self._vec_id(link, k)]

    def shares(self, node: str, stations: tuple[str, ...]) -> tuple[int, ...] | None:
        """Memories ``node`` gives each of its route links (by station, in order); None: too few."""
        key = (node, stations)
        if key not in self._shares:
            hw = self.hw[node]
            try:
                sh = link_shares(node, hw.memories, hw.memory_split, stations)
                self._shares[key] = tuple(sh[s] for s in stations)
            except ConfigError:
                self._shares[key] = None
        return self._shares[key]

    def _arcs_of(self, hops: Sequence) -> list[int]:
        if all(isinstance(h, str) for h in hops):
            from qnet.repeater.routing import explicit_path

            hops = explicit_path(self.graph, list(hops))
        try:
            return [self.arc_of[tuple(h)] for h in hops]
        except KeyError as exc:
            raise NetworkError(f"no elementary link {exc.args[0]!r} in this network") from None

    def evaluate(self, hops: Sequence, metric: str = "key_rate") -> KeyRoute:
        """The route model's figures of one route (hops, or memory nodes in order).

        Parameters
        ----------
        hops : sequence of Hop or of str
            The route.
        metric : str
            ``"key_rate"`` or ``"diqkd_key_rate"`` (which key fraction).

        Returns
        -------
        KeyRoute

        Raises
        ------
        NetworkError
            An unknown metric or link.
        ConfigError
            A node with too few memories for its links on this route.
        """
        _check_metric(metric)
        arcs = self._arcs_of(hops)
        path = [self.arcs[arcs[0]][0]] + [self.arcs[e][1] for e in arcs]
        stations = [self.arcs[e][2] for e in arcs]
        shares = []
        for i, n in enumerate(path):
            sts = tuple(stations[max(i - 1, 0) : i + 1])
            sh = self.shares(n, sts)
            if sh is None:
                hw = self.hw[n]
                link_shares(n, hw.memories, hw.memory_split, sts)  # raises the ConfigError naming the node
            shares.append(sh)
        ks = [min(shares[i][-1], shares[i + 1][0]) for i in range(len(arcs))]  # type: ignore[index]
        s = self.s[self.arcs[arcs[0]][3]]
        log_cdf = np.zeros_like(self.grid.t)
        for i, e in enumerate(arcs):
            if i:
                s = (s * self.swap[path[i]]) * self.s[self.arcs[e][3]]
            log_cdf = log_cdf + self._link_vec(self.arcs[e][3], ks[i])
        return self._result(arcs, s, log_cdf, ks, metric, 0)

    def _result(self, arcs, s, log_cdf, ks, metric, labels) -> KeyRoute:
        if any(self.p[self.arcs[e][3]] <= 0.0 for e in arcs):
            mean, frac = math.inf, 0.0
        else:
            mean, frac = self.grid.mean(log_cdf), key_fraction(s, metric)
        return KeyRoute(
            hops=tuple(Hop(*self.arcs[e][:3]) for e in arcs), metric=metric, key_rate_hz=frac / mean, key_fraction=frac,
            rate_hz=1.0 / mean, fidelity=float((1.0 + s.sum()) / 4.0), correlations=(float(s[0]), float(s[1]), float(s[2])),
            attempts_per_round=tuple(int(k) for k in ks), labels=labels,
        )

    def _tables(self) -> None:
        """Per-model arrays for the search's bounds: arc endpoints, link correlations, widest-path tree."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import minimum_spanning_tree

        n = len(self.nodes)
        self.arc_u = np.array([self.index[x] for x, _y, _s, _l in self.arcs], dtype=np.int64)
        self.arc_v = np.array([self.index[y] for _x, y, _s, _l in self.arcs], dtype=np.int64)
        self.arc_link = np.array([li for *_x, li in self.arcs], dtype=np.int64)
        self.s_abs = np.abs(np.array(self.s)).reshape(-1, 3)
        self.swap_abs = np.abs(np.array([self.swap[x] for x in self.nodes])).reshape(-1, 3)
        self.arc_ok = np.array([self.p[li] > 0.0 for li in self.arc_link], dtype=bool)
        # widest path: the slowest link's largest possible rate on the best route between two nodes lies on a
        # minimum spanning tree of 1/rate (the minimax path property); parallel links keep their fastest.
        kcap = {x: (hw.memories or 1) for x, hw in self.hw.items()}
        best_inv: dict[tuple[int, int], float] = {}
        for li, (x, y, _st) in enumerate(self.links):
            if self.p[li] <= 0.0:
                continue
            i, j = sorted((self.index[x], self.index[y]))
            if i == j:
                continue
            inv = 1.0 / self.rate_hz(li, min(kcap[x], kcap[y]))
            best_inv[(i, j)] = min(inv, best_inv.get((i, j), math.inf))
        self.cap_log_cdf = np.array([self.grid.log_cdf(self.rate_hz(li, min(kcap[x], kcap[y]))) if self.p[li] > 0.0
                                     else np.full(len(self.grid.t), -np.inf) for li, (x, y, _st) in enumerate(self.links)])
        rows = [i for i, _j in best_inv]
        cols = [j for _i, j in best_inv]
        tree = minimum_spanning_tree(coo_matrix((list(best_inv.values()), (rows, cols)), shape=(n, n)).tocsr())
        self.tree = (tree + tree.T).tocsr()

    def _bounds(self, b: str) -> tuple[np.ndarray, np.ndarray]:
        """H[v]: best per-component |s| product from v (its swap included) to b; W[v]: widest rate to b.

        H is a backward Dijkstra on -ln(|s_link| |c_v|) per component (scipy), inflated by 1e-12
        relative so that rounding never makes it an underestimate; W follows the widest-path tree.
        """
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import breadth_first_order, dijkstra

        n, ib = len(self.nodes), self.index[b]
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
            g = np.minimum(np.log(-np.expm1(-np.outer(wide, self.grid.t))), self._completion_log_cdf(ib))
        return h, g

    def _completion_tables(self) -> None:
        """Undirected link graph with each link's largest-rate -ln CDF at coarse grid times (parallel links: min)."""
        from scipy.sparse import csr_matrix

        n, size = len(self.nodes), len(self.grid.t)
        # where CDFs are far from 0 (t >= 0.01 / the fastest rate): below it 1 - CDF is ~1 whatever the bound
        first = int(np.searchsorted(self.grid.t, 0.01 / self.grid.hi_hz))
        step = max(1, -(-(size - first) // _COARSE_POINTS))
        self.coarse = np.unique(np.r_[np.arange(first, size, step), size - 1])
        self.coarse_of = np.searchsorted(self.coarse, np.arange(size))  # the first coarse time at or after each time
        ends = [tuple(sorted((self.index[x], self.index[y]))) for x, y, _st in self.links]
        usable = [li for li in range(len(self.links)) if self.p[li] > 0.0 and ends[li][0] != ends[li][1]]
        usable.sort(key=lambda li: ends[li])
        keys = [ends[li] for li in usable]
        starts = [k for k in range(len(keys)) if k == 0 or keys[k] != keys[k - 1]]
        cost = -self.cap_log_cdf[np.array(usable, dtype=np.int64)][:, self.coarse] if usable else np.zeros((0, len(self.coarse)))
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

        if not hasattr(self, "pair_graph"):
            self._completion_tables()
        dist = np.empty((len(self.nodes), len(self.coarse)))
        graph = self.pair_graph.copy()
        for c in range(len(self.coarse)):
            graph.data = self.pair_cost[self.pair_perm, c]
            dist[:, c] = dijkstra(graph, directed=False, indices=ib)
        return -dist[:, self.coarse_of] * (1.0 - 1e-12)

    def best(self, a: str, b: str, metric: str = "key_rate") -> KeyRoute:
        """The route from ``a`` to ``b`` with the highest key rate under the route model (exact).

        Parameters
        ----------
        a, b : str
            End memory nodes.
        metric : str
            ``"key_rate"`` (BB84/BBM92, default) or ``"diqkd_key_rate"``.

        Returns
        -------
        KeyRoute
            Its ``labels`` counts the partial routes the search kept.

        Raises
        ------
        NetworkError
            An unknown metric or node, equal ends, or no route that delivers key.
        """
        _check_metric(metric)
        for x in (a, b):
            _check_node(self.graph, x)
        if a == b:
            raise NetworkError(f"a path needs two different nodes, got {a!r} twice")
        if not hasattr(self, "tree"):
            self._tables()
        return _Search(self, a, b, metric).run()


class _Search:
    """One best-first label-setting search (:meth:`KeyRouteModel.best`; module docstring)."""

    def __init__(self, model: KeyRouteModel, a: str, b: str, metric: str) -> None:
        self.m, self.a, self.b, self.metric = model, a, b, metric
        self.ib = model.index[b]
        self.comps = (0, 2) if metric == "key_rate" else (0, 1, 2)
        self.h, self.future = model._bounds(b)
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

    def _add_all(self, parent: int, arcs: list[int], shares: list[int], s_all: np.ndarray, log_cdf: np.ndarray,
                 visited: int) -> None:
        m = self.m
        inner = []
        for i, (e, sh) in enumerate(zip(arcs, shares)):
            if m.arc_v[e] == self.ib:
                self._complete(parent, e, sh, s_all[i], log_cdf)
            elif not (visited >> int(m.arc_v[e])) & 1:
                inner.append(i)
        if not inner:
            return
        idx = np.array(inner)
        ws = m.arc_v[np.array(arcs)[idx]]
        bound_s = np.minimum(1.0, np.abs(s_all[idx]) * self.h[ws])
        k_ub = _key_fractions(bound_s, self.metric)
        live = [j for j in range(len(idx)) if k_ub[j] > 0.0]
        if not live:
            return
        rows = [m._vec_id(int(m.arc_link[arcs[inner[j]]]), shares[inner[j]]) for j in live]
        lcdf = log_cdf[None, :] + m._vec_rows[rows] + self.future[ws[live]]
        e_lb = m.grid.t0 + (-np.expm1(lcdf)) @ m.grid.wt
        for j, e_j in zip(live, e_lb):
            ub = k_ub[j] / e_j
            if ub > self.best_value:
                i = inner[j]
                self._push(parent, arcs[i], shares[i], s_all[i], log_cdf, visited, ub)

    def _push(self, parent: int, arc: int, share: int, s: np.ndarray, log_cdf: np.ndarray, visited: int,
              ub: float) -> None:
        lid = len(self.arc)
        self.arc.append(arc)
        self.share.append(share)
        self.s.append(np.abs(s))
        self.log_cdf.append(log_cdf)
        self.parent.append(parent)
        self.visited.append(visited | (1 << int(self.m.arc_v[arc])))
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
        m = self.m
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
            s_all = s_v * m.s_abs[m.arc_link[np.array(arcs)]]
            self._add_all(lid, arcs, shares, s_all, self.log_cdf[lid] + m._link_vec(li, k), visited)

    def run(self) -> KeyRoute:
        m = self.m
        start = 1 << m.index[self.a]
        arcs, shares = [], []
        for e in m.out[self.a]:
            sh = m.shares(self.a, (m.arcs[e][2],))
            if sh is not None and m.p[m.arcs[e][3]] > 0.0:
                arcs.append(e)
                shares.append(sh[0])
        if arcs:
            self._add_all(-1, arcs, shares, m.s_abs[m.arc_link[np.array(arcs)]], self.zero, start)
        while self.heap:
            neg_ub, lid = heapq.heappop(self.heap)
            if -neg_ub <= self.best_value:
                break
            if self.alive[lid]:
                self._extend(lid)
        if self.best_route is None:
            raise NetworkError(f"no route from {self.a!r} to {self.b!r} delivers key ({self.metric}: every route's key "
                               "fraction is 0 under the route model, docs/conventions.md §13)")
        route = m.evaluate([Hop(*m.arcs[e][:3]) for e in self.best_route], self.metric)
        return KeyRoute(**{**route.__dict__, "labels": len(self.arc)})


def best_key_route(graph: nx.Graph, a: str, b: str, metric: str = "key_rate", link_results: dict | None = None,
                   model: KeyRouteModel | None = None) -> KeyRoute:
    """The route from ``a`` to ``b`` with the highest key rate under the route model (module docstring).

    Parameters
    ----------
    graph : networkx.Graph
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


def _cached_model(graph: nx.Graph, link_results: dict | None) -> KeyRouteModel:
    """The model of (graph, link_results), reused while both are the same objects (a traffic run's requests)."""
    if link_results is None:
        return KeyRouteModel(graph)
    if _LAST_MODEL and _LAST_MODEL[0][0] is graph and _LAST_MODEL[0][1] is link_results:
        return _LAST_MODEL[0][2]
    model = KeyRouteModel(graph, link_results)
    _LAST_MODEL[:] = [(graph, link_results, model)]
    return model


def exhaustive_key_route(model: KeyRouteModel, a: str, b: str, metric: str = "key_rate",
                         cutoff: int | None = None) -> KeyRoute | None:
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


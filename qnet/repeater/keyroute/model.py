"""The route model of key-rate routing: a route's key rate, rate and pair (:mod:`qnet.repeater.keyroute`).

Key fractions of Bell-diagonal pairs, the correlations a link delivers and a swap keeps, the mean
time until every link of a route has delivered (trapezoid rule in ln t), and
:class:`KeyRouteModel`: every elementary link of a network under the model, which evaluates a
route (:meth:`KeyRouteModel.evaluate`) and finds the best one (:meth:`KeyRouteModel.best`, the
search of :mod:`qnet.repeater.keyroute.search`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from qnet.errors import ConfigError, NetworkError
from qnet.link.multiplexing import success_per_round
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.quantum.figures import bb84_key_fraction_from_errors, correlation_matrix, diqkd_key_fraction
from qnet.repeater.choices import KEY_METRICS
from qnet.repeater.routing import Hop, _check_node

if TYPE_CHECKING:
    from qnet.repeater.keyroute.bounds import SearchTables

__all__ = [
    "GRID_STEP",
    "KeyRoute",
    "KeyRouteModel",
    "key_fraction",
    "link_correlations",
    "mean_max_exponential",
    "swap_factors",
]

#: Step of the trapezoid rule in ln t for E[max] (relative error < 1e-13, :mod:`qnet.repeater.keyroute`).
GRID_STEP = 0.2
_T_LOW = 1e-16  # the grid starts at this fraction of the fastest link's mean time
_T_HIGH = 60.0  # and ends at this many mean times of the slowest


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
    """A route and its figures under the route model (:mod:`qnet.repeater.keyroute`).

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
    graph : networkx.Graph or PreparedNetwork
        The network.
    link_results : dict, optional
        (a, b, station) -> LinkResult of every elementary link (:func:`~qnet.repeater.routing.all_link_results`);
        computed (each distinct link once, :meth:`~qnet.link.prepared.PreparedNetwork.link_results`) when not given.
    link_backend : str, optional
        Link backend (``"aer"`` or ``"batch"``) when ``link_results`` is computed here (default:
        the prepared network's, ``"aer"`` for a graph).

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.keyroute import KeyRouteModel
    >>> model = KeyRouteModel(qnet.load_network("examples/ion_repeater_chain.toml"))
    >>> r = model.evaluate(["alice", "r1", "r2"])
    >>> r.attempts_per_round, 0 < r.key_rate_hz < r.rate_hz
    ((1, 1), True)
    """

    def __init__(
        self, graph: nx.Graph | PreparedNetwork, link_results: dict | None = None, link_backend: str | None = None
    ) -> None:
        self.net = net = prepare_network(graph)
        self.graph = net.graph
        self.lg = net.link_graph
        results = net.link_results(link_backend) if link_results is None else link_results
        self.nodes = list(self.lg.nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.hw = {n: net.memory(n) for n in self.nodes}
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
        self._search_tables: SearchTables | None = None  # the search's bounds, built by the first search

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
            try:
                sh = self.net.memory_shares(node, stations)
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
                self.net.memory_shares(n, sts)  # raises the ConfigError naming the node
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
            hops=tuple(Hop(*self.arcs[e][:3]) for e in arcs),
            metric=metric,
            key_rate_hz=frac / mean,
            key_fraction=frac,
            rate_hz=1.0 / mean,
            fidelity=float((1.0 + s.sum()) / 4.0),
            correlations=(float(s[0]), float(s[1]), float(s[2])),
            attempts_per_round=tuple(int(k) for k in ks),
            labels=labels,
        )

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
        from qnet.repeater.keyroute.bounds import SearchTables
        from qnet.repeater.keyroute.search import _Search

        if self._search_tables is None:
            self._search_tables = SearchTables(self)
        return _Search(self, self._search_tables, a, b, metric).run()

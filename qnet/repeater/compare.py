"""Direct link vs repeater chain vs the PLOB bound, at the same total distance.

For a path A - R1 - ... - B the *direct link* joins A and B through one station at the middle
of the same total fibre length: A's and B's hardware, the first hop's station and fibre
attenuation (so only the repeaters differ). The PLOB bound is the repeaterless capacity of
that fibre, -log2(1 - eta_f(L_total)) per channel use, reported per second as
k (-log2(1 - eta))/T_att with T_att and k the direct link's attempt time and attempts per
round (``docs/conventions.md``; a k-fold multiplexed link uses the fibre k times per round).

Like with like: both sides use the nodes' ``memories`` by one rule (:mod:`qnet.link.multiplexing`).
The direct link makes k = min(memories of A, memories of B) attempts per round; in the chain
each link makes min(its two nodes' memories for it) attempts, end nodes included (a repeater
splits its memories between its two links). ``direct_attempts_per_round`` reports k. A distance scan scales every
fibre of the path by the same factor and finds where the chain's rate (and key rates) first
exceed the direct link's and the PLOB bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import networkx as nx
import numpy as np

from qnet._deprecation import renamed_keywords
from qnet.quantum.channels import fibre_transmission
from qnet.errors import QnetError
from qnet.quantum.figures import plob_rate_hz
from qnet.network.hardware import Fibre
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.link.spec import link_spec
from qnet.repeater.path import ChainResult, build_chains, simulate_path
from qnet.link.results import LinkResult, json_number
from qnet.link.distinct import run_specs
from qnet.repeater.routing import Hop

__all__ = ["ComparisonRow", "Comparison", "compare_path", "scaled_graph"]

_DIRECT = "__direct_station__"


def scaled_graph(graph: nx.Graph | PreparedNetwork, hops: Sequence[Hop], total_km: float) -> nx.Graph:
    """A copy of ``graph`` whose path fibres are scaled to ``total_km`` in all, plus a direct link.

    The direct link is A - station - B (station ``__direct_station__``, half the total on each
    side, the first hop's station hardware and fibre attenuation).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    hops : sequence of Hop
        The path.
    total_km : float
        Total fibre length of the scaled path (km).

    Returns
    -------
    networkx.Graph

    Raises
    ------
    QnetError
        The path has no fibre length to scale.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.compare import scaled_graph
    >>> from qnet.repeater.routing import explicit_path
    >>> g = scaled_graph(graph, explicit_path(graph, ["alice", "r1", "r2"]), 100.0)
    >>> g.edges["alice", "s1"]["fibre"].length_km, g.edges["alice", "__direct_station__"]["fibre"].length_km
    (25.0, 50.0)
    """
    net = prepare_network(graph)
    g = net.graph.copy()  # new attribute dicts; the hardware objects are frozen and shared
    fibres = [(a, s) for a, _b, s in hops] + [(s, b) for _a, b, s in hops]
    current = sum(g.edges[u, v]["fibre"].length_km for u, v in fibres)
    if current <= 0:
        raise QnetError("the path has zero fibre length; a distance scan needs fibres to scale")
    k = total_km / current
    for u, v in fibres:
        f: Fibre = g.edges[u, v]["fibre"]
        g.edges[u, v]["fibre"] = replace(f, length_km=f.length_km * k)
    a, b, s0 = hops[0][0], hops[-1][1], hops[0][2]
    station = replace(net.hardware(s0), name=_DIRECT)
    attenuation = g.edges[a, s0]["fibre"].attenuation_db_per_km
    g.add_node(_DIRECT, hardware=station)
    for end in (a, b):
        g.add_edge(
            end,
            _DIRECT,
            fibre=Fibre(
                name=f"{end}-direct", a=end, b=_DIRECT, length_km=total_km / 2, attenuation_db_per_km=attenuation
            ),
        )
    return g


@dataclass(frozen=True)
class ComparisonRow:
    """One total distance: the direct link, the chain and the PLOB bound (per second).

    Parameters
    ----------
    total_km : float
        Total fibre length (km).
    direct : LinkResult
        The direct link over that length.
    chain : ChainResult
        The chain over the scaled path.
    plob_bits_per_s : float
        The PLOB bound of the direct link's fibre (bit/s).
    fibre_transmission : float
        eta of the whole fibre.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.compare import compare_path
    >>> row = compare_path(graph, ["alice", "r1", "r2"], [20.0]).rows[0]
    >>> row.chain.method, round(row.fibre_transmission, 6), sorted(row.to_dict())[:3]
    ('exact', 0.398107, ['chain_bb84_key_rate_hz', 'chain_diqkd_key_rate_hz', 'chain_entangled'])
    """

    total_km: float
    direct: LinkResult
    chain: ChainResult
    plob_bits_per_s: float
    fibre_transmission: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the row's numbers, ``direct_*`` and ``chain_*``."""
        d, c = self.direct, self.chain
        return {
            "total_km": self.total_km,
            "fibre_transmission": self.fibre_transmission,
            "plob_bits_per_s": json_number(self.plob_bits_per_s),
            "direct_fidelity": d.fidelity,
            "direct_rate_hz": d.rate_hz,
            "direct_attempts_per_round": d.attempts_per_round,
            "direct_diqkd_key_rate_hz": d.diqkd_key_rate_hz,
            "direct_bb84_key_rate_hz": d.bb84_key_rate_hz,
            "chain_fidelity": c.fidelity,
            "chain_rate_hz": c.rate_hz,
            "chain_diqkd_key_rate_hz": c.diqkd_key_rate_hz,
            "chain_bb84_key_rate_hz": c.bb84_key_rate_hz,
            "chain_entangled": c.entangled,
            "chain_method": c.method,
        }


@dataclass(frozen=True)
class Comparison:
    """A distance scan and the crossover distances (None where the chain never wins on the grid).

    Parameters
    ----------
    path : tuple of str
        Memory nodes of the chain.
    rows : tuple of ComparisonRow
        One per total distance.
    crossovers_km : dict of str to float or None
        First distance (km) where the chain's rate (or key rate) exceeds the direct link's or
        the PLOB bound, interpolated log-linearly.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.compare import compare_path
    >>> c = compare_path(graph, ["alice", "r1", "r2"], [20.0])
    >>> c.path, sorted(c.to_dict())
    (('alice', 'r1', 'r2'), ['crossovers_km', 'path', 'rows'])
    """

    path: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    crossovers_km: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``path``, ``rows`` and ``crossovers_km``."""
        return {
            "path": list(self.path),
            "rows": [r.to_dict() for r in self.rows],
            "crossovers_km": {k: json_number(v) if v is not None else None for k, v in self.crossovers_km.items()},
        }


def _crossover(x: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> float | None:
    """First distance where ``ours`` > ``theirs`` (log-linear interpolation between grid points)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.log(np.maximum(ours, 1e-300)) - np.log(np.maximum(theirs, 1e-300))
    wins = np.flatnonzero(gap > 0)
    if wins.size == 0:
        return None
    i = int(wins[0])
    if i == 0:
        return float(x[0])
    g0, g1 = gap[i - 1], gap[i]
    return float(x[i - 1] + (x[i] - x[i - 1]) * (-g0) / (g1 - g0))


@renamed_keywords(engine="link_backend")
def compare_path(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop],
    distances_km: Sequence[float],
    *,
    samples: int = 500,
    seed: int | None = None,
    exact: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    purify: str | None = None,
    twirl: bool = True,
    swap_policy: str = "asap",
    link_backend: str | None = None,
) -> Comparison:
    """Scan total distances; the chain runs exactly where possible (``exact=None``: try).

    ``hops``: the chain's hops or its memory-node names (:func:`qnet.repeater.path.path_hops`).
    ``swap_policy``: the chain's, "asap" (default) or "nested".
    ``purify``, ``twirl``: purify every elementary link of the chain once
    (:func:`qnet.repeater.path.simulate_path`); the direct link stays raw. With ``exact=True`` a
    distance whose exact grid would exceed the bound of :func:`qnet.repeater.chain.exact_chain` is an
    error naming that distance, raised before any larger work is allocated.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (:func:`qnet.prepare_network`; the scan's scaled copies are networks of their own).
    hops : sequence
        The chain's hops or its memory-node names.
    distances_km : sequence of float
        Total distances to scan (km, each finite and > 0).
    samples : int
        Monte Carlo deliveries where the chain is not exact.
    seed : int, optional
        Monte Carlo seed (distance i uses ``seed + i``).
    exact : bool or None
        True: exact only; False: Monte Carlo only; None (default): exact where possible.
    progress : callable, optional
        ``progress(done, total)`` after every distance.
    purify : str or None
        Purify every link of the chain once (``"dejmps"`` or ``"bbpssw"``).
    twirl : bool
        BBPSSW re-twirls its output (default True).
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    link_backend : str, optional
        Link backend, one of :data:`qnet.link.choices.LINK_BACKENDS`: ``"aer"`` or ``"batch"``
        (default: the prepared network's, ``"aer"`` for a graph).

    Returns
    -------
    Comparison

    Raises
    ------
    QnetError
        No distance, an invalid distance, or (``exact=True``) a distance without exact method.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.compare import compare_path
    >>> c = compare_path(graph, ["alice", "r1", "r2"], [20.0, 40.0])
    >>> [round(r.chain.rate_hz / r.direct.rate_hz, 2) for r in c.rows]  # the chain's rate over the direct link's
    [0.94, 1.28]
    >>> round(c.crossovers_km["chain_rate_above_direct_rate"], 1)
    24.2
    """
    from qnet.repeater.path import path_hops

    net = prepare_network(graph)
    link_backend = net.link_backend if link_backend is None else link_backend
    hops = path_hops(net, hops)
    if not len(distances_km):
        raise QnetError("give at least one total distance")
    for d in distances_km:
        if not (d > 0 and math.isfinite(d)):
            raise QnetError(f"total distance {d!r} km is invalid: a finite number > 0")
    a, b = hops[0][0], hops[-1][1]
    graphs = [scaled_graph(net, hops, float(d)) for d in distances_km]
    specs = [link_spec(g, a, b, _DIRECT) for g in graphs]
    directs = run_specs(specs, link_backend=link_backend)
    chains = build_chains(
        [(g, hops) for g in graphs], swap_policy, purify=purify, twirl=twirl, link_backend=link_backend
    )
    rows = []
    for i, (d, g, spec, direct) in enumerate(zip(distances_km, graphs, specs, directs)):
        chain = None
        common = dict(purify=purify, twirl=twirl, swap_policy=swap_policy, link_backend=link_backend, built=chains[i])
        if exact is not False:
            try:
                chain = simulate_path(g, hops, exact=True, **common)
            except QnetError as exc:
                if exact:
                    raise QnetError(f"total distance {float(d):g} km (--distances): {exc}") from None
        if chain is None:
            chain = simulate_path(g, hops, samples=samples, seed=None if seed is None else seed + i, **common)
        eta = fibre_transmission(float(d), net.graph.edges[a, hops[0][2]]["fibre"].attenuation_db_per_km)
        rows.append(
            ComparisonRow(
                float(d), direct, chain, plob_rate_hz(eta, spec.attempt_time_s, direct.attempts_per_round), eta
            )
        )
        if progress is not None:
            progress(i + 1, len(distances_km))
    x = np.array([r.total_km for r in rows])
    col = lambda f: np.array([f(r) for r in rows])  # noqa: E731
    chain_rate = col(lambda r: r.chain.rate_hz)
    crossovers = {
        "chain_rate_above_direct_rate": _crossover(x, chain_rate, col(lambda r: r.direct.rate_hz)),
        "chain_rate_above_plob": _crossover(x, chain_rate, col(lambda r: r.plob_bits_per_s)),
        "chain_bb84_key_rate_above_plob": _crossover(
            x, col(lambda r: r.chain.bb84_key_rate_hz), col(lambda r: r.plob_bits_per_s)
        ),
        "chain_bb84_key_rate_above_direct": _crossover(
            x, col(lambda r: r.chain.bb84_key_rate_hz), col(lambda r: r.direct.bb84_key_rate_hz)
        ),
    }
    return Comparison(tuple([a] + [h[1] for h in hops]), tuple(rows), crossovers)

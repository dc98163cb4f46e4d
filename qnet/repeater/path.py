"""Repeater chains from a network: path -> elementary links on Aer -> chain time process -> result.

A path is a sequence of memory nodes (``routing``); each hop is an elementary link whose
circuit runs on Aer or the batch engine (``run_specs``: each distinct link once, one call
for the whole path). The inner nodes are
repeaters: their ``gate_fidelity`` and ``readout_fidelity`` enter the Bell-state-measurement
circuit (``swapping``), ``swap_time_s`` and ``cutoff_s`` the time process (``chain``), and
``memories`` (default: one per link it joins) follow :mod:`qnet.link.multiplexing`: a repeater splits
them evenly between its two links (it needs at least two), an end node gives all of its
memories to its one link, and each link makes k = min(its two nodes' memories for it)
attempts per round. End nodes hold their pair until delivery and apply no cutoff.

With ``purify`` ("dejmps" or "bbpssw") every elementary link is purified once before it joins
the chain, exactly as :mod:`qnet.repeater.link_purification` models one link: each node devotes two
memories to each link it purifies on (a repeater needs at least 4, an end node at least 2;
memories beyond that are not used to multiplex), the purification round uses the link's two
end nodes' gate and readout fidelities, the bits travel over the link's own fibre
(t_c = (L_A + L_B)/c) and the smaller ``cutoff_s`` of the link's two nodes bounds how long a
raw copy may wait (:class:`qnet.repeater.chain.LinkPurification`). Purified chains are Monte Carlo only.
BBPSSW re-twirls its output to Werner form unless ``twirl=False``.

The end-to-end target is |Psi+> (every herald and swap is Pauli-frame corrected);
fidelity = mean delivered <Psi+|rho|Psi+>; rate_hz = 1 / mean completion time. CHSH, QBER and
the key fractions are those of the mean delivered state (the figures an experiment that
averages over deliveries measures); ``entangled`` says whether that state is entangled at all
(Peres-Horodecki: a negative partial transpose, exact for two qubits).

A path is given by its memory nodes in order (``["alice", "r1", "bob"]``, stations are found
as ``--via`` does) or by its hops ``[(a, b, station), ...]`` (:func:`qnet.repeater.routing.best_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import networkx as nx
import numpy as np

from qnet._deprecation import renamed_keywords
from qnet.errors import ConfigError, QnetError
from qnet.link.spec import LinkSpec
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.link.results import DELIVERED_STATE_FIELDS, DeliveredStateFigures, LinkResult, json_number
from qnet.link.distinct import run_specs
from qnet.repeater.engine.model import check_link_memories
from qnet.repeater.routing import Hop

__all__ = ["ChainResult", "build_chain", "simulate_path", "format_chain", "path_hops", "CHAIN_FIELDS"]

#: Numeric end-to-end fields of ``qnet chain --json`` (besides method, samples, links, path).
CHAIN_FIELDS = (
    "fidelity",
    "fidelity_std",
    "rate_hz",
    "rate_hz_ci",
    "mean_completion_time_s",
    *DELIVERED_STATE_FIELDS,
    "total_length_km",
)

#: Tolerance of the partial-transpose test: eigenvalues above -this count as >= 0 (rounding).
PPT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class ChainResult(DeliveredStateFigures):
    """End-to-end figures of a repeater chain and its elementary links (path order).

    Besides the fields below, the figures of the mean delivered state (``chsh``, ``qber``, key
    fractions and rates) come from :class:`qnet.link.results.DeliveredStateFigures`.

    Parameters
    ----------
    path : tuple of str
        Memory nodes in path order.
    stations : tuple of str
        The station of each hop.
    links : tuple of LinkResult
        Each elementary link (Aer).
    method : str
        ``"exact"`` or ``"monte_carlo"``.
    samples : int or None
        Monte Carlo deliveries (None in exact mode).
    fidelity : float
        Mean delivered <Psi+|rho|Psi+>.
    fidelity_std : float or None
        Standard deviation over deliveries (Monte Carlo only).
    rate_hz : float
        End-to-end pairs per second (Hz).
    rate_hz_ci : (float, float) or None
        95 % interval of the rate (Hz; Monte Carlo only).
    mean_completion_time_s : float
        Mean time between deliveries (s).
    density_matrix : ndarray, shape (4, 4)
        Mean delivered state.
    total_length_km : float
        Fibre along the path (km).
    fidelity_samples, completion_time_samples_s : ndarray or None
        Per-delivery fidelity and time (s) (Monte Carlo).
    completion_time_pmf : ndarray or None
        P(T = k round_time_s) (exact mode).
    round_time_s : float or None
        Grid step of the PMF (s; exact mode).
    purify : str or None
        Protocol of the one purification round per link, or None.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.path import simulate_path
    >>> r = simulate_path(graph, ["alice", "r1", "r2"], exact=True)
    >>> r.method, r.total_length_km, r.entangled, round(r.fidelity, 4)
    ('exact', 50.0, True, 0.9291)
    >>> sorted(r.completion_time_quantiles_s())
    ['p5', 'p50', 'p95']
    """

    path: tuple[str, ...]
    stations: tuple[str, ...]
    links: tuple[LinkResult, ...]
    method: str  # "exact" or "monte_carlo"
    samples: int | None
    fidelity: float
    fidelity_std: float | None
    rate_hz: float
    rate_hz_ci: tuple[float, float] | None
    mean_completion_time_s: float
    density_matrix: np.ndarray = field(repr=False)
    total_length_km: float = 0.0
    fidelity_samples: np.ndarray | None = field(default=None, repr=False)
    completion_time_samples_s: np.ndarray | None = field(default=None, repr=False)
    completion_time_pmf: np.ndarray | None = field(default=None, repr=False)
    round_time_s: float | None = None
    purify: str | None = None  # protocol of the one purification round per link, or None

    @property
    def entangled(self) -> bool:
        """True when the mean delivered state has a negative partial transpose (is entangled).

        For two qubits this is exact (Peres-Horodecki). A fidelity above 1/2 towards |Psi+>
        implies it; a pair with fidelity <= 1/2 that is Bell-diagonal (what swaps of
        depolarised links give) is separable.
        """
        pt = np.asarray(self.density_matrix).reshape(2, 2, 2, 2).transpose(0, 3, 2, 1).reshape(4, 4)
        return bool(np.linalg.eigvalsh((pt + pt.conj().T) / 2)[0] < -PPT_TOLERANCE)

    def completion_time_quantiles_s(self, qs: Sequence[float] = (0.05, 0.5, 0.95)) -> dict[str, float]:
        """Quantiles of the time between deliveries (s): from the samples or the exact PMF."""
        if self.completion_time_samples_s is not None:
            values = np.quantile(self.completion_time_samples_s, qs)
        else:
            if self.completion_time_pmf is None or self.round_time_s is None:
                raise ValueError("this result holds neither completion-time samples nor their exact PMF")
            cdf = np.cumsum(self.completion_time_pmf)
            cdf = cdf / cdf[-1]
            values = [np.searchsorted(cdf, q - 1e-12) * self.round_time_s for q in qs]
        return {f"p{round(100 * q):g}": float(v) for q, v in zip(qs, values)}

    def fidelity_quantiles(self, qs: Sequence[float] = (0.05, 0.5, 0.95)) -> dict[str, float] | None:
        """Quantiles of the delivered fidelity (Monte Carlo only; None in exact mode)."""
        if self.fidelity_samples is None:
            return None
        return {f"p{round(100 * q):g}": float(v) for q, v in zip(qs, np.quantile(self.fidelity_samples, qs))}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: end-to-end numbers, ``entangled`` (bool), ``method``, ``samples``, ``path`` and every link's object."""
        out: dict[str, Any] = {}
        for name in CHAIN_FIELDS:
            value = getattr(self, name)
            out[name] = (
                [json_number(v) for v in value]
                if isinstance(value, tuple)
                else (None if value is None else json_number(value))
            )
        out["entangled"] = self.entangled
        out["completion_time_quantiles_s"] = self.completion_time_quantiles_s()
        out["fidelity_quantiles"] = self.fidelity_quantiles()
        out["method"] = self.method
        out["samples"] = self.samples
        out["purify"] = self.purify
        out["path"] = list(self.path)
        out["stations"] = list(self.stations)
        out["links"] = [link.to_dict() for link in self.links]
        return out


def _purify_protocol(purify: str | None) -> str | None:
    from qnet.repeater.purification import PROTOCOLS

    if purify is None:
        return None
    proto = str(purify).lower()
    if proto not in PROTOCOLS:
        raise ConfigError("chain", "purify", purify, f"one of {', '.join(PROTOCOLS)} (or none)")
    return proto


def _check_purify_memories(net: PreparedNetwork, hops: Sequence[Hop]) -> None:
    """Two memories per node per purified link: end nodes >= 2, repeaters >= 4."""
    path = [hops[0][0]] + [b for _a, b, _s in hops]
    for k, name in enumerate(path):
        node = net.memory(name)
        need = 2 if k in (0, len(path) - 1) else 4
        if node.memories is None or node.memories < need:
            role = "end node" if need == 2 else "repeater"
            raise ConfigError(
                f"nodes.{name}",
                "memories",
                node.memories,
                f"{role} {name!r} purifies {'its link' if need == 2 else 'both of its links'} on this path and needs "
                f"two memories per link: set memories = {need} (or more)",
            )


def path_hops(graph: nx.Graph | PreparedNetwork, path: Sequence[str] | Sequence[Hop]) -> list[Hop]:
    """The hops of ``path``: memory-node names in order (stations found) or hops (a, b, station).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    path : sequence of str or sequence of (str, str, str)
        Memory nodes in order, or hops.

    Returns
    -------
    list of Hop

    Raises
    ------
    QnetError
        A single name, an empty path, or a mix of names and hops.
    NetworkError
        Names that do not form a path (:func:`qnet.repeater.routing.explicit_path`).

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.path import path_hops
    >>> path_hops(graph, [("alice", "r1", "s1")])
    [Hop(node_a='alice', node_b='r1', station='s1')]
    """
    if isinstance(path, str):
        raise QnetError(f"path {path!r} is a single name: give the memory nodes in order, e.g. ['alice', 'r1', 'bob']")
    items: list[Any] = list(path)
    if not items:
        raise QnetError("a chain needs at least one elementary link")
    if all(isinstance(n, str) for n in items):
        from qnet.repeater.routing import explicit_path

        return explicit_path(graph, items)
    if all(not isinstance(h, str) and len(h) == 3 for h in items):
        return [Hop(*h) for h in items]
    raise QnetError(
        "path: give memory-node names in order (['alice', 'r1', 'bob']) or hops [(a, b, station), ...], not a mix"
    )


def _node_memories(net: PreparedNetwork, hops: Sequence[Hop], protocol: str | None) -> list[int | tuple[int, int]]:
    """Memories each node of the path devotes to its links (path order; a pair (before, after) where they differ).

    The network's one rule (:meth:`~qnet.link.prepared.PreparedNetwork.route_memories`: a
    node's memories over its links on this route). Purified links use exactly the two copies
    per node and link (no further multiplexing).
    """
    path = [hops[0][0]] + [b for _a, b, _s in hops]
    if protocol is not None:
        _check_purify_memories(net, hops)
        return [2] * len(path)
    out: list[int | tuple[int, int]] = []
    for k, (n, sides) in enumerate(zip(path, net.route_memories(hops))):
        stations = [h.station for h in hops[max(k - 1, 0) : k + 1]]
        check_link_memories(n, net.memory(n).memories, dict(zip(stations, sides)))
        out.append(sides[0] if len(set(sides)) == 1 else (sides[0], sides[1]))
    return out


def _for_link(memories: int | tuple[int, int], side: int) -> int:
    """A node's memories for its link before it (``side`` 0) or after it (1) on the route."""
    return memories[side] if isinstance(memories, tuple) else memories


@renamed_keywords(engine="link_backend")
def build_chain(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop] | Sequence[str],
    swap_policy: str = "asap",
    shots: int | None = None,
    purify: str | None = None,
    twirl: bool = True,
    link_backend: str | None = None,
):
    """(RepeaterChain, link specs, link results) for a path (links run on Aer, or ``link_backend``).

    Each link's spec and result carry the chain's attempts per round. Each distinct link is
    simulated once, all of them in one run (:func:`qnet.link.distinct.run_specs`); a prepared
    network keeps them (:meth:`qnet.link.prepared.PreparedNetwork.results`).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network.
    hops : sequence
        The path's hops or its memory-node names (:func:`path_hops`).
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    shots : int, optional
        Aer shots per link (default: the exact density matrix).
    purify : str or None
        None (raw links) or the protocol of one purification round per link
        (:class:`qnet.repeater.chain.LinkPurification`, module docstring).
    twirl : bool
        BBPSSW re-twirls its output (default True).
    link_backend : str, optional
        Link backend, one of :data:`qnet.link.choices.LINK_BACKENDS`: ``"aer"`` or ``"batch"``
        (default: the prepared network's, ``"aer"`` for a graph).

    Returns
    -------
    (RepeaterChain, list of LinkSpec, list of LinkResult)

    Raises
    ------
    ConfigError
        An unknown protocol, or too few memories to purify.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.path import build_chain
    >>> chain, specs, results = build_chain(graph, ["alice", "r1", "r2"])
    >>> chain.n_links, round(chain.links[0].success_probability, 6), len(results)
    (2, 0.003598, 2)
    """
    return build_chains([(graph, hops)], swap_policy, shots, purify, twirl, link_backend)[0]


@renamed_keywords(engine="link_backend")
def build_chains(
    paths,
    swap_policy: str = "asap",
    shots: int | None = None,
    purify: str | None = None,
    twirl: bool = True,
    link_backend: str | None = None,
) -> list:
    """:func:`build_chain` for many (graph, path) cases, every distinct link of all of them in one run.

    When every case is on one prepared network its results are kept there
    (:meth:`qnet.link.prepared.PreparedNetwork.results`).

    Parameters
    ----------
    paths : sequence of (networkx.Graph or PreparedNetwork, path)
        The cases (the same route on scaled copies of a network, for instance).
    swap_policy, shots, purify, twirl, link_backend
        As :func:`build_chain`.

    Returns
    -------
    list of (RepeaterChain, list of LinkSpec, list of LinkResult)

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.path import build_chains
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> [chain.n_links for chain, _s, _r in build_chains([(graph, ["alice", "r1"]), (graph, ["alice", "r1", "r2"])])]
    [1, 2]
    """
    protocol = _purify_protocol(purify)
    cases = []
    for graph, path in paths:
        net = prepare_network(graph)
        hops = path_hops(net, path)
        mems = _node_memories(net, hops, protocol)
        specs: list[LinkSpec] = [
            replace(net.spec(a, b, s), attempts_per_round=min(_for_link(mems[i], 1), _for_link(mems[i + 1], 0)))
            for i, (a, b, s) in enumerate(hops)
        ]
        cases.append((net, hops, mems, specs))
    every = [s for *_x, specs in cases for s in specs]
    nets = {id(net): net for net, *_x in cases}
    if len(nets) == 1:  # one network: its kept results
        results = cases[0][0].results(every, link_backend, shots)
    else:
        backend = cases[0][0].link_backend if link_backend is None else link_backend
        results = run_specs(every, shots=shots, link_backend=backend)
    out, k = [], 0
    for net, hops, mems, specs in cases:
        res = results[k : k + len(specs)]
        k += len(specs)
        out.append((assemble_chain(net, hops, specs, res, mems, swap_policy, protocol, twirl), specs, res))
    return out


def assemble_chain(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop],
    specs: Sequence[LinkSpec],
    results: Sequence,
    mems: Sequence[int | tuple[int, int]],
    swap_policy: str = "asap",
    protocol: str | None = None,
    twirl: bool = True,
):
    """The RepeaterChain of a route from its links' specs and results (oriented along the route).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (node hardware: gates, readout, swap time, cutoff).
    hops : sequence of Hop
        The route.
    specs, results : sequences
        Each hop's :class:`~qnet.link.spec.LinkSpec` and :class:`~qnet.link.results.LinkResult`.
    mems : sequence of int or (int, int)
        Memories each node of the route devotes to each of its links (route order; a pair
        (before, after) where they differ).
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    protocol : str or None
        Link purification protocol (None: raw links).
    twirl : bool
        BBPSSW re-twirls its output (default True).

    Returns
    -------
    RepeaterChain

    Examples
    --------
    >>> import qnet
    >>> from qnet.link.distinct import run_specs
    >>> from qnet.link.spec import link_spec
    >>> from qnet.repeater.path import assemble_chain, path_hops
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> hops = path_hops(graph, ["alice", "r1", "r2"])
    >>> specs = [link_spec(graph, *h) for h in hops]
    >>> assemble_chain(graph, hops, specs, run_specs(specs), [1, 1, 1]).n_links
    2
    """
    from qnet.repeater.chain import (
        ChainLink,
        LinkPurification,
        MemoryDecay,
        RepeaterChain,
        RepeaterNode,
    )

    net = prepare_network(graph)
    speed = net.fibre_speed_km_per_s
    links = []
    for (a, b, _s), spec, res in zip(hops, specs, results):
        pur = None
        if protocol is not None:
            hw_a, hw_b = net.memory(a), net.memory(b)
            pur = LinkPurification(
                protocol=protocol,
                gate_fidelity=(hw_a.gate_fidelity, hw_b.gate_fidelity),
                readout_fidelity=(hw_a.readout_fidelity, hw_b.readout_fidelity),
                communication_time_s=(spec.length_a_km + spec.length_b_km) / speed,
                cutoff_s=min(hw_a.cutoff_s, hw_b.cutoff_s),
                twirl=twirl,
            )
        links.append(
            ChainLink(
                rho=res.density_matrix,
                success_probability=res.success_probability,
                attempt_time_s=res.attempt_time_s,
                memory_a=MemoryDecay(spec.t2_a_s, spec.t1_a_s, spec.decay_a),
                memory_b=MemoryDecay(spec.t2_b_s, spec.t1_b_s, spec.decay_b),
                storage_time_s=(spec.storage_time_a_s, spec.storage_time_b_s),
                purification=pur,
            )
        )
    nodes = []
    for k, (a, _b, _s) in enumerate(hops[1:], start=1):
        hw = net.memory(a)
        nodes.append(
            RepeaterNode(
                gate_fidelity=hw.gate_fidelity,
                readout_fidelity=hw.readout_fidelity,
                swap_time_s=hw.swap_time_s,
                cutoff_s=hw.cutoff_s,
                memories=mems[k],
            )
        )
    chain = RepeaterChain(tuple(links), tuple(nodes), swap_policy=swap_policy, end_memories=(mems[0], mems[-1]))
    return chain


@renamed_keywords(engine="link_backend")
def simulate_path(
    graph: nx.Graph | PreparedNetwork,
    hops: Sequence[Hop] | Sequence[str],
    *,
    exact: bool = False,
    samples: int = 1000,
    seed: int | None = None,
    swap_policy: str = "asap",
    progress: Callable[[int, int], None] | None = None,
    purify: str | None = None,
    twirl: bool = True,
    link_backend: str | None = None,
    built: tuple | None = None,
) -> ChainResult:
    """End-to-end figures of the chain along a path (exact where an exact method exists).

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (:func:`qnet.load_network`), or the network prepared once
        (:func:`qnet.prepare_network`: links other calls simulated are not simulated again).
    hops : sequence
        The path: memory-node names in order (``["alice", "r1", "bob"]``; stations are found)
        or hops ``[(a, b, station), ...]`` (:func:`path_hops`).
    exact : bool
        Exact mode (a :class:`QnetError` says why where no exact method exists).
    samples : int
        Monte Carlo deliveries.
    seed : int, optional
        Monte Carlo seed.
    swap_policy : str
        ``"asap"`` (default) or ``"nested"``.
    progress : callable, optional
        ``progress(done, total)`` after every delivery.
    purify : str or None
        ``"dejmps"`` or ``"bbpssw"`` purifies every elementary link once before swapping
        (module docstring; Monte Carlo only); None (default): raw links.
    twirl : bool
        BBPSSW re-twirls its output to Werner form (default True; DEJMPS ignores it).
    link_backend : str, optional
        Link backend, one of :data:`qnet.link.choices.LINK_BACKENDS`: ``"aer"`` or ``"batch"``
        (default: the prepared network's, ``"aer"`` for a graph).
    built : (RepeaterChain, specs, results), optional
        The chain of this path already built (:func:`build_chains`): its links are not run again.

    Returns
    -------
    ChainResult

    Raises
    ------
    QnetError
        ``exact=True`` where no exact method exists (the message says why), or a bad path.
    ConfigError
        An unknown protocol or policy, or too few memories.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.path import simulate_path
    >>> r = simulate_path(graph, ["alice", "r1", "r2"], samples=20, seed=1)
    >>> r.method, r.samples, round(r.fidelity, 4), round(r.rate_hz, 3)
    ('monte_carlo', 20, 0.9219, 3.379)
    """
    from qnet.repeater.chain import exact_chain, simulate_chain

    net = prepare_network(graph)
    hops = path_hops(net, hops)
    if built is None:
        built = build_chain(net, hops, swap_policy, purify=purify, twirl=twirl, link_backend=link_backend)
    chain, specs, results = built
    protocol = _purify_protocol(purify)
    path = tuple([hops[0][0]] + [b for _a, b, _s in hops])
    common = dict(
        path=path,
        stations=tuple(s for _a, _b, s in hops),
        links=tuple(results),
        total_length_km=sum(s.length_a_km + s.length_b_km for s in specs),
        purify=protocol,
    )
    if exact:
        try:
            r = exact_chain(chain)
        except (ValueError, NotImplementedError) as exc:
            msg = str(exc)
            if not msg.startswith("exact mode"):
                msg = f"exact mode is not available for this chain: {msg}"
            raise QnetError(
                msg.replace("use simulate_chain (Monte Carlo)", "drop --exact for the Monte Carlo")
            ) from None
        return ChainResult(
            method="exact",
            samples=None,
            fidelity=r.fidelity,
            fidelity_std=None,
            rate_hz=r.rate_hz,
            rate_hz_ci=None,
            mean_completion_time_s=r.mean_completion_time_s,
            density_matrix=r.mean_state,
            completion_time_pmf=r.completion_time_pmf,
            round_time_s=r.round_time_s,
            **common,
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise QnetError(f"samples = {samples!r} is invalid: an integer >= 2")
    r = simulate_chain(chain, samples, seed=seed, progress=progress)
    return ChainResult(
        method="monte_carlo",
        samples=r.samples,
        fidelity=r.fidelity,
        fidelity_std=r.fidelity_std,
        rate_hz=r.rate_hz,
        rate_hz_ci=tuple(r.rate_hz_ci),
        mean_completion_time_s=r.mean_completion_time_s,
        density_matrix=r.mean_state,
        fidelity_samples=r.fidelity_samples,
        completion_time_samples_s=r.completion_time_samples_s,
        **common,
    )


def format_chain(result: ChainResult) -> str:
    """A readable report: the route, each link, and the end-to-end figures.

    Parameters
    ----------
    result : ChainResult

    Returns
    -------
    str

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> from qnet.repeater.path import format_chain, simulate_path
    >>> print(format_chain(simulate_path(graph, ["alice", "r1", "r2"], exact=True)))
    chain alice - r1 - r2  (2 links, 50 km, target |Psi+>, exact)
    ...
    fidelity ... mean delivered <Psi+|rho|Psi+>
    ...
    """
    lines = [
        f"chain {' - '.join(result.path)}  ({len(result.links)} links, {result.total_length_km:g} km, target |Psi+>, {result.method}"
        + (f", each link purified once ({result.purify.upper()})" if result.purify else "")
        + (f", {result.samples} samples)" if result.samples else ")")
    ]
    lines.append("-" * len(lines[0]))
    lines.append(
        f"{'link':<28} {'station':<10} {'fidelity':>9} {'P(success)':>11} {'k':>3} {'T_att (s)':>10} {'rate (1/s)':>11}"
    )
    for (a, b), s, r in zip(zip(result.path, result.path[1:]), result.stations, result.links):
        lines.append(
            f"{a + ' - ' + b:<28} {s:<10} {r.fidelity:9.4f} {r.success_probability:11.4g} {r.attempts_per_round:3d} "
            f"{r.attempt_time_s:10.4g} {r.rate_hz:11.4g}"
        )
    lines.append("(P(success) per attempt; k attempts per round = min memories of the link's two nodes for it)")
    lines.append("")
    fid = f"{result.fidelity:.6g}" + (f"  (std {result.fidelity_std:.3g})" if result.fidelity_std is not None else "")
    rate = f"{result.rate_hz:.6g}" + (
        f"  (95% CI {result.rate_hz_ci[0]:.4g} .. {result.rate_hz_ci[1]:.4g})" if result.rate_hz_ci else ""
    )
    rows = [
        ("fidelity", fid, "mean delivered <Psi+|rho|Psi+>"),
        ("rate_hz", rate, "end-to-end pairs per second"),
        ("mean_completion_time_s", f"{result.mean_completion_time_s:.6g}", "mean time between deliveries"),
        (
            "completion time (s)",
            "  ".join(f"{k} {v:.4g}" for k, v in result.completion_time_quantiles_s().items()),
            "5/50/95 % quantiles",
        ),
        ("chsh", f"{result.chsh:.6g}", "of the mean delivered state"),
        ("qber", f"{result.qber:.6g}", "Z-basis error"),
        (
            "diqkd_key_rate_hz",
            f"{result.diqkd_key_rate_hz:.6g}",
            f"DI-QKD key (fraction {result.diqkd_key_fraction:.4g})",
        ),
        (
            "bb84_key_rate_hz",
            f"{result.bb84_key_rate_hz:.6g}",
            f"BB84/BBM92 key (fraction {result.bb84_key_fraction:.4g})",
        ),
    ]
    if not result.entangled:
        rows.insert(
            1, ("entangled", "NO", "the delivered pair is not entangled (separable: positive partial transpose)")
        )
    elif result.fidelity <= 0.5:
        rows.insert(1, ("entangled", "yes", "but fidelity <= 1/2: no better than a separable pair towards |Psi+>"))
    else:
        rows.insert(1, ("entangled", "yes", "negative partial transpose"))
    fq = result.fidelity_quantiles()
    if fq is not None:
        rows.insert(
            1, ("fidelity quantiles", "  ".join(f"{k} {v:.4g}" for k, v in fq.items()), "5/50/95 % of delivered pairs")
        )
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines += [f"{n:<{w0}}  {v:>{w1}}  {m}" for n, v, m in rows]
    return "\n".join(lines)

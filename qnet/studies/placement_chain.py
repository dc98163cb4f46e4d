"""The physics behind ``qnet place``: segment links, the screening bounds of a chain, its verification.

A *segment* is the fibre between two consecutive chain nodes (a demand's end node or a
repeater) along a route through the map; the map nodes in between pass the fibre through. It
becomes one heralded link built exactly as :func:`qnet.network.generate.network_table` builds
every generated link: the hardware file's memories at both ends and its station in the middle
of the fibre (two fibres of half the length). Its figures depend on its length only, so every
distinct length is evaluated once, all of them in one run (:func:`qnet.link.distinct.run_specs`).

A *chain* (a route cut at its repeaters) is judged twice:

* **screen** (:func:`chain_bounds`, cheap, used to enumerate candidates for the MILP): two
  upper bounds on what qnet's chain model gives,

  - ``fidelity_bound``: the links' heralded states swapped one after the other with the
    repeater's gate and readout fidelities (:func:`qnet.repeater.swapping.swap`) *without*
    any memory waiting; waiting only adds dephasing and amplitude damping, which lower the
    fidelity of the (Pauli-frame corrected, near-|Psi+>) states qnet's links deliver;
  - ``rate_bound_hz``: 1 / E[max_i T_i], the time at which the last link has heralded when
    every link i starts at 0 and T_i >= tau_i * E_i with E_i exponential of rate
    -ln(1 - q_i) (the number of rounds G_i of a link with success q_i per round satisfies
    P(G_i > t) = (1 - q_i)^t, so G_i >= E_i in distribution); a chain completes no earlier
    than its last link (swaps, cutoffs and waiting only add time), so its rate is at most this.

* **verification** (:func:`verify_chain`): qnet's own chain model on a line network of the
  chain's nodes (:func:`line_network`), :func:`qnet.repeater.path.simulate_path`: exact where
  an exact method exists (one link; two links of equal attempt time), else a seeded Monte Carlo.

Attempts per round follow :mod:`qnet.link.multiplexing` on that line network: with the
hardware's ``memories`` unset, one; with ``memories = m``, ``m`` on a chain of one link and
``max(m, 2) // 2`` otherwise (a repeater splits its memories between its two links).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import networkx as nx
import numpy as np

from qnet.errors import QnetError
from qnet.network.generate import Hardware, network_table

__all__ = [
    "SegmentLink",
    "segment_links",
    "attempts_per_round",
    "expected_max_exponential",
    "chain_bounds",
    "ScreenState",
    "screen_start",
    "screen_extend",
    "screen_bounds",
    "line_network",
    "verify_chain",
    "ChainCheck",
    "MIN_SEGMENT_KM",
    "SCREEN_SAMPLES",
]

#: Segments shorter than this (km; two map nodes at the same coordinates) are built at this length.
MIN_SEGMENT_KM = 1e-3
#: Monte Carlo deliveries of the first look at a chain that may clearly miss its targets (:func:`verify_chain`).
SCREEN_SAMPLES = 200


@dataclass(frozen=True)
class SegmentLink:
    """One segment's heralded link: what the screen needs (per attempt; rounds come from :func:`attempts_per_round`).

    Examples
    --------
    >>> s = SegmentLink(length_km=50.0, fidelity=0.97, success_probability=1e-3, attempt_time_s=6e-4,
    ...                 rho=np.eye(4) / 4)
    >>> round(s.rate_per_round(1), 6), round(s.exponential_rate_hz(1), 3)
    (0.001, 1.668)
    """

    length_km: float
    fidelity: float
    success_probability: float
    attempt_time_s: float
    rho: np.ndarray

    def rate_per_round(self, attempts: int) -> float:
        """Success probability per round with ``attempts`` attempts: 1 - (1 - p)^k."""
        return -math.expm1(attempts * math.log1p(-self.success_probability)) if self.success_probability < 1 else 1.0

    def exponential_rate_hz(self, attempts: int) -> float:
        """-ln(1 - q) / tau (1/s): the rate of the exponential that the link's herald time dominates."""
        if self.success_probability >= 1.0:
            return math.inf
        return -attempts * math.log1p(-self.success_probability) / self.attempt_time_s


def attempts_per_round(memories: int | None, n_links: int) -> int:
    """Attempts per round of every link of a chain of ``n_links`` built from a hardware file (module docstring).

    Examples
    --------
    >>> attempts_per_round(None, 3), attempts_per_round(4, 1), attempts_per_round(4, 3), attempts_per_round(1, 2)
    (1, 4, 2, 1)
    """
    if memories is None:
        return 1
    return int(memories) if n_links == 1 else max(int(memories), 2) // 2


def _two_node_graph(length_km: float, hardware: Hardware) -> nx.Graph:
    from qnet.network.graph import network_from_dict

    topo = nx.Graph()
    topo.add_edge("a", "b", length_km=max(float(length_km), MIN_SEGMENT_KM))
    return network_from_dict(network_table(topo, hardware), source="<placement segment>")


def segment_links(
    lengths_km: Sequence[float], hardware: Hardware, link_backend: str = "batch"
) -> dict[float, SegmentLink]:
    """The heralded link of every distinct segment length, all evaluated in one run.

    Parameters
    ----------
    lengths_km : sequence of float
        Segment lengths (km); repeats are evaluated once.
    hardware : Hardware
        Memories, station and fibre of every link (:func:`qnet.network.generate.read_hardware`).
    link_backend : {"batch", "aer"}
        The link simulator (equal within 1e-12; batch is faster).

    Returns
    -------
    dict
        length_km -> :class:`SegmentLink`.

    Examples
    --------
    >>> from qnet.network.generate import read_hardware
    >>> links = segment_links([25.0, 50.0, 25.0], read_hardware("examples/hardware/ion.toml"))
    >>> sorted(links), links[25.0].success_probability > links[50.0].success_probability
    ([25.0, 50.0], True)
    """
    from qnet.link.distinct import run_specs
    from qnet.link.spec import link_spec

    distinct = sorted({float(x) for x in lengths_km})
    specs = [link_spec(_two_node_graph(x, hardware), "a", "b") for x in distinct]
    results = run_specs(specs, link_backend=link_backend) if specs else []
    return {
        x: SegmentLink(x, r.fidelity, r.success_probability, r.attempt_time_s, r.density_matrix)
        for x, r in zip(distinct, results)
    }


def expected_max_exponential(rates_hz: Sequence[float]) -> float:
    """E[max_i X_i] (s) of independent exponentials X_i of the given rates (1/s), exactly.

    Inclusion-exclusion, sum over non-empty subsets S of (-1)^(|S|+1) / sum_S rate, up to 14
    variables; numerical quadrature of the integral of 1 - prod_i (1 - exp(-rate_i t)) beyond.

    Examples
    --------
    >>> round(expected_max_exponential([2.0]), 12), round(expected_max_exponential([1.0, 1.0, 1.0]), 12)  # H_3 = 11/6
    (0.5, 1.833333333333)
    """
    mu = np.asarray([r for r in rates_hz if r != math.inf], dtype=float)
    if mu.size == 0:
        return 0.0
    if np.any(mu <= 0):
        return math.inf
    n = mu.size
    if n <= 14:
        masks = (np.arange(1, 1 << n)[:, None] >> np.arange(n)) & 1
        sums = masks @ mu
        signs = np.where(masks.sum(axis=1) % 2 == 1, 1.0, -1.0)
        return float(np.sum(signs / sums))
    from scipy.integrate import quad

    scale = 1.0 / mu.min()
    val, _err = quad(lambda t: -math.expm1(float(np.sum(np.log1p(-np.exp(-mu * t))))), 0.0, math.inf, limit=200)
    return float(val) if val > 0 else scale


_TENSORS: dict[tuple[float, float], np.ndarray] = {}


def _swap_tensor(gate_fidelity: float, readout_fidelity: float) -> np.ndarray:
    """The bilinear tensor of qnet's swap at a repeater of these fidelities (built once per pair of values)."""
    key = (float(gate_fidelity), float(readout_fidelity))
    if key not in _TENSORS:
        from qnet.repeater.chain.linalg import default_swap_fn, swap_tensor

        _TENSORS[key] = swap_tensor(default_swap_fn(), *key)
    return _TENSORS[key]


@dataclass(frozen=True)
class ScreenState:
    """A partial chain as the screen sees it: the no-wait swapped state (vectorised) and each link's exponential rate."""

    rho_vec: np.ndarray
    rates_hz: tuple[float, ...]


def screen_start(link: SegmentLink, attempts: int) -> ScreenState:
    """The screen state of a chain's first link."""
    return ScreenState(np.asarray(link.rho, dtype=complex).ravel(), (link.exponential_rate_hz(attempts),))


def screen_extend(
    state: ScreenState, link: SegmentLink, attempts: int, gate_fidelity: float, readout_fidelity: float
) -> ScreenState:
    """``state`` with ``link`` swapped onto its end (no waiting) at a repeater of these fidelities."""
    t = _swap_tensor(gate_fidelity, readout_fidelity)
    rho = np.einsum("ouv,u,v->o", t, state.rho_vec, np.asarray(link.rho, dtype=complex).ravel())
    return ScreenState(rho, state.rates_hz + (link.exponential_rate_hz(attempts),))


def screen_bounds(state: ScreenState) -> tuple[float, float]:
    """(fidelity_bound, rate_bound_hz) of a screen state (module docstring)."""
    from qnet.quantum.states import fidelity

    f = float(fidelity(state.rho_vec.reshape(4, 4), "psi+"))
    t = expected_max_exponential(state.rates_hz)
    return f, (1.0 / t if t > 0 else math.inf)


def chain_bounds(
    links: Sequence[SegmentLink], attempts: int, gate_fidelity: float, readout_fidelity: float
) -> tuple[float, float]:
    """(fidelity_bound, rate_bound_hz) of a chain of ``links`` (the screen; module docstring).

    Examples
    --------
    Two perfect-state links, perfect repeater: fidelity 1; two links of rate 2/s: 1 / (1.5 / 2 s).

    >>> from qnet.quantum.states import bell_state
    >>> psi = bell_state("psi+"); rho = np.outer(psi, psi.conj())
    >>> link = SegmentLink(10.0, 1.0, -math.expm1(-1e-3), 5e-4, rho)  # exponential rate 2/s
    >>> f, r = chain_bounds([link, link], 1, 1.0, 1.0)
    >>> round(f, 9), round(r, 6)
    (1.0, 1.333333)
    """
    state = screen_start(links[0], attempts)
    for link in links[1:]:
        state = screen_extend(state, link, attempts, gate_fidelity, readout_fidelity)
    return screen_bounds(state)


def line_network(
    names: Sequence[str], lengths_km: Sequence[float], hardware: Hardware, pos: Mapping[str, Any] | None = None
) -> nx.Graph:
    """The topology of one chain: ``names`` in order, consecutive ones joined by a segment of ``lengths_km``.

    Examples
    --------
    >>> g = line_network(["a", "r", "b"], [30.0, 40.0], None)  # hardware not needed for the topology
    >>> [g.edges[e]["length_km"] for e in g.edges]
    [30.0, 40.0]
    """
    topo = nx.Graph()
    for n in names:
        topo.add_node(n, **({"pos": pos[n]} if pos and n in pos else {}))
    for a, b, km in zip(names, names[1:], lengths_km):
        topo.add_edge(a, b, length_km=max(float(km), MIN_SEGMENT_KM))
    return topo


@dataclass(frozen=True)
class ChainCheck:
    """qnet's chain model on one chain: ``method`` is ``"exact"`` or ``"monte_carlo"`` (``samples`` deliveries)."""

    fidelity: float
    rate_hz: float
    method: str
    samples: int | None


def verify_chain(
    names: Sequence[str],
    lengths_km: Sequence[float],
    hardware: Hardware,
    samples: int = 1000,
    seed: int | None = 0,
    link_backend: str = "batch",
    targets: tuple[float, float] | None = None,
) -> ChainCheck:
    """End-to-end fidelity and rate of a chain by qnet's chain model (exact where it exists, else Monte Carlo).

    With ``targets`` (min fidelity, min rate in 1/s) a Monte Carlo first runs
    :data:`SCREEN_SAMPLES` deliveries and stops there when the chain clearly misses a target
    (its fidelity 4 standard errors, or its rate twice the 95 % half-width, below it).

    Examples
    --------
    >>> from qnet.network.generate import read_hardware
    >>> hw = read_hardware("examples/hardware/ion.toml")
    >>> c = verify_chain(["a", "b"], [40.0], hw)  # one link: its own figures
    >>> c.method, abs(c.fidelity - segment_links([40.0], hw)[40.0].fidelity) < 1e-12
    ('exact', True)
    """
    from qnet.network.graph import network_from_dict
    from qnet.repeater.path import build_chain, simulate_path

    graph = network_from_dict(
        network_table(line_network(names, lengths_km, hardware), hardware), source="<placement chain>"
    )
    built = build_chain(graph, list(names), link_backend=link_backend)
    try:
        r = simulate_path(graph, list(names), exact=True, built=built)
        return ChainCheck(float(r.fidelity), float(r.rate_hz), r.method, r.samples)
    except QnetError:
        pass
    if targets is not None and samples > SCREEN_SAMPLES:
        r = simulate_path(graph, list(names), samples=SCREEN_SAMPLES, seed=seed, built=built)
        assert r.fidelity_std is not None and r.samples is not None and r.rate_hz_ci is not None  # (Monte Carlo)
        f_hi = r.fidelity + 4.0 * r.fidelity_std / math.sqrt(r.samples)
        r_hi = r.rate_hz + 2.0 * (r.rate_hz_ci[1] - r.rate_hz)
        if f_hi < targets[0] or r_hi < targets[1]:
            return ChainCheck(float(r.fidelity), float(r.rate_hz), r.method, r.samples)
    r = simulate_path(graph, list(names), samples=samples, seed=seed, built=built)
    return ChainCheck(float(r.fidelity), float(r.rate_hz), r.method, r.samples)

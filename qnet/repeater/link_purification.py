"""One round of purification on an elementary link, exactly: what a second memory buys.

Each node devotes two memories to the link; both copies of the link attempt in parallel in
rounds of T_att and succeed per round with the link's herald probability p (X, Y ~ Geom(p)).
The pair that arrives first waits D = |X - Y| rounds, **both of its memories decohering**
(from their age since emission, :func:`qnet.quantum.channels.storage_factors`); the later pair is kept
and the earlier one sacrificed in one BBPSSW or DEJMPS round (:func:`qnet.purify`, the
bilateral-CNOT circuit on Aer with each node's gate and readout noise). The nodes then
exchange their measurement bits over the link's fibre, t_c = (L_A + L_B)/c, while the kept
pair keeps decohering; on failure both copies restart after t_c. A node ``cutoff_s`` (the
smaller of the two) discards a pair that would wait more than that many whole rounds
(the discarded copy restarts).

Everything is exact (no sampling): D has the closed-form distribution of docs/literature.md §5.6,
a trial lasts max(X, Y) rounds + t_c and succeeds with probability p_pur(D); trials are
independent, so

    P_S = sum_D P(D) p_pur(D),      E[T] = (E[max(X, Y)] T_att + t_c) / P_S   (Wald),
    delivered state = sum_D P(D) p_pur(D) rho_out(D) / P_S,

and rate_hz = 1 / E[T]. The PMF of D is truncated where its tail is below ``tail_tolerance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from qnet._deprecation import renamed_keywords
from qnet.quantum import channels
from qnet.repeater import waiting
from qnet.errors import ConfigError, QnetError
from qnet.network.hardware import MemoryNode
from qnet.link.prepared import PreparedNetwork, prepare_network
from qnet.link.results import DELIVERED_STATE_FIELDS, DeliveredStateFigures, LinkResult, json_number

__all__ = ["PurifiedLinkResult", "purify_link", "purification_table", "format_purified", "PURIFIED_FIELDS"]

_MAX_ROUNDS = 2**22  # ~ 4e6 waiting times of 4x4 states (about 1 GB of work arrays)

#: Numeric fields of ``qnet purify --json`` (besides ``protocol`` and the raw ``link``).
PURIFIED_FIELDS = (
    "fidelity",
    "rate_hz",
    "mean_completion_time_s",
    "purification_success_probability",
    "communication_time_s",
    *DELIVERED_STATE_FIELDS,
    "link_efficiency",
)


@dataclass(frozen=True)
class PurifiedLinkResult(DeliveredStateFigures):
    """A link after one purification round, beside the raw link (``raw``).

    The figures of the delivered state (``chsh``, ``qber``, key fractions and rates) come from
    :class:`qnet.link.results.DeliveredStateFigures`.

    Parameters
    ----------
    protocol : str
        ``"dejmps"`` or ``"bbpssw"``.
    raw : LinkResult
        The raw link with the same memories (multiplexed).
    fidelity : float
        Delivered <Psi+|rho|Psi+>.
    rate_hz : float
        Purified pairs per second (Hz).
    mean_completion_time_s : float
        Mean time between purified pairs (s).
    purification_success_probability : float
        Per trial, averaged over the waiting time D.
    communication_time_s : float
        t_c, the time the bits travel (s).
    pair_coherence_time_s : float
        The raw link's pair coherence time (s).
    density_matrix : ndarray, shape (4, 4)
        Delivered state.
    waiting_pmf : ndarray
        P(D = k rounds), truncated.
    twirl : bool
        BBPSSW re-twirled its output (:mod:`qnet.repeater.purification`).

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml",
    ...                           overrides=["nodes.alice.memories=2", "nodes.bob.memories=2"])
    >>> from qnet.repeater.link_purification import purify_link
    >>> r = purify_link(graph, "alice", "bob")
    >>> round(r.fidelity, 4), round(r.raw.fidelity, 4), round(r.link_efficiency / r.raw.link_efficiency, 3)
    (0.9191, 0.9138, 0.238)
    >>> r.to_dict()["protocol"], r.to_dict()["twirl"]
    ('dejmps', None)
    """

    protocol: str
    raw: LinkResult
    fidelity: float
    rate_hz: float
    mean_completion_time_s: float
    purification_success_probability: float  # per trial, averaged over the waiting time D
    communication_time_s: float
    pair_coherence_time_s: float
    density_matrix: np.ndarray = field(repr=False)
    waiting_pmf: np.ndarray | None = field(repr=False, default=None)  # P(D = k rounds), truncated
    twirl: bool = True  # BBPSSW: output re-twirled to Werner form (qnet.repeater.purification)

    @property
    def link_efficiency(self) -> float:
        """rate_hz x pair coherence time: pairs per coherence time."""
        return self.rate_hz * self.pair_coherence_time_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: :data:`PURIFIED_FIELDS`, ``protocol``, ``twirl`` and the raw ``link``."""
        out: dict[str, Any] = {name: json_number(getattr(self, name)) for name in PURIFIED_FIELDS}
        out["protocol"] = self.protocol
        out["twirl"] = self.twirl if self.protocol == "bbpssw" else None
        out["link"] = self.raw.to_dict()
        return out


def _memories_for_purification(node: MemoryNode) -> None:
    if node.memories is None or node.memories < 2:
        raise ConfigError(
            f"nodes.{node.name}",
            "memories",
            node.memories,
            "purifying a link needs two memories per node for that link: set memories = 2 (or more)",
        )


def purification_table(
    rho: np.ndarray,
    waits: np.ndarray,
    attempt_time_s: float,
    ages_s: tuple[float, float],
    memories: tuple[tuple[float, float, str], tuple[float, float, str]],
    protocol: str,
    gate_fidelity: tuple[float, float],
    readout_fidelity: tuple[float, float],
    communication_time_s: float,
    twirl: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Success probability and kept pair of one round, for each waiting time D in ``waits`` (rounds).

    ``rho`` is the link's heralded pair, ``ages_s`` its memories' ages at the herald and
    ``memories`` their (t1_s, t2_s, decay). The earlier copy waits D rounds (both memories
    decohering) and is sacrificed; the fresh copy is kept and then waits
    ``communication_time_s`` for the other node's bits. ``twirl``: BBPSSW re-twirls its output
    (:func:`qnet.purify`).

    Parameters
    ----------
    rho : ndarray, shape (4, 4)
        The link's heralded pair.
    waits : array_like of int
        Waiting times D (rounds).
    attempt_time_s : float
        One round (s).
    ages_s : (float, float)
        Ages of memories A and B at the herald (s).
    memories : ((float, float, str), (float, float, str))
        (t1_s, t2_s, decay) of memories A and B.
    protocol : str
        ``"dejmps"`` or ``"bbpssw"``.
    gate_fidelity, readout_fidelity : (float, float)
        Of nodes A and B.
    communication_time_s : float
        t_c (s).
    twirl : bool
        BBPSSW re-twirls its output.

    Returns
    -------
    (ndarray, ndarray)
        p_pur, shape (n,), and the kept pairs after t_c, shape (n, 4, 4).

    Examples
    --------
    Perfect memories and nodes: the wait changes nothing.

    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector
    >>> from qnet.repeater.link_purification import purification_table
    >>> P = bell_projector("psi+")
    >>> werner = 0.9 * P + 0.1 * (np.eye(4) - P) / 3
    >>> perfect = (float("inf"), float("inf"), "exponential")
    >>> p, states = purification_table(werner, [0, 5], 1e-3, (0.0, 0.0), (perfect, perfect), "bbpssw",
    ...                                (1.0, 1.0), (1.0, 1.0), 0.0)
    >>> p.round(6).tolist(), states.shape
    ([0.875556, 0.875556], (2, 4, 4))
    """
    from qnet.repeater.purification import purify

    waits = np.asarray(waits)
    fresh = np.broadcast_to(rho, (len(waits), 4, 4))

    def stored(states: np.ndarray, extra_s: np.ndarray | float) -> np.ndarray:
        for m, (age, (t1, t2, law)) in enumerate(zip(ages_s, memories)):
            states = channels.apply_storage(states, m, *channels.storage_factors(age, age + extra_s, t1, t2, law))
        return states

    old = stored(fresh, waits * attempt_time_s)
    p_pur, out = purify(
        fresh, old, protocol=protocol, gate_fidelity=gate_fidelity, readout_fidelity=readout_fidelity, twirl=twirl
    )
    return np.asarray(p_pur), stored(out, np.full(len(waits), communication_time_s))


@renamed_keywords(engine="link_backend")
def purify_link(
    graph: nx.Graph | PreparedNetwork,
    a: str,
    b: str,
    station: str | None = None,
    protocol: str = "dejmps",
    tail_tolerance: float = 1e-12,
    twirl: bool = True,
    link_backend: str | None = None,
) -> PurifiedLinkResult:
    """Exact figures of the link ``a`` - ``b`` after one purification round (module docstring).

    ``twirl``: BBPSSW re-twirls its output to Werner form (default True; DEJMPS ignores it).
    The raw link in ``raw`` uses the nodes' memories as :mod:`qnet.link.multiplexing` says (k =
    min(memories at A, at B) attempts per round), so with two memories per node it is the
    two-fold multiplexed link the same memories give without purification.

    Parameters
    ----------
    graph : networkx.Graph or PreparedNetwork
        The network (or the network prepared once, :func:`qnet.prepare_network`); nodes ``a``
        and ``b`` need ``memories >= 2``.
    a, b : str
        The link's memory nodes.
    station : str, optional
        Its station (found when there is one).
    protocol : str
        ``"dejmps"`` (default) or ``"bbpssw"``.
    tail_tolerance : float
        Probability mass of waiting times left out (without a cutoff).
    twirl : bool
        BBPSSW re-twirls its output (default True).
    link_backend : str, optional
        Link backend, one of :data:`qnet.link.choices.LINK_BACKENDS`: ``"aer"`` or ``"batch"``
        (default: the prepared network's, ``"aer"`` for a graph).

    Returns
    -------
    PurifiedLinkResult

    Raises
    ------
    ConfigError
        A node with fewer than two memories.
    QnetError
        A waiting-time distribution too wide without cutoff, or a purification that never succeeds.

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml",
    ...                           overrides=["nodes.alice.memories=2", "nodes.bob.memories=2"])
    >>> from qnet.repeater.link_purification import purify_link
    >>> r = purify_link(graph, "alice", "bob", protocol="bbpssw")
    >>> r.protocol, round(r.purification_success_probability, 4), round(r.fidelity, 4)
    ('bbpssw', 0.775, 0.8478)
    """
    net = prepare_network(graph)
    spec = net.spec(a, b, station)
    nodes: tuple[MemoryNode, MemoryNode] = (net.memory(a), net.memory(b))
    for node in nodes:
        _memories_for_purification(node)
    raw = net.results([spec], link_backend)[0]
    p, tau = raw.success_probability, raw.attempt_time_s
    cutoff = waiting.cutoff_rounds(min(n.cutoff_s for n in nodes), tau)
    if cutoff is not None:
        n_rounds = cutoff + 1
    elif p >= 1.0:
        n_rounds = 1
    else:  # P(D >= k) ~ (1-p)^k: keep the rounds until the tail is below the tolerance
        n_rounds = 1 + int(math.ceil(math.log(tail_tolerance) / math.log1p(-p)))
    if n_rounds > _MAX_ROUNDS:
        raise QnetError(
            f"link {a}-{b}: p = {p:.3g} per attempt makes the waiting-time distribution span {n_rounds:,} rounds; "
            "set a cutoff_s on the nodes to bound it"
        )
    pmf = waiting.two_link_storage_pmf(p, n_rounds, cutoff)
    c = net.fibre_speed_km_per_s
    t_c = (spec.length_a_km + spec.length_b_km) / c  # the kept pair waits for the other node's bits
    p_pur, out = purification_table(
        raw.density_matrix,
        np.arange(n_rounds),
        tau,
        (spec.storage_time_a_s, spec.storage_time_b_s),
        ((spec.t1_a_s, spec.t2_a_s, spec.decay_a), (spec.t1_b_s, spec.t2_b_s, spec.decay_b)),
        protocol,
        (nodes[0].gate_fidelity, nodes[1].gate_fidelity),
        (nodes[0].readout_fidelity, nodes[1].readout_fidelity),
        t_c,
        twirl,
    )
    weights = pmf * p_pur
    success = float(weights.sum() / pmf.sum())
    if not success > 0.0:
        raise QnetError(f"link {a}-{b}: {protocol} purification never succeeds on this link")
    ok = weights > 0
    state = np.einsum("n,nij->ij", weights[ok], out[ok]) / weights[ok].sum()
    trial_s = waiting.two_link_mean_rounds(p, cutoff) * tau + t_c
    mean_t = trial_s / success
    return PurifiedLinkResult(
        protocol=protocol,
        raw=raw,
        fidelity=float(np.real(np.trace(state @ _psi_plus()))),
        rate_hz=1.0 / mean_t,
        mean_completion_time_s=mean_t,
        purification_success_probability=success,
        communication_time_s=t_c,
        pair_coherence_time_s=raw.pair_coherence_time_s,
        density_matrix=(state + state.conj().T) / 2,
        waiting_pmf=pmf,
        twirl=bool(twirl),
    )


def _psi_plus() -> np.ndarray:
    from qnet.quantum.states import bell_projector

    return bell_projector("psi+")


def format_purified(result: PurifiedLinkResult) -> str:
    """A readable comparison of the raw and the purified link.

    Parameters
    ----------
    result : PurifiedLinkResult

    Returns
    -------
    str

    Examples
    --------
    >>> import qnet
    >>> graph = qnet.load_network("examples/liu2026_ion_link.toml",
    ...                           overrides=["nodes.alice.memories=2", "nodes.bob.memories=2"])
    >>> from qnet.repeater.link_purification import format_purified, purify_link
    >>> print(format_purified(purify_link(graph, "alice", "bob")))
    link alice - station - bob: one DEJMPS round (2 memories per node, exact)
    ...
    fidelity ... <Psi+|rho|Psi+>
    ...
    """
    raw = result.raw
    twirl = "" if result.protocol != "bbpssw" else (", output twirled" if result.twirl else ", output not twirled")
    title = f"link {raw.node_a} - {raw.station} - {raw.node_b}: one {result.protocol.upper()} round (2 memories per node{twirl}, exact)"
    rows = [
        ("fidelity", raw.fidelity, result.fidelity, "<Psi+|rho|Psi+>"),
        ("rate_hz", raw.rate_hz, result.rate_hz, "pairs per second"),
        ("link_efficiency", raw.link_efficiency, result.link_efficiency, "rate x T_coh"),
        ("chsh", raw.chsh, result.chsh, "maximal CHSH value"),
        ("qber", raw.qber, result.qber, "Z-basis error"),
        ("diqkd_key_rate_hz", raw.diqkd_key_rate_hz, result.diqkd_key_rate_hz, "DI-QKD key rate (bit/s)"),
        ("bb84_key_rate_hz", raw.bb84_key_rate_hz, result.bb84_key_rate_hz, "BB84/BBM92 key rate (bit/s)"),
    ]
    raw_title = "raw link" if raw.attempts_per_round == 1 else f"raw (k={raw.attempts_per_round})"
    lines = [title, "-" * len(title), f"{'':<18} {raw_title:>12} {'purified':>12}"]
    lines += [f"{n:<18} {x:>12.6g} {y:>12.6g}  {m}" for n, x, y, m in rows]
    lines.append(
        f"purification succeeds w.p. {result.purification_success_probability:.4g} per trial; "
        f"bits exchanged in {result.communication_time_s:.3g} s"
    )
    return "\n".join(lines)

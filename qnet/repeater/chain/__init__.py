"""Repeater chains in time: when end-to-end pairs arrive, and in what state.

A chain is a path of elementary links joined by repeater nodes. This module runs the time
process of ``docs/conventions.md`` ("Repeaters") on top of states that other modules compute:

* each link attempts in rounds of its own ``attempt_time_s`` tau and succeeds per round with
  ``success_probability`` p; a link that succeeded stops and its pair waits, **both memories
  decohering** (:func:`qnet.quantum.channels.storage_kraus` from their ages), until the neighbouring pair
  exists;
* a repeater swaps two adjacent pairs as soon as both exist (``swap_policy="asap"``, default)
  or only as the halves of a nesting block (``"nested"``, 2^n links); the swap itself is
  ``swap_fn`` (default :func:`qnet.repeater.swapping.swap`, the Aer channel of the Bell-state
  measurement); it succeeds with ``swap_success_probability`` (a failure loses both pairs and
  every link under them starts again) and takes ``swap_time_s`` during which the outer memories
  keep decohering;
* a cutoff discards a pair whose age exceeds ``cutoff_s`` and its link(s) restart at once; a pair
  whose partner arrives exactly ``cutoff_s`` later is kept (times compared with relative
  tolerance :data:`qnet.quantum.waiting.TIME_RTOL`);
* after an end-to-end pair is delivered every link starts again: deliveries are a renewal
  process and rate_hz = 1 / E[completion time];
* fidelity = <Psi+|rho|Psi+> of the delivered end-to-end state (links deliver |Psi+> and the
  swap's Pauli-frame correction keeps that target).

Modelling choices (documented here because they are part of the contract)
-------------------------------------------------------------------------
* **Age of a pair (for the cutoff)**: time since the pair came into existence (its herald, or
  the end of the swap that made it), as in Li, Coopmans & Elkouss's ``|t1 - t2| <= cutoff``. A
  pair held at nodes j and k obeys the smaller of their cutoffs (end users have none).
* **Memory age (for decoherence)**: time since the memory's photon was emitted = the link's
  ``storage_time_s`` at herald + time since herald. Gaussian dephasing is evaluated from these
  ages over each whole interval, c(t_to)/c(t_from) (``channels.storage_coherence_factor``), so
  it is never restarted from zero.
* **Pauli frame**: the corrections of heralds and swaps are treated as applied at once, so later
  storage acts on the corrected state (the only choice available once states are averaged over
  outcomes; it matters only for amplitude damping, T1 < inf).
* **memories** (:mod:`qnet.link.multiplexing`, one rule everywhere): every node limits the attempts
  of the links it joins, end users included. A repeater devotes ``RepeaterNode.memories`` to
  each adjacent link, an end user ``RepeaterChain.end_memories`` to its one link; a link runs
  k = min(its two nodes' memories for it) attempts per round, so its success probability per
  round is 1 - (1 - p)^k; one success fills the link and it stops.
* **Simultaneous events**: events closer than TIME_RTOL (relative) are one instant; within it
  heralds and swap completions are applied first, then swaps are made left to right, then the
  cutoffs of pairs that are still waiting fire.
* **swap_time_s**: the Bell-state measurement and the classical message take this long; the
  new pair exists (and its age starts) at the end; the outer memories decohere throughout.
* **Purified links** (``ChainLink.purification``, :class:`LinkPurification`): the link is made
  as in :mod:`qnet.repeater.link_purification`, exactly: each end node holds two copies of the link (two
  memories per node for that link, no further multiplexing); both copies attempt in parallel
  in rounds of tau with ``success_probability`` (X, Y ~ Geom(p)); the earlier copy waits
  D = |X - Y| rounds (both memories decohering from their herald ages) and is sacrificed, the
  later one kept, in one round of the protocol with the two end nodes' gate and readout
  fidelities; the bits travel for ``communication_time_s`` t_c while the kept pair keeps
  decohering; on failure (probability 1 - p_pur(D)) both copies restart after t_c. The
  purification's ``cutoff_s`` (in whole rounds, :func:`qnet.quantum.waiting.cutoff_rounds`) discards a
  raw copy that would wait longer and that copy restarts at once. The purified pair enters the
  chain at its success time (the later herald + t_c) in the state rho_out(D) after t_c, with
  memory ages = herald ages + t_c; from there on it is an ordinary pair (waiting, swaps, chain
  cutoffs, restarts). A restart of a purified link restarts its whole purification.

Two ways to compute
-------------------
:func:`simulate_chain` (Monte Carlo, any chain): a discrete-event simulation per delivery records
the tree of heralds and swaps that built the delivered pair (discarded pairs cannot influence
it because swap success does not depend on the state), then the states of all samples are
evaluated together, level by level of the trees: storage channels are built once per distinct
interval (exact ``storage_kraus`` per interval, cached) and swaps are batched stacks through
``swap_fn``.

:func:`exact_chain` (where an exact method exists): state-valued PMFs on the round grid,
M(t) = P(T = t) E[rho | T = t], truncated where the remaining tail mass is below
``tail_tolerance``. Supported: one link; two links (any decay law, different p / rho / memories,
cutoff, probabilistic swap, swap time multiple of tau); nested 2^n chains of identical links with
exponential decay and no cutoff (Brand-Coopmans-Elkouss recursion with states, the earlier
segment decayed by a cached channel power). Anything else raises ``ValueError`` saying why;
chains with purified links are Monte Carlo only.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnet.quantum.channels import DECAY_LAWS, storage_kraus
from qnet.errors import ConfigError, QnetError
from qnet.link.multiplexing import attempts_per_round, success_per_round
from qnet.quantum.states import bell_state, is_physical
from qnet.quantum.waiting import TIME_RTOL, convolve, cutoff_rounds, renewal

__all__ = [
    "MemoryDecay",
    "LinkPurification",
    "ChainLink",
    "RepeaterNode",
    "RepeaterChain",
    "ChainMonteCarloResult",
    "ChainExactResult",
    "simulate_chain",
    "exact_chain",
    "run_chain",
    "SWAP_POLICIES",
]

SWAP_POLICIES = ("asap", "nested")
SwapFn = Callable[..., np.ndarray]
_Z95 = 1.959963984540054  # two-sided 95 % normal quantile
_PSI_PLUS = bell_state("psi+")


# =========================================================================== inputs


@dataclass(frozen=True)
class MemoryDecay:
    """Decoherence of one memory: dephasing time ``t2_s`` (law ``decay``) and T1 ``t1_s``.

    Same meaning as :func:`qnet.quantum.channels.storage_kraus`; ``inf`` means no decay of that kind.
    """

    t2_s: float = math.inf
    t1_s: float = math.inf
    decay: str = "exponential"

    def __post_init__(self) -> None:
        for name in ("t2_s", "t1_s"):
            v = float(getattr(self, name))
            if not v > 0.0:  # also rejects NaN
                raise ConfigError("memory", name, getattr(self, name), "a time > 0 in seconds (inf: no decay)")
            object.__setattr__(self, name, v)
        if self.decay not in DECAY_LAWS:
            raise ConfigError("memory", "decay", self.decay, f"one of {DECAY_LAWS}")

    @property
    def decays(self) -> bool:
        """True when the memory decoheres at all."""
        return not (math.isinf(self.t2_s) and math.isinf(self.t1_s))

    @property
    def semigroup(self) -> bool:
        """True when k rounds of storage = (one round)^k, whatever the age (exponential laws)."""
        return self.decay == "exponential" or math.isinf(self.t2_s)


def _as_memory(m: MemoryDecay | Sequence[Any] | None) -> MemoryDecay:
    if m is None:
        return MemoryDecay()
    if isinstance(m, MemoryDecay):
        return m
    return MemoryDecay(*m)  # (t2_s, t1_s, decay)


def _node_pair(where: str, name: str, value: Any) -> tuple[float, float]:
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    try:
        out = tuple(float(v) for v in pair)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 2 or not all(0.0 <= v <= 1.0 for v in out):
        raise ConfigError(where, name, value, "a fidelity in [0, 1], or a pair (node A, node B) of them")
    return out  # type: ignore[return-value]


@dataclass(frozen=True)
class LinkPurification:
    """One purification round on an elementary link before it joins the chain (module docstring).

    protocol: "dejmps" or "bbpssw" (:func:`qnet.repeater.purification.purify`). gate_fidelity,
    readout_fidelity: of the link's two end nodes (node A, node B), or one number for both.
    communication_time_s: t_c, the time the measurement bits travel (the link's fibre length / c).
    cutoff_s: a raw copy that would wait more than this many whole rounds is discarded
    (``inf``: no cutoff; :func:`qnet.quantum.waiting.cutoff_rounds`). twirl: BBPSSW re-twirls its
    output to Werner form (default True, :func:`qnet.repeater.purification.purify`; DEJMPS ignores it).
    """

    protocol: str = "dejmps"
    gate_fidelity: float | tuple[float, float] = 1.0
    readout_fidelity: float | tuple[float, float] = 1.0
    communication_time_s: float = 0.0
    cutoff_s: float = math.inf
    twirl: bool = True

    def __post_init__(self) -> None:
        from qnet.repeater.purification import PROTOCOLS

        proto = str(self.protocol).lower()
        if proto not in PROTOCOLS:
            raise ConfigError("purification", "protocol", self.protocol, f"one of {', '.join(PROTOCOLS)}")
        object.__setattr__(self, "protocol", proto)
        for name in ("gate_fidelity", "readout_fidelity"):
            object.__setattr__(self, name, _node_pair("purification", name, getattr(self, name)))
        t_c = float(self.communication_time_s)
        if not (t_c >= 0.0 and math.isfinite(t_c)):
            raise ConfigError("purification", "communication_time_s", self.communication_time_s, "a finite time >= 0 in seconds")
        object.__setattr__(self, "communication_time_s", t_c)
        c = float(self.cutoff_s)
        if not c > 0.0:
            raise ConfigError("purification", "cutoff_s", self.cutoff_s, "a time > 0 in seconds (inf: no cutoff)")
        object.__setattr__(self, "cutoff_s", c)
        if not isinstance(self.twirl, (bool, np.bool_)):
            raise ConfigError("purification", "twirl", self.twirl, "True or False")
        object.__setattr__(self, "twirl", bool(self.twirl))


#: Smallest per-attempt success probability a chain link may have: geometric waits of up to
#: ~40/p rounds (and sums of a few) must stay far below 2^63 (numpy saturates larger draws).
MIN_LINK_SUCCESS_PROBABILITY = 1e-15


@dataclass(frozen=True, eq=False)
class ChainLink:
    """One elementary link as the chain sees it (in path order, memory A toward the start).

    rho: 4x4 delivered state (memory A first, Pauli-frame corrected toward |Psi+>), including
    the storage during the herald (``storage_time_s``). success_probability: p per attempt.
    attempt_time_s: tau. memory_a / memory_b: :class:`MemoryDecay` or a tuple
    ``(t2_s, t1_s, decay)``. storage_time_s: ages (s) of memories A and B at the herald (a
    single number applies to both); needed to continue gaussian decay from the right age.
    purification: a :class:`LinkPurification` makes the link purify once before it joins the
    chain (Monte Carlo only); ``None`` (default): the raw link.
    """

    rho: np.ndarray
    success_probability: float
    attempt_time_s: float
    memory_a: MemoryDecay = field(default_factory=MemoryDecay)
    memory_b: MemoryDecay = field(default_factory=MemoryDecay)
    storage_time_s: float | tuple[float, float] = 0.0
    purification: LinkPurification | None = None

    def __post_init__(self) -> None:
        rho = np.array(self.rho, dtype=complex)
        if rho.shape != (4, 4) or not is_physical(rho, atol=1e-8):
            raise ConfigError("link", "rho", f"array of shape {rho.shape}", "a physical 4x4 density matrix")
        rho.setflags(write=False)
        object.__setattr__(self, "rho", rho)
        p = float(self.success_probability)
        if not MIN_LINK_SUCCESS_PROBABILITY <= p <= 1.0:
            raise ConfigError(
                "link", "success_probability", self.success_probability,
                f"a probability in [{MIN_LINK_SUCCESS_PROBABILITY:g}, 1]: chains count attempt rounds in 64-bit "
                "integers, and waits of ~1/p rounds would overflow them (shorten the link or raise its efficiencies)",
            )
        object.__setattr__(self, "success_probability", p)
        tau = float(self.attempt_time_s)
        if not (tau > 0.0 and math.isfinite(tau)):
            raise ConfigError("link", "attempt_time_s", self.attempt_time_s, "a finite time > 0 in seconds")
        object.__setattr__(self, "attempt_time_s", tau)
        object.__setattr__(self, "memory_a", _as_memory(self.memory_a))
        object.__setattr__(self, "memory_b", _as_memory(self.memory_b))
        st = self.storage_time_s
        ages = (float(st), float(st)) if np.ndim(st) == 0 else tuple(float(x) for x in st)  # type: ignore[union-attr]
        if len(ages) != 2 or not all(a >= 0.0 and math.isfinite(a) for a in ages):
            raise ConfigError("link", "storage_time_s", st, "ages >= 0 (s) of memories A and B at the herald")
        object.__setattr__(self, "storage_time_s", ages)
        if self.purification is not None and not isinstance(self.purification, LinkPurification):
            raise ConfigError("link", "purification", type(self.purification).__name__, "a LinkPurification or None")


@dataclass(frozen=True)
class RepeaterNode:
    """A repeater between two consecutive links.

    gate_fidelity, readout_fidelity: passed to ``swap_fn`` (1 = perfect). swap_time_s: duration
    of the swap (BSM + classical message). cutoff_s: a stored pair older than this is discarded
    (``inf``: no cutoff; must be > 0). memories: memories per adjacent link (>= 1).
    swap_success_probability: probability a swap succeeds (a failure loses both pairs).
    """

    gate_fidelity: float = 1.0
    readout_fidelity: float = 1.0
    swap_time_s: float = 0.0
    cutoff_s: float = math.inf
    memories: int = 1
    swap_success_probability: float = 1.0

    def __post_init__(self) -> None:
        for name in ("gate_fidelity", "readout_fidelity"):
            v = float(getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise ConfigError("repeater", name, getattr(self, name), "a fidelity in [0, 1]")
            object.__setattr__(self, name, v)
        a = float(self.swap_success_probability)
        if not 0.0 < a <= 1.0:
            raise ConfigError("repeater", "swap_success_probability", self.swap_success_probability, "a probability in (0, 1]")
        object.__setattr__(self, "swap_success_probability", a)
        d = float(self.swap_time_s)
        if not (d >= 0.0 and math.isfinite(d)):
            raise ConfigError("repeater", "swap_time_s", self.swap_time_s, "a finite time >= 0 in seconds")
        object.__setattr__(self, "swap_time_s", d)
        c = float(self.cutoff_s)
        if not c > 0.0:  # rejects 0, negatives and NaN
            raise ConfigError("repeater", "cutoff_s", self.cutoff_s, "a time > 0 in seconds (inf: no cutoff)")
        object.__setattr__(self, "cutoff_s", c)
        m = self.memories
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ConfigError("repeater", "memories", m, "an integer >= 1 (memories per adjacent link; a swap needs one on each side)")
        object.__setattr__(self, "memories", int(m))


@dataclass(frozen=True, eq=False)
class RepeaterChain:
    """Links in path order and the ``len(links) - 1`` repeaters between them.

    ``nodes=None`` puts a default (perfect, no cutoff) :class:`RepeaterNode` everywhere; a single
    node is repeated. ``swap_policy``: "asap" (default) or "nested" (needs 2^n links).
    ``end_memories``: memories the first and the last end user devote to their link (one
    number for both; default 1). A purified link needs 2 at each of its nodes.
    """

    links: tuple[ChainLink, ...]
    nodes: tuple[RepeaterNode, ...] | None = None
    swap_policy: str = "asap"
    end_memories: int | tuple[int, int] = 1

    def __post_init__(self) -> None:
        links = tuple(self.links)
        if not links:
            raise ConfigError("chain", "links", [], "at least one link")
        for i, link in enumerate(links):
            if not isinstance(link, ChainLink):
                raise ConfigError("chain", f"links[{i}]", type(link).__name__, "a ChainLink")
        nodes = self.nodes
        if nodes is None:
            nodes = (RepeaterNode(),) * (len(links) - 1)
        elif isinstance(nodes, RepeaterNode):
            nodes = (nodes,) * (len(links) - 1)
        nodes = tuple(nodes)
        if len(nodes) != len(links) - 1:
            raise ConfigError("chain", "nodes", f"{len(nodes)} nodes", f"exactly len(links) - 1 = {len(links) - 1} repeater nodes")
        for j, node in enumerate(nodes):
            if not isinstance(node, RepeaterNode):
                raise ConfigError("chain", f"nodes[{j}]", type(node).__name__, "a RepeaterNode")
        if self.swap_policy not in SWAP_POLICIES:
            raise ConfigError("chain", "swap_policy", self.swap_policy, f"one of {SWAP_POLICIES}")
        n = len(links)
        if self.swap_policy == "nested" and n & (n - 1):
            raise ConfigError("chain", "swap_policy", "nested", f"nested swapping needs 2^k links, got {n}")
        ends = _end_memories(self.end_memories)
        for i, link in enumerate(links):
            if link.purification is None:
                continue
            for j in (i, i + 1):
                if 1 <= j <= n - 1 and nodes[j - 1].memories < 2:
                    raise ConfigError(
                        "chain", f"nodes[{j - 1}].memories", nodes[j - 1].memories,
                        f"link {i} purifies: its repeaters need 2 memories per adjacent link (the two copies)",
                    )
                end = 0 if j == 0 else 1 if j == n else None
                if end is not None and ends[end] < 2:
                    raise ConfigError(
                        "chain", "end_memories", self.end_memories,
                        f"link {i} purifies: its end user needs 2 memories for it (the two copies)",
                    )
        object.__setattr__(self, "links", links)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "end_memories", ends)

    @property
    def n_links(self) -> int:
        return len(self.links)

    def node_at(self, boundary: int) -> RepeaterNode | None:
        """The repeater at boundary ``j`` (between links j-1 and j); ``None`` at the end users."""
        if 1 <= boundary <= self.n_links - 1:
            return self.nodes[boundary - 1]  # type: ignore[index]
        return None

    def memories_at(self, boundary: int) -> int:
        """Memories node ``boundary`` (0 = first end user, n_links = last) devotes to each of its links."""
        node = self.node_at(boundary)
        if node is not None:
            return node.memories
        return self.end_memories[0 if boundary == 0 else 1]  # type: ignore[index]

    def attempts_per_round(self, i: int) -> int:
        """Parallel attempts k of link ``i`` per round: the smaller of its two nodes' memories for it."""
        return attempts_per_round(self.memories_at(i), self.memories_at(i + 1))

    def success_per_round(self, i: int) -> float:
        """Probability that link ``i`` succeeds in a round: 1 - (1 - p)^k with k attempts."""
        return success_per_round(self.links[i].success_probability, self.attempts_per_round(i))


def _end_memories(value: Any) -> tuple[int, int]:
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(pair) != 2 or not all(not isinstance(m, bool) and isinstance(m, (int, np.integer)) and m >= 1 for m in pair):
        raise ConfigError("chain", "end_memories", value, "an integer >= 1, or a pair (first, last end user) of them")
    return int(pair[0]), int(pair[1])


# =========================================================================== results


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.inf
    return mean, se, _Z95 * se


@dataclass(frozen=True, eq=False)
class ChainMonteCarloResult:
    """Monte Carlo estimate for a chain (``method="monte_carlo"``).

    mean_fidelity: mean over deliveries of <Psi+|rho|Psi+>; fidelity_std: its sample standard
    deviation; mean_fidelity_stderr / mean_fidelity_ci: standard error and 95 % normal (CLT)
    interval of the mean. mean_completion_time_s: mean time between delivered pairs;
    rate_hz = 1 / mean_completion_time_s; rate_ci_hz: 95 % interval of the rate from the
    CLT interval of the mean completion time. mean_state: average delivered 4x4 state.
    """

    mean_fidelity: float
    fidelity_std: float
    mean_fidelity_stderr: float
    mean_fidelity_ci: tuple[float, float]
    rate_hz: float
    rate_ci_hz: tuple[float, float]
    mean_completion_time_s: float
    completion_time_stderr_s: float
    fidelity_samples: np.ndarray = field(repr=False)
    completion_time_samples_s: np.ndarray = field(repr=False)
    mean_state: np.ndarray = field(repr=False)
    samples: int = 0
    seed: int | None = None
    method: str = "monte_carlo"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no sample arrays)."""
        from qnet.link.results import json_number

        return {
            "method": self.method,
            "samples": self.samples,
            "mean_fidelity": json_number(self.mean_fidelity),
            "fidelity_std": json_number(self.fidelity_std),
            "mean_fidelity_ci": [json_number(x) for x in self.mean_fidelity_ci],
            "rate_hz": json_number(self.rate_hz),
            "rate_ci_hz": [json_number(x) for x in self.rate_ci_hz],
            "mean_completion_time_s": json_number(self.mean_completion_time_s),
        }


@dataclass(frozen=True, eq=False)
class ChainExactResult:
    """Exact result for a chain (``method="exact"``), up to the truncated tail.

    completion_time_pmf[k] = P(T = k * round_time_s) for k < len(pmf); tail_mass = 1 - sum
    (the part beyond the grid, <= the requested tolerance). mean_completion_time_s and
    mean_fidelity are computed from the captured mass (normalised by it).
    """

    mean_fidelity: float
    rate_hz: float
    mean_completion_time_s: float
    completion_time_pmf: np.ndarray = field(repr=False)
    round_time_s: float = 0.0
    tail_mass: float = 0.0
    mean_state: np.ndarray = field(default_factory=lambda: np.zeros((4, 4), complex), repr=False)
    method: str = "exact"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no PMF)."""
        from qnet.link.results import json_number

        return {
            "method": self.method,
            "mean_fidelity": json_number(self.mean_fidelity),
            "rate_hz": json_number(self.rate_hz),
            "mean_completion_time_s": json_number(self.mean_completion_time_s),
            "round_time_s": json_number(self.round_time_s),
            "tail_mass": json_number(self.tail_mass),
        }


# =========================================================================== small linear algebra


def _superop(kraus: Sequence[np.ndarray]) -> np.ndarray:
    """Superoperator of a Kraus set for row-major vec: vec(K rho K^+) = (K (x) conj K) vec(rho)."""
    return sum(np.kron(k, k.conj()) for k in kraus)


def _apply_pair(rho: np.ndarray, sa: np.ndarray | None, sb: np.ndarray | None) -> np.ndarray:
    """Apply per-sample single-memory superops ``sa`` (memory A) and ``sb`` (B) to (n,4,4) states."""
    n = rho.shape[0]
    r = rho.reshape(n, 2, 2, 2, 2)  # [n, a, b, a', b']
    if sa is not None:
        r = np.einsum("nxzac,nabcd->nxbzd", sa.reshape(n, 2, 2, 2, 2), r)
    if sb is not None:
        r = np.einsum("nywbd,nabcd->naycw", sb.reshape(n, 2, 2, 2, 2), r)
    return np.ascontiguousarray(r).reshape(n, 4, 4)


def _pair_superop(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """16x16 superop of (channel A on memory A) (x) (channel B on memory B), row-major vec."""
    s = np.einsum("xzac,ywbd->xyzwabcd", sa.reshape(2, 2, 2, 2), sb.reshape(2, 2, 2, 2))
    return s.reshape(16, 16)


def _storage_superop(mem: MemoryDecay, t_from_s: float, t_to_s: float) -> np.ndarray:
    """4x4 superop of one memory stored from age t_from to age t_to (``storage_kraus``)."""
    if not mem.decays or t_to_s <= t_from_s:
        return np.eye(4, dtype=complex)
    return _superop(storage_kraus(t_from_s, t_to_s, mem.t1_s, mem.t2_s, mem.decay))


def _eig_or_none(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Diagonalise a superop for fast powers; ``None`` if not safely diagonalisable."""
    lam, v = np.linalg.eig(d)
    if np.linalg.cond(v) > 1e8:
        return None
    vinv = np.linalg.inv(v)
    if np.abs(v @ np.diag(lam) @ vinv - d).max() > 1e-12 * max(1.0, np.abs(d).max()):
        return None
    return lam, v, vinv


def _powers_apply(d: np.ndarray, x: np.ndarray, kmax: int) -> np.ndarray:
    """[d^k x for k = 0..kmax] as an array (kmax+1, 16)."""
    eig = _eig_or_none(d)
    if eig is not None:
        lam, v, vinv = eig
        c = vinv @ x
        k = np.arange(kmax + 1)[:, None]
        return (np.power(lam[None, :], k) * c[None, :]) @ v.T
    out = np.empty((kmax + 1, x.shape[0]), dtype=complex)
    out[0] = x
    for k in range(1, kmax + 1):
        out[k] = d @ out[k - 1]
    return out


def _waiting_filter(d: np.ndarray, m: np.ndarray) -> np.ndarray:
    """W[0] = 0, W[t] = d (W[t-1] + m[t-1]) = sum_{k>=1} d^k m[t-k]: the earlier half's decayed mass.

    In d's eigenbasis every mode is a scalar convolution with lam^k, done with one FFT.
    """
    n = m.shape[0]
    eig = _eig_or_none(d)
    if eig is not None:
        lam, v, vinv = eig
        mt = m @ vinv.T  # modal coordinates
        k = np.arange(n, dtype=float)[:, None]
        kern = np.power(lam[None, :], k)
        kern[0] = 0.0
        size = 1 << int(math.ceil(math.log2(2 * n)))
        wt = np.fft.ifft(np.fft.fft(mt, size, axis=0) * np.fft.fft(kern, size, axis=0), axis=0)[:n]
        return wt @ v.T
    w = np.zeros_like(m)
    for t in range(1, n):
        w[t] = d @ (w[t - 1] + m[t - 1])
    return w


# =========================================================================== swap plumbing


def _default_swap_fn() -> SwapFn:
    from qnet.repeater.swapping import swap

    return swap


def _swap_batch(swap_fn: SwapFn, left: np.ndarray, right: np.ndarray, g: float, r: float) -> np.ndarray:
    """Swap stacks (n,4,4) through ``swap_fn``; falls back to one call per pair if it cannot batch."""
    out = None
    try:
        out = np.asarray(swap_fn(left, right, gate_fidelity=g, readout_fidelity=r))
    except (TypeError, ValueError):
        out = None
    if out is None or out.shape != left.shape:
        out = np.stack([np.asarray(swap_fn(a, b, gate_fidelity=g, readout_fidelity=r)) for a, b in zip(left, right)])
    return out


def _product_basis() -> np.ndarray:
    """16 physical product states that span the 4x4 matrices (tomographically complete)."""
    s = 1 / math.sqrt(2)
    kets = [np.array([1, 0]), np.array([0, 1]), np.array([s, s]), np.array([s, 1j * s])]
    singles = [np.outer(k, k.conj()).astype(complex) for k in kets]
    return np.array([np.kron(a, b) for a in singles for b in singles])


def _swap_tensor(swap_fn: SwapFn, g: float, r: float) -> np.ndarray:
    """Bilinear tensor T with vec(swap(X, Y)) = T[o,u,v] vec(X)_u vec(Y)_v, extracted from swap_fn.

    Evaluates ``swap_fn`` on the 256 products of a basis of physical states, so it works for any
    swap that is a quantum channel on the two pairs (linear), and then checks the tensor against
    ``swap_fn`` on random states.
    """
    basis = _product_basis()
    left = np.repeat(basis, 16, axis=0)
    right = np.tile(basis, (16, 1, 1))
    out = _swap_batch(swap_fn, left, right, g, r).reshape(16, 16, 16)  # [i, j, o]
    vinv = np.linalg.inv(basis.reshape(16, 16).T)  # coefficients of vec(X) in the basis
    t = np.einsum("ijo,iu,jv->ouv", out, vinv, vinv)
    rng = np.random.default_rng(12345)
    tests = []
    for _ in range(2):
        gm = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        x = gm @ gm.conj().T
        tests.append(x / np.trace(x))
    direct = _swap_batch(swap_fn, np.array(tests[:1]), np.array(tests[1:]), g, r)[0]
    via = np.einsum("ouv,u,v->o", t, tests[0].ravel(), tests[1].ravel()).reshape(4, 4)
    if np.abs(direct - via).max() > 1e-9:
        raise QnetError("swap_fn is not linear in each input pair; exact mode needs a quantum-channel swap")
    return t


def _bilinear(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows of B(x, y) for stacks x, y of shape (n, 16)."""
    tx = (x @ t.transpose(1, 0, 2).reshape(16, 256)).reshape(-1, 16, 16)  # [n, o, v]
    return np.matmul(tx, y[:, :, None])[:, :, 0]


def _fidelity_rows(rho: np.ndarray) -> np.ndarray:
    """<Psi+|rho|Psi+> for a stack (n,4,4)."""
    v = _PSI_PLUS
    return np.real(np.einsum("i,nij,j->n", v.conj(), rho, v))


# =========================================================================== Monte Carlo

_HERALD, _SWAP_DONE, _CUTOFF = 0, 1, 2


class _Seg:
    """A pair (segment of links lo..hi-1) that exists or is being made by a swap."""

    __slots__ = ("lo", "hi", "avail", "tree", "busy", "ok")

    def __init__(self, lo: int, hi: int, avail: float, tree: tuple, busy: bool = False, ok: bool = True):
        self.lo, self.hi, self.avail, self.tree, self.busy, self.ok = lo, hi, avail, tree, busy, ok


_MAX_PURIFY_ROUNDS = 2**22  # waiting times tabulated per purified link (as qnet.repeater.link_purification)
_MAX_TRIALS = 10_000_000  # purification trials of one link before giving up


class _GeometricSource:
    """A raw link: the pair exists after Geom(p) rounds of tau; every leaf is ``rho`` (id 0)."""

    def __init__(self, link: ChainLink, p: float):
        self.p, self.tau = p, link.attempt_time_s
        self.states = link.rho[None]
        self.age_shift = 0.0

    def sample(self, rng: np.random.Generator, t0: float) -> tuple[float, int]:
        return t0 + int(rng.geometric(self.p)) * self.tau, 0


class _PurifiedSource:
    """A purified link (module docstring): samples (success time, D); leaf id D -> rho_out(D).

    p_pur(D) and rho_out(D) (after the t_c of the bits) are tabulated in batches, D = 0..n-1,
    the table doubling when a longer wait is drawn; identical links share one source.
    """

    def __init__(self, link: ChainLink):
        pur = link.purification
        assert pur is not None
        self.link, self.pur = link, pur
        self.p, self.tau, self.t_c = link.success_probability, link.attempt_time_s, pur.communication_time_s
        self.cut = cutoff_rounds(pur.cutoff_s, self.tau)
        self.age_shift = self.t_c
        if self.cut is not None:
            self.cap = self.cut + 1
        elif self.p >= 1.0:
            self.cap = 1
        else:
            self.cap = _MAX_PURIFY_ROUNDS
        self.p_pur = np.zeros(0)
        self.states = np.zeros((0, 4, 4), dtype=complex)
        self._extend(min(self.cap, 1024))
        if not self.p_pur.max() > 0.0:
            raise QnetError(f"{pur.protocol} purification never succeeds on this link (success probability 0)")

    def _extend(self, n_new: int) -> None:
        from qnet.repeater.link_purification import purification_table

        link, pur = self.link, self.pur
        mems = tuple((m.t1_s, m.t2_s, m.decay) for m in (link.memory_a, link.memory_b))
        p_pur, out = purification_table(
            link.rho, np.arange(len(self.p_pur), n_new), self.tau, link.storage_time_s, mems, pur.protocol,
            pur.gate_fidelity, pur.readout_fidelity, self.t_c, pur.twirl,
        )
        self.p_pur = np.concatenate([self.p_pur, p_pur])
        self.states = np.concatenate([self.states, out])

    def _ensure(self, d: int) -> None:
        if d >= self.cap:
            raise QnetError(
                f"a purified link (p = {self.p:.3g} per attempt) drew a waiting time of {d:,} rounds; "
                "set a cutoff on its nodes to bound it"
            )
        n = len(self.p_pur)
        while n <= d:
            n *= 2
        self._extend(min(n, self.cap))

    def sample(self, rng: np.random.Generator, t0: float) -> tuple[float, int]:
        p, c, t = self.p, self.cut, t0
        for _ in range(_MAX_TRIALS):
            if p >= 1.0:
                x = y = 1
            else:
                x, y = int(rng.geometric(p)), int(rng.geometric(p))
                if c is not None:  # the earlier copy is discarded after c rounds and restarts
                    while abs(x - y) > c:
                        if x < y:
                            x += c + int(rng.geometric(p))
                        else:
                            y += c + int(rng.geometric(p))
            d = abs(x - y)
            t += max(x, y) * self.tau + self.t_c
            if d >= len(self.p_pur):
                self._ensure(d)
            if rng.random() < self.p_pur[d]:
                return t, d
        raise QnetError(f"a purified link failed {_MAX_TRIALS:,} purification trials in a row")


def _link_sources(chain: RepeaterChain) -> list[_GeometricSource | _PurifiedSource] | None:
    """Per-link samplers, or ``None`` when every link is raw (the engine's vectorised path)."""
    if all(link.purification is None for link in chain.links):
        return None
    shared: dict[tuple, _PurifiedSource] = {}
    out: list[_GeometricSource | _PurifiedSource] = []
    for i, link in enumerate(chain.links):
        if link.purification is None:
            out.append(_GeometricSource(link, chain.success_per_round(i)))
            continue
        key = (link.rho.tobytes(), link.success_probability, link.attempt_time_s, link.memory_a, link.memory_b,
               link.storage_time_s, link.purification)
        if key not in shared:
            shared[key] = _PurifiedSource(link)
        out.append(shared[key])
    return out


class _Engine:
    """Discrete-event simulation of one chain; one call of :meth:`deliver` = one delivered pair.

    ``sources``: per-link samplers of (time the pair exists, leaf id) (:func:`_link_sources`);
    ``None``: every link is geometric and is drawn vectorised.
    """

    def __init__(self, chain: RepeaterChain, rng: np.random.Generator, max_events: int, sources: list | None = None):
        n = chain.n_links
        self.n = n
        self.rng = rng
        self.max_events = max_events
        self.sources = sources
        self.tau = [link.attempt_time_s for link in chain.links]
        self.p = np.array([chain.success_per_round(i) for i in range(n)])
        self.nested = chain.swap_policy == "nested"
        cut = [math.inf] * (n + 1)
        a = [1.0] * (n + 1)
        d = [0.0] * (n + 1)
        for j in range(1, n):
            node = chain.node_at(j)
            assert node is not None
            cut[j], a[j], d[j] = node.cutoff_s, node.swap_success_probability, node.swap_time_s
        self.cut, self.a, self.d = cut, a, d
        self.atol = TIME_RTOL * min(self.tau)

    def deliver(self) -> tuple[float, tuple]:
        n, rng, tau = self.n, self.rng, self.tau
        heap: list[tuple] = []
        seq = 0
        sources = self.sources
        if sources is None:
            g = rng.geometric(self.p)
            for i in range(n):
                heap.append((g[i] * tau[i], _HERALD, seq, i, 0))
                seq += 1
        else:
            for i in range(n):
                t, sid = sources[i].sample(rng, 0.0)
                heap.append((t, _HERALD, seq, i, sid))
                seq += 1
        heapq.heapify(heap)
        by_lo: list[_Seg | None] = [None] * (n + 1)
        by_hi: list[_Seg | None] = [None] * (n + 1)
        cut, a, d, nested = self.cut, self.a, self.d, self.nested
        events = 0

        def restart(lo: int, hi: int, t: float) -> None:
            nonlocal seq
            if sources is None:
                gg = rng.geometric(self.p[lo:hi])
                for i in range(lo, hi):
                    heapq.heappush(heap, (t + gg[i - lo] * tau[i], _HERALD, seq, i, 0))
                    seq += 1
            else:
                for i in range(lo, hi):
                    ti, sid = sources[i].sample(rng, t)
                    heapq.heappush(heap, (ti, _HERALD, seq, i, sid))
                    seq += 1

        def place(seg: _Seg) -> None:
            by_lo[seg.lo] = seg
            by_hi[seg.hi] = seg

        def remove(seg: _Seg) -> None:
            if by_lo[seg.lo] is seg:
                by_lo[seg.lo] = None
            if by_hi[seg.hi] is seg:
                by_hi[seg.hi] = None

        def available(seg: _Seg, dirty: list[int]) -> None:
            """seg now exists: mark its ends for swapping, arm its cutoff."""
            nonlocal seq
            heapq.heappush(dirty, seg.lo)
            heapq.heappush(dirty, seg.hi)
            c = min(cut[seg.lo], cut[seg.hi])
            if c < math.inf:
                heapq.heappush(heap, (seg.avail + c, _CUTOFF, seq, seg))
                seq += 1

        while True:
            t0 = heap[0][0]
            lim = t0 + TIME_RTOL * abs(t0) + self.atol
            batch = []
            while heap and heap[0][0] <= lim:
                batch.append(heapq.heappop(heap))
            events += len(batch)
            if events > self.max_events:
                raise QnetError(
                    f"no end-to-end pair after {self.max_events} events (t = {t0:.6g} s): the chain "
                    "practically never delivers (cutoffs too short?); raise max_events to insist"
                )
            batch.sort(key=lambda e: (e[1], e[0], e[2]))
            dirty: list[int] = []
            cutoffs = []
            for ev in batch:
                kind = ev[1]
                if kind == _HERALD:
                    i = ev[3]
                    seg = _Seg(i, i + 1, ev[0], (i, ev[0], ev[4]))  # leaf: (link, time it exists, leaf id)
                    place(seg)
                    available(seg, dirty)
                elif kind == _SWAP_DONE:
                    seg = ev[3]
                    if seg.ok:
                        seg.busy = False
                        available(seg, dirty)
                    else:
                        remove(seg)
                        restart(seg.lo, seg.hi, ev[0])
                else:
                    cutoffs.append(ev)
            # swaps, left to right, as long as any is possible
            while dirty:
                j = heapq.heappop(dirty)
                if j <= 0 or j >= n:
                    continue
                left, right = by_hi[j], by_lo[j]
                if left is None or right is None or left.busy or right.busy:
                    continue
                if nested and not (left.hi - left.lo == right.hi - right.lo and left.lo % (2 * (left.hi - left.lo)) == 0):
                    continue
                ts = max(left.avail, right.avail)
                ok = a[j] >= 1.0 or rng.random() < a[j]
                remove(left)
                remove(right)
                done = ts + d[j]
                new = _Seg(left.lo, right.hi, done, (j, ts, done, left.tree, right.tree), busy=True, ok=ok)
                if d[j] > 0.0:
                    place(new)
                    heapq.heappush(heap, (done, _SWAP_DONE, seq, new))
                    seq += 1
                elif ok:
                    new.busy = False
                    place(new)
                    available(new, dirty)
                else:
                    restart(new.lo, new.hi, done)
            full = by_lo[0]
            if full is not None and full.hi == n and not full.busy:
                return full.avail, full.tree
            for ev in cutoffs:
                seg = ev[3]
                if by_lo[seg.lo] is seg and not seg.busy:
                    remove(seg)
                    restart(seg.lo, seg.hi, ev[0])


class _TreeStates:
    """Evaluates the delivered states of many recorded trees together, level by level."""

    def __init__(self, chain: RepeaterChain, swap_fn: SwapFn, sources: list | None = None):
        self.chain = chain
        self.swap_fn = swap_fn
        specs: list[MemoryDecay] = []
        ids: dict[MemoryDecay, int] = {}

        def sid(m: MemoryDecay) -> int:
            if m not in ids:
                ids[m] = len(specs)
                specs.append(m)
            return ids[m]

        links = chain.links
        self.specs = specs
        self.mem_a = np.array([sid(link.memory_a) for link in links])
        self.mem_b = np.array([sid(link.memory_b) for link in links])
        self.age_a = np.array([link.storage_time_s[0] for link in links])  # type: ignore[index]
        self.age_b = np.array([link.storage_time_s[1] for link in links])  # type: ignore[index]
        self.rho = np.array([link.rho for link in links])
        # leaf states: link i's leaf id k is tables[link_table[i]][k] (sources shared by identical links)
        self.tables: list[np.ndarray] | None = None
        if sources is not None:
            uniq: dict[int, int] = {}
            for src in sources:
                uniq.setdefault(id(src), len(uniq))
            self.tables = [None] * len(uniq)  # type: ignore[list-item]
            for src in sources:
                self.tables[uniq[id(src)]] = src.states
            self.link_table = np.array([uniq[id(src)] for src in sources])
            # a purified pair exists t_c after its herald: its memories are that much older
            shift = np.array([src.age_shift for src in sources])
            self.age_a = self.age_a + shift
            self.age_b = self.age_b + shift
        self.any_decay = any(m.decays for m in specs)
        # times are keyed on a grid this fine (for the channel cache only)
        self.quantum = 1e-9 * min(link.attempt_time_s for link in links)
        self.cache: dict[tuple, np.ndarray] = {}
        groups: dict[tuple[float, float], int] = {}
        self.node_group = np.zeros(chain.n_links + 1, dtype=int)
        self.group_params: list[tuple[float, float]] = []
        for j in range(1, chain.n_links):
            node = chain.node_at(j)
            assert node is not None
            key = (node.gate_fidelity, node.readout_fidelity)
            if key not in groups:
                groups[key] = len(self.group_params)
                self.group_params.append(key)
            self.node_group[j] = groups[key]

    def _superops(self, mem: np.ndarray, t_from: np.ndarray, t_to: np.ndarray) -> np.ndarray | None:
        n = len(mem)
        out = np.empty((n, 4, 4), dtype=complex)
        out[:] = np.eye(4)
        anything = False
        t_to = np.maximum(t_to, t_from)
        for m in np.unique(mem):
            spec = self.specs[m]
            if not spec.decays:
                continue
            sel = np.flatnonzero(mem == m)
            if spec.semigroup:
                keys = np.round((t_to[sel] - t_from[sel]) / self.quantum)[:, None]
            else:
                keys = np.stack([np.round(t_from[sel] / self.quantum), np.round(t_to[sel] / self.quantum)], axis=1)
            uniq, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
            mats = np.empty((len(uniq), 4, 4), dtype=complex)
            for u in range(len(uniq)):
                ck = (int(m),) + tuple(uniq[u])
                s = self.cache.get(ck)
                if s is None:
                    k = sel[first[u]]
                    if spec.semigroup:
                        s = _storage_superop(spec, 0.0, float(t_to[k] - t_from[k]))
                    else:
                        s = _storage_superop(spec, float(t_from[k]), float(t_to[k]))
                    self.cache[ck] = s
                mats[u] = s
            out[sel] = mats[inv.ravel()]
            anything = True
        return out if anything else None

    def decay(self, states, lo, hi, h_a, h_b, t_from, t_to) -> np.ndarray:
        """Store segments (outer memories: A of link lo, B of link hi) from t_from to t_to."""
        if not self.any_decay or len(states) == 0:
            return states
        age_a = self.age_a[lo] - h_a
        age_b = self.age_b[hi] - h_b
        sa = self._superops(self.mem_a[lo], age_a + t_from, age_a + t_to)
        sb = self._superops(self.mem_b[hi], age_b + t_from, age_b + t_to)
        if sa is None and sb is None:
            return states
        return _apply_pair(states, sa, sb)

    def evaluate(self, trees: list[tuple]) -> np.ndarray:
        """Delivered 4x4 states of the recorded trees (one per delivery), shape (len(trees), 4, 4)."""
        kind: list[int] = []
        idx: list[int] = []
        left: list[int] = []
        right: list[int] = []
        t_state: list[float] = []
        t_done: list[float] = []
        lo: list[int] = []
        hi: list[int] = []
        h_a: list[float] = []
        h_b: list[float] = []
        height: list[int] = []
        roots: list[int] = []
        sid: list[int] = []
        for tree in trees:
            stack: list[tuple[tuple, bool]] = [(tree, False)]
            out: list[int] = []
            while stack:
                node, expanded = stack.pop()
                if len(node) == 3:  # leaf (link, time the pair exists, leaf id)
                    i, h, k = node
                    out.append(len(kind))
                    sid.append(k)
                    kind.append(0), idx.append(i), left.append(-1), right.append(-1)
                    t_state.append(h), t_done.append(h), lo.append(i), hi.append(i)
                    h_a.append(h), h_b.append(h), height.append(0)
                elif not expanded:
                    stack.append((node, True))
                    stack.append((node[4], False))
                    stack.append((node[3], False))
                else:
                    r_id = out.pop()
                    l_id = out.pop()
                    out.append(len(kind))
                    sid.append(0)
                    kind.append(1), idx.append(node[0]), left.append(l_id), right.append(r_id)
                    t_state.append(node[1]), t_done.append(node[2]), lo.append(lo[l_id]), hi.append(hi[r_id])
                    h_a.append(h_a[l_id]), h_b.append(h_b[r_id]), height.append(1 + max(height[l_id], height[r_id]))
            roots.append(out.pop())
        idx_a = np.array(idx)
        left_a, right_a = np.array(left), np.array(right)
        ts_a, td_a = np.array(t_state), np.array(t_done)
        lo_a, hi_a = np.array(lo), np.array(hi)
        ha_a, hb_a = np.array(h_a), np.array(h_b)
        height_a = np.array(height)
        states = np.empty((len(kind), 4, 4), dtype=complex)
        leaves = np.flatnonzero(height_a == 0)
        if self.tables is None:
            states[leaves] = self.rho[idx_a[leaves]]
        else:
            sid_a = np.array(sid)[leaves]
            tab = self.link_table[idx_a[leaves]]
            for u in np.unique(tab):
                sel = np.flatnonzero(tab == u)
                states[leaves[sel]] = self.tables[u][sid_a[sel]]
        order = np.argsort(height_a, kind="stable")
        bounds = np.searchsorted(height_a[order], np.arange(height_a.max() + 2))
        for hgt in range(1, height_a.max() + 1):
            ids = order[bounds[hgt] : bounds[hgt + 1]]
            lc, rc, ts = left_a[ids], right_a[ids], ts_a[ids]
            ls = self.decay(states[lc], lo_a[lc], hi_a[lc], ha_a[lc], hb_a[lc], ts_a[lc], ts)
            rs = self.decay(states[rc], lo_a[rc], hi_a[rc], ha_a[rc], hb_a[rc], ts_a[rc], ts)
            grp = self.node_group[idx_a[ids]]
            for gi in np.unique(grp):
                sel = np.flatnonzero(grp == gi)
                gf, rf = self.group_params[gi]
                states[ids[sel]] = _swap_batch(self.swap_fn, ls[sel], rs[sel], gf, rf)
        r = np.array(roots)
        return self.decay(states[r], lo_a[r], hi_a[r], ha_a[r], hb_a[r], ts_a[r], td_a[r])


def simulate_chain(
    chain: RepeaterChain,
    samples: int = 1000,
    *,
    seed: int | np.random.Generator | None = None,
    swap_fn: SwapFn | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_events: int = 10_000_000,
) -> ChainMonteCarloResult:
    """Monte Carlo of ``samples`` end-to-end deliveries (each from a fresh start of every link).

    seed: an int (or a numpy Generator) makes the run reproducible. swap_fn(rho_left,
    rho_right, gate_fidelity=, readout_fidelity=) -> 4x4 (stacks (n,4,4) -> (n,4,4) are used
    when supported); default :func:`qnet.repeater.swapping.swap`. progress(done, total) is called after
    every delivery. max_events bounds the events of one delivery (guards against chains whose
    cutoffs make delivery practically impossible).
    """
    if not isinstance(chain, RepeaterChain):
        raise ConfigError("simulate_chain", "chain", type(chain).__name__, "a RepeaterChain")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise ConfigError("simulate_chain", "samples", samples, "an integer >= 2")
    samples = int(samples)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    swap_fn = _default_swap_fn() if swap_fn is None else swap_fn
    sources = _link_sources(chain)
    engine = _Engine(chain, rng, max_events, sources)
    times = np.empty(samples)
    trees: list[tuple] = []
    for s in range(samples):
        times[s], tree = engine.deliver()
        trees.append(tree)
        if progress is not None:
            progress(s + 1, samples)
    states = _TreeStates(chain, swap_fn, sources).evaluate(trees)
    fids = _fidelity_rows(states)
    f_mean, f_se, f_hw = _mean_ci(fids)
    t_mean, t_se, t_hw = _mean_ci(times)
    lo_t, hi_t = t_mean - t_hw, t_mean + t_hw
    rate_ci = (1.0 / hi_t, 1.0 / lo_t if lo_t > 0 else math.inf)
    fids.setflags(write=False)
    times.setflags(write=False)
    return ChainMonteCarloResult(
        mean_fidelity=f_mean,
        fidelity_std=float(np.std(fids, ddof=1)),
        mean_fidelity_stderr=f_se,
        mean_fidelity_ci=(f_mean - f_hw, f_mean + f_hw),
        rate_hz=1.0 / t_mean,
        rate_ci_hz=rate_ci,
        mean_completion_time_s=t_mean,
        completion_time_stderr_s=t_se,
        fidelity_samples=fids,
        completion_time_samples_s=times,
        mean_state=states.mean(axis=0),
        samples=samples,
        seed=seed if isinstance(seed, (int, np.integer)) else None,
    )


# =========================================================================== exact mode


def _unsupported(why: str) -> QnetError:
    return QnetError(f"exact mode is not available for this chain: {why}; use simulate_chain (Monte Carlo)")


def _rounds_of(time_s: float, tau: float, what: str) -> int:
    m = round(time_s / tau)
    if abs(time_s - m * tau) > TIME_RTOL * max(time_s, tau):
        raise _unsupported(f"{what} = {time_s!r} s is not a whole number of attempt rounds ({tau!r} s)")
    return int(m)


def _tr(vecs: np.ndarray) -> np.ndarray:
    """Traces of row-major vectorised 4x4 matrices (n, 16)."""
    return np.real(vecs[:, 0] + vecs[:, 5] + vecs[:, 10] + vecs[:, 15])


def _finish_exact(m: np.ndarray, tau: float) -> ChainExactResult:
    pmf = _tr(m)
    mass = float(pmf.sum())
    mean_rounds = float(np.dot(np.arange(len(pmf)), pmf) / mass)
    state = (m.sum(axis=0) / mass).reshape(4, 4)
    state = (state + state.conj().T) / 2
    pmf.setflags(write=False)
    return ChainExactResult(
        mean_fidelity=float(np.real(_PSI_PLUS.conj() @ state @ _PSI_PLUS)),
        rate_hz=1.0 / (mean_rounds * tau),
        mean_completion_time_s=mean_rounds * tau,
        completion_time_pmf=pmf,
        round_time_s=tau,
        tail_mass=max(0.0, 1.0 - mass),
        mean_state=state,
    )


def _initial_rounds(p: float, tol: float, extra: int, max_rounds: int) -> int:
    """First grid length: one link's tail below ``tol``; refused up front beyond ``max_rounds``.

    The grid holds a 4x4 state per round, so this bounds the memory before anything is allocated.
    """
    if p >= 1.0:
        n = 4 + extra
    else:
        n = math.ceil(math.log(tol) / math.log1p(-p)) + extra + 4 if p > 0.0 else math.inf
    if n > max_rounds:
        raise QnetError(
            f"exact mode would need about {n:.3g} rounds (success probability {p:.3g} per round), more than "
            f"max_rounds = {max_rounds} ({max_rounds * 256 / 2**20:.0f} MiB per state grid); use simulate_chain (Monte Carlo)"
        )
    return min(1 << max(4, int(math.ceil(math.log2(n)))), max(int(n), max_rounds))


def _link_series(p: float, rho_vec: np.ndarray, n: int) -> np.ndarray:
    """State-valued PMF of one link: M[t] = p (1-p)^(t-1) rho for t >= 1."""
    t = np.arange(n, dtype=float)
    w = np.zeros(n)
    w[1:] = p * np.power(1.0 - p, t[1:] - 1.0)
    return w[:, None] * rho_vec[None, :]


def _exact_two_links(chain: RepeaterChain, swap_fn: SwapFn, n: int, tensor_cache: dict) -> np.ndarray:
    """State-valued completion PMF (n, 16) of a two-link chain (any decay law, cutoff allowed).

    Renewal argument: from a fresh start both links attempt; at the first round u in which
    at least one succeeds either both did (swap at once), or one pair waits while the other
    link (memoryless) keeps trying: it succeeds k <= c rounds later (swap with the waiting pair
    decayed k rounds) or the pair is discarded after c rounds, which is a fresh start. A failed
    swap is a fresh start too. R = S + K * R with S the successful attempts and K the restarts.
    """
    l1, l2 = chain.links
    node = chain.node_at(1)
    assert node is not None
    tau = l1.attempt_time_s
    p1, p2 = chain.success_per_round(0), chain.success_per_round(1)
    q1, q2 = 1.0 - p1, 1.0 - p2
    a = node.swap_success_probability
    m_sw = _rounds_of(node.swap_time_s, tau, "swap_time_s")
    c = None if math.isinf(node.cutoff_s) else _rounds_of(node.cutoff_s, tau, "cutoff_s")
    kmax = n - 1 if c is None else min(c, n - 1)
    key = (node.gate_fidelity, node.readout_fidelity)
    if key not in tensor_cache:
        tensor_cache[key] = _swap_tensor(swap_fn, *key)
    tens = tensor_cache[key]
    ks = np.arange(kmax + 1)
    (s1a, s1b), (s2a, s2b) = l1.storage_time_s, l2.storage_time_s  # type: ignore[misc]

    def waited(link: ChainLink, s_a: float, s_b: float) -> np.ndarray:
        """vec of the link's pair after waiting k = 0..kmax rounds, (kmax+1, 16)."""
        rv = link.rho.ravel()
        if link.memory_a.semigroup and link.memory_b.semigroup:
            d1 = _pair_superop(_storage_superop(link.memory_a, 0.0, tau), _storage_superop(link.memory_b, 0.0, tau))
            return _powers_apply(d1, rv, kmax)
        sa = np.array([_storage_superop(link.memory_a, s_a, s_a + k * tau) for k in ks])
        sb = np.array([_storage_superop(link.memory_b, s_b, s_b + k * tau) for k in ks])
        return _apply_pair(np.repeat(link.rho[None], kmax + 1, axis=0), sa, sb).reshape(-1, 16)

    def swap_time_decay(states: np.ndarray, age_a: np.ndarray, age_b: np.ndarray) -> np.ndarray:
        """Outer memories (A of link 1, B of link 2) decay during the swap time."""
        if m_sw == 0:
            return states
        d = m_sw * tau
        if l1.memory_a.semigroup and l2.memory_b.semigroup:
            dd = _pair_superop(_storage_superop(l1.memory_a, 0.0, d), _storage_superop(l2.memory_b, 0.0, d))
            return states @ dd.T
        sa = np.array([_storage_superop(l1.memory_a, x, x + d) for x in age_a])
        sb = np.array([_storage_superop(l2.memory_b, y, y + d) for y in age_b])
        return _apply_pair(states.reshape(-1, 4, 4), sa, sb).reshape(-1, 16)

    w1 = waited(l1, s1a, s1b)  # link 1's pair waited k rounds
    w2 = waited(l2, s2a, s2b)
    r1 = np.repeat(l1.rho.ravel()[None], kmax + 1, axis=0)
    r2 = np.repeat(l2.rho.ravel()[None], kmax + 1, axis=0)
    first_wait = swap_time_decay(_bilinear(tens, w1, r2), s1a + ks * tau, np.full(kmax + 1, s2b))
    second_wait = swap_time_decay(_bilinear(tens, r1, w2), np.full(kmax + 1, s1a), s2b + ks * tau)
    # probability weights by offset k (rounds after the first success round u)
    w_first = np.zeros(kmax + 1)  # link 1 first, link 2 k rounds later
    w_second = np.zeros(kmax + 1)
    w_first[1:] = p1 * q2 * np.power(q2, ks[1:] - 1.0) * p2
    w_second[1:] = q1 * p2 * np.power(q1, ks[1:] - 1.0) * p1
    offsets = w_first[:, None] * first_wait + w_second[:, None] * second_wait
    offsets[0] = p1 * p2 * first_wait[0]  # both in the same round: no wait
    # shift by the swap time and spread over the first-success round u >= 1: G[u] = (q1 q2)^(u-1)
    shifted = np.zeros((n, 16), dtype=complex)
    top = min(n - m_sw, kmax + 1)
    if top > 0:
        shifted[m_sw : m_sw + top] = offsets[:top]
    g = np.zeros(n)
    g[1:] = np.power(q1 * q2, np.arange(n - 1, dtype=float))
    attempt = convolve(shifted, g, n)
    success = a * attempt
    restart = np.zeros(n)
    if c is not None and c < n:
        disc = np.zeros(n)
        disc[c] = p1 * q2 * q2**c + q1 * p2 * q1**c  # the waiting pair is discarded after c rounds
        restart += convolve(disc, g, n)
    if a < 1.0:
        restart += (1.0 - a) * _tr(attempt)
    if restart.any():
        return renewal(success, restart)
    return success


def _exact_nested(chain: RepeaterChain, swap_fn: SwapFn, n: int, tensor_cache: dict) -> np.ndarray:
    """State-valued completion PMF (n, 16) of a nested 2^k chain of identical links (exponential).

    Level by level (Brand-Coopmans-Elkouss with states): both halves have state-valued PMF M;
    W(t) = sum_{k>=1} D^k M(t-k) is the earlier half's mass decayed to t (D = one round of storage
    of a pair, a semigroup), so the swap attempt completing at t + m carries
    D^m [B(W(t), M(t)) + B(M(t), W(t)) + B(M(t), M(t))]; a failed swap (prob 1 - a) restarts both
    halves: M' = a A + (1 - a) tr(A) * M'.
    """
    link = chain.links[0]
    tau = link.attempt_time_s
    levels = int(round(math.log2(chain.n_links)))
    d1 = _pair_superop(_storage_superop(link.memory_a, 0.0, tau), _storage_superop(link.memory_b, 0.0, tau))
    m = _link_series(chain.success_per_round(0), link.rho.ravel(), n)
    for lev in range(levels):
        size = 1 << lev
        node = chain.node_at(size)
        assert node is not None
        a = node.swap_success_probability
        m_sw = _rounds_of(node.swap_time_s, tau, "swap_time_s")
        key = (node.gate_fidelity, node.readout_fidelity)
        if key not in tensor_cache:
            tensor_cache[key] = _swap_tensor(swap_fn, *key)
        tens = tensor_cache[key]
        w = _waiting_filter(d1, m)
        pre = _bilinear(tens, w, m) + _bilinear(tens, m, w) + _bilinear(tens, m, m)
        if m_sw:
            pre = pre @ np.linalg.matrix_power(d1, m_sw).T
        attempt = np.zeros_like(pre)
        if m_sw < n:
            attempt[m_sw:] = pre[: n - m_sw]
        m = attempt if a >= 1.0 else renewal(a * attempt, (1.0 - a) * _tr(attempt))
    return m


def _check_exact_supported(chain: RepeaterChain) -> str:
    """Which exact algorithm applies ("one", "two", "nested"); raise ValueError if none does."""
    links, n = chain.links, chain.n_links
    for i, link in enumerate(links):
        if link.purification is not None:
            raise _unsupported(
                f"link {i} purifies before swapping (its time is a sum of purification trials, not "
                "geometric on the round grid)"
            )
    if n == 1:
        return "one"
    tau = links[0].attempt_time_s
    for i, link in enumerate(links):
        if abs(link.attempt_time_s - tau) > TIME_RTOL * tau:
            raise _unsupported(f"links attempt in rounds of different lengths (link 0: {tau!r} s, link {i}: {link.attempt_time_s!r} s)")
    for j in range(1, n):
        node = chain.node_at(j)
        assert node is not None
        _rounds_of(node.swap_time_s, tau, f"nodes[{j - 1}].swap_time_s")
        if math.isfinite(node.cutoff_s):
            # a discard off the round grid restarts the link mid-round: the links leave lockstep
            _rounds_of(node.cutoff_s, tau, f"nodes[{j - 1}].cutoff_s")
    if n == 2:
        return "two"
    if chain.swap_policy != "nested":
        raise _unsupported(
            f"swap-as-soon-as-possible on {n} links makes the delivered state depend on the order of "
            "heralds (no state recursion); exact mode covers 1 or 2 links, or swap_policy='nested' on 2^k links"
        )
    for j in range(1, n):
        node = chain.node_at(j)
        assert node is not None
        if math.isfinite(node.cutoff_s):
            raise _unsupported(f"cutoffs are exact only for 2 links (nodes[{j - 1}].cutoff_s = {node.cutoff_s!r} s on {n} links)")
    l0 = links[0]
    for mem in (l0.memory_a, l0.memory_b):
        if not mem.semigroup:
            raise _unsupported(
                "gaussian dephasing depends on each memory's absolute age, which the nested recursion "
                "does not track (it is exact for exponential decay only beyond 2 links)"
            )
    p0 = chain.success_per_round(0)
    for i, link in enumerate(links[1:], start=1):
        same = (
            np.allclose(link.rho, l0.rho, rtol=0, atol=1e-12)
            and abs(chain.success_per_round(i) - p0) <= 1e-12 * p0
            and link.memory_a == l0.memory_a
            and link.memory_b == l0.memory_b
        )
        if not same:
            raise _unsupported(f"the nested recursion needs identical links (link {i} differs from link 0)")
    levels = int(round(math.log2(n)))
    for lev in range(levels):
        size = 1 << lev
        ref = chain.node_at(size)
        for j in range(size, n, 2 * size):
            node = chain.node_at(j)
            if node != ref:
                raise _unsupported(f"the nested recursion needs identical repeaters per nesting level (node at boundary {j} differs from boundary {size})")
    return "nested"


def exact_chain(
    chain: RepeaterChain,
    *,
    swap_fn: SwapFn | None = None,
    tail_tolerance: float = 1e-12,
    max_rounds: int = 1 << 20,
) -> ChainExactResult:
    """Exact completion-time PMF, rate and mean delivered fidelity (where an exact method exists).

    The grid starts long enough for one link's tail to fall below ``tail_tolerance`` and doubles
    until the captured mass of the end-to-end completion time is >= 1 - tail_tolerance (at most
    ``max_rounds`` rounds). Raises ``ValueError`` (:class:`qnet.errors.QnetError`) naming the
    reason when the chain is outside the supported cases (see the module docstring).
    """
    if not isinstance(chain, RepeaterChain):
        raise ConfigError("exact_chain", "chain", type(chain).__name__, "a RepeaterChain")
    if not 0.0 < tail_tolerance < 1e-3:
        raise ConfigError("exact_chain", "tail_tolerance", tail_tolerance, "a number in (0, 1e-3)")
    algo = _check_exact_supported(chain)
    tau = chain.links[0].attempt_time_s
    if algo == "one":
        p = chain.success_per_round(0)
        n = _initial_rounds(p, tail_tolerance, 0, max_rounds)
        while True:
            m = _link_series(p, chain.links[0].rho.ravel(), n)
            if 1.0 - _tr(m).sum() <= tail_tolerance or n >= max_rounds:
                break
            n *= 2
    else:
        swap_fn = _default_swap_fn() if swap_fn is None else swap_fn
        p_min = min(chain.success_per_round(i) for i in range(chain.n_links))
        extra = sum(_rounds_of(node.swap_time_s, tau, "swap_time_s") for node in chain.nodes)  # type: ignore[union-attr]
        n = _initial_rounds(p_min, tail_tolerance / chain.n_links, extra, max_rounds)
        tensors: dict = {}
        while True:
            m = (_exact_two_links if algo == "two" else _exact_nested)(chain, swap_fn, n, tensors)
            if 1.0 - _tr(m).sum() <= tail_tolerance or n >= max_rounds:
                break
            n *= 2
    tail = 1.0 - _tr(m).sum()
    if tail > tail_tolerance:
        raise QnetError(
            f"exact mode would need more than max_rounds = {max_rounds} rounds to capture all but "
            f"{tail_tolerance:g} of the completion-time distribution (tail {tail:.3g}); raise max_rounds "
            "or use simulate_chain"
        )
    return _finish_exact(m, tau)


def run_chain(chain: RepeaterChain, method: str = "monte_carlo", **kwargs: Any) -> ChainMonteCarloResult | ChainExactResult:
    """``simulate_chain`` (method="monte_carlo") or ``exact_chain`` (method="exact")."""
    if method == "monte_carlo":
        return simulate_chain(chain, **kwargs)
    if method == "exact":
        return exact_chain(chain, **kwargs)
    raise ConfigError("run_chain", "method", method, "'monte_carlo' or 'exact'")

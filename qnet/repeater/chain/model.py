"""Inputs of a repeater chain: memories, elementary links, repeater nodes and the chain itself.

The time process these describe is in :mod:`qnet.repeater.chain` (module docstring).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from qnet.errors import ConfigError
from qnet.link.multiplexing import attempts_per_round, success_per_round
from qnet.quantum.channels import DECAY_LAWS
from qnet.quantum.states import is_physical
from qnet.repeater.choices import SWAP_POLICIES

__all__ = [
    "MemoryDecay",
    "LinkPurification",
    "ChainLink",
    "RepeaterNode",
    "RepeaterChain",
    "SWAP_POLICIES",
    "MIN_LINK_SUCCESS_PROBABILITY",
]

#: Swap policies of a chain: swap as soon as two adjacent pairs exist, or only nesting halves.


@dataclass(frozen=True)
class MemoryDecay:
    """Decoherence of one memory: dephasing time ``t2_s`` (law ``decay``) and T1 ``t1_s``.

    Same meaning as :func:`qnet.quantum.channels.storage_kraus`.

    Parameters
    ----------
    t2_s : float
        Dephasing time (s); ``inf`` (default): no dephasing.
    t1_s : float
        Relaxation time T1 (s); ``inf`` (default): no amplitude damping.
    decay : str
        Law of the dephasing, one of :data:`qnet.quantum.channels.DECAY_LAWS`
        (default ``"exponential"``).

    Raises
    ------
    ConfigError
        A time that is not > 0, or an unknown law.

    Examples
    --------
    >>> from qnet.repeater.chain import MemoryDecay
    >>> m = MemoryDecay(t2_s=0.5)
    >>> m.decays, m.semigroup
    (True, True)
    >>> MemoryDecay().decays
    False
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


#: A per-node pair (node A, node B) of a quantity; fields that accept one value or a pair hold this
#: once the dataclass is constructed.
Pair = tuple[float, float]


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
    return out[0], out[1]


@dataclass(frozen=True)
class LinkPurification:
    """One purification round on an elementary link before it joins the chain.

    The time process is described in :mod:`qnet.repeater.chain` ("Purified links").

    Parameters
    ----------
    protocol : str
        ``"dejmps"`` or ``"bbpssw"`` (:func:`qnet.repeater.purification.purify`).
    gate_fidelity, readout_fidelity : float or (float, float)
        Of the link's two end nodes (node A, node B), or one number for both; in [0, 1].
    communication_time_s : float
        t_c, the time the measurement bits travel (s; the link's fibre length / c).
    cutoff_s : float
        A raw copy that would wait longer than this (s, in whole rounds,
        :func:`qnet.repeater.waiting.cutoff_rounds`) is discarded; ``inf``: no cutoff.
    twirl : bool
        BBPSSW re-twirls its output to Werner form (default True; DEJMPS ignores it).

    Raises
    ------
    ConfigError
        An unknown protocol or a value out of range.

    Examples
    --------
    >>> from qnet.repeater.chain import LinkPurification
    >>> pur = LinkPurification("DEJMPS", gate_fidelity=0.99)
    >>> pur.protocol, pur.gate_fidelity
    ('dejmps', (0.99, 0.99))
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
            raise ConfigError(
                "purification", "communication_time_s", self.communication_time_s, "a finite time >= 0 in seconds"
            )
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

    Parameters
    ----------
    rho : array_like, shape (4, 4)
        Delivered state (memory A first, Pauli-frame corrected toward |Psi+>), including the
        storage during the herald (``storage_time_s``).
    success_probability : float
        p per attempt, in [:data:`MIN_LINK_SUCCESS_PROBABILITY`, 1].
    attempt_time_s : float
        tau, the duration of one attempt round (s).
    memory_a, memory_b : MemoryDecay or (t2_s, t1_s, decay)
        Decoherence of the link's two memories (default: none).
    storage_time_s : float or (float, float)
        Ages (s) of memories A and B at the herald (one number applies to both); needed to
        continue gaussian decay from the right age.
    purification : LinkPurification or None
        Purify once before joining the chain (Monte Carlo only); ``None`` (default): raw link.

    Raises
    ------
    ConfigError
        A state that is not a physical 4x4 density matrix, or a value out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_state
    >>> from qnet.repeater.chain import ChainLink
    >>> psi = bell_state("psi+")
    >>> link = ChainLink(np.outer(psi, psi.conj()), success_probability=0.1, attempt_time_s=1e-3,
    ...                  memory_a=(0.5, float("inf"), "exponential"))
    >>> link.storage_time_s, link.memory_a.t2_s
    ((0.0, 0.0), 0.5)
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
                "link",
                "success_probability",
                self.success_probability,
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
        if np.ndim(st) == 0:
            ages: tuple[float, ...] = (float(cast(float, st)),) * 2
        else:
            ages = tuple(float(x) for x in cast(Sequence[float], st))
        if len(ages) != 2 or not all(a >= 0.0 and math.isfinite(a) for a in ages):
            raise ConfigError("link", "storage_time_s", st, "ages >= 0 (s) of memories A and B at the herald")
        object.__setattr__(self, "storage_time_s", ages)
        if self.purification is not None and not isinstance(self.purification, LinkPurification):
            raise ConfigError("link", "purification", type(self.purification).__name__, "a LinkPurification or None")


@dataclass(frozen=True)
class RepeaterNode:
    """A repeater between two consecutive links.

    Parameters
    ----------
    gate_fidelity, readout_fidelity : float
        Passed to the swap function (1 = perfect), in [0, 1].
    swap_time_s : float
        Duration of the swap (s; Bell-state measurement + classical message).
    cutoff_s : float
        A stored pair older than this (s) is discarded; ``inf`` (default): no cutoff.
    memories : int or (int, int)
        Memories per adjacent link (>= 1), or (for the link before it, for the link after it).
    swap_success_probability : float
        Probability a swap succeeds, in (0, 1] (a failure loses both pairs).

    Raises
    ------
    ConfigError
        A value out of range.

    Examples
    --------
    >>> from qnet.repeater.chain import RepeaterNode
    >>> RepeaterNode(gate_fidelity=0.99, cutoff_s=0.01, memories=2)
    RepeaterNode(gate_fidelity=0.99, readout_fidelity=1.0, swap_time_s=0.0, cutoff_s=0.01, memories=2, swap_success_probability=1.0)
    """

    gate_fidelity: float = 1.0
    readout_fidelity: float = 1.0
    swap_time_s: float = 0.0
    cutoff_s: float = math.inf
    memories: int | tuple[int, int] = 1
    swap_success_probability: float = 1.0

    def __post_init__(self) -> None:
        for name in ("gate_fidelity", "readout_fidelity"):
            v = float(getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise ConfigError("repeater", name, getattr(self, name), "a fidelity in [0, 1]")
            object.__setattr__(self, name, v)
        a = float(self.swap_success_probability)
        if not 0.0 < a <= 1.0:
            raise ConfigError(
                "repeater", "swap_success_probability", self.swap_success_probability, "a probability in (0, 1]"
            )
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
        sides = tuple(m) if isinstance(m, (tuple, list)) and len(m) == 2 else (m,)
        if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in sides):
            raise ConfigError(
                "repeater",
                "memories",
                m,
                "an integer >= 1 (memories per adjacent link; a swap needs one on each side), "
                "or a pair (before, after) of them",
            )
        object.__setattr__(self, "memories", int(sides[0]) if len(sides) == 1 else (int(sides[0]), int(sides[1])))

    def memories_for(self, side: int) -> int:
        """Memories for the link before the node (``side`` 0) or after it (1)."""
        return self.memories[side] if isinstance(self.memories, tuple) else self.memories


@dataclass(frozen=True, eq=False)
class RepeaterChain:
    """Links in path order and the ``len(links) - 1`` repeaters between them.

    Parameters
    ----------
    links : sequence of ChainLink
        The elementary links, in path order (at least one).
    nodes : sequence of RepeaterNode, RepeaterNode or None
        The repeaters; ``None`` puts a default (perfect, no cutoff) node everywhere, a single
        node is repeated.
    swap_policy : str
        One of :data:`SWAP_POLICIES`: ``"asap"`` (default) or ``"nested"`` (needs 2^k links).
    end_memories : int or (int, int)
        Memories the first and the last end user devote to their link (one number for both;
        default 1). A purified link needs 2 at each of its nodes.

    Raises
    ------
    ConfigError
        Wrong types or counts, an unknown policy, or too few memories for a purified link.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_state
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain, RepeaterNode
    >>> psi = bell_state("psi+")
    >>> link = ChainLink(np.outer(psi, psi.conj()), success_probability=0.1, attempt_time_s=1e-3)
    >>> chain = RepeaterChain((link, link), RepeaterNode(memories=2), end_memories=2)
    >>> chain.n_links, chain.attempts_per_round(0), round(chain.success_per_round(0), 6)
    (2, 2, 0.19)
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
            raise ConfigError(
                "chain", "nodes", f"{len(nodes)} nodes", f"exactly len(links) - 1 = {len(links) - 1} repeater nodes"
            )
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
                if 1 <= j <= n - 1 and nodes[j - 1].memories_for(0 if j == i + 1 else 1) < 2:
                    raise ConfigError(
                        "chain",
                        f"nodes[{j - 1}].memories",
                        nodes[j - 1].memories,
                        f"link {i} purifies: its repeaters need 2 memories per adjacent link (the two copies)",
                    )
                end = 0 if j == 0 else 1 if j == n else None
                if end is not None and ends[end] < 2:
                    raise ConfigError(
                        "chain",
                        "end_memories",
                        self.end_memories,
                        f"link {i} purifies: its end user needs 2 memories for it (the two copies)",
                    )
        object.__setattr__(self, "links", links)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "end_memories", ends)

    @property
    def n_links(self) -> int:
        """Number of elementary links."""
        return len(self.links)

    def node_at(self, boundary: int) -> RepeaterNode | None:
        """The repeater at boundary ``j`` (between links j-1 and j); ``None`` at the end users."""
        if 1 <= boundary <= self.n_links - 1:
            return self.nodes[boundary - 1]  # type: ignore[index]
        return None

    def link_memories(self, i: int) -> tuple[int, int]:
        """Memories link ``i``'s two nodes (boundaries i and i + 1) devote to it."""
        ends = self.end_memories
        a = ends[0] if i == 0 else self.nodes[i - 1].memories_for(1)  # type: ignore[index]
        b = ends[1] if i == self.n_links - 1 else self.nodes[i].memories_for(0)  # type: ignore[index]
        return a, b

    def attempts_per_round(self, i: int) -> int:
        """Parallel attempts k of link ``i`` per round: the smaller of its two nodes' memories for it."""
        return attempts_per_round(*self.link_memories(i))

    def success_per_round(self, i: int) -> float:
        """Probability that link ``i`` succeeds in a round: 1 - (1 - p)^k with k attempts."""
        return success_per_round(self.links[i].success_probability, self.attempts_per_round(i))


def _end_memories(value: Any) -> tuple[int, int]:
    pair = (value, value) if np.ndim(value) == 0 else tuple(value)
    if len(pair) != 2 or not all(not isinstance(m, bool) and isinstance(m, (int, np.integer)) and m >= 1 for m in pair):
        raise ConfigError("chain", "end_memories", value, "an integer >= 1, or a pair (first, last end user) of them")
    return int(pair[0]), int(pair[1])

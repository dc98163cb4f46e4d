"""Elementary links as samplers for the Monte Carlo engine: when each pair exists, in which state.

A raw link's pair exists after Geom(p) rounds; a purified link (:class:`LinkPurification`)
runs purification trials until one succeeds (:mod:`qnet.repeater.chain`, "Purified links").
Each sample is ``(time the pair exists, leaf id)``; ``source.states[leaf_id]`` is its state.
"""

from __future__ import annotations

from typing import Union, cast

import numpy as np

from qnet.errors import QnetError
from qnet.repeater.waiting import cutoff_rounds
from qnet.repeater.chain.model import ChainLink, Pair, RepeaterChain

__all__ = ["GeometricSource", "PurifiedSource", "MirroredSource", "LinkSource", "link_sources"]

_MAX_PURIFY_ROUNDS = 2**22  # waiting times tabulated per purified link (as qnet.repeater.link_purification)
_MAX_TRIALS = 10_000_000  # purification trials of one link before giving up


class GeometricSource:
    """A raw link: the pair exists after Geom(p) rounds of tau; every leaf is ``rho`` (id 0).

    Parameters
    ----------
    link : ChainLink
        The link (its ``rho`` and ``attempt_time_s``).
    p : float
        Success probability per round (with the chain's multiplexing).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink
    >>> from qnet.repeater.chain.sources import GeometricSource
    >>> src = GeometricSource(ChainLink(np.eye(4) / 4, 1.0, 1e-3), 1.0)
    >>> src.sample(np.random.default_rng(1), 0.5)
    (0.501, 0)
    """

    def __init__(self, link: ChainLink, p: float):
        self.p, self.attempt_time_s = p, link.attempt_time_s
        self.states = link.rho[None]
        self.age_shift_s = 0.0  # memories are this much older than the herald says when the pair exists

    def sample(self, rng: np.random.Generator, start_s: float) -> tuple[float, int]:
        """(time the pair exists (s), leaf id 0) for a link that starts at ``start_s``."""
        return start_s + int(rng.geometric(self.p)) * self.attempt_time_s, 0


class PurifiedSource:
    """A purified link: samples (success time, D); leaf id D -> rho_out(D).

    p_pur(D) and rho_out(D) (after the t_c of the bits) are tabulated in batches, D = 0..n-1,
    the table doubling when a longer wait is drawn; identical links share one source
    (:func:`link_sources`).

    Parameters
    ----------
    link : ChainLink
        A link with a :class:`LinkPurification`.

    Raises
    ------
    QnetError
        The purification never succeeds, a wait beyond the table is drawn, or too many trials
        fail in a row.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, LinkPurification
    >>> from qnet.repeater.chain.sources import PurifiedSource
    >>> rho = 0.9 * np.diag([0, 0.5, 0.5, 0]) + 0.1 * np.eye(4) / 4
    >>> rho[1, 2] = rho[2, 1] = 0.45
    >>> link = ChainLink(rho, 1.0, 1e-3, purification=LinkPurification(communication_time_s=1e-4))
    >>> src = PurifiedSource(link)
    >>> t, d = src.sample(np.random.default_rng(1), 0.0)
    >>> d, round(t / 1.1e-3) >= 1
    (0, True)
    """

    def __init__(self, link: ChainLink):
        pur = link.purification
        assert pur is not None
        self.link, self.purification = link, pur
        self.p, self.attempt_time_s = link.success_probability, link.attempt_time_s
        self.communication_time_s = pur.communication_time_s
        self.cutoff_rounds = cutoff_rounds(pur.cutoff_s, self.attempt_time_s)
        self.age_shift_s = self.communication_time_s
        if self.cutoff_rounds is not None:
            self.max_wait_rounds = self.cutoff_rounds + 1
        elif self.p >= 1.0:
            self.max_wait_rounds = 1
        else:
            self.max_wait_rounds = _MAX_PURIFY_ROUNDS
        self.success_by_wait = np.zeros(0)  # p_pur(D)
        self.states = np.zeros((0, 4, 4), dtype=complex)  # rho_out(D)
        self._extend(min(self.max_wait_rounds, 1024))
        if not self.success_by_wait.max() > 0.0:
            raise QnetError(f"{pur.protocol} purification never succeeds on this link (success probability 0)")

    def _extend(self, n_new: int) -> None:
        from qnet.repeater.link_purification import purification_table

        link, pur = self.link, self.purification
        mems = tuple((m.t1_s, m.t2_s, m.decay) for m in (link.memory_a, link.memory_b))
        p_pur, out = purification_table(  # ChainLink and LinkPurification keep pairs once constructed
            link.rho,
            np.arange(len(self.success_by_wait), n_new),
            self.attempt_time_s,
            cast(Pair, link.storage_time_s),
            (mems[0], mems[1]),
            pur.protocol,
            cast(Pair, pur.gate_fidelity),
            cast(Pair, pur.readout_fidelity),
            self.communication_time_s,
            pur.twirl,
        )
        self.success_by_wait = np.concatenate([self.success_by_wait, p_pur])
        self.states = np.concatenate([self.states, out])

    def _ensure(self, d: int) -> None:
        if d >= self.max_wait_rounds:
            raise QnetError(
                f"a purified link (p = {self.p:.3g} per attempt) drew a waiting time of {d:,} rounds; "
                "set a cutoff on its nodes to bound it"
            )
        n = len(self.success_by_wait)
        while n <= d:
            n *= 2
        self._extend(min(n, self.max_wait_rounds))

    def _copy_heralds(self, rng: np.random.Generator) -> tuple[int, int]:
        """Rounds X, Y until the two copies herald; a copy that would wait past the cutoff restarts."""
        p, c = self.p, self.cutoff_rounds
        if p >= 1.0:
            return 1, 1
        x, y = int(rng.geometric(p)), int(rng.geometric(p))
        if c is not None:  # the earlier copy is discarded after c rounds and restarts
            while abs(x - y) > c:
                if x < y:
                    x += c + int(rng.geometric(p))
                else:
                    y += c + int(rng.geometric(p))
        return x, y

    def sample(self, rng: np.random.Generator, start_s: float) -> tuple[float, int]:
        """(time the purified pair exists (s), its wait D in rounds) for a link that starts at ``start_s``."""
        t = start_s
        for _ in range(_MAX_TRIALS):
            x, y = self._copy_heralds(rng)
            d = abs(x - y)
            t += max(x, y) * self.attempt_time_s + self.communication_time_s
            if d >= len(self.success_by_wait):
                self._ensure(d)
            if rng.random() < self.success_by_wait[d]:
                return t, d
        raise QnetError(f"a purified link failed {_MAX_TRIALS:,} purification trials in a row")


class MirroredSource:
    """A link's source seen from its other end: the same samples, states with memories A and B swapped.

    A route that crosses a link from its ``node_b`` to its ``node_a`` evaluates the pairs the
    link's source made (drawn once, in the link's own orientation) in the route's orientation.

    Parameters
    ----------
    source : GeometricSource or PurifiedSource

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink
    >>> from qnet.repeater.chain.sources import GeometricSource, MirroredSource
    >>> rho = np.diag([0.1, 0.6, 0.2, 0.1]).astype(complex)  # |01> more likely than |10>
    >>> m = MirroredSource(GeometricSource(ChainLink(rho, 0.5, 1e-3), 0.5))
    >>> np.diag(m.states[0]).real.tolist()
    [0.1, 0.2, 0.6, 0.1]
    """

    _SWAP = np.eye(4)[[0, 2, 1, 3]]

    def __init__(self, source):
        self.source = source

    @property
    def states(self) -> np.ndarray:
        """The source's states (so far) with the two memories exchanged."""
        return self._SWAP @ self.source.states @ self._SWAP

    @property
    def age_shift_s(self) -> float:
        """As the source's."""
        return self.source.age_shift_s

    def sample(self, rng: np.random.Generator, start_s: float) -> tuple[float, int]:
        """As the source's."""
        return self.source.sample(rng, start_s)


#: A sampler of one link's pairs.
LinkSource = Union[GeometricSource, PurifiedSource, MirroredSource]


def link_sources(chain: RepeaterChain) -> list[LinkSource] | None:
    """Per-link samplers, or ``None`` when every link is raw (the engine's vectorised path).

    Identical purified links share one :class:`PurifiedSource` (and its table).

    Parameters
    ----------
    chain : RepeaterChain

    Returns
    -------
    list of GeometricSource or PurifiedSource, or None

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, LinkPurification, RepeaterChain
    >>> from qnet.repeater.chain.sources import link_sources
    >>> raw = ChainLink(np.eye(4) / 4, 0.5, 1e-3)
    >>> link_sources(RepeaterChain((raw, raw))) is None
    True
    """
    if all(link.purification is None for link in chain.links):
        return None
    shared: dict[tuple, PurifiedSource] = {}
    out: list[LinkSource] = []
    for i, link in enumerate(chain.links):
        if link.purification is None:
            out.append(GeometricSource(link, chain.success_per_round(i)))
            continue
        key = (
            link.rho.tobytes(),
            link.success_probability,
            link.attempt_time_s,
            link.memory_a,
            link.memory_b,
            link.storage_time_s,
            link.purification,
        )
        if key not in shared:
            shared[key] = PurifiedSource(link)
        out.append(shared[key])
    return out

"""Monte Carlo of a repeater chain: a discrete-event simulation per delivered pair.

The events of one delivery (heralds, swap completions, cutoffs) build the tree of the delivered
pair (:mod:`qnet.repeater.chain.trees`); the states of all deliveries are evaluated together
afterwards. The time process is described in :mod:`qnet.repeater.chain`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from qnet.errors import ConfigError, QnetError
from qnet.quantum.waiting import TIME_RTOL
from qnet.repeater.chain.linalg import SwapFn, default_swap_fn, fidelity_rows
from qnet.repeater.chain.model import RepeaterChain
from qnet.repeater.chain.results import ChainMonteCarloResult
from qnet.repeater.chain.sources import LinkSource, link_sources
from qnet.repeater.chain.trees import Leaf, Swap, Tree, TreeStates

__all__ = ["simulate_chain"]

_Z95 = 1.959963984540054  # two-sided 95 % normal quantile

# event kinds, in the order they apply within one instant
_HERALD, _SWAP_DONE, _CUTOFF = 0, 1, 2


class _Pair:
    """A pair over links lo..hi-1 that exists, or is being made by a swap."""

    __slots__ = ("lo", "hi", "exists_s", "tree", "swapping", "swap_ok")

    def __init__(self, lo: int, hi: int, exists_s: float, tree: Tree, swapping: bool = False, swap_ok: bool = True):
        self.lo, self.hi, self.exists_s, self.tree = lo, hi, exists_s, tree
        self.swapping, self.swap_ok = swapping, swap_ok


class _Event(NamedTuple):
    """A scheduled event; heap order is (time_s, kind, seq) (seq is unique, so it never goes further)."""

    time_s: float
    kind: int
    seq: int
    link: int = -1  # _HERALD: the link
    leaf_id: int = 0  # _HERALD: the source's state id
    pair: _Pair | None = None  # _SWAP_DONE, _CUTOFF: the pair concerned


class _Delivery(NamedTuple):
    time_s: float
    tree: Tree


class _Engine:
    """Discrete-event simulation of one chain; one call of :meth:`deliver` = one delivered pair.

    ``sources``: per-link samplers of (time the pair exists, leaf id) (:func:`link_sources`);
    ``None``: every link is geometric and is drawn vectorised.
    """

    def __init__(self, chain: RepeaterChain, rng: np.random.Generator, max_events: int, sources: list[LinkSource] | None = None):
        n = chain.n_links
        self.n_links = n
        self.rng = rng
        self.max_events = max_events
        self.sources = sources
        self.attempt_time_s = [link.attempt_time_s for link in chain.links]
        self.p_round = np.array([chain.success_per_round(i) for i in range(n)])
        self.nested = chain.swap_policy == "nested"
        # per boundary j = 0..n (end users at 0 and n: no cutoff, no swap)
        self.cutoff_s = [math.inf] * (n + 1)
        self.swap_success = [1.0] * (n + 1)
        self.swap_time_s = [0.0] * (n + 1)
        for j in range(1, n):
            node = chain.node_at(j)
            assert node is not None
            self.cutoff_s[j], self.swap_success[j], self.swap_time_s[j] = node.cutoff_s, node.swap_success_probability, node.swap_time_s
        self.atol_s = TIME_RTOL * min(self.attempt_time_s)

    # ------------------------------------------------------------------ state of one delivery

    def _push(self, time_s: float, kind: int, link: int = -1, leaf_id: int = 0, pair: _Pair | None = None) -> None:
        heapq.heappush(self.heap, _Event(time_s, kind, self.seq, link, leaf_id, pair))
        self.seq += 1

    def _restart(self, lo: int, hi: int, t: float) -> None:
        """Links lo..hi-1 start again at ``t``: schedule their heralds."""
        if self.sources is None:
            draws = self.rng.geometric(self.p_round[lo:hi])
            for i in range(lo, hi):
                self._push(t + draws[i - lo] * self.attempt_time_s[i], _HERALD, i)
        else:
            for i in range(lo, hi):
                ti, leaf_id = self.sources[i].sample(self.rng, t)
                self._push(ti, _HERALD, i, leaf_id)

    def _place(self, pair: _Pair) -> None:
        self.by_lo[pair.lo] = pair
        self.by_hi[pair.hi] = pair

    def _remove(self, pair: _Pair) -> None:
        if self.by_lo[pair.lo] is pair:
            self.by_lo[pair.lo] = None
        if self.by_hi[pair.hi] is pair:
            self.by_hi[pair.hi] = None

    def _available(self, pair: _Pair, dirty: list[int]) -> None:
        """``pair`` now exists: mark its ends for swapping, arm its cutoff."""
        heapq.heappush(dirty, pair.lo)
        heapq.heappush(dirty, pair.hi)
        c = min(self.cutoff_s[pair.lo], self.cutoff_s[pair.hi])
        if c < math.inf:
            self._push(pair.exists_s + c, _CUTOFF, pair=pair)

    # ------------------------------------------------------------------ one instant

    def _next_instant(self) -> list[_Event]:
        """Pop every event within TIME_RTOL of the earliest, sorted heralds, swaps, cutoffs."""
        heap = self.heap
        t0 = heap[0].time_s
        lim = t0 + TIME_RTOL * abs(t0) + self.atol_s
        batch = []
        while heap and heap[0].time_s <= lim:
            batch.append(heapq.heappop(heap))
        self.events += len(batch)
        if self.events > self.max_events:
            raise QnetError(
                f"no end-to-end pair after {self.max_events} events (t = {t0:.6g} s): the chain "
                "practically never delivers (cutoffs too short?); raise max_events to insist"
            )
        batch.sort(key=lambda e: (e.kind, e.time_s, e.seq))
        return batch

    def _apply_arrivals(self, batch: list[_Event], dirty: list[int]) -> list[_Event]:
        """Apply heralds and swap completions; return the cutoff events (they fire last)."""
        cutoffs = []
        for ev in batch:
            if ev.kind == _HERALD:
                pair = _Pair(ev.link, ev.link + 1, ev.time_s, Leaf(ev.link, ev.time_s, ev.leaf_id))
                self._place(pair)
                self._available(pair, dirty)
            elif ev.kind == _SWAP_DONE:
                pair = ev.pair
                if pair.swap_ok:
                    pair.swapping = False
                    self._available(pair, dirty)
                else:
                    self._remove(pair)
                    self._restart(pair.lo, pair.hi, ev.time_s)
            else:
                cutoffs.append(ev)
        return cutoffs

    def _may_swap(self, left: _Pair | None, right: _Pair | None) -> bool:
        if left is None or right is None or left.swapping or right.swapping:
            return False
        if not self.nested:
            return True
        size = left.hi - left.lo
        return size == right.hi - right.lo and left.lo % (2 * size) == 0

    def _swap(self, j: int, left: _Pair, right: _Pair, dirty: list[int]) -> None:
        """Swap at boundary ``j``; the new pair exists after the swap time (if the swap succeeds)."""
        start = max(left.exists_s, right.exists_s)
        a = self.swap_success[j]
        ok = a >= 1.0 or self.rng.random() < a
        self._remove(left)
        self._remove(right)
        done = start + self.swap_time_s[j]
        new = _Pair(left.lo, right.hi, done, Swap(j, start, done, left.tree, right.tree), swapping=True, swap_ok=ok)
        if self.swap_time_s[j] > 0.0:
            self._place(new)
            self._push(done, _SWAP_DONE, pair=new)
        elif ok:
            new.swapping = False
            self._place(new)
            self._available(new, dirty)
        else:
            self._restart(new.lo, new.hi, done)

    def _swap_all(self, dirty: list[int]) -> None:
        """Swaps, left to right, as long as any is possible."""
        while dirty:
            j = heapq.heappop(dirty)
            if j <= 0 or j >= self.n_links:
                continue
            left, right = self.by_hi[j], self.by_lo[j]
            if self._may_swap(left, right):
                self._swap(j, left, right, dirty)  # type: ignore[arg-type]

    def _fire_cutoffs(self, cutoffs: list[_Event]) -> None:
        for ev in cutoffs:
            pair = ev.pair
            if self.by_lo[pair.lo] is pair and not pair.swapping:
                self._remove(pair)
                self._restart(pair.lo, pair.hi, ev.time_s)

    # ------------------------------------------------------------------ one delivery

    def _start(self) -> None:
        n = self.n_links
        self.heap: list[_Event] = []
        self.seq = 0
        self.events = 0
        self.by_lo: list[_Pair | None] = [None] * (n + 1)
        self.by_hi: list[_Pair | None] = [None] * (n + 1)
        self._restart(0, n, 0.0)

    def deliver(self) -> _Delivery:
        """Run from a fresh start of every link to the first end-to-end pair."""
        self._start()
        while True:
            dirty: list[int] = []
            cutoffs = self._apply_arrivals(self._next_instant(), dirty)
            self._swap_all(dirty)
            full = self.by_lo[0]
            if full is not None and full.hi == self.n_links and not full.swapping:
                return _Delivery(full.exists_s, full.tree)
            self._fire_cutoffs(cutoffs)


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    """(mean, standard error, half-width of the 95 % normal interval)."""
    mean = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.inf
    return mean, se, _Z95 * se


def simulate_chain(
    chain: RepeaterChain,
    samples: int = 1000,
    *,
    seed: int | np.random.Generator | None = None,
    swap_fn: SwapFn | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_events: int = 10_000_000,
) -> ChainMonteCarloResult:
    """Monte Carlo of ``samples`` end-to-end deliveries, each from a fresh start of every link.

    Parameters
    ----------
    chain : RepeaterChain
        The chain.
    samples : int
        Number of deliveries (>= 2).
    seed : int, numpy.random.Generator or None
        An int (or a Generator) makes the run reproducible.
    swap_fn : callable, optional
        ``swap_fn(rho_left, rho_right, gate_fidelity=, readout_fidelity=)`` -> 4x4 (stacks
        (n,4,4) -> (n,4,4) are used when supported); default :func:`qnet.repeater.swapping.swap`.
    progress : callable, optional
        ``progress(done, total)`` after every delivery.
    max_events : int
        Bound on the events of one delivery (guards against chains whose cutoffs make
        delivery practically impossible).

    Returns
    -------
    ChainMonteCarloResult

    Raises
    ------
    ConfigError
        ``chain`` is not a RepeaterChain or ``samples`` < 2.
    QnetError
        A delivery needs more than ``max_events`` events.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_state
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain, RepeaterNode, simulate_chain
    >>> psi = bell_state("psi+")
    >>> rho = 0.9 * np.outer(psi, psi.conj()) + 0.1 * np.eye(4) / 4
    >>> memory = (0.1, float("inf"), "exponential")  # t2_s, t1_s, decay
    >>> link = ChainLink(rho, success_probability=0.2, attempt_time_s=1e-3, memory_a=memory, memory_b=memory)
    >>> r = simulate_chain(RepeaterChain((link, link), RepeaterNode(gate_fidelity=0.99)), samples=20, seed=1)
    >>> round(r.fidelity, 4), round(r.rate_hz, 1)
    (0.8025, 100.0)
    """
    if not isinstance(chain, RepeaterChain):
        raise ConfigError("simulate_chain", "chain", type(chain).__name__, "a RepeaterChain")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise ConfigError("simulate_chain", "samples", samples, "an integer >= 2")
    samples = int(samples)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    swap_fn = default_swap_fn() if swap_fn is None else swap_fn
    sources = link_sources(chain)
    engine = _Engine(chain, rng, max_events, sources)
    times = np.empty(samples)
    trees: list[Tree] = []
    for s in range(samples):
        times[s], tree = engine.deliver()
        trees.append(tree)
        if progress is not None:
            progress(s + 1, samples)
    states = TreeStates(chain, swap_fn, sources).evaluate(trees)
    fids = fidelity_rows(states)
    f_mean, f_se, f_hw = _mean_ci(fids)
    t_mean, t_se, t_hw = _mean_ci(times)
    lo_t, hi_t = t_mean - t_hw, t_mean + t_hw
    fids.setflags(write=False)
    times.setflags(write=False)
    return ChainMonteCarloResult(
        fidelity=f_mean,
        fidelity_std=float(np.std(fids, ddof=1)),
        fidelity_stderr=f_se,
        fidelity_ci=(f_mean - f_hw, f_mean + f_hw),
        rate_hz=1.0 / t_mean,
        rate_hz_ci=(1.0 / hi_t, 1.0 / lo_t if lo_t > 0 else math.inf),
        mean_completion_time_s=t_mean,
        completion_time_stderr_s=t_se,
        fidelity_samples=fids,
        completion_time_samples_s=times,
        mean_state=states.mean(axis=0),
        samples=samples,
        seed=seed if isinstance(seed, (int, np.integer)) else None,
    )

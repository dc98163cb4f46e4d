"""Monte Carlo of a repeater chain: a discrete-event simulation per delivered pair.

The chain runs on the repeater event engine (:mod:`qnet.repeater.engine`) as one request on one
route, every delivery from a fresh start. The events of one delivery (heralds, swap completions, cutoffs) build the tree of the delivered
pair (:mod:`qnet.repeater.chain.trees`); the states of all deliveries are evaluated together
afterwards. The time process is described in :mod:`qnet.repeater.chain`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from qnet.errors import ConfigError
from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute
from qnet.repeater.chain.linalg import SwapFn, default_swap_fn, fidelity_rows
from qnet.repeater.chain.model import RepeaterChain
from qnet.repeater.chain.results import ChainMonteCarloResult
from qnet.repeater.chain.sources import LinkSource, link_sources
from qnet.repeater.chain.trees import TreeStates

__all__ = ["simulate_chain", "chain_engine"]

_Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def chain_engine(
    chain: RepeaterChain, rng: np.random.Generator, sources: list[LinkSource] | None = None, loop: str = "auto"
) -> Engine:
    """The event engine (:mod:`qnet.repeater.engine`) running ``chain`` as one request on one route.

    Parameters
    ----------
    chain : RepeaterChain
    rng : numpy.random.Generator
    sources : list of link sources, optional
        As :func:`qnet.repeater.chain.sources.link_sources` (None: geometric links).
    loop : str
        Event loop (:class:`~qnet.repeater.engine.core.Engine`; every loop gives the same run).

    Returns
    -------
    Engine
        In chain mode (:meth:`~qnet.repeater.engine.core.Engine.deliver`).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain
    >>> from qnet.repeater.chain.montecarlo import chain_engine
    >>> link = ChainLink(np.eye(4) / 4, success_probability=0.5, attempt_time_s=1e-3)
    >>> times, trees = chain_engine(RepeaterChain((link, link)), np.random.default_rng(1)).deliver(3, max_events=10_000)
    >>> len(trees), bool(times.min() > 0)
    (3, True)
    """
    n = chain.n_links
    cut, ok, swap_t = [math.inf] * (n + 1), [1.0] * (n + 1), [0.0] * (n + 1)
    for j in range(1, n):
        node = chain.node_at(j)
        assert node is not None  # boundaries 1..n-1 are repeaters
        cut[j], ok[j], swap_t[j] = node.cutoff_s, node.swap_success_probability, node.swap_time_s
    links = [
        EngineLink(
            p=link.success_probability,
            attempt_time_s=link.attempt_time_s,
            node_a=i,
            node_b=i + 1,
            cap_a=chain.link_memories(i)[0],
            cap_b=chain.link_memories(i)[1],
            cutoff_s=min(cut[i], cut[i + 1]),
            source=None if sources is None else sources[i],
        )
        for i, link in enumerate(chain.links)
    ]
    route = EngineRoute(
        hops=tuple(range(n)),
        left_side=(0,) * n,
        cutoff_s=tuple(cut),
        swap_success=tuple(ok),
        swap_time_s=tuple(swap_t),
        nested=chain.swap_policy == "nested",
    )
    names = [str(j) for j in range(n + 1)]
    return Engine(links, [EngineRequest(route)], names, "shared", rng, occupancy=False, loop=loop, chain=True)


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
        ``progress(done, total)`` now and then (about every 0.1 s) and after the last delivery.
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
    times, trees = chain_engine(chain, rng, sources).deliver(samples, max_events, progress)
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

"""Repeater chains in time: when end-to-end pairs arrive, and in what state.

A chain is a path of elementary links joined by repeater nodes. This package runs the time
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
  tolerance :data:`qnet.repeater.waiting.TIME_RTOL`);
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
  purification's ``cutoff_s`` (in whole rounds, :func:`qnet.repeater.waiting.cutoff_rounds`) discards a
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

Modules
-------
model (inputs: memories, links, repeaters, the chain), results, linalg (storage superoperators
and the swap as a bilinear map), sources (links as samplers), trees (delivery trees and their
states), montecarlo (:func:`simulate_chain`), exact (:func:`exact_chain`), run (:func:`run_chain`).
"""

from qnet._lazy import attach

SUBMODULES = ("exact", "linalg", "model", "montecarlo", "results", "run", "sources", "trees")
EXPORTS = {
    "MemoryDecay": "model",
    "LinkPurification": "model",
    "ChainLink": "model",
    "RepeaterNode": "model",
    "RepeaterChain": "model",
    "SWAP_POLICIES": "model",
    "MIN_LINK_SUCCESS_PROBABILITY": "model",
    "ChainMonteCarloResult": "results",
    "ChainExactResult": "results",
    "simulate_chain": "montecarlo",
    "exact_chain": "exact",
    "run_chain": "run",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

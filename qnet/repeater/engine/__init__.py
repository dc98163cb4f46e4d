"""The event engine of repeaters: many requests sharing memories on a network (a chain is one).

One engine serves ``qnet chain`` / ``qnet path`` (one request on one route, each delivery from a
fresh start: :func:`qnet.repeater.chain.simulate_chain`) and ``qnet traffic`` (many requests on
one clock: :func:`qnet.repeater.traffic.simulate_traffic`). The rules are those of chains
(:mod:`qnet.repeater.chain`), with memories as a shared resource:

* every elementary link has ``cap`` memories at each end (its ends' shares). Pairs of a link are
  made in a *pool*: the link's memories (policy ``shared``) or the memories a request reserved
  on it (``reserve``). A pool attempts while some request needs a pair from it that it does not
  have (need > pairs waiting + attempt running) and it has a free memory at both ends: one
  attempt *bundle* uses all m = min(free at a, free at b) of them, succeeds per round with
  1 - (1 - p)^m (the multiplexing rule), keeps one memory at each end for the pair and frees the
  others; its size is fixed when it starts. A purified link draws from its source instead
  (two copies, then purification; :class:`qnet.repeater.chain.sources.PurifiedSource`);
* a link pair waits in its pool until a request uses it in a swap (or a delivery, for a one-hop
  route): requests that can use pairs at a node are served in the order (higher priority, earlier
  start of the pair they are building, a seeded random key); within a pool the oldest pair goes
  first. Once used, pairs belong to that request (``owner``) and follow the chain rules: swaps as
  soon as both sides exist (``asap``) or as nesting halves (``nested``), swap success and time,
  cutoffs (a request's own end nodes hold its pairs without cutoff), restarts;
* a swapping node's two memories are free once it has measured (at the start of swap_time_s); a
  delivered pair frees both end memories at delivery; a discarded pair (cutoff, failed swap, its
  request stopped, or a link pair no request needs any more) frees both at once;
* ``reserve``: a request starts building a pair only when it can reserve ``share`` memories at
  both ends of every link of its route at once; it keeps them until that pair is delivered (or
  the request stops), then queues again behind the requests already waiting; a waiting request
  keeps its links from the requests behind it (they may pass it only on disjoint routes);
* a request builds one pair at a time (its links do not attempt again once a pair covers them)
  while it has unmet demand: without ``rate_hz`` always, with it one demand every 1/rate_hz s
  from ``start_s``. Demands are counted, not simulated (:func:`~qnet.repeater.engine.model.demands_by`
  where a request could start a pair; one ARRIVAL event only while it waits for its next demand),
  so any demand rate costs the events of an as-fast-as-possible request;
* within one instant (events closer than TIME_RTOL): heralds and swap completions, then swaps,
  then deliveries, then cutoffs, then requests stopping, starting and demands arriving.

States are not carried in the event loop: each delivery records its tree of heralds and swaps
(:mod:`qnet.repeater.engine.trees`), evaluated afterwards per route, all deliveries together.

Modules
-------
model (inputs and deliveries), core (:class:`Engine`: a run's Python face), the rules written
once on numpy arrays: rules (events, requests, swaps, deliveries), memories (memories, attempt
bundles, link sources), store (the state's structures), state (the state built from the inputs),
tables (purified links' tables), jit (numba's ``njit`` when installed, else the functions run as
plain Python), warm (compiles them into numba's cache), trees (delivery trees).
"""

from qnet._lazy import attach

SUBMODULES = ("core", "jit", "memories", "model", "rules", "state", "store", "tables", "trees", "warm")
EXPORTS = {
    "EngineLink": "model",
    "EngineRoute": "model",
    "EngineRequest": "model",
    "Delivery": "model",
    "Engine": "core",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

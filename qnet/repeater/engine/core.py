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
  others; its size is fixed when it starts;
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
(:mod:`qnet.repeater.chain.trees`), evaluated afterwards per route, all deliveries together.

:mod:`qnet.repeater.engine.compiled.rules` (with ``compiled.memories``) is this engine's compiled twin (same rules, same
draws, equal runs; ``tests/repeater/test_compiled_engine.py``): a rule changed here must be
changed there.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, Callable

import numpy as np

from qnet.errors import QnetError
from qnet.quantum.waiting import TIME_RTOL
from qnet.repeater.chain.trees import Leaf, Swap
from qnet.repeater.engine.model import (
    ARRIVAL, CUTOFF, HERALD, START, STOP, SWAP_DONE, Delivery, Pair, Pool, RequestState, demands_by,
)
from qnet.repeater.engine.resources import Resources

__all__ = ["Engine"]

_new_tuple = tuple.__new__  # Leaf/Swap without their Python-level __new__ (hot loop)


def _instant_order(ev: tuple) -> tuple:
    return ev[1], ev[0], ev[2]  # kind, time, order


class Engine(Resources):
    """Discrete-event simulation of requests on links (module docstring for the rules).

    Parameters
    ----------
    links : sequence of EngineLink
    requests : sequence of EngineRequest
    node_names : sequence of str
        Names of the node indices (traces).
    policy : str
        ``"shared"`` or ``"reserve"``.
    rng : numpy.random.Generator
        Draws of the physics (heralds, swap successes).
    tie_rng : numpy.random.Generator, optional
        Draws of the contention rule's random keys (a separate stream, so a lone request draws
        exactly what a chain draws).
    trace : bool
        Record every event (:data:`qnet.repeater.traffic.records.TRACE_COLUMNS`).
    occupancy : bool
        Integrate memory use over time (node occupancy, link utilisation; default True).

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute
    >>> link = EngineLink(p=0.5, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=1, cap_b=1)
    >>> route = EngineRoute(hops=(0,), left_side=(0,), cutoff_s=(np.inf, np.inf), swap_success=(1.0, 1.0), swap_time_s=(0.0, 0.0))
    >>> eng = Engine([link], [EngineRequest(route)], ["a", "b"], "shared", np.random.default_rng(1))
    >>> eng.run(until_s=1.0)
    >>> 300 < len(eng.requests[0].done) < 700
    True
    """

    def __init__(self, links, requests, node_names, policy: str, rng: np.random.Generator,
                 tie_rng: np.random.Generator | None = None, trace: bool = False, occupancy: bool = True):
        self.links = list(links)
        self.specs = list(requests)
        self.node_names = list(node_names)
        self.policy = policy
        self.rng = rng
        self.tie_rng = tie_rng if tie_rng is not None else np.random.default_rng(0)
        self.record = trace
        self.occupancy = occupancy
        self.vector_draws = all(link.source is None for link in self.links)
        self.attempt_s = [link.attempt_time_s for link in self.links]
        self.cutoffs = [link.cutoff_s for link in self.links]
        self.atol_s = TIME_RTOL * min(link.attempt_time_s for link in self.links)
        # which (request, hop) use each link; node-level memory ids: offset of each link end
        self.users: list[list[tuple[int, int]]] = [[] for _ in self.links]
        for r, spec in enumerate(self.specs):
            for i, g in enumerate(spec.route.hops):
                self.users[g].append((r, i))
        offset: dict[int, int] = {}
        self.mem_offset = []
        for link in self.links:
            oa = offset.get(link.node_a, 0)
            offset[link.node_a] = oa + link.cap_a
            ob = offset.get(link.node_b, 0)
            offset[link.node_b] = ob + link.cap_b
            self.mem_offset.append((oa, ob))
        self.node_memories = [offset.get(n, 0) for n in range(len(self.node_names))]
        self.end_node = [n for link in self.links for n in (link.node_a, link.node_b)]  # end k = 2 g + side
        self.contended = len(self.specs) > 1  # a lone request needs no random keys
        self.p_cache: dict[tuple[int, int], float] = {}
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """A fresh start at t = 0: every memory free, no pair, no event."""
        self.now = 0.0
        self.heap: list[tuple] = []  # events (model.Event's fields, plain tuples)
        self.seq = 0
        self.events = 0
        self.pair_ids = 0
        if getattr(self, "shared_pools", None) is None:
            self.free = [([*range(k.cap_a)], [*range(k.cap_b)]) for k in self.links]
            self.shared_pools = [Pool(g, -1, self.free[g], False, self.occupancy) for g in range(len(self.links))]
            for g, pool in enumerate(self.shared_pools):
                pool.users = self.users[g]
        else:  # the same pools, emptied (a chain resets before every delivery)
            for pool, k in zip(self.shared_pools, self.links):
                pool.free[0][:] = range(k.cap_a)
                pool.free[1][:] = range(k.cap_b)
                pool.need, pool.bundle = 0, None
                pool.waiting.clear()
                pool.token += 1
        self.node_held = [0] * len(self.node_names)
        self.node_peak = [0] * len(self.node_names)
        self.end_used = [0] * (2 * len(self.links))
        self.end_area = [0.0] * (2 * len(self.links))
        self.end_since = [0.0] * (2 * len(self.links))
        self.heralds = [0] * len(self.links)
        self.waiters: list[tuple] = []  # reserve: requests waiting for memories, heap of (key, r)
        self.rows: list[tuple] = []
        self.requests = [RequestState(r, spec) for r, spec in enumerate(self.specs)]
        for req in self.requests:
            req.pools = [self.shared_pools[g] for g in req.spec.route.hops]
            if req.spec.start_s < math.inf:
                self._push(req.spec.start_s, START, req)

    def _push(self, time_s: float, kind: int, target: Any = None, token: int = 0, leaf_id: int = 0) -> None:
        heapq.heappush(self.heap, (time_s, kind, self.seq, target, token, leaf_id))  # an Event, as a plain tuple
        self.seq += 1

    def _trace(self, event: str, pair: Pair | None, req: int = -1, node: str = "", parents=(), link: str = "") -> None:
        if not self.record:
            return
        pa = (list(parents) + [-1, -1, -1])[:3]
        if pair is None:
            self.rows.append((self.now, event, -1, *pa, req, node, "", "", -1, -1, link, math.nan))
            return
        (na, ma), (nb, mb) = self._mem_ref(pair.mem_lo), self._mem_ref(pair.mem_hi)
        self.rows.append((self.now, event, pair.id, *pa, req, node, na, nb, ma, mb, link, math.nan))

    def _mem_ref(self, mem: tuple) -> tuple[str, int]:
        g, side, slot = mem[1].link, mem[0], mem[2]
        link = self.links[g]
        node = link.node_a if side == 0 else link.node_b
        return self.node_names[node], self.mem_offset[g][side] + slot

    def _herald(self, ev: tuple, dirty: dict) -> None:
        t, _, _, pool, token, leaf_id = ev
        bundle = pool.bundle
        if token != pool.token or bundle is None:
            return  # the bundle was cancelled
        slots_a, slots_b = bundle
        pool.bundle = None
        g = pool.link
        self.heralds[g] += 1
        self.now = t
        pair = Pair(self.pair_ids, t, None, (0, pool, slots_a[0]), (1, pool, slots_b[0]), -1, pool, leaf_id)
        self.pair_ids += 1
        waiting = pool.waiting
        waiting.append(pair)
        if self.record:
            self._trace("herald", pair, pool.owner, link=self.links[g].name)
        starts: list[Pool] = []
        if len(slots_a) > 1:  # the bundle's other memories are free again
            for side, slots in ((0, slots_a), (1, slots_b)):
                for slot in slots[1:]:
                    heapq.heappush(pool.free[side], slot)
                if pool.counted:
                    self._account(g, side, 1 - len(slots))
        requests = self.requests
        for r, i in pool.users:
            req = requests[r]
            if req.building and not req.covered[i]:
                js = dirty.get(r)
                if js is None:
                    dirty[r] = [i, i + 1]
                else:
                    js += (i, i + 1)
        c = self.cutoffs[g]
        if c < math.inf:
            pair.cut_at = t + c
            self._push(pair.cut_at, CUTOFF, pair)
        if len(waiting) > pool.need:
            self._trim(pool, starts)
        if pool.bundle is None and pool.need > len(waiting) and pool.free[0] and pool.free[1]:
            self._start_bundle(pool, starts)
        if starts:
            self._draw(starts, t)

    # ------------------------------------------------------------------ requests

    def _begin_build(self, req: RequestState, t: float) -> None:
        """``req`` starts building its next pair at ``t`` (reserve: once it holds its memories)."""
        spec = req.spec
        if not req.active or req.building:
            return
        if spec.rate_hz is not None and req.served >= req.demanded:
            req.demanded = demands_by(spec.start_s, spec.rate_hz, t, True)
            if req.served >= req.demanded:  # no unmet demand: wake up at the next one
                nxt = spec.start_s + req.demanded / spec.rate_hz
                if nxt < spec.stop_s:
                    self._push(nxt, ARRIVAL, req)
                return
        req.build_start_s = t
        req.key = (-spec.priority, t, float(self.tie_rng.random()) if self.contended else 0.0)
        if self.policy == "reserve":
            heapq.heappush(self.waiters, (req.key, req.index))
            self._serve_waiters(t)
            return
        self._start_pair(req, t)

    def _start_pair(self, req: RequestState, t: float) -> None:
        """``req`` builds a pair from nothing: every hop needs a link pair."""
        req.building = True
        req.covered = [False] * req.n
        req.by_lo = [None] * (req.n + 1)
        req.by_hi = [None] * (req.n + 1)
        self._need(req, range(req.n), +1, t)

    def _need(self, req: RequestState, hops, delta: int, t: float) -> None:
        """Hops ``hops`` of ``req`` need (``delta`` = +1) or no longer need (-1) a link pair."""
        starts: list[Pool] = []
        for i in hops:
            pool = req.pools[i]
            pool.need += delta
            if delta < 0:
                self._trim(pool, starts)
            self._maybe_attempt(pool, starts)
        self._draw(starts, t)

    def _stop(self, req: RequestState, t: float) -> None:
        """``req``'s window ends: its pairs are discarded, its memories freed."""
        req.active = False
        if not req.building:
            return
        req.building = False
        starts: list[Pool] = []
        for pair in {id(p): p for p in req.by_lo if p is not None and p.alive}.values():
            self._drop(pair, "discarded", starts)
        self._draw(starts, t)
        self._need(req, [i for i in range(req.n) if not req.covered[i]], -1, t)
        if self.policy == "reserve":
            self._unreserve(req, t)

    # ------------------------------------------------------------------ pairs of a request

    def _claim(self, req: RequestState, i: int, pair: Pair) -> Pair:
        """``req`` takes the oldest waiting pair of hop ``i``'s pool: it becomes its pair lo=i, hi=i+1."""
        pool = req.pools[i]
        pool.waiting.popleft()
        pool.need -= 1
        req.covered[i] = True
        pair.owner, pair.lo, pair.hi = req.index, i, i + 1
        pair.tree = _new_tuple(Leaf, (i, pair.exists_s, pair.leaf_id))
        route = req.spec.route
        if route.left_side[i] == 1:
            pair.mem_lo, pair.mem_hi = pair.mem_hi, pair.mem_lo
        if route.hub is not None:
            return pair  # a GHZ leg is claimed only to be fused at once
        c = min(route.cutoff_s[i], route.cutoff_s[i + 1])
        cut_at = pair.exists_s + c
        if cut_at != pair.cut_at:
            pair.cut_at = cut_at
            if c < math.inf:
                self._push(cut_at, CUTOFF, pair)
        return pair

    def _side(self, req: RequestState, j: int, left: bool) -> tuple[Pair | None, bool]:
        """The pair ``req`` could swap at boundary ``j`` on the left (or right): (pair, waiting in a pool)."""
        owned = req.by_hi[j] if left else req.by_lo[j]
        if owned is not None:
            return owned, False
        i = j - 1 if left else j
        if 0 <= i < req.n and not req.covered[i] and req.pools[i].waiting:
            return req.pools[i].waiting[0], True
        return None, False

    def _place(self, req: RequestState, pair: Pair) -> None:
        req.by_lo[pair.lo] = pair
        req.by_hi[pair.hi] = pair

    def _remove(self, req: RequestState, pair: Pair) -> None:
        if req.by_lo[pair.lo] is pair:
            req.by_lo[pair.lo] = None
        if req.by_hi[pair.hi] is pair:
            req.by_hi[pair.hi] = None

    def _available(self, req: RequestState, pair: Pair, dirty: list) -> None:
        """``pair`` of ``req`` now exists: mark its ends for swapping (``dirty``: ``req``'s boundaries to look at), arm its cutoff."""
        lo, hi = pair.lo, pair.hi
        heapq.heappush(dirty, lo)
        heapq.heappush(dirty, hi)
        cut = req.spec.route.cutoff_s
        c = cut[lo] if cut[lo] < cut[hi] else cut[hi]
        pair.cut_at = pair.exists_s + c
        if c < math.inf:
            self._push(pair.cut_at, CUTOFF, pair)

    def _discard(self, req: RequestState, pair: Pair, t: float, event: str) -> None:
        """``req``'s pair is lost: its memories are freed and the links under it start again."""
        self._remove(req, pair)
        self.now = t
        starts: list[Pool] = []
        self._drop(pair, event, starts)
        self._draw(starts, t)
        for i in range(pair.lo, pair.hi):
            req.covered[i] = False
        self._need(req, range(pair.lo, pair.hi), +1, t)

    def _may_swap(self, req: RequestState, left: Pair, lw: bool, right: Pair, rw: bool, j: int) -> bool:
        if (not lw and left.swapping) or (not rw and right.swapping):
            return False
        if not req.spec.route.nested:
            return True
        lo = j - 1 if lw else left.lo
        size = j - lo
        return size == ((j + 1) if rw else right.hi) - j and lo % (2 * size) == 0

    def _try_swap(self, req: RequestState, j: int, dirty: list) -> None:
        left, lw = req.by_hi[j], False
        if left is None:
            if req.covered[j - 1] or not req.pools[j - 1].waiting:
                return
            left, lw = req.pools[j - 1].waiting[0], True
        right, rw = req.by_lo[j], False
        if right is None:
            if req.covered[j] or not req.pools[j].waiting:
                return
            right, rw = req.pools[j].waiting[0], True
        if not self._may_swap(req, left, lw, right, rw, j):
            return
        if lw:
            self._claim(req, j - 1, left)
        if rw:
            self._claim(req, j, right)
        route = req.spec.route
        le, re = left.exists_s, right.exists_s
        start = le if le > re else re
        self.now = start
        a = route.swap_success[j]
        ok = a >= 1.0 or self.rng.random() < a
        by_lo, by_hi = req.by_lo, req.by_hi
        for p in (left, right):  # (_remove, inline)
            if by_lo[p.lo] is p:
                by_lo[p.lo] = None
            if by_hi[p.hi] is p:
                by_hi[p.hi] = None
        left.alive = right.alive = False
        done = start + route.swap_time_s[j]
        new = Pair(self.pair_ids, done, _new_tuple(Swap, (j, start, done, left.tree, right.tree)), left.mem_lo, right.mem_hi,
                   req.index, None, 0, left.lo, right.hi)
        self.pair_ids += 1
        new.swapping, new.swap_ok = True, ok
        if self.record:
            self._trace("swap", new, req.index, self._mem_ref(left.mem_hi)[0], (left.id, right.id))
        starts: list[Pool] = []
        self._release(left.mem_hi, starts)
        self._release(right.mem_lo, starts)
        if starts:
            self._draw(starts, start)
        if route.swap_time_s[j] > 0.0:
            self._place(req, new)
            self._push(done, SWAP_DONE, new)
        elif ok:
            new.swapping = False
            self._place(req, new)
            self._available(req, new, dirty)
        else:
            self._discard(req, new, done, "swap_failed")

    def _try_fuse(self, req: RequestState) -> Delivery | None:
        """GHZ request: fuse one waiting pair of each leg at the hub when all three exist."""
        if not all(not req.covered[i] and req.pools[i].waiting for i in range(3)):
            return None
        legs = [self._claim(req, i, req.pools[i].waiting[0]) for i in range(3)]
        route = req.spec.route
        start = max(p.exists_s for p in legs)
        self.now = start
        a = route.swap_success[1]
        ok = a >= 1.0 or self.rng.random() < a
        starts: list[Pool] = []
        for p in legs:
            p.alive = False
            self._trace("fusion" if ok else "swap_failed", p, req.index, self.node_names[route.hub])
            self._release_pair(p, starts)
        self._draw(starts, start)
        if not ok:
            req.covered = [False] * 3
            self._need(req, range(3), +1, start)
            return None
        return self._finish(req, start + route.swap_time_s[1], tuple(p.tree for p in legs), None, tuple(p.id for p in legs))

    def _full(self, req: RequestState) -> Pair | None:
        full = req.by_lo[0]
        if full is None and req.n == 1:
            cand, waiting = self._side(req, 1, True)
            if waiting:
                return self._claim(req, 0, cand)
        if full is not None and full.hi == req.n and not full.swapping:
            return full
        return None

    def _finish(self, req: RequestState, t: float, tree: Any, pair: Pair | None, legs: tuple = ()) -> Delivery:
        """Record a delivery of ``req`` at ``t`` (a pair, or a GHZ state of three ``legs``) and start its next pair."""
        spec = req.spec
        origin = req.build_start_s if spec.rate_hz is None else spec.start_s + req.served / spec.rate_hz
        d = _new_tuple(Delivery, (req.index, t, t - origin, tree))
        req.done.append(d)
        req.served += 1
        if pair is not None:
            self._remove(req, pair)
            pair.alive = False
            if self.record:
                self._trace("delivery", pair, req.index)
            starts: list[Pool] = []
            self._release_pair(pair, starts)
            if starts:
                self._draw(starts, t)
        elif self.record:
            self.rows.append((t, "delivery", -1, *legs, req.index, self.node_names[spec.route.hub], "", "", -1, -1, "", math.nan))
        req.building = False
        if self.policy == "reserve":
            self._unreserve(req, t)
        if not self.stop_at_delivery:
            self._begin_build(req, t)
        return d

    # ------------------------------------------------------------------ one instant

    def _next_instant(self) -> list[tuple]:
        """Pop every event within TIME_RTOL of the earliest, sorted by kind, time, order."""
        heap = self.heap
        first = heapq.heappop(heap)
        t0 = first[0]
        if not heap or heap[0][0] > t0 + TIME_RTOL * abs(t0) + self.atol_s:
            self.events += 1
            return [first]  # the usual instant: one event
        lim = t0 + TIME_RTOL * abs(t0) + self.atol_s
        batch = [first]
        while heap and heap[0][0] <= lim:
            batch.append(heapq.heappop(heap))
        self.events += len(batch)
        batch.sort(key=_instant_order)
        return batch

    def _arrive(self, ev: tuple, dirty: dict) -> None:
        """A swap completes: the new pair exists, or (failed) its links start again."""
        t, pair = ev[0], ev[3]
        req = self.requests[pair.owner]
        if not pair.alive or not req.building or req.by_lo[pair.lo] is not pair:
            return
        self.now = t
        if pair.swap_ok:
            pair.swapping = False
            self._available(req, pair, dirty.setdefault(req.index, []))  # (made a heap before use)
        else:
            self._discard(req, pair, t, "swap_failed")

    def _cutoff(self, ev: tuple) -> None:
        t, pair = ev[0], ev[3]
        if not pair.alive or pair.swapping or t != pair.cut_at:
            return
        self.now = t
        if pair.owner < 0:
            pool = pair.pool
            pool.waiting.remove(pair)
            starts: list[Pool] = []
            self._drop(pair, "cutoff", starts)
            self._maybe_attempt(pool, starts)
            self._draw(starts, t)
        else:
            self._discard(self.requests[pair.owner], pair, t, "cutoff")

    def _swaps_and_deliveries(self, dirty: dict) -> list[Delivery]:
        """Swap where ``dirty`` (request -> boundaries) says pairs may meet; then deliver.

        Requests go in key order (priority, build start, random key), each one's boundaries in
        increasing order, including those its own swaps mark meanwhile (a swap marks only its
        own request's boundaries).
        """
        requests = self.requests
        touched = [r for r in dirty if requests[r].building]
        if len(touched) > 1:
            touched.sort(key=lambda r: requests[r].key)
        for r in touched:
            req = requests[r]
            js = dirty[r]
            heapq.heapify(js)
            n, by_lo, by_hi, covered, pools = req.n, req.by_lo, req.by_hi, req.covered, req.pools
            while js:
                j = heapq.heappop(js)
                if 0 < j < n and not req.ghz and (
                    (by_hi[j] is not None or (not covered[j - 1] and pools[j - 1].waiting))
                    and (by_lo[j] is not None or (not covered[j] and pools[j].waiting))
                ):  # both sides may exist: look closer
                    self._try_swap(req, j, js)
        out = []
        for r in touched:
            req = requests[r]
            if not req.building:
                continue
            if req.ghz:
                d = self._try_fuse(req)
            else:
                full = self._full(req)
                d = None if full is None else self._finish(req, full.exists_s, full.tree, full)
            if d is not None:
                out.append(d)
        return out

    def step(self) -> list[Delivery]:
        """Apply the next instant; return the deliveries it made."""
        dirty: dict[int, list[int]] = {}
        later = []
        for ev in self._next_instant():
            kind = ev[1]
            if kind == HERALD:
                self._herald(ev, dirty)
            elif kind == SWAP_DONE:
                self._arrive(ev, dirty)
            else:
                later.append(ev)
        done = self._swaps_and_deliveries(dirty) if dirty else []
        if done and self.stop_at_delivery:
            return done
        for ev in later:
            t, kind, _, req = ev[:4]
            self.now = max(self.now, t)
            if kind == CUTOFF:
                self._cutoff(ev)
            elif kind == STOP:
                self._stop(req, t)
            elif kind == START:
                req.active = True
                if req.spec.stop_s < math.inf:
                    self._push(req.spec.stop_s, STOP, req)
                self._begin_build(req, t)
            else:  # ARRIVAL: a demand arrived while the request had none left
                self._begin_build(req, t)
        return done

    # ------------------------------------------------------------------ runs

    stop_at_delivery = False

    def deliver(self, max_events: int) -> Delivery:
        """Chain mode: from a fresh start, run to the first delivery of request 0."""
        self.reset()
        self.stop_at_delivery = True
        while True:
            if not self.heap:
                raise QnetError("the chain can never deliver: no event left")
            done = self.step()
            if done:
                return done[0]
            if self.events > max_events:
                raise QnetError(
                    f"no end-to-end pair after {max_events} events (t = {self.now:.6g} s): the chain "
                    "practically never delivers (cutoffs too short?); raise max_events to insist"
                )

    def run(self, until_s: float, progress: Callable[[float], None] | None = None, bins: int = 0) -> None:
        """Traffic mode: run the clock to ``until_s`` (s); ``progress(t)`` now and then.

        ``bins`` > 0 records the memory-seconds in use per node at the ends of ``bins`` equal
        slices of [0, until_s) (:attr:`snapshots`: occupancy over time).
        """
        self.stop_at_delivery = False
        edges = [until_s * (k + 1) / bins for k in range(bins)]
        self.snapshots: list[list[float]] = []
        instants = 0
        heap, step = self.heap, self.step
        next_edge = edges[0] if edges else math.inf
        while heap and heap[0][0] < until_s:
            while heap[0][0] > next_edge:
                self.snapshots.append(self._node_areas_at(next_edge))
                next_edge = edges[len(self.snapshots)] if len(self.snapshots) < bins else math.inf
            step()
            instants += 1
            if progress is not None and instants % 4096 == 0:
                progress(self.now)
        while len(self.snapshots) < bins - 1:
            self.snapshots.append(self._node_areas_at(edges[len(self.snapshots)]))
        self.now = until_s

"""Memories, attempts and reservations of the repeater event engine (a base class of its Engine).

Their compiled twins are in :mod:`qnet.repeater.engine.compiled.memories` (and ``compiled.rules``
for the reservations): a rule changed here must be changed there.
"""

from __future__ import annotations

import heapq

from qnet.link.multiplexing import success_per_round
from qnet.repeater.engine.model import HERALD, Pair, Pool, RequestState

__all__ = ["Occupancy", "Resources"]


class Occupancy:
    """Memory-seconds in use, from time integrals per link end (``end_area``, ``end_used``,
    ``end_since``, ``end_node``: end k = 2 link + side); shared by both event loops.

    Examples
    --------
    >>> from qnet.repeater.engine.resources import Occupancy
    >>> occ = Occupancy()
    >>> occ.node_names, occ.links = ["a", "b"], [None]
    >>> occ.end_area, occ.end_used, occ.end_since, occ.end_node = [1.0, 0.0], [1, 2], [2.0, 2.0], [0, 1]
    >>> occ.close(3.0)  # end 0: 1 + 1 x 1 s; end 1: 0 + 2 x 1 s
    ([2.0, 2.0], [4.0])
    """

    def _node_areas_at(self, t: float) -> list[float]:
        """Memory-seconds in use per node from 0 to ``t`` (no event in between)."""
        out = [0.0] * len(self.node_names)
        for k, node in enumerate(self.end_node):
            out[node] += self.end_area[k] + self.end_used[k] * (t - self.end_since[k])
        return out

    def close(self, t: float) -> tuple[list[float], list[float]]:
        """Occupancy integrals up to time ``t``: (memory-seconds in use per node, per link)."""
        self.now = t
        node_area = [0.0] * len(self.node_names)
        link_area = [0.0] * len(self.links)
        for k in range(len(self.end_area)):
            self.end_area[k] += self.end_used[k] * (t - self.end_since[k])
            self.end_since[k] = t
            node_area[self.end_node[k]] += self.end_area[k]
            link_area[k // 2] += self.end_area[k]
        return node_area, link_area


class Resources(Occupancy):
    """Memory bookkeeping, attempt bundles and reservations; :class:`~qnet.repeater.engine.core.Engine` adds the events.

    Examples
    --------
    >>> from qnet.repeater.engine import Engine
    >>> from qnet.repeater.engine.resources import Resources
    >>> issubclass(Engine, Resources)
    True
    """

    # ------------------------------------------------------------------ memories

    def _account(self, g: int, side: int, delta: int) -> None:
        """Memories in use at one end of link ``g`` change by ``delta`` now (time integrals kept per end)."""
        k = 2 * g + side
        t = self.now
        used, since = self.end_used, self.end_since
        self.end_area[k] += used[k] * (t - since[k])
        since[k] = t
        used[k] += delta
        node = self.end_node[k]
        node_held = self.node_held
        held = node_held[node] = node_held[node] + delta
        if held > self.node_peak[node]:
            self.node_peak[node] = held

    def _take(self, pool: Pool, side: int) -> int:
        slot = heapq.heappop(pool.free[side])
        if pool.counted:
            self._account(pool.link, side, +1)
        return slot

    def _give(self, pool: Pool, side: int, slot: int) -> None:
        heapq.heappush(pool.free[side], slot)
        if pool.counted:
            self._account(pool.link, side, -1)

    def _release(self, mem: tuple, starts: list) -> None:
        """Free one memory (side, pool, slot) and let its pool attempt again if it should."""
        side, pool, slot = mem
        free = pool.free
        heapq.heappush(free[side], slot)
        if pool.counted:
            self._account(pool.link, side, -1)
        if pool.bundle is None and pool.need > len(pool.waiting) and free[0] and free[1]:
            self._start_bundle(pool, starts)  # (reserved memories go back to their link in _unreserve)

    def _release_pair(self, pair: Pair, starts: list) -> None:
        """Free both memories of ``pair`` at once, then let their pools attempt (lo end first).

        Both are free before either pool starts a bundle: a link pair that is dropped returns two
        memories of one pool, and the bundle that follows uses both.
        """
        side, pool, slot = pair.mem_lo
        side_hi, pool_hi, slot_hi = pair.mem_hi
        self._give(pool, side, slot)
        self._give(pool_hi, side_hi, slot_hi)
        if pool.bundle is None and pool.need > len(pool.waiting) and pool.free[0] and pool.free[1]:
            self._start_bundle(pool, starts)
        if pool_hi.bundle is None and pool_hi.need > len(pool_hi.waiting) and pool_hi.free[0] and pool_hi.free[1]:
            self._start_bundle(pool_hi, starts)

    # ------------------------------------------------------------------ attempts

    def _maybe_attempt(self, pool: Pool, starts: list) -> None:
        if pool.bundle is None and pool.need > len(pool.waiting) and pool.free[0] and pool.free[1]:
            self._start_bundle(pool, starts)

    def _start_bundle(self, pool: Pool, starts: list) -> None:
        """Take every free memory pair of ``pool`` for one attempt bundle (to be drawn with ``starts``)."""
        fa, fb = pool.free
        m = min(len(fa), len(fb))
        if m == 1:
            pool.bundle = ([heapq.heappop(fa)], [heapq.heappop(fb)])
        else:
            pool.bundle = ([heapq.heappop(fa) for _ in range(m)], [heapq.heappop(fb) for _ in range(m)])
        if pool.counted:
            self._account(pool.link, 0, m)
            self._account(pool.link, 1, m)
        pool.token += 1
        starts.append(pool)

    def _draw(self, starts: list[Pool], t: float) -> None:
        """Schedule the heralds of the bundles in ``starts``, started at ``t`` (one draw each, in order)."""
        if self.vector_draws:
            heap, geometric, p_cache, attempt_s = self.heap, self.rng.geometric, self.p_cache, self.attempt_s
            for pool in starts:
                g, m = pool.link, len(pool.bundle[0])
                p = p_cache.get((g, m)) or self._p_round(g, m)
                heapq.heappush(heap, (t + geometric(p) * attempt_s[g], HERALD, self.seq, pool, pool.token, 0))
                self.seq += 1
        else:
            for pool in starts:
                ti, leaf_id = self.links[pool.link].source.sample(self.rng, t)
                self._push(ti, HERALD, pool, pool.token, leaf_id)
        starts.clear()

    def _p_round(self, g: int, m: int) -> float:
        """Success probability per round of link ``g`` with ``m`` memories (cached)."""
        key = (g, m)
        p = self.p_cache.get(key)
        if p is None:
            p = self.p_cache[key] = success_per_round(self.links[g].p, m)
        return p

    def _trim(self, pool: Pool, starts: list) -> None:
        """Discard the oldest waiting pairs that no request needs; stop an attempt nobody needs."""
        while len(pool.waiting) > max(pool.need, 0):
            pair = pool.waiting.popleft()
            self._drop(pair, "discarded", starts)
        if pool.bundle is not None and pool.need <= len(pool.waiting):
            self._cancel(pool)

    def _cancel(self, pool: Pool) -> None:
        """Abandon the pool's running attempt: its memories are free now, its herald will be ignored."""
        for side in (0, 1):
            for slot in pool.bundle[side]:
                heapq.heappush(pool.free[side], slot)
            if pool.counted:
                self._account(pool.link, side, -len(pool.bundle[side]))
        pool.bundle = None
        pool.token += 1

    def _drop(self, pair: Pair, event: str, starts: list) -> None:
        pair.alive = False
        self._trace(event, pair, pair.owner)
        self._release_pair(pair, starts)

    def _reserve(self, req: RequestState) -> bool:
        """Reserve ``share`` memories at both ends of every hop, all or none."""
        hops = req.spec.route.hops
        share = req.spec.share
        if any(len(self.free[g][0]) < share[i] or len(self.free[g][1]) < share[i] for i, g in enumerate(hops)):
            return False
        req.pools = []
        for i, g in enumerate(hops):
            shared = self.shared_pools[g]
            own = ([self._take(shared, 0) for _ in range(share[i])], [self._take(shared, 1) for _ in range(share[i])])
            pool = Pool(g, req.index, own, True)
            pool.users = [(req.index, i)]
            req.pools.append(pool)
        return True

    def _unreserve(self, req: RequestState, t: float) -> None:
        """Give ``req``'s reserved memories back and start whoever waits for them."""
        for pool in req.pools:
            if pool.bundle is not None:
                self._cancel(pool)
            shared = self.shared_pools[pool.link]
            for side in (0, 1):
                for slot in pool.free[side]:
                    self._give(shared, side, slot)
                pool.free[side].clear()
        req.pools = [self.shared_pools[g] for g in req.spec.route.hops]
        self._serve_waiters(t)

    def _serve_waiters(self, t: float) -> None:
        """Start waiting requests that can reserve their memories, in queue order.

        A request that cannot reserve keeps its links for itself: a later one may pass it only
        on a route that shares none of them (no starvation; disjoint routes never wait).
        """
        kept, blocked = [], set()
        while self.waiters:
            key, r = heapq.heappop(self.waiters)
            req = self.requests[r]
            if not req.active or req.building or req.key != key:
                continue
            hops = req.spec.route.hops
            if blocked.isdisjoint(hops) and self._reserve(req):
                self._start_pair(req, t)
            else:
                kept.append((key, r))
                blocked.update(hops)
        for item in kept:
            heapq.heappush(self.waiters, item)


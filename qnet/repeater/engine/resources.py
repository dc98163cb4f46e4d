"""Memories, attempts and reservations of the repeater event engine (a base class of its Engine)."""

from __future__ import annotations

import heapq

from qnet.link.multiplexing import success_per_round
from qnet.repeater.engine.model import HERALD, Pair, Pool, RequestState

__all__ = ["Resources"]


class Resources:
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
        self.end_area[k] += self.end_used[k] * (t - self.end_since[k])
        self.end_since[k] = t
        self.end_used[k] += delta
        node = self.end_node[k]
        held = self.node_held[node] + delta
        self.node_held[node] = held
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
        self._give(pool, side, slot)
        self._maybe_attempt(pool, starts)  # (reserved memories go back to their link in _unreserve)

    # ------------------------------------------------------------------ attempts

    def _maybe_attempt(self, pool: Pool, starts: list) -> None:
        if pool.bundle is not None or pool.need <= len(pool.waiting) or not pool.free[0] or not pool.free[1]:
            return
        fa, fb = pool.free
        m = min(len(fa), len(fb))
        pool.bundle = ([heapq.heappop(fa) for _ in range(m)], [heapq.heappop(fb) for _ in range(m)])
        if pool.counted:
            self._account(pool.link, 0, m)
            self._account(pool.link, 1, m)
        pool.token += 1
        starts.append(pool)

    def _draw(self, starts: list[Pool], t: float) -> None:
        """Schedule the heralds of the bundles in ``starts``, started at ``t`` (one vectorised draw when possible)."""
        if not starts:
            return
        if self.vector_draws and len(starts) == 1:  # the same draw as a one-element array
            pool = starts[0]
            d = self.rng.geometric(self._p_round(pool.link, len(pool.bundle[0])))
            self._push(t + d * self.links[pool.link].attempt_time_s, HERALD, pool, pool.token)
        elif self.vector_draws:
            p = [self._p_round(pool.link, len(pool.bundle[0])) for pool in starts]
            draws = self.rng.geometric(p)
            for pool, d in zip(starts, draws):
                self._push(t + d * self.links[pool.link].attempt_time_s, HERALD, pool, pool.token)
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
        self._release(pair.mem_lo, starts)
        self._release(pair.mem_hi, starts)

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


"""The event engine's rules (events, requests, swaps, deliveries), written once.

Compiled with numba when it is installed, else run as plain Python (:mod:`~qnet.repeater.engine.jit`):
the same functions, the same events in the same order and the same draws from the same
generators, so both give the same deliveries, times and occupancy to the last bit
(``tests/repeater/test_compiled_engine.py`` checks it feature by feature). Written for numba's
nopython mode and for a plain run's lists alike (:mod:`~qnet.repeater.engine.store`).

Layout (:mod:`qnet.repeater.engine.store`): pools ``0..L-1`` are the links' shared
pools, pool ``L + h`` the reservation of route hop ``h`` (the hops of all requests numbered
in one layout, ``hop_ptr``); per-request boundaries likewise (``bnd_ptr``, n + 1 each). A
pair's memories are row ``p_mem[id]``: (side, pool, slot) of its lo end, then of its hi end.
"""

from __future__ import annotations

import heapq
import math

from qnet.repeater.engine.jit import njit
from qnet.repeater.engine.memories import (
    account,
    cancel,
    draw,
    drop,
    give,
    maybe_attempt,
    release,
    release_pair,
    take,
    trim,
)
from qnet.repeater.engine.store import (
    ARRIVAL,
    CUTOFF,
    ERR,
    EVENTS,
    EVN,
    HERALD,
    NDELIV,
    NDIRTY,
    NOW,
    NSNAP,
    NSTARTS,
    NTREES,
    START,
    STOP,
    SWAP_DONE,
    add_delivery,
    bury,
    fill,
    ints,
    reset,
    compact_trees,
    dirty_pop,
    dirty_push,
    event_done,
    free_dead,
    mark,
    new_pair,
    new_tree,
    pop_event,
    pop_free,
    push_event,
    push_free,
    waiting_append,
    waiting_first,
    waiting_remove,
    trace,
    T_HERALD,
    T_SWAP,
    T_SWAP_FAILED,
    T_CUTOFF,
    T_DISCARDED,
    T_DELIVERY,
    T_FUSION,
)
from qnet.repeater.engine.model import demands_by as _demands_by_py

INF = math.inf
_demands_by = njit(cache=True)(_demands_by_py)  # the engine's own function, compiled


# ---------------------------------------------------------------------- heralds


@njit(cache=True)
def _herald(S, rng, t, p, tok, leaf):
    if tok != S.token[p] or not S.has_bundle[p]:
        return
    S.has_bundle[p] = False
    g = S.pool_link[p]
    S.heralds[g] += 1
    S.sf[NOW] = t
    off_a, off_b = S.slot_off[2 * p], S.slot_off[2 * p + 1]
    pid = new_pair(S, t, -1, 0, p, S.bund_buf[off_a], 1, p, S.bund_buf[off_b], -1, p, leaf, 0, 0)
    waiting_append(S, p, pid)
    trace(S, t, T_HERALD, pid, -1, -1, -1, S.pool_owner[p], -1, g)
    base = S.si[NSTARTS]
    m = S.bund_cnt[2 * p]
    if m > 1:  # the bundle's other memories are free again
        for side in range(2):
            off = S.slot_off[2 * p + side]
            for i in range(1, m):
                push_free(S, p, side, S.bund_buf[off + i])
            if S.pool_counted[p]:
                account(S, g, side, 1 - m)
    for u in range(S.users_ptr[p], S.users_ptr[p + 1]):
        r, i = S.users_r[u], S.users_i[u]
        if S.building[r] and not S.covered[S.hop_ptr[r] + i]:
            mark(S, r, i)
            mark(S, r, i + 1)
    c = S.link_cut[g]
    if c < INF:
        S.p_cut[pid] = t + c
        push_event(S, t + c, CUTOFF, pid, 0, 0)
    if S.wait_cnt[p] > S.need[p]:
        trim(S, p)
    maybe_attempt(S, p)
    draw(S, rng, base, t)


# ---------------------------------------------------------------------- requests


@njit(cache=True)
def _begin_build(S, rng, tie, r, t):
    if not S.active[r] or S.building[r]:
        return
    if not math.isnan(S.rate[r]) and S.served[r] >= S.demanded[r]:
        S.demanded[r] = _demands_by(S.start[r], S.rate[r], t, True)
        if S.served[r] >= S.demanded[r]:  # no unmet demand: wake up at the next one
            nxt = S.start[r] + S.demanded[r] / S.rate[r]
            if nxt < S.stop[r]:
                push_event(S, nxt, ARRIVAL, r, 0, 0)
            return
    S.build_start[r] = t
    key = S.key[r]
    key[0] = -S.prio[r]
    key[1] = t
    key[2] = tie.random() if S.contended else 0.0
    if S.reserve:
        heapq.heappush(S.waiters, (key[0], key[1], key[2], r))
        _serve_waiters(S, rng, t)
        return
    _start_pair(S, rng, r, t)


@njit(cache=True)
def _start_pair(S, rng, r, t):
    S.building[r] = True
    h0, b0, n = S.hop_ptr[r], S.bnd_ptr[r], S.nhops[r]
    fill(S.covered, h0, h0 + n, False)
    fill(S.by_lo, b0, b0 + n + 1, -1)
    fill(S.by_hi, b0, b0 + n + 1, -1)
    _need(S, rng, r, 0, n, 1, t, False)


@njit(cache=True)
def _need(S, rng, r, i0, i1, delta, t, only_uncovered):
    base = S.si[NSTARTS]
    h0 = S.hop_ptr[r]
    for i in range(i0, i1):
        if only_uncovered and S.covered[h0 + i]:
            continue
        p = S.req_pool[h0 + i]
        S.need[p] += delta
        if delta < 0:
            trim(S, p)
        maybe_attempt(S, p)
    draw(S, rng, base, t)


@njit(cache=True)
def _stop(S, rng, r, t):
    S.active[r] = False
    if not S.building[r]:
        return
    S.building[r] = False
    base = S.si[NSTARTS]
    b0 = S.bnd_ptr[r]
    for j in range(S.nhops[r] + 1):
        pid = S.by_lo[b0 + j]
        if pid >= 0 and S.p_alive[pid] == 1:
            drop(S, pid, T_DISCARDED)
    draw(S, rng, base, t)
    _need(S, rng, r, 0, S.nhops[r], -1, t, True)
    if S.reserve:
        _unreserve(S, rng, r, t)


@njit(cache=True)
def _reserve(S, r):
    h0, n, L = S.hop_ptr[r], S.nhops[r], len(S.pool_link) - len(S.hops)
    for i in range(n):
        g = S.hops[h0 + i]
        if S.free_cnt[2 * g] < S.share[h0 + i] or S.free_cnt[2 * g + 1] < S.share[h0 + i]:
            return False
    for i in range(n):
        g, q = S.hops[h0 + i], L + h0 + i
        for side in range(2):
            S.free_cnt[2 * q + side] = 0
            for _ in range(S.share[h0 + i]):
                push_free(S, q, side, take(S, g, side))
        S.need[q] = 0
        S.has_bundle[q] = False
        S.wait_cnt[q] = 0
        S.req_pool[h0 + i] = q
    return True


@njit(cache=True)
def _unreserve(S, rng, r, t):
    h0 = S.hop_ptr[r]
    for i in range(S.nhops[r]):
        q, g = S.req_pool[h0 + i], S.hops[h0 + i]
        if S.has_bundle[q]:
            cancel(S, q)
        for side in range(2):
            while S.free_cnt[2 * q + side] > 0:
                give(S, g, side, pop_free(S, q, side))
        S.req_pool[h0 + i] = g
    _serve_waiters(S, rng, t)


@njit(cache=True)
def _serve_waiters(S, rng, t):
    kept = [(0.0, 0.0, 0.0, 0)]
    kept.pop()
    touched = [0]
    touched.pop()
    while len(S.waiters) > 0:
        item = heapq.heappop(S.waiters)
        k0, k1, k2, r = item
        key = S.key[r]
        if not S.active[r] or S.building[r] or key[0] != k0 or key[1] != k1 or key[2] != k2:
            continue
        h0, n = S.hop_ptr[r], S.nhops[r]
        clear = True
        for i in range(n):
            if S.blocked[S.hops[h0 + i]]:
                clear = False
        if clear and _reserve(S, r):
            _start_pair(S, rng, r, t)
        else:
            kept.append(item)
            for i in range(n):
                g = S.hops[h0 + i]
                if not S.blocked[g]:
                    S.blocked[g] = True
                    touched.append(g)
    for g in touched:
        S.blocked[g] = False
    for item in kept:
        heapq.heappush(S.waiters, item)


# ---------------------------------------------------------------------- pairs of a request


@njit(cache=True)
def _claim(S, r, i, pid):
    h = S.hop_ptr[r] + i
    p = S.req_pool[h]
    waiting_remove(S, p, -1)
    S.need[p] -= 1
    S.covered[h] = True
    S.p_owner[pid], S.p_lo[pid], S.p_hi[pid] = r, i, i + 1
    S.p_tree[pid] = new_tree(S, 0, i, S.p_exists[pid], 0.0, -1, -1, S.p_leaf[pid])
    if S.left_side[h] == 1:
        m = S.p_mem[pid]
        for k in range(3):
            m[k], m[3 + k] = m[3 + k], m[k]
    if S.hub[r] >= 0:
        return pid  # a GHZ leg is claimed only to be fused at once
    b0 = S.bnd_ptr[r]
    c = min(S.cut_b[b0 + i], S.cut_b[b0 + i + 1])
    cut_at = S.p_exists[pid] + c
    if cut_at != S.p_cut[pid]:
        S.p_cut[pid] = cut_at
        if c < INF:
            push_event(S, cut_at, CUTOFF, pid, 0, 0)
    return pid


@njit(cache=True)
def _remove(S, r, pid):
    b0 = S.bnd_ptr[r]
    if S.by_lo[b0 + S.p_lo[pid]] == pid:
        S.by_lo[b0 + S.p_lo[pid]] = -1
    if S.by_hi[b0 + S.p_hi[pid]] == pid:
        S.by_hi[b0 + S.p_hi[pid]] = -1


@njit(cache=True)
def _place(S, r, pid):
    b0 = S.bnd_ptr[r]
    S.by_lo[b0 + S.p_lo[pid]] = pid
    S.by_hi[b0 + S.p_hi[pid]] = pid


@njit(cache=True)
def _available(S, r, pid, in_loop):
    """``pid`` exists: look at its ends (``in_loop``: straight into ``r``'s boundaries being processed), arm its cutoff."""
    lo, hi = S.p_lo[pid], S.p_hi[pid]
    if in_loop:
        dirty_push(S, r, lo)
        dirty_push(S, r, hi)
    else:
        mark(S, r, lo)
        mark(S, r, hi)
    b0 = S.bnd_ptr[r]
    c = S.cut_b[b0 + lo] if S.cut_b[b0 + lo] < S.cut_b[b0 + hi] else S.cut_b[b0 + hi]
    S.p_cut[pid] = S.p_exists[pid] + c
    if c < INF:
        push_event(S, S.p_cut[pid], CUTOFF, pid, 0, 0)


@njit(cache=True)
def _discard(S, rng, r, pid, t, kind):
    _remove(S, r, pid)
    S.sf[NOW] = t
    base = S.si[NSTARTS]
    drop(S, pid, kind)
    draw(S, rng, base, t)
    h0, lo, hi = S.hop_ptr[r], S.p_lo[pid], S.p_hi[pid]
    fill(S.covered, h0 + lo, h0 + hi, False)
    _need(S, rng, r, lo, hi, 1, t, False)


@njit(cache=True)
def _may_swap(S, r, left, lw, right, rw, j):
    if (not lw and S.p_swapping[left]) or (not rw and S.p_swapping[right]):
        return False
    if not S.nested[r]:
        return True
    lo = j - 1 if lw else S.p_lo[left]
    size = j - lo
    return size == ((j + 1) if rw else S.p_hi[right]) - j and lo % (2 * size) == 0


@njit(cache=True)
def _side_pair(S, r, i, owned):
    """The pair at one side of a boundary: ``owned`` (>= 0), else the first waiting in hop ``i``'s pool, else -1."""
    if owned >= 0:
        return owned, False
    h = S.hop_ptr[r] + i
    p = S.req_pool[h]
    if S.covered[h] or S.wait_cnt[p] == 0:
        return -1, False
    return waiting_first(S, p), True


@njit(cache=True)
def _try_swap(S, rng, r, j):
    b0 = S.bnd_ptr[r]
    left, lw = _side_pair(S, r, j - 1, S.by_hi[b0 + j])
    if left < 0:
        return
    right, rw = _side_pair(S, r, j, S.by_lo[b0 + j])
    if right < 0 or not _may_swap(S, r, left, lw, right, rw, j):
        return
    if lw:
        _claim(S, r, j - 1, left)
    if rw:
        _claim(S, r, j, right)
    le, re = S.p_exists[left], S.p_exists[right]
    start = le if le > re else re
    S.sf[NOW] = start
    a = S.swap_ok_b[b0 + j]
    ok = a >= 1.0 or rng.random() < a
    _remove(S, r, left)
    _remove(S, r, right)
    S.p_alive[left] = 0
    S.p_alive[right] = 0
    bury(S, left)
    bury(S, right)
    done = start + S.swap_t_b[b0 + j]
    tree = new_tree(S, 1, j, start, done, S.p_tree[left], S.p_tree[right], 0)
    ml, mr = S.p_mem[left], S.p_mem[right]
    new = new_pair(S, done, tree, ml[0], ml[1], ml[2], mr[3], mr[4], mr[5], r, -1, 0, S.p_lo[left], S.p_hi[right])
    S.p_swapping[new] = 1
    S.p_ok[new] = 1 if ok else 0
    if S.record:
        at = 2 * S.pool_link[ml[4]] + ml[3]  # the left pair's hi end: the swapping node
        trace(S, start, T_SWAP, new, S.p_serial[left], S.p_serial[right], -1, r, S.end_node[at], -1)
    base = S.si[NSTARTS]
    release(S, left, 3)
    release(S, right, 0)
    draw(S, rng, base, start)
    if S.swap_t_b[b0 + j] > 0.0:
        _place(S, r, new)
        push_event(S, done, SWAP_DONE, new, 0, 0)
    elif ok:
        S.p_swapping[new] = 0
        _place(S, r, new)
        _available(S, r, new, True)
    else:
        _discard(S, rng, r, new, done, T_SWAP_FAILED)


@njit(cache=True)
def _try_fuse(S, rng, tie, r):
    h0, b0 = S.hop_ptr[r], S.bnd_ptr[r]
    for i in range(3):
        if S.covered[h0 + i] or S.wait_cnt[S.req_pool[h0 + i]] == 0:
            return
    legs = ints(3, 0)
    for i in range(3):
        legs[i] = _claim(S, r, i, waiting_first(S, S.req_pool[h0 + i]))
    start = max(S.p_exists[legs[0]], max(S.p_exists[legs[1]], S.p_exists[legs[2]]))
    S.sf[NOW] = start
    a = S.swap_ok_b[b0 + 1]
    ok = a >= 1.0 or rng.random() < a
    base = S.si[NSTARTS]
    for k in range(3):
        S.p_alive[legs[k]] = 0
        bury(S, legs[k])
        trace(S, start, T_FUSION if ok else T_SWAP_FAILED, legs[k], -1, -1, -1, r, S.hub[r], -1)
        release_pair(S, legs[k])
    draw(S, rng, base, start)
    if not ok:
        fill(S.covered, h0, h0 + 3, False)
        _need(S, rng, r, 0, 3, 1, start, False)
        return
    tree = new_tree(S, 2, -1, 0.0, 0.0, S.p_tree[legs[0]], S.p_tree[legs[1]], S.p_tree[legs[2]])
    done = start + S.swap_t_b[b0 + 1]
    trace(S, done, T_DELIVERY, -1, S.p_serial[legs[0]], S.p_serial[legs[1]], S.p_serial[legs[2]], r, S.hub[r], -1)
    _finish(S, rng, tie, r, done, tree, -1)


@njit(cache=True)
def _full(S, r):
    b0 = S.bnd_ptr[r]
    full = S.by_lo[b0]
    if full < 0 and S.nhops[r] == 1:
        cand, waiting = _side_pair(S, r, 0, S.by_hi[b0 + 1])
        if waiting:
            return _claim(S, r, 0, cand)
    if full >= 0 and S.p_hi[full] == S.nhops[r] and not S.p_swapping[full]:
        return full
    return -1


@njit(cache=True)
def _finish(S, rng, tie, r, t, tree, pid):
    origin = S.build_start[r] if math.isnan(S.rate[r]) else S.start[r] + S.served[r] / S.rate[r]
    add_delivery(S, r, t, t - origin, tree)
    S.served[r] += 1
    if pid >= 0:
        _remove(S, r, pid)
        S.p_alive[pid] = 0
        bury(S, pid)
        trace(S, S.sf[NOW], T_DELIVERY, pid, -1, -1, -1, r, -1, -1)
        base = S.si[NSTARTS]
        release_pair(S, pid)
        draw(S, rng, base, t)
    S.building[r] = False
    if S.reserve:
        _unreserve(S, rng, r, t)
    if not S.chain:  # (chain mode stops at a delivery)
        _begin_build(S, rng, tie, r, t)


# ---------------------------------------------------------------------- one instant


@njit(cache=True)
def _key_less(S, r, q):
    a, b = S.key[r], S.key[q]
    for k in range(3):
        if a[k] != b[k]:
            return a[k] < b[k]
    return False


@njit(cache=True)
def _swaps_and_deliveries(S, rng, tie):
    n_dirty = S.si[NDIRTY]
    touched = ints(n_dirty, 0)
    n = 0
    for a in range(n_dirty):
        r = S.dirty_reqs[a]
        S.in_dirty[r] = False
        if S.building[r]:
            b = n  # insertion sort by key (stable, as sorted())
            while b > 0 and _key_less(S, r, touched[b - 1]):
                touched[b] = touched[b - 1]
                b -= 1
            touched[b] = r
            n += 1
    S.si[NDIRTY] = 0
    for a in range(n):
        r = touched[a]
        b0, h0, nh = S.bnd_ptr[r], S.hop_ptr[r], S.nhops[r]
        ghz = S.hub[r] >= 0
        while S.dirty_cnt[r] > 0:
            j = dirty_pop(S, r)
            if (
                0 < j < nh
                and not ghz
                and (
                    (S.by_hi[b0 + j] >= 0 or (not S.covered[h0 + j - 1] and S.wait_cnt[S.req_pool[h0 + j - 1]] > 0))
                    and (S.by_lo[b0 + j] >= 0 or (not S.covered[h0 + j] and S.wait_cnt[S.req_pool[h0 + j]] > 0))
                )
            ):
                _try_swap(S, rng, r, j)
    for a in range(n):
        r = touched[a]
        if not S.building[r]:
            continue
        if S.hub[r] >= 0:
            _try_fuse(S, rng, tie, r)
        else:
            full = _full(S, r)
            if full >= 0:
                _finish(S, rng, tie, r, S.p_exists[full], S.p_tree[full], full)


@njit(cache=True)
def _arrive(S, rng, t, pid):
    r = S.p_owner[pid]
    if S.p_alive[pid] != 1 or not S.building[r] or S.by_lo[S.bnd_ptr[r] + S.p_lo[pid]] != pid:
        return
    S.sf[NOW] = t
    if S.p_ok[pid]:
        S.p_swapping[pid] = 0
        _available(S, r, pid, False)
    else:
        _discard(S, rng, r, pid, t, T_SWAP_FAILED)


@njit(cache=True)
def _cutoff(S, rng, t, pid):
    if S.p_alive[pid] != 1 or S.p_swapping[pid] or t != S.p_cut[pid]:
        return
    S.sf[NOW] = t
    if S.p_owner[pid] < 0:
        p = S.p_pool[pid]
        waiting_remove(S, p, pid)
        base = S.si[NSTARTS]
        drop(S, pid, T_CUTOFF)
        maybe_attempt(S, p)
        draw(S, rng, base, t)
    else:
        _discard(S, rng, S.p_owner[pid], pid, t, T_CUTOFF)


@njit(cache=True)
def _instant(S, atol):
    """Pop every event within TIME_RTOL of the earliest, sorted by kind, time, order (as rows of a table)."""
    first = pop_event(S)
    t0 = first[0]
    lim = t0 + 1e-9 * abs(t0) + atol  # TIME_RTOL
    batch = [first]
    while S.si[EVN] > 0 and S.ev_t[0] <= lim:
        ev = pop_event(S)
        b = len(batch)
        batch.append(ev)
        while b > 0 and (ev[1], ev[0], ev[2]) < (batch[b - 1][1], batch[b - 1][0], batch[b - 1][2]):
            batch[b] = batch[b - 1]
            b -= 1
        batch[b] = ev
    S.si[EVENTS] += len(batch)
    return batch


@njit(cache=True)
def _step(S, rng, tie, atol):
    delivered = S.si[NDELIV]
    batch = _instant(S, atol)
    for ev in batch:
        if ev[1] == HERALD:
            _herald(S, rng, ev[0], ev[3], ev[4], ev[5])
        elif ev[1] == SWAP_DONE:
            _arrive(S, rng, ev[0], ev[3])
            event_done(S, SWAP_DONE, ev[3])
    if S.si[NDIRTY] > 0:
        _swaps_and_deliveries(S, rng, tie)
        if S.chain and S.si[NDELIV] > delivered:
            return  # chain mode: the instant's other events are not applied
    for ev in batch:
        t, kind, target = ev[0], ev[1], ev[3]
        if kind == HERALD or kind == SWAP_DONE:
            continue
        S.sf[NOW] = max(S.sf[NOW], t)
        if kind == CUTOFF:
            _cutoff(S, rng, t, target)
            event_done(S, CUTOFF, target)
        elif kind == STOP:
            _stop(S, rng, target, t)
        elif kind == START:
            S.active[target] = True
            if S.stop[target] < INF:
                push_event(S, S.stop[target], STOP, target, 0, 0)
            _begin_build(S, rng, tie, target, t)
        else:  # ARRIVAL: a demand arrived while the request had none left
            _begin_build(S, rng, tie, target, t)
    free_dead(S)


@njit(cache=True)
def _node_areas_at(S, t, out):
    fill(out, 0, len(out), 0.0)
    for k in range(len(S.end_node)):
        out[S.end_node[k]] += S.end_area[k] + S.end_used[k] * (t - S.end_since[k])


@njit(cache=True)
def run_until(S, rng, tie, until_s, atol, max_instants):
    """Run instants while the next event is before ``until_s``, at most ``max_instants``; True when done."""
    bins = len(S.edges)
    for _ in range(max_instants):
        if S.si[EVN] == 0 or S.ev_t[0] >= until_s:
            return True
        while S.si[NSNAP] < bins and S.ev_t[0] > S.edges[S.si[NSNAP]]:
            _node_areas_at(S, S.edges[S.si[NSNAP]], S.snaps[S.si[NSNAP]])
            S.si[NSNAP] += 1
        if 4 * S.si[NTREES] > 3 * len(S.t_kind):
            compact_trees(S)
        _step(S, rng, tie, atol)
        if S.si[ERR] != 0:
            return True
    return S.si[EVN] == 0 or S.ev_t[0] >= until_s


@njit(cache=True)
def start_requests(S):
    """Schedule every request's START (the interpreted engine's reset)."""
    for r in range(len(S.start)):
        if S.start[r] < INF:
            push_event(S, S.start[r], START, r, 0, 0)


@njit(cache=True)
def deliver(S, rng, tie, atol, max_events, count):
    """Chain mode: ``count`` deliveries of request 0, each from a fresh start (:func:`store.reset`).

    Returns (deliveries made, status): status 0 all made, 1 no event left (the chain can never
    deliver), 2 a delivery needed more than ``max_events`` events, 3 an error (``store.error_of``).
    """
    for k in range(count):
        reset(S)
        start_requests(S)
        n = S.si[NDELIV]
        while S.si[NDELIV] == n:
            if S.si[EVN] == 0:
                return k, 1
            if 4 * S.si[NTREES] > 3 * len(S.t_kind):
                compact_trees(S)
            _step(S, rng, tie, atol)
            if S.si[ERR] != 0:
                return k, 3
            if S.si[NDELIV] == n and S.si[EVENTS] > max_events:
                return k, 2
    return count, 0

"""Memories and attempt bundles of the compiled engine: the twin of :mod:`qnet.repeater.engine.resources`.

Each function mirrors the method of the same name (without its underscore) there; see
:mod:`qnet.repeater.engine.compiled.rules` for the layout.
"""

from __future__ import annotations

import numpy as np

from qnet.repeater.engine.compiled.jit import njit
from qnet.repeater.engine.compiled.store import (
    HERALD, NOW, NSTARTS, T_DISCARDED, bury, pop_free, push_event, push_free, trace, waiting_remove,
)

__all__ = ["account", "take", "give", "maybe_attempt", "start_bundle", "release", "release_pair", "draw", "cancel", "trim",
           "drop"]


@njit(cache=True)
def account(S, g, side, delta):
    k = 2 * g + side
    t = S.sf[NOW]
    S.end_area[k] += S.end_used[k] * (t - S.end_since[k])
    S.end_since[k] = t
    S.end_used[k] += delta
    node = S.end_node[k]
    held = S.node_held[node] + delta
    S.node_held[node] = held
    if held > S.node_peak[node]:
        S.node_peak[node] = held


@njit(cache=True)
def take(S, p, side):
    slot = pop_free(S, p, side)
    if S.pool_counted[p]:
        account(S, S.pool_link[p], side, 1)
    return slot


@njit(cache=True)
def give(S, p, side, slot):
    push_free(S, p, side, slot)
    if S.pool_counted[p]:
        account(S, S.pool_link[p], side, -1)


@njit(cache=True)
def maybe_attempt(S, p):
    if not S.has_bundle[p] and S.need[p] > S.wait_cnt[p] and S.free_cnt[2 * p] > 0 and S.free_cnt[2 * p + 1] > 0:
        start_bundle(S, p)


@njit(cache=True)
def start_bundle(S, p):
    m = min(S.free_cnt[2 * p], S.free_cnt[2 * p + 1])
    for side in range(2):
        k = 2 * p + side
        off = S.slot_off[k]
        for i in range(m):
            S.bund_buf[off + i] = pop_free(S, p, side)
        S.bund_cnt[k] = m
    S.has_bundle[p] = True
    if S.pool_counted[p]:
        account(S, S.pool_link[p], 0, m)
        account(S, S.pool_link[p], 1, m)
    S.token[p] += 1
    n = S.si[NSTARTS]
    if n == len(S.starts):
        grown = np.empty(2 * n, np.int64)
        grown[:n] = S.starts
        S.starts = grown
    S.starts[n] = p
    S.si[NSTARTS] = n + 1


@njit(cache=True)
def release(S, pid, end):
    m = S.p_mem[pid]
    p = m[end + 1]
    give(S, p, m[end], m[end + 2])
    maybe_attempt(S, p)


@njit(cache=True)
def release_pair(S, pid):
    m = S.p_mem[pid]
    p, p_hi = m[1], m[4]
    give(S, p, m[0], m[2])
    give(S, p_hi, m[3], m[5])
    maybe_attempt(S, p)
    maybe_attempt(S, p_hi)


@njit(cache=True)
def draw(S, rng, base, t):
    """Heralds of the bundles started since ``si[NSTARTS] == base`` (the caller's own starts)."""
    for k in range(base, S.si[NSTARTS]):
        p = S.starts[k]
        g = S.pool_link[p]
        pr = S.p_round[g, S.bund_cnt[2 * p]]
        push_event(S, t + rng.geometric(pr) * S.attempt_s[g], HERALD, p, S.token[p], 0)
    S.si[NSTARTS] = base


@njit(cache=True)
def cancel(S, p):
    for side in range(2):
        k = 2 * p + side
        off, m = S.slot_off[k], S.bund_cnt[k]
        for i in range(m):
            push_free(S, p, side, S.bund_buf[off + i])
        if S.pool_counted[p]:
            account(S, S.pool_link[p], side, -m)
    S.has_bundle[p] = False
    S.token[p] += 1


@njit(cache=True)
def trim(S, p):
    while S.wait_cnt[p] > max(S.need[p], 0):
        drop(S, waiting_remove(S, p, -1), T_DISCARDED)
    if S.has_bundle[p] and S.need[p] <= S.wait_cnt[p]:
        cancel(S, p)


@njit(cache=True)
def drop(S, pid, kind):
    """Pair ``pid`` is lost (trace event ``kind``): its memories are freed."""
    S.p_alive[pid] = 0
    trace(S, S.sf[NOW], kind, pid, -1, -1, -1, S.p_owner[pid], -1, -1)
    release_pair(S, pid)
    bury(S, pid)

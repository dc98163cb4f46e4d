"""Memories, attempt bundles and link sources of the event engine's rules (:mod:`qnet.repeater.engine.rules`).

Written once, like the rules: compiled with numba when it is installed, else plain Python; see
:mod:`qnet.repeater.engine.rules` for the layout.
"""

from __future__ import annotations

import numpy as np

from qnet.repeater.engine import tables
from qnet.repeater.engine.jit import njit, objmode
from qnet.repeater.engine.store import (
    ERR,
    ERR_LONG_WAIT,
    ERR_SOURCE,
    ERR_TRIALS,
    ERR_VALUE,
    HERALD,
    NOW,
    NSTARTS,
    T_DISCARDED,
    _grown,
    _wider,
    bury,
    pop_free,
    push_event,
    push_free,
    trace,
    waiting_remove,
)

MAX_TRIALS = 10_000_000  # purification trials of one link before giving up (as qnet.repeater.chain.sources)

__all__ = [
    "account",
    "take",
    "give",
    "maybe_attempt",
    "start_bundle",
    "release",
    "release_pair",
    "draw",
    "cancel",
    "trim",
    "drop",
]


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
        S.starts = _grown(S.starts)
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
        kind = S.src_kind[g]
        leaf = 0
        if kind == 0:  # a raw link: m memory pairs attempt together
            ti = t + rng.geometric(S.p_round[g][S.bund_cnt[2 * p]]) * S.attempt_s[g]
        elif kind == 1:  # a raw link of a chain with purified links: its source's draw
            ti = t + rng.geometric(S.src_p[g]) * S.src_att[g]
        else:
            ti, leaf = purified(S, rng, S.src_id[g], t)
        push_event(S, ti, HERALD, p, S.token[p], leaf)
    S.si[NSTARTS] = base


@njit(cache=True)
def _fail(S, code, k, value):
    S.si[ERR], S.si[ERR_SOURCE], S.si[ERR_VALUE] = code, k, value
    return np.inf, 0


@njit(cache=True)
def purified(S, rng, k, start):
    """(time the purified pair exists, its wait D) from purified source ``k`` started at ``start``.

    Two copies herald after X and Y rounds (a copy waiting past the cutoff restarts); the pair
    exists max(X, Y) rounds plus the bits' time later and is kept with probability p_pur(D),
    D = |X - Y|; else the link tries again. The draws of
    :meth:`qnet.repeater.chain.sources.PurifiedSource.sample`, in its order.
    """
    p, c, att, comm = S.pur_p[k], S.pur_cut[k], S.pur_att[k], S.pur_comm[k]
    t = start
    for _ in range(MAX_TRIALS):
        x = y = 1
        if p < 1.0:
            x, y = rng.geometric(p), rng.geometric(p)
            if c >= 0:  # the earlier copy is discarded after c rounds and restarts
                while abs(x - y) > c:
                    if x < y:
                        x += c + rng.geometric(p)
                    else:
                        y += c + rng.geometric(p)
        d = abs(x - y)
        t += max(x, y) * att + comm
        if d >= S.pur_len[k]:
            if d >= S.pur_max[k]:
                return _fail(S, ERR_LONG_WAIT, k, d)
            _grow_table(S, k, d)
        if rng.random() < S.pur_tab[k][d]:
            return t, d
    return _fail(S, ERR_TRIALS, k, 0)


@njit(cache=True)
def _grow_table(S, k, d):
    """Source ``k``'s table, grown by its source (in Python) to cover a wait of ``d`` rounds."""
    key = S.pur_reg[k]
    with objmode(table="float64[::1]"):
        table = tables.grown(key, d)
    n = len(table)
    while n > len(S.pur_tab[k]):
        S.pur_tab = _wider(S.pur_tab)
    row = S.pur_tab[k]
    for i in range(n):
        row[i] = table[i]
    S.pur_len[k] = n


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

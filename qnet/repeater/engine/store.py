"""Storage of the event engine: its state type and the array structures the rules use.

:class:`State` is a numba struct passed by reference (one pointer per call). Its structures,
all on numpy arrays (numba's typed lists are too slow for a hot loop):

* the event heap: parallel arrays ``ev_*`` of (time, kind, order, target, token, leaf id),
  ordered by (time, kind, order) like the interpreted engine's heap of tuples;
* memory slots per pool side: a segment of ``free_buf`` (free slots, kept in descending order so
  the smallest pops from the end, as a heap's minimum) and of ``bund_buf`` (the running bundle's
  slots in the order they were taken);
* pairs waiting per pool: a first-in first-out segment of ``wait_buf``;
* boundaries to look at per request: a row of ``dirty_buf``, a heap of ints;
* pairs, delivery trees and deliveries: arrays indexed by id, doubled when full. A dead pair's
  id is reused once no scheduled event refers to it (``p_pending``; freed at the end of the
  instant it died in, :func:`free_dead`), and tree nodes that no live pair or delivery holds are
  dropped by :func:`compact_trees` (nodes keep their order: children before parents), so a long
  run holds only what is alive and what was delivered.

Counters live in ``si`` (indices below); the clock in ``sf[NOW]``.

A plain run (the rules not compiled) holds every array as a Python list (a 2-D one as a list of
rows): plain Python indexes a list about four times faster than a numpy array and computes on
Python numbers, not numpy scalars. The rules are written to run on both alike: rows indexed as
``a[i][j]``, buffers from :func:`ints`, :func:`floats` and :func:`flags`, :func:`fill` for a
slice assignment, growth by :func:`_grown`; :func:`arrays` gives the arrays back for the export
functions. The same draws in the same order, so both give the same runs to the last bit.
"""

from __future__ import annotations

import numpy as np

from qnet.repeater.engine.jit import ENABLED, njit

__all__ = ["State", "FIELDS", "new_waiters"]

NOW = 0  # sf
SEQ, EVENTS, NSNAP, EVN, NPAIRS, NTREES, NSTARTS, NDIRTY, NDELIV, NGRAVE, NFREEP, NSERIAL, NTRACE = range(13)  # si
ERR, ERR_SOURCE, ERR_VALUE = 13, 14, 15  # si: an error stops the run (ERR_* below), at purified source k, value
N_COUNTERS = 16
ERR_LONG_WAIT, ERR_TRIALS = 1, 2  # a purified link drew a wait beyond its table's bound; failed MAX_TRIALS trials
#: Trace events (row kinds), as named in :data:`qnet.repeater.traffic.records.TRACE_COLUMNS`.
TRACE_EVENTS = ("herald", "swap", "swap_failed", "cutoff", "discarded", "delivery", "fusion")
T_HERALD, T_SWAP, T_SWAP_FAILED, T_CUTOFF, T_DISCARDED, T_DELIVERY, T_FUSION = range(7)
HERALD, SWAP_DONE, CUTOFF, STOP, START, ARRIVAL = range(6)  # event kinds, as qnet.repeater.engine.model


FIELDS = (
    "sf",
    "si",
    "ev_t",
    "ev_k",
    "ev_q",
    "ev_x",
    "ev_tok",
    "ev_leaf",
    "p_round",
    "attempt_s",
    "link_cut",
    "end_node",
    "heralds",
    "pool_link",
    "pool_counted",
    "need",
    "token",
    "has_bundle",
    "slot_off",
    "free_buf",
    "free_cnt",
    "bund_buf",
    "bund_cnt",
    "wait_off",
    "wait_buf",
    "wait_cnt",
    "users_ptr",
    "users_r",
    "users_i",
    "end_used",
    "end_area",
    "end_since",
    "node_held",
    "node_peak",
    "snaps",
    "edges",
    "reserve",
    "contended",
    "rate",
    "start",
    "stop",
    "prio",
    "nested",
    "hub",
    "nhops",
    "active",
    "building",
    "demanded",
    "served",
    "build_start",
    "key",
    "hop_ptr",
    "hops",
    "left_side",
    "share",
    "bnd_ptr",
    "cut_b",
    "swap_ok_b",
    "swap_t_b",
    "covered",
    "req_pool",
    "by_lo",
    "by_hi",
    "waiters",
    "blocked",
    "dirty_buf",
    "dirty_cnt",
    "dirty_reqs",
    "in_dirty",
    "starts",
    "p_exists",
    "p_tree",
    "p_mem",
    "p_owner",
    "p_lo",
    "p_hi",
    "p_swapping",
    "p_ok",
    "p_alive",
    "p_pool",
    "p_leaf",
    "p_cut",
    "p_pending",
    "grave",
    "pfree",
    "p_serial",
    "record",
    "mem_off",
    "pool_owner",
    "tr_t",
    "tr_i",
    "chain",
    "cap",
    "src_kind",
    "src_p",
    "src_att",
    "src_id",
    "pur_p",
    "pur_att",
    "pur_comm",
    "pur_cut",
    "pur_max",
    "pur_reg",
    "pur_len",
    "pur_tab",
    "t_kind",
    "t_a",
    "t_t0",
    "t_t1",
    "t_left",
    "t_right",
    "t_leaf",
    "d_req",
    "d_t",
    "d_lat",
    "d_tree",
)

if ENABLED:
    from numba import types
    from numba.experimental import structref
    from numba.typed import List

    @structref.register
    class StateType(types.StructRef):
        """The numba type of :class:`State`."""

        def preprocess_fields(self, fields):
            return tuple((name, types.unliteral(typ)) for name, typ in fields)

    class State(structref.StructRefProxy):
        """One run's arrays, passed by reference (fields: :data:`FIELDS`)."""

    structref.define_proxy(State, StateType, list(FIELDS))

    @njit(cache=True)
    def new_state(*fields):
        """A :class:`State` of ``fields`` (in :data:`FIELDS` order), made by a cached compiled call.

        (``State(*fields)`` from Python compiles its constructor again in every process: seconds.)
        """
        return State(*fields)

    _WAITER = types.Tuple((types.float64, types.float64, types.float64, types.int64))

    @njit(cache=True)
    def new_waiters():
        """An empty queue of (priority, time, key, request) (reserve policy; compiled and cached)."""
        return List.empty_list(_WAITER)

    @njit(cache=True)
    def waiters_of(k0, k1, k2, r):
        """The queue of (k0[i], k1[i], k2[i], r[i]) in this order (a plain run's queue, moved to the compiled rules)."""
        out = List.empty_list(_WAITER)
        for i in range(len(r)):
            out.append((k0[i], k1[i], k2[i], r[i]))
        return out

    @njit(cache=True)
    def ints(n, value):
        """A buffer of ``n`` integers ``value`` (a plain run's is a list)."""
        return np.full(n, value, np.int64)

    @njit(cache=True)
    def floats(n):
        """A buffer of ``n`` floats 0.0 (a plain run's is a list)."""
        return np.zeros(n)

    @njit(cache=True)
    def flags(n):
        """A buffer of ``n`` flags False (a plain run's is a list)."""
        return np.zeros(n, np.bool_)

    @njit(cache=True)
    def _grown(a):
        """``a`` with twice the rows, the new ones zero (a plain run's lists likewise)."""
        out = np.zeros((2 * a.shape[0],) + a.shape[1:], a.dtype)
        out[: a.shape[0]] = a
        return out

    @njit(cache=True)
    def _wider(a):
        """2-D ``a`` with twice the columns, the new ones zero."""
        out = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
        out[:, : a.shape[1]] = a
        return out

    def to_state(x):
        """An array as the state holds it (compiled: the array itself)."""
        return x

    def arrays(S):
        """The state with numpy arrays, for the export functions (compiled: ``S`` itself)."""
        return S

    def clock(S):
        """The run's clock, ``sf[NOW]`` (s)."""
        return export_counts(S)[0]
else:
    # Plain Python indexes a list about four times faster than a numpy array (no numpy scalar
    # made, none to do arithmetic on), so a plain run holds the state's arrays as lists (2-D:
    # lists of rows) while the rules run: the same rules, written to index both alike
    # (``a[i][j]``, loops rather than slices); :func:`arrays` gives the arrays back.

    class State:  # type: ignore[no-redef]
        """One run's state (fields: :data:`FIELDS`), the rules run as plain Python on lists."""

        __slots__ = (*FIELDS, "_like")

        def __init__(self, *values):
            for name, value in zip(FIELDS, values, strict=True):
                setattr(self, name, value)
            self._like = {}

    def new_waiters():
        """An empty queue of (priority, time, key, request) (reserve policy)."""
        return []

    def waiters_of(k0, k1, k2, r):
        """The queue of (k0[i], k1[i], k2[i], r[i]) in this order."""
        return list(zip(k0, k1, k2, r))

    def to_state(x):
        """A numpy array as the plain state holds it: a list (of row lists), of Python numbers."""
        return x.tolist() if isinstance(x, np.ndarray) else x

    def new_state(*fields):
        """A :class:`State` of ``fields`` (in :data:`FIELDS` order), arrays held as lists."""
        S = State(*(to_state(x) for x in fields))
        S._like = {name: (x.dtype, x.shape[1:]) for name, x in zip(FIELDS, fields) if isinstance(x, np.ndarray)}
        return S

    def arrays(S):
        """A :class:`State` of numpy arrays (each of its field's first type) holding what ``S``'s lists hold now."""
        out = State(*(getattr(S, name) for name in FIELDS))
        for name, (dtype, tail) in S._like.items():
            value = getattr(S, name)
            setattr(out, name, np.array(value, dtype) if len(value) else np.zeros((0, *tail), dtype))
        out._like = S._like
        return out

    def clock(S):
        """The run's clock, ``sf[NOW]`` (s)."""
        return S.sf[NOW]

    def ints(n, value):
        """A list of ``n`` integers ``value``."""
        return [value] * n

    def floats(n):
        """A list of ``n`` floats 0.0."""
        return [0.0] * n

    def flags(n):
        """A list of ``n`` flags False."""
        return [False] * n

    def _grown(a):
        """List ``a`` with twice the items (rows: of the same length), the new ones zero."""
        if isinstance(a[0], list):
            return a + [[type(a[0][0])()] * len(a[0]) for _ in a]
        return a + [type(a[0])()] * len(a)

    def _wider(a):
        """List of rows ``a`` with each row twice as long, the new items zero."""
        return [row + [type(row[0])()] * len(row) for row in a]


# ---------------------------------------------------------------------- growth


@njit(cache=True)
def _grow_events(S):
    S.ev_t, S.ev_k, S.ev_q = _grown(S.ev_t), _grown(S.ev_k), _grown(S.ev_q)
    S.ev_x, S.ev_tok, S.ev_leaf = _grown(S.ev_x), _grown(S.ev_tok), _grown(S.ev_leaf)


@njit(cache=True)
def _grow_pairs(S):
    S.p_exists, S.p_tree, S.p_mem, S.p_owner = _grown(S.p_exists), _grown(S.p_tree), _grown(S.p_mem), _grown(S.p_owner)
    S.p_lo, S.p_hi, S.p_swapping, S.p_ok = _grown(S.p_lo), _grown(S.p_hi), _grown(S.p_swapping), _grown(S.p_ok)
    S.p_alive, S.p_pool, S.p_leaf, S.p_cut = _grown(S.p_alive), _grown(S.p_pool), _grown(S.p_leaf), _grown(S.p_cut)
    S.p_pending, S.pfree, S.p_serial = _grown(S.p_pending), _grown(S.pfree), _grown(S.p_serial)


@njit(cache=True)
def _grow_trees(S):
    S.t_kind, S.t_a, S.t_t0, S.t_t1 = _grown(S.t_kind), _grown(S.t_a), _grown(S.t_t0), _grown(S.t_t1)
    S.t_left, S.t_right, S.t_leaf = _grown(S.t_left), _grown(S.t_right), _grown(S.t_leaf)


@njit(cache=True)
def _grow_deliveries(S):
    S.d_req, S.d_t, S.d_lat, S.d_tree = _grown(S.d_req), _grown(S.d_t), _grown(S.d_lat), _grown(S.d_tree)


@njit(cache=True)
def fill(a, lo, hi, value):
    """``a[lo:hi] = value`` (as a loop: a plain run's lists take no slice assignment of a number)."""
    for k in range(lo, hi):
        a[k] = value


# ---------------------------------------------------------------------- the event heap


@njit(cache=True)
def _before(ta, ka, qa, tb, kb, qb):
    """Event (ta, ka, qa) comes before (tb, kb, qb): by time, then kind, then order."""
    if ta != tb:
        return ta < tb
    if ka != kb:
        return ka < kb
    return qa < qb


@njit(cache=True)
def push_event(S, t, kind, target, token, leaf):
    """Schedule an event (its order number is the next ``seq``): sifted up from the heap's end."""
    n = S.si[EVN]
    if n == len(S.ev_t):
        _grow_events(S)
    q = S.si[SEQ]
    S.si[SEQ] = q + 1
    S.si[EVN] = n + 1
    if kind == CUTOFF or kind == SWAP_DONE:
        S.p_pending[target] += 1
    et, ek, eq, ex, etok, eleaf = S.ev_t, S.ev_k, S.ev_q, S.ev_x, S.ev_tok, S.ev_leaf
    while n > 0:  # (parents move down into the hole until the new event's place is found)
        a = (n - 1) >> 1
        ta = et[a]
        if not (t < ta if t != ta else _before(t, kind, q, ta, ek[a], eq[a])):
            break
        et[n], ek[n], eq[n], ex[n], etok[n], eleaf[n] = ta, ek[a], eq[a], ex[a], etok[a], eleaf[a]
        n = a
    et[n], ek[n], eq[n], ex[n], etok[n], eleaf[n] = t, kind, q, target, token, leaf


@njit(cache=True)
def pop_event(S):
    """Remove the earliest event: (time, kind, order, target, token, leaf id)."""
    et, ek, eq, ex, etok, eleaf = S.ev_t, S.ev_k, S.ev_q, S.ev_x, S.ev_tok, S.ev_leaf
    out = (et[0], ek[0], eq[0], ex[0], etok[0], eleaf[0])
    n = S.si[EVN] - 1
    S.si[EVN] = n
    if n > 0:  # the last event sifts down from the top (children move up into the hole)
        t, kind, q, x, tok, leaf = et[n], ek[n], eq[n], ex[n], etok[n], eleaf[n]
        k = 0
        while True:
            c = 2 * k + 1
            if c >= n:
                break
            tc = et[c]
            if c + 1 < n:  # (times differ but rarely: compared first, the rest of the key only when equal)
                tr = et[c + 1]
                if tr < tc if tr != tc else _before(tr, ek[c + 1], eq[c + 1], tc, ek[c], eq[c]):
                    c += 1
                    tc = tr
            if not (tc < t if tc != t else _before(tc, ek[c], eq[c], t, kind, q)):
                break
            et[k], ek[k], eq[k], ex[k], etok[k], eleaf[k] = tc, ek[c], eq[c], ex[c], etok[c], eleaf[c]
            k = c
        et[k], ek[k], eq[k], ex[k], etok[k], eleaf[k] = t, kind, q, x, tok, leaf
    return out


# ---------------------------------------------------------------------- memory slots, waiting pairs


@njit(cache=True)
def pop_free(S, p, side):
    """Take the smallest free slot of pool ``p``'s ``side``."""
    k = 2 * p + side
    S.free_cnt[k] -= 1
    return S.free_buf[S.slot_off[k] + S.free_cnt[k]]


@njit(cache=True)
def push_free(S, p, side, slot):
    """Return ``slot`` to pool ``p``'s ``side`` (kept in descending order)."""
    k = 2 * p + side
    off, n = S.slot_off[k], S.free_cnt[k]
    i = off + n
    while i > off and S.free_buf[i - 1] < slot:
        S.free_buf[i] = S.free_buf[i - 1]
        i -= 1
    S.free_buf[i] = slot
    S.free_cnt[k] = n + 1


@njit(cache=True)
def waiting_first(S, p):
    return S.wait_buf[S.wait_off[p]]


@njit(cache=True)
def waiting_append(S, p, pid):
    S.wait_buf[S.wait_off[p] + S.wait_cnt[p]] = pid
    S.wait_cnt[p] += 1


@njit(cache=True)
def waiting_remove(S, p, pid):
    """Remove ``pid`` from pool ``p``'s queue (the first in line when ``pid`` is -1); return it."""
    off, n = S.wait_off[p], S.wait_cnt[p]
    i = 0
    if pid >= 0:
        while S.wait_buf[off + i] != pid:
            i += 1
    out = S.wait_buf[off + i]
    for k in range(off + i, off + n - 1):
        S.wait_buf[k] = S.wait_buf[k + 1]
    S.wait_cnt[p] = n - 1
    return out


# ---------------------------------------------------------------------- boundaries to look at


@njit(cache=True)
def dirty_push(S, r, j):
    """Boundary ``j`` of request ``r`` is to be looked at (a heap of ints per request)."""
    n = S.dirty_cnt[r]
    if n == len(S.dirty_buf[r]):
        S.dirty_buf = _wider(S.dirty_buf)
    row = S.dirty_buf[r]
    row[n] = j
    S.dirty_cnt[r] = n + 1
    while n > 0:
        parent = (n - 1) >> 1
        if row[parent] <= row[n]:
            break
        row[parent], row[n] = row[n], row[parent]
        n = parent


@njit(cache=True)
def dirty_pop(S, r):
    row = S.dirty_buf[r]
    out = row[0]
    n = S.dirty_cnt[r] - 1
    S.dirty_cnt[r] = n
    row[0] = row[n]
    k = 0
    while True:
        c = 2 * k + 1
        if c >= n:
            break
        if c + 1 < n and row[c + 1] < row[c]:
            c += 1
        if row[k] <= row[c]:
            break
        row[k], row[c] = row[c], row[k]
        k = c
    return out


@njit(cache=True)
def mark(S, r, j):
    """Mark boundary ``j`` of request ``r`` (the request joins this instant's list once)."""
    if not S.in_dirty[r]:
        S.in_dirty[r] = True
        S.dirty_reqs[S.si[NDIRTY]] = r
        S.si[NDIRTY] += 1
        S.dirty_cnt[r] = 0
    dirty_push(S, r, j)


# ---------------------------------------------------------------------- pairs, trees, deliveries


@njit(cache=True)
def new_pair(S, exists, tree, lo_side, lo_pool, lo_slot, hi_side, hi_pool, hi_slot, owner, pool, leaf, lo, hi):
    """A new pair's id (alive, not swapping, swap ok, no cutoff yet): a freed id, else the next."""
    if S.si[NFREEP] > 0:
        S.si[NFREEP] -= 1
        pid = S.pfree[S.si[NFREEP]]
    else:
        pid = S.si[NPAIRS]
        if pid == len(S.p_exists):
            _grow_pairs(S)
        S.si[NPAIRS] = pid + 1
    S.p_exists[pid], S.p_tree[pid], S.p_owner[pid], S.p_pool[pid], S.p_leaf[pid] = exists, tree, owner, pool, leaf
    m = S.p_mem[pid]
    m[0], m[1], m[2], m[3], m[4], m[5] = lo_side, lo_pool, lo_slot, hi_side, hi_pool, hi_slot
    S.p_lo[pid], S.p_hi[pid] = lo, hi
    S.p_swapping[pid], S.p_ok[pid], S.p_alive[pid] = 0, 1, 1
    S.p_cut[pid] = np.inf
    S.p_serial[pid] = S.si[NSERIAL]  # (the pair's id in a trace: ids in p_* arrays are reused)
    S.si[NSERIAL] += 1
    return pid


@njit(cache=True)
def trace(S, t, kind, pid, pa, pb, pc, r, node, link):
    """Record one trace row (when ``record``): time, event, pair, parents, request, node, the pair's memories, link.

    ``pid`` is a pair's index (-1: none); ``pa``, ``pb``, ``pc`` are parents' trace ids (-1: none);
    ``node`` and ``link`` are indices (-1: none).
    """
    if not S.record:
        return
    k = S.si[NTRACE]
    if k == len(S.tr_t):
        S.tr_t, S.tr_i = _grown(S.tr_t), _grown(S.tr_i)
    S.si[NTRACE] = k + 1
    S.tr_t[k] = t
    row = S.tr_i[k]
    row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[11] = kind, -1, pa, pb, pc, r, node, link
    row[7], row[8], row[9], row[10] = -1, -1, -1, -1
    if pid >= 0:
        row[1] = S.p_serial[pid]
        m = S.p_mem[pid]
        for e in range(2):
            end = 2 * S.pool_link[m[3 * e + 1]] + m[3 * e]
            row[7 + e] = S.end_node[end]
            row[9 + e] = S.mem_off[end] + m[3 * e + 2]


@njit(cache=True)
def pool_view(S, p):
    """(free slots at a, at b, running bundle's memory pairs at a, at b, pairs waiting) of pool ``p``."""
    n_a = S.bund_cnt[2 * p] if S.has_bundle[p] else 0
    n_b = S.bund_cnt[2 * p + 1] if S.has_bundle[p] else 0
    return S.free_cnt[2 * p], S.free_cnt[2 * p + 1], n_a, n_b, S.wait_cnt[p]


@njit(cache=True)
def error_of(S):
    """(error code, purified source, value) of a run that stopped on an error (code 0: none)."""
    return S.si[ERR], S.si[ERR_SOURCE], S.si[ERR_VALUE]


@njit(cache=True)
def export_trace(S):
    """The trace rows so far: times and the integer columns (:func:`trace`)."""
    n = S.si[NTRACE]
    return S.tr_t[:n].copy(), S.tr_i[:n].copy()


@njit(cache=True)
def bury(S, pid):
    """Pair ``pid`` died (``p_alive`` 0): its id is freed at the end of the instant if no event refers to it."""
    n = S.si[NGRAVE]
    if n == len(S.grave):
        S.grave = _grown(S.grave)
    S.grave[n] = pid
    S.si[NGRAVE] = n + 1


@njit(cache=True)
def event_done(S, kind, target):
    """An event was applied: a pair it referred to may now be freed."""
    if kind == CUTOFF or kind == SWAP_DONE:
        S.p_pending[target] -= 1
        if S.p_pending[target] == 0 and S.p_alive[target] == 0:
            bury(S, target)


@njit(cache=True)
def free_dead(S):
    """Free the ids of this instant's dead pairs that no scheduled event refers to (``p_alive`` -1: free)."""
    for k in range(S.si[NGRAVE]):
        pid = S.grave[k]
        if S.p_alive[pid] == 0 and S.p_pending[pid] == 0:
            S.p_alive[pid] = -1
            S.pfree[S.si[NFREEP]] = pid
            S.si[NFREEP] += 1
    S.si[NGRAVE] = 0


@njit(cache=True)
def _with_subtrees(S, keep):
    """Mark every delivered tree, and every node under a marked one (children are made before parents)."""
    for k in range(S.si[NDELIV]):
        keep[S.d_tree[k]] = True
    for k in range(len(keep) - 1, -1, -1):
        if keep[k] and S.t_kind[k] != 0:
            keep[S.t_left[k]] = True
            keep[S.t_right[k]] = True
            if S.t_kind[k] == 2:
                keep[S.t_leaf[k]] = True


@njit(cache=True)
def compact_trees(S):
    """Keep the tree nodes of live pairs and deliveries only (in order), and grow when they fill half."""
    m = S.si[NTREES]
    keep = flags(m)
    for pid in range(S.si[NPAIRS]):
        if S.p_alive[pid] == 1 and S.p_tree[pid] >= 0:
            keep[S.p_tree[pid]] = True
    _with_subtrees(S, keep)
    where = ints(m, -1)
    n = 0
    for k in range(m):
        if keep[k]:
            where[k] = n
            kind = S.t_kind[k]
            S.t_kind[n], S.t_a[n], S.t_t0[n], S.t_t1[n] = kind, S.t_a[k], S.t_t0[k], S.t_t1[k]
            S.t_left[n] = where[S.t_left[k]] if kind != 0 else -1
            S.t_right[n] = where[S.t_right[k]] if kind != 0 else -1
            S.t_leaf[n] = where[S.t_leaf[k]] if kind == 2 else S.t_leaf[k]
            n += 1
    S.si[NTREES] = n
    for pid in range(S.si[NPAIRS]):
        if S.p_alive[pid] == 1 and S.p_tree[pid] >= 0:
            S.p_tree[pid] = where[S.p_tree[pid]]
    for k in range(S.si[NDELIV]):
        S.d_tree[k] = where[S.d_tree[k]]
    if 2 * n > len(S.t_kind):
        _grow_trees(S)


@njit(cache=True)
def new_tree(S, kind, a, t0, t1, left, right, leaf):
    """A delivery-tree node: kind 0 Leaf(a, t0, leaf), 1 Swap(a, t0, t1, left, right), 2 GHZ (left, right, leaf)."""
    k = S.si[NTREES]
    if k == len(S.t_kind):
        _grow_trees(S)
    S.si[NTREES] = k + 1
    S.t_kind[k], S.t_a[k], S.t_t0[k], S.t_t1[k] = kind, a, t0, t1
    S.t_left[k], S.t_right[k], S.t_leaf[k] = left, right, leaf
    return k


@njit(cache=True)
def add_delivery(S, r, t, latency, tree):
    k = S.si[NDELIV]
    if k == len(S.d_req):
        _grow_deliveries(S)
    S.si[NDELIV] = k + 1
    S.d_req[k], S.d_t[k], S.d_lat[k], S.d_tree[k] = r, t, latency, tree


@njit(cache=True)
def reset(S):
    """A fresh start at t = 0 (chain mode, before every delivery): every memory free, no pair, no event.

    Deliveries and their trees are kept; counters of heralds and occupancy start again.
    """
    S.sf[NOW] = 0.0
    for c in (SEQ, EVENTS, EVN, NPAIRS, NSTARTS, NDIRTY, NGRAVE, NFREEP, NSERIAL):
        S.si[c] = 0
    L = len(S.heralds)
    for k in range(len(S.cap)):  # shared pools: every slot free (descending); reservations: none
        off = S.slot_off[k]
        S.free_cnt[k] = S.cap[k] if k < 2 * L else 0
        for i in range(S.free_cnt[k]):
            S.free_buf[off + i] = S.cap[k] - 1 - i
    fill(S.need, 0, len(S.need), 0)
    fill(S.wait_cnt, 0, len(S.wait_cnt), 0)
    fill(S.heralds, 0, len(S.heralds), 0)
    fill(S.end_used, 0, len(S.end_used), 0)
    fill(S.node_held, 0, len(S.node_held), 0)
    fill(S.node_peak, 0, len(S.node_peak), 0)
    fill(S.demanded, 0, len(S.demanded), 0)
    fill(S.served, 0, len(S.served), 0)
    fill(S.dirty_cnt, 0, len(S.dirty_cnt), 0)
    fill(S.p_pending, 0, len(S.p_pending), 0)
    fill(S.has_bundle, 0, len(S.has_bundle), False)
    fill(S.active, 0, len(S.active), False)
    fill(S.building, 0, len(S.building), False)
    fill(S.covered, 0, len(S.covered), False)
    fill(S.in_dirty, 0, len(S.in_dirty), False)
    fill(S.end_area, 0, len(S.end_area), 0.0)
    fill(S.end_since, 0, len(S.end_since), 0.0)
    fill(S.by_lo, 0, len(S.by_lo), -1)
    fill(S.by_hi, 0, len(S.by_hi), -1)
    for p in range(len(S.token)):
        S.token[p] += 1
    for h in range(len(S.hops)):
        S.req_pool[h] = S.hops[h]
    while len(S.waiters) > 0:
        S.waiters.pop()


@njit(cache=True)
def set_run(S, edges, snaps):
    """Snapshot slices for the next run."""
    S.edges = edges
    S.snaps = snaps
    S.si[NSNAP] = 0


@njit(cache=True)
def export_counts(S):
    """(now, events, snapshots taken, snapshots, heralds, node peaks, end used/area/since, end nodes, demanded)."""
    return (
        S.sf[NOW],
        S.si[EVENTS],
        S.si[NSNAP],
        S.snaps.copy(),
        S.heralds.copy(),
        S.node_peak.copy(),
        S.end_used.copy(),
        S.end_area.copy(),
        S.end_since.copy(),
        S.end_node.copy(),
        S.demanded.copy(),
    )


@njit(cache=True)
def _delivered_nodes(S, m):
    """Which tree nodes belong to a delivered tree (children are always made before their parents)."""
    keep = np.zeros(m, np.bool_)
    _with_subtrees(S, keep)
    return np.flatnonzero(keep)


@njit(cache=True)
def export_deliveries(S):
    """Deliveries (request, time, latency, tree) and the delivered tree nodes (index, kind, a, t0, t1, left, right, leaf)."""
    n, m = S.si[NDELIV], S.si[NTREES]
    k = _delivered_nodes(S, m)
    return (
        S.d_req[:n].copy(),
        S.d_t[:n].copy(),
        S.d_lat[:n].copy(),
        S.d_tree[:n].copy(),
        k,
        S.t_kind[k],
        S.t_a[k],
        S.t_t0[k],
        S.t_t1[k],
        S.t_left[k],
        S.t_right[k],
        S.t_leaf[k],
    )


@njit(cache=True)
def sizes(S):
    """(pair ids ever used, tree nodes held, deliveries): what the run's arrays hold."""
    return S.si[NPAIRS], S.si[NTREES], S.si[NDELIV]


@njit(cache=True)
def flat_deliveries(S, take):
    """Delivered trees ``take[k]`` flattened one after another, each in post-order (left, right, node).

    Returns the columns of :class:`qnet.repeater.chain.trees.FlatTree`'s table (where, left, right,
    state time, exists time, lo, hi, herald time at a, at b, height, leaf id) and each
    delivery's first and last-plus-one row (-1 when not taken).
    """
    m = S.si[NTREES]
    where, left, right = ints(m, 0), ints(m, 0), ints(m, 0)
    state_s, exists_s = floats(m), floats(m)
    lo, hi, height, leaf_id = ints(m, 0), ints(m, 0), ints(m, 0), ints(m, 0)
    herald_a, herald_b = floats(m), floats(m)
    start, stop = ints(len(take), -1), ints(len(take), -1)
    row_of = ints(m, 0)  # tree node -> its row
    stack = ints(2 * m + 2, 0)  # node, then 1 once its children are placed
    n = 0
    for d in range(len(take)):
        if not take[d]:
            continue
        start[d] = n
        top = 0
        stack[0], stack[1] = S.d_tree[d], 0
        top = 2
        while top > 0:
            k, expanded = stack[top - 2], stack[top - 1]
            top -= 2
            if S.t_kind[k] == 0:
                t = S.t_t0[k]
                where[n], left[n], right[n], state_s[n], exists_s[n] = S.t_a[k], -1, -1, t, t
                lo[n], hi[n], herald_a[n], herald_b[n], height[n], leaf_id[n] = S.t_a[k], S.t_a[k], t, t, 0, S.t_leaf[k]
                row_of[k] = n
                n += 1
            elif expanded == 0:
                stack[top], stack[top + 1] = k, 1
                stack[top + 2], stack[top + 3] = S.t_right[k], 0
                stack[top + 4], stack[top + 5] = S.t_left[k], 0
                top += 6
            else:
                a, b = row_of[S.t_left[k]], row_of[S.t_right[k]]
                where[n], left[n], right[n], state_s[n], exists_s[n] = S.t_a[k], a, b, S.t_t0[k], S.t_t1[k]
                lo[n], hi[n], herald_a[n], herald_b[n] = lo[a], hi[b], herald_a[a], herald_b[b]
                height[n], leaf_id[n] = 1 + max(height[a], height[b]), 0
                row_of[k] = n
                n += 1
        stop[d] = n
    return (
        where[:n],
        left[:n],
        right[:n],
        state_s[:n],
        exists_s[:n],
        lo[:n],
        hi[:n],
        herald_a[:n],
        herald_b[:n],
        height[:n],
        leaf_id[:n],
        start,
        stop,
    )

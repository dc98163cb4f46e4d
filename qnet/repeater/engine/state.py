"""The compiled engine's :class:`~qnet.repeater.engine.store.State` built from engine inputs."""

from __future__ import annotations

import math

import numpy as np
from qnet.repeater.engine import tables

__all__ = ["KernelInputs"]

_START = 64  # first capacity of the growing arrays (events, pairs, trees, deliveries)


def _per_boundary(routes, field: str, pad: float) -> list[float]:
    """A route field over boundaries 0..n of every route, in one list (a GHZ route's, shorter, padded)."""
    out: list[float] = []
    for r in routes:
        values = list(getattr(r, field))
        out += values + [pad] * (len(r.hops) + 1 - len(values))
    return out


def _ranks(priorities: list[int]) -> list[int]:
    """Each priority's rank among the distinct ones (0: lowest): the same order, any size of integer.

    Examples
    --------
    >>> _ranks([5, -2**70, 2**63, 5])
    [1, 0, 2, 1]
    """
    rank = {p: k for k, p in enumerate(sorted(set(priorities)))}
    return [rank[p] for p in priorities]


def _slots(links, hops: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Segments of the slot buffers per pool side and of the waiting queues per pool, and free slots."""
    caps = [c for k in links for c in (k.cap_a, k.cap_b)] + [c for g in hops for c in (links[g].cap_a, links[g].cap_b)]
    slot_off = np.cumsum([0] + caps)[:-1].astype(np.int64)
    waits = [max(k.cap_a, k.cap_b) for k in links] + [max(links[g].cap_a, links[g].cap_b) for g in hops]
    wait_off = np.cumsum([0] + waits)[:-1].astype(np.int64)
    free = np.zeros(sum(caps) + 1, np.int64)
    for k, cap in enumerate(caps[: 2 * len(links)]):  # shared pools: every slot free, in descending order
        free[slot_off[k] : slot_off[k] + cap] = np.arange(cap)[::-1]
    return slot_off, free, wait_off, np.zeros(sum(waits) + 1, np.int64)


class KernelInputs:
    """The compiled state of one engine (its fields: :mod:`qnet.repeater.engine.store`)."""

    def __init__(
        self,
        links,
        specs,
        n_nodes: int,
        policy: str,
        occupancy: bool,
        p_round: np.ndarray,
        kernel,
        record: bool = False,
        chain: bool = False,
    ):
        self.kernel = kernel  # the rule modules, compiled or plain (:func:`qnet.repeater.engine.jit.kernel`)
        L, Q = len(links), len(specs)
        hops = [g for s in specs for g in s.route.hops]
        H = len(hops)
        self.memories = np.zeros(n_nodes, np.int64)
        for link in links:
            self.memories[link.node_a] += link.cap_a
            self.memories[link.node_b] += link.cap_b
        hop_ptr = np.cumsum([0] + [len(s.route.hops) for s in specs]).astype(np.int64)
        users: list[list[tuple[int, int]]] = [[] for _ in range(L + H)]
        for r, s in enumerate(specs):
            for h, g in enumerate(s.route.hops):
                users[g].append((r, h))
                users[L + hop_ptr[r] + h].append((r, h))
        slot_off, free_buf, wait_off, wait_buf = _slots(links, hops)
        mem_off, seen = [], [0] * n_nodes  # node-level memory index of slot 0 at each link end
        for link in links:
            for node, cap in ((link.node_a, link.cap_a), (link.node_b, link.cap_b)):
                mem_off.append(seen[node])
                seen[node] += cap
        f = lambda xs: np.array(xs, dtype=np.float64)  # noqa: E731
        i = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
        z = lambda n, dtype=np.int64: np.zeros(n, dtype)  # noqa: E731
        route = [s.route for s in specs]
        self.fields = dict(
            sf=z(1, np.float64),
            si=z(kernel.store.N_COUNTERS),
            ev_t=z(_START, np.float64),
            ev_k=z(_START),
            ev_q=z(_START),
            ev_x=z(_START),
            ev_tok=z(_START),
            ev_leaf=z(_START),
            p_round=p_round,
            attempt_s=f([k.attempt_time_s for k in links]),
            link_cut=f([k.cutoff_s for k in links]),
            end_node=i([n for k in links for n in (k.node_a, k.node_b)]),
            heralds=z(L),
            pool_link=i(list(range(L)) + hops),
            pool_counted=np.array([occupancy] * L + [False] * H, dtype=np.bool_),
            need=z(L + H),
            token=z(L + H),
            has_bundle=z(L + H, np.bool_),
            slot_off=slot_off,
            free_buf=free_buf,
            free_cnt=i([c for k in links for c in (k.cap_a, k.cap_b)] + [0] * 2 * H),
            bund_buf=np.zeros_like(free_buf),
            bund_cnt=z(2 * (L + H)),
            wait_off=wait_off,
            wait_buf=wait_buf,
            wait_cnt=z(L + H),
            users_ptr=i(np.cumsum([0] + [len(u) for u in users])),
            users_r=i([r for u in users for r, _ in u]),
            users_i=i([x for u in users for _, x in u]),
            end_used=z(2 * L),
            end_area=z(2 * L, np.float64),
            end_since=z(2 * L, np.float64),
            node_held=z(n_nodes),
            node_peak=z(n_nodes),
            snaps=np.zeros((0, n_nodes)),
            edges=z(0, np.float64),
            reserve=policy == "reserve",
            contended=Q > 1,
            rate=f([math.nan if s.rate_hz is None else s.rate_hz for s in specs]),
            start=f([s.start_s for s in specs]),
            stop=f([s.stop_s for s in specs]),
            prio=i(_ranks([s.priority for s in specs])),
            nested=np.array([r.nested for r in route], dtype=np.bool_),
            hub=i([-1 if r.hub is None else r.hub for r in route]),
            nhops=i([len(r.hops) for r in route]),
            active=z(Q, np.bool_),
            building=z(Q, np.bool_),
            demanded=z(Q),
            served=z(Q),
            build_start=z(Q, np.float64),
            key=np.zeros((Q, 3)),
            hop_ptr=hop_ptr,
            hops=i(hops),
            left_side=i([x for r in route for x in r.left_side]),
            share=i([x for s in specs for x in (s.share or (0,) * len(s.route.hops))]),
            bnd_ptr=i(hop_ptr + np.arange(Q + 1)),
            cut_b=f(_per_boundary(route, "cutoff_s", math.inf)),
            swap_ok_b=f(_per_boundary(route, "swap_success", 1.0)),
            swap_t_b=f(_per_boundary(route, "swap_time_s", 0.0)),
            covered=z(H, np.bool_),
            req_pool=i(hops),
            by_lo=np.full(H + Q, -1, np.int64),
            by_hi=np.full(H + Q, -1, np.int64),
            waiters=kernel.store.new_waiters(),
            blocked=z(L, np.bool_),
            dirty_buf=np.zeros((Q, 8), np.int64),
            dirty_cnt=z(Q),
            dirty_reqs=z(Q),
            in_dirty=z(Q, np.bool_),
            starts=z(_START),
            p_exists=z(_START, np.float64),
            p_tree=z(_START),
            p_mem=np.zeros((_START, 6), np.int64),
            p_owner=z(_START),
            p_lo=z(_START),
            p_hi=z(_START),
            p_swapping=z(_START),
            p_ok=z(_START),
            p_alive=z(_START),
            p_pool=z(_START),
            p_leaf=z(_START),
            p_cut=z(_START, np.float64),
            p_pending=z(_START),
            grave=z(_START),
            pfree=z(_START),
            p_serial=z(_START),
            record=bool(record),
            mem_off=i(mem_off),
            chain=bool(chain),
            cap=i(
                [c for k in links for c in (k.cap_a, k.cap_b)]
                + [c for g in hops for c in (links[g].cap_a, links[g].cap_b)]
            ),
            **self._sources(links),
            pool_owner=i([-1] * L + [r for r, s in enumerate(specs) for _ in s.route.hops]),
            tr_t=z(_START if record else 1, np.float64),
            tr_i=np.zeros((_START if record else 1, 12), np.int64),
            t_kind=z(_START),
            t_a=z(_START),
            t_t0=z(_START, np.float64),
            t_t1=z(_START, np.float64),
            t_left=z(_START),
            t_right=z(_START),
            t_leaf=z(_START),
            d_req=z(_START),
            d_t=z(_START, np.float64),
            d_lat=z(_START, np.float64),
            d_tree=z(_START),
        )
        self._state = None

    def _sources(self, links) -> dict:
        """Fields of the links' samplers: none (raw: kind 0), a raw link's source (1), a purified one (2).

        Distinct purified sources (``self.sources``, shared by identical links) keep a copy of
        their tables (``pur_tab``), grown through :func:`qnet.repeater.engine.tables.grown`.
        """
        rows: list[tuple[int, float, float, int]] = []  # (kind, p, attempt time, source id) per link
        self.sources: list = []
        for link in links:
            src = link.source
            if src is not None and hasattr(src, "success_by_wait"):
                if not any(src is x for x in self.sources):
                    self.sources.append(src)
                rows.append((2, 0.0, 0.0, [x is src for x in self.sources].index(True)))
            elif src is not None:
                rows.append((1, float(src.p), float(src.attempt_time_s), -1))
            else:
                rows.append((0, 0.0, 0.0, -1))
        kind, p, att, sid = (list(column) for column in zip(*rows, strict=True))
        srcs = self.sources
        width = max([1] + [len(x.success_by_wait) for x in srcs])
        table = np.zeros((max(1, len(srcs)), width))
        for k, x in enumerate(srcs):
            table[k, : len(x.success_by_wait)] = x.success_by_wait
        f = lambda xs: np.array(xs, dtype=np.float64)  # noqa: E731
        i = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
        return dict(
            src_kind=i(kind),
            src_p=f(p),
            src_att=f(att),
            src_id=i(sid),
            pur_p=f([x.p for x in srcs]),
            pur_att=f([x.attempt_time_s for x in srcs]),
            pur_comm=f([x.communication_time_s for x in srcs]),
            pur_cut=i([-1 if x.cutoff_rounds is None else x.cutoff_rounds for x in srcs]),
            pur_max=i([x.max_wait_rounds for x in srcs]),
            pur_reg=i([tables.register(x) for x in srcs]),
            pur_len=i([len(x.success_by_wait) for x in srcs]),
            pur_tab=table,
        )

    def kernel_state(self, until_s: float, bins: int):
        """The state, with snapshot slices of [0, until_s) for this run (``bins`` of them)."""
        edges = np.array([until_s * (k + 1) / bins for k in range(bins)], dtype=np.float64)
        store, rules = self.kernel.store, self.kernel.rules
        if self._state is None:
            self._state = store.new_state(*(self.fields[name] for name in store.FIELDS))
            rules.start_requests(self._state)
        store.set_run(self._state, store.to_state(edges), store.to_state(np.zeros((bins, len(self.memories)))))
        return self._state

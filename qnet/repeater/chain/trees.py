"""Delivery trees of the Monte Carlo engine and the states they deliver.

A delivered pair is recorded as the tree of heralds (:class:`Leaf`) and swaps (:class:`Swap`)
that made it; swap success does not depend on the state, so the states of all deliveries are
evaluated afterwards, together, level by level of the trees (:class:`TreeStates`): storage
channels are built once per distinct interval (exact ``storage_kraus`` per interval, cached)
and swaps are batched stacks through ``swap_fn``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qnet.errors import QnetError
from qnet.repeater.chain.linalg import SwapFn, apply_pair, storage_superops, swap_batch
from qnet.repeater.chain.model import MemoryDecay, RepeaterChain
from qnet.repeater.chain.sources import LinkSource
from qnet.repeater.engine.trees import FlatTree, FlatTrees, Leaf, Swap, Tree, _flatten  # noqa: F401 (re-exported)

__all__ = ["Leaf", "Swap", "Tree", "FlatTree", "FlatTrees", "TreeStates"]


class TreeStates:
    """Evaluates the delivered states of many recorded trees together, level by level.

    Parameters
    ----------
    chain : RepeaterChain
    swap_fn : callable or None
        ``swap_fn(left, right, gate_fidelity=, readout_fidelity=)``; None where no tree swaps
        (single-link chains).
    sources : list of link sources, or None
        As :func:`qnet.repeater.chain.sources.link_sources`; ``None``: every leaf is its link's ``rho``.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain
    >>> from qnet.repeater.chain.linalg import PSI_PLUS, fidelity_rows
    >>> from qnet.repeater.chain.trees import Leaf, TreeStates
    >>> link = ChainLink(np.outer(PSI_PLUS, PSI_PLUS.conj()), 0.5, 1e-3, memory_a=(1e-3, float("inf"), "exponential"))
    >>> states = TreeStates(RepeaterChain((link,)), swap_fn=None).evaluate([Leaf(0, 0.001, 0)])
    >>> fidelity_rows(states).round(6).tolist()
    [1.0]
    """

    def __init__(self, chain: RepeaterChain, swap_fn: SwapFn | None, sources: Sequence[LinkSource] | None = None):
        self.chain = chain
        self.swap_fn = swap_fn
        specs: list[MemoryDecay] = []
        ids: dict[MemoryDecay, int] = {}
        for link in chain.links:
            for m in (link.memory_a, link.memory_b):
                if m not in ids:
                    ids[m] = len(specs)
                    specs.append(m)
        links = chain.links
        self.specs = specs
        self.mem_a = np.array([ids[link.memory_a] for link in links])
        self.mem_b = np.array([ids[link.memory_b] for link in links])
        self.age_a_s = np.array([link.storage_time_s[0] for link in links])  # type: ignore[index]
        self.age_b_s = np.array([link.storage_time_s[1] for link in links])  # type: ignore[index]
        self.rho = np.array([link.rho for link in links])
        # leaf states: link i's leaf id k is tables[link_table[i]][k] (sources shared by identical links)
        self.tables: list[np.ndarray] | None = None
        if sources is not None:
            uniq: dict[int, int] = {}
            for src in sources:
                uniq.setdefault(id(src), len(uniq))
            self.tables = [None] * len(uniq)  # type: ignore[list-item]
            for src in sources:
                self.tables[uniq[id(src)]] = src.states
            self.link_table = np.array([uniq[id(src)] for src in sources])
            # a purified pair exists t_c after its herald: its memories are that much older
            shift = np.array([src.age_shift_s for src in sources])
            self.age_a_s = self.age_a_s + shift
            self.age_b_s = self.age_b_s + shift
        self.any_decay = any(m.decays for m in specs)
        groups: dict[tuple[float, float], int] = {}
        self.node_group = np.zeros(chain.n_links + 1, dtype=int)
        self.group_params: list[tuple[float, float]] = []
        for j in range(1, chain.n_links):
            node = chain.node_at(j)
            assert node is not None
            key = (node.gate_fidelity, node.readout_fidelity)
            if key not in groups:
                groups[key] = len(self.group_params)
                self.group_params.append(key)
            self.node_group[j] = groups[key]

    def _superops(self, mem: np.ndarray, t_from: np.ndarray, t_to: np.ndarray) -> np.ndarray | None:
        """Per-row storage superoperators of memories ``mem`` (None: nothing decays)."""
        n = len(mem)
        out = None
        for m in np.unique(mem):
            spec = self.specs[m]
            if not spec.decays:
                continue
            if out is None:
                out = np.empty((n, 4, 4), dtype=complex)
                out[:] = np.eye(4)
            sel = np.flatnonzero(mem == m)
            out[sel] = storage_superops(spec, t_from[sel], t_to[sel])
        return out

    def decay(self, states, lo, hi, herald_a_s, herald_b_s, t_from_s, t_to_s) -> np.ndarray:
        """Store segments (outer memories: A of link lo, B of link hi) from t_from_s to t_to_s."""
        if not self.any_decay or len(states) == 0:
            return states
        age_a = self.age_a_s[lo] - herald_a_s
        age_b = self.age_b_s[hi] - herald_b_s
        sa = self._superops(self.mem_a[lo], age_a + t_from_s, age_a + t_to_s)
        sb = self._superops(self.mem_b[hi], age_b + t_from_s, age_b + t_to_s)
        if sa is None and sb is None:
            return states
        return apply_pair(states, sa, sb)

    def _decay_nodes(self, states: np.ndarray, f: FlatTrees, ids: np.ndarray, t_to_s: np.ndarray) -> np.ndarray:
        """States of nodes ``ids`` stored from the time they exist to ``t_to_s``."""
        return self.decay(
            states[ids], f.lo[ids], f.hi[ids], f.herald_a_s[ids], f.herald_b_s[ids], f.state_s[ids], t_to_s
        )

    def _leaf_states(self, states: np.ndarray, f: FlatTrees) -> None:
        leaves = np.flatnonzero(f.height == 0)
        if self.tables is None:
            states[leaves] = self.rho[f.where[leaves]]
            return
        sid = f.leaf_id[leaves]
        tab = self.link_table[f.where[leaves]]
        for u in np.unique(tab):
            sel = np.flatnonzero(tab == u)
            states[leaves[sel]] = self.tables[u][sid[sel]]

    def evaluate(self, trees: list[Tree]) -> np.ndarray:
        """Delivered 4x4 states of the recorded trees (one per delivery), shape (len(trees), 4, 4)."""
        f = _flatten(trees)
        states = np.empty((len(f.height), 4, 4), dtype=complex)
        self._leaf_states(states, f)
        order = np.argsort(f.height, kind="stable")
        bounds = np.searchsorted(f.height[order], np.arange(f.height.max() + 2))
        for hgt in range(1, f.height.max() + 1):
            if self.swap_fn is None:
                raise QnetError("these delivery trees swap: TreeStates needs a swap_fn")
            ids = order[bounds[hgt] : bounds[hgt + 1]]
            ts = f.state_s[ids]
            ls = self._decay_nodes(states, f, f.left[ids], ts)
            rs = self._decay_nodes(states, f, f.right[ids], ts)
            grp = self.node_group[f.where[ids]]
            for gi in np.unique(grp):
                sel = np.flatnonzero(grp == gi)
                gf, rf = self.group_params[gi]
                states[ids[sel]] = swap_batch(self.swap_fn, ls[sel], rs[sel], gf, rf)
        return self._decay_nodes(states, f, f.roots, f.exists_s[f.roots])

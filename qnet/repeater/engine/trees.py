"""Delivery trees: how each delivered pair was made (heralds and swaps), as objects or flat tables.

The event engine records a delivered pair as the tree of heralds (:class:`Leaf`) and swaps
(:class:`Swap`) that made it, delivered as rows of a flat table (:class:`FlatTree`); the states
are evaluated afterwards, all deliveries together
(:class:`qnet.repeater.chain.trees.TreeStates`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Union

import numpy as np

__all__ = ["Leaf", "Swap", "Tree", "FlatTree", "FlatTrees"]


class Leaf(NamedTuple):
    """A herald: link ``link``'s pair exists from ``time_s`` (s) in its source's state ``leaf_id``.

    Examples
    --------
    >>> from qnet.repeater.engine.trees import Leaf
    >>> Leaf(link=0, time_s=0.002, leaf_id=0)
    Leaf(link=0, time_s=0.002, leaf_id=0)
    """

    link: int
    time_s: float
    leaf_id: int


class Swap(NamedTuple):
    """A swap at ``boundary`` (between links boundary-1 and boundary) of two pairs.

    It starts at ``start_s`` (both pairs exist), and the new pair exists from ``done_s`` (s).

    Examples
    --------
    >>> from qnet.repeater.engine.trees import Leaf, Swap
    >>> tree = Swap(1, 0.003, 0.003, Leaf(0, 0.001, 0), Leaf(1, 0.003, 0))
    >>> tree.left.link, tree.right.time_s
    (0, 0.003)
    """

    boundary: int
    start_s: float
    done_s: float
    left: "Tree"
    right: "Tree"


#: A delivery tree: a herald or a swap of two trees.
Tree = Union[Leaf, Swap]


class FlatTree(NamedTuple):
    """A delivery tree kept as rows ``start..stop`` of a table of flattened trees (its root last).

    ``table`` is a :class:`FlatTrees` whose rows hold trees one after another, each in the
    post-order :func:`_flatten` gives (left subtree, right subtree, node), child indices
    pointing into the table. The compiled event loop delivers its trees this way, so their states
    are evaluated without building :class:`Leaf`/:class:`Swap` objects; :meth:`tree` builds them.

    Examples
    --------
    >>> from qnet.repeater.engine.trees import FlatTree, Leaf, Swap, _flatten
    >>> table = _flatten([Swap(1, 0.003, 0.004, Leaf(0, 0.001, 0), Leaf(1, 0.003, 0))])
    >>> FlatTree(table, 0, 3).tree()
    Swap(boundary=1, start_s=0.003, done_s=0.004, left=Leaf(link=0, time_s=0.001, leaf_id=0), right=Leaf(link=1, time_s=0.003, leaf_id=0))
    """

    table: "FlatTrees"
    start: int
    stop: int

    def tree(self, k: int | None = None) -> Tree:
        """The tree as :class:`Leaf`/:class:`Swap` objects (row ``k``'s subtree; default the root)."""
        f = self.table
        k = self.stop - 1 if k is None else k
        if f.height[k] == 0:
            return Leaf(int(f.where[k]), float(f.state_s[k]), int(f.leaf_id[k]))
        return Swap(
            int(f.where[k]),
            float(f.state_s[k]),
            float(f.exists_s[k]),
            self.tree(int(f.left[k])),
            self.tree(int(f.right[k])),
        )


@dataclass
class FlatTrees:
    """Nodes of many trees in post-order (children before parents), as parallel arrays.

    Examples
    --------
    >>> from qnet.repeater.engine.trees import Leaf, Swap, _flatten
    >>> f = _flatten([Swap(1, 0.003, 0.004, Leaf(0, 0.001, 0), Leaf(1, 0.003, 0)), Leaf(0, 0.002, 0)])
    >>> f.height.tolist(), f.left.tolist(), f.roots.tolist()
    ([0, 0, 1, 0], [-1, -1, 0, -1], [2, 3])
    """

    where: np.ndarray  # leaf: link index; swap: boundary
    left: np.ndarray  # child node ids (-1 for leaves)
    right: np.ndarray
    state_s: np.ndarray  # leaf: herald time; swap: start of the swap (s)
    exists_s: np.ndarray  # time the node's pair exists (s)
    lo: np.ndarray  # outer links: A memory of link lo, B memory of link hi
    hi: np.ndarray
    herald_a_s: np.ndarray  # herald time of the outer memories' links (s)
    herald_b_s: np.ndarray
    height: np.ndarray
    leaf_id: np.ndarray
    roots: np.ndarray


def _gather(trees: list[FlatTree]) -> FlatTrees:
    """The rows of flat trees of one table, concatenated in order (what :func:`_flatten` gives for their trees)."""
    f = trees[0].table
    starts = np.array([t.start for t in trees], dtype=np.int64)
    sizes = np.array([t.stop for t in trees], dtype=np.int64) - starts
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rows = np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))  # new row i is old row rows[i]
    shift = np.repeat(offsets - starts, sizes)  # old index -> new index within a tree
    leaf = f.height[rows] == 0
    left = np.where(leaf, -1, f.left[rows] + shift)
    right = np.where(leaf, -1, f.right[rows] + shift)
    return FlatTrees(
        f.where[rows],
        left,
        right,
        f.state_s[rows],
        f.exists_s[rows],
        f.lo[rows],
        f.hi[rows],
        f.herald_a_s[rows],
        f.herald_b_s[rows],
        f.height[rows],
        f.leaf_id[rows],
        offsets + sizes - 1,
    )


def _flatten(trees: Sequence[Tree | FlatTree]) -> FlatTrees:
    """Trees (objects, or flat trees of one table) as one table of rows in post-order, each tree's root listed."""
    flat = [t for t in trees if isinstance(t, FlatTree)]
    if flat and len(flat) == len(trees) and all(t.table is flat[0].table for t in flat):
        return _gather(flat)
    where: list[int] = []
    left: list[int] = []
    right: list[int] = []
    state_s: list[float] = []
    exists_s: list[float] = []
    lo: list[int] = []
    hi: list[int] = []
    herald_a: list[float] = []
    herald_b: list[float] = []
    height: list[int] = []
    leaf_id: list[int] = []
    roots: list[int] = []
    for tree in trees:
        stack: list[tuple[Tree, bool]] = [(tree.tree() if isinstance(tree, FlatTree) else tree, False)]
        out: list[int] = []
        while stack:
            node, expanded = stack.pop()
            if isinstance(node, Leaf):
                link, h, lid = node
                out.append(len(height))
                where.append(link)
                left.append(-1)
                right.append(-1)
                state_s.append(h)
                exists_s.append(h)
                lo.append(link)
                hi.append(link)
                herald_a.append(h)
                herald_b.append(h)
                height.append(0)
                leaf_id.append(lid)
            elif not expanded:
                stack += ((node, True), (node.right, False), (node.left, False))
            else:
                r_id = out.pop()
                l_id = out.pop()
                out.append(len(height))
                where.append(node.boundary)
                left.append(l_id)
                right.append(r_id)
                state_s.append(node.start_s)
                exists_s.append(node.done_s)
                lo.append(lo[l_id])
                hi.append(hi[r_id])
                herald_a.append(herald_a[l_id])
                herald_b.append(herald_b[r_id])
                height.append(1 + max(height[l_id], height[r_id]))
                leaf_id.append(0)
        roots.append(out.pop())
    return FlatTrees(
        np.array(where),
        np.array(left),
        np.array(right),
        np.array(state_s),
        np.array(exists_s),
        np.array(lo),
        np.array(hi),
        np.array(herald_a),
        np.array(herald_b),
        np.array(height),
        np.array(leaf_id),
        np.array(roots),
    )

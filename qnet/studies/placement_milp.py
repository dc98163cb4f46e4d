"""The placement's integer program (:mod:`qnet.studies.placement`, step 2): fewest repeaters that serve every demand.

``scipy.optimize.milp`` with HiGHS over the demands' minimal repeater sets.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Sequence

__all__ = ["solve_milp"]


def _minimal(sets: Sequence[frozenset]) -> list[frozenset]:
    """The sets of which no other listed set is a proper subset (each once)."""
    kept: list[frozenset] = []
    for s in sorted(set(sets), key=lambda x: (len(x), sorted(x))):
        if not any(k <= s for k in kept):
            kept.append(s)
    return kept


@contextmanager
def _quiet_stdout():
    """Point file descriptor 1 at devnull for a while (C-level prints), where it can be."""
    import os
    import sys

    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
        saved = os.dup(fd)
    except (AttributeError, ValueError, OSError):  # no real stdout (captured): nothing to quiet
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def solve_milp(
    columns: Sequence[Sequence[frozenset]], max_repeaters: int | None = None, time_limit_s: float = 60.0
) -> tuple[frozenset | None, str, int]:
    """Fewest repeaters such that every demand has one of its repeater sets chosen (:mod:`qnet.studies.placement`, step 2).

    Parameters
    ----------
    columns : sequence of sequences of frozenset
        Per demand, the repeater sets that serve it.
    max_repeaters : int, optional
        K: at most this many repeaters.
    time_limit_s : float
        HiGHS time limit.

    Returns
    -------
    (frozenset or None, str, int)
        The repeaters (None if none found), the status (``"optimal"``, ``"feasible"``: time limit
        with a solution, ``"infeasible"``, ``"timeout"``: time limit without one) and the bound
        on the count (rounded up).

    Examples
    --------
    >>> solve_milp([[frozenset("x"), frozenset("y")], [frozenset("y"), frozenset("zw")]])  # y serves both
    (frozenset({'y'}), 'optimal', 1)
    >>> solve_milp([[frozenset("xy")]], max_repeaters=1)[1]
    'infeasible'
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    nodes = sorted({v for sets in columns for s in sets for v in s})
    if any(len(sets) == 0 for sets in columns):
        return None, "infeasible", 0
    if all(any(not s for s in sets) for sets in columns):
        return frozenset(), "optimal", 0
    col = {v: i for i, v in enumerate(nodes)}
    zs = [(d, s) for d, sets in enumerate(columns) for s in sets]
    ny, nz = len(nodes), len(zs)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def add_row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        """One constraint low <= sum(value x[column]) <= high, in the order rows are added."""
        r = len(lo)
        for column, value in entries:
            rows.append(r)
            cols.append(column)
            vals.append(value)
        lo.append(low)
        hi.append(high)

    for j, (_d, s) in enumerate(zs):  # z - y_v <= 0
        for v in sorted(s):  # a fixed row order: HiGHS breaks ties by it
            add_row([(ny + j, 1.0), (col[v], -1.0)], -np.inf, 0.0)
    for d in range(len(columns)):  # sum z >= 1
        add_row([(ny + j, 1.0) for j, (dd, _s) in enumerate(zs) if dd == d], 1.0, np.inf)
    if max_repeaters is not None:
        add_row([(k, 1.0) for k in range(ny)], -np.inf, float(max_repeaters))
    r = len(lo)
    a = coo_matrix((vals, (rows, cols)), shape=(r, ny + nz)).tocsr()
    c = np.concatenate([np.ones(ny), np.zeros(nz)])
    with _quiet_stdout():  # some HiGHS builds print solver notes on the C stdout
        res = milp(
            c,
            constraints=LinearConstraint(a, lo, hi),
            integrality=np.concatenate([np.ones(ny), np.zeros(nz)]),
            bounds=Bounds(0, 1),
            options={"time_limit": float(time_limit_s)},
        )
    if res.x is None:
        return None, ("infeasible" if res.status == 2 else "timeout"), 0
    chosen = frozenset(v for v, x in zip(nodes, res.x[:ny]) if x > 0.5)
    bound = getattr(res, "mip_dual_bound", None)
    lower = math.ceil(bound - 1e-6) if bound is not None and math.isfinite(bound) else len(chosen)
    return chosen, ("optimal" if res.status == 0 else "feasible"), min(lower, len(chosen))

"""Purified links' tables, grown on demand while the rules run (a call back into Python).

A purified link's source (:class:`qnet.repeater.chain.sources.PurifiedSource`) tabulates its
success probability per waiting time D lazily, doubling the table when a longer wait is drawn.
The rules hold a copy of each table and, when a draw falls beyond it, call :func:`grown` (from
numba's object mode) for the longer one: the same draws, in the same order, as the source's own
``sample``.
"""

from __future__ import annotations

import itertools
import weakref

import numpy as np

__all__ = ["register", "grown"]

_SOURCES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_IDS = itertools.count()


def register(source) -> int:
    """Keep ``source`` reachable by an id the rules can pass back (while it lives).

    Examples
    --------
    >>> from qnet.repeater.engine.tables import register
    >>> class Source:
    ...     pass
    >>> s = Source()
    >>> register(s) >= 0
    True
    """
    key = next(_IDS)
    _SOURCES[key] = source
    return key


def grown(key: int, d: int) -> np.ndarray:
    """The success-per-wait table of source ``key``, long enough for a wait of ``d`` rounds.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.engine.tables import grown, register
    >>> class Source:
    ...     success_by_wait = np.zeros(2)
    ...     def _ensure(self, d):
    ...         self.success_by_wait = np.zeros(2 * d)
    >>> s = Source()
    >>> grown(register(s), 3).shape
    (6,)
    """
    source = _SOURCES[key]
    source._ensure(d)
    return np.ascontiguousarray(source.success_by_wait, dtype=np.float64)

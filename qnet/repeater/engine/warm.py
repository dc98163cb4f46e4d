"""Compile the event engine's rules into numba's cache: ``python -m qnet.repeater.engine.warm [LOCK]``.

Started in the background by the first ``loop="auto"`` run after an install
(:func:`qnet.repeater.engine.core.compile_in_background`): it runs a one-link traffic run and a
one-link chain on the compiled rules (each compiles what it uses), at low priority, then removes
the lock file ``LOCK``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["warm"]


def warm() -> None:
    """Run both entry points of the compiled rules once (traffic and chain mode), so numba caches them.

    Examples
    --------
    >>> from qnet.repeater.engine.warm import warm
    >>> warm()  # (a second or so when the cache is warm)
    """
    import numpy as np

    from qnet.repeater.engine import jit
    from qnet.repeater.engine.core import Engine, available
    from qnet.repeater.engine.model import EngineLink, EngineRequest, EngineRoute

    if not available():
        return
    link = EngineLink(p=0.5, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=1, cap_b=1)
    route = EngineRoute((0,), (0,), (np.inf, np.inf), (1.0, 1.0), (0.0, 0.0))
    args = ([link], [EngineRequest(route)], ["a", "b"], "shared", np.random.default_rng(0))
    Engine(*args, loop="compiled", trace=True).run(until_s=0.01)
    Engine(*args, loop="compiled", chain=True).deliver(1, 1000)
    kernel = jit.kernel(True)
    kernel.store.waiters_of(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1, np.int64))


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(10)
    try:
        warm()
    finally:
        if len(sys.argv) > 1:
            Path(sys.argv[1]).unlink(missing_ok=True)

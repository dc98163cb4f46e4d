"""The compiled event loop: the engine's rules compiled with numba (opt-in, ``loop="compiled"``).

Modules
-------
store (the state type and its array structures), memories (memories and attempt bundles, as in
:mod:`qnet.repeater.engine.resources`), rules (the engine's rules, as in
:mod:`qnet.repeater.engine.core`), state (the state built from engine inputs), engine
(:class:`CompiledEngine`: what traffic runs read, as from the interpreted
:class:`~qnet.repeater.engine.core.Engine`). Only ``engine`` may be imported without numba.
"""

from qnet._lazy import attach

SUBMODULES = ("engine", "memories", "rules", "state", "store")
EXPORTS = {"CompiledEngine": "engine", "available": "engine", "check_runnable": "engine"}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

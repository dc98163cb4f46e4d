"""One source of rules, compiled or not: ``njit`` is numba's when it is installed, else a no-op.

The rules (:mod:`~qnet.repeater.engine.store`, ``memories``, ``rules``) are written once,
for numba's nopython mode, on numpy arrays. With numba they are compiled (``ENABLED``); without
it (or with the environment variable ``QNET_JIT=0``) the same functions run as plain Python.
:func:`kernel` gives either set in one process: ``kernel(True)`` the compiled modules,
``kernel(False)`` plain copies of the same source files, so both can be compared bit for bit.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path

__all__ = ["ENABLED", "available", "kernel"]  # and njit, objmode (module __getattr__: numba imported on first use)

#: The rules are compiled in this process (numba is importable and QNET_JIT is not "0").
ENABLED = os.environ.get("QNET_JIT", "1") != "0" and importlib.util.find_spec("numba") is not None


def _plain_njit(*args, **kwargs):
    """No numba: the decorated function itself (``@njit`` or ``@njit(cache=True)``)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f


def _plain_objmode(**types_of):
    """No numba: ``with objmode(x="float64[:]"):`` runs its block as it is."""
    return contextlib.nullcontext()


def __getattr__(name: str):
    """``njit`` and ``objmode``: numba's, imported on first use (an uncompiled run never imports numba)."""
    if name in ("njit", "objmode"):
        if not ENABLED:
            return _plain_njit if name == "njit" else _plain_objmode
        import numba

        return getattr(numba, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_PACKAGE = __name__.rpartition(".")[0]
_RULES = ("store", "memories", "rules")  # in import order
_PLAIN = f"{_PACKAGE}._plain"


def available() -> bool:
    """True when the rules can be compiled here (numba installed, ``QNET_JIT`` not "0").

    Examples
    --------
    >>> from qnet.repeater.engine.jit import available
    >>> isinstance(available(), bool)
    True
    """
    return ENABLED


def kernel(compiled: bool) -> types.SimpleNamespace:
    """The rule modules (``store``, ``memories``, ``rules``), compiled or plain Python.

    ``compiled=False`` while numba is in use gives plain copies of the same source files (made
    once, under ``qnet.repeater.engine._plain``): the same rules, uncompiled.

    Examples
    --------
    >>> from qnet.repeater.engine.jit import kernel
    >>> k = kernel(False)
    >>> k.rules.run_until.__module__.endswith("rules")
    True
    """
    if compiled and not ENABLED:
        raise RuntimeError("the compiled rules need numba")
    if compiled or not ENABLED:
        return types.SimpleNamespace(**{m: importlib.import_module(f"{_PACKAGE}.{m}") for m in _RULES})
    return types.SimpleNamespace(**{m: _plain(m) for m in _RULES})


def _plain(name: str) -> types.ModuleType:
    """The plain copy of rule module ``name`` (imports of its siblings point at their plain copies)."""
    full = f"{_PLAIN}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    if _PLAIN not in sys.modules:
        package = types.ModuleType(_PLAIN)
        package.__path__ = []
        sys.modules[_PLAIN] = package
        shim = types.ModuleType(f"{_PLAIN}.jit")
        shim.__dict__.update(ENABLED=False, njit=_plain_njit, objmode=_plain_objmode)
        sys.modules[shim.__name__] = shim
    path = Path(__file__).with_name(f"{name}.py")
    source = path.read_text()
    for m in (*_RULES, "jit"):  # (other modules, such as tables, are shared)
        source = source.replace(f"{_PACKAGE}.{m} ", f"{_PLAIN}.{m} ")
    module = types.ModuleType(full)
    module.__file__ = str(path)
    sys.modules[full] = module
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module

"""Lazy package attributes (PEP 562), so that ``import qnet`` and ``qnet --help`` stay cheap.

Each subpackage names its submodules and the public names they export; a name is imported on
first use. The same pattern as ``lazy_loader`` (scientific-python SPEC 1), in a dozen lines.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping, Sequence


def attach(package: str, submodules: Sequence[str], exports: Mapping[str, str]) -> tuple[Callable, Callable, list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    submodules : sequence of str
        Submodules reachable as attributes (``qnet.link.run``).
    exports : mapping of str to str
        Public name -> the submodule that defines it.

    Returns
    -------
    (callable, callable, list of str)
        The package's module-level ``__getattr__`` and ``__dir__``, and its ``__all__``.

    Examples
    --------
    >>> import qnet.link
    >>> "compile_link" in qnet.link.__all__, qnet.link.compile_link.__module__
    (True, 'qnet.link.circuit')
    """

    def __getattr__(name: str) -> Any:
        if name in exports:  # not cached: a module may rebind its global (register_channel does)
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports) | set(submodules))

    return __getattr__, __dir__, sorted(exports)

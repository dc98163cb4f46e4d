"""The ``qnet`` command line: one module per command group over the library layers."""

from qnet._lazy import attach

SUBMODULES = (
    "app",
    "args",
    "options",
    "link",
    "chain",
    "traffic",
    "key",
    "plot",
    "sweep",
    "network",
    "requirements",
    "place",
)
EXPORTS = {
    "main": "app",
    "build_parser": "app",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

"""The repeater event engine: requests sharing memories on links; a chain is one request.

Modules
-------
model (inputs, events and per-run state), resources (memories, attempt bundles, reservations),
core (:class:`Engine`: heralds, swaps, fusions, deliveries, cutoffs, requests, runs). The rules
are in :mod:`qnet.repeater.engine.core`. compiled/ runs the same rules compiled with numba
(opt-in for traffic runs, ``loop="compiled"``; equal results to the last bit).
"""

from qnet._lazy import attach

SUBMODULES = ("core", "model", "resources")
EXPORTS = {
    "EngineLink": "model",
    "EngineRoute": "model",
    "EngineRequest": "model",
    "Delivery": "model",
    "Engine": "core",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

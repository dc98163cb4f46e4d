"""Many requests at once on any topology: the traffic engine.

Modules
-------
requests (:class:`Request`, the requests file), records (raw engine output), engine (the event
engine that also runs chains), run (:func:`simulate_traffic`), results (figures per request).
"""

from qnet._lazy import attach

SUBMODULES = ("records", "requests", "run", "states")
EXPORTS = {
    "Request": "requests",
    "RequestRecord": "records",
    "NodeRecord": "records",
    "LinkRecord": "records",
    "TrafficRun": "records",
    "TRACE_COLUMNS": "records",
    "simulate_traffic": "run",
    "choose_routes": "run",
    "link_memories": "run",
    "delivered_fidelities": "states",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

"""Many requests at once on any topology: traffic on the repeater event engine.

Modules
-------
requests (:class:`Request`, the requests file), records (raw engine output), setup (memories
per link, routes, the engine's links), run (:func:`simulate_traffic`), states (delivered states from
their trees), results (figures per request, node and link), trace (writing a run's event
trace). The engine itself is :mod:`qnet.repeater.engine`.
"""

from qnet._lazy import attach

SUBMODULES = ("records", "requests", "results", "run", "setup", "states", "trace")
EXPORTS = {
    "Request": "requests",
    "RequestRecord": "records",
    "NodeRecord": "records",
    "LinkRecord": "records",
    "TrafficRun": "records",
    "TRACE_COLUMNS": "records",
    "simulate_traffic": "run",
    "choose_routes": "setup",
    "link_memories": "setup",
    "check_parties": "setup",
    "TrafficLinks": "setup",
    "delivered_fidelities": "states",
    "REQUEST_FIELDS": "requests",
    "read_requests": "requests",
    "requests_from_table": "requests",
    "check_requests": "requests",
    "RequestStats": "results",
    "NodeStats": "results",
    "TrafficResult": "results",
    "format_traffic": "results",
    "write_trace": "trace",
    "check_trace_path": "trace",
}

__getattr__, __dir__, __all__ = attach(__name__, SUBMODULES, EXPORTS)

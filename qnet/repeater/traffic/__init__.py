"""Many requests at once on any topology: the traffic engine.

Modules
-------
requests (:class:`Request`, the requests file), records (raw engine output), engine (the event
engine that also runs chains), run (:func:`simulate_traffic`), results (figures per request,
node and link), trace (writing a run's event trace).
"""

from qnet._lazy import attach

SUBMODULES = ("records", "requests", "results", "trace")
EXPORTS = {
    "Request": "requests",
    "RequestRecord": "records",
    "NodeRecord": "records",
    "LinkRecord": "records",
    "TrafficRun": "records",
    "TRACE_COLUMNS": "records",
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

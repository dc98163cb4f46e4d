"""Figures of a traffic run: per request, per node, per link (:class:`TrafficResult`).

:meth:`TrafficResult.from_run` turns the engine's raw :class:`~qnet.repeater.traffic.records.TrafficRun`
into figures. What each figure counts:

* **rate_hz** = delivered / active_s: deliveries per second of the request's active window
  [start_s, min(stop_s, end of run)) (GHZ states per second for a three-party request);
* **rate_hz_ci**, a 95 % interval of that rate. Deliveries are not a Poisson process in general
  (a chain delivers in bursts after long waits, a demand paces them), so with at least
  :data:`BATCH_MIN_DELIVERIES` deliveries the interval is **batch means**: the active window is
  cut into :data:`BATCHES` equal batches, each batch's rate is one observation, and the interval
  is mean ± t(0.975, BATCHES - 1) · s / √BATCHES (Student t; s the sample standard deviation of
  the batch rates), its lower end clipped at 0. With fewer deliveries it is the exact (Garwood)
  Poisson interval on the count n, [χ²(0.025; 2n)/2, χ²(0.975; 2n + 2)/2] / active_s (lower end
  0 when n = 0); for deliveries more regular than Poisson it is conservative;
* **fidelity**: the mean over deliveries; **fidelity_quantiles** and **latency_s_quantiles**:
  ``q05``, ``q50``, ``q95`` (numpy's default, linear interpolation);
  **fraction_above_min_fidelity**: the fraction of deliveries with fidelity >= the request's
  ``min_fidelity``. All of these are None (JSON ``null``) when nothing was delivered;
* **demanded** (demands that arrived, one every 1/rate_hz from start_s) and **unmet_demand**
  = demanded - delivered: None for a request without ``rate_hz``;
* per node: **occupancy** = mean_occupied / memories (time-average fraction of its memories in
  use); per link: **utilisation** (time-average fraction of its memory pairs in use) and heralds;
* **total_rate_hz** = all deliveries / simulated_time_s (the network's throughput over the run).

JSON (:meth:`TrafficResult.to_dict`) writes every non-finite number as ``null`` (conventions.md §1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnet.errors import QnetError
from qnet.link.results import json_number
from qnet.repeater.traffic.records import LinkRecord, RequestRecord, TrafficRun

__all__ = [
    "RequestStats",
    "NodeStats",
    "TrafficResult",
    "format_traffic",
    "rate_interval",
    "BATCHES",
    "BATCH_MIN_DELIVERIES",
    "QUANTILES",
]

#: Batches of the batch-means interval of a rate.
BATCHES = 10
#: Deliveries from which the rate's interval is batch means (below: exact Poisson).
BATCH_MIN_DELIVERIES = 20
#: Quantiles reported for fidelity and latency: name -> probability.
QUANTILES = {"q05": 0.05, "q50": 0.50, "q95": 0.95}


def rate_interval(delivery_time_s: np.ndarray, start_s: float, active_s: float) -> tuple[tuple[float, float], str]:
    """95 % interval of a delivery rate, and the method used (see the module's notes).

    Parameters
    ----------
    delivery_time_s : numpy.ndarray
        Times of the deliveries (s), inside [start_s, start_s + active_s].
    start_s : float
        Start of the active window (s).
    active_s : float
        Its length (s), > 0.

    Returns
    -------
    ((float, float), str)
        The interval (Hz) and ``"batch_means"`` or ``"poisson_exact"``.

    Examples
    --------
    >>> ci, method = rate_interval(np.array([1.0, 2.0, 3.0]), 0.0, 10.0)
    >>> method, [round(x, 4) for x in ci]
    ('poisson_exact', [0.0619, 0.8767])
    >>> ci, method = rate_interval(np.arange(100) * 0.1 + 0.05, 0.0, 10.0)
    >>> method, ci
    ('batch_means', (10.0, 10.0))
    """
    from scipy import stats

    times = np.asarray(delivery_time_s, dtype=float)
    n = times.size
    if n >= BATCH_MIN_DELIVERIES:
        counts, _ = np.histogram(times, bins=BATCHES, range=(start_s, start_s + active_s))
        rates = counts / (active_s / BATCHES)
        half = float(stats.t.ppf(0.975, BATCHES - 1) * rates.std(ddof=1) / math.sqrt(BATCHES))
        mean = n / active_s
        return (max(0.0, mean - half), mean + half), "batch_means"
    low = float(stats.chi2.ppf(0.025, 2 * n) / 2) if n > 0 else 0.0
    high = float(stats.chi2.ppf(0.975, 2 * n + 2) / 2)
    return (low / active_s, high / active_s), "poisson_exact"


def _quantiles(values: np.ndarray) -> dict[str, float | None]:
    if values.size == 0:
        return {k: None for k in QUANTILES}
    return {k: float(np.quantile(values, q)) for k, q in QUANTILES.items()}


@dataclass(frozen=True, eq=False)
class RequestStats:
    """Figures of one request (see :mod:`qnet.repeater.traffic.results` for what each counts).

    Attributes
    ----------
    index : int
        Position in the requests file (the ``request`` column of a trace).
    a, b, c : str, str, str or None
        The parties (``c`` for GHZ requests).
    delivered : int
    rate_hz : float or None
        delivered / active_s (None when the window had no length in the run).
    rate_hz_ci : (float, float) or None
        95 % interval of ``rate_hz``; ``rate_hz_ci_method`` says how (batch means or exact Poisson).
    fidelity : float or None
        Mean delivered fidelity (None: nothing delivered).
    fidelity_quantiles, latency_s_quantiles : dict
        ``{"q05", "q50", "q95"}`` (values None when nothing was delivered).
    fraction_above_min_fidelity : float or None
        Fraction of deliveries with fidelity >= ``min_fidelity``.
    demanded, unmet_demand : int or None
        Demands that arrived and those not served (None without ``requested_rate_hz``).
    requested_rate_hz, min_fidelity, priority, start_s, stop_s : float or None, float, int, float, float
        The request's own fields (``requested_rate_hz`` is its ``rate_hz``, the demand).
    active_s : float
        Length of the active window inside the run (s).
    paths : tuple of tuple of str
        The routes it used.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.traffic import Request, RequestRecord, RequestStats
    >>> rec = RequestRecord(Request("a", "b", min_fidelity=0.85), (("a", "b"),), np.array([0.4, 0.9]),
    ...                     np.array([0.4, 0.5]), np.array([0.9, 0.8]), None, 1.0)
    >>> st = RequestStats.from_record(0, rec)
    >>> st.delivered, st.rate_hz, round(st.fidelity, 3), st.fraction_above_min_fidelity
    (2, 2.0, 0.85, 0.5)
    """

    index: int
    a: str
    b: str
    c: str | None
    delivered: int
    rate_hz: float | None
    rate_hz_ci: tuple[float, float] | None
    rate_hz_ci_method: str | None
    fidelity: float | None
    fidelity_quantiles: dict[str, float | None]
    fraction_above_min_fidelity: float | None
    latency_s_quantiles: dict[str, float | None]
    demanded: int | None
    unmet_demand: int | None
    requested_rate_hz: float | None
    min_fidelity: float
    priority: int
    start_s: float
    stop_s: float
    active_s: float
    paths: tuple[tuple[str, ...], ...]

    @classmethod
    def from_record(cls, index: int, record: RequestRecord) -> "RequestStats":
        """The figures of one :class:`~qnet.repeater.traffic.records.RequestRecord`."""
        req = record.request
        fid = np.asarray(record.fidelity, dtype=float)
        n = int(np.asarray(record.delivery_time_s).size)
        if fid.size != n:
            raise QnetError(f"requests[{index}]: {n} delivery times but {fid.size} fidelities (an engine fault)")
        active = float(record.active_s)
        demanded = None if record.demanded is None else int(record.demanded)  # numpy integers too
        if active > 0:
            rate = n / active
            ci, method = rate_interval(record.delivery_time_s, req.start_s, active)
        else:
            rate, ci, method = None, None, None
        return cls(
            index=index,
            a=req.a,
            b=req.b,
            c=req.c,
            delivered=n,
            rate_hz=rate,
            rate_hz_ci=ci,
            rate_hz_ci_method=method,
            fidelity=float(fid.mean()) if n else None,
            fidelity_quantiles=_quantiles(fid),
            fraction_above_min_fidelity=float(np.mean(fid >= req.min_fidelity)) if n else None,
            latency_s_quantiles=_quantiles(np.asarray(record.latency_s, dtype=float)),
            demanded=demanded,
            unmet_demand=None if demanded is None else demanded - n,
            requested_rate_hz=req.rate_hz,
            min_fidelity=req.min_fidelity,
            priority=req.priority,
            start_s=req.start_s,
            stop_s=req.stop_s,
            active_s=active,
            paths=tuple(tuple(p) for p in record.paths),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (non-finite numbers as None), the issue's keys first."""
        q = lambda d: {k: json_number(v) if v is not None else None for k, v in d.items()}  # noqa: E731
        num = lambda x: None if x is None else json_number(x)  # noqa: E731
        return {
            "a": self.a,
            "b": self.b,
            "c": self.c,
            "delivered": self.delivered,
            "rate_hz": num(self.rate_hz),
            "rate_hz_ci": None if self.rate_hz_ci is None else [json_number(x) for x in self.rate_hz_ci],
            "fidelity": num(self.fidelity),
            "fidelity_quantiles": q(self.fidelity_quantiles),
            "fraction_above_min_fidelity": num(self.fraction_above_min_fidelity),
            "latency_s_quantiles": q(self.latency_s_quantiles),
            "rate_hz_ci_method": self.rate_hz_ci_method,
            "demanded": self.demanded,
            "unmet_demand": self.unmet_demand,
            "requested_rate_hz": num(self.requested_rate_hz),
            "min_fidelity": self.min_fidelity,
            "priority": self.priority,
            "start_s": json_number(self.start_s),
            "stop_s": json_number(self.stop_s),
            "active_s": json_number(self.active_s),
            "paths": [list(p) for p in self.paths],
        }

    def to_row(self) -> dict[str, Any]:
        """One flat row: the CI and quantiles in their own columns, paths joined (``a-r1-b; a-r2-b``)."""
        d = self.to_dict()
        ci = d.pop("rate_hz_ci") or [None, None]
        row: dict[str, Any] = {"request": self.index}
        for key, value in d.items():
            if key in ("fidelity_quantiles", "latency_s_quantiles"):
                stem = key.removesuffix("_quantiles")
                row.update({f"{stem}_{k}": v for k, v in value.items()})
            elif key == "paths":
                row[key] = "; ".join("-".join(p) for p in value)
            else:
                row[key] = value
            if key == "rate_hz":
                row.update(rate_hz_ci_low=ci[0], rate_hz_ci_high=ci[1])
        return row


@dataclass(frozen=True)
class NodeStats:
    """Memory use at one node; ``occupancy`` = mean_occupied / memories (None without memories).

    Examples
    --------
    >>> from qnet.repeater.traffic import NodeStats
    >>> NodeStats("r1", 4, 1.5, 4, 0.375).occupancy
    0.375
    """

    name: str
    memories: int
    mean_occupied: float
    peak_occupied: int
    occupancy: float | None
    occupied_over_time: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers as None)."""
        return {
            "name": self.name,
            "memories": self.memories,
            "mean_occupied": json_number(self.mean_occupied),
            "peak_occupied": self.peak_occupied,
            "occupancy": None if self.occupancy is None else json_number(self.occupancy),
            "occupied_over_time": [json_number(x) for x in self.occupied_over_time],
        }


def _link_dict(link: LinkRecord) -> dict[str, Any]:
    return {
        "a": str(link.a),
        "b": str(link.b),
        "station": str(link.station),
        "memories": int(link.memories),
        "utilisation": json_number(link.utilisation),
        "heralds": int(link.heralds),
    }


@dataclass(frozen=True, eq=False)
class TrafficResult:
    """Figures of one traffic run: per request (file order), per memory node, per link.

    Attributes
    ----------
    requests : tuple of RequestStats
    nodes : tuple of NodeStats
    links : tuple of LinkRecord
        a, b, station, memories, utilisation, heralds.
    total_rate_hz : float or None
        All deliveries / simulated_time_s.
    simulated_time_s, duration_s : float
        Where the clock stopped, and where it was to stop (they differ when ``interrupted``).
    seed : int or None
    policy : str
        ``shared`` or ``reserve``.
    interrupted : bool
        The run was stopped early (Ctrl-C): the figures cover what was finished.

    Examples
    --------
    >>> from qnet.repeater.traffic.records import NodeRecord, RequestRecord, TrafficRun
    >>> from qnet.repeater.traffic.requests import Request
    >>> rec = RequestRecord(Request("a", "b"), (("a", "r", "b"),), np.array([1.0, 3.0]), np.array([0.5, 0.7]),
    ...                     np.array([0.9, 0.7]), None, 10.0)
    >>> run = TrafficRun((rec,), (NodeRecord("r", 2, 0.5, 2),), (), 10.0, 10.0, 7, "shared")
    >>> result = TrafficResult.from_run(run)
    >>> result.requests[0].rate_hz, result.requests[0].fidelity, result.nodes[0].occupancy
    (0.2, 0.8, 0.25)
    >>> list(result.to_dict())
    ['requests', 'nodes', 'links', 'total_rate_hz', 'simulated_time_s', 'seed', 'duration_s', 'policy', 'interrupted', 'occupancy_bin_s']
    """

    requests: tuple[RequestStats, ...]
    nodes: tuple[NodeStats, ...]
    links: tuple[LinkRecord, ...]
    total_rate_hz: float | None
    simulated_time_s: float
    duration_s: float
    seed: int | None
    policy: str
    interrupted: bool = False
    occupancy_bin_s: float | None = None

    @classmethod
    def from_run(cls, run: TrafficRun) -> "TrafficResult":
        """The figures of a :class:`~qnet.repeater.traffic.records.TrafficRun`."""
        requests = tuple(RequestStats.from_record(i, r) for i, r in enumerate(run.requests))
        nodes = tuple(
            NodeStats(
                str(n.name),
                int(n.memories),
                float(n.mean_occupied),
                int(n.peak_occupied),
                n.mean_occupied / n.memories if n.memories > 0 else None,
                tuple(float(x) for x in getattr(n, "occupied_over_time", ())),
            )
            for n in run.nodes
        )
        t = float(run.simulated_time_s)
        total = sum(r.delivered for r in requests) / t if t > 0 else None
        seed = None if run.seed is None else int(run.seed)
        bin_s = getattr(run, "occupancy_bin_s", None)
        return cls(
            requests,
            nodes,
            tuple(run.links),
            total,
            t,
            float(run.duration_s),
            seed,
            run.policy,
            bool(run.interrupted),
            None if bin_s is None else float(bin_s),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``qnet traffic --json`` (no NaN or inf: those are None / ``null``).

        Keys: ``requests`` (file order; each with a, b, c, delivered, rate_hz, rate_hz_ci,
        fidelity, fidelity_quantiles, fraction_above_min_fidelity, latency_s_quantiles,
        rate_hz_ci_method, demanded, unmet_demand, requested_rate_hz, min_fidelity, priority,
        start_s, stop_s, active_s, paths), ``nodes`` (name, memories, mean_occupied,
        peak_occupied, occupancy, occupied_over_time: mean memories in use per time slice of
        ``occupancy_bin_s``), ``links`` (a, b, station, memories, utilisation, heralds: what
        ``qnet draw --result`` reads), ``total_rate_hz``, ``simulated_time_s``, ``seed``,
        ``duration_s``, ``policy``, ``interrupted``, ``occupancy_bin_s``.
        """
        return {
            "requests": [r.to_dict() for r in self.requests],
            "nodes": [n.to_dict() for n in self.nodes],
            "links": [_link_dict(link) for link in self.links],
            "total_rate_hz": None if self.total_rate_hz is None else json_number(self.total_rate_hz),
            "simulated_time_s": json_number(self.simulated_time_s),
            "seed": self.seed,
            "duration_s": json_number(self.duration_s),
            "policy": self.policy,
            "interrupted": self.interrupted,
            "occupancy_bin_s": None if self.occupancy_bin_s is None else json_number(self.occupancy_bin_s),
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat dict per request (``pandas.DataFrame(result.to_rows())``): scalars only.

        Columns: ``request`` (index), the request's figures with ``rate_hz_ci_low``/``_high``,
        ``fidelity_q05``..., ``latency_s_q05``..., and ``paths`` as text (``a-r1-b; a-r2-b``).

        Examples
        --------
        >>> from qnet.repeater.traffic.records import RequestRecord, TrafficRun
        >>> from qnet.repeater.traffic.requests import Request
        >>> rec = RequestRecord(Request("a", "b", rate_hz=1.0), (("a", "r", "b"),), np.array([2.0]), np.array([0.3]),
        ...                     np.array([0.9]), 3, 4.0)
        >>> row = TrafficResult.from_run(TrafficRun((rec,), (), (), 4.0, 4.0, None, "shared")).to_rows()[0]
        >>> row["rate_hz"], row["unmet_demand"], row["fidelity_q50"], row["paths"]
        (0.25, 2, 0.9, 'a-r-b')
        """
        return [r.to_row() for r in self.requests]

    def to_dataframe(self):
        """:meth:`to_rows` as a ``pandas.DataFrame`` (needs pandas).

        Raises
        ------
        QnetError
            If pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError:
            raise QnetError("TrafficResult.to_dataframe needs pandas: pip install pandas (or use to_rows())") from None
        return pd.DataFrame(self.to_rows())


def _g(x: float | None, spec: str = ".4g") -> str:
    return "-" if x is None or not math.isfinite(x) else format(x, spec)


def format_traffic(result: TrafficResult, top: int = 10) -> str:
    """A readable report: one row per request, then the busiest nodes and links (``top`` each).

    Examples
    --------
    >>> from qnet.repeater.traffic.records import RequestRecord, TrafficRun
    >>> from qnet.repeater.traffic.requests import Request
    >>> rec = RequestRecord(Request("a", "b"), (("a", "b"),), np.array([]), np.array([]), np.array([]), None, 2.0)
    >>> print(format_traffic(TrafficResult.from_run(TrafficRun((rec,), (), (), 10.0, 2.0, None, "shared", True))))
    traffic: 1 request, 2 s simulated of 10 s, policy shared, seed none
    ...
    interrupted at t = 2 s: figures cover what was finished
    """
    n = len(result.requests)
    lines = [
        f"traffic: {n} request{'s' if n != 1 else ''}, {result.simulated_time_s:g} s simulated"
        + (f" of {result.duration_s:g} s" if result.simulated_time_s != result.duration_s else "")
        + f", policy {result.policy}, seed {'none' if result.seed is None else result.seed}"
    ]
    lines += _request_table(result.requests)
    lines.append(
        f"(95% CI: batch means over {BATCHES} batches from {BATCH_MIN_DELIVERIES} deliveries, else exact "
        "Poisson; F>=min: fraction of deliveries at or above min_fidelity; unmet: demands not served)"
    )
    lines.append(f"total rate: {_g(result.total_rate_hz)} deliveries/s")
    lines += _busiest(result, top)
    starved = [str(r.index) for r in result.requests if r.delivered == 0]
    if starved and result.policy == "shared":
        lines.append(
            f"request(s) {', '.join(starved)} delivered nothing: under --memory-policy shared, pairs held for "
            "one request can block another's links for good unless the nodes have cutoffs (cutoff_s); try "
            "cutoffs or --memory-policy reserve"
        )
    if result.interrupted:
        lines.append(f"interrupted at t = {result.simulated_time_s:g} s: figures cover what was finished")
    return "\n".join(lines)


def _request_table(requests: tuple[RequestStats, ...]) -> list[str]:
    """The per-request table: a header and one aligned row per request (names left-aligned)."""
    head = (
        "#",
        "request",
        "delivered",
        "rate/s",
        "95% CI /s",
        "F mean",
        "F q05..q95",
        "F>=min",
        "latency q50 s",
        "unmet",
    )
    rows = []
    for r in requests:
        q = r.fidelity_quantiles
        ci = "-" if r.rate_hz_ci is None else f"{_g(r.rate_hz_ci[0])}..{_g(r.rate_hz_ci[1])}"
        band = "-" if q["q05"] is None else f"{q['q05']:.3f}..{q['q95']:.3f}"
        rows.append(
            (
                str(r.index),
                "-".join(p for p in (r.a, r.b, r.c) if p),
                str(r.delivered),
                _g(r.rate_hz),
                ci,
                _g(r.fidelity, ".4f"),
                band,
                _g(r.fraction_above_min_fidelity, ".3f"),
                _g(r.latency_s_quantiles["q50"]),
                "-" if r.unmet_demand is None else str(r.unmet_demand),
            )
        )
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    return [
        "  ".join(x.ljust(w) if i == 1 else x.rjust(w) for i, (x, w) in enumerate(zip(row, widths))).rstrip()
        for row in (head, *rows)
    ]


def _busiest(result: TrafficResult, top: int) -> list[str]:
    """The ``top`` nodes by occupancy and links by utilisation."""
    lines = []
    busy = sorted(((nd, nd.occupancy) for nd in result.nodes if nd.occupancy is not None), key=lambda item: -item[1])[
        :top
    ]
    if busy:
        lines.append(f"nodes by occupancy (top {len(busy)}): mean memories in use / memories, peak")
        lines += [
            f"  {nd.name:<12} {nd.mean_occupied:8.3g} / {nd.memories:<4} ({100 * occupancy:5.1f}%)"
            f"  peak {nd.peak_occupied}"
            for nd, occupancy in busy
        ]
    links = sorted(result.links, key=lambda lk: -lk.utilisation)[:top]
    if links:
        lines.append(f"links by utilisation (top {len(links)}): fraction of memory pairs in use, heralds")
        lines += [
            f"  {f'{lk.a} - {lk.station} - {lk.b}':<28} {100 * lk.utilisation:5.1f}% of {lk.memories}"
            f"  {lk.heralds} heralds"
            for lk in links
        ]
    return lines

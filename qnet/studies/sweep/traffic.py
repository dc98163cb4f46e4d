"""Sweeps and replications of traffic runs: :class:`TrafficEvaluator`.

One point = one :func:`qnet.repeater.traffic.simulate_traffic` run of the same requests on the
network with that point's values. A point may carry ``seed`` (the run field of
:data:`qnet.studies.sweep.axes.RUN_FIELDS`): replications over seeds are an axis like any other,
so they go through the same serial / ``workers`` / Dask execution and the same resume rules.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from qnet._deprecation import renamed_keywords
from qnet.studies.sweep.axes import RUN_FIELDS, toml_literal
from qnet.studies.sweep.evaluators import Evaluator, error_message, table_sha256
from qnet.studies.sweep.table import ERROR_COLUMN

__all__ = ["TrafficEvaluator", "TRAFFIC_REQUEST_COLUMNS"]

#: Per-request columns of a traffic sweep, each prefixed ``r{i}_`` (i: the request's index).
TRAFFIC_REQUEST_COLUMNS = (
    "delivered",
    "rate_hz",
    "rate_hz_ci_low",
    "rate_hz_ci_high",
    "fidelity",
    "fraction_above_min_fidelity",
    "latency_s_q50",
    "unmet_demand",
)


@renamed_keywords(policy="memory_policy", engine="link_backend")
@dataclass(frozen=True)
class TrafficEvaluator(Evaluator):
    """Run the requests on the network at each point; one row of figures per run.

    Parameters
    ----------
    network : mapping
        The raw network table.
    requests : tuple of Request
        The requests (:func:`qnet.repeater.traffic.read_requests`).
    duration_s : float
        Simulated time per run (s).
    memory_policy, metric, swap_policy : str
        As :func:`qnet.repeater.traffic.simulate_traffic`.
    k_paths : int
        Candidate routes per request.
    link_backend : str
        Link backend.
    loop : str
        Event loop, ``"auto"``, ``"compiled"`` or ``"python"`` (equal results; not part of :meth:`describe`).
    seed : int, optional
        The seed of a point without a ``seed`` value.
    overrides : tuple of str
        ``--set`` strings applied before each point's values.
    source : str
        The table's file name, for error messages.
    chunk_size : int
        Points per chunk (default 1: a run is long).

    Examples
    --------
    >>> import tomllib
    >>> from qnet.repeater.traffic import Request
    >>> with open("examples/metro_ion_network.toml", "rb") as fh:
    ...     ev = TrafficEvaluator(network=tomllib.load(fh), requests=(Request("campus", "harbour"),), duration_s=5.0)
    >>> rows = ev.evaluate([{"seed": 1}, {"seed": 2, "nodes.campus.t2_s": 0.01}])
    >>> [r["error"] for r in rows], rows[0]["r0_fidelity"] > rows[1]["r0_fidelity"]
    (['', ''], True)
    """

    network: Mapping[str, Any]
    requests: tuple = ()
    duration_s: float = 60.0
    memory_policy: str = "shared"
    metric: str = "hops"
    k_paths: int = 1
    swap_policy: str = "asap"
    link_backend: str = "aer"
    loop: str = "auto"
    seed: int | None = None
    overrides: tuple[str, ...] = ()
    source: str = "<dict>"
    chunk_size: int = 1
    columns: tuple[str, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        cols = ["total_rate_hz", "simulated_time_s"]
        for i in range(len(self.requests)):
            cols += [f"r{i}_{name}" for name in TRAFFIC_REQUEST_COLUMNS]
        object.__setattr__(self, "columns", tuple(cols))

    @property
    def method_description(self) -> str:  # type: ignore[override]
        """What one point is, for the metadata."""
        return f"traffic: {len(self.requests)} requests, {self.duration_s:g} s simulated per point, memory policy {self.memory_policy}"

    def describe(self) -> dict[str, Any]:
        """The requests, options and network table's sha256 (what a resumed sweep must match).

        Its keys feed :func:`~qnet.studies.sweep.output.sweep_id`, so they keep their first
        spelling (``"policy"`` is the memory policy) and tables written before still resume.
        """
        return {
            "evaluator": "traffic",
            "requests": [dataclasses.asdict(r) for r in self.requests],
            "duration_s": self.duration_s,
            "policy": self.memory_policy,
            "metric": self.metric,
            "k_paths": self.k_paths,
            "swap_policy": self.swap_policy,
            "seed": self.seed,
            "set": list(self.overrides),
            "network_table_sha256": table_sha256(self.network),
        }

    def _row(self, point: Mapping[str, Any]) -> dict[str, Any]:
        from qnet.network.graph import network_from_dict
        from qnet.repeater.traffic import TrafficResult, simulate_traffic

        values = [f"{k}={toml_literal(v)}" for k, v in point.items() if k not in RUN_FIELDS]
        graph = network_from_dict(self.network, source=self.source, overrides=list(self.overrides) + values)
        seed = point.get("seed", self.seed)
        run = simulate_traffic(
            graph,
            self.requests,
            duration_s=self.duration_s,
            seed=None if seed is None else int(seed),
            memory_policy=self.memory_policy,
            metric=self.metric,
            k_paths=self.k_paths,
            swap_policy=self.swap_policy,
            link_backend=self.link_backend,
            loop=self.loop,
        )
        res = TrafficResult.from_run(run)
        row: dict[str, Any] = {
            "total_rate_hz": res.total_rate_hz,
            "simulated_time_s": res.simulated_time_s,
            ERROR_COLUMN: "",
        }
        for i, r in enumerate(res.requests):
            ci = r.rate_hz_ci or (None, None)
            row.update(
                {
                    f"r{i}_delivered": r.delivered,
                    f"r{i}_rate_hz": r.rate_hz,
                    f"r{i}_rate_hz_ci_low": ci[0],
                    f"r{i}_rate_hz_ci_high": ci[1],
                    f"r{i}_fidelity": r.fidelity,
                    f"r{i}_fraction_above_min_fidelity": r.fraction_above_min_fidelity,
                    f"r{i}_latency_s_q50": r.latency_s_quantiles.get("q50"),
                    f"r{i}_unmet_demand": r.unmet_demand,
                }
            )
        return row

    def evaluate(self, points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per point: the run's figures, or an error row."""
        rows = []
        for point in points:
            try:
                rows.append(self._row(point))
            except Exception as exc:  # recorded, not fatal
                rows.append({ERROR_COLUMN: error_message(exc)})
        return rows

"""Wall times of what ``qnet traffic`` does around the engine (medians of --repeats runs).

On a synthetic run (no engine): --requests requests sharing --deliveries deliveries, 1000 nodes
and 2000 links, and a trace of --events rows:

1. ``TrafficResult.from_run`` (rates, batch-means / Poisson intervals, quantiles);
2. ``json.dumps(result.to_dict())`` and ``format_traffic``;
3. ``write_trace`` to CSV and to Parquet, with the files' sizes.

Not a test: nothing here asserts a time. Run from the repository root:

    python benchmarks/bench_traffic_io.py [--requests 100] [--deliveries 1000000] [--events 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_time  # noqa: E402


def synthetic_run(requests: int, deliveries: int, events: int, seed: int = 0):
    """A TrafficRun of ``requests`` requests, ``deliveries`` deliveries in all and an ``events``-row trace."""
    from qnet.repeater.traffic.records import TRACE_COLUMNS, LinkRecord, NodeRecord, RequestRecord, TrafficRun
    from qnet.repeater.traffic.requests import Request

    rng = np.random.default_rng(seed)
    duration = 100.0
    records = []
    for i, n in enumerate(rng.multinomial(deliveries, np.full(requests, 1 / requests))):
        req = Request(f"n{2 * i}", f"n{2 * i + 1}", rate_hz=float(n) / duration if n else None, min_fidelity=0.8)
        records.append(
            RequestRecord(
                req,
                ((req.a, "r", req.b),),
                np.sort(rng.uniform(0, duration, n)),
                rng.exponential(0.1, n),
                rng.uniform(0.6, 1.0, n),
                n if n else None,
                duration,
            )
        )
    nodes = tuple(NodeRecord(f"n{i}", 4, float(rng.uniform(0, 4)), 4) for i in range(1000))
    links = tuple(
        LinkRecord(f"n{i % 1000}", f"n{(i + 1) % 1000}", f"s{i}", 2, float(rng.uniform()), 10) for i in range(2000)
    )
    names = np.array([f"n{i}" for i in range(1000)])
    trace = {c: rng.integers(-1, 10**6, events) for c in TRACE_COLUMNS}
    trace.update(
        time_s=np.sort(rng.uniform(0, duration, events)),
        event=rng.choice(["herald", "swap", "delivery"], events),
        node=rng.choice(names, events),
        node_a=rng.choice(names, events),
        node_b=rng.choice(names, events),
        link=rng.choice(names, events),
        fidelity=np.where(rng.uniform(size=events) < 0.1, rng.uniform(size=events), np.nan),
    )
    return TrafficRun(tuple(records), nodes, links, duration, duration, seed, "shared", False, trace)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--deliveries", type=int, default=1_000_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    from qnet.repeater.traffic.results import TrafficResult, format_traffic
    from qnet.repeater.traffic.trace import write_trace

    run = synthetic_run(args.requests, args.deliveries, args.events)
    t, result = median_time(lambda: TrafficResult.from_run(run), args.repeats)
    print(f"from_run: {args.requests} requests, {args.deliveries:,} deliveries: {t:.3f} s")
    t, text = median_time(lambda: json.dumps(result.to_dict()), args.repeats)
    print(f"to_dict + json.dumps: {t:.3f} s ({len(text):,} characters)")
    t, _ = median_time(lambda: format_traffic(result), args.repeats)
    print(f"format_traffic: {t:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".csv", ".parquet"):
            out = Path(tmp) / f"trace{suffix}"
            t, _ = median_time(lambda: write_trace(run.trace, out, overwrite=True), args.repeats)
            print(f"write_trace {suffix}: {args.events:,} events: {t:.3f} s, {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

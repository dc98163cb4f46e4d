"""Speed of the traffic engine: heralds per second, and a 1,000-node network with 100 requests.

Prints figures; asserts nothing. Medians of --repeats runs where stated.

(a) Event-engine throughput, states carried: simulated link heralds per wall second of
    ``simulate_traffic`` (links, routes, events and every delivered state), and of the event loop
    alone (``Engine.run``), on three workloads on one core:
      * one 10 km link, a request served back to back (every herald is a delivery);
      * one request over a 16-link chain (heralds, swaps, one delivery per 16 heralds);
      * 100 requests between random node pairs of a 1,000-node Waxman network.
    Target of issue #9: >= 2e5 heralds per second per core.
(b) The issue's scenario: a 1,000-node Waxman network (``qnet generate waxman --nodes 1000
    --alpha 0.03 --hardware examples/hardware/ion.toml``), 100 concurrent requests between random
    memory nodes, 600 simulated seconds (10 minutes), --engine batch, a 1 s memory cutoff at every
    node (without cutoffs, pairs held for one request can block another's links for good under
    the shared policy: docs/conventions.md §14); wall time split into network build, links,
    routes and states, and the event loop. Target: <= 60 s on 2 cores.

    python benchmarks/bench_traffic.py [--repeats 3] [--minutes 10] [--requests 100] [--nodes 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

TARGET_HERALDS_PER_S = 2e5
TARGET_WAXMAN_S = 60.0


def _waxman_graph(nodes: int, cutoff_s: float = 1.0):
    """The generated Waxman network with examples/hardware/ion.toml, plus a memory cutoff (s)."""
    from dataclasses import replace

    from qnet.network.generate import network_table, read_hardware, waxman
    from qnet.network.graph import network_from_dict

    hw = read_hardware("examples/hardware/ion.toml")
    hw = replace(hw, memory={**hw.memory, "cutoff_s": cutoff_s})
    return network_from_dict(network_table(waxman(nodes, alpha=0.03, seed=0), hw))


def _random_requests(graph, n: int, seed: int = 0):
    from qnet.network.hardware import MemoryNode
    from qnet.repeater.traffic import Request

    names = sorted(k for k, d in graph.nodes(data=True) if isinstance(d["hardware"], MemoryNode))
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        a, b = rng.choice(len(names), 2, replace=False)
        out.append(Request(names[a], names[b]))
    return out


def _line_graph(links: int):
    from qnet.network.generate import line, network_table, read_hardware
    from qnet.network.graph import network_from_dict

    return network_from_dict(network_table(line(links + 1, 10.0), read_hardware("examples/hardware/ion.toml")))


class _Timed:
    """simulate_traffic with the event loop timed apart (Engine.run wrapped)."""

    def __enter__(self):
        from qnet.repeater.engine import core

        self.core, self.original, self.loop_s = core, core.Engine.run, 0.0

        def run(engine, *args, **kwargs):
            t = time.perf_counter()
            try:
                return self.original(engine, *args, **kwargs)
            finally:
                self.loop_s += time.perf_counter() - t

        core.Engine.run = run
        return self

    def __exit__(self, *exc):
        self.core.Engine.run = self.original


def throughput(name: str, graph, requests, duration_s: float, repeats: int) -> None:
    from qnet.repeater.traffic import simulate_traffic

    totals, loops, heralds = [], [], 0
    for r in range(repeats):
        with _Timed() as timed:
            t = time.perf_counter()
            run = simulate_traffic(graph, requests, duration_s=duration_s, seed=r, engine="batch")
            totals.append(time.perf_counter() - t)
        loops.append(timed.loop_s)
        heralds = sum(link.heralds for link in run.links)
    total, loop = float(np.median(totals)), float(np.median(loops))
    delivered = sum(len(q.delivery_time_s) for q in run.requests)
    print(f"  {name:<34} {heralds:>9,} heralds {delivered:>8,} deliveries  "
          f"{heralds / total:>9,.0f} heralds/s (all)  {heralds / loop:>9,.0f} heralds/s (event loop)  "
          f"{heralds / loop / TARGET_HERALDS_PER_S:.2f} x target")


def waxman_scenario(nodes: int, n_requests: int, minutes: float) -> None:
    from qnet.repeater.traffic import TrafficResult, simulate_traffic

    t0 = time.perf_counter()
    graph = _waxman_graph(nodes)
    t1 = time.perf_counter()
    requests = _random_requests(graph, n_requests)
    with _Timed() as timed:
        run = simulate_traffic(graph, requests, duration_s=60.0 * minutes, seed=1, engine="batch")
    t2 = time.perf_counter()
    res = TrafficResult.from_run(run)
    heralds = sum(link.heralds for link in run.links)
    delivered = sum(r.delivered for r in res.requests)
    served = sum(1 for r in res.requests if r.delivered)
    total = t2 - t0
    print(f"  network: {nodes} memory nodes, {graph.number_of_edges() // 2:,} links; {n_requests} requests, "
          f"{minutes:g} simulated minutes; {served} requests served, {delivered:,} pairs, {heralds:,} heralds")
    print(f"  wall: build network {t1 - t0:.1f} s, links + routes + states {t2 - t1 - timed.loop_s:.1f} s, "
          f"event loop {timed.loop_s:.1f} s; total {total:.1f} s ({total / TARGET_WAXMAN_S:.2f} x the {TARGET_WAXMAN_S:.0f} s target)")
    print(f"  total rate {res.total_rate_hz:.3g} pairs/s; median fidelity over requests "
          f"{np.nanmedian([r.fidelity if r.fidelity is not None else np.nan for r in res.requests]):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=1000)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    from qnet.repeater.traffic import Request

    print("(a) heralds per second, one core (medians of", args.repeats, "runs)")
    throughput("one link, back to back", _line_graph(1), [Request("n0", "n1")], 300.0, args.repeats)
    throughput("one request, 16-link chain", _line_graph(16), [Request("n0", "n16")], 300.0, args.repeats)
    big = _waxman_graph(args.nodes)
    throughput(f"{args.requests} requests, {args.nodes}-node Waxman", big, _random_requests(big, args.requests), 60.0, args.repeats)
    print(f"(b) {args.nodes}-node Waxman, {args.requests} requests, {args.minutes:g} simulated minutes (one run)")
    waxman_scenario(args.nodes, args.requests, args.minutes)


if __name__ == "__main__":
    main()

"""Speed of the traffic engine: heralds per second, and a 1,000-node network with 100 requests.

Prints figures; asserts nothing. Medians of --repeats runs where stated.

(a) Event-engine throughput, states carried: simulated link heralds per wall second of
    ``simulate_traffic`` (links, routes, events and every delivered state), and of the event loop
    alone (``Engine.run``: its events, and every delivery's tree of heralds and swaps), on three
    workloads on one core, for each event loop (``--loop``: python, the rules not compiled, and
    compiled when numba is installed; each loop is warmed up first, its one-off compile or cache load printed
    apart):
      * one 10 km link, a request served back to back (every herald is a delivery), 3000 s;
      * one request over a 16-link chain (heralds, swaps, one delivery per 16 heralds), 1000 s;
      * 100 requests between random node pairs of a 1,000-node Waxman network, 60 s.
    Target of issue #9: >= 2e5 heralds per second per core.
(b) The issue's scenario: a 1,000-node Waxman network (``qnet generate waxman --nodes 1000
    --alpha 0.03 --hardware examples/hardware/ion.toml``), 100 concurrent requests between random
    memory nodes, 600 simulated seconds (10 minutes), --link-backend batch, a 1 s memory cutoff at every
    node (without cutoffs, pairs held for one request can block another's links for good under
    the shared policy: docs/conventions.md §14); wall time split into network build, links,
    routes and states, and the event loop. Target: <= 60 s on 2 cores. Run with each loop.

    python benchmarks/bench_traffic.py [--repeats 3] [--minutes 10] [--requests 100] [--nodes 1000]
                                       [--loop python compiled]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from _record import figure, rate, seconds  # benchmarks/_record.py

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
    """simulate_traffic with the event loop timed apart (the engine's run method wrapped)."""

    def __enter__(self):
        from qnet.repeater.engine.core import Engine

        self.originals, self.loop_s = {Engine: Engine.run}, 0.0
        for cls, original in self.originals.items():
            cls.run = self._timed(original)
        return self

    def _timed(self, original):
        def run(engine, *args, **kwargs):
            t = time.perf_counter()
            try:
                return original(engine, *args, **kwargs)
            finally:
                self.loop_s += time.perf_counter() - t

        return run

    def __exit__(self, *exc):
        for cls, original in self.originals.items():
            cls.run = original


def throughput(name: str, graph, requests, duration_s: float, repeats: int, loop: str, key: str = "") -> None:
    from qnet.repeater.traffic import simulate_traffic

    totals, loops, heralds = [], [], 0
    for r in range(repeats):
        with _Timed() as timed:
            t = time.perf_counter()
            run = simulate_traffic(graph, requests, duration_s=duration_s, seed=r, link_backend="batch", loop=loop)
            totals.append(time.perf_counter() - t)
        loops.append(timed.loop_s)
        heralds = sum(link.heralds for link in run.links)
    total, loop_s = float(np.median(totals)), float(np.median(loops))
    delivered = sum(len(q.delivery_time_s) for q in run.requests)
    print(
        f"  {name:<46} {heralds:>9,} heralds {delivered:>8,} deliveries  "
        f"{heralds / total:>9,.0f} heralds/s (all)  {heralds / loop_s:>9,.0f} heralds/s (event loop)  "
        f"{heralds / loop_s / TARGET_HERALDS_PER_S:.2f} x target"
    )
    if key:
        figure(
            f"heralds_per_s.{loop}.{key}.all",
            rate(heralds / total, "heralds"),
            heralds / total,
            f"{name}: links, routes, events and every delivered state",
        )
        figure(
            f"heralds_per_s.{loop}.{key}.event_loop",
            rate(heralds / loop_s, "heralds"),
            heralds / loop_s,
            f"{name}: the event loop alone",
        )
        figure(
            f"heralds_per_s.{loop}.{key}.vs_target",
            f"{heralds / loop_s / TARGET_HERALDS_PER_S:.1f}×",
            heralds / loop_s / TARGET_HERALDS_PER_S,
            f"{name}: event loop, as a multiple of the issue's 2e5/s",
        )


def warm_up(loop: str) -> None:
    """Load (or compile) the compiled loop once, so the runs below time the loop, not numba."""
    from qnet.repeater.traffic import Request, simulate_traffic

    t = time.perf_counter()
    simulate_traffic(_line_graph(1), [Request("n0", "n1")], duration_s=1.0, seed=0, link_backend="batch", loop=loop)
    first = time.perf_counter() - t
    print(f"  ({loop} loop: first run in this process {first:.1f} s, compile or cache load included)")
    figure(
        f"first_run.{loop}_s",
        seconds(first),
        first,
        f"{loop} loop: the first (tiny) run in a process, compile or cache load included",
    )


def waxman_scenario(nodes: int, n_requests: int, minutes: float, loop: str) -> None:
    from qnet.repeater.traffic import TrafficResult, simulate_traffic

    t0 = time.perf_counter()
    graph = _waxman_graph(nodes)
    t1 = time.perf_counter()
    requests = _random_requests(graph, n_requests)
    with _Timed() as timed:
        run = simulate_traffic(graph, requests, duration_s=60.0 * minutes, seed=1, link_backend="batch", loop=loop)
    t2 = time.perf_counter()
    res = TrafficResult.from_run(run)
    heralds = sum(link.heralds for link in run.links)
    delivered = sum(r.delivered for r in res.requests)
    served = sum(1 for r in res.requests if r.delivered)
    total = t2 - t0
    print(
        f"  {loop} loop; network: {nodes} memory nodes, {graph.number_of_edges() // 2:,} links; {n_requests} requests, "
        f"{minutes:g} simulated minutes; {served} requests served, {delivered:,} pairs, {heralds:,} heralds"
    )
    print(
        f"  wall: build network {t1 - t0:.1f} s, links + routes + states {t2 - t1 - timed.loop_s:.1f} s, "
        f"event loop {timed.loop_s:.1f} s; total {total:.1f} s ({total / TARGET_WAXMAN_S:.2f} x the {TARGET_WAXMAN_S:.0f} s target)"
    )
    for key, value, label in (
        ("total", total, "total"),
        ("event_loop", timed.loop_s, "the event loop"),
        ("network", t1 - t0, "building the network"),
        ("links_routes_states", t2 - t1 - timed.loop_s, "links, routes and every delivered state"),
    ):
        figure(
            f"waxman.{loop}.{key}_s",
            seconds(value),
            value,
            f"{nodes}-node Waxman, {n_requests} requests, {minutes:g} simulated minutes, {loop} loop: {label}",
        )
    figure("waxman.heralds", f"{heralds:,}", heralds, "heralds in the Waxman scenario")
    figure("waxman.pairs", f"{delivered:,}", delivered, "pairs delivered in the Waxman scenario")
    figure("waxman.served", f"{served}", served, "requests served in the Waxman scenario")
    print(
        f"  total rate {res.total_rate_hz:.3g} pairs/s; median fidelity over requests "
        f"{np.nanmedian([r.fidelity if r.fidelity is not None else np.nan for r in res.requests]):.3f}"
    )


def main() -> None:
    from qnet.repeater.engine.core import available

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument(
        "--loop",
        nargs="+",
        choices=("python", "compiled", "auto"),
        default=["python", "compiled"] if available() else ["python"],
    )
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    from qnet.repeater.traffic import Request

    big = _waxman_graph(args.nodes)
    workloads = [
        ("one link, back to back", _line_graph(1), [Request("n0", "n1")], 3000.0, "link"),
        ("one request, 16-link chain", _line_graph(16), [Request("n0", "n16")], 1000.0, "chain16"),
        (
            f"{args.requests} requests, {args.nodes}-node Waxman",
            big,
            _random_requests(big, args.requests),
            60.0,
            "waxman",
        ),
    ]
    print("(a) heralds per second, one core (medians of", args.repeats, "runs)")
    for loop in args.loop:
        warm_up(loop)
        for name, graph, requests, duration_s, key in workloads:
            throughput(f"{name} [{loop}]", graph, requests, duration_s, args.repeats, loop, key)
    print(
        f"(b) {args.nodes}-node Waxman, {args.requests} requests, {args.minutes:g} simulated minutes (one run per loop)"
    )
    for loop in args.loop:
        waxman_scenario(args.nodes, args.requests, args.minutes, loop)


if __name__ == "__main__":
    main()

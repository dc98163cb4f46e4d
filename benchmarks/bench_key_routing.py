"""Wall time of key-rate routing (``--metric key_rate`` / ``diqkd_key_rate``) on a 1,000-node Waxman network.

The network: ``waxman(--nodes, alpha=--alpha)`` with the hardware of examples/hardware/ion.toml,
improved so that key survives many hops (bright-state population 0.002, gate fidelity 0.999,
readout fidelity 0.9999); with ``--heterogeneous`` every node draws its own gate fidelity
(0.995 - 1), bright-state population (0.001 - 0.01) and memories (1 - 4 per link), which makes the
search work harder (labels no longer tie). Steps timed:

1. every elementary link evaluated once (``all_link_results``, batch link engine);
2. the route model built from them (``KeyRouteModel``);
3. the exact search for --pairs random pairs, both metrics (median, 90 % and max seconds per
   pair, partial routes created, route lengths); pairs without key count too (the search proves
   that no route delivers key).

Not a test: nothing here asserts a time. Run from the repository root:

    python benchmarks/bench_key_routing.py [--nodes 1000] [--alpha 0.03] [--pairs 20] [--heterogeneous]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

HARDWARE = Path(__file__).resolve().parents[1] / "examples" / "hardware" / "ion.toml"


def improved_hardware():
    """examples/hardware/ion.toml with bright-state population 0.002, gates 0.999, readout 0.9999."""
    import tempfile

    from qnet.network.generate import read_hardware

    text = HARDWARE.read_text()
    for old, new in (
        ("bright_state_population = 0.02", "bright_state_population = 0.002"),
        ("gate_fidelity = 0.995", "gate_fidelity = 0.999"),
        ("readout_fidelity = 0.999", "readout_fidelity = 0.9999"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hw.toml"
        path.write_text(text)
        return read_hardware(path)


def vary_nodes(table: dict, seed: int = 0) -> None:
    """Each memory node of a network table its own gate fidelity, bright-state population and memories."""
    rng = random.Random(seed)
    degree: dict[str, int] = {}
    for name, node in table["nodes"].items():
        if node["kind"] == "station":
            for end in name[2:].split("-"):
                degree[end] = degree.get(end, 0) + 1
    for name, node in table["nodes"].items():
        if node["kind"] == "memory":
            node["gate_fidelity"] = rng.uniform(0.995, 1.0)
            node["bright_state_population"] = rng.uniform(0.001, 0.01)
            node["memories"] = max(1, degree.get(name, 1)) * rng.randint(1, 4)


def build_network(nodes: int, alpha: float, heterogeneous: bool, seed: int = 0):
    """The Waxman network described in the module docstring."""
    from qnet.network.generate import network_table, waxman
    from qnet.network.graph import network_from_dict

    table = network_table(waxman(nodes, alpha=alpha, seed=seed), improved_hardware())
    if heterogeneous:
        vary_nodes(table, seed)
    return network_from_dict(table)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--alpha", type=float, default=0.03)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--heterogeneous", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    from qnet.errors import NetworkError
    from qnet.repeater.keyroute import KeyRouteModel
    from qnet.repeater.routing import all_link_results

    graph = build_network(args.nodes, args.alpha, args.heterogeneous)
    t0 = time.perf_counter()
    results = all_link_results(graph, link_backend="batch")
    t1 = time.perf_counter()
    model = KeyRouteModel(graph, results)
    t2 = time.perf_counter()
    print(
        f"waxman {args.nodes} nodes, alpha {args.alpha}{', heterogeneous' if args.heterogeneous else ''}: "
        f"{len(model.links)} links; link evaluation {t1 - t0:.2f} s, route model {t2 - t1:.3f} s (grid {len(model.grid.t)} points)"
    )
    rng = random.Random(args.seed)
    pairs = [tuple(rng.sample(model.nodes, 2)) for _ in range(args.pairs)]
    for metric in ("key_rate", "diqkd_key_rate"):
        times, labels, hops, nokey = [], [], [], 0
        for a, b in pairs:
            t = time.perf_counter()
            try:
                route = model.best(a, b, metric)
                labels.append(route.labels)
                hops.append(len(route.hops))
            except NetworkError:
                nokey += 1
            times.append(time.perf_counter() - t)
        times.sort()
        print(
            f"{metric:>15}: {len(pairs)} pairs, per pair median {statistics.median(times):.3f} s, "
            f"p90 {times[int(0.9 * (len(times) - 1))]:.3f} s, max {times[-1]:.3f} s; "
            f"{len(pairs) - nokey} with key (route links {min(hops, default=0)}-{max(hops, default=0)}, "
            f"partial routes median {statistics.median(labels) if labels else 0:g}, max {max(labels, default=0)}), {nokey} without"
        )


if __name__ == "__main__":
    main()

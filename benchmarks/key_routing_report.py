"""How often, and by how much, the additive routing metrics miss the best key rate (``--metric key_rate``).

For every network below and up to --pairs node pairs of it (all pairs when fewer; a seeded sample
otherwise), the exact key-rate route (:mod:`qnet.repeater.keyroute`) is compared with the route of
each additive metric (fidelity, rate, length, hops; :func:`qnet.repeater.routing.best_path`),
both valued with the same route model. A metric *loses* on a pair when its route's key rate is
below the optimum by more than 1e-9 relative; the loss is 1 - K_metric / K_best (100 % when its
route delivers no key). Pairs where no route delivers key are counted but not compared.

Networks: the shipped examples (examples/*.toml), the fibre maps in tests/data imported with
examples/hardware/ion.toml, and generated topologies (``qnet generate``: Waxman 200 nodes, a 6 x 6
grid, a 16-ring) with that hardware improved as in bench_key_routing.py, uniform and
heterogeneous (each node its own gate fidelity, bright-state population and memories).

Run from the repository root (a few minutes on a quiet machine):

    python benchmarks/key_routing_report.py [--pairs 150] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_key_routing import build_network, improved_hardware, vary_nodes  # noqa: E402

ADDITIVE = ("fidelity", "rate", "length", "hops")


def networks():
    """(name, graph) of every network of the report."""
    import qnet
    from qnet.network.generate import grid, network_table, read_hardware, ring
    from qnet.network.graph import network_from_dict
    from qnet.network.importers import read_topology

    for path in sorted((ROOT / "examples").glob("*.toml")):
        yield path.name, qnet.load_network(path)
    ion = read_hardware(ROOT / "examples" / "hardware" / "ion.toml")
    for path in sorted((ROOT / "tests" / "data").glob("*.g*ml")):
        yield f"{path.name} (ion)", network_from_dict(network_table(read_topology(path, largest_component=True), ion))
    better = improved_hardware()
    for hetero in (False, True):
        tag = ", heterogeneous" if hetero else ""
        yield f"waxman 200 (improved{tag})", build_network(200, 0.1, hetero)
        for name, topo in (("grid 6x6, 20 km", grid(6, 6, 20.0)), ("ring 16, 20 km", ring(16, 20.0))):
            table = network_table(topo, better)
            if hetero:
                vary_nodes(table, seed=0)
            yield f"{name} (improved{tag})", network_from_dict(table)


def compare(graph, pairs: int, seed: int) -> dict:
    """Per metric (BB84 and DI-QKD key rate): pairs, pairs with key, and each additive metric's losses."""
    from qnet.errors import NetworkError
    from qnet.repeater.keyroute import KeyRouteModel
    from qnet.repeater.routing import all_link_results, best_path

    results = all_link_results(graph, link_backend="batch")
    model = KeyRouteModel(graph, results)
    every = [(a, b) for i, a in enumerate(model.nodes) for b in model.nodes[i + 1 :]]
    chosen = every if len(every) <= pairs else random.Random(seed).sample(every, pairs)
    routes = {}
    for a, b in chosen:
        for metric in ADDITIVE:
            try:
                routes[(a, b, metric)] = best_path(graph, a, b, metric, link_results=results)
            except NetworkError:
                routes[(a, b, metric)] = None
    out = {}
    for key_metric in ("key_rate", "diqkd_key_rate"):
        losses = {m: [] for m in ADDITIVE}
        with_key = 0
        for a, b in chosen:
            try:
                best = model.best(a, b, key_metric).key_rate_hz
            except NetworkError:
                continue
            with_key += 1
            for metric in ADDITIVE:
                hops = routes[(a, b, metric)]
                value = 0.0 if hops is None else model.evaluate(hops, key_metric).key_rate_hz
                if value > best * (1.0 + 1e-12):
                    raise RuntimeError(f"{metric} route {a} - {b} beats the exact key-rate search: {value} > {best}")
                losses[metric].append(max(0.0, 1.0 - value / best))
        out[key_metric] = {"pairs": len(chosen), "with_key": with_key, "losses": losses}
    return out


def summary(losses: list[float]) -> dict:
    """Share of pairs losing (> 1e-9), median and max loss (%) over the losing pairs."""
    lost = [x for x in losses if x > 1e-9]
    return {
        "lose_percent": 100.0 * len(lost) / len(losses) if losses else 0.0,
        "median_loss_percent": 100.0 * statistics.median(lost) if lost else 0.0,
        "max_loss_percent": 100.0 * max(lost) if lost else 0.0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=150, help="node pairs per network at most (default 150)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    rows = []
    for name, graph in networks():
        print(f"... {name}", file=sys.stderr)
        for key_metric, r in compare(graph, args.pairs, args.seed).items():
            row = {"network": name, "key_metric": key_metric, "pairs": r["pairs"], "with_key": r["with_key"]}
            row.update({m: summary(r["losses"][m]) for m in ADDITIVE})
            rows.append(row)
    if args.json:
        print(json.dumps(rows))
        return
    print(
        "How often the additive metric's route has a lower key rate than the key-rate optimum "
        "(% of pairs with key; median / max loss over those pairs, %)"
    )
    head = f"{'network':<42} {'key':<6} {'pairs':>5} {'key>0':>5}" + "".join(f" {m:>19}" for m in ADDITIVE)
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = "".join(
            f" {row[m]['lose_percent']:5.0f}% {row[m]['median_loss_percent']:5.1f}/{row[m]['max_loss_percent']:5.1f}"
            for m in ADDITIVE
        )
        key = "bb84" if row["key_metric"] == "key_rate" else "diqkd"
        print(f"{row['network']:<42} {key:<6} {row['pairs']:>5} {row['with_key']:>5}{cells}")


if __name__ == "__main__":
    main()

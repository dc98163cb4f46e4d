"""Several studies on one network: the graph passed to each, or the network prepared once.

A program on examples/metro_ion_network.toml (Aer links) that picks the fidelity-best route
campus - airport, runs that chain (Monte Carlo, --samples deliveries), serves two requests for
--duration simulated seconds, and purifies one link (memories set to 2 at its ends):

* "graph": ``qnet.best_path(graph, ...)``, ``qnet.simulate_path(graph, ...)``, ... (each call
  reads the graph and simulates the links it needs);
* "prepared": the same calls on ``net = qnet.prepare_network(graph)`` (built inside the timed
  program): each distinct link simulated once for all of them.

Prints the median of --repeats runs (after one warm-up) and the number of link specs simulated
(counted at :func:`qnet.link.distinct.run_specs`). Not a test: nothing here asserts a time; on a
shared machine compare the ratio and the counts, not the figures.

    python benchmarks/bench_prepared.py [--repeats 5] [--samples 200] [--duration 5]
"""

from __future__ import annotations

import argparse
import platform
import sys

from _timing import median_time  # benchmarks/_timing.py

import qnet
from qnet.link import distinct, prepared
from qnet.repeater import path as path_module

METRO = "examples/metro_ion_network.toml"


def program(network, samples: int, duration_s: float) -> None:
    route = qnet.best_path(network, "campus", "airport", metric="fidelity")
    qnet.simulate_path(network, route, samples=samples, seed=1)
    reqs = [qnet.Request("campus", "airport"), qnet.Request("north", "downtown")]
    qnet.simulate_traffic(network, reqs, duration_s=duration_s, seed=1, metric="fidelity", loop="python")
    qnet.purify_link(network, "campus", "harbour")


def counting() -> list[int]:
    """Count the specs every run_specs call simulates (wherever it is called from)."""
    count = [0]
    real = distinct.run_specs

    def counted(specs, **kw):
        count[0] += len(specs)
        return real(specs, **kw)

    prepared.run_specs = counted  # what a network's results call
    path_module.run_specs = counted  # build_chains over several graphs (compare_path)
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--duration", type=float, default=5.0)
    args = ap.parse_args(argv)
    graph = qnet.load_network(METRO, ["nodes.campus.memories=6", "nodes.harbour.memories=6"])
    count = counting()
    print(f"# {platform.processor() or platform.machine()}, python {sys.version.split()[0]}, qnet {qnet.__version__}")
    print(f"{'program':<10} {'median (s)':>11} {'link specs simulated':>21}")
    rows = {
        "graph": lambda: program(graph, args.samples, args.duration),
        "prepared": lambda: program(qnet.prepare_network(graph), args.samples, args.duration),
    }
    for name, fn in rows.items():
        fn()  # warm-up (Aer, imports)
        count[0] = 0
        t, _ = median_time(fn, args.repeats)
        print(f"{name:<10} {t:11.3f} {count[0] // args.repeats:21d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

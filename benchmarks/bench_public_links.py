"""Distinct links through the public API: milliseconds per link, public path vs the internal one.

For each scheme (two_photon: examples/krutyanskiy2023_230m_link.toml; single_click:
examples/liu2026_ion_link.toml), --links distinct links (each a different fibre efficiency and
storage time, as in bench_links.py (b)) from specs to LinkResults, exact, on Aer:

* "compile_link + run_links": ``qnet.run_links([qnet.compile_link(s) for s in specs])``, the
  public two-call path a user writes;
* "qnet.run_specs": the public one-call path (``qnet.run_specs(specs)``: each distinct link once,
  compiled with shared instructions, one Aer run, no circuit copies);
* "internal run_specs": ``qnet.link.distinct.run_specs``, what chains, routing and traffic use.

Prints the median wall time of --repeats runs (after one warm-up run) in ms per distinct link,
with the fastest run and the median CPU time of this process (all its threads: Aer's
included), which a machine shared with other work inflates less than the wall time. Not a
test: nothing here asserts a time; on a shared machine compare the ratios, not the figures.

    python benchmarks/bench_public_links.py [--links 120] [--repeats 5]

``python benchmarks/run_all.py --only public_links`` records the figures
(benchmarks/results/public_links.json).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np
from _record import figure  # benchmarks/_record.py
from bench_links import distinct_specs


def paths():
    import qnet
    from qnet.link import distinct

    return {
        "compile_link + run_links": lambda specs: qnet.run_links([qnet.compile_link(s) for s in specs]),
        "qnet.run_specs": lambda specs: qnet.run_specs(specs),
        "internal run_specs": lambda specs: distinct.run_specs(specs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import qiskit
    import qiskit_aer

    print(
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}, {platform.processor() or platform.machine()}"
    )
    print(f"{args.links} distinct links, specs -> LinkResults on Aer, exact (median of {args.repeats}), ms per link:")
    for scheme in ("two_photon", "single_click"):
        specs = distinct_specs(scheme, args.links)
        for name, run in paths().items():
            run(specs[:4])  # warm-up: imports, Aer's first run
            walls, cpus = [], []
            for _ in range(args.repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                run(specs)
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
            ms = 1e3 / args.links
            key = name.replace(" + ", "_").replace("qnet.", "").replace(" ", "_")
            figure(
                f"{scheme}.{key}_ms_per_link",
                f"{ms * statistics.median(walls):.2f} ms",
                ms * statistics.median(walls),
                f"{scheme}: {name}, {args.links} distinct links on Aer, median wall ms per link",
            )
            print(
                f"    {scheme:12s} {name:26s} {ms * statistics.median(walls):7.3f} ms/link "
                f"(min {ms * min(walls):.3f}; CPU {ms * statistics.median(cpus):.3f})"
            )


if __name__ == "__main__":
    main()

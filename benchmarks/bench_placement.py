"""Wall time of repeater placement on the SURFnet map (``qnet place``), median of --repeats runs.

The issue's target: placement on SURFnet (~50 nodes) with 10 demands in at most 10 minutes.
Runs :func:`qnet.studies.placement.place` in process on ``examples/maps/Surfnet.gml`` with
``examples/maps/surfnet_demands.toml`` (10 demands) and the ion hardware file, and prints the
size of the problem (routes, candidate chains, distinct segment links, MILP rounds, candidates
the chain model refused) with the time of each step: reading, enumerating (segment links +
screen), and the MILP/verification loop. ``--paths`` and ``--max-repeaters-per-path`` grow the
search. Not a test: nothing here asserts a time. Run from the repository root:

    python benchmarks/bench_placement.py [--repeats 3] [--paths 8] [--max-repeaters-per-path 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from qnet.network.generate import read_hardware
    from qnet.studies.placement import PlacementOptions, place, read_demands, read_map

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--paths", type=int, default=8)
    p.add_argument("--max-repeaters-per-path", type=int, default=6)
    p.add_argument("--samples", type=int, default=1000)
    args = p.parse_args()
    times, steps = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        g = read_map(ROOT / "examples/maps/Surfnet.gml")
        demands = read_demands(ROOT / "examples/maps/surfnet_demands.toml", list(g))
        hw = read_hardware(ROOT / "examples/hardware/ion.toml")
        t1 = time.perf_counter()
        marks: list[float] = []
        res = place(
            g,
            demands,
            hw,
            PlacementOptions(
                paths=args.paths, max_repeaters_per_path=args.max_repeaters_per_path, samples=args.samples
            ),
            progress=lambda m: marks.append(time.perf_counter()) if m.startswith("MILP round 1") else None,
        )
        t2 = time.perf_counter()
        times.append(t2 - t0)
        steps.append((t1 - t0, (marks[0] if marks else t2) - t1, t2 - (marks[0] if marks else t2)))
    med = statistics.median(times)
    read_s, enum_s, loop_s = (statistics.median(x) for x in zip(*steps))
    print(
        f"SURFnet placement: {g.number_of_nodes()} nodes, {g.number_of_edges()} fibres, {len(demands)} demands, "
        f"{args.paths} routes each, at most {args.max_repeaters_per_path} repeaters per chain"
    )
    print(f"  result: {len(res.repeaters)} repeaters ({res.status}): {', '.join(res.repeaters)}")
    print(
        f"  {res.candidates} candidate chains, {res.segments} distinct segment links, {res.iterations} MILP round(s), "
        f"{res.removed} candidates refused by the chain model"
    )
    print(
        f"  wall time, median of {args.repeats}: {med:.1f} s (read {read_s:.2f} s, enumerate {enum_s:.1f} s, "
        f"MILP + verification {loop_s:.1f} s); target <= 600 s"
    )


if __name__ == "__main__":
    sys.exit(main())

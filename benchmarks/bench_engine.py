"""The event engine's cost as a user sees it: README commands in fresh processes, and the first compile.

Prints wall times (medians of --repeats fresh processes) of:

(a) ``qnet chain`` (the README's example, 1000 Monte Carlo deliveries) and ``qnet traffic`` (the
    README's 60 s metro example), each in a new Python process (imports, link simulation, numba's
    cache load, the event loop, the states), for each ``--loop``;
(b) the chain's event loop alone: ``simulate_chain`` on a 4-link and a 64-link chain, timed in one
    process after a warm-up (deliveries per second);
(c) the first run after an install: the README traffic example with an empty numba cache
    (``NUMBA_CACHE_DIR`` set to a new folder), then the same command again (cache loaded);
(d) the event loop's cost per event (``Engine.run`` alone, in this process after a warm-up), for
    each of ``--event-loops`` (default python, and compiled where numba is installed): a request
    over a 16-link chain (300 s), and 40 requests on a 200-node Waxman network (120 s); medians
    of --repeats runs of wall and CPU time (CPU time is the steadier figure on a shared machine).
    (d) times the qnet this process imports: ``PYTHONPATH=/other/checkout`` times another one.

Not a test: nothing here asserts a time. Run it from a checkout; ``--src DIR`` times another
checkout's ``qnet`` (say an older version, for a before/after table)::

    python benchmarks/bench_engine.py [--repeats 3] [--loop auto python] [--src /path/to/other/checkout]
    python benchmarks/bench_engine.py --only events [--event-loops python compiled]   # (d) alone
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAIN = [
    "chain",
    "examples/ion_repeater_chain.toml",
    "alice",
    "bob",
    "--via",
    "r1,r2,r3",
    "--seed",
    "1",
    "--no-progress",
]
TRAFFIC = [
    "traffic",
    "examples/metro_ion_network.toml",
    "--requests",
    "examples/requests/metro.toml",
    "--duration",
    "60",
    "--seed",
    "1",
    "--no-progress",
]
RUN_CLI = "import sys; from qnet.cli.app import main; sys.exit(main(sys.argv[1:]))"


def fresh(src: Path, argv: list[str], env: dict | None = None) -> float:
    """Wall time (s) of ``qnet argv`` in a new process importing qnet from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), **(env or {})}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN_CLI, *argv], cwd=src, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def event_loop_rate(links: int, samples: int) -> str:
    """Deliveries per second of simulate_chain on a ``links``-link chain (links only, no Aer)."""
    import numpy as np

    from qnet.repeater.chain import ChainLink, RepeaterChain, RepeaterNode, simulate_chain

    rho = 0.9 * np.diag([0, 0.5, 0.5, 0]) + 0.1 * np.eye(4) / 4
    rho[1, 2] = rho[2, 1] = 0.45
    chain = RepeaterChain((ChainLink(rho, 0.01, 1e-4),) * links, RepeaterNode(cutoff_s=0.5))
    simulate_chain(chain, samples=2, seed=0)  # warm-up: numba's cache load or compile
    t = time.perf_counter()
    simulate_chain(chain, samples=samples, seed=1)
    dt = time.perf_counter() - t
    return f"{links:4d} links: {samples} deliveries in {dt:6.2f} s ({samples / dt:8.0f} per second, states included)"


def event_cost(loop: str, repeats: int) -> None:
    """(d): microseconds per event of ``Engine.run`` on two workloads, run with event loop ``loop``."""
    from bench_traffic import _line_graph, _random_requests, _waxman_graph  # benchmarks/bench_traffic.py

    from qnet.repeater.engine.core import Engine
    from qnet.repeater.traffic import Request, simulate_traffic

    timed: dict[str, float] = {}
    original = Engine.run

    def run(engine, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(engine, *args, **kwargs)
        finally:
            timed.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, events=engine.events)

    waxman = _waxman_graph(200)
    workloads = (
        ("one request, 16-link chain, 300 s", _line_graph(16), [Request("n0", "n16")], 300.0),
        ("40 requests, 200-node Waxman, 120 s", waxman, _random_requests(waxman, 40), 120.0),
    )
    Engine.run = run  # type: ignore[method-assign]
    try:
        simulate_traffic(_line_graph(1), [Request("n0", "n1")], duration_s=1.0, seed=0, link_backend="batch", loop=loop)
        for name, graph, requests, duration_s in workloads:
            walls, cpus = [], []
            for _ in range(repeats):
                simulate_traffic(graph, requests, duration_s=duration_s, seed=1, link_backend="batch", loop=loop)
                walls.append(timed["wall"] / timed["events"])
                cpus.append(timed["cpu"] / timed["events"])
            print(
                f"  {loop:<9} {name:<38} {int(timed['events']):>9,} events  "
                f"{1e6 * statistics.median(walls):7.2f} us/event wall  {1e6 * statistics.median(cpus):7.2f} us/event CPU"
            )
    finally:
        Engine.run = original  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--loop", nargs="+", default=["auto"], help="traffic --loop values to time (default auto)")
    ap.add_argument("--src", type=Path, default=ROOT, help="checkout whose qnet is timed (default this one)")
    ap.add_argument("--skip-first-run", action="store_true", help="skip (c)")
    ap.add_argument("--only", choices=("events",), help="events: (d) alone")
    ap.add_argument("--event-loops", nargs="+", choices=("python", "compiled"), help="loops of (d)")
    args = ap.parse_args(argv)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, src {args.src}"
    )
    if args.only == "events":
        return events_section(args)
    print(f"(a) README commands, fresh processes, median of {args.repeats}")
    for name, argv_ in (("qnet chain (1000 deliveries)", CHAIN), ("qnet traffic (60 s metro)", TRAFFIC)):
        for loop in args.loop if name.startswith("qnet traffic") else [None]:
            extra = [] if loop is None else ["--loop", loop]
            times = [fresh(args.src, argv_ + extra) for _ in range(args.repeats)]
            print(
                f"  {name:<30} {' '.join(extra):<16} {statistics.median(times):7.2f} s  (runs: "
                f"{', '.join(f'{x:.2f}' for x in times)})"
            )
    if args.src == ROOT:
        print("(b) the chain's event loop alone (one process, after a warm-up)")
        for links, samples in ((4, 20_000), (64, 2_000)):
            print("  " + event_loop_rate(links, samples))
    if not args.skip_first_run:
        with tempfile.TemporaryDirectory() as cache:
            env = {"NUMBA_CACHE_DIR": cache}
            loop = ["--loop", args.loop[0]]
            first = fresh(args.src, TRAFFIC + loop, env)
            second = fresh(args.src, TRAFFIC + loop, env)
            print(
                f"(c) first run after an install (empty numba cache), README traffic {' '.join(loop)}: {first:.1f} s; "
                f"the next run (cache loaded): {second:.1f} s"
            )

    events_section(args)


def events_section(args) -> None:
    """(d) for each of ``args.event_loops`` (default python, and compiled where numba is installed)."""
    import qnet
    from qnet.repeater.engine.core import available

    loops = args.event_loops or (["python", "compiled"] if available() else ["python"])
    where = Path(qnet.__file__).parent
    print(f"(d) the event loop's cost per event (Engine.run alone, qnet from {where}), median of {args.repeats}")
    for loop in loops:
        event_cost(loop, args.repeats)


if __name__ == "__main__":
    main()

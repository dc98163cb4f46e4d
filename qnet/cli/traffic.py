"""``qnet traffic``: many requests at once on one network, served by the traffic engine.

Reads the network (with ``--set``) and a requests file (``[[requests]]`` tables, see
:mod:`qnet.repeater.traffic.requests`), runs :func:`qnet.repeater.traffic.run.simulate_traffic`
for ``--duration`` simulated seconds and prints the figures per request, the busiest nodes and
links (or one JSON object with ``--json``; ``qnet draw --result`` reads its ``links``).
``--trace`` also writes every event (Parquet or CSV), its path checked before the run.
Ctrl-C stops the run: what was finished is printed (JSON ``"interrupted": true``), a line on
stderr says where the clock stopped, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from qnet.cli.args import integer_in, positive_int, positive_number, seed
from qnet.cli.options import (
    add_link_backend_option,
    add_loop_option,
    add_memory_policy_option,
    add_network_options,
    add_no_progress_option,
    add_purify_option,
    add_swap_policy_option,
)
from qnet.repeater.choices import METRICS

__all__ = ["register"]

#: Most routes per request (``--k-paths``).
K_PATHS_MAX = 100


def register(sub) -> None:
    """Add the ``traffic`` command to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["traffic", "net.toml", "--requests", "req.toml", "--duration", "60", "--seed", "1"])
    >>> args.duration, args.seed, args.memory_policy, args.metric, args.k_paths, args.swap_policy, args.link_backend, args.trace
    (60.0, 1, 'shared', 'hops', 1, 'asap', 'aer', None)
    """
    p = sub.add_parser("traffic", help="many requests at once: rate and fidelity per request, memory and link use")
    add_network_options(p)
    p.add_argument(
        "--requests",
        required=True,
        metavar="REQUESTS.toml",
        help="requests file: one [[requests]] table per request (a, b; optional c, rate_hz, min_fidelity, "
        "start_s, stop_s, priority)",
    )
    p.add_argument(
        "--duration", type=positive_number, required=True, metavar="S", help="simulated time in seconds (> 0)"
    )
    p.add_argument("--seed", type=seed, help="seed of the run, 0 to 2^63-1 (reproducible runs)")
    add_memory_policy_option(p)
    p.add_argument("--metric", choices=METRICS, default="hops", help="route cost (default hops)")
    p.add_argument(
        "--k-paths",
        type=positive_int(K_PATHS_MAX),
        default=1,
        metavar="K",
        help=f"routes per request, the K best by --metric, load spread over them (default 1, at most {K_PATHS_MAX})",
    )
    add_swap_policy_option(p, deprecated_policy=False)  # here --policy meant the memory policy
    add_link_backend_option(p)
    add_purify_option(p)
    add_loop_option(p)
    p.add_argument(
        "--occupancy-bins",
        type=integer_in(0, 10_000),
        default=20,
        metavar="N",
        help="time slices of each node's occupancy over time in --json (default 20, 0: none)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--trace",
        metavar="T.parquet|T.csv",
        help="also write every event to this file: Parquet (needs pyarrow) or CSV by suffix (checked before the run)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --trace file")
    add_no_progress_option(p)
    p.set_defaults(handler=_cmd_traffic)


class _ClockProgress:
    """The simulation clock on a terminal: ``qnet traffic: t = 12.3/60 s (20.5%), elapsed 0:03, ETA 0:12``.

    Redrawn at most every 0.2 s; :meth:`close` ends the line. Called as ``progress(t_sim_s, duration_s)``.
    """

    def __init__(self, stream) -> None:
        self.stream, self.t0, self.last, self.shown = stream, time.perf_counter(), 0.0, False

    def __call__(self, t_sim_s: float, duration_s: float) -> None:
        now = time.perf_counter()
        if now - self.last < 0.2:
            return
        from qnet.studies.progress import clock

        self.last, elapsed = now, now - self.t0
        frac = min(max(t_sim_s / duration_s, 0.0), 1.0) if duration_s > 0 else 1.0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("inf")
        self.stream.write(
            f"\rqnet traffic: t = {t_sim_s:.4g}/{duration_s:g} s ({100 * frac:.1f}%), "
            f"elapsed {clock(elapsed)}, ETA {clock(eta)}\x1b[K"
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _progress(args: argparse.Namespace) -> _ClockProgress | None:
    """A progress callback when stderr is a terminal (and not --no-progress), else None."""
    if args.no_progress or not sys.stderr.isatty():
        return None
    return _ClockProgress(sys.stderr)


def _cmd_traffic(args: argparse.Namespace) -> int:
    from qnet.network.io import load_network
    from qnet.repeater.traffic.requests import check_requests, read_requests
    from qnet.repeater.traffic.results import TrafficResult, format_traffic
    from qnet.repeater.traffic.run import simulate_traffic
    from qnet.repeater.traffic.trace import check_trace_path, write_trace

    if args.trace:
        check_trace_path(args.trace, overwrite=args.overwrite)  # before any work
    requests = read_requests(args.requests)
    graph = load_network(args.network, args.overrides)
    check_requests(graph, requests)
    progress = _progress(args)
    try:
        run = simulate_traffic(
            graph,
            requests,
            duration_s=args.duration,
            seed=args.seed,
            memory_policy=args.memory_policy,
            metric=args.metric,
            k_paths=args.k_paths,
            swap_policy=args.swap_policy,
            link_backend=args.link_backend,
            trace=bool(args.trace),
            progress=progress,
            occupancy_bins=args.occupancy_bins,
            purify=args.purify,
            twirl=args.twirl,
            loop=args.loop,
        )
    finally:
        if progress is not None:
            progress.close()
    result = TrafficResult.from_run(run)
    print(
        json.dumps(result.to_dict()) if args.json else format_traffic(result)
    )  # first: a failed trace write keeps them
    if args.trace:
        sys.stdout.flush()
        write_trace(run.trace, args.trace, overwrite=args.overwrite)
    if result.interrupted:
        print(
            f"qnet traffic: interrupted at t = {result.simulated_time_s:g} s of {result.duration_s:g} s; "
            f"the figures{' and the trace' if args.trace else ''} cover what was finished",
            file=sys.stderr,
        )
        return 130
    return 0

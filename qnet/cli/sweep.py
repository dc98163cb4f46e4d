"""``qnet sweep``: evaluate one elementary link over a grid of parameter values.

Imports nothing heavy at module level (``qnet --help`` stays instant); the work lives in
:mod:`qnet.studies.sweep`.
"""

from __future__ import annotations

import argparse
import sys

from qnet.cli.args import count, integer_in, positive_number, seed
from qnet.cli.options import (
    add_deprecated_alias,
    add_link_backend_option,
    add_loop_option,
    add_memory_policy_option,
    add_no_progress_option,
    add_swap_policy_option,
)
from qnet.link.choices import DEVICES
from qnet.repeater.choices import METRICS
from qnet.studies.choices import TABLE_FORMATS

__all__ = ["register", "run"]

_EPILOG = """\
axes (repeatable; the grid is their outer product, the last one varying fastest):
  --vary FIELD=START:STOP:N          N evenly spaced values, START and STOP included
  --vary FIELD=START:STOP:N:log      N geometrically spaced values (START, STOP > 0)
  --values FIELD=V1,V2,...           explicit values (TOML values; a bare word is a string)
  FIELD is nodes.NAME.FIELD, fibres.NAME.FIELD or network.FIELD, as in --set; fields joined
  by commas vary together: --vary fibres.alice-station.length_km,fibres.station-bob.length_km=1:60:20

output: one row per point: the varied fields, the link's figures (as in `qnet link --json`),
total_length_km, fibre_transmission (of both fibres), plob_bits_per_s (PLOB bound of that fibre
per attempt time), `error` (why a point failed, e.g. an efficiency above 1; empty otherwise) and
sweep_id (a hash of the network table, link and --set: --resume refuses rows of another one).
CSV by default, Parquet with --format parquet or a .parquet suffix (needs pyarrow).
OUT.meta.json records the versions, the network file's sha256, the axes (as written: START,
STOP, N), --set, the link backend, the workers and the times. OUT and its sidecars (OUT.meta.json,
OUT.partial.csv) are replaced only with --overwrite; OUT.lock keeps a second run off OUT.
At most 10^8 points per sweep, and only if their table fits on the disk.
Rows are written chunk by chunk: after Ctrl-C or a crash, --resume evaluates only the missing
points (a run that finished no point leaves no file).

Dask: the scheduler and its workers run the code qnet sends them (pickles) and qnet unpickles
what they send back: use --dask only with a cluster you trust. An address on this machine
(127.0.0.1, localhost) may be plain tcp://; any other needs tls:// with --dask-tls-ca-file,
--dask-tls-cert and --dask-tls-key (or dask's distributed.comm.tls.* configuration), or
--dask-insecure on a network you trust.

traffic (--traffic REQUESTS.toml --duration S): one `qnet traffic` run per point; columns
total_rate_hz, simulated_time_s and, per request i (file order), r{i}_delivered, r{i}_rate_hz,
r{i}_rate_hz_ci_low/high, r{i}_fidelity, r{i}_fraction_above_min_fidelity, r{i}_latency_s_q50,
r{i}_unmet_demand. --replications N adds a last axis `seed` (N seeds); --values seed=1,5,9 too.

examples:
  qnet sweep examples/liu2026_ion_link.toml alice bob -o dist.csv \\
      --vary fibres.alice-station.length_km,fibres.station-bob.length_km=0.5:60:120
  qnet sweep examples/liu2026_ion_link.toml alice bob -o grid.parquet --workers 2 \\
      --vary nodes.alice.bright_state_population,nodes.bob.bright_state_population=0.01:0.3:30 \\
      --values nodes.alice.decay,nodes.bob.decay=exponential,gaussian
  qnet sweep examples/metro_ion_network.toml --traffic examples/requests/metro.toml --duration 60 \\
      --values nodes.campus.memories=3,6 --replications 4 --workers 2 -o metro.csv
"""


class _AxisAction(argparse.Action):
    """Keep --vary and --values in one list, in command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        axes = list(getattr(namespace, self.dest, None) or [])
        axes.append((option_string, values))
        setattr(namespace, self.dest, axes)


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``sweep`` command to ``qnet``'s subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``sweep`` parser.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> p = register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["sweep", "net.toml", "alice", "bob", "--vary", "nodes.alice.t2_s=1:2:3",
    ...                           "--values", "nodes.alice.decay=exponential,gaussian", "--format", "parquet"])
    >>> args.axes, args.format, args.link_backend
    ([('--vary', 'nodes.alice.t2_s=1:2:3'), ('--values', 'nodes.alice.decay=exponential,gaussian')], 'parquet', 'aer')
    """
    p = subparsers.add_parser(
        "sweep",
        help="evaluate a link over a grid of parameter values (CSV or Parquet table)",
        description="Evaluate the elementary link A - station - B at every point of a parameter grid "
        "and write one row per point.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("network", help="network file (TOML)")
    p.add_argument("a", nargs="?", help="memory node A (not with --traffic)")
    p.add_argument("b", nargs="?", help="memory node B (not with --traffic)")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")
    p.add_argument(
        "--vary",
        dest="axes",
        action=_AxisAction,
        default=[],
        metavar="FIELD=START:STOP:N",
        help="a range axis (see below)",
    )
    p.add_argument(
        "--values",
        dest="axes",
        action=_AxisAction,
        metavar="FIELD=V1,V2,...",
        help="an explicit-values axis (see below)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field for every point, as in `qnet link` (repeatable)",
    )
    g = p.add_argument_group("repeater chains (sweep the chain from A to B instead of the link A - B)")
    g.add_argument(
        "--chain", action="store_true", help="sweep the repeater chain A ... B (route by --metric unless --via)"
    )
    g.add_argument("--via", help="the chain's inner memory nodes in order, comma-separated (implies --chain)")
    g.add_argument("--metric", choices=METRICS, default="hops", help="route cost without --via (default hops)")
    add_swap_policy_option(g)
    g.add_argument(
        "--exact",
        action="store_true",
        help="exact mode only (error rows where it does not exist); default: exact where available, else Monte Carlo",
    )
    g.add_argument("--samples", type=count, default=1000, help="Monte Carlo deliveries per point (default 1000)")
    g.add_argument("--seed", type=seed, help="Monte Carlo seed (each point's seed is derived from it and the point)")
    g = p.add_argument_group(
        "traffic (sweep runs of many requests instead of the link A - B; --metric, --swap-policy and --seed as above)"
    )
    g.add_argument(
        "--traffic", metavar="REQUESTS.toml", help="requests file: one traffic run per point (see qnet traffic)"
    )
    g.add_argument("--duration", type=positive_number, help="simulated seconds per run (with --traffic)")
    add_memory_policy_option(g, deprecated_policy=False)  # here --policy meant the swap policy
    g.add_argument("--k-paths", type=integer_in(1, 100), default=1, help="candidate routes per request (default 1)")
    g.add_argument(
        "--replications",
        type=count,
        help="N runs per point with seeds SEED..SEED+N-1 (SEED = --seed or 0): a last axis over seed",
    )
    add_loop_option(g)
    p.add_argument("-o", "--output", default="sweep.csv", help="output table (default: sweep.csv)")
    p.add_argument("--format", choices=TABLE_FORMATS, help="table format (default: from the suffix, else csv)")
    add_link_backend_option(
        p,
        help="aer: the compiled circuits on Qiskit Aer, one run() per chunk (default); "
        "batch: the same circuits in qnet's vectorised numpy simulator (equal to 1e-12, faster)",
    )
    p.add_argument(
        "--device",
        choices=DEVICES,
        default="CPU",
        help="Aer device (GPU needs qiskit-aer-gpu and an NVIDIA GPU; pays off only for large circuits)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="local processes evaluating at once, this one included for a link sweep (default 1: this process alone)",
    )
    g = p.add_argument_group("Dask (the scheduler runs the code it is sent: use only a cluster you trust)")
    g.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send chunks to a running, trusted dask.distributed scheduler (tcp://127.0.0.1:8786, tls://host:8786)",
    )
    g.add_argument(
        "--dask-tls-ca-file", metavar="PEM", help="TLS: the certificate authority of the cluster's certificates"
    )
    g.add_argument("--dask-tls-cert", metavar="PEM", help="TLS: this client's certificate")
    g.add_argument("--dask-tls-key", metavar="PEM", help="TLS: this client's private key")
    g.add_argument(
        "--dask-insecure",
        action="store_true",
        help="allow plain tcp:// to another machine (pickles travel unencrypted, unauthenticated)",
    )
    p.add_argument("--chunk-size", type=int, help="points per chunk (default 256 for aer, 1024 for batch)")
    p.add_argument("--resume", action="store_true", help="keep the points already in the output and evaluate the rest")
    p.add_argument(
        "--retry-errors", action="store_true", help="with --resume: evaluate points recorded with an error again"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    add_no_progress_option(p)
    add_deprecated_alias(p, "-q", "--quiet", new="--no-progress")
    p.add_argument(
        "--profile",
        action="store_true",
        help="print where the time went (spec, compile, run, figures, write, ...) as a table on stderr; "
        'also recorded in OUT.meta.json (the run\'s "profile")',
    )
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Handler of ``qnet sweep``: check everything that would make every point fail, then run the grid.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``qnet sweep`` arguments.

    Returns
    -------
    int
        0 (errors are raised as :class:`~qnet.errors.QnetError`, which ``qnet`` prints as one line).

    Raises
    ------
    QnetError
        On exclusive or incomplete options, an invalid network file, ``--set``, node or field.

    Examples
    --------
    >>> from qnet.cli.app import build_parser
    >>> args = build_parser().parse_args(["sweep", "examples/liu2026_ion_link.toml", "alice", "bob",
    ...                                   "--retry-errors"])
    >>> run(args)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --retry-errors needs --resume
    """
    import gc
    import time
    from pathlib import Path

    from qnet.studies.sweep.profile import process_age_s

    t_setup, startup_s = time.perf_counter(), process_age_s()
    # the setup imports numpy and networkx (~10^5 objects that live as long as the process): the
    # cyclic collector would walk them again and again for nothing (~10% of the start-up)
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        security, axes, evaluator, sha, chain = _setup(args)
    finally:
        if gc_enabled:
            gc.enable()
    setup_s = time.perf_counter() - t_setup
    from qnet.studies.sweep import run_sweep

    # what the setup made stays alive (the collector never ran, so all of it is in the youngest
    # generation): out of the collections during the run (~7 ms for the first), back after it
    gc.freeze()
    try:
        summary = run_sweep(
            evaluator,
            axes,
            Path(args.output),
            fmt=args.format,
            chunk_size=args.chunk_size,
            workers=args.workers,
            dask=args.dask,
            dask_security=security,
            dask_insecure=args.dask_insecure,
            resume=args.resume,
            overwrite=args.overwrite,
            retry_errors=args.retry_errors,
            progress=not args.no_progress,
            metadata=_metadata(args, sha, chain),
            profile=args.profile,
        )
    except KeyboardInterrupt:
        if Path(args.output).exists():
            print(f"qnet sweep: the finished points are in {args.output}; add --resume to complete it", file=sys.stderr)
        else:
            print("qnet sweep: no point had finished; nothing was written", file=sys.stderr)
        raise
    finally:
        gc.unfreeze()
    if not args.no_progress:
        _report(summary)
    if summary.profile is not None:
        _report_profile(summary, startup_s, setup_s)
    return 0


def _setup(args: argparse.Namespace):
    """Check everything that would make every point fail; (Dask security, axes, evaluator, network sha256, chain?)."""
    from qnet.errors import QnetError
    from qnet.network.graph import network_data
    from qnet.network.io import read_network_table
    from qnet.studies.sweep import (
        MAX_POINTS,
        RUN_FIELDS,
        Axis,
        check_field,
        check_sweep_output,
        parse_values,
        parse_vary,
    )

    security = _check_options(args)
    check_sweep_output(args.output, args.format, resume=args.resume, overwrite=args.overwrite)  # before any work
    data, sha = read_network_table(args.network)
    axes = [parse_vary(text) if option == "--vary" else parse_values(text) for option, text in args.axes]
    if args.replications:
        if args.replications > MAX_POINTS:  # (refused before its seeds are listed)
            raise QnetError(
                f"--replications = {args.replications} is invalid: at most {MAX_POINTS:,}, the most points in one sweep"
            )
        base = 0 if args.seed is None else args.seed
        axes.append(
            Axis(("seed",), tuple(range(base, base + args.replications)), f"--replications {args.replications}")
        )
    # fail fast on what would make every point fail: the file, --set, the nodes, the field names
    net = network_data(data, source=args.network, overrides=args.overrides)
    for axis in axes:
        for key in axis.fields:
            if key not in RUN_FIELDS:
                check_field(data, key)
    chain = args.chain or args.via is not None
    if args.traffic is not None:
        evaluator = _traffic_evaluator(args, data, net.graph())
    elif chain:
        evaluator = _chain_evaluator(args, data, net.graph())
    else:  # (a link sweep never builds the graph: it starts without importing networkx)
        evaluator = _link_evaluator(args, data, net)
    return security, axes, evaluator, sha, chain


def _check_options(args: argparse.Namespace):
    """Refuse option combinations that cannot work; the Dask security object (None without --dask)."""
    from qnet.errors import QnetError
    from qnet.studies.sweep import check_dask_address, dask_security

    if args.retry_errors and not args.resume:
        raise QnetError("--retry-errors needs --resume")
    _check_mode(args)
    if args.dask and args.workers != 1:
        raise QnetError("--dask and --workers exclude each other (the Dask cluster has its own workers)")
    tls = dict(tls_ca_file=args.dask_tls_ca_file, tls_cert=args.dask_tls_cert, tls_key=args.dask_tls_key)
    if not args.dask and (any(tls.values()) or args.dask_insecure):
        raise QnetError("--dask-tls-* and --dask-insecure apply to --dask ADDRESS only")
    security = None
    if args.dask:
        security = dask_security(**tls)
        check_dask_address(args.dask, security=security, insecure=args.dask_insecure)
    if args.device != "CPU":
        if args.link_backend != "aer":
            raise QnetError(f"--device {args.device} runs Aer; it does not apply to --link-backend {args.link_backend}")
        from qnet.link.run import simulator

        simulator("density_matrix", args.device)  # a clear error now if Aer has no such device
    return security


def _check_mode(args: argparse.Namespace) -> None:
    """A link or chain sweep needs A and B; a traffic sweep needs --duration and no A, B; seeds only where they mean something."""
    from qnet.errors import QnetError

    traffic = args.traffic is not None
    if traffic and (args.a is not None or args.chain or args.via is not None):
        raise QnetError("--traffic sweeps the runs of a requests file: give no A B, --chain or --via")
    if traffic and args.duration is None:
        raise QnetError("--traffic needs --duration S (simulated seconds per run)")
    if not traffic and (args.a is None or args.b is None):
        raise QnetError("qnet sweep needs A and B (the link or chain ends), or --traffic REQUESTS.toml")
    if not traffic and args.duration is not None:
        raise QnetError("--duration applies to --traffic sweeps")
    seeded = traffic or args.chain or args.via is not None
    if not seeded and (args.replications or any(text.split("=", 1)[0].strip() == "seed" for _o, text in args.axes)):
        raise QnetError(
            "a seed axis (--replications, --values seed=...) applies to --chain and --traffic sweeps; a link has no randomness"
        )


def _traffic_evaluator(args: argparse.Namespace, data: dict, graph):
    """The evaluator of ``--traffic``, after checking the requests against the network."""
    from qnet.repeater.traffic import check_requests, read_requests
    from qnet.studies.sweep import TrafficEvaluator

    requests = read_requests(args.traffic)
    check_requests(graph, requests)
    return TrafficEvaluator(
        network=data,
        requests=tuple(requests),
        duration_s=args.duration,
        memory_policy=args.memory_policy,
        metric=args.metric,
        k_paths=args.k_paths,
        swap_policy=args.swap_policy,
        link_backend=args.link_backend,
        seed=args.seed,
        overrides=tuple(args.overrides),
        source=args.network,
        loop=args.loop,
    )


def _chain_evaluator(args: argparse.Namespace, data: dict, graph):
    """The evaluator of ``--chain``/``--via``, after checking that the path exists."""
    from qnet.errors import QnetError
    from qnet.repeater.routing import best_path, explicit_path
    from qnet.studies.sweep import ChainEvaluator

    via = None if args.via is None else tuple(n.strip() for n in args.via.split(",") if n.strip())
    if via is not None:
        explicit_path(graph, [args.a, *via, args.b])  # fail fast on an impossible path
    else:
        best_path(graph, args.a, args.b, "hops")
    if args.samples < 2:
        raise QnetError(f"--samples {args.samples} is invalid: an integer >= 2")
    return ChainEvaluator(
        network=data,
        a=args.a,
        b=args.b,
        via=via,
        metric=args.metric,
        overrides=tuple(args.overrides),
        exact=True if args.exact else None,
        samples=args.samples,
        seed=args.seed,
        swap_policy=args.swap_policy,
        source=args.network,
    )


def _link_evaluator(args: argparse.Namespace, data: dict, net):
    """The evaluator of one elementary link, after checking that its station exists."""
    from qnet.link.spec import find_station
    from qnet.studies.sweep import LinkEvaluator

    find_station(net, args.a, args.b, args.station)
    return LinkEvaluator(
        network=data,
        a=args.a,
        b=args.b,
        station=args.station,
        overrides=tuple(args.overrides),
        link_backend=args.link_backend,
        source=args.network,
        device=args.device,
    )


def _metadata(args: argparse.Namespace, sha: str, chain: bool) -> dict:
    """What OUT.meta.json records about the command (beside the versions and times run_sweep adds)."""
    return {
        "command": "qnet sweep",
        "argv": sys.argv[1:],
        "network": args.network,
        "network_sha256": sha,
        "link": {"a": args.a, "b": args.b, "station": args.station} if not chain and not args.traffic else None,
        "traffic": {
            "requests": args.traffic,
            "duration_s": args.duration,
            "memory_policy": args.memory_policy,
            "swap_policy": args.swap_policy,
            "k_paths": args.k_paths,
            "seed": args.seed,
            "replications": args.replications,
        }
        if args.traffic
        else None,
        "chain": {
            "a": args.a,
            "b": args.b,
            "via": args.via,
            "metric": args.metric,
            "swap_policy": args.swap_policy,
            "samples": args.samples,
            "seed": args.seed,
            "exact": args.exact,
        }
        if chain
        else None,
        "set": list(args.overrides),
        "vary": [text for option, text in args.axes if option == "--vary"],
        "values": [text for option, text in args.axes if option == "--values"],
    }


def _report(summary) -> None:
    """The closing line on stderr: what was written, how many points, how fast, how many errors."""
    from qnet.studies.progress import per_second, plural

    rate = f", {per_second(summary.points_per_second, 'points')}" if summary.evaluated else ""
    skipped = f", {summary.skipped} already done" if summary.skipped else ""
    print(
        f"qnet sweep: wrote {summary.output} ({plural(summary.points, 'points')}{skipped}; {summary.evaluated} "
        f"evaluated in {summary.seconds:.2f} s{rate}; {summary.errors} with an error) and {summary.metadata_path.name}",
        file=sys.stderr,
    )


def _report_profile(summary, startup_s: float | None, setup_s: float) -> None:
    """The stage table on stderr, with this command's start-up and setup; the same in OUT.meta.json."""
    import json

    from qnet.studies.sweep.output import write_json
    from qnet.studies.sweep.profile import SweepProfile

    run = summary.profile
    first = {"startup": startup_s} if startup_s is not None else {}
    first["setup"] = setup_s
    profile = SweepProfile(
        run.total_s + sum(first.values()), run.points, run.workers, {**first, **run.main}, run.in_workers
    )
    print(profile.format_table(), file=sys.stderr)
    try:
        meta = json.loads(summary.metadata_path.read_text(encoding="utf-8"))
        meta["runs"][-1]["profile"] = profile.to_dict()
        write_json(summary.metadata_path, meta)
    except (OSError, ValueError, KeyError, IndexError):  # the table above is what matters
        pass

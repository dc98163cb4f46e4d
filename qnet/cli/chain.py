"""``qnet chain``, ``qnet path`` and ``qnet compare``: repeater chains on the command line."""

from __future__ import annotations

import argparse
import json

from qnet.cli.args import count, seed
from qnet.cli.options import (
    add_link_backend_option,
    add_network_options,
    add_no_progress_option,
    add_purify_option,
    add_swap_policy_option,
)
from qnet.repeater.choices import KEY_METRICS, METRICS

__all__ = ["register"]


def _range(text: str) -> list[float]:
    """START:STOP:N (inclusive, N points) or a comma-separated list of km values."""
    from qnet.studies.ranges import RangeError, parse_list, parse_range

    try:
        return list(parse_range(text, log=False) if ":" in text else parse_list(text))
    except (RangeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r}: expected START:STOP:N or a comma-separated list of km") from None


def _add_chain_options(p: argparse.ArgumentParser) -> None:
    """The network, the end nodes, --via and the Monte Carlo options every chain command takes."""
    add_network_options(p)
    p.add_argument("a", help="first end node (memory)")
    p.add_argument("b", help="last end node (memory)")
    p.add_argument("--via", help="the path's inner memory nodes in order, comma-separated (stations are found)")
    add_swap_policy_option(p)
    p.add_argument("--samples", type=count, default=1000, help="Monte Carlo deliveries (default 1000; at least 2)")
    p.add_argument("--seed", type=seed, help="seed of the Monte Carlo, 0 to 2^63-1 (reproducible runs)")
    p.add_argument(
        "--exact", action="store_true", help="exact mode (where an exact method exists; an error says why not)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_no_progress_option(p)
    add_link_backend_option(p)


def register(sub) -> None:
    """Add the ``chain``, ``path`` and ``compare`` commands to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["compare", "net.toml", "alice", "bob", "--distances", "10:30:3", "--purify", "bbpssw"])
    >>> args.distances, args.purify, args.twirl, args.metric, args.link_backend, args.handler.__name__
    ([10.0, 20.0, 30.0], 'bbpssw', True, 'fidelity', 'aer', '_cmd_compare')
    """
    p = sub.add_parser("chain", help="end-to-end fidelity and rate of a repeater chain along a given path")
    _add_chain_options(p)
    add_purify_option(p)
    p.set_defaults(handler=_cmd_chain, metric=None)

    p = sub.add_parser("path", help="choose the route through the network, then report it like qnet chain")
    _add_chain_options(p)
    add_purify_option(p)
    p.add_argument(
        "--metric",
        choices=METRICS,
        default="fidelity",
        help="route cost: fidelity (max product of link Werner parameters, default), rate (min sum of 1/rate), length, hops; "
        "key_rate / diqkd_key_rate: the highest BB84 / DI-QKD key rate (exact search, docs/conventions.md §13)",
    )
    p.set_defaults(handler=_cmd_chain)

    p = sub.add_parser("compare", help="direct link vs repeater chain vs PLOB bound over total distance")
    _add_chain_options(p)
    add_purify_option(p)
    p.add_argument("--metric", choices=METRICS, default="fidelity", help="route cost when --via is not given")
    p.add_argument(
        "--distances",
        type=_range,
        help="total distances in km: START:STOP:N or a list (default: the path's own length)",
    )
    p.add_argument("--csv", help="also write the scan as CSV to this file (checked before computing)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")
    p.set_defaults(handler=_cmd_compare)


def route_hops(graph, args):
    """The route of a chain command: ``--via`` as given, else the best route under ``--metric`` (default hops)."""
    from qnet.errors import QnetError
    from qnet.repeater.routing import all_link_results, best_path, explicit_path

    if args.via is not None:
        inner = [n.strip() for n in args.via.split(",") if n.strip()]
        if not inner:
            raise QnetError("--via needs at least one node name")
        return explicit_path(graph, [args.a, *inner, args.b])
    metric = args.metric or "hops"
    results = all_link_results(graph, link_backend=args.link_backend) if metric not in ("length", "hops") else None
    if metric in KEY_METRICS:
        return _key_route(graph, args, metric, results)
    return best_path(graph, args.a, args.b, metric, link_results=results)


def _key_route(graph, args, metric: str, results: dict):
    """The key-rate route (exact search, route model), its model figures noted on stderr."""
    import sys

    from qnet.repeater.keyroute import best_key_route

    route = best_key_route(graph, args.a, args.b, metric, link_results=results)
    print(
        f"route by {metric}: {' - '.join(route.nodes)}; route model (swap asap, no waiting decoherence, "
        f"docs/conventions.md §13): {route.key_rate_hz:.4g} bit/s = {route.key_fraction:.4g} bit x {route.rate_hz:.4g} /s",
        file=sys.stderr,
    )
    return list(route.hops)


def _progress(args, label: str, unit: str):
    if args.no_progress or args.exact:
        return None, None
    return progress_bar(label, unit)


def progress_bar(label: str, unit: str):
    """A progress line on stderr and the ``progress(done, total)`` callback that moves it: (bar, callback)."""
    from qnet.studies.progress import Progress

    bar = Progress(0, label=label, unit=unit)

    def callback(done: int, total: int) -> None:
        bar.total = total
        bar.set(done)

    return bar, callback


def _cmd_chain(args: argparse.Namespace) -> int:
    from qnet.link.prepared import prepare_network
    from qnet.network.io import load_network
    from qnet.repeater.path import format_chain, simulate_path

    # prepared once: the route search (by fidelity, rate or key) and the chain share its links' results
    network = prepare_network(load_network(args.network, args.overrides), link_backend=args.link_backend)
    hops = route_hops(network, args)
    bar, callback = _progress(args, f"qnet {args.command}", "deliveries")
    result = simulate_path(
        network,
        hops,
        exact=args.exact,
        samples=args.samples,
        seed=args.seed,
        swap_policy=args.swap_policy,
        progress=callback,
        purify=args.purify,
        twirl=args.twirl,
        link_backend=args.link_backend,
    )
    if bar is not None:
        bar.close()
    print(json.dumps(result.to_dict()) if args.json else format_chain(result))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import csv
    import io

    from qnet.repeater.compare import compare_path
    from qnet.network.io import load_network
    from qnet.outputs import check_output_path, write_text_atomic

    if args.csv:
        check_output_path(args.csv, overwrite=args.overwrite, option="--csv")
    graph = load_network(args.network, args.overrides)
    hops = route_hops(graph, args)
    distances = args.distances
    if distances is None:
        distances = [
            sum(graph.edges[a, s]["fibre"].length_km + graph.edges[s, b]["fibre"].length_km for a, b, s in hops)
        ]
    bar, callback = _progress(args, "qnet compare", "distances")
    result = compare_path(
        graph,
        hops,
        distances,
        samples=args.samples,
        seed=args.seed,
        exact=True if args.exact else None,
        progress=callback,
        purify=args.purify,
        twirl=args.twirl,
        swap_policy=args.swap_policy,
        link_backend=args.link_backend,
    )
    if bar is not None:
        bar.close()
    rows = [r.to_dict() for r in result.rows]
    if args.csv:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(args.csv, text.getvalue())
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(
        f"direct link vs repeater chain {' - '.join(result.path)} vs PLOB bound (per second: the direct link's channel uses, k per attempt time)"
    )
    cols = [
        ("total_km", "km"),
        ("plob_bits_per_s", "PLOB/s"),
        ("direct_rate_hz", "direct/s"),
        ("direct_fidelity", "direct F"),
        ("direct_bb84_key_rate_hz", "direct key/s"),
        ("chain_rate_hz", "chain/s"),
        ("chain_fidelity", "chain F"),
        ("chain_bb84_key_rate_hz", "chain key/s"),
        ("chain_diqkd_key_rate_hz", "chain DI key/s"),
    ]
    print("  ".join(f"{title:>13}" for _k, title in cols))
    for row in rows:
        print("  ".join(f"{(row[k] if row[k] is not None else float('nan')):13.4g}" for k, _t in cols))
    print(
        "(key = BB84/BBM92 asymptotic key rate; DI = device-independent; chain method: "
        + ", ".join(sorted({r["chain_method"] for r in rows}))
        + ")"
    )
    for name, km in result.crossovers_km.items():
        print(f"{name.replace('_', ' ')}: " + ("not on this grid" if km is None else f"beyond ~{km:.4g} km"))
    return 0

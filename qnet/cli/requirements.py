"""``qnet requirements``: the smallest hardware improvement that meets end-to-end targets."""

from __future__ import annotations

import argparse
import json
import sys

from qnet.cli.args import count, seed
from qnet.cli.options import (
    add_link_backend_option,
    add_network_options,
    add_no_progress_option,
    add_swap_policy_option,
)

__all__ = ["register"]


def _weight(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return key.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected FIELD=WEIGHT (an --improve entry and a number > 0)"
        ) from None


def register(sub) -> None:
    """Add the ``requirements`` command to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["requirements", "net.toml", "alice", "bob", "--target", "fidelity>=0.9",
    ...                           "--improve", "nodes.*.t2_s", "--improve", "nodes.*.gate_fidelity:10"])
    >>> args.targets, args.improve, args.cost, args.handler.__name__
    (['fidelity>=0.9'], ['nodes.*.t2_s', 'nodes.*.gate_fidelity:10'], 'log', '_cmd_requirements')
    """
    p = sub.add_parser(
        "requirements",
        help="the smallest improvement of named hardware parameters that meets end-to-end targets",
        description="Find the cheapest improvement factors k (probabilities p -> p^(1/k), times T -> k T; "
        "docs/conventions.md) of the --improve parameters such that the pair between A and B meets every --target. "
        "nodes.*.FIELD is one factor shared by every node of the route, nodes.NAME.FIELD a factor of its own.",
    )
    add_network_options(p)
    p.add_argument("a", help="first end node (memory)")
    p.add_argument("b", help="last end node (memory)")
    p.add_argument("--via", help="the route's inner memory nodes in order, comma-separated (default: fewest hops)")
    p.add_argument(
        "--target",
        dest="targets",
        action="append",
        default=[],
        metavar="FIGURE>=VALUE",
        help="a requirement, FIGURE>=VALUE or FIGURE<=VALUE (fidelity, rate_hz, diqkd_key_rate_hz, "
        "bb84_key_rate_hz, qber, chsh, ...); repeatable",
    )
    p.add_argument(
        "--improve",
        action="append",
        default=[],
        metavar="FIELD[:KMAX],...",
        help="parameters to improve, comma-separated or repeated: nodes.*.t2_s, nodes.r1.gate_fidelity, "
        "fibres.*.attenuation_db_per_km, ...; :KMAX caps that factor",
    )
    p.add_argument(
        "--max-factor",
        type=float,
        default=None,
        help="largest improvement factor of a parameter without :KMAX (default 100)",
    )
    p.add_argument(
        "--cost",
        choices=("log", "factor"),
        default="log",
        help="log: sum of ln k (default); factor: sum of (k - 1), the improvement factors of Avis et al.",
    )
    p.add_argument(
        "--weight",
        dest="weights",
        action="append",
        type=_weight,
        default=[],
        metavar="FIELD=W",
        help="weight of an --improve entry in the cost (default 1); repeatable",
    )
    p.add_argument(
        "--method",
        choices=("exact", "monte_carlo"),
        help="exact chain, or Monte Carlo with common random numbers (default: exact where available)",
    )
    p.add_argument("--samples", type=count, default=1000, help="Monte Carlo deliveries per point (default 1000)")
    p.add_argument("--seed", type=seed, default=1, help="the common Monte Carlo seed of every point (default 1)")
    add_swap_policy_option(p, deprecated_policy=False)
    p.add_argument("--starts", type=count, default=3, help="local searches from different start points (default 3)")
    p.add_argument(
        "--workers",
        type=count,
        default=1,
        help="processes evaluating each batch of points (the n+1 points of a gradient) together (default 1)",
    )
    p.add_argument("-o", "--output", help="journal of every evaluated point (JSON lines), for --resume")
    p.add_argument("--resume", action="store_true", help="continue from the -o journal (replays the evaluated points)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o journal")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_no_progress_option(p)
    add_link_backend_option(p)
    p.set_defaults(handler=_cmd_requirements)


def _cmd_requirements(args: argparse.Namespace) -> int:
    from qnet.errors import QnetError
    from qnet.studies.requirements import find_requirements, format_requirements

    if not args.improve:
        raise QnetError("--improve: name at least one parameter to improve (e.g. --improve nodes.*.t2_s)")
    if not args.targets:
        raise QnetError("--target: give at least one target (e.g. --target fidelity>=0.9)")
    if args.resume and not args.output:
        raise QnetError("--resume needs -o FILE (the journal to continue)")
    via = None if args.via is None else args.via.split(",")
    try:
        result = find_requirements(
            args.network,
            args.a,
            args.b,
            args.improve,
            args.targets,
            via=via,
            overrides=args.overrides,
            max_factor=args.max_factor,
            weights=dict(args.weights),
            cost=args.cost,
            method=args.method,
            samples=args.samples,
            seed=args.seed,
            swap_policy=args.swap_policy,
            link_backend=args.link_backend,
            starts=args.starts,
            output=args.output,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.no_progress,
            workers=args.workers,
        )
    except KeyboardInterrupt:
        where = f"; the evaluated points are in {args.output} (add --resume to continue)" if args.output else ""
        print(f"qnet requirements: interrupted before any point met every target{where}", file=sys.stderr)
        raise
    print(json.dumps(result.to_dict()) if args.json else format_requirements(result))
    if result.interrupted:
        where = f"; add --resume to continue from {args.output}" if args.output else ""
        print(f"qnet requirements: interrupted: the result is the cheapest point found so far{where}", file=sys.stderr)
        return 130
    return 0

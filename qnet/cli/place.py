"""``qnet place``: the fewest repeaters on a fibre map that serve every demand (:mod:`qnet.studies.placement`)."""

from __future__ import annotations

import argparse
import math
import sys

from qnet.cli.args import count, seed

__all__ = ["register"]


def _km(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: a length in km > 0")
    return x


def register(sub) -> None:
    """Add the ``place`` command to ``qnet``'s subparsers.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> a = parser.parse_args(["place", "map.gml", "--hardware", "hw.toml", "--demands", "d.toml", "--max-repeaters", "4"])
    >>> a.max_repeaters, a.paths, a.max_repeaters_per_path, a.max_link_km, a.detour_factor, a.link_backend
    (4, 8, 6, inf, 1.0, 'batch')
    """
    from qnet.link.choices import LINK_BACKENDS

    p = sub.add_parser(
        "place", help="choose the fewest map nodes to become repeaters so that every demand meets its targets (MILP)"
    )
    p.add_argument("map", help="fibre map: .graphml or .gml (lengths from an edge attribute or node coordinates)")
    p.add_argument(
        "--hardware", required=True, help="hardware file: [memory], [station], [fibre] of every node and link"
    )
    p.add_argument("--demands", required=True, help="demands file: [[demands]] a, b, min_fidelity, min_rate_hz")
    p.add_argument("--max-repeaters", type=count, help="K: at most this many repeaters in all (default: no limit)")
    p.add_argument("--paths", type=count, default=8, help="routes per demand, shortest first (default 8)")
    p.add_argument("--max-repeaters-per-path", type=count, default=6, help="N_max: repeaters on one chain (default 6)")
    p.add_argument(
        "--max-link-km", type=_km, default=math.inf, help="L_max: the longest elementary link, km (default: no limit)"
    )
    p.add_argument(
        "--detour-factor",
        type=float,
        default=1.0,
        help="fibre length / map length for lengths from coordinates (default 1: the great circle)",
    )
    p.add_argument("--sites", help="comma-separated map nodes allowed to hold a repeater (default: all)")
    p.add_argument(
        "--no-end-repeaters",
        action="store_true",
        help="demand end nodes never hold a repeater (Rabbie et al.'s partition; default: they may, for other demands)",
    )
    p.add_argument(
        "--largest-component", action="store_true", help="keep the largest connected part of a disconnected map"
    )
    p.add_argument(
        "--samples",
        type=count,
        default=1000,
        help="Monte Carlo deliveries when verifying a chain of >2 links (default 1000)",
    )
    p.add_argument("--seed", type=seed, default=0, help="Monte Carlo seed (default 0)")
    p.add_argument(
        "--link-backend",
        choices=LINK_BACKENDS,
        default="batch",
        help="link simulator (default batch; aer gives the same within 1e-12)",
    )
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP solve (default 60)")
    p.add_argument("-o", "--output", help="write the placed network (TOML) here")
    p.add_argument("--figure", help="draw the placement on the map (.png, .svg or .pdf)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    p.set_defaults(handler=_cmd_place)


def _cmd_place(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from qnet.errors import QnetError
    from qnet.network.generate import read_hardware
    from qnet.outputs import check_output_path
    from qnet.studies.placement import PlacementOptions, place, read_demands, read_map
    from qnet.studies.placement_report import (
        draw_placement,
        format_placement,
        placement_dict,
        placement_header,
        placement_network,
    )

    for path in (args.output, args.figure):
        if path is not None:
            check_output_path(path, overwrite=args.overwrite)
    if args.figure is not None and Path(args.figure).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise QnetError(f"--figure {args.figure}: the figure format comes from the suffix: one of .png, .svg, .pdf")
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise QnetError(f"--time-limit {args.time_limit!r} is invalid: seconds > 0")
    g = read_map(args.map, args.detour_factor, args.largest_component)
    hw = read_hardware(args.hardware)
    demands = read_demands(args.demands, list(g))
    sites = None
    if args.sites:
        sites = tuple(s.strip() for s in args.sites.split(",") if s.strip())
        unknown = [s for s in sites if s not in g]
        if unknown:
            raise QnetError(f"--sites: {unknown[0]!r} is not a node of the map")
    opts = PlacementOptions(
        paths=args.paths,
        max_repeaters_per_path=args.max_repeaters_per_path,
        max_link_km=args.max_link_km,
        max_repeaters=args.max_repeaters,
        sites=sites,
        samples=args.samples,
        seed=args.seed,
        link_backend=args.link_backend,
        time_limit_s=args.time_limit,
        end_repeaters=not args.no_end_repeaters,
    )
    say = None if args.no_progress else (lambda m: print(f"qnet place: {m}", file=sys.stderr, flush=True))
    p = place(g, demands, hw, opts, progress=say)
    if say is not None:
        say(f"done in {p.elapsed_s:.1f} s")
    if args.json:
        print(json.dumps(placement_dict(p)))
    else:
        print(format_placement(p, len(demands)))
    if p.status == "interrupted":
        print(
            "qnet: interrupted: the placement above is the last MILP answer, not verified for every demand; "
            "nothing written",
            file=sys.stderr,
        )
        return 130
    if args.output is not None:
        from qnet.network.writer import write_network

        write_network(
            placement_network(p, g, hw, name=Path(args.map).stem + "_placement"),
            args.output,
            header=placement_header(p, args.map),
            overwrite=args.overwrite,
        )
    if args.figure is not None:
        draw_placement(p, g, args.figure, overwrite=args.overwrite)
    return 0

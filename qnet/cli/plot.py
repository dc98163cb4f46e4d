"""``qnet plot`` (figures from result tables) and ``qnet optimize`` (best link parameter).

Imports nothing heavy at module level (``qnet --help`` stays instant); the work lives in
:mod:`qnet.studies.plot` and :mod:`qnet.studies.optimize`.
"""

from __future__ import annotations

import argparse
import sys

from qnet.cli.options import add_link_backend_option, add_link_ends, add_network_options

__all__ = ["register"]

_PLOT_EPILOG = """\
what is drawn:
  rates (columns ending in _hz or _per_s) on a log axis by default, with the PLOB bound from
  plob_bits_per_s where the table has it; other figures on a second axis when mixed with rates;
  the line link_efficiency = 1 when link_efficiency is plotted; a vertical line at the first x
  where diqkd_key_fraction becomes 0, when the table has that column. Rows with an error are
  skipped (the figure and stderr say how many). An input column that is not a function of x
  (a second sweep axis) gives one curve per value.

examples:
  qnet sweep examples/liu2026_ion_link.toml alice bob -o dist.csv \\
      --vary fibres.alice-station.length_km,fibres.station-bob.length_km=0.5:60:120
  qnet plot dist.csv --x total_length_km --y rate_hz,diqkd_key_rate_hz -o dist.png
  qnet plot dist.csv --x total_length_km --y fidelity,link_efficiency -o eff.svg
"""

_OPTIMIZE_EPILOG = """\
FIELD is nodes.NAME.FIELD, fibres.NAME.FIELD or network.fibre_speed_km_per_s (a numeric field
that enters the link); comma-joined fields take the same value. station_position=LO:HI moves
the station along the link keeping the total fibre length (fraction of it on A's side).
Method: a grid scan (--grid points, one run), then a bounded scalar search (scipy) around the
best feasible point, and the exact boundary fidelity = F where the constraint binds.

examples:
  qnet optimize examples/liu2026_ion_link.toml alice bob --maximize rate_hz --min-fidelity 0.9 \\
      --vary nodes.alice.bright_state_population,nodes.bob.bright_state_population=0.005:0.3
  qnet optimize examples/liu2026_ion_link.toml alice bob --maximize diqkd_key_rate_hz \\
      --vary nodes.alice.bright_state_population,nodes.bob.bright_state_population=0.005:0.3 \\
      --set fibres.alice-station.length_km=50 --set fibres.station-bob.length_km=50
  qnet optimize examples/liu2026_ion_link.toml alice bob --maximize rate_hz --vary station_position=0.1:0.9
"""


def register(sub) -> None:
    """Add the ``plot`` and ``optimize`` commands to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["plot", "dist.csv", "--x", "total_length_km", "--y", "rate_hz"])
    >>> args.x, args.y, args.output, args.logy
    ('total_length_km', 'rate_hz', None, None)
    """
    p = sub.add_parser(
        "plot",
        help="plot columns of a result table (qnet sweep CSV) against another, to PNG or SVG",
        description="Plot columns of a result table (e.g. qnet sweep output) against one column.",
        epilog=_PLOT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", help="result table: CSV with a header row (qnet sweep output), or .parquet")
    p.add_argument("--x", required=True, metavar="FIELD", help="column on the x axis (e.g. total_length_km)")
    p.add_argument(
        "--y", required=True, metavar="FIELD[,FIELD]", help="column(s) on the y axis (e.g. rate_hz,diqkd_key_rate_hz)"
    )
    p.add_argument("-o", "--output", help="figure file, .png, .svg or .pdf (default: RESULTS with .png)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing figure file")
    p.add_argument(
        "--logy",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="log y scale (default: log when a rate or link_efficiency is plotted)",
    )
    p.add_argument("--title", help="figure title")
    p.set_defaults(handler=_cmd_plot)

    p = sub.add_parser(
        "optimize",
        help="the value of a link parameter that maximises a figure (optionally at fidelity >= F)",
        description="Find the value of one link parameter that maximises a figure of the link A - station - B.",
        epilog=_OPTIMIZE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_network_options(p)
    add_link_ends(p)
    p.add_argument(
        "--vary", required=True, metavar="FIELD[,FIELD...]=LO:HI", help="the parameter and its range (see below)"
    )
    p.add_argument(
        "--maximize",
        required=True,
        metavar="FIGURE",
        help="figure to maximise: rate_hz, diqkd_key_rate_hz, link_efficiency, fidelity, chsh, ... (qnet link --json fields)",
    )
    p.add_argument("--min-fidelity", type=float, metavar="F", help="only values where the link's fidelity >= F")
    p.add_argument("--grid", type=int, default=41, metavar="N", help="points of the initial scan (default 41)")
    add_link_backend_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_cmd_optimize)


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from qnet.studies.plot import plot_results

    output = args.output or str(Path(args.results).with_suffix(".png"))
    fig = plot_results(args.results, args.x, args.y, output, logy=args.logy, title=args.title, overwrite=args.overwrite)
    for note in fig.qnet_plot.notes:  # type: ignore[attr-defined]  # set by plot_results
        print(f"qnet plot: note: {note}", file=sys.stderr)
    print(f"wrote {output}")
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    import json

    from qnet.network.io import load_network
    from qnet.studies.optimize import format_optimum, optimize_link, parse_vary_range

    fields, bounds = parse_vary_range(args.vary)
    graph = load_network(args.network, args.overrides)
    result = optimize_link(
        graph,
        args.a,
        args.b,
        fields,
        bounds,
        args.maximize,
        args.min_fidelity,
        station=args.station,
        grid_points=args.grid,
        link_backend=args.link_backend,
    )
    print(json.dumps(result.to_dict()) if args.json else format_optimum(result))
    return 0

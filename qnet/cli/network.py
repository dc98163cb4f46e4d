"""``qnet generate``, ``qnet import`` and ``qnet draw``: network topologies as files.

Imports nothing heavy at module level (``qnet --help`` stays instant); the work lives in
:mod:`qnet.network.generate`, :mod:`qnet.network.importers`, :mod:`qnet.network.writer` and
:mod:`qnet.studies.draw`.
"""

from __future__ import annotations

import argparse
import shlex

from qnet.cli.args import count, seed
from qnet.cli.options import add_network_options
from qnet.network.choices import LENGTH_UNITS
from qnet.studies.choices import DRAW_COLORS, DRAW_LAYOUTS

__all__ = ["register"]


def _output_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-o", "--output", required=True, help=f"the {what} to write")
    p.add_argument("--overwrite", action="store_true", help=f"replace an existing {what}")


def _generator(kinds, name: str, help_text: str) -> argparse.ArgumentParser:
    p = kinds.add_parser(name, help=help_text)
    p.add_argument(
        "--hardware",
        required=True,
        help="hardware file: [memory], [station], [fibre] (e.g. examples/hardware/ion.toml)",
    )
    _output_options(p, "network file")
    p.set_defaults(handler=_cmd_generate, kind=name)
    return p


def register(sub) -> None:
    """Add the ``generate``, ``import`` and ``draw`` commands to ``qnet``'s subparsers.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["generate", "waxman", "--nodes", "20", "--hardware", "hw.toml", "-o", "net.toml"])
    >>> args.kind, args.nodes, args.alpha, args.beta, args.domain_km, args.seed
    ('waxman', 20, 0.1, 0.4, 100.0, 0)
    """
    p = sub.add_parser("generate", help="write a network file of a generated topology (line, ring, grid, star, waxman)")
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    q = _generator(kinds, "line", "n memory nodes in a line")
    q.add_argument("--nodes", type=count, required=True, help="number of memory nodes (>= 2)")
    q.add_argument("--spacing-km", type=float, default=25.0, help="fibre between neighbours, km (default 25)")
    q = _generator(kinds, "ring", "n memory nodes in a ring")
    q.add_argument("--nodes", type=count, required=True, help="number of memory nodes (>= 3)")
    q.add_argument("--spacing-km", type=float, default=25.0, help="fibre between neighbours, km (default 25)")
    q = _generator(kinds, "grid", "a rows x cols square grid of memory nodes")
    q.add_argument("--rows", type=count, required=True, help="rows")
    q.add_argument("--cols", type=count, required=True, help="columns")
    q.add_argument("--spacing-km", type=float, default=25.0, help="fibre between neighbours, km (default 25)")
    q = _generator(kinds, "star", "users joined to one hub memory node (a repeater/switch)")
    q.add_argument("--users", type=count, required=True, help="number of users around the hub")
    q.add_argument("--length-km", type=float, default=25.0, help="fibre from the hub to each user, km (default 25)")
    q = _generator(kinds, "waxman", "a connected Waxman random graph, fibre = Euclidean distance")
    q.add_argument("--nodes", type=count, required=True, help="number of memory nodes (>= 2)")
    q.add_argument("--alpha", type=float, default=0.1, help="Waxman distance scale in (0, 1] (default 0.1)")
    q.add_argument("--beta", type=float, default=0.4, help="Waxman edge density in (0, 1] (default 0.4)")
    q.add_argument(
        "--domain-km", type=float, default=100.0, help="side of the square the nodes lie in, km (default 100)"
    )
    q.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")

    p = sub.add_parser("import", help="write a network file from a GraphML/GML fibre map")
    p.add_argument("topology", help="a .graphml or .gml file")
    p.add_argument("--hardware", required=True, help="hardware file: [memory], [station], [fibre]")
    p.add_argument(
        "--length-attr",
        help="edge attribute holding the fibre length (default: length_km, length, LinkLength, weight, else node coordinates)",
    )
    p.add_argument(
        "--length-unit", choices=tuple(LENGTH_UNITS), default="km", help="unit of --length-attr (default km)"
    )
    p.add_argument(
        "--largest-component",
        action="store_true",
        help="keep the largest connected part of a disconnected map (default: refuse)",
    )
    _output_options(p, "network file")
    p.set_defaults(handler=_cmd_import)

    p = sub.add_parser("draw", help="draw the memory-node topology, links coloured by fidelity, rate or utilisation")
    add_network_options(p)
    p.add_argument(
        "--color", choices=DRAW_COLORS, help="link colour (default: utilisation with --result, else fidelity)"
    )
    p.add_argument("--result", help='traffic result JSON: {"links": [{"a", "b", "utilisation"}, ...]}')
    p.add_argument(
        "--layout",
        choices=DRAW_LAYOUTS,
        default="auto",
        help="node layout, computed (network files store no positions): auto (default) = kamada_kawai "
        "(fibre lengths as distances) up to 200 memory nodes, else spring (seed 0)",
    )
    _output_options(p, "figure (.png, .svg or .pdf)")
    p.set_defaults(handler=_cmd_draw)


def _topology(args: argparse.Namespace):
    from qnet.network import generate as gen

    if args.kind == "line":
        return gen.line(args.nodes, args.spacing_km)
    if args.kind == "ring":
        return gen.ring(args.nodes, args.spacing_km)
    if args.kind == "grid":
        return gen.grid(args.rows, args.cols, args.spacing_km)
    if args.kind == "star":
        return gen.star(args.users, args.length_km)
    return gen.waxman(args.nodes, args.alpha, args.beta, args.domain_km, args.seed)


def _command_line(args: argparse.Namespace) -> str:
    """The command that made a file, rebuilt from the parsed options (every option spelled out, defaults included)."""
    words = ["qnet", args.command, getattr(args, "kind", None) or args.topology]
    skip = {"command", "kind", "topology", "handler", "output", "overwrite"}
    for key, value in vars(args).items():
        if key in skip or value is None or value is False:
            continue
        words += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return " ".join(shlex.quote(w) for w in words + ["-o", args.output])


def _write(args: argparse.Namespace, topology, what: str, name: str) -> int:
    from qnet.network.generate import network_table, read_hardware
    from qnet.network.writer import write_network
    from qnet.outputs import check_output_path

    check_output_path(args.output, overwrite=args.overwrite)
    hardware = read_hardware(args.hardware)
    command = _command_line(args)
    header = (
        f"{what}\nmade by: {command}\nhardware: {args.hardware}\n"
        "every edge u - v is a link u - s-u-v - v with the station in the middle (docs/topologies.md)"
    )
    table = network_table(topology, hardware, name=name)
    write_network(table, args.output, header=header, overwrite=args.overwrite)
    stations = topology.number_of_edges()
    print(
        f"wrote {args.output}: {topology.number_of_nodes()} memory nodes, {stations} links "
        f"({stations} stations, {2 * stations} fibres, {sum(d for *_, d in topology.edges(data='length_km')):.6g} km of fibre)"
    )
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from qnet.outputs import check_output_path

    check_output_path(args.output, overwrite=args.overwrite)
    topology = _topology(args)
    what = f"{args.kind} topology"
    if topology.graph.get("added_edges"):
        what += f"; {topology.graph['added_edges']} shortest edges added to connect the Waxman graph's parts"
    return _write(args, topology, what, f"{args.kind}_{topology.number_of_nodes()}")


def _cmd_import(args: argparse.Namespace) -> int:
    from qnet.network.importers import read_topology
    from qnet.outputs import check_output_path

    check_output_path(args.output, overwrite=args.overwrite)
    topology = read_topology(args.topology, args.length_attr, args.length_unit, args.largest_component)
    what = f"imported from {args.topology}"
    if topology.graph["dropped_nodes"]:
        what += f"; largest connected part kept, {topology.graph['dropped_nodes']} nodes dropped"
        print(f"kept the largest connected part: {topology.graph['dropped_nodes']} nodes dropped")
    from pathlib import Path

    return _write(args, topology, what, Path(args.topology).stem)


def _cmd_draw(args: argparse.Namespace) -> int:
    from qnet.network.io import load_network
    from qnet.outputs import check_output_path
    from qnet.studies.draw import draw_network, read_utilisation

    check_output_path(args.output, overwrite=args.overwrite)
    color = args.color or ("utilisation" if args.result else "fidelity")
    utilisation = read_utilisation(args.result) if args.result else None
    graph = load_network(args.network, args.overrides)
    fig = draw_network(
        graph, args.output, color=color, utilisation=utilisation, layout=args.layout, overwrite=args.overwrite
    )
    print(f"wrote {args.output}: {fig.axes[0].get_title()}")
    return 0

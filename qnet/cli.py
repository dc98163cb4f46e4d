"""The ``qnet`` command line: ``qnet link``, ``qnet compile`` (and more subcommands as they land).

User errors print one line on stderr (``qnet: error: ...``) and exit with status 2, without a
traceback. Heavy imports (numpy, networkx, qiskit) happen inside the commands, so
``qnet --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Sequence

__all__ = ["main", "build_parser"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
_COMMAND_MODULES: tuple[str, ...] = ("qnet.cli_chain", "qnet.cli_sweep", "qnet.cli_plot")


def _command(name: str):
    def register(fn):
        _COMMANDS[name] = fn
        return fn

    return register


def _add_network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="network file (TOML)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field without editing the file: nodes.NAME.FIELD=VALUE, fibres.NAME.FIELD=VALUE "
        "or network.FIELD=VALUE (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qnet",
        description="Circuit-level simulation of quantum-network links and repeaters (Qiskit + Aer).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("link", help="fidelity, rate and link efficiency of one elementary link")
    _add_network_options(p)
    p.add_argument("a", help="memory node A")
    p.add_argument("b", help="memory node B")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--density-matrix", action="store_true", help="with --json: include the delivered density matrix")
    p.add_argument("--shots", type=int, help="estimate from N shots per tomography setting (default: exact density matrix)")
    p.add_argument("--seed", type=int, help="seed of the shot sampler")
    p.add_argument("--engine", choices=("aer", "batch"), default="aer", help="aer (default) or batch: the same circuits in qnet's numpy simulator")
    p.add_argument("--device", choices=("CPU", "GPU"), default="CPU", help="Aer device (GPU needs qiskit-aer-gpu)")

    p = sub.add_parser("purify", help="one purification round on a link (2 memories per node): fidelity and rate, exactly")
    _add_network_options(p)
    p.add_argument("a", help="memory node A")
    p.add_argument("b", help="memory node B")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")
    p.add_argument("--protocol", choices=("dejmps", "bbpssw"), default="dejmps", help="purification protocol (default dejmps)")
    from .cli_chain import twirl_option

    twirl_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("compile", help="compile every elementary link of network files to QPY circuits")
    p.add_argument("networks", nargs="+", help="network files (TOML)")
    p.add_argument("-o", "--output", default="circuits", help="output folder (default: circuits)")
    p.add_argument("--check", action="store_true", help="do not write: exit 1 if the saved circuits drift from the compiler's output")

    # further commands live in their own modules: each has register(subparsers), which adds its
    # parser with set_defaults(handler=...); those modules import nothing heavy at top level
    import importlib

    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


@_command("link")
def _cmd_link(args: argparse.Namespace) -> int:
    from .link import compile_link, link_spec
    from .network import load_network
    from .results import format_table
    from .run import run_links

    graph = load_network(args.network, args.overrides)
    compiled = compile_link(link_spec(graph, args.a, args.b, args.station))
    result = run_links([compiled], shots=args.shots, seed=args.seed, device=args.device, engine=args.engine)[0]
    if args.json:
        print(json.dumps(result.to_dict(density_matrix=args.density_matrix)))
    else:
        print(format_table(result))
    return 0


@_command("purify")
def _cmd_purify(args: argparse.Namespace) -> int:
    from .link_purification import format_purified, purify_link
    from .network import load_network

    graph = load_network(args.network, args.overrides)
    result = purify_link(graph, args.a, args.b, args.station, protocol=args.protocol, twirl=args.twirl)
    print(json.dumps(result.to_dict()) if args.json else format_purified(result))
    return 0


@_command("compile")
def _cmd_compile(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .export import circuit_filename, circuits_equal, load_circuits, save_circuits
    from .link import compile_link, elementary_links, link_spec
    from .network import load_network

    drift = []
    for network in args.networks:
        graph = load_network(network)
        for a, b, s in elementary_links(graph):
            circuit = compile_link(link_spec(graph, a, b, s)).circuit
            path = Path(args.output) / circuit_filename(network, a, b)
            if args.check:
                if not path.exists() or not circuits_equal(load_circuits(path)[0], circuit):
                    drift.append(str(path))
                continue
            save_circuits([circuit], path)
            print(f"wrote {path}  ({circuit.num_qubits} qubits, {len(circuit.data)} instructions)")
    if drift:
        print("qnet: circuits drifted from the compiler: " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qnet`` console script."""
    args = build_parser().parse_args(argv)
    # qnet's numpy work is many tiny matrix products; threaded BLAS only adds overhead to them
    # (measured 5-8 ms instead of ~20 us per swap on 2 cores). Set before numpy is imported;
    # an explicit setting in the environment wins.
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from .errors import QnetError

    try:
        handler = getattr(args, "handler", None) or _COMMANDS[args.command]
        return handler(args)
    except QnetError as exc:
        print(f"qnet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qnet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

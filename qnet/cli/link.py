"""``qnet link``, ``qnet purify`` and ``qnet compile``: one elementary link on the command line.

Imports nothing heavy at module level (``qnet --help`` stays instant); the work lives in
:mod:`qnet.link` and :mod:`qnet.repeater.link_purification`.
"""

from __future__ import annotations

import argparse
import json
import sys

from qnet.cli.args import count, seed
from qnet.cli.options import (
    add_deprecated_alias,
    add_link_backend_option,
    add_link_ends,
    add_network_options,
    add_twirl_option,
)
from qnet.link.choices import DEVICES
from qnet.repeater.choices import PROTOCOLS

__all__ = ["register"]


def register(sub) -> None:
    """Add the ``link``, ``purify`` and ``compile`` commands to ``qnet``'s subparsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers`` returned.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="qnet")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["link", "net.toml", "alice", "bob", "--link-backend", "batch"])
    >>> args.a, args.b, args.link_backend, args.device, args.handler.__name__
    ('alice', 'bob', 'batch', 'CPU', '_cmd_link')
    """
    p = sub.add_parser("link", help="fidelity, rate and link efficiency of one elementary link")
    add_network_options(p)
    add_link_ends(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--density-matrix", action="store_true", help="with --json: include the delivered density matrix")
    p.add_argument(
        "--shots", type=count, help="estimate from N shots per tomography setting (default: exact density matrix)"
    )
    p.add_argument("--seed", type=seed, help="seed of the shot sampler (0 to 2^63-1)")
    add_link_backend_option(p)
    p.add_argument("--device", choices=DEVICES, default="CPU", help="Aer device (GPU needs qiskit-aer-gpu)")
    p.set_defaults(handler=_cmd_link)

    p = sub.add_parser(
        "purify", help="one purification round on a link (2 memories per node): fidelity and rate, exactly"
    )
    add_network_options(p)
    add_link_ends(p)
    p.add_argument("--purify", choices=PROTOCOLS, default="dejmps", help="purification protocol (default dejmps)")
    add_deprecated_alias(p, "--protocol", new="--purify")  # (--protocol is the key protocol of qnet key)
    add_twirl_option(p)
    add_link_backend_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_cmd_purify)

    p = sub.add_parser("compile", help="compile every elementary link of network files to QPY circuits")
    p.add_argument("networks", nargs="+", help="network files (TOML)")
    p.add_argument("-o", "--output", default="circuits", help="output folder (default: circuits)")
    p.add_argument(
        "--check",
        action="store_true",
        help="do not write: exit 1 if the saved circuits drift from the compiler's output",
    )
    p.set_defaults(handler=_cmd_compile)


def _cmd_link(args: argparse.Namespace) -> int:
    from qnet.errors import QnetError
    from qnet.link.circuit import compile_link
    from qnet.link.spec import link_spec
    from qnet.link.results import format_table
    from qnet.link.run import run_links
    from qnet.network.io import load_network

    if args.density_matrix and not args.json:
        raise QnetError("--density-matrix needs --json (the table has no room for a density matrix)")
    graph = load_network(args.network, args.overrides)
    compiled = compile_link(link_spec(graph, args.a, args.b, args.station))
    result = run_links(
        [compiled], shots=args.shots, seed=args.seed, device=args.device, link_backend=args.link_backend
    )[0]
    if args.json:
        print(json.dumps(result.to_dict(density_matrix=args.density_matrix)))
    else:
        print(format_table(result))
        if graph.graph.get("description"):  # e.g. which figures rest on a stated assumption
            print(f"network: {graph.graph['description']}")
    return 0


def _cmd_purify(args: argparse.Namespace) -> int:
    from qnet.network.io import load_network
    from qnet.repeater.link_purification import format_purified, purify_link

    graph = load_network(args.network, args.overrides)
    result = purify_link(
        graph, args.a, args.b, args.station, protocol=args.purify, twirl=args.twirl, link_backend=args.link_backend
    )
    print(json.dumps(result.to_dict()) if args.json else format_purified(result))
    return 0


def _cmd_compile(args: argparse.Namespace) -> int:
    from qnet.link.circuit import compile_link
    from qnet.link.spec import elementary_links, link_spec
    from qnet.link.export import circuit_filename, save_circuits
    from qnet.network.io import load_network
    from qnet.studies.progress import plural

    graphs = [(network, load_network(network)) for network in args.networks]  # every file valid before writing
    folder = _output_folder(args.output, create=not args.check)
    drift = []
    for network, graph in graphs:
        for a, b, s in elementary_links(graph):
            circuit = compile_link(link_spec(graph, a, b, s)).circuit
            path = folder / circuit_filename(network, a, b)
            if args.check:
                if not _saved_circuit_matches(path, circuit):
                    drift.append(str(path))
                continue
            save_circuits([circuit], path)
            print(
                f"wrote {path}  ({plural(circuit.num_qubits, 'qubits')}, {plural(len(circuit.data), 'instructions')})"
            )
    if drift:
        print("qnet: circuits drifted from the compiler: " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


def _output_folder(text: str, *, create: bool):
    """``-o`` of ``qnet compile``: a folder (created when missing, inside an existing folder)."""
    from pathlib import Path

    from qnet.errors import QnetError

    folder = Path(text)
    if not text:
        raise QnetError("-o '': expected a folder name")
    if folder.exists() and not folder.is_dir():
        raise QnetError(f"-o {text!r}: is a file, expected a folder")
    if not folder.parent.is_dir():
        raise QnetError(f"-o {text!r}: folder {str(folder.parent)!r} does not exist")
    if create:
        folder.mkdir(exist_ok=True)
    return folder


def _saved_circuit_matches(path, circuit) -> bool:
    """Whether the QPY file ``path`` holds ``circuit``; a missing or unreadable file does not."""
    import struct

    from qiskit.exceptions import QiskitError

    from qnet.link.export import circuits_equal, load_circuits

    if not path.is_file():
        return False
    try:
        saved = load_circuits(path)
    except (QiskitError, struct.error, ValueError, EOFError):
        return False
    return len(saved) == 1 and circuits_equal(saved[0], circuit)

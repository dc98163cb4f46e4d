"""The ``qnet`` command line: ``qnet link``, ``qnet compile`` (and more subcommands as they land).

User errors print one line on stderr (``qnet: error: ...``) and exit with status 2, without a
traceback. User errors are :class:`~qnet.errors.QnetError` and ``OSError`` on a named file
(reading a network file, writing an output); any other exception is a bug and keeps its
traceback. A closed stdout pipe (``qnet path ... | head -1``) ends the command quietly.
Heavy imports (numpy, networkx, qiskit) happen inside the commands, so ``qnet --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Sequence

from qnet.cli import args as cli_args

__all__ = ["main", "build_parser", "plural"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
_COMMAND_MODULES: tuple[str, ...] = ("qnet.cli.chain", "qnet.cli.sweep", "qnet.cli.plot")


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


def _version() -> str:
    """The installed distribution's version, else the package's ``__version__``."""
    from importlib import metadata

    try:
        return metadata.version("qnet")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        from qnet import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qnet",
        description="Circuit-level simulation of quantum-network links and repeaters (Qiskit + Aer).",
    )
    parser.add_argument("--version", action="version", version=f"qnet {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("link", help="fidelity, rate and link efficiency of one elementary link")
    _add_network_options(p)
    p.add_argument("a", help="memory node A")
    p.add_argument("b", help="memory node B")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--density-matrix", action="store_true", help="with --json: include the delivered density matrix")
    p.add_argument("--shots", type=cli_args.count, help="estimate from N shots per tomography setting (default: exact density matrix)")
    p.add_argument("--seed", type=cli_args.seed, help="seed of the shot sampler (0 to 2^63-1)")
    p.add_argument("--engine", choices=("aer", "batch"), default="aer", help="aer (default) or batch: the same circuits in qnet's numpy simulator")
    p.add_argument("--device", choices=("CPU", "GPU"), default="CPU", help="Aer device (GPU needs qiskit-aer-gpu)")

    p = sub.add_parser("purify", help="one purification round on a link (2 memories per node): fidelity and rate, exactly")
    _add_network_options(p)
    p.add_argument("a", help="memory node A")
    p.add_argument("b", help="memory node B")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")
    p.add_argument("--protocol", choices=("dejmps", "bbpssw"), default="dejmps", help="purification protocol (default dejmps)")
    from qnet.cli.chain import twirl_option

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
    from qnet.errors import QnetError
    from qnet.link.circuit import compile_link
    from qnet.link.spec import link_spec
    from qnet.network.io import load_network
    from qnet.link.results import format_table
    from qnet.link.run import run_links

    if args.density_matrix and not args.json:
        raise QnetError("--density-matrix needs --json (the table has no room for a density matrix)")
    graph = load_network(args.network, args.overrides)
    compiled = compile_link(link_spec(graph, args.a, args.b, args.station))
    result = run_links([compiled], shots=args.shots, seed=args.seed, device=args.device, engine=args.engine)[0]
    if args.json:
        print(json.dumps(result.to_dict(density_matrix=args.density_matrix)))
    else:
        print(format_table(result))
        if graph.graph.get("description"):  # e.g. which figures rest on a stated assumption
            print(f"network: {graph.graph['description']}")
    return 0


@_command("purify")
def _cmd_purify(args: argparse.Namespace) -> int:
    from qnet.repeater.link_purification import format_purified, purify_link
    from qnet.network.io import load_network

    graph = load_network(args.network, args.overrides)
    result = purify_link(graph, args.a, args.b, args.station, protocol=args.protocol, twirl=args.twirl)
    print(json.dumps(result.to_dict()) if args.json else format_purified(result))
    return 0


@_command("compile")
def _cmd_compile(args: argparse.Namespace) -> int:
    from qnet.link.export import circuit_filename, save_circuits
    from qnet.link.circuit import compile_link
    from qnet.link.spec import elementary_links, link_spec
    from qnet.network.io import load_network

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
            print(f"wrote {path}  ({plural(circuit.num_qubits, 'qubit')}, {plural(len(circuit.data), 'instruction')})")
    if drift:
        print("qnet: circuits drifted from the compiler: " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


def plural(count: int, noun: str) -> str:
    """``"1 link"``, ``"2 links"``: a count with its noun in the right number.

    Examples
    --------
    >>> plural(1, "error"), plural(0, "error"), plural(3, "qubit")
    ('1 error', '0 errors', '3 qubits')
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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


def _user_error(message: str) -> int:
    print(f"qnet: error: {message}", file=sys.stderr)
    return 2


def _quiet_broken_pipe() -> int:
    """stdout's reader went away (``qnet ... | head -1``): stop quietly, as the Python docs advise.

    Python flushes stdout again at exit; pointing it at devnull keeps that flush from raising.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # stdout without a file descriptor (e.g. captured)
        pass
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qnet`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when ``compile --check`` found drift or stdout was closed early,
        2 on a user error (one line on stderr), 130 on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    # qnet's numpy work is many tiny matrix products; threaded BLAS only adds overhead to them
    # (measured 5-8 ms instead of ~20 us per swap on 2 cores). Set before numpy is imported;
    # an explicit setting in the environment wins.
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from qnet.errors import QnetError

    try:
        handler = getattr(args, "handler", None) or _COMMANDS[args.command]
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return status
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except QnetError as exc:
        return _user_error(str(exc))
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug, keep the traceback
            raise
        return _user_error(f"{str(exc.filename)!r}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        print("qnet: interrupted", file=sys.stderr)
        return 130



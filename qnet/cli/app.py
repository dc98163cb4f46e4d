"""The ``qnet`` command line's entry point: the parser, the dispatch and the error handling.

Each command group lives in its own module with ``register(subparsers)``, which adds its
parsers with ``set_defaults(handler=...)``: :mod:`qnet.cli.link` (link, purify, compile),
:mod:`qnet.cli.chain` (chain, path, compare), :mod:`qnet.cli.traffic` (traffic), :mod:`qnet.cli.key` (key, traffic-key),
:mod:`qnet.cli.sweep` (sweep), :mod:`qnet.cli.plot` (plot, optimize), :mod:`qnet.cli.requirements`
(requirements), :mod:`qnet.cli.network` (generate, import, draw) and :mod:`qnet.cli.place` (place);
:mod:`qnet.cli.options` holds the options they share.

User errors print one line on stderr (``qnet: error: ...``) and exit with status 2, without a
traceback. User errors are :class:`~qnet.errors.QnetError` and ``OSError`` on a named file
(reading a network file, writing an output); any other exception is a bug and keeps its
traceback. A closed stdout pipe (``qnet path ... | head -1``) ends the command quietly.
Heavy imports (numpy, networkx, qiskit) happen inside the commands, so ``qnet --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from qnet.cli import chain, key, link, network, place, plot, requirements, sweep, traffic

__all__ = ["main", "build_parser"]

#: The command groups, in the order ``qnet --help`` lists their commands.
_COMMAND_GROUPS = (link, chain, traffic, key, sweep, plot, requirements, network, place)


def _version() -> str:
    """The installed distribution's version, else the package's ``__version__``."""
    from importlib import metadata

    try:
        return metadata.version("qnet")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        from qnet import __version__

        return __version__


class _VersionAction(argparse.Action):
    """``--version``: print ``qnet VERSION`` and exit; the version is looked up only then
    (``importlib.metadata`` costs ~20 ms of every command's start-up otherwise)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(f"qnet {_version()}\n", sys.stdout)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The ``qnet`` argument parser with every subcommand.

    Returns
    -------
    argparse.ArgumentParser
        Its parsed namespace has ``command`` (the subcommand's name) and ``handler`` (the
        function that runs it and returns the exit status).

    Examples
    --------
    >>> args = build_parser().parse_args(["chain", "examples/liu2026_ion_link.toml", "alice", "bob",
    ...                                   "--swap-policy", "nested", "--samples", "200"])
    >>> args.command, args.swap_policy, args.samples, args.metric
    ('chain', 'nested', 200, None)
    >>> build_parser().parse_args(["link", "net.toml", "alice", "bob", "--link-backend", "gpu"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    parser = argparse.ArgumentParser(
        prog="qnet",
        description="Circuit-level simulation of quantum-network links and repeaters (Qiskit + Aer).",
    )
    parser.add_argument("--version", action=_VersionAction, help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for group in _COMMAND_GROUPS:
        group.register(sub)
    return parser


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
    """Entry point of the ``qnet`` console script: parse ``argv``, run the command, map errors to a status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when ``compile --check`` found drift or stdout was closed early,
        2 on a user error (one line on stderr), 130 on Ctrl-C (``traffic`` first prints what was finished).

    Examples
    --------
    >>> main(["path", "examples/liu2026_ion_link.toml", "alice", "carol"])  # stderr: qnet: error: unknown node 'carol' ...
    2
    >>> main(["purify", "examples/liu2026_ion_link.toml", "alice", "bob", "--json",
    ...       "--set", "nodes.alice.memories=2", "--set", "nodes.bob.memories=2"])
    {"fidelity": 0.919..., ...}
    0
    """
    args = build_parser().parse_args(argv)
    # qnet's numpy work is many tiny matrix products; threaded BLAS only adds overhead to them
    # (measured 5-8 ms instead of ~20 us per swap on 2 cores). Set before numpy is imported;
    # an explicit setting in the environment wins.
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from qnet.errors import QnetError

    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        if argv is None:
            # the program ends now: the collector's last full pass at exit would walk every object
            # numpy, networkx and the command made (~50 ms of a sweep) for nothing; everything the
            # command writes is closed already (only a cycle's __del__ would be skipped)
            import gc

            gc.freeze()
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

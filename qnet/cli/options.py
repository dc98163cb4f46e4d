"""Options shared by several ``qnet`` commands: the network file with ``--set``, a link's ends, ``--twirl``, ``--engine``.

Each function adds its arguments to one subcommand's parser, with the same names and help
everywhere. Imports nothing heavy (``qnet --help`` stays instant).
"""

from __future__ import annotations

import argparse

__all__ = ["add_network_options", "add_link_ends", "add_twirl_option", "add_engine_option"]


def add_network_options(p: argparse.ArgumentParser) -> None:
    """Add the positional ``network`` file and the repeatable ``--set KEY=VALUE`` override.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A subcommand's parser; its namespace gets ``network`` (str) and ``overrides`` (list of str).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_network_options(p)
    >>> p.parse_args(["net.toml", "--set", "nodes.alice.decay=gaussian"])
    Namespace(network='net.toml', overrides=['nodes.alice.decay=gaussian'])
    """
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


def add_link_ends(p: argparse.ArgumentParser) -> None:
    """Add the memory nodes ``a`` and ``b`` of an elementary link and its optional ``--station``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A subcommand's parser; its namespace gets ``a``, ``b`` (str) and ``station`` (str or None).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_link_ends(p)
    >>> p.parse_args(["alice", "bob"])
    Namespace(a='alice', b='bob', station=None)
    """
    p.add_argument("a", help="memory node A")
    p.add_argument("b", help="memory node B")
    p.add_argument("--station", help="station to herald through (needed only if A and B share several)")


def add_twirl_option(p: argparse.ArgumentParser) -> None:
    """Add ``--twirl/--no-twirl``: whether BBPSSW re-twirls its output to Werner form (default: twirl).

    Parameters
    ----------
    p : argparse.ArgumentParser
        A subcommand's parser; its namespace gets ``twirl`` (bool).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_twirl_option(p)
    >>> p.parse_args([]).twirl, p.parse_args(["--no-twirl"]).twirl
    (True, False)
    """
    p.add_argument("--twirl", action=argparse.BooleanOptionalAction, default=True,
                   help="BBPSSW only: re-twirl the purified pair to Werner form, as the protocol is usually stated "
                        "(default: --twirl); --no-twirl keeps the circuit's Bell-diagonal output. DEJMPS never twirls")


def add_engine_option(p: argparse.ArgumentParser) -> None:
    """Add ``--engine``: the simulator of the elementary links (:data:`qnet.link.choices.ENGINES`).

    Parameters
    ----------
    p : argparse.ArgumentParser
        A subcommand's parser; its namespace gets ``engine`` (str, default "aer").

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_engine_option(p)
    >>> p.parse_args([]).engine, p.parse_args(["--engine", "batch"]).engine
    ('aer', 'batch')
    """
    from qnet.link.choices import ENGINES

    p.add_argument("--engine", choices=ENGINES, default="aer",
                   help="link simulator: aer (default, Qiskit Aer) or batch (the same circuits in qnet's numpy simulator)")


def add_purify_option(p: argparse.ArgumentParser) -> None:
    """Add ``--purify PROTOCOL`` (every elementary link purified once) and ``--twirl/--no-twirl``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        A subcommand's parser; its namespace gets ``purify`` (str or None) and ``twirl`` (bool).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_purify_option(p)
    >>> p.parse_args(["--purify", "dejmps"]).purify, p.parse_args([]).purify
    ('dejmps', None)
    """
    from qnet.repeater.choices import PROTOCOLS

    p.add_argument("--purify", choices=PROTOCOLS,
                   help="purify every elementary link once before swapping (two memories per node per link; Monte Carlo only)")
    add_twirl_option(p)


def add_loop_option(p) -> None:
    """Add ``--loop {auto,compiled,python}``: the event loop of traffic runs.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option goes; the namespace gets ``loop`` (default ``"auto"``).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_loop_option(p)
    >>> p.parse_args(["--loop", "compiled"]).loop, p.parse_args([]).loop
    ('compiled', 'auto')
    """
    from qnet.repeater.choices import EVENT_LOOPS

    p.add_argument("--loop", choices=EVENT_LOOPS, default="auto",
                   help="event loop: auto (default: compiled when numba is installed), compiled (the rules compiled "
                        "with numba, pip install 'qnet[fast]'; the first run after an install compiles them once) or "
                        "python (the same rules, not compiled); every loop gives the same results")

"""Options shared by several ``qnet`` commands, and the one vocabulary they use.

Each function adds its arguments to one subcommand's parser, with the same names and help
everywhere. One flag per concept, one concept per flag (``tests/cli/test_vocabulary.py`` checks
every subcommand):

=================  ===================  ==========================================================
flag               Python keyword       meaning
=================  ===================  ==========================================================
--link-backend     ``link_backend``     simulator of the elementary links: aer or batch
--swap-policy      ``swap_policy``      when a repeater swaps: asap or nested
--memory-policy    ``memory_policy``    who gets a link pair in traffic: shared or reserve
--loop             ``loop``             event loop of traffic runs: python or compiled
-o, --output       ``output``           the command's primary output file (or folder)
--no-progress      ``no_progress``      no progress line on stderr
=================  ===================  ==========================================================

Old spellings still work for one release and print one warning line on stderr
(:class:`DeprecatedAlias`): ``--engine`` (-> ``--link-backend``), ``--policy`` (->
``--swap-policy`` on chain, path, compare and sweep; -> ``--memory-policy`` on traffic),
``-q``/``--quiet`` (-> ``--no-progress``). Imports nothing heavy (``qnet --help`` stays instant).
"""

from __future__ import annotations

import argparse
import sys

__all__ = [
    "DeprecatedAlias",
    "add_deprecated_alias",
    "add_network_options",
    "add_link_ends",
    "add_twirl_option",
    "add_link_backend_option",
    "add_engine_option",
    "add_swap_policy_option",
    "add_memory_policy_option",
    "add_no_progress_option",
    "add_purify_option",
    "add_loop_option",
]


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option: it does what ``new`` does, after one warning line on stderr.

    Hidden from ``--help``; sets the new option's ``dest`` (to the value given, or to ``const``
    for a flag without a value).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> _ = p.add_argument("--link-backend", dest="link_backend", choices=("aer", "batch"), default="aer")
    >>> add_deprecated_alias(p, "--engine", new="--link-backend")
    >>> p.parse_args(["--engine", "batch"]).link_backend    # stderr: qnet: warning: --engine is deprecated, ...
    'batch'
    """

    def __init__(self, option_strings, dest, new: str = "", **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"qnet: warning: {option_string} is deprecated, use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def add_deprecated_alias(p, *old: str, new: str) -> None:
    """Add ``old`` spellings of the option ``new`` (already on ``p``) as a :class:`DeprecatedAlias`.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where ``new`` was added.
    *old : str
        The old option strings (e.g. ``"-q", "--quiet"``).
    new : str
        An option string of the current option; the alias takes its ``dest``, ``choices`` and
        ``type`` (and ``const`` for a flag).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_no_progress_option(p)
    >>> add_deprecated_alias(p, "-q", "--quiet", new="--no-progress")
    >>> p.parse_args(["-q"]).no_progress, p.parse_args([]).no_progress
    (True, False)
    """
    target = next(a for a in p._actions if new in a.option_strings)  # a group shares its parser's actions
    flag = target.nargs == 0
    p.add_argument(
        *old,
        action=DeprecatedAlias,
        new=new,
        dest=target.dest,
        help=argparse.SUPPRESS,
        default=argparse.SUPPRESS,
        nargs=0 if flag else None,
        const=target.const if flag else None,
        choices=None if flag else target.choices,
        type=None if flag else target.type,
    )


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
    p.add_argument(
        "--twirl",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="BBPSSW only: re-twirl the purified pair to Werner form, as the protocol is usually stated "
        "(default: --twirl); --no-twirl keeps the circuit's Bell-diagonal output. DEJMPS never twirls",
    )


def add_link_backend_option(p, help: str | None = None) -> None:
    """Add ``--link-backend``: the simulator of the elementary links (:data:`qnet.link.choices.LINK_BACKENDS`).

    The old spelling ``--engine`` works for one release, with a warning.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        A subcommand's parser; its namespace gets ``link_backend`` (str, default "aer").
    help : str, optional
        The help text, when a command says more than the default one.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_link_backend_option(p)
    >>> p.parse_args([]).link_backend, p.parse_args(["--link-backend", "batch"]).link_backend
    ('aer', 'batch')
    """
    from qnet.link.choices import LINK_BACKENDS

    p.add_argument(
        "--link-backend",
        choices=LINK_BACKENDS,
        default="aer",
        help=help or "link simulator: aer (default, Qiskit Aer) or batch (the same circuits in qnet's numpy simulator)",
    )
    add_deprecated_alias(p, "--engine", new="--link-backend")


#: The name this option had before (kept for code that calls it).
add_engine_option = add_link_backend_option


def add_swap_policy_option(p, deprecated_policy: bool = True) -> None:
    """Add ``--swap-policy {asap,nested}`` (:data:`qnet.repeater.choices.SWAP_POLICIES`).

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option goes; the namespace gets ``swap_policy`` (default ``"asap"``).
    deprecated_policy : bool
        Also accept the old ``--policy`` for it, with a warning (commands where ``--policy``
        meant the swap policy).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_swap_policy_option(p)
    >>> p.parse_args(["--swap-policy", "nested"]).swap_policy, p.parse_args([]).swap_policy
    ('nested', 'asap')
    """
    from qnet.repeater.choices import SWAP_POLICIES

    p.add_argument(
        "--swap-policy",
        choices=SWAP_POLICIES,
        default="asap",
        help="swap as soon as possible (default) or nested doubling (2^n links)",
    )
    if deprecated_policy:
        add_deprecated_alias(p, "--policy", new="--swap-policy")


def add_memory_policy_option(p, deprecated_policy: bool = True) -> None:
    """Add ``--memory-policy {shared,reserve}`` (:data:`qnet.repeater.choices.MEMORY_POLICIES`).

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option goes; the namespace gets ``memory_policy`` (default ``"shared"``).
    deprecated_policy : bool
        Also accept the old ``--policy`` for it, with a warning (``qnet traffic``, where
        ``--policy`` meant the memory policy).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_memory_policy_option(p)
    >>> p.parse_args(["--memory-policy", "reserve"]).memory_policy, p.parse_args([]).memory_policy
    ('reserve', 'shared')
    """
    from qnet.repeater.choices import MEMORY_POLICIES

    p.add_argument(
        "--memory-policy",
        choices=MEMORY_POLICIES,
        default="shared",
        help="memory policy of traffic: shared (default: a link pair goes to whichever request can use it "
        "first) or reserve (a request holds memories along its path while one of its pairs is built)",
    )
    if deprecated_policy:
        add_deprecated_alias(p, "--policy", new="--memory-policy")


def add_no_progress_option(p) -> None:
    """Add ``--no-progress``: no progress line on stderr.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
        Where the option goes; the namespace gets ``no_progress`` (bool).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_no_progress_option(p)
    >>> p.parse_args(["--no-progress"]).no_progress
    True
    """
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")


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

    p.add_argument(
        "--purify",
        choices=PROTOCOLS,
        help="purify every elementary link once before swapping (two memories per node per link; Monte Carlo only)",
    )
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

    p.add_argument(
        "--loop",
        choices=EVENT_LOOPS,
        default="auto",
        help="event loop: auto (default: compiled when numba is installed), compiled (the rules compiled "
        "with numba, pip install 'qnet[fast]'; the first run after an install compiles them once) or "
        "python (the same rules, not compiled); every loop gives the same results",
    )

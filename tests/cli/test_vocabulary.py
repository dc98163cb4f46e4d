"""One meaning per word on the command line and in Python (issue #14).

* Every subcommand's parser is walked: a concept (an argparse ``dest``) has one spelling, and a
  spelling has one concept (its ``dest`` and ``choices``), across all commands.
* The shared words have the agreed spellings: ``--link-backend``, ``--swap-policy``,
  ``--memory-policy``, ``--loop``, ``-o/--output``, ``--no-progress``.
* The old spellings still work for one release: ``--engine``, ``--policy`` (the swap policy on
  chain, path, compare and sweep; the memory policy on traffic), ``-q/--quiet``; each prints one
  warning line. The old Python keywords (``engine=``, ``policy=``) emit a DeprecationWarning.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from qnet.cli.app import build_parser
from qnet.cli.options import DeprecatedAlias

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")

#: concept (dest) -> its one spelling
VOCABULARY = {
    "link_backend": ("--link-backend",),
    "swap_policy": ("--swap-policy",),
    "memory_policy": ("--memory-policy",),
    "loop": ("--loop",),
    "output": ("-o", "--output"),
    "no_progress": ("--no-progress",),
    "json": ("--json",),
    "seed": ("--seed",),
    "via": ("--via",),
    "metric": ("--metric",),
}

#: deliberate exceptions, each with its reason: (flag, dests) a flag may have
SHARED_FLAGS = {
    # sweep: one grid axis (dest "axes", kept in command-line order with --values);
    # optimize: the one field searched and its range. Both: "the field that varies".
    "--vary": {"axes", "vary"},
}
#: dests that several flags fill on purpose
SHARED_DESTS = {"axes": {("--vary",), ("--values",)}}


def _parsers(parser: argparse.ArgumentParser, name: str = "qnet"):
    """(command name, parser) of ``parser`` and every subcommand below it."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def _options(parser: argparse.ArgumentParser):
    """(option strings, action) of the parser's options, without help/version."""
    for action in parser._actions:
        if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield tuple(action.option_strings), action


def vocabulary_problems(parser: argparse.ArgumentParser) -> list[str]:
    """Every concept with two spellings and every spelling with two concepts, as readable lines."""
    spellings: dict[str, dict[tuple, list[str]]] = {}
    meanings: dict[str, dict[tuple, list[str]]] = {}
    problems = []
    for command, p in _parsers(parser):
        for flags, action in _options(p):
            if isinstance(action, DeprecatedAlias):
                current = next((a for f, a in _options(p) if action.new in f), None)
                if current is None or current.dest != action.dest:
                    problems.append(f"{command}: {'/'.join(flags)} is an alias of {action.new}, which it does not fill")
                continue
            spellings.setdefault(action.dest, {}).setdefault(flags, []).append(command)
            meaning = (action.dest, tuple(action.choices) if action.choices else None)
            for flag in flags:
                meanings.setdefault(flag, {}).setdefault(meaning, []).append(command)
    for dest, by_flags in spellings.items():
        if len(by_flags) > 1 and set(by_flags) != SHARED_DESTS.get(dest):
            problems.append(
                f"concept {dest!r} has several spellings: "
                + "; ".join(f"{'/'.join(f)} ({', '.join(c)})" for f, c in by_flags.items())
            )
    for flag, by_meaning in meanings.items():
        if len(by_meaning) > 1 and {d for d, _c in by_meaning} != SHARED_FLAGS.get(flag):
            problems.append(
                f"flag {flag} has several meanings: "
                + "; ".join(f"{m} ({', '.join(c)})" for m, c in by_meaning.items())
            )
    return problems


def test_every_concept_has_one_flag_and_every_flag_one_concept():
    assert vocabulary_problems(build_parser()) == []


def test_the_shared_words_have_the_agreed_spellings():
    found: dict[str, set[tuple]] = {}
    for _command, p in _parsers(build_parser()):
        for flags, action in _options(p):
            if not isinstance(action, DeprecatedAlias):
                found.setdefault(action.dest, set()).add(flags)
    for dest, flags in VOCABULARY.items():
        assert found[dest] == {flags}, dest


def test_the_check_catches_two_meanings_and_two_spellings():
    """The rule can fail: the old --policy (swap policy on chain, memory policy on traffic) and a second spelling."""
    parser = argparse.ArgumentParser(prog="qnet")
    sub = parser.add_subparsers()
    chain, traffic = sub.add_parser("chain"), sub.add_parser("traffic")
    chain.add_argument("--policy", dest="policy", choices=("asap", "nested"))
    traffic.add_argument("--policy", dest="policy", choices=("shared", "reserve"))
    chain.add_argument("--engine", dest="link_backend", choices=("aer", "batch"))
    traffic.add_argument("--link-backend", dest="link_backend", choices=("aer", "batch"))
    problems = vocabulary_problems(parser)
    assert len(problems) == 2
    assert problems[0].startswith("concept 'link_backend' has several spellings: --engine (qnet chain)")
    assert problems[1].startswith("flag --policy has several meanings")


@pytest.mark.parametrize(
    "argv, dest, value",
    [
        (["link", LIU, "alice", "bob", "--engine", "batch"], "link_backend", "batch"),
        (["chain", CHAIN, "alice", "bob", "--policy", "nested"], "swap_policy", "nested"),
        (["compare", CHAIN, "alice", "bob", "--policy", "nested"], "swap_policy", "nested"),
        (
            ["traffic", CHAIN, "--requests", "r.toml", "--duration", "1", "--policy", "reserve"],
            "memory_policy",
            "reserve",
        ),
        (["sweep", LIU, "alice", "bob", "--policy", "nested"], "swap_policy", "nested"),
        (["sweep", LIU, "alice", "bob", "-q"], "no_progress", True),
        (["sweep", LIU, "alice", "bob", "--quiet"], "no_progress", True),
        (
            ["optimize", LIU, "alice", "bob", "--vary", "x=0:1", "--maximize", "rate_hz", "--engine", "batch"],
            "link_backend",
            "batch",
        ),
    ],
)
def test_old_spellings_work_with_one_warning_line(argv, dest, value, capsys):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    old = next(a for a in argv if a in ("--engine", "--policy", "-q", "--quiet"))
    new = {
        "link_backend": "--link-backend",
        "swap_policy": "--swap-policy",
        "memory_policy": "--memory-policy",
        "no_progress": "--no-progress",
    }[dest]
    assert capsys.readouterr().err == f"qnet: warning: {old} is deprecated, use {new}\n"


def test_old_spellings_are_hidden_from_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["chain", "--help"])
    out = capsys.readouterr().out
    assert "--swap-policy" in out and "--link-backend" in out
    assert "--policy" not in out.replace("--swap-policy", "") and "--engine" not in out


def test_an_old_spelling_still_runs_the_command(capsys):
    from qnet.cli import main

    assert main(["link", LIU, "alice", "bob", "--engine", "batch", "--json"]) == 0
    old = capsys.readouterr()
    assert main(["link", LIU, "alice", "bob", "--link-backend", "batch", "--json"]) == 0
    assert capsys.readouterr().out == old.out
    assert old.err == "qnet: warning: --engine is deprecated, use --link-backend\n"


def test_old_python_keywords_warn_and_still_work():
    import qnet
    from qnet.studies.sweep import LinkEvaluator, TrafficEvaluator

    link = qnet.compile_link(qnet.link_spec(qnet.load_network(LIU), "alice", "bob"))
    with pytest.warns(DeprecationWarning, match=r"run_links\(engine=\.\.\.\) is deprecated, use link_backend="):
        old = qnet.run_links([link], engine="batch")[0]
    assert old.fidelity == qnet.run_links([link], link_backend="batch")[0].fidelity
    with pytest.raises(TypeError, match="both engine= .deprecated. and link_backend="):
        qnet.run_links([link], engine="batch", link_backend="aer")
    with pytest.warns(DeprecationWarning, match="LinkEvaluator"):
        ev = LinkEvaluator(network={}, a="alice", b="bob", engine="batch")
    assert ev.link_backend == "batch"
    with pytest.warns(DeprecationWarning, match=r"TrafficEvaluator\(policy=\.\.\.\) is deprecated, use memory_policy="):
        tev = TrafficEvaluator(network={}, requests=(), duration_s=1.0, policy="reserve")
    assert tev.memory_policy == "reserve"


def test_the_sweep_metadata_names_each_policy_by_its_concept():
    """OUT.meta.json: the chain's swap policy and the traffic's memory policy no longer share the key "policy"."""
    from qnet.cli.sweep import _metadata

    chain = build_parser().parse_args(["sweep", CHAIN, "alice", "bob", "--via", "r1", "--swap-policy", "nested"])
    meta = _metadata(chain, "sha", chain=True)
    assert meta["chain"]["swap_policy"] == "nested" and "policy" not in meta["chain"]
    traffic = build_parser().parse_args(
        [
            "sweep",
            CHAIN,
            "--traffic",
            "r.toml",
            "--duration",
            "1",
            "--memory-policy",
            "reserve",
            "--swap-policy",
            "nested",
        ]
    )
    meta = _metadata(traffic, "sha", chain=False)
    assert (meta["traffic"]["memory_policy"], meta["traffic"]["swap_policy"]) == ("reserve", "nested")
    assert "policy" not in meta["traffic"]

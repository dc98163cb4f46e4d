"""The README's commands give byte-identical output from one version of qnet to the next.

Each case is a command of the README (Monte Carlo ones with the README's seed, or ``--seed 1``
where the README leaves it to chance), run in-process; its standard output and the files it
writes are compared with what was recorded in ``tests/data/readme_outputs/``. A change that
alters a printed number, a column or a line of any of them fails here, so a refactoring
(issue #8) can prove that it changed nothing, and a deliberate change of output is a
deliberate re-recording::

    QNET_RECORD_README_OUTPUTS=1 python -m pytest tests/test_readme_outputs.py

Progress lines go to stderr and are not compared. Text is compared exactly; numbers are
compared to 1e-9 (relative), so that the last digit of a 17-digit float, which may differ
between BLAS builds and processors, does not fail a test on another machine (on the machine
that recorded them the outputs are byte-identical).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest

from qnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "readme_outputs"
RECORD = os.environ.get("QNET_RECORD_README_OUTPUTS") == "1"

LIU = "examples/liu2026_ion_link.toml"
CHAIN = "examples/ion_repeater_chain.toml"
METRO = "examples/metro_ion_network.toml"
ARMS_101_KM = ["--set", "fibres.alice-station.length_km=50.5", "--set", "fibres.station-bob.length_km=50.5"]
BRIGHT = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"

#: name -> (argv, files the command writes, relative to its output folder OUT)
CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "link_table": (["link", LIU, "alice", "bob"], ()),
    "link_json": (["link", LIU, "alice", "bob", "--json"], ()),
    "link_101km": (["link", LIU, "alice", "bob", *ARMS_101_KM], ()),
    "link_shots": (["link", LIU, "alice", "bob", "--shots", "100000", "--seed", "1"], ()),
    "compile_check": (
        [
            "compile",
            *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").glob("*.toml")),
            "-o",
            "circuits",
            "--check",
        ],
        (),
    ),
    "chain_asap": (["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--seed", "1", "--no-progress"], ()),
    "chain_nested_exact": (
        ["chain", CHAIN, "alice", "bob", "--via", "r1,r2,r3", "--swap-policy", "nested", "--exact", "--no-progress"],
        (),
    ),
    "path_metro": (["path", METRO, "campus", "airport", "--metric", "fidelity", "--seed", "1", "--no-progress"], ()),
    "path_key_rate": (["path", CHAIN, "alice", "r3", "--metric", "key_rate", "--seed", "1", "--no-progress"], ()),
    "compare": (
        [
            "compare",
            CHAIN,
            "alice",
            "bob",
            "--via",
            "r1,r2,r3",
            "--distances",
            "50:400:8",
            "--seed",
            "1",
            "--no-progress",
        ],
        (),
    ),
    "purify": (["purify", LIU, "alice", "bob", "--set", "nodes.alice.memories=2", "--set", "nodes.bob.memories=2"], ()),
    "sweep_distance": (
        [
            "sweep",
            LIU,
            "alice",
            "bob",
            "-o",
            "OUT/dist.csv",
            "--no-progress",
            "--vary",
            "fibres.alice-station.length_km,fibres.station-bob.length_km=0.5:60:120",
        ],
        ("dist.csv",),
    ),
    "sweep_cutoff": (
        [
            "sweep",
            CHAIN,
            "alice",
            "bob",
            "--via",
            "r1,r2,r3",
            "--seed",
            "1",
            "-o",
            "OUT/cutoff.csv",
            "--no-progress",
            "--vary",
            "nodes.r1.cutoff_s,nodes.r2.cutoff_s,nodes.r3.cutoff_s=0.05:1:10",
        ],
        ("cutoff.csv",),
    ),
    "traffic_metro": (
        ["traffic", METRO, "--requests", "examples/requests/metro.toml", "--duration", "60", "--seed", "1"],
        (),
    ),
    "optimize": (
        [
            "optimize",
            LIU,
            "alice",
            "bob",
            "--maximize",
            "rate_hz",
            "--min-fidelity",
            "0.9",
            "--vary",
            f"{BRIGHT}=0.005:0.3",
        ],
        (),
    ),
    "key_diqkd": (["key", LIU, "alice", "bob", "--protocol", "diqkd", "--pairs", "4.05e5"], ()),
    "key_bbm92_target": (["key", LIU, "alice", "bob", "--protocol", "bbm92", "--target-bits", "1917"], ()),
    "key_diqkd_scan": (["key", LIU, "alice", "bob", "--protocol", "diqkd", "--pairs", "1e6:1e12:4:log"], ()),
    "place_surfnet": (
        [
            "place",
            "examples/maps/Surfnet.gml",
            "--hardware",
            "examples/hardware/ion.toml",
            "--demands",
            "examples/maps/surfnet_demands.toml",
            "-o",
            "OUT/surfnet_net.toml",
            "--no-progress",
        ],
        ("surfnet_net.toml",),
    ),
}


@pytest.mark.slow  # ~10 s in all: the guard of refactorings, run by the full suite
@pytest.mark.parametrize("name", list(CASES))
def test_readme_command_output_is_unchanged(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv, files = CASES[name]
    argv = [a.replace("OUT/", f"{tmp_path}/") for a in argv]
    assert main(argv) == 0
    outputs = {"stdout.txt": capsys.readouterr().out.replace(str(tmp_path), "OUT")}
    outputs.update((f, (tmp_path / f).read_text()) for f in files)
    folder = DATA / name
    if RECORD:
        folder.mkdir(parents=True, exist_ok=True)
        for f, text in outputs.items():
            (folder / f).write_text(text)
    for f, text in outputs.items():
        expected = (folder / f).read_text()
        assert _same(text, expected), f"{name}/{f} changed; if on purpose, re-record (see the module docstring)"


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _same(text: str, expected: str) -> bool:
    """Equal text, numbers equal to 1e-9 relative (1e-300 absolute)."""
    if text == expected:
        return True
    words, numbers = _NUMBER.split(text), _NUMBER.findall(text)
    words_e, numbers_e = _NUMBER.split(expected), _NUMBER.findall(expected)
    return (
        words == words_e
        and len(numbers) == len(numbers_e)
        and all(math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-300) for a, b in zip(numbers, numbers_e))
    )


def test_comparison_tolerates_only_last_digits():
    assert _same("F 0.9138431090838325 s", "F 0.9138431090838326 s")
    assert not _same("F 0.9138 s", "F 0.9139 s")
    assert not _same("rate_hz 2.2", "rate 2.2")

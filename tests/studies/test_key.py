"""Keys of delivered states, time-to-key, traffic key sections, and the ``qnet key`` commands."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from qnet.cli import main
from qnet.quantum.figures import binary_entropy
from qnet.quantum.finite_key import finite_key, pairs_for_key
from qnet.quantum.states import bell_projector
from qnet.studies.key import key_of_figures, key_of_state, traffic_keys, werner_figures

ROOT = Path(__file__).resolve().parents[2]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")
CHAIN = str(ROOT / "examples" / "ion_repeater_chain.toml")


def test_werner_state_figures_by_hand():
    f = 0.93
    rho = (4 * f - 1) / 3 * bell_projector("psi+") + (1 - (4 * f - 1) / 3) * np.eye(4) / 4
    by_state = key_of_state("diqkd", rho, 2.0, pairs=1e9)
    w = werner_figures(f)
    assert by_state.chsh == pytest.approx(2 * math.sqrt(2) * (4 * f - 1) / 3, rel=1e-12) == pytest.approx(w["chsh"])
    assert by_state.qber == pytest.approx(2 * (1 - f) / 3, abs=1e-12) and by_state.qber_x == pytest.approx(w["qber_x"])
    assert by_state.key_bits == key_of_figures("diqkd", rate_hz=2.0, pairs=1e9, **w).key_bits


def test_x_error_follows_the_target_correlation():
    # |Psi+> <XX> = +1: no X errors; a Z-flipped |Psi-> has <XX> = -1: all X errors for a psi+ target
    assert key_of_state("bbm92", bell_projector("psi+"), 1.0, pairs=1e6).qber_x == pytest.approx(0.0, abs=1e-12)
    assert key_of_state("bbm92", bell_projector("psi-"), 1.0, pairs=1e6).qber_x == pytest.approx(1.0, abs=1e-12)
    assert key_of_state("bbm92", bell_projector("psi-"), 1.0, pairs=1e6, target="psi-").qber_x == pytest.approx(
        0.0, abs=1e-12
    )


def test_time_is_pairs_over_rate():
    r = key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.02, rate_hz=4.0, target_bits=1e5)
    assert r.pairs == pairs_for_key("bbm92", 1e5, chsh=2.8, qber=0.01, qber_x=0.02)
    assert r.time_s == r.pairs / 4.0 and r.key_bits >= 1e5
    assert math.isinf(key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.01, rate_hz=0.0, pairs=10.0).time_s)


def test_exactly_one_of_pairs_and_target():
    from qnet.errors import QnetError

    with pytest.raises(QnetError, match="exactly one"):
        key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.01, rate_hz=1.0)
    with pytest.raises(QnetError, match="exactly one"):
        key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.01, rate_hz=1.0, pairs=1.0, target_bits=1.0)


def test_traffic_key_sections():
    run = {
        "requests": [
            {"a": "a", "b": "b", "c": None, "delivered": 10**6, "rate_hz": 20.0, "fidelity": 0.97},
            {"a": "a", "b": "c", "c": None, "delivered": 0, "rate_hz": 0.0, "fidelity": None},
            {"a": "a", "b": "b", "c": "d", "delivered": 50, "rate_hz": 1.0, "fidelity": 0.9},
        ]
    }
    rows = traffic_keys(run, "bbm92")
    q = 2 * (1 - 0.97) / 3
    expected = finite_key("bbm92", 1e6, chsh=0, qber=q, qber_x=q)
    assert rows[0]["key"]["key_bits"] == expected.key_bits and rows[0]["key"]["time_s"] == pytest.approx(1e6 / 20.0)
    assert rows[1]["key"] is None and rows[1]["note"] == "no pairs delivered"
    assert rows[2]["key"] is None and rows[2]["note"].startswith("GHZ")
    target = traffic_keys(run, "bbm92", target_bits=1e4)[0]["key"]
    assert target["key_bits"] >= 1e4 and target["pairs"] < 1e6
    run["requests"][0]["fidelity"] = 0.6  # Q = 27 %: no BBM92 key at any size, said per request
    row = traffic_keys(run, "bbm92", target_bits=1e4)[0]
    assert row["key"] is None and "unreachable" in row["note"]


def test_cli_key_link_json_matches_the_chain_state(capsys):
    assert main(["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "4.05e5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == ["alice", "bob"] and out["method"] == "exact"
    key = out["key"]
    assert main(["chain", LIU, "alice", "bob", "--exact", "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    assert key["rate_hz"] == pytest.approx(chain["rate_hz"], rel=1e-12)
    assert key["chsh"] == pytest.approx(chain["chsh"], rel=1e-12) and key["qber"] == pytest.approx(
        chain["qber"], abs=1e-12
    )
    # asymptote 1 - h(Q_X) - h(Q_Z) at f = 1; time = pairs / rate
    assert key["asymptotic_fraction"] == pytest.approx(1 - binary_entropy(key["qber_x"]) - binary_entropy(key["qber"]))
    assert key["time_s"] == pytest.approx(4.05e5 / key["rate_hz"], rel=1e-12)
    assert 0 < key["key_bits"] < 4.05e5 * key["asymptotic_fraction"]


def test_cli_key_chain_and_target_table(capsys):
    assert (
        main(
            [
                "key",
                CHAIN,
                "alice",
                "bob",
                "--via",
                "r1,r2,r3",
                "--protocol",
                "bbm92",
                "--target-bits",
                "1e6",
                "--samples",
                "50",
                "--seed",
                "3",
                "--no-progress",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "alice - r1 - r2 - r3 - bob" in text and "target key         1e+06 bits" in text


def test_cli_traffic_key(tmp_path, capsys):
    path = tmp_path / "run.json"
    path.write_text(
        json.dumps(
            {"requests": [{"a": "x", "b": "y", "c": None, "delivered": 2 * 10**6, "rate_hz": 5.0, "fidelity": 0.98}]}
        )
    )
    assert main(["traffic-key", str(path), "--protocol", "diqkd", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["requests"][0]["key"]["pairs"] == 2e6
    assert main(["traffic-key", str(path), "--protocol", "bbm92"]) == 0
    assert "x-y" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, needle",
    [
        (["key", LIU, "alice", "bob", "--protocol", "bb84", "--pairs", "10"], "invalid choice: 'bb84'"),
        (["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "0"], "argument --pairs: 0 is out of range"),
        (["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "-3"], "argument --pairs: -3 is out of range"),
        (
            ["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "10", "--eps-sec", "1"],
            "argument --eps-sec: 1 is",
        ),
        (
            ["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "10", "--eps-cor", "0"],
            "argument --eps-cor: 0 is",
        ),
        (["key", LIU, "alice", "bob", "--protocol", "bbm92"], "one of the arguments --pairs --target-bits is required"),
        (
            ["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "10", "--target-bits", "5"],
            "not allowed with",
        ),
    ],
)
def test_cli_parser_errors_are_one_line_exit_2(capsys, args, needle):
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2 and needle in err.splitlines()[-1]


@pytest.mark.parametrize(
    "args, why",
    [
        # the 4-link chain delivers F ~ 0.85: no CHSH key at any size
        (
            [
                CHAIN,
                "alice",
                "bob",
                "--via",
                "r1,r2,r3",
                "--protocol",
                "diqkd",
                "--target-bits",
                "1e3",
                "--samples",
                "50",
                "--seed",
                "3",
                "--no-progress",
            ],
            "asymptotic fraction 0",
        ),
        ([LIU, "alice", "bob", "--protocol", "bbm92", "--target-bits", "1e30"], "needs more than 1e+18 pairs"),
    ],
)
def test_cli_unreachable_target_is_one_line(capsys, args, why):
    status = main(["key", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("qnet: error: target key ") and why in err[0]


def test_cli_traffic_key_bad_file(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["traffic-key", str(path), "--protocol", "bbm92"]) == 2
    assert capsys.readouterr().err.startswith("qnet: error: ")
    path.write_text("[]")
    assert main(["traffic-key", str(path), "--protocol", "bbm92"]) == 2


def test_the_experiment_table_of_literature_md(capsys):
    """docs/literature.md §5.10 quotes these for Liu et al. 2026 (the example link) and Nadlinger et al. 2022."""
    assert main(["key", LIU, "alice", "bob", "--protocol", "diqkd", "--target-bits", "1917", "--json"]) == 0
    liu = json.loads(capsys.readouterr().out)["key"]
    assert liu["chsh"] == pytest.approx(2.512, abs=5e-4) and liu["qber"] == pytest.approx(0.0516, abs=5e-5)
    assert liu["pairs"] == pytest.approx(8.09e6, rel=1e-3) and liu["time_s"] / 86400 == pytest.approx(42.2, abs=0.05)
    assert liu["asymptotic_fraction"] == pytest.approx(0.178, abs=5e-4)
    assert liu["threshold_pairs"] == pytest.approx(8.06e6, rel=1e-3)
    at_published = key_of_figures(
        "diqkd", chsh=liu["chsh"], qber=liu["qber"], qber_x=liu["qber_x"], rate_hz=1.0, pairs=4.05e5
    )
    assert at_published.key_bits == 0
    bbm92 = key_of_figures("bbm92", chsh=liu["chsh"], qber=liu["qber"], qber_x=liu["qber_x"], rate_hz=1.0, pairs=4.05e5)
    assert bbm92.key_bits == pytest.approx(61701, abs=2)
    nadlinger = dict(chsh=2.677, qber=0.0144, qber_x=0.0144, rate_hz=1.0)
    assert key_of_figures("diqkd", pairs=1.5e6, **nadlinger).key_bits == pytest.approx(321758, abs=2)
    assert key_of_figures("diqkd", target_bits=95884, **nadlinger).pairs == pytest.approx(8.04e5, rel=1e-3)
    assert finite_key("diqkd", 1.5e6, chsh=2.64, qber=0.018).key_bits == pytest.approx(220495, abs=2)
    assert key_of_figures("bbm92", pairs=1.5e6, **nadlinger).key_bits == pytest.approx(714285, abs=2)
    assert key_of_figures("diqkd", pairs=1.5e6, **nadlinger).asymptotic_fraction == pytest.approx(0.583, abs=5e-4)
    assert finite_key("diqkd", 1.48e5, chsh=2 * math.sqrt(2), qber=0.0).key_bits > 0
    assert finite_key("diqkd", 1.47e5, chsh=2 * math.sqrt(2), qber=0.0).key_bits == 0


def test_cli_key_scan_over_pair_counts(capsys):
    assert main(["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "1e3:1e9:4:log", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    keys = out["keys"]
    assert [k["pairs"] for k in keys] == [1e3, 1e5, 1e7, 1e9]
    bits = [k["key_bits"] for k in keys]
    assert bits[0] == 0 and all(b2 > b1 for b1, b2 in zip(bits[1:], bits[2:]))  # 0 below 1.3e4 pairs, then rising
    single = key_of_figures(
        "bbm92",
        chsh=keys[2]["chsh"],
        qber=keys[2]["qber"],
        qber_x=keys[2]["qber_x"],
        rate_hz=keys[2]["rate_hz"],
        pairs=1e7,
    )
    assert single.to_dict() == keys[2]
    assert main(["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", "1e3,1e6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split()[0] == "1000" and lines[-1].split()[0] == "1e+06"


@pytest.mark.parametrize("value", ["1e3:1e9", "1,,2", "1e3:0:3:log", "1,-2"])
def test_cli_bad_pair_lists_are_one_line(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["key", LIU, "alice", "bob", "--protocol", "bbm92", "--pairs", value])
    assert info.value.code == 2 and "argument --pairs" in capsys.readouterr().err.splitlines()[-1]

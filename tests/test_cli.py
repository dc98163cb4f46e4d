"""The command line: JSON fields, overrides, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qnet.cli import main
from qnet.results import LINK_FIELDS, LINK_LABELS

ROOT = Path(__file__).resolve().parents[1]
LIU = str(ROOT / "examples" / "liu2026_ion_link.toml")


def run_json(capsys, *args: str) -> dict:
    assert main(["link", LIU, "alice", "bob", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_has_exactly_the_link_result_fields(capsys):
    out = run_json(capsys)
    assert list(out) == list(LINK_FIELDS) + list(LINK_LABELS)
    assert out["attempts_per_round"] == 1 and isinstance(out["attempts_per_round"], int)
    assert all(isinstance(out[k], float) for k in LINK_FIELDS if k != "attempts_per_round")
    assert (out["node_a"], out["node_b"], out["station"], out["method"]) == ("alice", "bob", "station", "exact")
    # rate = P / T_att and link efficiency = rate * T_coh, by definition (conventions.md)
    assert out["rate_hz"] == pytest.approx(out["success_probability"] / out["attempt_time_s"], rel=1e-12)
    assert out["link_efficiency"] == pytest.approx(out["rate_hz"] * out["pair_coherence_time_s"], rel=1e-12)


def test_set_overrides_a_fibre_and_a_node(capsys):
    base = run_json(capsys)
    longer = run_json(capsys, "--set", "fibres.alice-station.length_km=50.5", "--set", "fibres.station-bob.length_km=50.5")
    # attempt time = prep + 2 L_arm / c: 380 us + 2*50.5 km / 2e5 km/s
    assert longer["attempt_time_s"] == pytest.approx(380e-6 + 2 * 50.5 / 2e5, rel=1e-12)
    assert longer["rate_hz"] < base["rate_hz"]
    slower = run_json(capsys, "--set", "nodes.alice.t2_s=2.2", "--set", "nodes.bob.t2_s=2.2")
    assert slower["pair_coherence_time_s"] == pytest.approx(1.1, rel=1e-12)  # 1/(1/2.2 + 1/2.2)


def test_infinite_coherence_is_null_in_json(capsys):
    out = run_json(capsys, "--set", "nodes.alice.t2_s=inf", "--set", "nodes.bob.t2_s=inf")
    assert out["pair_coherence_time_s"] is None and out["link_efficiency"] is None


def test_table_names_every_field(capsys):
    assert main(["link", LIU, "alice", "bob"]) == 0
    text = capsys.readouterr().out
    for name in LINK_FIELDS:
        assert name in text


@pytest.mark.parametrize(
    "args, needle",
    [
        (["link", LIU, "alice", "carol"], "unknown node 'carol'"),
        (["link", LIU, "alice", "station"], "is a station"),
        (["link", LIU, "alice", "bob", "--set", "nodes.alice.emission_efficiency=1.5"], "nodes.alice.emission_efficiency = 1.5"),
        (["link", LIU, "alice", "bob", "--set", "fibres.alice-station.length_km=-3"], "fibres.alice-station.length_km = -3"),
        (["link", LIU, "alice", "bob", "--set", "nodes.zed.t2_s=1"], "no node named 'zed'"),
        (["link", LIU, "alice", "bob", "--set", "t2_s"], "expected SECTION.NAME.FIELD=VALUE"),
        (["link", LIU, "alice", "bob", "--shots", "0"], "shots = 0"),
        (["link", "no/such/file.toml", "alice", "bob"], "not found"),
    ],
)
def test_user_errors_are_one_line(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("qnet: error: ")


def test_errors_have_no_traceback_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[nodes.alice\nkind = 'memory'\n")
    proc = subprocess.run([sys.executable, "-m", "qnet.cli", "link", str(bad), "a", "b"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "is not valid TOML" in proc.stderr and proc.stderr.count("\n") == 1


def test_batch_engine_gives_the_aer_numbers(capsys):
    aer = run_json(capsys)
    batch = run_json(capsys, "--engine", "batch")
    for name in LINK_FIELDS:
        assert batch[name] == pytest.approx(aer[name], rel=1e-10, abs=1e-13)


def test_gpu_device_without_qiskit_aer_gpu_is_a_clear_error(capsys):
    from qiskit_aer import AerSimulator

    if "GPU" in AerSimulator().available_devices():
        pytest.skip("this machine has an Aer GPU device")
    assert main(["link", LIU, "alice", "bob", "--device", "GPU"]) == 2
    err = capsys.readouterr().err
    assert "device = 'GPU' is not available" in err and "qiskit-aer-gpu" in err and err.count("\n") == 1
    assert main(["sweep", LIU, "alice", "bob", "--vary", "nodes.alice.t2_s=1:2:2", "--device", "GPU", "-o", "/dev/null"]) == 2
    assert "qiskit-aer-gpu" in capsys.readouterr().err

"""The command line: JSON fields, overrides, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qnet.cli import main
from qnet.link.results import LINK_FIELDS, LINK_LABELS

ROOT = Path(__file__).resolve().parents[2]
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
    longer = run_json(
        capsys, "--set", "fibres.alice-station.length_km=50.5", "--set", "fibres.station-bob.length_km=50.5"
    )
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
        (
            ["link", LIU, "alice", "bob", "--set", "nodes.alice.emission_efficiency=1.5"],
            "nodes.alice.emission_efficiency = 1.5",
        ),
        (
            ["link", LIU, "alice", "bob", "--set", "fibres.alice-station.length_km=-3"],
            "fibres.alice-station.length_km = -3",
        ),
        (["link", LIU, "alice", "bob", "--set", "nodes.zed.t2_s=1"], "no node named 'zed'"),
        (["link", LIU, "alice", "bob", "--set", "t2_s"], "expected SECTION.NAME.FIELD=VALUE"),
        (["link", LIU, "alice", "bob", "--density-matrix"], "--density-matrix needs --json"),
        (["link", str(ROOT / "examples"), "alice", "bob"], "is a folder"),
        (["link", LIU, "alice", "bob", "--set", "nodes.alice.kind=[1]"], "nodes.alice.kind = [1]"),
        (["link", LIU, "alice", "bob", "--set", "nodes.alice.decay={a = 1}"], "nodes.alice.decay = {'a': 1}"),
        (["link", LIU, "alice", "bob", "--set", "network.name=[1]"], "network.name = [1]"),
        (["link", LIU, "alice", "bob", "--set", "fibres.alice-station.a=[1]"], "fibres[0].a = [1]"),
        (["link", LIU, "alice", "bob", "--set", "nodes.alice.t2_s=1\nx = 2"], "one TOML value"),
        (["link", LIU, "alice", "bob", "--set", "nodes.alice.t2_s=" + "[" * 600 + "]" * 600], "nested more than"),
        (["compile", LIU, "-o", LIU], "is a file, expected a folder"),
        (["compile", LIU, "-o", "no/such/folder"], "folder 'no/such' does not exist"),
        (["link", "no/such/file.toml", "alice", "bob"], "not found"),
    ],
)
def test_user_errors_are_one_line(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("qnet: error: ")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--shots", "0"], "--shots: 0 is out of range"),
        (["--shots", "9223372036854775808"], "--shots: 9223372036854775808 is out of range"),
        (["--seed", "18446744073709551616"], "--seed: 18446744073709551616 is out of range"),
        (["--seed", "-1"], "--seed: -1 is out of range"),
        (["--seed", "x"], "--seed: 'x' is not an integer"),
    ],
)
def test_link_seed_and_shots_are_checked_by_the_parser(capsys, args, needle):
    """Out-of-range seeds and shot counts never reach Aer (which fails on them with its own errors)."""
    with pytest.raises(SystemExit) as info:
        main(["link", LIU, "alice", "bob", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and err.splitlines()[-1].startswith("qnet link: error: ")


@pytest.mark.slow
def test_largest_seed_is_accepted(capsys):
    bright = [
        f"--set=nodes.{n}.{f}=1" for n in ("alice", "bob") for f in ("emission_efficiency", "conversion_efficiency")
    ]
    out = run_json(capsys, "--shots", "2000", "--seed", str(2**63 - 1), *bright)
    assert 0 <= out["fidelity"] <= 1


def test_version(capsys):
    import qnet

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"qnet {qnet.__version__}"


def test_density_matrix_with_json(capsys):
    out = json.loads(_out(capsys, ["link", LIU, "alice", "bob", "--json", "--density-matrix"]))
    rho = out["density_matrix"]
    assert len(rho["real"]) == 4 and len(rho["imag"]) == 4  # 2 qubits: memory A, memory B


def _out(capsys, argv) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_unwritable_output_is_one_line(capsys, tmp_path):
    """An OSError on a path the user named (here: a folder where a circuit file goes) is one line."""
    out = tmp_path / "circuits"
    (out / "liu2026_ion_link__alice-bob.qpy").mkdir(parents=True)
    assert main(["compile", LIU, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qnet: error: ") and "liu2026_ion_link__alice-bob.qpy" in err and err.count("\n") == 1


def test_oserror_without_a_file_name_stays_a_traceback(monkeypatch):
    """Only OSErrors about a named file are user errors; any other is a bug and must stay visible."""
    import qnet.cli.link as cli_link

    def broken(args):
        raise OSError("not about a file")

    monkeypatch.setattr(cli_link, "_cmd_link", broken)
    with pytest.raises(OSError, match="not about a file"):
        main(["link", LIU, "alice", "bob"])


def test_compile_check_detects_missing_and_unreadable_circuits(capsys, tmp_path):
    out = tmp_path / "circuits"
    assert main(["compile", LIU, "-o", str(out), "--check"]) == 1  # nothing saved yet: drift
    assert "drifted" in capsys.readouterr().err
    assert main(["compile", LIU, "-o", str(out)]) == 0
    assert main(["compile", LIU, "-o", str(out), "--check"]) == 0
    (saved,) = out.iterdir()
    saved.write_bytes(b"not a qpy file")
    assert main(["compile", LIU, "-o", str(out), "--check"]) == 1
    assert str(saved) in capsys.readouterr().err


def test_compile_validates_every_network_before_writing(capsys, tmp_path):
    out = tmp_path / "circuits"
    assert main(["compile", LIU, str(tmp_path / "missing.toml"), "-o", str(out)]) == 2
    assert "missing.toml" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        [
            "path",
            str(ROOT / "examples" / "ion_repeater_chain.toml"),
            "alice",
            "bob",
            "--samples",
            "20",
            "--seed",
            "1",
            "--no-progress",
        ],
        ["link", LIU, "alice", "bob", "--link-backend", "batch"],
    ],
)
def test_closed_stdout_pipe_is_quiet(command):
    """`qnet path ... | head -1`: the reader is gone before qnet writes; no traceback, no noise."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the process starts: every write fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "qnet", *command], stdout=write_end, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 1


def test_errors_have_no_traceback_in_a_real_process(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[nodes.alice\nkind = 'memory'\n")
    proc = subprocess.run([sys.executable, "-m", "qnet", "link", str(bad), "a", "b"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "is not valid TOML" in proc.stderr and proc.stderr.count("\n") == 1


def test_batch_engine_gives_the_aer_numbers(capsys):
    aer = run_json(capsys)
    batch = run_json(capsys, "--link-backend", "batch")
    for name in LINK_FIELDS:
        assert batch[name] == pytest.approx(aer[name], rel=1e-10, abs=1e-13)


def test_gpu_device_without_qiskit_aer_gpu_is_a_clear_error(capsys):
    from qiskit_aer import AerSimulator

    if "GPU" in AerSimulator().available_devices():
        pytest.skip("this machine has an Aer GPU device")
    assert main(["link", LIU, "alice", "bob", "--device", "GPU"]) == 2
    err = capsys.readouterr().err
    assert "device = 'GPU' is not available" in err and "qiskit-aer-gpu" in err and err.count("\n") == 1
    assert (
        main(["sweep", LIU, "alice", "bob", "--vary", "nodes.alice.t2_s=1:2:2", "--device", "GPU", "-o", "/dev/null"])
        == 2
    )
    assert "qiskit-aer-gpu" in capsys.readouterr().err

"""``qnet plot`` / qnet.studies.plot.plot_results: what the figure's axes hold, skipped rows, errors."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from qnet.cli import main
from qnet.errors import QnetError
from qnet.studies.plot import plot_results
from qnet.link.results import LINK_FIELDS

X = "total_length_km"
KEY = "diqkd_key_rate_hz" if "diqkd_key_rate_hz" in LINK_FIELDS else "key_rate_hz"  # the name LINK_FIELDS uses


def sweep_rows(n: int = 12, errors: tuple[int, ...] = ()) -> list[dict[str, object]]:
    """Rows shaped like `qnet sweep` output (varied fields, LINK_FIELDS, error, derived columns)."""
    rows = []
    for i in range(n):
        total = 10.0 * (i + 1)
        eta = 10 ** (-0.2 * total / 10)
        rate = 5.0 * eta
        key_fraction = max(0.0, 0.3 - 0.03 * i)  # 0 from i = 10 on: x = 110 km
        row: dict[str, object] = {
            "fibres.alice-station.length_km": total / 2,
            "fibres.station-bob.length_km": total / 2,
        }
        row.update({f: 0.5 for f in LINK_FIELDS})
        row.update(
            rate_hz=rate,
            **{KEY: key_fraction * rate},
            diqkd_key_fraction=key_fraction,
            fidelity=0.95 - 0.001 * i,
            link_efficiency=rate * 0.55,
            error="",
            total_length_km=total,
            fibre_transmission=eta,
            plob_bits_per_s=-math.log2(1 - eta) / 4.3e-4,
        )
        if i in errors:
            row.update(
                {f: "" for f in LINK_FIELDS},
                error="nodes.alice.emission_efficiency = 1.5 is invalid: a number in [0, 1]",
            )
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def lines_by_gid(ax) -> dict[str, object]:
    return {line.get_gid(): line for line in ax.get_lines()}


@pytest.mark.slow
def test_rates_log_axis_plob_and_diqkd_crossing_from_rows():
    rows = sweep_rows()
    fig = plot_results(rows, X, f"rate_hz,{KEY}")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = lines_by_gid(ax)
    x = [r[X] for r in rows]
    np.testing.assert_allclose(lines["y:rate_hz"].get_xdata(), x)
    np.testing.assert_allclose(lines["y:rate_hz"].get_ydata(), [r["rate_hz"] for r in rows])
    assert lines["y:rate_hz"].get_label() == "rate_hz"
    # the PLOB bound is the table's column, not recomputed
    np.testing.assert_allclose(lines["reference:plob"].get_ydata(), [r["plob_bits_per_s"] for r in rows])
    assert "PLOB" in lines["reference:plob"].get_label()
    # key rate 0 cannot sit on a log axis: those points are left out and counted
    key = np.asarray(lines[f"y:{KEY}"].get_ydata(), dtype=float)
    assert np.isnan(key[10:]).all() and np.isfinite(key[:10]).all()
    assert fig.qnet_plot.hidden_nonpositive == {KEY: 2}
    # DI-QKD key fraction reaches 0 first at the 11th point (110 km): a vertical line there
    vline = lines["reference:diqkd_zero"]
    assert list(vline.get_xdata()) == [110.0, 110.0]
    assert fig.qnet_plot.diqkd_zero_x == {"": 110.0}
    assert "link_efficiency" not in " ".join(str(g) for g in lines)  # no link-efficiency line unless plotted


def test_csv_with_error_rows_skips_and_counts_them(tmp_path):
    rows = sweep_rows(errors=(2, 5, 6))
    path = write_csv(tmp_path / "sweep.csv", rows)
    out = tmp_path / "fig.png"
    fig = plot_results(path, X, "rate_hz", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    kept = [r for i, r in enumerate(rows) if i not in (2, 5, 6)]
    line = lines_by_gid(ax)["y:rate_hz"]
    np.testing.assert_allclose(line.get_xdata(), [r[X] for r in kept])
    np.testing.assert_allclose(line.get_ydata(), [r["rate_hz"] for r in kept], rtol=1e-15)  # CSV repr round-trips
    assert fig.qnet_plot.skipped_error_rows == 3
    assert "3 of 12 rows have an error" in ax.get_legend().get_title().get_text()


@pytest.mark.slow
def test_link_efficiency_line_and_logy_switch(tmp_path):
    rows = sweep_rows()
    fig = plot_results(rows, X, "link_efficiency", tmp_path / "eff.svg")
    assert (tmp_path / "eff.svg").read_text().lstrip().startswith("<?xml")
    ax = fig.axes[0]
    ref = lines_by_gid(ax)["reference:link_efficiency_1"]
    assert list(ref.get_ydata()) == [1.0, 1.0]
    assert ax.get_yscale() == "log"  # spans decades: log by default
    assert "reference:plob" not in lines_by_gid(ax)  # no rate plotted: no PLOB line
    assert plot_results(rows, X, "link_efficiency", logy=False).axes[0].get_yscale() == "linear"
    assert plot_results(rows, X, "fidelity").axes[0].get_yscale() == "linear"
    assert plot_results(rows, X, "fidelity", logy=True).axes[0].get_yscale() == "log"


def test_infinite_values_are_left_out_and_counted():
    # memories that never decay: T_coh = inf, so link_efficiency = inf (written "inf" in a sweep CSV)
    rows = [{X: 1.0, "link_efficiency": "inf"}, {X: 2.0, "link_efficiency": 3.0}, {X: 3.0, "link_efficiency": 2.0}]
    fig = plot_results(rows, X, "link_efficiency")
    line = lines_by_gid(fig.axes[0])["y:link_efficiency"]
    assert math.isnan(line.get_ydata()[0]) and list(line.get_ydata()[1:]) == [3.0, 2.0]
    assert fig.qnet_plot.hidden_infinite == {"link_efficiency": 1}


def test_rates_and_other_figures_get_two_axes():
    rows = sweep_rows()
    fig = plot_results(rows, X, ["rate_hz", "fidelity"])
    left, right = fig.axes
    assert left.get_yscale() == "log" and right.get_yscale() == "linear"
    assert "y:rate_hz" in lines_by_gid(left) and "reference:plob" in lines_by_gid(left)
    fid = lines_by_gid(right)["y:fidelity"]
    np.testing.assert_allclose(fid.get_ydata(), [r["fidelity"] for r in rows])
    assert fig.qnet_plot.logy == {"left": True, "right": False}


def test_second_grid_axis_gives_one_curve_per_value():
    rows = []
    for alpha in (0.05, 0.1):
        for km in (10.0, 20.0, 30.0):
            rows.append({"nodes.alice.bright_state_population": alpha, X: km, "rate_hz": alpha * km, "error": ""})
    fig = plot_results(rows, X, "rate_hz")
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "y:rate_hz"]
    assert len(lines) == 2
    assert [ln.get_label() for ln in lines] == [
        "rate_hz (nodes.alice.bright_state_population=0.05)",
        "rate_hz (nodes.alice.bright_state_population=0.1)",
    ]
    np.testing.assert_allclose(lines[1].get_ydata(), [1.0, 2.0, 3.0])


def test_all_zero_rate_falls_back_to_linear_without_warning():
    rows = [{X: 1.0, KEY: 0.0}, {X: 2.0, KEY: 0.0}]
    fig = plot_results(rows, X, KEY)  # warnings are errors in this suite
    assert fig.axes[0].get_yscale() == "linear"


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(x=X, y="rate_hz,bogus"), "unknown column 'bogus' in"),
        (
            dict(x="nope", y="rate_hz"),
            "available: fibres.alice-station.length_km, fibres.station-bob.length_km, fidelity",
        ),
        (dict(x=X, y="rate_hz", output="fig.txt"), "one of .png, .svg, .pdf"),
        (dict(x=X, y="rate_hz,rate_hz"), "named twice"),
    ],
)
def test_column_and_output_errors(tmp_path, kwargs, needle):
    path = write_csv(tmp_path / "s.csv", sweep_rows())
    with pytest.raises(QnetError) as info:
        plot_results(path, **kwargs)
    assert needle in str(info.value)


def test_no_numeric_data_and_missing_file(tmp_path):
    with pytest.raises(QnetError, match="not found"):
        plot_results(tmp_path / "missing.csv", X, "rate_hz")
    everything_failed = write_csv(tmp_path / "bad.csv", sweep_rows(n=3, errors=(0, 1, 2)))
    with pytest.raises(QnetError, match="no numeric data to plot .* all 3 rows have an error"):
        plot_results(everything_failed, X, "rate_hz")
    rows = sweep_rows(n=3)
    for r in rows:
        r["rate_hz"] = ""
    with pytest.raises(QnetError, match="column 'rate_hz' has no number"):
        plot_results(write_csv(tmp_path / "empty.csv", rows), X, "rate_hz")
    (tmp_path / "blank.csv").write_text("")
    with pytest.raises(QnetError, match="is empty"):
        plot_results(tmp_path / "blank.csv", X, "rate_hz")


@pytest.mark.slow
def test_cli_writes_figure_notes_skips_and_fails_in_one_line(tmp_path, capsys):
    path = write_csv(tmp_path / "s.csv", sweep_rows(errors=(0,)))
    assert main(["plot", str(path), "--x", X, "--y", f"rate_hz,{KEY}"]) == 0
    out, err = capsys.readouterr()
    assert (tmp_path / "s.png").exists() and "wrote" in out
    assert "1 of 12 rows has an error" in err
    assert main(["plot", str(path), "--x", X, "--y", "rate", "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qnet: error: unknown column 'rate'") and "\n" not in err


def test_real_sweep_output(tmp_path, capsys):
    """The table `qnet sweep` writes plots as is (x = a varied field)."""
    out = tmp_path / "d.csv"
    argv = [
        "sweep",
        str(Path(__file__).resolve().parents[2] / "examples" / "liu2026_ion_link.toml"),
        "alice",
        "bob",
        "-o",
        str(out),
        "--no-progress",
        "--vary",
        "fibres.alice-station.length_km,fibres.station-bob.length_km=1:60:4",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    fig = plot_results(out, "fibres.alice-station.length_km", "rate_hz,diqkd_key_fraction")
    lines = lines_by_gid(fig.axes[0])
    np.testing.assert_allclose(lines["y:rate_hz"].get_xdata(), [1.0, 20.666666666666668, 40.333333333333336, 60.0])
    assert all(v > 0 for v in lines["y:rate_hz"].get_ydata())
    assert fig.qnet_plot.groups == ("",)  # the two arms vary together: one curve

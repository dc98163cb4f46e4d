"""Regenerate the README's figures (run from anywhere; needs matplotlib):

    python docs/make_figures.py            # writes docs/liu2026_rate_vs_distance.png

The 2026 trapped-ion link (examples/liu2026_ion_link.toml) from 1 to 120 km of fibre, station
at the midpoint: every point is the compiled link circuit run on Aer (all points in one run),
the PLOB bound is -log2(1 - eta_fibre)/T_att with eta_fibre the transmission of both arms'
fibre, and the figure is drawn by qnet.studies.plot.plot_results, as `qnet plot` draws a sweep's CSV.
The distances the README's caption quotes (link efficiency = 1, DI-QKD key = 0) are printed by
docs/readme_numbers.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import qnet
from qnet.quantum.channels import fibre_transmission
from qnet.quantum.figures import plob_bound
from qnet.studies.plot import plot_results

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "liu2026_ion_link.toml"


def liu2026_rows(points: int = 120, start_km: float = 1.0, stop_km: float = 120.0) -> list[dict[str, float]]:
    """One row per total fibre length, with the columns of a `qnet sweep` table."""
    data = tomllib.loads(EXAMPLE.read_text())
    totals = [start_km + (stop_km - start_km) * i / (points - 1) for i in range(points)]
    specs = []
    for total in totals:
        arm = f"length_km={total / 2!r}"
        graph = qnet.network_from_dict(data, overrides=[f"fibres.alice-station.{arm}", f"fibres.station-bob.{arm}"])
        specs.append(qnet.link_spec(graph, "alice", "bob"))
    rows = []
    for total, spec, r in zip(totals, specs, qnet.run_links([qnet.compile_link(s) for s in specs])):
        eta = fibre_transmission(spec.length_a_km, 0.2) * fibre_transmission(spec.length_b_km, 0.2)
        row = {"fibres.alice-station.length_km": spec.length_a_km, "fibres.station-bob.length_km": spec.length_b_km}
        row.update(r.to_dict())
        row.update(total_length_km=total, fibre_transmission=eta, plob_bits_per_s=plob_bound(eta) / r.attempt_time_s, error="")
        rows.append(row)
    return rows


def liu2026_figure(path: Path = HERE / "liu2026_rate_vs_distance.png") -> Path:
    from matplotlib.figure import Figure

    rows = liu2026_rows()
    fig = Figure(figsize=(11, 4.3), dpi=110)
    left, right = fig.subplots(1, 2)
    plot_results(rows, "total_length_km", "rate_hz,diqkd_key_rate_hz", ax=left, title="pairs and DI-QKD key per second")
    plot_results(rows, "total_length_km", "link_efficiency,fidelity", ax=right, title="link efficiency and fidelity")
    fig.suptitle("40Ca+ single-click link, Liu et al. 2026 parameters (examples/liu2026_ion_link.toml), station at the midpoint",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


if __name__ == "__main__":
    print(f"wrote {liu2026_figure()}")

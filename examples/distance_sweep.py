"""Sweep the 2026 trapped-ion link over 1-120 km of fibre (station at the midpoint).

Prints a table, writes a CSV and plots fidelity, rate, link efficiency and DI-QKD key rate
against the PLOB bound -log2(1 - eta_fibre)/T_att (repeaterless capacity of the same fibre per
attempt time) to a PNG:

    python examples/distance_sweep.py                      # 1..120 km, 40 points
    python examples/distance_sweep.py --points 120 --png out/sweep.png --csv out/sweep.csv

Every point is compiled into its circuit and all circuits run in one Aer call.
"""

from __future__ import annotations

import argparse
import csv
import math
import tomllib
from pathlib import Path

import numpy as np

import qnet
from qnet.quantum.channels import fibre_transmission
from qnet.quantum.figures import plob_bound

HERE = Path(__file__).resolve().parent
COLUMNS = (
    "total_km",
    "fidelity",
    "rate_hz",
    "link_efficiency",
    "diqkd_key_fraction",
    "diqkd_key_rate_hz",
    "plob_bits_per_s",
)


def sweep(network: Path, distances_km: np.ndarray) -> list[dict[str, float]]:
    """One row per total distance: the link's figures and the PLOB bound."""
    data = tomllib.loads(network.read_text())
    compiled = []
    for total in distances_km:
        arm = f"length_km={float(total) / 2!r}"
        graph = qnet.network_from_dict(data, overrides=[f"fibres.alice-station.{arm}", f"fibres.station-bob.{arm}"])
        compiled.append(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")))
    rows = []
    for total, c, r in zip(distances_km, compiled, qnet.run_links(compiled)):
        eta = fibre_transmission(total, 0.2)
        rows.append(
            {
                "total_km": float(total),
                "fidelity": r.fidelity,
                "rate_hz": r.rate_hz,
                "link_efficiency": r.link_efficiency,
                "diqkd_key_fraction": r.diqkd_key_fraction,
                "diqkd_key_rate_hz": r.diqkd_key_rate_hz,
                "plob_bits_per_s": plob_bound(eta) / c.spec.attempt_time_s,
            }
        )
    return rows


def plot(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["total_km"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.semilogy(x, [r["rate_hz"] for r in rows], label="entanglement rate (pairs/s)")
    key = [r["diqkd_key_rate_hz"] if r["diqkd_key_rate_hz"] > 0 else math.nan for r in rows]
    ax1.semilogy(x, key, label="DI-QKD key rate (bit/s)")
    ax1.semilogy(x, [r["plob_bits_per_s"] for r in rows], "k--", label="PLOB bound per attempt time")
    ax1.set_xlabel("total fibre length (km)")
    ax1.set_ylabel("per second")
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    ax2.plot(x, [r["fidelity"] for r in rows], label="fidelity to |Psi+>")
    ax2.plot(x, [r["link_efficiency"] for r in rows], label="link efficiency (rate x T_coh)")
    ax2.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax2.set_yscale("log")
    ax2.set_xlabel("total fibre length (km)")
    ax2.legend(fontsize=8)
    ax2.grid(True, which="both", alpha=0.3)
    fig.suptitle("40Ca+ single-click link (Liu et al. 2026 parameters, examples/liu2026_ion_link.toml)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", type=Path, default=HERE / "liu2026_ion_link.toml")
    parser.add_argument("--points", type=int, default=40)
    parser.add_argument("--csv", type=Path, default=Path("out/distance_sweep.csv"))
    parser.add_argument("--png", type=Path, default=Path("out/distance_sweep.png"))
    args = parser.parse_args(argv)
    rows = sweep(args.network, np.linspace(1.0, 120.0, args.points))
    print(" ".join(f"{c:>18s}" for c in COLUMNS))
    for r in rows:
        print(" ".join(f"{r[c]:18.6g}" for c in COLUMNS))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.csv}")
    try:
        plot(rows, args.png)
        print(f"wrote {args.png}")
    except ImportError:
        print("matplotlib is not installed: pip install 'qnet[plot]' for the figure")


if __name__ == "__main__":
    main()

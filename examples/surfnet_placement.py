"""The shape of Rabbie et al.'s repeater-placement result on the SURFnet map, with qnet.

Rabbie, Chakraborty, Avis and Wehner, "Designing quantum networks using preexisting
infrastructure", npj Quantum Inf. 8, 5 (2022), arXiv:2005.14715, place the fewest repeaters on a
fibre map such that every pair of end nodes has a path whose elementary links are at most L_max
long with at most N_max repeaters; the number of repeaters falls (in steps) as L_max grows, with
no solution below some L_max, and it rises when the hardware gets worse (a shorter L_max).

Part A (their model, qnet's MILP): seven end nodes (all 21 pairs), end nodes are not repeater
sites, no fidelity or rate target, L_max from 60 to 300 km, N_max = 1, 2, 4, the 6 shortest
routes of each pair.
Part B (qnet's physics instead of L_max): the ten demands of examples/maps/surfnet_demands.toml
(fidelity >= 0.7, rate >= 0.2 /s, verified by qnet's chain model) with fibre attenuation from
0.14 to 0.26 dB/km (the ion hardware file otherwise).

Prints both tables and writes docs/surfnet_placement.png (-o to change). Takes a few minutes.

    python examples/surfnet_placement.py [-o docs/surfnet_placement.png]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from qnet.errors import QnetError
from qnet.network.generate import Hardware, read_hardware
from qnet.studies.placement import Demand, PlacementOptions, place, read_demands, read_map

ROOT = Path(__file__).resolve().parents[1]
ENDS = ("Delft", "Amsterdam", "Groningen", "Enschede", "Eindhoven", "Maastricht", "Nijmegen")
L_MAX_KM = (60, 80, 100, 120, 140, 160, 180, 200, 250, 300)
N_MAX = (1, 2, 4)
PATHS = 6
ATTENUATION_DB_PER_KM = (0.14, 0.16, 0.18, 0.19, 0.20, 0.21, 0.22, 0.23, 0.24, 0.25, 0.26)


def count(g, demands, hw, opts) -> int | None:
    try:
        return len(place(g, demands, hw, opts).repeaters)
    except QnetError:  # no placement within the bounds
        return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default=str(ROOT / "docs" / "surfnet_placement.png"))
    args = p.parse_args()
    g = read_map(ROOT / "examples/maps/Surfnet.gml")
    hw = read_hardware(ROOT / "examples/hardware/ion.toml")
    pairs = [Demand(a, b) for a, b in itertools.combinations(ENDS, 2)]
    part_a = {}
    print(
        "A. repeaters needed (-: no placement) vs L_max, end nodes not repeater sites, all 21 pairs of", ", ".join(ENDS)
    )
    print("L_max km  " + "  ".join(f"N_max={n}" for n in N_MAX))
    for km in L_MAX_KM:
        row = [
            count(
                g,
                pairs,
                hw,
                PlacementOptions(
                    paths=PATHS, max_link_km=km, max_repeaters_per_path=n, samples=20, end_repeaters=False
                ),
            )
            for n in N_MAX
        ]
        part_a[km] = row
        print(f"{km:8d}  " + "  ".join(f"{'-' if c is None else c:>7}" for c in row), flush=True)
    demands = read_demands(ROOT / "examples/maps/surfnet_demands.toml", list(g))
    part_b = {}
    print("\nB. repeaters needed for the 10 demands of surfnet_demands.toml vs fibre attenuation")
    for db in ATTENUATION_DB_PER_KM:
        h = Hardware(hw.memory, hw.station, {**hw.fibre, "attenuation_db_per_km": db}, hw.network)
        part_b[db] = count(g, demands, h, PlacementOptions())
        print(f"{db:.2f} dB/km  {'-' if part_b[db] is None else part_b[db]}", flush=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), dpi=100)
    ax1, ax2 = fig.subplots(1, 2)
    for i, n in enumerate(N_MAX):  # equal counts overlap: shifted by 0.06 per N_max to stay visible
        xs = [km for km in L_MAX_KM if part_a[km][i] is not None]
        ax1.step(
            xs,
            [part_a[km][i] + 0.06 * (i - 1) for km in xs],
            where="post",
            marker="os^"[i % 3],
            linestyle=("-", "--", ":")[i % 3],
            label=f"N_max = {n}",
        )
    ax1.set_xlabel("L_max, longest elementary link (km)")
    ax1.set_ylabel("repeaters")
    ax1.set_title("A: Rabbie et al.'s model, 21 pairs (no point: no placement)", fontsize=9)
    ax1.legend(fontsize=8)
    xs = [db for db in ATTENUATION_DB_PER_KM if part_b[db] is not None]
    ax2.plot(xs, [part_b[db] for db in xs], marker="s", color="tab:red", label="fewest repeaters")
    none = [db for db in ATTENUATION_DB_PER_KM if part_b[db] is None]
    if none:
        top = max((part_b[db] for db in xs), default=1) + 1
        ax2.plot(none, [top] * len(none), "x", color="k", label="no placement")
        ax2.legend(fontsize=8)
    ax1.yaxis.get_major_locator().set_params(integer=True)
    ax2.yaxis.get_major_locator().set_params(integer=True)
    ax2.set_xlabel("fibre attenuation (dB/km)")
    ax2.set_ylabel("repeaters")
    ax2.set_title("B: qnet's chain model, 10 demands (F >= 0.7, 0.2 /s)", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.output)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()

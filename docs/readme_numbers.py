"""Print every physics number the README quotes, computed by qnet (run from anywhere):

    python docs/readme_numbers.py          # all quotes, with the command behind each
    python docs/readme_numbers.py --fast   # the exact (non-Monte-Carlo) quotes only

Each quote is printed as fragments of text exactly as the README writes them (same rounding;
the README may break a fragment across lines), so a number in the README is either in this
script's output or is a performance figure (those come from the scripts in benchmarks/). tests/test_docs.py recomputes the quotes and fails when the README
text no longer contains them: after a change to the physics, rerun this script and paste its
output into the README.

Commands run in-process through ``qnet.cli.app`` with ``--json``, so every number is what the
README's own command prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
LIU = "examples/liu2026_ion_link.toml"  # paths as the README's commands write them
CHAIN = "examples/ion_repeater_chain.toml"
KRUTYANSKIY = "examples/krutyanskiy2023_230m_link.toml"
VIA = ["--via", "r1,r2,r3"]
#: the memories the README's purification and multiplexing comparisons set
LINK_MEMORIES = ["--set", "nodes.alice.memories=2", "--set", "nodes.bob.memories=2"]
CHAIN_MEMORIES = [
    arg for node, n in (("alice", 2), ("r1", 4), ("r2", 4), ("r3", 4), ("bob", 2))
    for arg in ("--set", f"nodes.{node}.memories={n}")
]


def qnet_json(*argv: str) -> dict:
    """The JSON object ``qnet ARGV --json`` prints (run in-process; example paths from the repository root)."""
    from qnet.cli import main

    argv = tuple(str(ROOT / a) if a.startswith("examples/") else a for a in argv)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main([*argv, "--json"])
    if status != 0:
        raise RuntimeError(f"qnet {' '.join(argv)} failed with status {status}")
    return json.loads(out.getvalue())


def _key_rate(d: dict) -> float:
    """DI-QKD key rate of a JSON result (named ``diqkd_key_rate_hz``, formerly ``key_rate_hz``)."""
    return d["diqkd_key_rate_hz"] if "diqkd_key_rate_hz" in d else d["key_rate_hz"]


def _sci(x: float) -> str:
    """3 significant digits in the README's scientific style: 9.55e-4."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


# ---- the elementary link (exact) -------------------------------------------------------------

def _arms(total_km: float) -> list[str]:
    arm = total_km / 2
    return ["--set", f"fibres.alice-station.length_km={arm!r}", "--set", f"fibres.station-bob.length_km={arm!r}"]


def liu_link(total_km: float) -> dict:
    return qnet_json("link", LIU, "alice", "bob", *_arms(total_km))


def link_table_row(total_km: float) -> str:
    """One row of the README's link table (markdown), for a total fibre length."""
    r = liu_link(total_km)
    rate = f"{r['rate_hz']:.3g} /s (1/{1 / r['rate_hz']:.3g} s)"
    cells = [
        f"{total_km:g} km", f"{r['fidelity']:.3f}", _sci(r["success_probability"]), rate,
        f"{r['pair_coherence_time_s']:.2f} s", f"{r['link_efficiency']:.3g}", f"{r['chsh']:.2f}",
        f"{r['qber']:.3f}", f"{r['diqkd_key_fraction']:.3f}",
    ]
    return "| " + " | ".join(cells) + " |"


def _crossing_km(figure: str, level: float, lo: float, hi: float, tol_km: float = 1e-3) -> float:
    """Total length (km) where the link's ``figure`` falls through ``level`` (bisection)."""
    value = lambda km: liu_link(km)[figure] - level  # noqa: E731
    if not (value(lo) > 0 >= value(hi)):
        raise RuntimeError(f"{figure} does not cross {level} between {lo} and {hi} km")
    while hi - lo > tol_km:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if value(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def link_efficiency_crossing() -> list[str]:
    return [f"link efficiency crossing 1 near {_crossing_km('link_efficiency', 1.0, 1.0, 60.0):.1f} km"]


def key_zero_crossing() -> list[str]:
    return [f"DI-QKD key reaching zero near {_crossing_km('diqkd_key_fraction', 1e-12, 60.0, 200.0):.0f} km"]


# ---- purification of one link (exact) --------------------------------------------------------

def purified_link() -> list[str]:
    d = qnet_json("purify", LIU, "alice", "bob", *LINK_MEMORIES)
    raw = d["link"]
    raw_key = raw["diqkd_key_fraction"] * raw["rate_hz"]
    return [
        f"fidelity {raw['fidelity']:.3f} → {d['fidelity']:.3f}",
        f"({raw['rate_hz']:.2f} → {d['rate_hz']:.2f} pairs/s)",
        f"QBER {raw['qber']:.3f} → {d['qber']:.3f}",
        f"({raw_key:.2f} → {_key_rate(d):.2f} bit/s)",
    ]


def krutyanskiy_link() -> list[str]:
    """The 230 m link: the reproduced figures, the split-dependent ones, and two alternatives."""
    import numpy as np

    from qnet.quantum.figures import chsh, diqkd_key_fraction, qber
    from qnet.quantum.states import bell_projector

    r = qnet_json("link", KRUTYANSKIY, "node_a", "node_b")
    # the same fidelity with all the infidelity in the two-photon visibility (F = (1 + V)/2)
    v = 2.0 * r["fidelity"] - 1.0
    vis = qnet_json(
        "link", KRUTYANSKIY, "node_a", "node_b", "--set", f"nodes.bsm.visibility={v!r}",
        "--set", "nodes.bsm.dark_count_probability=0", "--set", "nodes.node_a.t2_s=inf", "--set", "nodes.node_b.t2_s=inf",
    )
    target = bell_projector("psi+")
    rho = r["fidelity"] * target + (1.0 - r["fidelity"]) / 3.0 * (np.eye(4) - target)  # Werner, same F
    werner = diqkd_key_fraction(chsh(rho), qber(rho))
    return [
        f"success probability {_sci(r['success_probability'])}",
        f"fidelity {r['fidelity']:.3f}",
        f"QBER {r['qber']:.3f}, CHSH {r['chsh']:.2f}, DI-QKD key fraction {r['diqkd_key_fraction']:.2f}",
        f"instead gives QBER {vis['qber']:.3f} and a DI-QKD key fraction of {vis['diqkd_key_fraction']:.2f}",
        f"a Werner state of the same fidelity gives {werner:.2f}",
    ]


# ---- repeater chains (Monte Carlo, seeded) ---------------------------------------------------

def chain_100km() -> list[str]:
    d = qnet_json("chain", CHAIN, "alice", "bob", *VIA, "--seed", "1", "--no-progress")
    return [
        f"fidelity {d['fidelity']:.3f}, {d['rate_hz']:.2f} pairs/s, BB84 key {d['bb84_key_rate_hz']:.2f} bit/s",
        f"(Monte Carlo, {d['samples']} samples, seed 1)",
    ]


def _beyond(crossovers: dict, name: str) -> str:
    x = crossovers.get(name)
    return "never on this grid" if x is None else f"beyond ~{x:.0f} km"


def chain_compare() -> list[str]:
    d = qnet_json("compare", CHAIN, "alice", "bob", *VIA, "--distances", "50:400:8", "--seed", "1", "--no-progress")
    c = d["crossovers_km"]
    return [
        f"pair rate beats the PLOB bound {_beyond(c, 'chain_rate_above_plob')}",
        f"key rate beats the direct link's {_beyond(c, 'chain_bb84_key_rate_above_direct')}",
    ]


def chain_purified() -> list[str]:
    d = qnet_json("chain", CHAIN, "alice", "bob", *VIA, *CHAIN_MEMORIES, "--purify", "dejmps", "--seed", "1", "--no-progress")
    return [f"{_key_rate(d):.2f} bit/s (F {d['fidelity']:.3f}, {d['rate_hz']:.2f} pairs/s, QBER {d['qber']:.3f}; seed 1)"]


def memories_compare() -> list[str]:
    common = (CHAIN, "alice", "bob", *VIA, *CHAIN_MEMORIES, "--distances", "100:300:5", "--seed", "1", "--no-progress")
    mux = qnet_json("compare", *common)["crossovers_km"]
    pur = qnet_json("compare", *common, "--purify", "dejmps")
    di_reach = max((row["total_km"] for row in pur["rows"] if row["chain_diqkd_key_rate_hz"] > 0), default=None)
    return [
        f"(above the PLOB bound {_beyond(mux, 'chain_bb84_key_rate_above_plob')})",
        f"a BB84 key above the bound {_beyond(pur['crossovers_km'], 'chain_bb84_key_rate_above_plob')}",
        f"a DI-QKD key out to ~{di_reach:.0f} km" if di_reach is not None else "no DI-QKD key",
    ]


# ---- traffic on the metro network (Monte Carlo, seed 1) ----------------------------------------

METRO = "examples/metro_ion_network.toml"
METRO_REQUESTS = "examples/requests/metro.toml"


def traffic_metro() -> list[str]:
    d = qnet_json("traffic", METRO, "--requests", str(ROOT / METRO_REQUESTS), "--duration", "60", "--seed", "1")
    service, burst, chord = d["requests"]
    chord_link = next(k for k in d["links"] if k["station"] == "s_ch")
    return [
        f"meets its demand of {service['requested_rate_hz']:g} pairs/s ({service['delivered']} pairs, {service['unmet_demand']} unmet)",
        f"only {100 * service['fraction_above_min_fidelity']:.0f} % of them reach its {service['min_fidelity']:g} fidelity",
        f"(mean {service['fidelity']:.3f})",
        f"{burst['delivered']} pairs (F {burst['fidelity']:.3f})",
        f"{chord['rate_hz']:.3g} pairs/s at F {chord['fidelity']:.3f}",
        f"{100 * chord_link['utilisation']:.0f} % of the time",
    ]


@dataclass(frozen=True)
class Quote:
    """A number (or sentence) the README quotes and the function that computes it."""

    name: str
    command: str
    compute: Callable[[], list[str]]  # fragments the README contains verbatim (up to line breaks)
    fast: bool = True  # exact and quick (tests/test_docs.py recomputes these)


QUOTES = (
    Quote("link table, 10 km", f"qnet link {LIU} alice bob", lambda: [link_table_row(10)]),
    Quote("link table, 101 km", f"qnet link {LIU} alice bob (arms 50.5 km)", lambda: [link_table_row(101)]),
    Quote("figure caption: link efficiency = 1", "bisection of qnet link over the total length", link_efficiency_crossing),
    Quote("figure caption: DI-QKD key = 0", "bisection of qnet link over the total length", key_zero_crossing),
    Quote("Krutyanskiy 2023 link", f"qnet link {KRUTYANSKIY} node_a node_b", krutyanskiy_link),
    Quote("one DEJMPS round on the 2026 link", f"qnet purify {LIU} alice bob (2 memories per node)", purified_link),
    Quote("4-link chain at 100 km", f"qnet chain {CHAIN} alice bob --via r1,r2,r3 --seed 1", chain_100km, fast=False),
    Quote("chain vs direct link", f"qnet compare {CHAIN} ... --distances 50:400:8 --seed 1", chain_compare, fast=False),
    Quote("purified chain", f"qnet chain {CHAIN} ... --purify dejmps --seed 1 (memories 2/4/4/4/2)", chain_purified, fast=False),
    Quote("multiplex vs purify", f"qnet compare {CHAIN} ... --distances 100:300:5 --seed 1 (memories set)", memories_compare, fast=False),
    Quote("traffic on the metro network", f"qnet traffic {METRO} --requests {METRO_REQUESTS} --duration 60 --seed 1",
          traffic_metro, fast=False),
)


def main(argv: list[str] | None = None) -> int:
    fast_only = "--fast" in (argv if argv is not None else sys.argv[1:])
    for quote in QUOTES:
        if fast_only and not quote.fast:
            continue
        print(f"## {quote.name}   [{quote.command}]")
        for fragment in quote.compute():
            print(fragment)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

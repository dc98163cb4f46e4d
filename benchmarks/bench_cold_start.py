"""Cold-start wall times of the command line, each a fresh process (median of --repeats runs).

1. ``qnet --help`` (target < 0.3 s).
2. One 20 km single-click link's exact fidelity and rate: ``qnet link`` on a generated 2-node
   network file (the 2026 ion link's hardware, 10 km arms; target < 1.5 s). The baseline is SeQUeNCe
   1.3.1 (BDS formalism), measured on a 2-core machine of this kind at about 500 simulated pairs
   per wall-second for a 20 km link: a sampler needs
   N pairs to know the rate to 1 % and the fidelity to 0.01 (95 % confidence), one exact
   evaluation gives both, so our "pairs-equivalent" throughput is N / (our wall time).
3. A 2 x 20 km chain's mean rate and fidelity at 1 % precision (target < 3 s): ``qnet chain
   --exact`` (the two-link exact method), and the Monte Carlo with enough samples for a 95 %
   confidence half-width of 1 % on the rate (found from a pilot run, printed).

Not a test: nothing here asserts a time. Run from anywhere:

    python benchmarks/bench_cold_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _record import figure, seconds  # benchmarks/_record.py

TARGETS_S = {"help": 0.3, "link": 1.5, "chain": 3.0}
SEQUENCE_PAIRS_PER_S = 500.0  # SeQUeNCe 1.3.1, single 20 km link (BDS formalism), 2-core machine
Z95 = 1.959963984540054

MEMORY = """kind = "memory"
t2_s = {t2}
decay = "exponential"
emission_efficiency = {emission}
conversion_efficiency = {conversion}
prep_time_s = 380e-6
bright_state_population = {alpha}
gate_fidelity = 0.995
readout_fidelity = 0.999
"""
STATION = """kind = "station"
scheme = "single_click"
detector_efficiency = 0.8
dark_count_probability = 1e-6
visibility = {visibility}
phase_noise_rad = {phase}
"""


def link_network(path: Path) -> Path:
    """alice - 10 km - station - 10 km - bob with the hardware of examples/liu2026_ion_link.toml."""
    mem = MEMORY.format(t2=1.1, emission=0.05, conversion=0.3, alpha=0.05)
    text = (
        f"[nodes.alice]\n{mem}\n[nodes.bob]\n{mem}\n[nodes.station]\n{STATION.format(visibility=0.97, phase=0.3)}\n"
        '[[fibres]]\na = "alice"\nb = "station"\nlength_km = 10.0\n\n'
        '[[fibres]]\na = "station"\nb = "bob"\nlength_km = 10.0\n'
    )
    path.write_text(text)
    return path


def chain_network(path: Path) -> Path:
    """alice - s1 - r - s2 - bob, two 20 km links (10 km arms), the hardware of examples/ion_repeater_chain.toml."""
    mem = MEMORY.format(t2=10.0, emission=0.4, conversion=0.5, alpha=0.02)
    station = STATION.format(visibility=0.99, phase=0.1)
    text = "".join(f"[nodes.{n}]\n{mem}\n" for n in ("alice", "r", "bob"))
    text += "".join(f"[nodes.{s}]\n{station}\n" for s in ("s1", "s2"))
    for a, b in (("alice", "s1"), ("s1", "r"), ("r", "s2"), ("s2", "bob")):
        text += f'[[fibres]]\na = "{a}"\nb = "{b}"\nlength_km = 10.0\n\n'
    path.write_text(text)
    return path


def qnet_command() -> list[str]:
    script = Path(sys.executable).with_name("qnet")
    if script.exists():
        return [str(script)]
    found = shutil.which("qnet")
    return [found] if found else [sys.executable, "-m", "qnet"]


def timed(cmd: list[str], repeats: int) -> tuple[float, list[float], str]:
    """(median wall time, all times, stdout of the last run) of a fresh process; one untimed warm-up run."""
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    times, out = [], ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        out = proc.stdout
    return statistics.median(times), times, out


def report(name: str, target_key: str, median: float, times: list[float]) -> None:
    target = TARGETS_S[target_key]
    spread = f"{min(times):.3f}..{max(times):.3f}"
    print(f"  {name:<58} {median:7.3f} s  (runs {spread})  target < {target:g} s: ratio {median / target:.2f}")


def pairs_for_precision(fidelity: float, rel_rate: float = 0.01, abs_fidelity: float = 0.01) -> int:
    """Delivered pairs a sampler needs for a 95 % CI half-width of ``rel_rate`` on the rate
    (Poisson count of successes) and ``abs_fidelity`` on the fidelity (binomial witness)."""
    n_rate = (Z95 / rel_rate) ** 2
    n_fid = Z95**2 * fidelity * (1 - fidelity) / abs_fidelity**2
    return math.ceil(max(n_rate, n_fid))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pilot-samples", type=int, default=2000, help="Monte Carlo pilot run that sizes the 1 %% run")
    args = parser.parse_args(argv)
    qnet = qnet_command()
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; command: {' '.join(qnet)}; median of {args.repeats} fresh processes"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        med, times, _ = timed([*qnet, "--help"], args.repeats)
        report("qnet --help", "help", med, times)
        figure("help_s", seconds(med), med, "qnet --help, fresh process")

        net = link_network(tmp / "link20.toml")
        med, times, out = timed([*qnet, "link", str(net), "alice", "bob", "--json"], args.repeats)
        link = json.loads(out)
        report("qnet link (20 km single-click, exact F and rate)", "link", med, times)
        figure("link_s", seconds(med), med, "qnet link --json on the ion link (10 km arms), fresh process")
        n = pairs_for_precision(link["fidelity"])
        print(
            f"    F = {link['fidelity']:.6f}, rate = {link['rate_hz']:.6g} /s, P = {link['success_probability']:.4g} (exact)"
        )
        print(
            f"    a sampler needs {n:,} pairs for the rate to 1 % and F to 0.01 (95 % CI): SeQUeNCe at ~{SEQUENCE_PAIRS_PER_S:g} "
            f"pairs/s takes ~{n / SEQUENCE_PAIRS_PER_S:.0f} s; qnet's exact run = {n / med:,.0f} pairs-equivalent per wall-second "
            f"({n / med / SEQUENCE_PAIRS_PER_S:.0f}x the baseline, cold start included)"
        )

        chain = chain_network(tmp / "chain2x20.toml")
        base = [*qnet, "chain", str(chain), "alice", "bob", "--via", "r", "--json", "--no-progress"]
        med, times, out = timed([*base, "--exact"], args.repeats)
        exact = json.loads(out)
        report("qnet chain --exact (2 x 20 km)", "chain", med, times)
        figure("chain_exact_s", seconds(med), med, "qnet chain --exact, 2 x 20 km, fresh process")
        print(f"    exact: rate = {exact['rate_hz']:.6g} /s, F = {exact['fidelity']:.6f}")

        pilot = json.loads(
            subprocess.run(
                [*base, "--samples", str(args.pilot_samples), "--seed", "1"], capture_output=True, text=True, check=True
            ).stdout
        )
        lo, hi = pilot["rate_hz_ci"]
        rel_hw = (hi - lo) / 2 / pilot["rate_hz"]
        samples = math.ceil(1.1 * args.pilot_samples * (rel_hw / 0.01) ** 2)  # 10 % margin on the pilot's estimate
        med, times, out = timed([*base, "--samples", str(samples), "--seed", "2"], args.repeats)
        mc = json.loads(out)
        lo, hi = mc["rate_hz_ci"]
        report(f"qnet chain Monte Carlo (2 x 20 km, {samples:,} samples)", "chain", med, times)
        figure(
            "chain_monte_carlo_1pct_s",
            seconds(med),
            med,
            f"qnet chain Monte Carlo to 1 % on the rate, 2 x 20 km, {samples:,} samples, fresh process",
        )
        f_hw = Z95 * mc["fidelity_std"] / math.sqrt(samples)
        print(
            f"    Monte Carlo: rate = {mc['rate_hz']:.6g} /s (95 % CI half-width {100 * (hi - lo) / 2 / mc['rate_hz']:.2f} %), "
            f"F = {mc['fidelity']:.6f} +- {f_hw:.2g} (95 %); vs exact: rate {100 * (mc['rate_hz'] / exact['rate_hz'] - 1):+.2f} %, "
            f"F {mc['fidelity'] - exact['fidelity']:+.2g}"
        )


if __name__ == "__main__":
    main()

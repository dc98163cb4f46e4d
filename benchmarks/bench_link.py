"""Speed of one elementary link: cold-start CLI wall time and batched Aer throughput.

Prints medians of repeated runs and the ratio to a vectorised closed-form numpy evaluation of
the same points (the practical limit). Not a test: nothing here asserts a time.

    python benchmarks/bench_link.py [--points 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _timing import median_time  # benchmarks/_timing.py

ROOT = Path(__file__).resolve().parents[1]
LIU = ROOT / "examples" / "liu2026_ion_link.toml"


def cold_start(repeats: int) -> float:
    """Median wall time of `qnet link <example> alice bob --json` as a fresh process (s)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "qnet", "link", str(LIU), "alice", "bob", "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(time.perf_counter() - t0)
        json.loads(out.stdout)
    return statistics.median(times)


def ideal_points(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.uniform(1.0, 100.0, n), rng.uniform(0.01, 0.3, n)


def closed_form(total_km: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-click, symmetric, V = 1, no dark counts, T2 = inf: P = 2 a eta - (a eta)^2, F = (1-a)/(1-a eta/2)."""
    eta = 0.5 * 10 ** (-0.2 * (total_km / 2) / 10)
    return 2 * alpha * eta - (alpha * eta) ** 2, (1 - alpha) / (1 - alpha * eta / 2)


def aer_batch(total_km: np.ndarray, alpha: np.ndarray):
    import qnet

    base = {
        "nodes": {
            "a": {"kind": "memory", "t2_s": float("inf"), "emission_efficiency": 0.5, "bright_state_population": 0.1},
            "b": {"kind": "memory", "t2_s": float("inf"), "emission_efficiency": 0.5, "bright_state_population": 0.1},
            "s": {"kind": "station", "scheme": "single_click"},
        },
        "fibres": [{"a": "a", "b": "s", "length_km": 1.0}, {"a": "s", "b": "b", "length_km": 1.0}],
    }
    compiled = []
    for length, a in zip(total_km, alpha):
        base["fibres"][0]["length_km"] = base["fibres"][1]["length_km"] = float(length) / 2
        base["nodes"]["a"]["bright_state_population"] = base["nodes"]["b"]["bright_state_population"] = float(a)
        graph = qnet.network_from_dict(base)
        compiled.append(qnet.compile_link(qnet.link_spec(graph, "a", "b")))
    results = qnet.run_links(compiled)
    return np.array([r.success_probability for r in results]), np.array([r.fidelity for r in results])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import qiskit
    import qiskit_aer

    print(f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, python {sys.version.split()[0]}")
    print(f"cold start `qnet link liu2026_ion_link.toml alice bob --json`: median {cold_start(args.repeats):.3f} s")
    L, a = ideal_points(args.points)
    aer_batch(L[:10], a[:10])  # warm imports and caches
    t_aer, (p_aer, f_aer) = median_time(lambda: aer_batch(L, a), args.repeats)
    t_cf, (p_cf, f_cf) = median_time(lambda: closed_form(L, a), max(args.repeats, 20))
    print(
        f"{args.points} distinct links, compile + one Aer run(): median {t_aer:.3f} s = {args.points / t_aer:,.0f} links/s"
    )
    print(f"closed form (numpy, vectorised): median {t_cf * 1e3:.3f} ms = {args.points / t_cf:,.0f} points/s")
    print(f"ratio Aer / closed form: {t_aer / t_cf:,.0f}x")
    print(
        f"max |P - closed form| = {np.abs(p_aer - p_cf).max():.1e}, max |F - closed form| = {np.abs(f_aer - f_cf).max():.1e}"
    )


if __name__ == "__main__":
    main()

"""Speed of `qnet sweep`: a 10^4-point single-link sweep per engine and worker count.

Prints points/s for the Aer and batch engines with 1 and 2 workers (in-process `run_sweep`,
pool start-up included, result cache cleared), the ratio to a vectorised closed-form numpy
evaluation of the same points, where the time per point goes, and the wall time of the CLI
sweep as a fresh process, also as a ratio to a fresh process that evaluates the closed form
on the same points and writes them to CSV. Not a test: nothing here asserts a time.

    python benchmarks/bench_sweep.py [--side 100] [--repeats 1]

The link is the closed-form case (single click, emission efficiency 0.5, no memory decay,
V = 1, no dark counts): P = 2 a eta - (a eta)^2, F = (1 - a)/(1 - a eta/2) with
eta = 0.5 * 10^(-0.2 L_arm / 10). The grid varies both arm lengths together (total 1-100 km)
and both bright-state populations together (0.01-0.3): side x side points.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import median_time  # benchmarks/_timing.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NETWORK = """\
[nodes.alice]
kind = "memory"
t2_s = inf
emission_efficiency = 0.5
bright_state_population = 0.1

[nodes.bob]
kind = "memory"
t2_s = inf
emission_efficiency = 0.5
bright_state_population = 0.1

[nodes.mid]
kind = "station"
scheme = "single_click"

[[fibres]]
a = "alice"
b = "mid"
length_km = 1.0

[[fibres]]
a = "mid"
b = "bob"
length_km = 1.0
"""

ARMS = "fibres.alice-mid.length_km,fibres.mid-bob.length_km"
ALPHAS = "nodes.alice.bright_state_population,nodes.bob.bright_state_population"


def axes_text(side: int) -> list[str]:
    return ["--vary", f"{ARMS}=0.5:50:{side}", "--vary", f"{ALPHAS}=0.01:0.3:{side}"]


def closed_form(arm_km: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eta = 0.5 * 10 ** (-0.2 * arm_km / 10)
    return 2 * alpha * eta - (alpha * eta) ** 2, (1 - alpha) / (1 - alpha * eta / 2)



def breakdown(data: dict, side: int) -> None:
    """Microseconds per point of each stage of a chunk, as LinkEvaluator runs it (1024 batch / 256 Aer).

    Result cache cleared, garbage collector off (as in a chunk); the Aer stages run with one
    thread, as in a worker process.
    """
    import gc

    from qnet.link import batch
    from qnet.link.circuit import compile_link, link_program
    from qnet.link.run import final_states
    from qnet.studies.sweep import LinkEvaluator, clear_cache, grid, parse_vary
    from qnet.studies.sweep.evaluators import link_rows
    from qnet.studies.sweep.linkpoints import link_points

    fields, points = grid([parse_vary(f"{ARMS}=0.5:50:{side}"), parse_vary(f"{ALPHAS}=0.01:0.3:{side}")])
    for engine, n in (("batch", 1024), ("aer", 256)):
        clear_cache()
        ev = LinkEvaluator(network=data, a="alice", b="bob", link_backend=engine)
        chunk = [dict(zip(fields, p)) for p in points[-n:]]  # values this process has not seen yet
        stages: dict[str, float] = {}

        def stage(name, fn):
            t0 = time.perf_counter()
            out = fn()
            stages[name] = (time.perf_counter() - t0) / n * 1e6
            return out

        gc.disable()
        builder = link_points(ev)
        specs = stage("point -> LinkSpec", lambda: [builder.spec(p)[0] for p in chunk])
        if engine == "batch":
            items = stage("link_program", lambda: [link_program(s) for s in specs])
            states = stage("batch simulation", lambda: batch.density_matrices(items))
        else:
            items = stage("compile_link (shared instructions, as in a sweep)", lambda: [compile_link(s, share_instructions=True) for s in specs])
            states = stage("Aer run() + extraction", lambda: final_states(items, threads=1, in_place=True))
        stage("heralds + figures (vectorised)", lambda: link_rows(items, states))
        gc.enable()
        clear_cache()
        total = stage("whole chunk (LinkEvaluator.evaluate)", lambda: ev.evaluate(chunk))
        del total
        print(f"  {engine} engine, {n}-point chunk: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))


CLOSED_FORM_SCRIPT = """\
import csv, sys
import numpy as np
side = int(sys.argv[1])
arm = np.linspace(0.5, 50, side); alpha = np.linspace(0.01, 0.3, side)
arm, alpha = np.repeat(arm, side), np.tile(alpha, side)
eta = 0.5 * 10 ** (-0.2 * arm / 10)
p, f = 2 * alpha * eta - (alpha * eta) ** 2, (1 - alpha) / (1 - alpha * eta / 2)
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["arm_km", "alpha", "success_probability", "fidelity"])
    w.writerows(zip(*(map(repr, c.tolist()) for c in (arm, alpha, p, f))))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=100, help="grid side: side^2 points (default 100 -> 10^4)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration (median)")
    parser.add_argument("--no-cli", action="store_true", help="skip the cold-start CLI timings")
    args = parser.parse_args()

    import tomllib

    import qiskit
    import qiskit_aer

    from qnet.studies.sweep import LinkEvaluator, clear_cache, parse_vary, read_table, run_sweep

    n = args.side**2
    print(f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {n} points, median of {args.repeats}")
    data = tomllib.loads(NETWORK)
    axes = [parse_vary(f"{ARMS}=0.5:50:{args.side}"), parse_vary(f"{ALPHAS}=0.01:0.3:{args.side}")]
    tmp = Path(tempfile.mkdtemp(prefix="qnet-bench-sweep-"))

    # closed form on the same points
    arms = np.repeat(np.array(axes[0].values), args.side)
    alphas = np.tile(np.array(axes[1].values), args.side)
    t_cf, (p_cf, f_cf) = median_time(lambda: closed_form(arms, alphas), 21)
    print(f"closed form (numpy, vectorised): {t_cf * 1e3:.3f} ms = {n / t_cf:,.0f} points/s")

    # warm imports and caches of this process (the sweeps below clear the result cache)
    LinkEvaluator(network=data, a="alice", b="bob").evaluate([{}])
    for engine in ("aer", "batch"):
        for workers in (1, 2):
            out = tmp / f"{engine}-{workers}.csv"

            def go():
                clear_cache()
                ev = LinkEvaluator(network=data, a="alice", b="bob", link_backend=engine)
                return run_sweep(ev, axes, out, workers=workers, overwrite=True, progress=False)

            t, summary = median_time(go, args.repeats)
            header, rows = read_table(out)
            f = np.array([float(r[header.index("fidelity")]) for r in rows])
            p = np.array([float(r[header.index("success_probability")]) for r in rows])
            err = max(np.abs(f - f_cf).max(), np.abs(p - p_cf).max())
            print(f"engine {engine:5s} workers {workers}: {t:6.2f} s = {n / t:8,.0f} points/s; "
                  f"{t / t_cf:9,.0f}x the closed form; max |F, P - closed form| = {err:.1e}")

    print("where the time goes (us/point, one process):")
    breakdown(data, args.side)

    if not args.no_cli:
        network = tmp / "link.toml"
        network.write_text(NETWORK)
        script = tmp / "closed_form.py"
        script.write_text(CLOSED_FORM_SCRIPT)
        cmd = [sys.executable, str(script), str(args.side), str(tmp / "cf.csv")]
        t_cold, _ = median_time(lambda: subprocess.run(cmd, check=True), args.repeats)
        print(f"cold start closed form (python + numpy, {n} points to CSV): {t_cold:.2f} s wall")
        for extra in (["--link-backend", "aer", "--workers", "1"], ["--link-backend", "aer", "--workers", "2"],
                      ["--link-backend", "batch", "--workers", "1"], ["--link-backend", "batch", "--workers", "2"]):
            cmd = [sys.executable, "-m", "qnet", "sweep", str(network), "alice", "bob", *axes_text(args.side),
                   "-o", str(tmp / "cli.csv"), "--overwrite", "--no-progress", *extra]
            t, proc = median_time(lambda: subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT), args.repeats)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            with open(tmp / "cli.csv", newline="") as fh:
                rows = sum(1 for _ in csv.reader(fh)) - 1
            print(f"cold start `qnet sweep ... {' '.join(extra)}` ({rows} points): {t:.2f} s wall = {n / t:,.0f} points/s; "
                  f"{t / t_cold:.1f}x the cold-start closed form")


if __name__ == "__main__":
    main()

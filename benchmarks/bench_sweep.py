"""Speed of `qnet sweep`: a 10^4-point single-link sweep per engine and worker count.

Prints points/s for the Aer and batch engines with 1 and 2 workers (in-process `run_sweep`,
pool start-up included, result cache cleared), the ratio to a vectorised closed-form numpy
evaluation of the same points, where the time per point goes, and the wall time of the CLI
sweep as a fresh process, also as a ratio to a fresh process that evaluates the closed form
on the same points and writes them to CSV (the fresh processes taken in turns, closed form first,
each repeat of every command on the same machine state; medians); the cold-start sweeps are also
run on the ion link example (examples/liu2026_ion_link.toml) over the same grid. The per-stage breakdown is
``run_sweep(profile=True)``, the stages ``qnet sweep --profile`` prints. Not a test: nothing here
asserts a time. ``python benchmarks/run_all.py --only sweep`` records the figures
(benchmarks/results/sweep.json).

    python benchmarks/bench_sweep.py [--side 100] [--repeats 1]

The link is the closed-form case (single click, emission efficiency 0.5, no memory decay,
V = 1, no dark counts): P = 2 a eta - (a eta)^2, F = (1 - a)/(1 - a eta/2) with
eta = 0.5 * 10^(-0.2 L_arm / 10). The grid varies both arm lengths together (total 1-100 km)
and both bright-state populations together (0.01-0.3): side x side points.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# as `qnet` does (qnet/cli/app.py): one BLAS thread for qnet's many tiny matrix products (the
# in-process figures below would otherwise time OpenBLAS's thread hand-offs); set before numpy
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from _record import figure, rate, seconds  # noqa: E402  benchmarks/_record.py
from _timing import median_time  # noqa: E402  benchmarks/_timing.py

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


def breakdown(data: dict, side: int, tmp: Path) -> None:
    """Microseconds per point of each stage of an in-process sweep (run_sweep(profile=True), as
    `qnet sweep --profile` prints them), result cache cleared, one process."""
    from qnet.studies.sweep import LinkEvaluator, clear_cache, parse_vary, run_sweep

    axes = [parse_vary(f"{ARMS}=0.5:50:{side}"), parse_vary(f"{ALPHAS}=0.01:0.3:{side}")]
    for engine in ("batch", "aer"):
        clear_cache()
        ev = LinkEvaluator(network=data, a="alice", b="bob", link_backend=engine)
        summary = run_sweep(ev, axes, tmp / f"profile-{engine}.csv", overwrite=True, progress=False, profile=True)
        prof = summary.profile
        stages = {k: v / prof.points * 1e6 for k, v in prof.main.items()}
        print(
            f"  {engine} engine: "
            + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            + f"; total {prof.total_s / prof.points * 1e6:.1f}"
        )
        for stage in ("spec", "compile", "run", "figures", "write"):
            figure(
                f"inprocess.{engine}.{stage}_us_per_point",
                f"{stages.get(stage, 0.0):.1f} us",
                stages.get(stage, 0.0),
                f"{engine} engine, in-process sweep of {side * side} points: {stage} stage per point",
            )


CLOSED_FORM_SCRIPT = """\
import csv, sys
import numpy as np  # noqa: E402
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
    print(
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {n} points, median of {args.repeats}"
    )
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
            print(
                f"engine {engine:5s} workers {workers}: {t:6.2f} s = {n / t:8,.0f} points/s; "
                f"{t / t_cf:9,.0f}x the closed form; max |F, P - closed form| = {err:.1e}"
            )
            figure(
                f"inprocess.{engine}.w{workers}_points_per_s",
                rate(n / t, "points"),
                n / t,
                f"in-process run_sweep, {n} points, engine {engine}, {workers} worker(s), pool start-up included",
            )

    print("where the time goes (us/point, one process; qnet sweep --profile's stages):")
    breakdown(data, args.side, tmp)

    if not args.no_cli:
        cold(args.side, args.repeats, tmp)


def cold(side: int, repeats: int, tmp: Path) -> None:
    """Fresh-process timings: the closed form, then each qnet sweep; taken in turns, so that each
    repeat of every command meets the same machine (the ratios compare like with like)."""
    n = side * side
    network = tmp / "link.toml"
    network.write_text(NETWORK)
    script = tmp / "closed_form.py"
    script.write_text(CLOSED_FORM_SCRIPT)
    closed = [sys.executable, str(script), str(side), str(tmp / "cf.csv")]
    ion = ROOT / "examples" / "liu2026_ion_link.toml"
    ion_axes = [
        "--vary",
        f"fibres.alice-station.length_km,fibres.station-bob.length_km=0.5:50:{side}",
        "--vary",
        f"nodes.alice.bright_state_population,nodes.bob.bright_state_population=0.01:0.3:{side}",
    ]
    cases = [
        ("", network, axes_text(side), ["--link-backend", e, "--workers", w])
        for e in ("aer", "batch")
        for w in ("1", "2")
    ]
    cases += [("ion.", ion, ion_axes, ["--link-backend", e, "--workers", w]) for e, w in (("aer", "2"), ("batch", "1"))]
    commands = [
        [sys.executable, "-m", "qnet", "sweep", str(net), "alice", "bob", *axes_args, "-o", str(tmp / "cli.csv")]
        + ["--overwrite", "--no-progress", *extra]
        for _, net, axes_args, extra in cases
    ]
    times: list[list[float]] = [[] for _ in range(len(cases) + 1)]
    for _ in range(repeats):
        for i, cmd in enumerate([closed, *commands]):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            times[i].append(time.perf_counter() - t0)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            if i:
                with open(tmp / "cli.csv", newline="") as fh:
                    if sum(1 for _ in csv.reader(fh)) - 1 != n:
                        raise SystemExit(f"{' '.join(cmd)} wrote the wrong number of rows")
    t_cold = statistics.median(times[0])
    print(f"cold start closed form (python + numpy, {n} points to CSV): {t_cold:.2f} s wall")
    figure("cold.closed_form_s", seconds(t_cold), t_cold, f"fresh python process: the closed form of {n} points to CSV")
    for (prefix, _, _, extra), runs in zip(cases, times[1:]):
        t = statistics.median(runs)
        what = "the ion link (examples/liu2026_ion_link.toml)" if prefix else "the closed-form link"
        print(
            f"cold start `qnet sweep ... {' '.join(extra)}` on {what} ({n} points): {t:.2f} s wall = {n / t:,.0f} points/s; "
            f"{t / t_cold:.1f}x the cold-start closed form"
        )
        key = f"cold.{prefix}{extra[1]}.w{extra[3]}"
        figure(f"{key}_s", seconds(t), t, f"fresh process: qnet sweep {' '.join(extra)} over {n} points of {what}")
        figure(
            f"{key}_vs_closed_form",
            f"{t / t_cold:.1f}×",
            t / t_cold,
            "the same as a ratio to the cold-start closed form",
        )


if __name__ == "__main__":
    main()

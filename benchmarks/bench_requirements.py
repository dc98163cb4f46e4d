"""Speed of ``qnet requirements``: 8 parameters on a 4-link chain (target: <= 2 min on 2 cores).

The case: examples/ion_repeater_chain.toml, alice - r1 - r2 - r3 - bob (4 links of 25 km), nested
swapping (so the exact chain applies: deterministic, no common random numbers needed), targets
fidelity >= 0.9 and rate_hz >= 5 (today: 0.848 and 3.42 /s), eight shared improvement factors
(nodes.*.FIELD: t2_s, emission, conversion and detector efficiency, gate and readout fidelity,
visibility, phase noise). Prints the wall time (median of --repeats fresh searches, every
evaluation computed: no journal) and the process's CPU time, the evaluations, the
cost and the factors found, and the ratio to the 120 s target. Not a test: nothing here asserts a
time.

Also (--study): the shape of the published comparison of applications (da Silva, Avis et al.
2024): the shared coherence time T2 needed for a QKD-type target (BB84 key rate) and for a
blind-computing-type target (fidelity) on the same chain, and their ratio.

    python benchmarks/bench_requirements.py [--repeats 3] [--workers 2] [--starts 3] [--link-backend aer|batch] [--study]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as the qnet command line does (qnet/cli/app.py)
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

FIELDS = (
    "t2_s",
    "emission_efficiency",
    "conversion_efficiency",
    "detector_efficiency",
    "gate_fidelity",
    "readout_fidelity",
    "visibility",
    "phase_noise_rad",
)
CHAIN = "examples/ion_repeater_chain.toml"
TARGET_S = 120.0


def one_search(engine: str, workers: int, starts: int):
    from qnet.studies.requirements import find_requirements

    return find_requirements(
        CHAIN,
        "alice",
        "bob",
        ",".join(f"nodes.*.{f}" for f in FIELDS),
        ["fidelity>=0.9", "rate_hz>=5"],
        via=["r1", "r2", "r3"],
        swap_policy="nested",
        link_backend=engine,
        starts=starts,
        workers=workers,
    )


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes), all threads."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def study(engine: str) -> None:
    """T2 needed (shared factor, everything else as today) for QKD vs blind computing on the nested chain."""
    from qnet.studies.requirements import find_requirements

    common = dict(
        via=["r1", "r2", "r3"],
        swap_policy="nested",
        link_backend=engine,
        starts=1,
        max_factor=1e4,
        overrides=[f"nodes.{n}.t2_s=1.0" for n in ("alice", "r1", "r2", "r3", "bob")],
    )
    rows = []
    for label, targets in (
        ("QKD   bb84_key_rate_hz>=0.1", ["bb84_key_rate_hz>=0.1"]),
        ("blind fidelity>=0.85", ["fidelity>=0.85"]),
    ):
        r = find_requirements(CHAIN, "alice", "bob", "nodes.*.t2_s", targets, **common)
        rows.append((label, r.factors[0] * 1.0, r.figures["fidelity"], r.figures["qber"]))
    for label, t2, f, q in rows:
        print(f"  {label:<34} T2 needed {t2:8.4g} s  (fidelity {f:.4f}, qber {q:.4f})")
    print(f"  ratio blind / QKD: {rows[1][1] / rows[0][1]:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--link-backend", choices=("aer", "batch"), default="aer")
    parser.add_argument("--workers", type=int, default=2, help="processes per batch (default 2: the 2-core target)")
    parser.add_argument("--starts", type=int, default=3, help="local searches (default 3, as qnet requirements)")
    parser.add_argument("--study", action="store_true", help="also the QKD vs blind-computing coherence comparison")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, load average "
        f"{os.getloadavg()[0]:.1f}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    times, cpus, result = [], [], None
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), cpu_seconds()
        result = one_search(args.link_backend, args.workers, args.starts)
        times.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    assert result is not None
    med = statistics.median(times)
    print(
        f"8 parameters, 4-link nested chain, exact, link backend {args.link_backend}, {args.workers} workers, "
        f"{args.starts} starts: median {med:.1f} s over "
        f"{args.repeats} runs (min {min(times):.1f}, max {max(times):.1f}); {result.evaluations} evaluations "
        f"({med / result.evaluations * 1e3:.0f} ms each); target {TARGET_S:.0f} s -> {TARGET_S / med:.2f}x the target"
    )
    print(
        f"  CPU time of this process and its workers (all threads): median {statistics.median(cpus):.1f} s "
        f"(on a busy machine the wall time is longer than on a quiet one; the CPU time is not)"
    )
    print(
        f"  cost {result.cost:.4f}, binding {', '.join(result.binding)}; fidelity {result.figures['fidelity']:.4f}, "
        f"rate {result.figures['rate_hz']:.3f} /s"
    )
    for var, k in zip(result.variables, result.factors):
        print(f"  {var.name:<30} k = {k:.4g}  ({var.baseline[0]:.6g} -> {var.values(k)[0]:.6g})")
    if args.study:
        print("QKD vs blind computing (shared T2 from 1 s, everything else as in the example):")
        study(args.link_backend)


if __name__ == "__main__":
    main()

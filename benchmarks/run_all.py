"""Run the benchmarks and record every figure the README's Performance section quotes.

Each benchmark runs as its own process (``benchmarks/bench_*.py``, its output streamed here);
the figures it measured (``_record.figure``) are written to ``benchmarks/results/<name>.json``
with the date, the machine's core count and load, the Python, numpy, Qiskit and Aer versions,
and the exact command. ``tests/test_performance_record.py`` requires every Performance figure
of README.md to appear in the record of the benchmark its bullet names, so a stale figure fails
the suite: after a change that moves a figure, rerun that benchmark here and copy its figures
(printed at the end) into the README.

    python benchmarks/run_all.py                      # every benchmark (several minutes on 2 cores)
    python benchmarks/run_all.py --only sweep links   # some of them (the others' records stay)
    python benchmarks/run_all.py --quick              # fewer repeats, for a look (records marked quick)
    python benchmarks/run_all.py --list
    python benchmarks/run_all.py --only traffic_sequence --sequence-python /path/to/sequence/python

Before the first benchmark, qnet's modules are byte-compiled (``compileall``), as a pip install
does: where ``PYTHONDONTWRITEBYTECODE`` is set (some CI and container images), every fresh process
would otherwise compile qnet from source (~60 ms per cold start), which no installed copy pays.

Timings depend on the machine and on what else runs on it: each record says when and where it
was measured (cores, load average before the run). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script: its arguments for a full and a quick run, and what it needs."""

    name: str
    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    about: str
    needs: str | None = None  # an option of run_all without which it cannot run


BENCHMARKS = (
    Benchmark(
        "cold_start",
        "bench_cold_start.py",
        ("--repeats", "5"),
        ("--repeats", "1"),
        "fresh-process wall times: qnet --help, qnet link, a 2 x 20 km chain exactly and by Monte Carlo to 1 %",
    ),
    Benchmark(
        "sweep",
        "bench_sweep.py",
        ("--repeats", "5"),
        ("--repeats", "1"),
        "10^4-point link sweeps: in process and from a cold start, per engine and worker count, stage breakdown",
    ),
    Benchmark(
        "chain",
        "bench_chain.py",
        ("--repeats", "5", "--links", "512"),
        ("--repeats", "1", "--links", "512"),
        "long chains: 512-link Monte Carlo, 1024-link purify-and-swap state evaluation",
    ),
    Benchmark(
        "links",
        "bench_links.py",
        ("--repeats", "3"),
        ("--repeats", "1", "--links", "2000", "--copies", "50"),
        "link evaluation: one circuit on Aer, 10^4 distinct links, a 512-link two_photon chain's links",
    ),
    Benchmark(
        "public_links",
        "bench_public_links.py",
        ("--repeats", "5"),
        ("--repeats", "1"),
        "distinct links through the public API (compile_link + run_links, qnet.run_specs) on Aer, ms per link",
    ),
    Benchmark(
        "traffic",
        "bench_traffic.py",
        ("--repeats", "5"),
        ("--repeats", "1", "--minutes", "1"),
        "traffic event engine: heralds per second, the 1,000-node Waxman scenario",
    ),
    Benchmark(
        "traffic_sequence",
        "bench_traffic_sequence.py",
        (),
        (),
        "beside SeQUeNCe 1.3.1 (needs a SeQUeNCe install: --sequence-python)",
        needs="sequence_python",
    ),
)


def versions() -> dict[str, str]:
    """Versions of what the timings depend on."""
    out = {"python": platform.python_version()}
    for module in ("numpy", "qiskit", "qiskit_aer", "networkx", "numba"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


def commit() -> str | None:
    """The checked-out commit (with "+dirty" when the tree has changes), or None outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def run_one(bench: Benchmark, quick: bool, extra: list[str]) -> dict:
    """Run one benchmark script in a fresh process; its record (figures and where they came from)."""
    args = [*(bench.quick_args if quick else bench.args), *extra]
    cmd = [sys.executable, str(HERE / bench.script), *args]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory() as tmp:
        record_path = Path(tmp) / "figures.json"
        env = {**os.environ, "QNET_BENCH_RECORD": str(record_path)}
        started = datetime.datetime.now(datetime.timezone.utc)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"run_all: {bench.script} failed (status {proc.returncode}); its record is unchanged")
        measured = json.loads(record_path.read_text()) if record_path.exists() else {"figures": {}}
    return {
        "benchmark": bench.name,
        "script": f"benchmarks/{bench.script}",
        "command": f"python benchmarks/{bench.script} {' '.join(args)}".strip(),
        "regenerate": f"python benchmarks/run_all.py --only {bench.name}",
        "date": started.isoformat(timespec="seconds"),
        "quick": quick,
        "cpu_count": os.cpu_count(),
        "load_average_before": None if load is None else round(load, 2),
        "machine": platform.machine(),
        "versions": versions(),
        "commit": commit(),
        "wall_s": round(wall, 1),
        "about": bench.about,
        "figures": measured["figures"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHMARKS]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=f"run these only ({', '.join(names)})")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller cases (records say quick)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and their records, then exit")
    parser.add_argument("--sequence-python", metavar="PATH", help="a python with SeQUeNCe installed (traffic_sequence)")
    parser.add_argument("--no-record", action="store_true", help="print the figures, leave benchmarks/results/ alone")
    args = parser.parse_args(argv)

    if args.list:
        for b in BENCHMARKS:
            path = RESULTS / f"{b.name}.json"
            when = json.loads(path.read_text())["date"] if path.exists() else "no record"
            print(f"{b.name:<18} {b.script:<28} {when:<26} {b.about}")
        return 0
    selected = [b for b in BENCHMARKS if (args.only is None or b.name in args.only)]
    print(
        f"{os.cpu_count()} CPUs, {platform.machine()}, python {platform.python_version()}; "
        f"benchmarks: {', '.join(b.name for b in selected)}{' (quick)' if args.quick else ''}",
        flush=True,
    )
    compileall.compile_dir(str(ROOT / "qnet"), quiet=1)  # a user's install has bytecode (module docstring)
    records = []
    for bench in selected:
        extra: list[str] = []
        if bench.needs == "sequence_python":
            if not args.sequence_python:
                print(f"\n== {bench.name}: skipped (needs --sequence-python PATH: a python with SeQUeNCe 1.3.1)")
                continue
            extra = ["--sequence-python", args.sequence_python]
        print(f"\n== {bench.name}: python benchmarks/{bench.script}", flush=True)
        record = run_one(bench, args.quick, extra)
        records.append(record)
        if not args.no_record:
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / f"{bench.name}.json").write_text(
                json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    print("\n== figures (as the README quotes them)")
    for record in records:
        where = "not recorded" if args.no_record else f"benchmarks/results/{record['benchmark']}.json"
        print(
            f"{record['benchmark']} ({record['date']}, {record['cpu_count']} CPUs, load {record['load_average_before']}; {where}):"
        )
        for key, fig in record["figures"].items():
            print(f"  {key:<44} {fig['text']:>18}  {fig['label']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

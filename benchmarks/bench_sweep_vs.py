"""Cold `qnet sweep --link-backend batch` here against another qnet source tree: speed and identical bytes.

Runs the sweeps of ``bench_sweep.py`` (10^4 points of the closed-form link and of the ion link
example) as fresh processes, alternating between this checkout and ``OTHER`` (a qnet source
tree, e.g. ``git archive main | tar -x -C /tmp/qnet-main``), each with ``python -m qnet`` from its
own root (so its own ``qnet/`` is imported; the same Python environment), and a fresh Python
process that evaluates the closed form and writes the same CSV. Prints the median and the
minimum wall and CPU (user + sys) seconds of each, and whether both trees wrote the same bytes.
Byte-compiles both trees first (``compileall``: a user's install has bytecode). Not a test.

    python benchmarks/bench_sweep_vs.py OTHER [--repeats 9] [--side 100]
"""

from __future__ import annotations

import argparse
import compileall
import filecmp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sweep import ARMS, ALPHAS, CLOSED_FORM_SCRIPT, NETWORK

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="another qnet source tree (its root)")
    parser.add_argument("--repeats", type=int, default=9, help="runs of each (default 9)")
    parser.add_argument("--side", type=int, default=100, help="grid side: side^2 points (default 100)")
    args = parser.parse_args()
    other = args.other.resolve()
    for tree in (ROOT, other):
        compileall.compile_dir(tree / "qnet", quiet=1)
    tmp = Path(tempfile.mkdtemp(prefix="qnet-bench-vs-"))
    (tmp / "link.toml").write_text(NETWORK)
    (tmp / "closed_form.py").write_text(CLOSED_FORM_SCRIPT)
    side = args.side
    cases = {
        "closed-form link": [
            str(tmp / "link.toml"),
            "--vary",
            f"{ARMS}=0.5:50:{side}",
            "--vary",
            f"{ALPHAS}=0.01:0.3:{side}",
        ],
        "ion link": [
            str(ROOT / "examples" / "liu2026_ion_link.toml"),
            "--vary",
            f"fibres.alice-station.length_km,fibres.station-bob.length_km=0.5:50:{side}",
            "--vary",
            f"{ALPHAS}=0.01:0.3:{side}",
        ],
    }
    print(
        f"{side * side} points per sweep, {args.repeats} runs each, alternating; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    for name, axes in cases.items():
        times: dict[str, list[tuple[float, float]]] = {"here": [], "other": [], "closed form": []}
        for _ in range(args.repeats):
            for label, tree in (("here", ROOT), ("other", other)):
                out = tmp / f"{label}.csv"
                cmd = [sys.executable, "-m", "qnet", "sweep", axes[0], "alice", "bob", *axes[1:]]
                cmd += ["--link-backend", "batch", "--workers", "1", "-o", str(out), "--overwrite", "--no-progress"]
                times[label].append(_timed(cmd, tree))
            cf = [sys.executable, str(tmp / "closed_form.py"), str(side), str(tmp / "cf.csv")]
            times["closed form"].append(_timed(cf, tmp))
        same = filecmp.cmp(tmp / "here.csv", tmp / "other.csv", shallow=False)
        print(f"{name}: the two trees' CSVs are {'byte-identical' if same else 'DIFFERENT'}")
        for label, runs in times.items():
            wall, cpu = [w for w, _ in runs], [c for _, c in runs]
            print(
                f"  {label:12s} wall median {statistics.median(wall):.3f} s, min {min(wall):.3f} s; "
                f"CPU median {statistics.median(cpu):.3f} s, min {min(cpu):.3f} s"
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()

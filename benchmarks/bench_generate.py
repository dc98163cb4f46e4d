"""Wall times of ``qnet generate waxman --nodes N`` and of using the file it writes (medians of --repeats runs).

1. ``qnet generate waxman`` from a cold start (a fresh process), default ``--nodes 1000``;
   ``--alpha`` sets the density (networkx's default 0.1 gives a mean degree of ~33 at 1000
   nodes; 0.03 gives ~4, a fibre-map-like density).
2. The library steps in process: the topology (``waxman``), the network table (``network_table``,
   which validates it), the TOML text (``to_toml``), and ``qnet.load_network`` of the file.
3. ``qnet path`` between two far nodes of the written file from a cold start (every elementary link
   evaluated once, then the Monte Carlo on the route), and ``qnet draw`` of it.

Not a test: nothing here asserts a time. Run from the repository root:

    python benchmarks/bench_generate.py [--nodes 1000] [--alpha 0.03] [--repeats 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_time  # noqa: E402

HARDWARE = str(Path(__file__).resolve().parents[1] / "examples" / "hardware" / "ion.toml")


def _cli(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qnet", *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--alpha", type=float, default=0.03)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    import qnet
    from qnet.network.generate import network_table, read_hardware, waxman
    from qnet.network.writer import to_toml

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "big.toml"
        gen = [
            "generate",
            "waxman",
            "--nodes",
            str(args.nodes),
            "--alpha",
            str(args.alpha),
            "--hardware",
            HARDWARE,
            "-o",
            str(out),
            "--overwrite",
        ]
        t_cli, _ = median_time(lambda: _cli(gen), args.repeats)
        t_topo, topo = median_time(lambda: waxman(args.nodes, alpha=args.alpha), args.repeats)
        hw = read_hardware(HARDWARE)
        t_table, table = median_time(lambda: network_table(topo, hw), args.repeats)
        t_toml, text = median_time(lambda: to_toml(table), args.repeats)
        t_load, _ = median_time(lambda: qnet.load_network(out), args.repeats)
        edges = topo.number_of_edges()
        print(
            f"waxman --nodes {args.nodes} --alpha {args.alpha}: {edges} links (mean degree {2 * edges / args.nodes:.2f}), "
            f"{topo.graph['added_edges']} joining edges, file {len(text) / 1e6:.2f} MB"
        )
        print(f"qnet generate (cold start)      {t_cli:8.3f} s  (median of {args.repeats})")
        print(f"  waxman topology               {t_topo:8.3f} s")
        print(f"  network_table (validated)     {t_table:8.3f} s")
        print(f"  to_toml                       {t_toml:8.3f} s")
        print(f"qnet.load_network of the file   {t_load:8.3f} s")
        far = f"n{args.nodes - 1}"
        t_path = _cli(["path", str(out), "n0", far, "--seed", "1", "--no-progress"])
        print(f"qnet path n0 {far} (cold start) {t_path:8.3f} s  (one run: every link evaluated, then the route)")
        t_draw = _cli(["draw", str(out), "-o", str(Path(tmp) / "big.png"), "--color", "rate"])
        print(
            f"qnet draw --color rate (cold)   {t_draw:8.3f} s  (one run: batch engine over every link, spring layout)"
        )


if __name__ == "__main__":
    main()

"""Two concurrent requests through a shared repeater link: qnet's traffic engine beside SeQUeNCe.

Prints, for each simulator, the median wall time of --repeats runs, the pairs delivered to each
request, their mean fidelity and the simulated pairs per wall second, with the ratio. Not a
test: nothing here asserts a time.

    python benchmarks/bench_traffic_sequence.py [--duration 1.0] [--repeats 3] [--seed 1]
        [--sequence-python /path/to/venv/bin/python] [--skip-qnet] [--skip-sequence]

Scenario: the dumbbell of ``benchmarks/data/traffic_dumbbell.toml`` (a1, a2 - r1 - r2 - b1, b2,
every elementary link 20 km with a two-photon station in its middle), requests a1-b1 and a2-b2
as fast as possible for ``--duration`` simulated seconds; both requests contend for r1-r2.
qnet runs ``simulate_traffic(..., memory_policy="reserve")``. SeQUeNCe (``RouterNetTopo``,
``QuantumRouter``, ``RequestApp``: one RSVP reservation per request, 5 memories at each user and
10 at each repeater per request, target fidelity 0.5 so no purification) is configured from the
*same* TOML file (:func:`sequence_config`), in the Bell-diagonal formalism with single-heralded
generation, the only SeQUeNCe generation model that, like qnet's ``two_photon``, heralds on both
photons (P = eta_A eta_B / 2).

How the models are matched (``sequence_config``):

* fibre 0.2 dB/km and 2e5 km/s in both; memory efficiency = emission x conversion efficiency;
  the same detector efficiency, no dark counts.
* SeQUeNCe's raw pairs are Werner states of fidelity F; qnet's two-photon herald with
  visibility V gives F = (1 + V)/2 with a dephasing (not depolarising) error: same F, slightly
  different swapped fidelity (two F = 0.95 links: 0.9033 Werner, 0.9050 dephased).
* SeQUeNCe's memory decay is depolarising, exp(-4t/3 tau) on every Bloch component: qnet
  memories with t1_s = 0.75 tau and t2_s = 1.5 tau reproduce it; SeQUeNCe expires a memory
  after tau, qnet discards a pair older than ``cutoff_s`` = tau at the repeaters.
* SeQUeNCe's attempt period is 4 L/c (its generation handshake), qnet's L/c: the TOML adds
  ``prep_time_s`` = 3 L/c.
* Swaps are perfect in both (gate and readout fidelity 1, success probability 1).

Differences that remain: (1) multiplexing: every SeQUeNCe memory runs its own generation
protocol, so a link with k memory pairs can herald up to k pairs per round and hold them all;
qnet makes k attempts per round and keeps at most one pair per round (conventions.md §4), and
shares a node's memories out by its own policy rather than by RSVP reservations of fixed size.
(2) SeQUeNCe needs the reservation handshake before a request starts: its window is
[1 ms, 1 ms + duration), qnet's [0, duration). (3) SeQUeNCe's swaps and deliveries wait for
classical messages along the path; qnet's ``swap_time_s`` is 0 here. (4) SeQUeNCe delivers a
pair only if its (state-derived, Bell-diagonal) fidelity is >= the reservation's target 0.5.

Timing: every repeat is a fresh process (this script run again with ``--worker``), timed from
after the imports (building the network and running it); each simulator's import time is
printed apart. The SeQUeNCe side runs under ``--sequence-python`` (a separate venv: SeQUeNCe is
no dependency of qnet) or, without it, under this interpreter if ``import sequence`` works;
otherwise the table says it could not be run and why.

SeQUeNCe 1.3.1 declares Python >= 3.12; on 3.11 it runs from its own venv: install the runtime
dependencies its wheel lists (jupyterlab is not needed), then ``pip install --no-deps
--ignore-requires-python sequence==1.3.1``, and add a ``sitecustomize.py`` to that venv's
site-packages that sets ``typing.override = typing_extensions.override``.

Measured on the project's 2-core machine (2026-11-29; other jobs were running, load 1.4-2.4),
SeQUeNCe 1.3.1 on Python 3.11.7, seed 1, imports excluded (about 1.3 s each):

* 1 s simulated, 3 fresh processes: 15.48, 15.75, 16.64 s, median 15.75 s; 270 / 254 pairs
  (a1-b1 / a2-b2), mean F 0.8408 / 0.8387; 33.3 pairs per wall second.
* One process each: 0.25 s simulated 2.96 s (44.7 pairs/wall-s), 0.5 s 6.54 s (40.5), 2 s 43.5 s
  (24.5), 10 s 286.5 s (5,328 pairs, 18.6 pairs/wall-s, load up to 4). SeQUeNCe's cost per
  simulated second grows with the run: under cProfile a third of a 1 s run is
  ``EventList.update_event_time``, a linear scan of the whole event heap. Compare at equal
  ``--duration``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from _record import figure, seconds  # benchmarks/_record.py

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ROOT / "benchmarks" / "data" / "traffic_dumbbell.toml"
REQUESTS = (("a1", "b1"), ("a2", "b2"))
TARGET_FIDELITY = 0.5  # SeQUeNCe's reservation threshold (below every pair here: no purification)
START_DELAY_S = 1e-3  # SeQUeNCe's reservations must start after their handshake has crossed the path
PS = 1e12  # SeQUeNCe's clock is in picoseconds


# --------------------------------------------------------------------------- SeQUeNCe side
# Runs under any interpreter that has `sequence`; imports nothing from qnet.


def _station_links(net: dict) -> list[tuple[str, str, str, float, float]]:
    """(memory a, station, memory b, arm a km, arm b km) of every elementary link in the raw TOML table."""
    nodes, arms = net["nodes"], {}
    for f in net["fibres"]:
        a, b = f["a"], f["b"]
        mem, st = (a, b) if nodes[b]["kind"] == "station" else (b, a)
        arms.setdefault(st, []).append((mem, float(f["length_km"]), float(f.get("attenuation_db_per_km", 0.2))))
    return [(m[0][0], st, m[1][0], m[0][1], m[1][1]) for st, m in arms.items()]


def sequence_config(net: dict, duration_s: float, seed: int) -> dict:
    """SeQUeNCe ``RouterNetTopo`` config (a dict) for the raw qnet network table ``net``.

    Every memory node becomes a ``QuantumRouter`` with its own template (memory efficiency,
    raw fidelity (1 + V)/2 of its links' stations, coherence time tau = t2_s / 1.5); every
    station a ``meet_in_the_middle`` connection; classical channels join every pair of routers
    with the delay of the shortest fibre path between them.
    """
    nodes = net["nodes"]
    c_m_per_s = float(net.get("network", {}).get("fibre_speed_km_per_s", 2.0e5)) * 1e3
    links = _station_links(net)
    templates, routers, qconns = {}, [], []
    stations = {st: nodes[st] for _a, st, _b, _la, _lb in links}
    for i, (name, n) in enumerate(sorted((k, v) for k, v in nodes.items() if v["kind"] == "memory")):
        v = {stations[st]["visibility"] for a, st, b, _la, _lb in links if name in (a, b)}.pop()
        templates[name] = {
            "MemoryArray": {
                "fidelity": (1 + v) / 2,
                "efficiency": n["emission_efficiency"] * n.get("conversion_efficiency", 1.0),
                "coherence_time": n["t2_s"] / 1.5,
                "decoherence_errors": [1 / 3, 1 / 3, 1 / 3],
            }
        }
        routers.append(
            {
                "name": name,
                "type": "QuantumRouter",
                "seed": seed * 1000 + i,
                "memo_size": int(n["memories"]),
                "template": name,
            }
        )
    for i, (a, st, b, la, lb) in enumerate(links):
        if abs(la - lb) > 1e-12:
            raise ValueError(f"station {st}: SeQUeNCe places it in the middle, arms are {la} and {lb} km")
        det = {"efficiency": stations[st]["detector_efficiency"], "dark_count": 0}
        templates[st] = {"encoding_type": "single_heralded", "SingleHeraldedBSM": {"detectors": [det, dict(det)]}}
        att_db_per_m = 0.2e-3  # qnet's default; the TOML does not override it
        qconns.append(
            {
                "node1": a,
                "node2": b,
                "seed": seed * 1000 + 500 + i,
                "attenuation": att_db_per_m,
                "distance": (la + lb) * 1e3,
                "type": "meet_in_the_middle",
                "template": st,
            }
        )
    dist = _shortest_km({(a, b): la + lb for a, _st, b, la, lb in links})
    names = [r["name"] for r in routers]
    cconns = [
        {"node1": p, "node2": q, "delay": int(dist[p][q] * 1e3 / c_m_per_s * PS)}
        for i, p in enumerate(names)
        for q in names[i + 1 :]
    ]
    return {
        "formalism": "bell_diagonal",
        "stop_time": int((START_DELAY_S + duration_s) * PS),
        "templates": templates,
        "nodes": routers,
        "qconnections": qconns,
        "cconnections": cconns,
    }


def _shortest_km(edges: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    """All-pairs shortest fibre distance (Floyd-Warshall; a handful of nodes)."""
    names = sorted({n for e in edges for n in e})
    d = {p: {q: (0.0 if p == q else math.inf) for q in names} for p in names}
    for (a, b), km in edges.items():
        d[a][b] = d[b][a] = min(d[a][b], km)
    for k in names:
        for p in names:
            for q in names:
                d[p][q] = min(d[p][q], d[p][k] + d[k][q])
    return d


def run_sequence(net: dict, duration_s: float, seed: int) -> dict:
    """Build and run the scenario in SeQUeNCe; wall time excludes the imports."""
    t_import = time.perf_counter()
    from importlib.metadata import version

    from sequence.app.request_app import RequestApp
    from sequence.entanglement_management.generation import EntanglementGenerationA, EntanglementGenerationB
    from sequence.entanglement_management.purification import PurificationProtocol
    from sequence.entanglement_management.swapping import EntanglementSwappingA, EntanglementSwappingB
    from sequence.topology.router_net_topo import RouterNetTopo

    t_import = time.perf_counter() - t_import

    class CountingApp(RequestApp):
        """RequestApp that also records each delivery's time and state fidelity (Phi+ weight)."""

        def __init__(self, node):
            super().__init__(node)
            self.times, self.fidelities = [], []

        def get_memory(self, info):
            res = self.memo_to_reservation.get(info.index)
            if (
                info.state in ("ENTANGLED", "PURIFIED")
                and res is not None
                and info.remote_node == res.responder
                and info.fidelity >= res.fidelity
            ):
                state = self.node.timeline.quantum_manager.states[info.memory.qstate_key].state
                self.times.append(self.node.timeline.now() / PS)
                self.fidelities.append(float(state[0]))
            super().get_memory(info)

    t0 = time.perf_counter()
    for cls in (EntanglementGenerationA, EntanglementGenerationB):
        cls.set_global_type("single_heralded")
    for cls in (EntanglementSwappingA, EntanglementSwappingB, PurificationProtocol):
        cls.set_formalism("bell_diagonal")
    topo = RouterNetTopo(sequence_config(net, duration_s, seed))
    timeline = topo.get_timeline()
    apps = {n.name: CountingApp(n) for n in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    start = int(START_DELAY_S * PS)
    for a, b in REQUESTS:
        memo = int(net["nodes"][a]["memories"])  # the whole user node; a repeater gives 2x that per request
        apps[a].start(b, start, start + int(duration_s * PS), memo, TARGET_FIDELITY)
    timeline.init()
    timeline.run()
    wall = time.perf_counter() - t0
    for a, _b in REQUESTS:
        if not apps[a].reservation_result:
            raise RuntimeError(f"SeQUeNCe rejected the reservation of request {a}")
    return {
        "simulator": "SeQUeNCe",
        "version": version("sequence"),
        "python": sys.version.split()[0],
        "import_s": t_import,
        "wall_s": wall,
        "simulated_s": duration_s,
        "pairs": [len(apps[a].times) for a, _b in REQUESTS],
        "fidelity": [statistics.fmean(apps[a].fidelities) if apps[a].fidelities else math.nan for a, _b in REQUESTS],
    }


# --------------------------------------------------------------------------- qnet side


def run_qnet(duration_s: float, seed: int) -> dict:
    """Build and run the scenario with qnet's traffic engine; wall time excludes the imports."""
    t_import = time.perf_counter()
    from importlib.metadata import version

    import qiskit_aer  # noqa: F401  (qnet imports Aer lazily: count it as import, as SeQUeNCe's are)
    import qnet
    from qnet.repeater.traffic import Request, simulate_traffic

    t_import = time.perf_counter() - t_import
    t0 = time.perf_counter()
    graph = qnet.load_network(NETWORK)
    run = simulate_traffic(
        graph, [Request(a, b) for a, b in REQUESTS], duration_s=duration_s, seed=seed, memory_policy="reserve"
    )
    wall = time.perf_counter() - t0
    return {
        "simulator": "qnet",
        "version": version("qnet"),
        "python": sys.version.split()[0],
        "import_s": t_import,
        "wall_s": wall,
        "simulated_s": run.simulated_time_s,
        "pairs": [len(r.delivery_time_s) for r in run.requests],
        "fidelity": [float(r.fidelity.mean()) if len(r.fidelity) else math.nan for r in run.requests],
    }


# --------------------------------------------------------------------------- driver


def worker(which: str, duration_s: float, seed: int) -> None:
    """One timed run, printed as one JSON line (what the driver reads back)."""
    if which == "qnet":
        out = run_qnet(duration_s, seed)
    else:
        with open(NETWORK, "rb") as fh:
            out = run_sequence(tomllib.load(fh), duration_s, seed)
    print(json.dumps(out))


def fresh_runs(python: str, which: str, args) -> tuple[list[dict], str | None]:
    """--repeats fresh processes of ``python`` running one worker each: (their results, why they failed or None)."""
    outs = []
    for _ in range(args.repeats):
        cmd = [
            python,
            str(Path(__file__).resolve()),
            "--worker",
            which,
            "--duration",
            str(args.duration),
            "--seed",
            str(args.seed),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
        except OSError as exc:
            return outs, f"{python}: {exc}"
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines() or [f"exit status {proc.returncode}"]
            return outs, lines[-1]
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return outs, None


def sequence_python(args) -> tuple[str | None, str | None]:
    """The interpreter to run SeQUeNCe with, or (None, why not)."""
    if args.sequence_python:
        return args.sequence_python, None
    try:
        import sequence  # noqa: F401
    except ImportError as exc:
        return None, f"`import sequence` fails in {sys.executable} ({exc}); pass --sequence-python"
    return sys.executable, None


def summarise(outs: list[dict]) -> dict:
    """Median wall and import time over the runs; pairs and fidelity of the last run (seeded: every run is the same)."""
    last = dict(outs[-1])
    last["walls_s"] = [o["wall_s"] for o in outs]
    last["same_pairs"] = all(o["pairs"] == last["pairs"] for o in outs)
    last["wall_s"] = statistics.median(o["wall_s"] for o in outs)
    last["import_s"] = statistics.median(o["import_s"] for o in outs)
    last["pairs_per_wall_s"] = sum(last["pairs"]) / last["wall_s"]
    return last


def print_table(rows: list[dict], failures: list[str], args) -> None:
    print(
        f"{len(REQUESTS)} requests ({', '.join('-'.join(r) for r in REQUESTS)}) on {NETWORK.relative_to(ROOT)}, "
        f"{args.duration:g} s simulated, seed {args.seed}; medians of {args.repeats} fresh processes, imports excluded"
    )
    head = (
        f"  {'simulator':10s} {'version':8s} {'python':7s} {'import s':>8s} {'wall s':>8s}  {'pairs per request':18s} "
        f"{'mean F per request':19s} {'pairs/wall-s':>12s} {'ratio':>7s}"
    )
    print(head)
    base = next((r["pairs_per_wall_s"] for r in rows if r["simulator"] == "SeQUeNCe"), None)
    for r in rows:
        ratio = f"{r['pairs_per_wall_s'] / base:6.1f}x" if base else "      -"
        pairs = " / ".join(str(p) for p in r["pairs"])
        fids = " / ".join(f"{f:.4f}" for f in r["fidelity"])
        print(
            f"  {r['simulator']:10s} {r['version']:8s} {r['python']:7s} {r['import_s']:8.2f} {r['wall_s']:8.2f}  "
            f"{pairs:18s} {fids:19s} {r['pairs_per_wall_s']:12.1f} {ratio}"
        )
        name = r["simulator"].lower()
        figure(
            f"{name}.wall_s",
            seconds(r["wall_s"]),
            r["wall_s"],
            f"{r['simulator']} {r['version']}: {args.duration:g} s simulated, median of {args.repeats} fresh processes, imports excluded",
        )
        if base:
            figure(
                f"{name}.pairs_per_wall_s_vs_sequence",
                f"{r['pairs_per_wall_s'] / base:.0f}×",
                r["pairs_per_wall_s"] / base,
                f"{r['simulator']}: delivered pairs per wall second relative to SeQUeNCe",
            )
    for r in rows:
        walls = ", ".join(f"{w:.2f}" for w in r["walls_s"])
        same = "" if r["same_pairs"] else " (pairs differ between runs: not seeded?)"
        print(f"  {r['simulator']} wall times: {walls} s; simulated {r['simulated_s']:g} s{same}")
    for f in failures:
        print(f"  {f}")
    if base:
        print("  ratio: pairs per wall second relative to SeQUeNCe (>1: faster than SeQUeNCe)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=1.0, help="simulated seconds (default 1)")
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per simulator (default 3)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--sequence-python", help="interpreter of a venv that has SeQUeNCe (default: this one, if it has it)"
    )
    p.add_argument("--skip-qnet", action="store_true")
    p.add_argument("--skip-sequence", action="store_true")
    p.add_argument("--worker", choices=("qnet", "sequence"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.duration, args.seed)
        return
    rows, failures = [], []
    if not args.skip_sequence:
        python, why = sequence_python(args)
        outs, why = fresh_runs(python, "sequence", args) if python else ([], why)
        if why:
            failures.append(f"SeQUeNCe could not be run: {why}")
        elif outs:
            rows.append(summarise(outs))
    if not args.skip_qnet:
        outs, why = fresh_runs(sys.executable, "qnet", args)
        if why:
            failures.append(f"qnet could not be run: {why}")
        elif outs:
            rows.append(summarise(outs))
    print_table(rows, failures, args)


if __name__ == "__main__":
    main()

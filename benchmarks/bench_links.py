"""Speed of link evaluation: one circuit on Aer, 10^4 distinct links, and a 512-link chain's links.

Prints medians of --repeats runs. Not a test: nothing here asserts a time.

(a) Per-circuit Aer time of a two_photon link (examples/krutyanskiy2023_230m_link.toml) and a
    single_click link (examples/liu2026_ion_link.toml): --copies copies in one exact Aer run(),
    the wall time divided by the copies. "compiled" is the circuit as compiled now (two_photon:
    one 2-qubit ``kraus`` station per polarisation); "one kraus" the same circuit with the
    station as one ``kraus`` instruction of the full instrument's canonical Kraus list (169
    operators on 4 qubits for two_photon: the form compiled before issue #9); "one superop" the
    full instrument as one Aer ``superop`` instruction.
(b) --links distinct links of each scheme (each a different fibre efficiency and storage time)
    end to end, specs -> LinkResults: ``qnet.link.distinct.run_specs`` (engine aer: compile with
    shared instructions + one ``run_links``; engine batch: the instruction lists, no Qiskit
    circuits), and compile + ``run_links(link_backend="batch")`` on the Qiskit circuits.
(c) The links of a 512-link two_photon chain (benchmarks/bench_chain.py's network, the stations
    two_photon): ``qnet.repeater.path.build_chain`` (specs, each distinct link once, one run),
    engine aer and batch; "every link" runs all 512 circuits as before issue #9; then the whole
    ``simulate_path`` (links + Monte Carlo of --samples deliveries), one run per engine.

    python benchmarks/bench_links.py [--repeats 3] [--copies 200] [--links 10000] [--chain 512]
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from _record import figure, seconds  # benchmarks/_record.py
from _timing import median_time  # benchmarks/_timing.py
from bench_chain import chain_network, hops

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "two_photon": (ROOT / "examples" / "krutyanskiy2023_230m_link.toml", "node_a", "node_b"),
    "single_click": (ROOT / "examples" / "liu2026_ion_link.toml", "alice", "bob"),
}


def example_spec(scheme: str):
    import qnet

    path, a, b = EXAMPLES[scheme]
    return qnet.link_spec(qnet.load_network(path), a, b)


def one_instruction(qc, form: str):
    """The circuit with its station as one ``kraus`` (or ``superop``) instruction of the full instrument."""
    from qiskit.circuit import Instruction

    from qnet.link.station import station_kraus, station_superop

    spec = qc.metadata["spec"]
    out = qc.copy_empty_like()
    for inst in qc.data:
        if not (inst.operation.label or "").startswith("station"):
            out.append(inst)
    photons = [out.qubits[q] for q in qc.metadata["photon_qubits"]]
    args = (spec["scheme"], spec["visibility"], spec["dark_count_probability"])
    params = [np.array(k) for k in station_kraus(*args)] if form == "kraus" else [np.array(station_superop(*args))]
    out.append(Instruction(form, len(photons), 0, params, label=f"station {spec['scheme']}"), photons)
    return out


def per_circuit(qc, copies: int, repeats: int) -> float:
    """Median seconds per circuit of ``copies`` copies in one exact Aer run."""
    from qnet.link.run import _save_instruction, simulator

    def run():
        circuits = []
        for _ in range(copies):
            c = qc.copy()
            c.append(_save_instruction(c.num_qubits), c.qubits, copy=False)
            circuits.append(c)
        simulator().run(circuits, shots=1).result()

    run()
    return median_time(run, repeats)[0] / copies


def distinct_specs(scheme: str, n: int):
    base = example_spec(scheme)
    rng = np.random.default_rng(7)
    eta = rng.uniform(0.01, 0.5, (n, 2))
    t = rng.uniform(1e-6, 1e-3, (n, 2))
    return [
        replace(
            base,
            efficiency_a=float(e[0]),
            efficiency_b=float(e[1]),
            storage_time_a_s=float(s[0]),
            storage_time_b_s=float(s[1]),
        )
        for e, s in zip(eta, t)
    ]


def end_to_end(specs, engine: str):
    if engine == "batch circuits":
        import qnet

        return qnet.run_links([qnet.compile_link(s, share_instructions=True) for s in specs], link_backend="batch")
    from qnet.link.distinct import run_specs

    return run_specs(specs, link_backend=engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--links", type=int, default=10000)
    parser.add_argument("--chain", type=int, default=512)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    import qiskit
    import qiskit_aer

    import qnet
    from qnet.repeater.path import build_chain, simulate_path

    print(
        f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}, {platform.processor() or platform.machine()}"
    )
    print(f"(a) one link circuit on Aer (median of {args.repeats} runs of {args.copies} copies, per circuit):")
    for scheme in ("two_photon", "single_click"):
        qc = qnet.compile_link(example_spec(scheme)).circuit
        t_new = per_circuit(qc, args.copies, args.repeats)
        slow = scheme == "two_photon"  # 50 ms a circuit: fewer copies
        t_old = per_circuit(
            one_instruction(qc, "kraus"), max(1, args.copies // 4) if slow else args.copies, args.repeats
        )
        t_sup = per_circuit(one_instruction(qc, "superop"), args.copies, args.repeats)
        print(
            f"    {scheme:12s} compiled {t_new * 1e3:7.3f} ms; station as one kraus {t_old * 1e3:7.3f} ms "
            f"({t_old / t_new:.1f}x), as one superop {t_sup * 1e3:7.3f} ms ({t_sup / t_new:.1f}x)"
        )
        figure(
            f"circuit.{scheme}.compiled_ms",
            f"{t_new * 1e3:.2f} ms",
            t_new * 1e3,
            f"one {scheme} link circuit on Aer, as compiled",
        )
        figure(
            f"circuit.{scheme}.one_kraus_ms",
            f"{t_old * 1e3:.2f} ms",
            t_old * 1e3,
            "the same with its station as one kraus instruction of the full instrument (before issue #9)",
        )
    print(f"(b) {args.links} distinct links, specs -> results (median of {args.repeats}):")
    for scheme in ("two_photon", "single_click"):
        specs = distinct_specs(scheme, args.links)
        for engine in ("aer", "batch", "batch circuits"):
            end_to_end(specs[:10], engine)
            t, res = median_time(lambda: end_to_end(specs, engine), args.repeats)
            print(f"    {scheme:12s} {engine:14s} {t:7.3f} s = {args.links / t:9,.0f} links/s")
            key = engine.replace(" ", "_")
            figure(
                f"distinct.{scheme}.{key}_s",
                seconds(t),
                t,
                f"{args.links} distinct {scheme} links, spec to result, engine {engine}",
            )
    print(f"(c) the links of a {args.chain}-link two_photon chain (build_chain; median of {args.repeats}):")
    data = chain_network(args.chain)
    for node in data["nodes"].values():
        if node["kind"] == "station":
            node.update(scheme="two_photon", visibility=0.9)
            node.pop("phase_noise_rad")
        else:
            node.pop("bright_state_population")
    graph = qnet.network_from_dict(data)
    path = hops(args.chain)
    for engine in ("aer", "batch"):
        t, _ = median_time(lambda: build_chain(graph, path, link_backend=engine), args.repeats)
        print(f"    distinct links once, engine {engine:5s}: {t:7.3f} s")
        figure(
            f"chain.{args.chain}.links.{engine}_s",
            seconds(t),
            t,
            f"the links of a {args.chain}-link two_photon chain, each distinct link once, engine {engine}",
        )
    specs = build_chain(graph, path)[1]
    t, _ = median_time(lambda: qnet.run_links([qnet.compile_link(s) for s in specs]), args.repeats)
    print(f"    every link ({len(specs)} circuits, one run, engine aer): {t:7.3f} s")
    old = [one_instruction(qnet.compile_link(s).circuit, "kraus") for s in specs]
    from qnet.link.run import _save_instruction, simulator

    def run_old():
        circuits = [c.copy() for c in old]
        for c in circuits:
            c.append(_save_instruction(c.num_qubits), c.qubits, copy=False)
        simulator().run(circuits, shots=1).result()

    t, _ = median_time(run_old, 1)
    print(f"    every link, station as one kraus (before issue #9; Aer run only, one run): {t:7.3f} s")
    for engine in ("aer", "batch"):
        t, r = median_time(lambda: simulate_path(graph, path, samples=args.samples, seed=1, link_backend=engine), 1)
        print(f"    simulate_path, {args.samples} deliveries, engine {engine:5s}: {t:7.3f} s (F = {r.fidelity:.4f})")
        figure(
            f"chain.{args.chain}.monte_carlo.{engine}_s",
            seconds(t),
            t,
            f"simulate_path of the {args.chain}-link two_photon chain, {args.samples} deliveries, engine {engine}",
        )


if __name__ == "__main__":
    main()

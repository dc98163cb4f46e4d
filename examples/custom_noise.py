"""Change a compiled link circuit with a noise channel of your own and compare on Aer.

The compiled circuit is an ordinary ``QuantumCircuit``: here we add a depolarising error
(probability p) on memory A after the herald, e.g. a crude model of a noisy local gate, run
both circuits on Aer in one call, and compare with the expected F' = (1 - p) F + p/4
(a single-qubit depolarising channel on one half of a two-qubit state).

    python examples/custom_noise.py [--p 0.05]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import qnet

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=float, default=0.05, help="depolarising probability on memory A")
    args = parser.parse_args(argv)

    from qiskit_aer.noise import depolarizing_error

    graph = qnet.load_network(HERE / "liu2026_ion_link.toml")
    link = qnet.compile_link(qnet.link_spec(graph, "alice", "bob"))
    print(link.circuit.draw(fold=120))

    noisy_circuit = link.circuit.copy()
    memory_a = link.memory_qubits[0]
    noisy_circuit.append(depolarizing_error(args.p, 1).to_instruction(), [memory_a])
    noisy = dataclasses.replace(link, circuit=noisy_circuit)

    base, changed = qnet.run_links([link, noisy])
    expected = (1 - args.p) * base.fidelity + args.p / 4
    print(f"fidelity, compiled link        : {base.fidelity:.6f}")
    print(f"fidelity, with your noise       : {changed.fidelity:.6f}")
    print(f"expected (1-p) F + p/4          : {expected:.6f}")
    print(f"success probability (unchanged) : {base.success_probability:.6g} vs {changed.success_probability:.6g}")
    return {"base": base.fidelity, "changed": changed.fidelity, "expected": expected}


if __name__ == "__main__":
    main()

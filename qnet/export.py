"""Save and load compiled link circuits as QPY, Qiskit's own binary circuit format.

QPY keeps the raw ``kraus`` noise instructions (their matrices are the instruction
parameters) and the circuit metadata (scheme, qubit roles, herald records and corrections,
the link's physical parameters), so a Qiskit user can ``qiskit.qpy.load`` a file, inspect or
change the circuit, add ``save_density_matrix`` and run it on Aer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = ["save_circuits", "load_circuits", "circuit_filename", "circuits_equal"]


def circuit_filename(network_path: str | Path, a: str, b: str) -> str:
    """File name used for the link ``a``-``b`` of a network file: ``<stem>__<a>-<b>.qpy``."""
    return f"{Path(network_path).stem}__{a}-{b}.qpy"


def save_circuits(circuits: Iterable, path: str | Path) -> Path:
    """Write circuits to one QPY file."""
    from qiskit import qpy

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        qpy.dump(list(circuits), fh)
    return path


def load_circuits(path: str | Path) -> list:
    """Read the circuits of a QPY file."""
    from qiskit import qpy

    with open(path, "rb") as fh:
        return list(qpy.load(fh))


def circuits_equal(first, second, atol: float = 1e-12) -> bool:
    """True when two circuits apply the same instructions (names, qubits, parameters within ``atol``)."""
    if first.num_qubits != second.num_qubits or len(first.data) != len(second.data):
        return False
    for x, y in zip(first.data, second.data):
        if x.operation.name != y.operation.name:
            return False
        if [first.find_bit(q).index for q in x.qubits] != [second.find_bit(q).index for q in y.qubits]:
            return False
        px, py = x.operation.params, y.operation.params
        if len(px) != len(py):
            return False
        for a, b in zip(px, py):
            a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
            if a.shape != b.shape or not np.allclose(a, b, atol=atol, rtol=0):
                return False
    return True

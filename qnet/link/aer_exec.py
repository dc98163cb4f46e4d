"""Run link circuits on Aer and read back their saved density matrices: the one place qnet calls Aer for them.

Aer's public ``AerSimulator.run(circuits).result()`` submits the job to a thread, runs it, then
formats the output: ``Result.from_dict`` and a ``DensityMatrix`` around every saved state,
which for a link's 4-6 qubit circuit costs about as much as Aer's own simulation of it. The
job function behind ``run()``, ``AerSimulator._execute_circuits_job(..., format_result=False)``,
runs the same circuits through the same steps (Aer's ``_compile``, ``assemble_circuits``,
the C++ controller) and returns the raw output, whose saved states are already numpy arrays.

That function is private to Aer, so it is used only here, and only while it behaves: when it
is missing, takes other arguments, or returns anything but a successful output with one
(2^n, 2^n) complex array per circuit, :func:`density_matrices` runs the circuits again through
the public ``run().result()`` (which also raises Aer's own errors for a failed simulation).
``QNET_AER_PUBLIC=1`` in the environment, or ``public=True``, always takes the public path.
Both paths simulate the same circuits with the same options; the tests check that they give
the same density matrices for every scheme qnet compiles.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

__all__ = ["PUBLIC_ENV", "density_matrices", "public_only"]

#: Environment variable that forces Aer's public ``run().result()`` path when set to 1/true/yes.
PUBLIC_ENV = "QNET_AER_PUBLIC"


def public_only() -> bool:
    """Whether ``QNET_AER_PUBLIC`` asks for Aer's public ``run().result()`` path only.

    Returns
    -------
    bool
        True when the variable is 1, true or yes (any case).

    Examples
    --------
    >>> import os
    >>> old = os.environ.pop(PUBLIC_ENV, None)
    >>> public_only()
    False
    >>> os.environ[PUBLIC_ENV] = "1"; public_only()
    True
    >>> _ = os.environ.pop(PUBLIC_ENV) if old is None else os.environ.update({PUBLIC_ENV: old})
    """
    return os.environ.get(PUBLIC_ENV, "").strip().lower() in ("1", "true", "yes")


def density_matrices(
    simulator: Any, circuits: Sequence[Any], options: dict[str, Any], label: str = "rho", public: bool | None = None
) -> list[np.ndarray]:
    """The density matrix each circuit saves under ``label``, from one Aer run of all of them.

    Parameters
    ----------
    simulator : qiskit_aer.AerSimulator
        The simulator (density-matrix method).
    circuits : sequence of QuantumCircuit
        Circuits that end with a ``save_density_matrix`` of all their qubits labelled ``label``.
    options : dict
        Aer run options (``shots``, ``fusion_enable``, ``max_parallel_threads``, ...).
    label : str, default "rho"
        The save instruction's label.
    public : bool, optional
        True: Aer's public ``run().result()``; False: the raw job output where it behaves;
        None (default): False unless ``QNET_AER_PUBLIC`` asks for the public path.

    Returns
    -------
    list of numpy.ndarray
        One complex (2^n, 2^n) array per circuit, in order.

    Raises
    ------
    qiskit.exceptions.QiskitError, qiskit_aer.AerError
        As Aer's ``run().result()`` raises them for a failed simulation.

    Examples
    --------
    >>> from qiskit import QuantumCircuit
    >>> from qiskit_aer import AerSimulator
    >>> qc = QuantumCircuit(2); _ = qc.h(0); _ = qc.cx(0, 1); _ = qc.save_density_matrix(label="rho")
    >>> sim = AerSimulator(method="density_matrix")
    >>> fast, = density_matrices(sim, [qc], {"shots": 1})
    >>> slow, = density_matrices(sim, [qc], {"shots": 1}, public=True)
    >>> fast.shape, float(fast[0, 3].real), bool(np.array_equal(fast, slow))
    ((4, 4), 0.5, True)
    """
    if not circuits:
        return []
    if public is None:
        public = public_only()
    if not public:
        states = _raw_states(simulator, circuits, options, label)
        if states is not None:
            return states
    result = simulator.run(list(circuits), **options).result()
    return [np.asarray(result.data(i)[label]) for i in range(len(circuits))]


def _raw_states(simulator: Any, circuits: Sequence[Any], options: dict[str, Any], label: str) -> list | None:
    """The saved states from Aer's unformatted job output, or None when it is not what qnet expects."""
    try:
        output = simulator._execute_circuits_job(list(circuits), None, dict(options), format_result=False)
        if not isinstance(output, dict) or not output.get("success", False):
            return None
        results = output["results"]
        if len(results) != len(circuits):
            return None
        states = []
        for circuit, result in zip(circuits, results):
            if not result.get("success", False):
                return None
            rho = result["data"][label]
            dim = 2**circuit.num_qubits
            if not isinstance(rho, np.ndarray) or rho.shape != (dim, dim) or rho.dtype != np.complex128:
                return None
            states.append(rho)
        return states
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
        return None

"""Run link circuits on Aer and read back their saved density matrices: the one place qnet calls Aer for them.

Aer's public ``AerSimulator.run(circuits).result()`` submits the job to a thread, runs it, then
formats the output: ``Result.from_dict`` and a ``DensityMatrix`` around every saved state,
which for a link's 4-6 qubit circuit costs about as much as Aer's own simulation of it. The
job function behind ``run()``, ``AerSimulator._execute_circuits_job(..., format_result=False)``,
runs the same circuits through the same steps (Aer's ``_compile``, ``assemble_circuits``,
the C++ controller) and returns the raw output, whose saved states are already numpy arrays.

Of those steps, Aer's ``assemble_circuits`` (Qiskit instructions -> Aer operations, in Python)
costs as much as the simulation of a link circuit. Link circuits hold a few kinds of
instruction only (gates without conditions or parameters, Kraus channels, barriers, the save
instruction): :func:`_assemble` turns them into the same Aer operations with the same calls
Aer's assembler makes, skipping its general checks (conditions, classical variables,
controlled-state names) and hands them to Aer's controller with Aer's own run configuration
(Aer's ``_compile`` step, which rewrites control flow and moves quantum errors into a noise
model, has nothing to do on them); a circuit with anything else, or a run with a noise model,
goes through Aer's job function whole.

All of this is private to Aer, so it is used only here, and only while it behaves: when a
name is missing, takes other arguments, raises, or the run returns anything but a successful output
with one (2^n, 2^n) complex array per circuit, :func:`density_matrices` runs the circuits
again through the public ``run().result()`` (which also raises Aer's own errors for a failed
simulation). ``QNET_AER_PUBLIC=1`` in the environment, or ``public=True``, always takes the
public path. And because a newer Aer could change what its private calls mean without failing,
the raw path is used in a process only after it has reproduced the public path on a check
circuit holding every instruction kind :func:`_assemble` takes (:func:`raw_path_verified`,
once per process, a few milliseconds). Both paths simulate the same circuits with the same options; the tests check
that they give the same density matrices for every scheme qnet compiles.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

__all__ = ["PUBLIC_ENV", "density_matrices", "public_only", "raw_path_verified"]

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
    if not public and raw_path_verified():
        states = _raw_states(simulator, circuits, options, label)
        if states is not None:
            return states
    result = simulator.run(list(circuits), **options).result()
    return [np.asarray(result.data(i)[label]) for i in range(len(circuits))]


#: Whether the raw path reproduced the public one in this process (``raw_path_verified``); None: not yet asked.
_VERIFIED: list[bool] = []


def raw_path_verified() -> bool:
    """Whether the raw path gives the public path's states on the check circuit (asked once per process).

    The check circuit (:func:`_check_circuit`) holds every instruction kind qnet's assembler
    takes; it runs through both paths on a simulator of its own, and the states must agree to
    1e-12. Anything else (a mismatch, an exception) keeps this process on the public path.

    Returns
    -------
    bool

    Examples
    --------
    >>> raw_path_verified()  # the installed Aer reproduces itself
    True
    """
    if not _VERIFIED:
        try:
            from qiskit_aer import AerSimulator

            sim = AerSimulator(method="density_matrix")
            circuit = _check_circuit()
            options = {"shots": 1, "fusion_enable": False}
            raw = _raw_states(sim, [circuit], options, "rho")
            public = np.asarray(sim.run([circuit], **options).result().data(0)["rho"])
            ok = raw is not None and bool(np.max(np.abs(raw[0] - public)) <= 1e-12)
        except Exception:
            ok = False
        _VERIFIED.append(ok)
    return _VERIFIED[0]


def _check_circuit() -> Any:
    """Three qubits through every kind :func:`_assemble` takes: the gates, a barrier, Kraus channels on
    one and two qubits (not unital, so qubit order and matrix orientation show), a global phase, the save."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction
    from qiskit_aer.library import SaveDensityMatrix

    qc = QuantumCircuit(3, global_phase=0.4)
    qc.ry(0.7, 0)
    qc.h(1)
    qc.cx(0, 2)
    qc.x(1)
    qc.barrier()

    def damping(g: float) -> list[np.ndarray]:
        return [np.array([[1, 0], [0, np.sqrt(1 - g)]]), np.array([[0, np.sqrt(g)], [0, 0]])]

    qc.append(Instruction("kraus", 1, 0, damping(0.3)), [2])
    pair = [np.kron(a, b) for a in damping(0.5) for b in damping(0.2)]  # a different rate on each qubit
    qc.append(Instruction("kraus", 2, 0, pair), [1, 0])
    qc.append(SaveDensityMatrix(3, label="rho"), qc.qubits)
    return qc


def _raw_states(simulator: Any, circuits: Sequence[Any], options: dict[str, Any], label: str) -> list | None:
    """The saved states from Aer's unformatted job output, or None when it is not what qnet expects."""
    try:
        output = _raw_output(simulator, list(circuits), options)
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
    except Exception:  # another Aer's internals (or a failed run): the public path runs it again, and raises
        return None


def _raw_output(simulator: Any, circuits: list, options: dict[str, Any]) -> Any:
    """Aer's unformatted output: the steps of its job function, with :func:`_assemble` where it applies."""
    if getattr(simulator, "_target", None) is not None:  # a backend's basis gates: Aer's own assembler
        return simulator._execute_circuits_job(circuits, None, dict(options), format_result=False)
    noise_model = options.get("noise_model", getattr(simulator.options, "noise_model", None))
    aer_circuits = _assemble(circuits) if noise_model is None else None
    if aer_circuits is None:
        return simulator._execute_circuits_job(circuits, None, dict(options), format_result=False)
    from qiskit_aer.backends.aer_compiler import generate_aer_config

    # Aer's _compile would hand these circuits back as they are (no control flow, initialize or
    # quantum-error instruction: _assemble accepts none) with no noise model
    config = generate_aer_config(circuits, simulator.options, **options)
    return simulator._execute_circuits(aer_circuits, None, config)


#: Gates :func:`_assemble` hands to Aer as ``gate`` operations (those of qnet's link circuits).
_GATES = frozenset({"ry", "cx", "x", "h"})


def _assemble(circuits: Sequence[Any]) -> list | None:
    """Aer circuits of ``circuits`` as Aer's ``assemble_circuits`` makes them, or None for anything else.

    The calls are those of Aer's ``assemble_circuit``/``_assemble_op`` for circuits without
    classical bits, variables or parameters, made of :data:`_GATES`, ``kraus``, ``barrier``
    (no Aer operation) and ``save_density_matrix``.
    """
    from qiskit_aer.backends.aer_compiler import CircuitHeader
    from qiskit_aer.backends.controller_wrappers import AerCircuit

    out = []
    indices: dict[tuple, dict] = {}
    for i, circuit in enumerate(circuits):
        if circuit.num_clbits or circuit.num_vars or circuit.num_parameters:
            return None
        n = circuit.num_qubits
        phase = float(circuit.global_phase)
        qubits = tuple(circuit.qubits)
        where = indices.get(qubits)
        if where is None:
            where = indices[qubits] = {q: j for j, q in enumerate(qubits)}
        aer = AerCircuit()
        aer.set_header(
            CircuitHeader(
                n_qubits=n,
                qreg_sizes=[[r.name, r.size] for r in circuit.qregs],
                memory_slots=0,
                creg_sizes=[],
                name=circuit.name,
                global_phase=phase,
            )
        )
        aer.num_qubits = n
        aer.num_memory = 0
        aer.global_phase_angle = phase
        for inst in circuit.data:
            op = inst.operation
            name = op.name
            if name == "barrier":
                continue
            targets = [where[q] for q in inst.qubits]
            if name == "kraus":
                aer.kraus(targets, op.params, -1, None)
            elif name in _GATES:
                params = op.params
                if any(type(p) is not float for p in params):
                    return None
                aer.gate(name, targets, params, [], -1, None, op.label or name)
            elif name == "save_density_matrix":
                aer.save_state(targets, name, op._subtype, op.label or name)
            else:
                return None
        aer.circ_id = i
        out.append(aer)
    return out

"""Save and load compiled link circuits as QPY, Qiskit's own binary circuit format (``qnet compile``).

QPY keeps the raw ``kraus`` noise instructions (their matrices are the instruction
parameters) and the circuit metadata (scheme, qubit roles, herald records and corrections,
the link's physical parameters), so a Qiskit user can ``qiskit.qpy.load`` a file, inspect or
change the circuit, add ``save_density_matrix`` and run it on Aer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from qnet.errors import QnetError
from qnet.network.hardware import NAME_RULE, is_valid_name

__all__ = ["save_circuits", "load_circuits", "circuit_filename", "circuits_equal", "kraus_choi"]


def circuit_filename(network_path: str | Path, a: str, b: str) -> str:
    """File name used for the link ``a``-``b`` of a network file: ``<stem>__<a>-<b>.qpy``.

    Parameters
    ----------
    network_path : str or Path
        The network file.
    a, b : str
        The link's memory nodes.

    Returns
    -------
    str

    Raises
    ------
    QnetError
        If a node name could reach outside the output folder (it must follow
        :data:`~qnet.network.hardware.NAME_RULE`, as every name a network file loads does).

    Examples
    --------
    >>> circuit_filename("examples/liu2026_ion_link.toml", "alice", "bob")
    'liu2026_ion_link__alice-bob.qpy'
    >>> circuit_filename("net.toml", "x/../../escaped", "bob")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: node name 'x/../../escaped' cannot name a file: use letters, digits, '_' and '-' only ...
    """
    for name in (a, b):
        if not is_valid_name(name):
            raise QnetError(f"node name {name!r} cannot name a file: use {NAME_RULE}")
    return f"{Path(network_path).stem}__{a}-{b}.qpy"


def save_circuits(circuits: Iterable, path: str | Path) -> Path:
    """Write circuits to one QPY file, unless it already holds the same circuits.

    QPY output is not byte-reproducible (Qiskit numbers the definitions of custom instructions
    such as ``kraus`` in an arbitrary order), so rewriting an unchanged file would churn it;
    a file whose circuits are :func:`circuits_equal` to ``circuits``, with the same names and
    metadata, is left as it is.

    Parameters
    ----------
    circuits : iterable of qiskit.QuantumCircuit
        The circuits (e.g. :attr:`CompiledLink.circuit <qnet.link.circuit.CompiledLink>`).
    path : str or Path
        The QPY file; its folder is created when missing.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> link = qnet.compile_link(qnet.link_spec(g, "alice", "bob"))
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_circuits([link.circuit], Path(folder) / "liu.qpy")
    ...     back = load_circuits(path)
    >>> len(back), back[0].name, circuits_equal(back[0], link.circuit), back[0].metadata == link.circuit.metadata
    (1, 'link_alice_bob', True, True)
    """
    from qiskit import qpy

    circuits = list(circuits)
    path = Path(path)
    if path.is_file() and _same_file_content(path, circuits):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        qpy.dump(circuits, fh)
    return path


def _same_file_content(path: Path, circuits: list) -> bool:
    try:
        saved = load_circuits(path)
    except Exception:  # noqa: BLE001 - an unreadable or foreign file is simply overwritten
        return False
    return len(saved) == len(circuits) and all(
        (a.name, a.metadata) == (b.name, b.metadata) and circuits_equal(a, b) for a, b in zip(saved, circuits)
    )


def load_circuits(path: str | Path) -> list:
    """Read the circuits of a QPY file.

    Parameters
    ----------
    path : str or Path
        A QPY file (:func:`save_circuits`).

    Returns
    -------
    list of qiskit.QuantumCircuit

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> link = qnet.compile_link(qnet.link_spec(g, "alice", "bob"))
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_circuits([link.circuit], Path(folder) / "liu.qpy")
    ...     back = load_circuits(path)
    >>> len(back), back[0].name, circuits_equal(back[0], link.circuit), back[0].metadata == link.circuit.metadata
    (1, 'link_alice_bob', True, True)
    """
    from qiskit import qpy

    with open(path, "rb") as fh:
        return list(qpy.load(fh))


def kraus_choi(kraus) -> np.ndarray:
    """Choi matrix J = sum_i vec(K_i) vec(K_i)^dagger of a Kraus set (row-major vec).

    Two Kraus sets describe the same channel exactly when their Choi matrices (equivalently,
    superoperators) are equal: {K_i} and {sum_j U_ij K_j} (U unitary, or an isometry when the
    sets differ in length) give the same J. This is how ``qiskit_aer.noise.QuantumError``
    compares channels too.

    Parameters
    ----------
    kraus : sequence of array_like
        Kraus operators (d x d each).

    Returns
    -------
    numpy.ndarray
        J (d^2 x d^2).

    Examples
    --------
    >>> import numpy as np
    >>> p = 0.2
    >>> ops = [np.sqrt(1 - p) * np.eye(2), np.sqrt(p) * np.diag([1, -1])]  # dephasing
    >>> mixed = [(ops[0] + ops[1]) / np.sqrt(2), (ops[0] - ops[1]) / np.sqrt(2)]  # a unitary mix of them
    >>> kraus_choi(ops).shape, bool(np.allclose(kraus_choi(ops), kraus_choi(mixed)))
    ((4, 4), True)
    """
    mats = np.asarray([np.asarray(k, dtype=complex) for k in kraus])
    vecs = mats.reshape(len(mats), -1)
    return vecs.T @ vecs.conj()


def _same_params(first, second, atol: float) -> bool:
    if len(first) != len(second):
        return False
    for a, b in zip(first, second):
        try:
            a, b = np.asarray(a, dtype=complex), np.asarray(b, dtype=complex)
        except (TypeError, ValueError):  # symbolic parameters: compare as objects
            if a != b:
                return False
            continue
        if a.shape != b.shape or not np.allclose(a, b, atol=atol, rtol=0):
            return False
    return True


def _same_kraus(first, second, atol: float) -> bool:
    shapes = {np.shape(k) for k in (*first, *second)}
    return len(shapes) == 1 and np.allclose(kraus_choi(first), kraus_choi(second), atol=atol, rtol=0)


def circuits_equal(first, second, atol: float = 1e-12) -> bool:
    """True when two circuits apply the same instructions.

    Structure is compared exactly: qubit and clbit counts, and per instruction its name, label,
    qubits and clbits. Parameters are compared within ``atol``; a ``kraus`` instruction is a
    channel, compared by its Choi matrix (:func:`kraus_choi`), not by its Kraus list, which
    is not unique (an eigen-decomposition's signs and degenerate-eigenvector order depend on
    the LAPACK build). ``atol`` = 1e-12: the Choi matrix of a trace-preserving channel has
    entries of modulus <= 1 (its partial trace is the identity), and forming it from a few
    hundred Kraus operators rounds each entry by at most ~1e-13, while any change of a
    physical parameter that shows in a result moves entries by far more.

    Parameters
    ----------
    first, second : qiskit.QuantumCircuit
        The circuits.
    atol : float, default 1e-12
        Absolute tolerance on parameters and Choi matrices.

    Returns
    -------
    bool

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> near = qnet.compile_link(qnet.link_spec(g, "alice", "bob")).circuit
    >>> far = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml",
    ...     ["fibres.alice-station.length_km=6"]), "alice", "bob")).circuit
    >>> circuits_equal(near, near.copy()), circuits_equal(near, far)
    (True, False)
    """
    if (first.num_qubits, first.num_clbits, len(first.data)) != (
        second.num_qubits,
        second.num_clbits,
        len(second.data),
    ):
        return False
    for x, y in zip(first.data, second.data):
        if (x.operation.name, x.operation.label) != (y.operation.name, y.operation.label):
            return False
        if [first.find_bit(q).index for q in x.qubits] != [second.find_bit(q).index for q in y.qubits]:
            return False
        if [first.find_bit(c).index for c in x.clbits] != [second.find_bit(c).index for c in y.clbits]:
            return False
        px, py = x.operation.params, y.operation.params
        same = _same_kraus(px, py, atol) if x.operation.name == "kraus" else _same_params(px, py, atol)
        if not same:
            return False
    return True

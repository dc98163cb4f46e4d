"""circuits/ holds the compiled circuits of the shipped examples; they must not drift."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.link.export import circuit_filename, circuits_equal, load_circuits
from qnet.link.spec import elementary_links

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def _links():
    for path in EXAMPLES:
        graph = qnet.load_network(path)
        for a, b, s in elementary_links(graph):
            yield path, graph, a, b, s


@pytest.mark.parametrize("path, graph, a, b, s", list(_links()), ids=lambda x: getattr(x, "name", None))
def test_saved_circuit_matches_the_compiler(path, graph, a, b, s):
    saved = ROOT / "circuits" / circuit_filename(path, a, b)
    assert saved.exists(), f"run: qnet compile {' '.join(str(p.relative_to(ROOT)) for p in EXAMPLES)} -o circuits"
    loaded = load_circuits(saved)[0]
    compiled = qnet.compile_link(qnet.link_spec(graph, a, b, s))
    assert circuits_equal(loaded, compiled.circuit)
    assert loaded.metadata["heralds"] == compiled.metadata["heralds"]


def test_a_loaded_circuit_runs_on_aer_like_the_compiled_one():
    path, graph, a, b, s = next(_links())
    compiled = qnet.compile_link(qnet.link_spec(graph, a, b, s))
    loaded = load_circuits(ROOT / "circuits" / circuit_filename(path, a, b))[0]
    import dataclasses

    fresh, reloaded = qnet.run_links([compiled, dataclasses.replace(compiled, circuit=loaded)])
    assert np.allclose(fresh.density_matrix, reloaded.density_matrix, atol=1e-14)


def test_circuits_equal_sees_a_changed_parameter():
    path, graph, a, b, s = next(_links())
    one = qnet.compile_link(qnet.link_spec(graph, a, b, s)).circuit
    other = qnet.compile_link(qnet.link_spec(qnet.load_network(path, [f"fibres.{a}-{s}.length_km=7"]), a, b, s)).circuit
    assert not circuits_equal(one, other)


# ------------------------------------------------ channel identity: Kraus lists are not unique
def _random_isometry(rng, rows: int, cols: int) -> np.ndarray:
    """A Haar-ish random isometry V (rows x cols, V^dagger V = 1) from a complex Gaussian QR."""
    g = rng.normal(size=(rows, cols)) + 1j * rng.normal(size=(rows, cols))
    q, r = np.linalg.qr(g)
    return q * (np.diag(r) / np.abs(np.diag(r)))


def _mixed(circuit, rng, extra: int = 0):
    """``circuit`` with every kraus list {K_j} replaced by {sum_j V_ij K_j}: the same channels.

    V is a random isometry with ``extra`` more rows than operators, followed by a random
    permutation and random phases: what another LAPACK's eigenvectors (other signs, other
    order, another basis of a degenerate eigenspace) would have produced.
    """
    from qiskit.circuit import Instruction

    out = circuit.copy()
    for i, inst in enumerate(out.data):
        op = inst.operation
        if op.name != "kraus":
            continue
        ks = np.array([np.asarray(k, dtype=complex) for k in op.params])
        v = _random_isometry(rng, len(ks) + extra, len(ks))
        v = v[rng.permutation(len(v))] * np.exp(1j * rng.uniform(0, 2 * np.pi, size=(len(v), 1)))
        mixed = [np.array(m) for m in np.einsum("ij,jkl->ikl", v, ks)]
        assert not np.allclose(mixed[0], ks[0])  # the lists do differ entry by entry
        out.data[i] = inst.replace(operation=Instruction("kraus", op.num_qubits, 0, mixed, label=op.label))
    return out


@pytest.mark.parametrize(
    "path, graph, a, b, s",
    [x for x in _links() if x[0].stem in ("krutyanskiy2023_230m_link", "liu2026_ion_link")],  # one of each scheme
    ids=lambda x: getattr(x, "name", None),
)
@pytest.mark.parametrize("extra", [0, 3])
def test_circuits_equal_ignores_how_a_channel_is_written(path, graph, a, b, s, extra):
    """A unitary (or isometric) mix of each Kraus list is the same channel: still equal."""
    compiled = qnet.compile_link(qnet.link_spec(graph, a, b, s)).circuit
    mixed = _mixed(compiled, np.random.default_rng(7), extra)
    assert circuits_equal(compiled, mixed)
    assert circuits_equal(load_circuits(ROOT / "circuits" / circuit_filename(path, a, b))[0], mixed)


@pytest.mark.parametrize("override", ["nodes.bsm.visibility=0.765001", "nodes.bsm.dark_count_probability=1e-9"])
def test_circuits_equal_sees_a_different_station_channel(override):
    """A station channel changed by ~1e-6 (visibility) or ~1e-9 (dark counts) is not the same channel,
    however its Kraus list is mixed."""
    path = ROOT / "examples" / "krutyanskiy2023_230m_link.toml"
    one = qnet.compile_link(qnet.link_spec(qnet.load_network(path), "node_a", "node_b")).circuit
    other = qnet.compile_link(qnet.link_spec(qnet.load_network(path, [override]), "node_a", "node_b")).circuit
    assert not circuits_equal(one, other)
    assert not circuits_equal(_mixed(one, np.random.default_rng(3)), other)


def test_circuits_equal_sees_a_relabelled_instruction():
    from qiskit.circuit import Instruction

    path, graph, a, b, s = next(_links())
    one = qnet.compile_link(qnet.link_spec(graph, a, b, s)).circuit
    other = one.copy()
    inst = other.data[-1]
    op = inst.operation
    other.data[-1] = inst.replace(operation=Instruction("kraus", op.num_qubits, 0, list(op.params), label="other"))
    assert circuits_equal(one, one.copy()) and not circuits_equal(one, other)


def test_kraus_choi_is_the_channel():
    """Choi matrix of the bit-flip channel, built by hand: J = sum_i vec(K_i) vec(K_i)^dagger."""
    from qnet.link.export import kraus_choi

    p = 0.3
    ks = [math.sqrt(1 - p) * np.eye(2), math.sqrt(p) * np.array([[0.0, 1.0], [1.0, 0.0]])]
    j = np.zeros((4, 4), dtype=complex)
    j[np.ix_([0, 3], [0, 3])] = 1 - p  # vec(I) = e0 + e3
    j[np.ix_([1, 2], [1, 2])] = p  # vec(X) = e1 + e2
    np.testing.assert_allclose(kraus_choi(ks), j, atol=1e-15)


# ------------------------------------------------------- the station's Kraus list is canonical
SCHEMES_AND_VALUES = [("single_click", 0.97, 1e-6), ("two_photon", 0.765, 0.0), ("two_photon", 0.9, 1e-3)]


def _eigen_rows(element: np.ndarray, rng) -> np.ndarray:
    """Rows sqrt(l) u^dagger of an eigen-decomposition, with eigenvectors shuffled, rephased and
    rotated within (near-)degenerate eigenspaces: a decomposition another LAPACK might return."""
    vals, vecs = np.linalg.eigh(element)
    keep = vals > 1e-14
    vals, vecs = vals[keep], vecs[:, keep]
    order = rng.permutation(len(vals))
    vals, vecs = vals[order], vecs[:, order] * np.exp(1j * rng.uniform(0, 2 * np.pi, len(vals)))
    rows = np.sqrt(vals)[:, None] * vecs.conj().T
    groups = np.round(np.log10(vals), 8)
    for g in np.unique(groups):  # any unitary within a degenerate eigenspace
        idx = np.flatnonzero(groups == g)
        rows[idx] = _random_isometry(rng, len(idx), len(idx)) @ rows[idx]
    return rows


@pytest.mark.parametrize("scheme, visibility, dark", SCHEMES_AND_VALUES)
def test_station_kraus_reproduces_the_povm_and_is_trace_preserving(scheme, visibility, dark):
    from qnet.link.station import station_kraus, station_povm

    ops = station_kraus(scheme, visibility, dark)
    dim = ops[0].shape[0]
    np.testing.assert_allclose(sum(k.conj().T @ k for k in ops), np.eye(dim), atol=1e-13)
    for pattern, element in station_povm(scheme, visibility, dark).items():
        out = sum(bit << j for j, bit in enumerate(pattern))
        rows = [k[out] for k in ops if np.any(k[out])]
        assert all(not np.any(np.delete(k, out, axis=0)) for k in ops if np.any(k[out]))  # writes record ``out`` only
        got = sum((np.outer(r.conj(), r) for r in rows), np.zeros((dim, dim), dtype=complex))
        np.testing.assert_allclose(got, element, atol=1e-13)


@pytest.mark.parametrize("scheme, visibility, dark", SCHEMES_AND_VALUES)
def test_canonical_factor_does_not_depend_on_the_decomposition(scheme, visibility, dark):
    """Feeding the factorisation a shuffled, rephased, rotated eigen-decomposition of each POVM
    element (what a different LAPACK returns) gives the station's rows, entry by entry."""
    from qnet.link.station import canonical_factor, station_kraus, station_povm

    rng = np.random.default_rng(11)
    ops = station_kraus(scheme, visibility, dark)
    for pattern, element in station_povm(scheme, visibility, dark).items():
        out = sum(bit << j for j, bit in enumerate(pattern))
        ours = np.array([k[out] for k in ops if np.any(k[out])])
        if not len(ours):
            continue
        theirs = canonical_factor(_eigen_rows(element, rng))
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(theirs, ours, atol=1e-12)


def test_canonical_factor_form():
    """R^dagger R = A^dagger A; row k is real positive at its pivot and later rows vanish there;
    an isometric mix of A's rows gives the same R."""
    from qnet.link.station import canonical_factor

    rng = np.random.default_rng(5)
    a = (rng.normal(size=(7, 5)) + 1j * rng.normal(size=(7, 5))) * np.array([1, 1, 0, 1, 1])  # rank 4, column 2 empty
    r = canonical_factor(a)
    assert r.shape == (4, 5)
    np.testing.assert_allclose(r.conj().T @ r, a.conj().T @ a, atol=1e-12)
    # pivots: the entries that are real and positive (random complex entries elsewhere are not)
    pivots = [int(np.flatnonzero((np.abs(row.imag) == 0) & (row.real > 0))[0]) for row in r]
    assert len(set(pivots)) == 4 and 2 not in pivots
    for k, p in enumerate(pivots):
        assert np.all(np.abs(r[k + 1 :, p]) <= 1e-15)
    np.testing.assert_allclose(canonical_factor(_random_isometry(rng, 9, 7) @ a), r, atol=1e-12)


def test_station_kraus_uses_no_eigen_decomposition(monkeypatch):
    """The compiled station channel cannot depend on eigh's conventions: eigh is never called."""
    from qnet.link import station

    def refuse(*args, **kwargs):
        raise AssertionError("station_kraus called an eigen-decomposition")

    monkeypatch.setattr(np.linalg, "eigh", refuse)
    monkeypatch.setattr(np.linalg, "eig", refuse)
    for args in SCHEMES_AND_VALUES:
        fresh = station.station_kraus.__wrapped__(*args)  # bypass the cache
        assert len(fresh) == len(station.station_kraus(*args))
        for x, y in zip(fresh, station.station_kraus(*args)):
            assert np.array_equal(x, y)


def test_compile_check_passes_on_the_shipped_circuits():
    from qnet.cli import main

    assert main(["compile", *map(str, EXAMPLES), "-o", str(ROOT / "circuits"), "--check"]) == 0


def test_saving_equal_circuits_leaves_the_file_alone(tmp_path):
    """QPY bytes are not reproducible (custom-instruction order), so an unchanged file is kept."""
    from qnet.link.export import save_circuits

    path, graph, a, b, s = next(_links())
    first = qnet.compile_link(qnet.link_spec(graph, a, b, s)).circuit
    target = tmp_path / "link.qpy"
    save_circuits([first], target)
    before = target.read_bytes()
    save_circuits([_mixed(first, np.random.default_rng(1))], target)  # same channels, other Kraus lists
    assert target.read_bytes() == before
    changed = qnet.compile_link(
        qnet.link_spec(qnet.load_network(path, [f"fibres.{a}-{s}.length_km=7"]), a, b, s)
    ).circuit
    save_circuits([changed], target)
    assert circuits_equal(load_circuits(target)[0], changed) and not circuits_equal(load_circuits(target)[0], first)


def test_compile_cannot_write_outside_its_folder(tmp_path):
    """A node name that walks out of -o is refused by the loader and by the file namer itself."""
    from qnet.cli import main

    bad = tmp_path / "net.toml"
    bad.write_text(
        '[nodes."x/../../escaped"]\nkind = "memory"\n[nodes.s]\nkind = "station"\n[nodes.b]\nkind = "memory"\n'
        '[[fibres]]\na = "x/../../escaped"\nb = "s"\nlength_km = 1\n[[fibres]]\na = "s"\nb = "b"\nlength_km = 1\n'
    )
    assert main(["compile", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path.parent / "escaped").exists() and not list(tmp_path.rglob("*.qpy"))
    with pytest.raises(qnet.QnetError, match="cannot name a file"):
        circuit_filename("net.toml", "x/../../escaped", "b")

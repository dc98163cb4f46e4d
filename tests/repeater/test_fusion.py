"""GHZ fusion at a switch hub (qnet.repeater.fusion) against closed forms and independent numpy models.

References written here, not taken from qnet: (1) the hub's measurement as GHZ-basis projectors
on the input (perfect nodes); (2) a step-by-step numpy model of the noisy hub (CNOTs as
permutation matrices, depolarising as 'replace by I/4 with probability 1 - f', X/Z-basis
projectors, readout flips as a mixture over wrong reported bits, classical corrections per
reported outcome, summed); (3) the closed forms derived in the module docstring (stabiliser
sum for Bell-diagonal inputs, P(no flipped bit) for noisy nodes); (4) Aer's density-matrix
simulation of the whole six-qubit circuit with coherent corrections.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qnet.errors import ConfigError
from qnet.repeater.fusion import GHZ_TARGET, fuse, fusion_circuit, fusion_hub_circuit, ghz_fidelity

from qnet_testing import assert_physical, random_state

S2 = 1 / np.sqrt(2)
PSI_P = np.array([0, S2, S2, 0], dtype=complex)
PSI_M = np.array([0, S2, -S2, 0], dtype=complex)
PHI_P = np.array([S2, 0, 0, S2], dtype=complex)
PHI_M = np.array([S2, 0, 0, -S2], dtype=complex)
GHZ = np.zeros(8, dtype=complex)
GHZ[0] = GHZ[7] = S2
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)
KET = [np.array([1, 0], dtype=complex), np.array([0, 1], dtype=complex)]
PM = [np.array([S2, S2], dtype=complex), np.array([S2, -S2], dtype=complex)]  # |+>, |->
OUTCOMES = list(itertools.product((0, 1), repeat=3))


def proj(v):
    return np.outer(v, v.conj())


def kron(*ms):
    out = np.ones((1, 1), dtype=complex)
    for m in ms:
        out = np.kron(out, m)
    return out


def werner(F):
    return F * proj(PSI_P) + (1 - F) / 3 * (np.eye(4) - proj(PSI_P))


def bell_diagonal(p):
    """Weights p = (p_I, p_X, p_Z, p_Y): |Psi+> with that Pauli on the user's memory (A)."""
    return p[0] * proj(PSI_P) + p[1] * proj(PHI_P) + p[2] * proj(PSI_M) + p[3] * proj(PHI_M)


def users_first(ra, rb, rc):
    """kron of the pairs reordered to (user a, b, c, hub a, b, c), as a (64, 64) matrix."""
    t = kron(ra, rb, rc).reshape([2] * 12)  # (ua ha ub hb uc hc) rows, then columns
    perm = [0, 2, 4, 1, 3, 5]
    return t.transpose(perm + [6 + p for p in perm]).reshape(64, 64)


def correction(m):
    return kron(np.linalg.matrix_power(Z, m[0]), np.linalg.matrix_power(X, m[1]), np.linalg.matrix_power(X, m[2]))


def hub_partial(rho, effect):
    """Tr_hub[(I_users (x) effect) rho] for rho on (users, hubs)."""
    t = rho.reshape(8, 8, 8, 8)  # [u, h, u', h']
    return np.einsum("uhvk,kh->uv", t, effect)


# --------------------------------------------------------------------------- model (1): GHZ basis


def ghz_basis(m):
    """Hub state measured as outcome m = (m_a, m_b, m_c): (|0 m_b m_c> + (-1)^m_a |1 ~m_b ~m_c>)/sqrt2."""
    v = np.zeros(8, dtype=complex)
    v[4 * 0 + 2 * m[1] + m[2]] = S2
    v[4 * 1 + 2 * (1 - m[1]) + (1 - m[2])] = (-1) ** m[0] * S2
    return v


def ghz_basis_fuse(ra, rb, rc):
    rho = users_first(ra, rb, rc)
    out = np.zeros((8, 8), dtype=complex)
    for m in OUTCOMES:
        c = correction(m)
        out += c @ hub_partial(rho, proj(ghz_basis(m))) @ c.conj().T
    return out


# --------------------------------------------------------------------------- model (2): noisy hub, step by step


def hub_permutation(fn):
    """8x8 permutation matrix |x y z> -> |fn(x, y, z)> on the hub (big-endian a, b, c)."""
    u = np.zeros((8, 8), dtype=complex)
    for x, y, z in OUTCOMES:
        a, b, c = fn(x, y, z)
        u[4 * a + 2 * b + c, 4 * x + 2 * y + z] = 1
    return u


CX_AB = kron(np.eye(8), hub_permutation(lambda x, y, z: (x, y ^ x, z)))
CX_AC = kron(np.eye(8), hub_permutation(lambda x, y, z: (x, y, z ^ x)))


def depolarise(rho, qubits, f):
    """f rho + (1 - f) (I/4 on the two qubits) (x) Tr_qubits(rho), qubits of (ua ub uc ha hb hc)."""
    rest = [q for q in range(6) if q not in qubits]
    order = rest + list(qubits)
    t = rho.reshape([2] * 12).transpose(order + [6 + q for q in order]).reshape(16, 4, 16, 4)
    reduced = np.einsum("ajbj->ab", t)
    mixed = np.einsum("ab,jk->ajbk", reduced, np.eye(4) / 4).reshape([2] * 12)
    back = list(np.argsort(order))
    return f * rho + (1 - f) * mixed.transpose(back + [6 + q for q in back]).reshape(64, 64)


def numpy_fuse(ra, rb, rc, f=1.0, r=1.0):
    """CNOT a->b, noise, CNOT a->c, noise; measure hub a in X, hubs b, c in Z; flip; correct."""
    rho = users_first(ra, rb, rc)
    rho = depolarise(CX_AB @ rho @ CX_AB.T, (3, 4), f)
    rho = depolarise(CX_AC @ rho @ CX_AC.T, (3, 5), f)
    out = np.zeros((8, 8), dtype=complex)
    for m in OUTCOMES:  # the true outcome
        branch = hub_partial(rho, proj(kron(PM[m[0]][:, None], KET[m[1]][:, None], KET[m[2]][:, None])[:, 0]))
        for e in OUTCOMES:  # which reported bits are flipped
            p = np.prod([(1 - r) if ei else r for ei in e])
            c = correction(tuple(mi ^ ei for mi, ei in zip(m, e)))
            out += p * c @ branch @ c.conj().T
    return out


# --------------------------------------------------------------------------- closed forms


def stabiliser_fidelity(pa, pb, pc):
    """Sum over GHZ's stabiliser {III, ZZI, IZZ, ZIZ, XXX, XYY, YXY, YYX}; p = (p_I, p_X, p_Z, p_Y)."""
    I, Xp, Zp, Y = 0, 1, 2, 3
    stab = [(I, I, I), (Zp, Zp, I), (I, Zp, Zp), (Zp, I, Zp), (Xp, Xp, Xp), (Xp, Y, Y), (Y, Xp, Y), (Y, Y, Xp)]
    return sum(pa[a] * pb[b] * pc[c] for a, b, c in stab)


def werner_fidelity(Fa, Fb, Fc):
    ea, eb, ec = (1 - Fa) / 3, (1 - Fb) / 3, (1 - Fc) / 3
    return Fa * Fb * Fc + Fa * eb * ec + ea * Fb * ec + ea * eb * Fc + 4 * ea * eb * ec


def noisy_psi_fidelity(f, r):
    c = 2 * r - 1
    return (1 + f * c + f**2 * c * (1 + c) * (2 + c)) / 8


# --------------------------------------------------------------------------- perfect nodes


def test_target_constant():
    assert np.allclose(GHZ_TARGET, GHZ) and not GHZ_TARGET.flags.writeable


def test_three_psi_plus_give_ghz():
    P = proj(PSI_P)
    out = fuse(P, P, P)
    assert np.allclose(out, proj(GHZ), atol=1e-12)
    assert ghz_fidelity(out) == pytest.approx(1.0, abs=1e-12)


def test_each_outcome_corrected_to_ghz():
    """Per outcome, Psi+^3 projected on the hub is GHZ (probability 1/8) once corrected."""
    rho = users_first(*[proj(PSI_P)] * 3)
    for m in OUTCOMES:
        c = correction(m)
        branch = c @ hub_partial(rho, proj(ghz_basis(m))) @ c.conj().T
        assert np.trace(branch).real == pytest.approx(1 / 8, abs=1e-12)
        assert np.allclose(branch * 8, proj(GHZ), atol=1e-12)


def test_models_agree_with_each_other():
    """The two independent references coincide for perfect nodes (a check of the references)."""
    rng = np.random.default_rng(1)
    states = [random_state(rng) for _ in range(3)]
    assert np.allclose(numpy_fuse(*states), ghz_basis_fuse(*states), atol=1e-12)


def test_random_states_perfect_nodes():
    rng = np.random.default_rng(3)
    for _ in range(4):
        states = [random_state(rng) for _ in range(3)]
        out = fuse(*states)
        assert np.allclose(out, ghz_basis_fuse(*states), atol=1e-12)
        assert_physical(out)


@pytest.mark.parametrize("Fs", [(0.9, 0.9, 0.9), (1.0, 0.8, 0.7), (0.25, 0.25, 0.25), (0.6, 0.95, 0.5)])
def test_werner_closed_form(Fs):
    states = [werner(F) for F in Fs]
    F = werner_fidelity(*Fs)
    assert ghz_fidelity(fuse(*states)) == pytest.approx(F, abs=1e-12)
    assert ghz_fidelity(ghz_basis_fuse(*states)) == pytest.approx(F, abs=1e-12)
    if len(set(Fs)) == 1:  # the equal-fidelity form stated in the docstring
        f0, e = Fs[0], (1 - Fs[0]) / 3
        assert F == pytest.approx(f0**3 + 3 * f0 * e**2 + 4 * e**3, abs=1e-15)


def test_maximally_mixed_inputs_give_one_eighth():
    out = fuse(*[np.eye(4) / 4] * 3)
    assert np.allclose(out, np.eye(8) / 8, atol=1e-12)


def test_bell_diagonal_stabiliser_sum():
    rng = np.random.default_rng(7)
    for _ in range(10):
        ps = [rng.dirichlet(np.ones(4)) for _ in range(3)]
        out = fuse(*[bell_diagonal(p) for p in ps])
        assert ghz_fidelity(out) == pytest.approx(stabiliser_fidelity(*ps), abs=1e-12)


# --------------------------------------------------------------------------- noisy nodes


@pytest.mark.parametrize("f,r", [(0.9, 1.0), (1.0, 0.95), (0.97, 0.9), (0.0, 1.0), (1.0, 0.5), (0.6, 0.0), (0.5, 0.8)])
def test_noisy_psi_plus_closed_form(f, r):
    P = proj(PSI_P)
    assert ghz_fidelity(fuse(P, P, P, f, r)) == pytest.approx(noisy_psi_fidelity(f, r), abs=1e-12)
    assert ghz_fidelity(numpy_fuse(P, P, P, f, r)) == pytest.approx(noisy_psi_fidelity(f, r), abs=1e-12)


def test_noisy_random_states_match_numpy_model():
    rng = np.random.default_rng(11)
    for f, r in [(0.9, 0.97), (0.6, 0.8), (0.3, 0.55), (1.0, 0.9), (0.8, 1.0)]:
        states = [random_state(rng) for _ in range(3)]
        out = fuse(*states, gate_fidelity=f, readout_fidelity=r)
        assert np.allclose(out, numpy_fuse(*states, f, r), atol=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), f=st.floats(0.0, 1.0), r=st.floats(0.0, 1.0))
def test_outputs_physical(seed, f, r):
    rng = np.random.default_rng(seed)
    out = fuse(*[random_state(rng) for _ in range(3)], gate_fidelity=f, readout_fidelity=r)
    assert_physical(out)


def test_noise_lowers_fidelity_monotonically():
    states = [werner(0.95), werner(0.9), werner(0.97)]
    by_f = [ghz_fidelity(fuse(*states, gate_fidelity=f)) for f in (1.0, 0.99, 0.95, 0.9, 0.7, 0.4)]
    by_r = [ghz_fidelity(fuse(*states, readout_fidelity=r)) for r in (1.0, 0.99, 0.95, 0.9, 0.7)]
    assert all(a > b for a, b in zip(by_f, by_f[1:]))
    assert all(a > b for a, b in zip(by_r, by_r[1:]))


def test_whole_circuit_on_aer_matches():
    """Aer's density-matrix simulation of the six-qubit circuit (coherent corrections) equals fuse."""
    from qiskit_aer.library import SaveDensityMatrix, SetDensityMatrix

    from qnet.link.run import simulator
    from qnet.quantum.qubits import reverse_qubit_order

    rng = np.random.default_rng(5)
    states = [random_state(rng) for _ in range(3)]
    runs = []
    for f, r in [(1.0, 1.0), (0.9, 0.95)]:
        qc = fusion_circuit(f, r)
        qc.data.insert(
            0, qc.copy_empty_like().append(SetDensityMatrix(reverse_qubit_order(kron(*states))), qc.qubits)[0]
        )
        qc.append(SaveDensityMatrix(3, label="rho"), [0, 2, 4])
        runs.append((qc, f, r))
    result = simulator("density_matrix").run([qc for qc, _, _ in runs], shots=1).result()
    for i, (_, f, r) in enumerate(runs):
        aer = reverse_qubit_order(np.asarray(result.data(i)["rho"]))
        assert np.allclose(aer, fuse(*states, gate_fidelity=f, readout_fidelity=r), atol=1e-12)


# --------------------------------------------------------------------------- stacks, circuits, errors


def test_stacks_equal_single_fusions():
    rng = np.random.default_rng(9)
    a = np.stack([random_state(rng) for _ in range(5)])
    b = np.stack([random_state(rng) for _ in range(5)])
    c = random_state(rng)  # broadcasts
    out = fuse(a, b, c, 0.95, 0.99)
    assert out.shape == (5, 8, 8)
    for i in range(5):
        assert np.allclose(out[i], fuse(a[i], b[i], c, 0.95, 0.99), atol=1e-13)
    fids = ghz_fidelity(out)
    assert fids.shape == (5,) and np.allclose(fids, [ghz_fidelity(o) for o in out])


def test_circuits_structure():
    hub = fusion_hub_circuit(0.9, 0.9)
    assert hub.num_qubits == 3 and dict(hub.count_ops()) == {"cx": 2, "kraus": 5, "h": 1}
    assert dict(fusion_hub_circuit().count_ops()) == {"cx": 2, "h": 1}  # perfect: no noise instructions
    full = fusion_circuit()
    assert full.num_qubits == 6 and dict(full.count_ops()) == {"cx": 4, "h": 1, "cz": 1}


def test_channel_is_registered():
    import qnet.quantum.aer_channels as ac

    assert "fusion" in ac.CHANNEL_KINDS
    assert ac.superop("fusion", 0.9, 0.9).shape == (64, 64)


def _one_line_error(match, *args, **kwargs):
    with pytest.raises(ConfigError, match=match) as info:
        fuse(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_bad_inputs():
    P = proj(PSI_P)
    _one_line_error(r"^fuse\.rho_a: .*shape \(3, 3\)", np.eye(3) / 3, P, P)
    _one_line_error(r"^fuse\.rho_c: .*shape \(2, 4, 5\)", P, P, np.zeros((2, 4, 5)))
    _one_line_error(r"^fuse\.rho_b: not a density matrix.*trace 2", P, 2 * P, P)
    _one_line_error(r"^fuse\.rho_b: not a density matrix.*eigenvalue -0\.2", P, np.diag([1.2, -0.2, 0, 0]), P)
    _one_line_error(
        r"^fuse\.rho_a: not a density matrix.*state 1 of the stack is not Hermitian",
        np.stack([P, P + 0.1 * np.triu(np.ones((4, 4)), 1)]),
        P,
        P,
    )
    _one_line_error(r"^fuse\.rho_c: .*NaN", P, P, np.full((4, 4), np.nan))
    _one_line_error(
        r"^fuse\.rho_a: a stack of 2 states cannot be combined with a stack of 3",
        np.stack([P, P]),
        np.stack([P] * 3),
        P,
    )
    _one_line_error(r"^fuse\.gate_fidelity = 1\.5 is invalid", P, P, P, gate_fidelity=1.5)
    _one_line_error(r"^fuse\.readout_fidelity = -0\.1 is invalid", P, P, P, readout_fidelity=-0.1)
    _one_line_error(r"^fuse\.gate_fidelity = nan is invalid", P, P, P, gate_fidelity=float("nan"))
    with pytest.raises(ConfigError, match=r"^fusion\.gate_fidelity = 2 is invalid"):
        fusion_circuit(gate_fidelity=2)
    with pytest.raises(ConfigError, match=r"^ghz_fidelity\.rho: .*shape \(4, 4\)"):
        ghz_fidelity(P)

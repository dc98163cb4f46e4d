"""Purification (qnet.repeater.purification) against the literature recurrences and independent numpy models.

References used here, none of them qnet output:
* BBPSSW and DEJMPS recurrences of literature.md §5.5 (stated for the |Phi+> target; the test
  converts to qnet's |Psi+> target with X on memory B, as the module documents);
* a Bell-diagonal closed form with node noise, derived in ``bell_diagonal_round`` below;
* a 16x16 numpy model of the bilateral-CNOT round for arbitrary (non-Bell-diagonal) inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qnet.repeater.purification import purify, purify_circuit, twirl_to_werner

from qnet_testing import assert_physical, random_state  # shared test helpers

S2 = 1 / np.sqrt(2)
PHI_P = np.array([S2, 0, 0, S2], dtype=complex)
PHI_M = np.array([S2, 0, 0, -S2], dtype=complex)
PSI_P = np.array([0, S2, S2, 0], dtype=complex)
PSI_M = np.array([0, S2, -S2, 0], dtype=complex)
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
I4 = np.eye(4, dtype=complex)
XB = np.kron(I2, X)  # X on memory B: Phi+ frame <-> Psi+ frame


def proj(v):
    return np.outer(v, v.conj())


# Literature labels in the Phi+ frame: A = Phi+, B = Psi-, C = Psi+, D = Phi-
LIT = [PHI_P, PSI_M, PSI_P, PHI_M]


def bell_diag_lit(abcd):
    """Bell-diagonal state in the Phi+ frame from (A, B, C, D)."""
    return sum(c * proj(v) for c, v in zip(abcd, LIT))


def lit_coeffs(rho_phi):
    return np.array([np.real(v.conj() @ rho_phi @ v) for v in LIT])


def to_qnet(rho_phi):
    """Phi+-frame state -> qnet's Psi+ frame (X on memory B)."""
    return XB @ rho_phi @ XB


def run_lit(rho1_phi, rho2_phi, **kw):
    """Run qnet on Phi+-frame inputs, return p and the output back in the Phi+ frame."""
    p, out = purify(to_qnet(rho1_phi), to_qnet(rho2_phi), **kw)
    return p, XB @ out @ XB


def werner_phi(F):
    return F * proj(PHI_P) + (1 - F) / 3 * (I4 - proj(PHI_P))


# --------------------------------------------------------------------------- closed forms

# Bell states by (phase bit, parity bit): Phi+ (0,0), Phi- (1,0), Psi+ (0,1), Psi- (1,1).
# Literature index of each: A=Phi+ 0, B=Psi- 1, C=Psi+ 2, D=Phi- 3.
BITS = {0: (0, 0), 1: (1, 1), 2: (0, 1), 3: (1, 0)}
INDEX = {v: k for k, v in BITS.items()}


def bell_diagonal_round(c1, c2, dejmps, f=1.0, r=1.0):
    """Unnormalised kept coefficients (A, B, C, D) of one round on Bell-diagonal inputs.

    Derivation. A bilateral CNOT maps Bell pairs (ph_s, pa_s) (x) (ph_t, pa_t) to
    (ph_s ^ ph_t, pa_s) (x) (ph_t, pa_t ^ pa_s); the measured target bits coincide iff the
    target's new parity is 0, i.e. pa_s == pa_t. DEJMPS's Rx(pi/2) (x) Rx(-pi/2) first swaps
    Phi- <-> Psi- on each pair (up to phase). Readout flips turn a true coincidence into a
    reported one with q = r^2 + (1-r)^2 and a true anti-coincidence with 1 - q. Gate noise:
    depolarising the two memories of a node leaves, for inputs with maximally mixed marginals
    (Bell-diagonal), the whole 4-qubit state I/16; with two noisy CNOTs the pre-measurement
    state is f^2 rho_ideal + (1 - f^2) I/16, and I/16 is kept with probability 1/2 as I/4 on
    pair 1, i.e. (1 - f^2)/8 on each Bell coefficient.
    """
    perm = [0, 3, 2, 1] if dejmps else [0, 1, 2, 3]  # B <-> D
    c1 = np.asarray(c1)[perm]
    c2 = np.asarray(c2)[perm]
    coinc, anti = np.zeros(4), np.zeros(4)
    for s, t in itertools.product(range(4), repeat=2):
        (ph_s, pa_s), (ph_t, pa_t) = BITS[s], BITS[t]
        out = INDEX[(ph_s ^ ph_t, pa_s)]
        (coinc if pa_s == pa_t else anti)[out] += c1[s] * c2[t]
    q = r**2 + (1 - r) ** 2
    return f**2 * (q * coinc + (1 - q) * anti) + (1 - f**2) / 8


# --------------------------------------------------------------------------- BBPSSW


def test_bbpssw_reference_numbers():
    p, out = run_lit(werner_phi(0.9), werner_phi(0.9), protocol="bbpssw")
    assert p == pytest.approx(0.87556, abs=5e-6)
    assert np.real(PHI_P @ out @ PHI_P) == pytest.approx(0.92640, abs=5e-6)


@pytest.mark.parametrize("F", [0.26, 0.4, 0.5, 0.6, 0.75, 0.85, 0.99, 1.0])
def test_bbpssw_recurrence(F):
    p_ref = F**2 + 2 * F * (1 - F) / 3 + 5 * ((1 - F) / 3) ** 2
    F_ref = (F**2 + ((1 - F) / 3) ** 2) / p_ref
    p, out = purify(twirl_to_werner_psi(F), twirl_to_werner_psi(F), protocol="bbpssw")
    assert p == pytest.approx(p_ref, abs=1e-12)
    assert np.real(PSI_P @ out @ PSI_P) == pytest.approx(F_ref, abs=1e-12)
    assert_physical(out)


def twirl_to_werner_psi(F):
    return F * proj(PSI_P) + (1 - F) / 3 * (I4 - proj(PSI_P))


def test_bbpssw_twirls_inputs():
    """A non-Werner input gives the result of the Werner state of the same fidelity."""
    rng = np.random.default_rng(2)
    for _ in range(3):
        a, b = random_state(rng), random_state(rng)
        Fa, Fb = (np.real(PSI_P @ x @ PSI_P) for x in (a, b))
        p, out = purify(a, b, protocol="bbpssw")
        p_w, out_w = purify(twirl_to_werner_psi(Fa), twirl_to_werner_psi(Fb), protocol="bbpssw")
        assert p == pytest.approx(p_w, abs=1e-12)
        assert np.allclose(out, out_w, atol=1e-12)
        assert np.allclose(twirl_to_werner(a), twirl_to_werner_psi(Fa), atol=1e-14)


def _cliffords():
    """The 24 single-qubit Clifford unitaries (up to phase), by closure from H and S."""
    h = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
    s = np.diag([1, 1j])

    def key(u):
        k = np.flatnonzero(np.abs(u.ravel()) > 1e-9)[0]
        v = u * abs(u.ravel()[k]) / u.ravel()[k]  # fix the global phase
        return tuple(np.round(v.ravel(), 9))

    group = {key(I2): I2}
    frontier = [I2]
    while frontier:
        nxt = []
        for u in frontier:
            for g in (h, s):
                w = g @ u
                if key(w) not in group:
                    group[key(w)] = w
                    nxt.append(w)
        frontier = nxt
    return list(group.values())


def clifford_twirl_psi(rho):
    """Average of (U (x) X U* X) rho (...)^dagger over the 24 Cliffords (a unitary 2-design).

    U (x) X U* X leaves |Psi+> = (I (x) X)|Phi+> invariant, so the average is the Werner state
    of rho's Psi+ fidelity: the BBPSSW twirl, computed here without qnet.
    """
    cl = _cliffords()
    assert len(cl) == 24
    return sum(np.kron(u, X @ u.conj() @ X) @ rho @ np.kron(u, X @ u.conj() @ X).conj().T for u in cl) / len(cl)


@pytest.mark.parametrize("f,r", [(1.0, 1.0), (0.93, 0.96)])
def test_bbpssw_twirl_choice(f, r):
    """twirl=True (default): the output is the Clifford-twirled (Werner) form of the untwirled one.

    Same success probability, same fidelity; the untwirled output of unequal Werner inputs with
    noisy nodes is not Werner, so the choice is visible. DEJMPS ignores the flag.
    """
    rng = np.random.default_rng(31)
    a, b = random_state(rng), random_state(rng)
    p0, out0 = purify(a, b, protocol="bbpssw", gate_fidelity=f, readout_fidelity=r, twirl=False)
    p1, out1 = purify(a, b, protocol="bbpssw", gate_fidelity=f, readout_fidelity=r)
    assert p1 == pytest.approx(p0, abs=1e-14)
    assert np.real(PSI_P @ out1 @ PSI_P) == pytest.approx(np.real(PSI_P @ out0 @ PSI_P), abs=1e-12)
    assert np.allclose(out1, clifford_twirl_psi(out0), atol=1e-12)
    assert np.allclose(clifford_twirl_psi(out1), out1, atol=1e-12)  # Werner: invariant under the twirl
    assert not np.allclose(out0, out1, atol=1e-6)  # without the twirl the output is not Werner
    pd0, od0 = purify(a, b, protocol="dejmps", gate_fidelity=f, readout_fidelity=r, twirl=False)
    pd1, od1 = purify(a, b, protocol="dejmps", gate_fidelity=f, readout_fidelity=r, twirl=True)
    assert pd0 == pd1 and np.array_equal(od0, od1)


@pytest.mark.parametrize("wa,wb", [(0.9, 0.7), (0.5, 0.95), (0.2, 0.3)])
def test_bbpssw_werner_form_unequal_inputs(wa, wb):
    """literature.md §5.5 Werner form: p = (1 + wa wb)/2, p w' = (wa + wb + 4 wa wb)/6."""
    Fa, Fb = (1 + 3 * wa) / 4, (1 + 3 * wb) / 4
    p, out = purify(twirl_to_werner_psi(Fa), twirl_to_werner_psi(Fb), protocol="bbpssw")
    w_out = (4 * np.real(PSI_P @ out @ PSI_P) - 1) / 3
    assert p == pytest.approx((1 + wa * wb) / 2, abs=1e-12)
    assert p * w_out == pytest.approx((wa + wb + 4 * wa * wb) / 6, abs=1e-12)


# --------------------------------------------------------------------------- DEJMPS


def test_dejmps_recurrence_random_bell_diagonal():
    rng = np.random.default_rng(4)
    for _ in range(20):
        A, B, C, D = rng.dirichlet(np.ones(4))
        rho = bell_diag_lit([A, B, C, D])
        p, out = run_lit(rho, rho, protocol="dejmps")
        N = (A + B) ** 2 + (C + D) ** 2
        ref = np.array([A**2 + B**2, 2 * C * D, C**2 + D**2, 2 * A * B]) / N
        assert p == pytest.approx(N, abs=1e-12)
        assert np.allclose(out, bell_diag_lit(ref), atol=1e-12)  # also stays Bell-diagonal


def test_dejmps_two_different_bell_diagonal_inputs():
    rng = np.random.default_rng(8)
    for _ in range(10):
        c1, c2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
        p, out = run_lit(bell_diag_lit(c1), bell_diag_lit(c2), protocol="dejmps")
        ref = bell_diagonal_round(c1, c2, dejmps=True)
        assert p == pytest.approx(ref.sum(), abs=1e-12)
        assert np.allclose(out, bell_diag_lit(ref / ref.sum()), atol=1e-12)


@pytest.mark.parametrize("F", [0.55, 0.7, 0.9])
def test_dejmps_werner_matches_bbpssw_first_round(F):
    w = twirl_to_werner_psi(F)
    p_d, out_d = purify(w, w, protocol="dejmps")
    p_b, out_b = purify(w, w, protocol="bbpssw")
    assert p_d == pytest.approx(p_b, abs=1e-12)
    assert np.real(PSI_P @ out_d @ PSI_P) == pytest.approx(np.real(PSI_P @ out_b @ PSI_P), abs=1e-12)


def test_dejmps_perfect_pairs_stay_perfect():
    p, out = purify(proj(PSI_P), proj(PSI_P))
    assert p == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(out, proj(PSI_P), atol=1e-12)


# --------------------------------------------------------------------------- noise


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
@pytest.mark.parametrize("f,r", [(0.95, 1.0), (1.0, 0.9), (0.9, 0.97), (0.0, 1.0), (1.0, 0.5)])
def test_noisy_bell_diagonal_closed_form(protocol, f, r):
    rng = np.random.default_rng(12)
    for _ in range(3):
        c1, c2 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
        if protocol == "bbpssw":  # the twirl keeps only A
            c1 = np.array([c1[0]] + [(1 - c1[0]) / 3] * 3)
            c2 = np.array([c2[0]] + [(1 - c2[0]) / 3] * 3)
        p, out = run_lit(
            bell_diag_lit(c1), bell_diag_lit(c2), protocol=protocol, gate_fidelity=f, readout_fidelity=r, twirl=False
        )  # the circuit's own output (twirl: test_bbpssw_twirl_choice)
        ref = bell_diagonal_round(c1, c2, dejmps=protocol == "dejmps", f=f, r=r)
        assert p == pytest.approx(ref.sum(), abs=1e-12)
        assert np.allclose(out, bell_diag_lit(ref / ref.sum()), atol=1e-12)
        assert_physical(out)


# 16x16 model, qubits q0 = A1, q1 = B1 (kept pair), q2 = A2, q3 = B2 (measured pair)


def _op(single, q):
    mats = [I2] * 4
    mats[q] = single
    out = mats[0]
    for m in mats[1:]:
        out = np.kron(out, m)
    return out


def _cnot(c, t):
    u = np.zeros((16, 16), dtype=complex)
    for i in range(16):
        bits = [(i >> (3 - q)) & 1 for q in range(4)]
        if bits[c]:
            bits[t] ^= 1
        j = sum(b << (3 - q) for q, b in enumerate(bits))
        u[j, i] = 1
    return u


def _depolarise(rho, qa, qb, f):
    """f rho + (1 - f) Tr_{qa qb}(rho) (x) I/4 on (qa, qb)."""
    t = rho.reshape([2] * 8)
    t = np.moveaxis(t, [qa, qb, 4 + qa, 4 + qb], [4, 5, 6, 7])  # others | others' | a b a' b'
    marg = np.einsum("...ijij->...", t)
    mixed = np.einsum("...,ik,jl->...ijkl", marg, I2 / 2, I2 / 2)
    mixed = np.moveaxis(mixed, [4, 5, 6, 7], [qa, qb, 4 + qa, 4 + qb]).reshape(16, 16)
    return f * rho + (1 - f) * mixed


def _rx(theta):
    return np.cos(theta / 2) * I2 - 1j * np.sin(theta / 2) * X


def numpy_round(rho1, rho2, dejmps, f=1.0, r=1.0):
    """Literal numpy model of one round in the Phi+ frame (inputs/outputs in qnet's Psi+ frame)."""
    rho = np.kron(XB @ rho1 @ XB, XB @ rho2 @ XB)
    if dejmps:  # node A: Rx(pi/2), node B: Rx(-pi/2), on both of its memories
        u = _op(_rx(np.pi / 2), 0) @ _op(_rx(-np.pi / 2), 1) @ _op(_rx(np.pi / 2), 2) @ _op(_rx(-np.pi / 2), 3)
        rho = u @ rho @ u.conj().T
    for c, t in [(0, 2), (1, 3)]:
        u = _cnot(c, t)
        rho = _depolarise(u @ rho @ u.conj().T, c, t, f)
    for q in (2, 3):
        xq = _op(X, q)
        rho = r * rho + (1 - r) * xq @ rho @ xq
    t = rho.reshape(4, 4, 4, 4)  # (pair 1, pair 2 bits b2 b3) x same
    kept = t[:, 0, :, 0] + t[:, 3, :, 3]  # measured bits (0,0) or (1,1)
    p = np.real(np.trace(kept))
    return p, XB @ (kept / p) @ XB


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_general_inputs_match_numpy_model(protocol):
    rng = np.random.default_rng(21)
    for f, r in [(1.0, 1.0), (0.93, 0.96), (0.5, 0.7)]:
        a, b = random_state(rng), random_state(rng)
        p, out = purify(a, b, protocol=protocol, gate_fidelity=f, readout_fidelity=r, twirl=False)
        if protocol == "bbpssw":
            a, b = twirl_to_werner_psi(np.real(PSI_P @ a @ PSI_P)), twirl_to_werner_psi(np.real(PSI_P @ b @ PSI_P))
        p_ref, out_ref = numpy_round(a, b, protocol == "dejmps", f, r)
        assert p == pytest.approx(p_ref, abs=1e-12)
        assert np.allclose(out, out_ref, atol=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    f=st.floats(0.0, 1.0),
    r=st.floats(0.0, 1.0),
    protocol=st.sampled_from(["dejmps", "bbpssw"]),
)
def test_outputs_physical(seed, f, r, protocol):
    rng = np.random.default_rng(seed)
    a, b = random_state(rng), random_state(rng)
    p, out = purify(a, b, protocol=protocol, gate_fidelity=f, readout_fidelity=r)
    assert 0.0 < p <= 1.0 + 1e-12
    assert_physical(out)


# --------------------------------------------------------------------------- batches, API


def test_batched_purify_equals_single():
    rng = np.random.default_rng(9)
    a = np.stack([random_state(rng) for _ in range(5)])
    b = np.stack([random_state(rng) for _ in range(5)])
    for protocol in ("dejmps", "bbpssw"):
        ps, outs = purify(a, b, protocol=protocol, gate_fidelity=0.97, readout_fidelity=0.99)
        assert ps.shape == (5,) and outs.shape == (5, 4, 4)
        for i in range(5):
            p, out = purify(a[i], b[i], protocol=protocol, gate_fidelity=0.97, readout_fidelity=0.99)
            assert ps[i] == pytest.approx(p, abs=1e-13)
            assert np.allclose(outs[i], out, atol=1e-13)
    ps, outs = purify(a[0], b)
    assert ps.shape == (5,)


def test_zero_success_probability_is_an_error_or_a_nan_state_in_a_stack():
    # Phi+ frame: Phi+ (parity 0) with Psi+ (parity 1) never coincides; qnet frame: Psi+ with Phi+
    from qnet.errors import QnetError

    with pytest.raises(QnetError, match="never succeeds"):
        purify(proj(PSI_P), proj(PHI_P), protocol="dejmps")
    p, out = purify(np.stack([proj(PSI_P), proj(PSI_P)]), np.stack([proj(PHI_P), proj(PSI_P)]), protocol="dejmps")
    assert p[0] == 0.0 and np.isnan(out[0]).all()
    assert p[1] == pytest.approx(1.0) and np.isfinite(out[1]).all()


def test_purify_circuit_structure():
    qc = purify_circuit("dejmps", 0.9, 0.95, measure=True)
    names = [ci.operation.name for ci in qc.data]
    assert qc.num_qubits == 4 and qc.num_clbits == 2
    assert names.count("cx") == 2 and names.count("rx") == 4 and names.count("kraus") == 4
    assert names.count("measure") == 2
    names_b = [ci.operation.name for ci in purify_circuit("bbpssw").data]
    assert "rx" not in names_b and "kraus" not in names_b and "measure" not in names_b


def test_invalid_arguments_raise():
    with pytest.raises(ValueError):
        purify(I4 / 4, I4 / 4, protocol="bennett")
    with pytest.raises(ValueError):
        purify(I4 / 4, I4 / 4, gate_fidelity=1.5)
    with pytest.raises(ValueError):
        purify(np.eye(2), I4 / 4)

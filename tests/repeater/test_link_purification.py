"""One purification round on a link (qnet purify): closed forms for the waiting and the recurrence.

Two-photon links deliver Bell-diagonal states A|Psi+><Psi+| + D|Psi-><Psi-| (A = (1 + c)/2 with
c the pair coherence), so DEJMPS reduces to a two-coefficient recurrence. In qnet's |Psi+>
frame (qnet.repeater.purification docstring: an X on memory B maps it to the literature's Phi+ frame)
our Psi+ is the literature's A (Phi+), our Psi- its D (Phi-) and our Phi+ its C (Psi+). The
two-input DEJMPS map (A' = (A1A2 + B1B2)/N, C' = (C1C2 + D1D2)/N, B' = D' = 0 here) with
B = C = 0 gives, for (A1, D1) kept and (A2, D2) sacrificed,
    p = A1 A2 + D1 D2,   <Psi+|out|Psi+> = A1 A2 / p,   <Phi+|out|Phi+> = D1 D2 / p.
The waiting time D of the earlier pair (literature.md §5.6, written out here):
    P(D=0) = P/(2-P),  P(D=k) = 2P(1-P)^k/(2-P)  (P = herald probability per attempt).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import qnet
from qnet.cli import main
from qnet.repeater.link_purification import purify_link
from qnet_testing import build_link_network

C_KM_S = 2.0e5


def two_photon_net(t2_s=math.inf, visibility=1.0, length_km=5.0, memories=2, **memory):
    data = build_link_network("two_photon", length_a_km=length_km, station={"visibility": visibility})
    for node in ("alice", "bob"):
        data["nodes"][node].update({"t2_s": t2_s, "memories": memories, "prep_time_s": 10e-6, **memory})
    return data


def waiting_pmf(P, n):
    k = np.arange(n)
    pmf = 2 * P * (1 - P) ** k / (2 - P)
    pmf[0] = P / (2 - P)
    return pmf


def test_no_decay_is_the_dejmps_recurrence_and_wald_timing():
    V = 0.8
    graph = qnet.network_from_dict(two_photon_net(visibility=V))
    r = purify_link(graph, "alice", "bob")
    A, D = (1 + V) / 2, (1 - V) / 2  # memories never decay: every waiting time gives the same state
    p = A * A + D * D
    assert r.purification_success_probability == pytest.approx(p, rel=1e-12)
    assert r.fidelity == pytest.approx(A * A / p, rel=1e-12)
    eta = 10 ** (-0.2 * 5 / 10)
    P = eta * eta / 2
    tau = 10e-6 + 2 * 5 / C_KM_S
    t_c = 10 / C_KM_S
    mean_max = (3 - 2 * P) / (P * (2 - P))  # E[max of two Geom(P)] in rounds
    assert r.mean_completion_time_s == pytest.approx((mean_max * tau + t_c) / p, rel=1e-12)
    assert r.rate_hz == pytest.approx(1 / r.mean_completion_time_s, rel=1e-12)


def test_dephasing_memories_against_a_sum_over_waiting_times():
    t2 = 2e-3  # short memories: the waiting matters
    graph = qnet.network_from_dict(two_photon_net(t2_s=t2))
    r = purify_link(graph, "alice", "bob")
    eta = 10 ** (-0.2 * 5 / 10)
    P = eta * eta / 2
    tau = 10e-6 + 2 * 5 / C_KM_S
    t_store = 2 * 5 / C_KM_S  # each memory's age at the herald
    c0 = math.exp(-2 * t_store / t2)  # both memories dephase while the herald travels
    n = 20000
    k = np.arange(n)
    cD = c0 * np.exp(-2 * k * tau / t2)  # the earlier pair waits k more rounds, both memories
    A1, D1 = (1 + c0) / 2, (1 - c0) / 2
    A2, D2 = (1 + cD) / 2, (1 - cD) / 2
    p_k = A1 * A2 + D1 * D2
    pmf = waiting_pmf(P, n)
    success = np.sum(pmf * p_k)
    A_out = np.sum(pmf * A1 * A2) / success  # weight on Psi+; the rest, D1 D2 / p, sits on Phi+
    t_c = 10 / C_KM_S
    # the kept pair waits t_c for the other node's bits: dephasing of both memories mixes Psi+
    # with Psi- (and Phi+ with Phi-), keeping (1 + e^(-2 t_c / T2))/2 of the Psi+ weight
    assert r.purification_success_probability == pytest.approx(success, rel=1e-9)
    assert r.fidelity == pytest.approx(A_out * (1 + math.exp(-2 * t_c / t2)) / 2, rel=1e-9)
    assert qnet.quantum.states.is_physical(r.density_matrix)


def test_a_cutoff_bounds_the_waiting():
    t2 = 2e-3
    data = two_photon_net(t2_s=t2)
    tau = 10e-6 + 2 * 5 / C_KM_S
    for node in ("alice", "bob"):
        data["nodes"][node]["cutoff_s"] = 3 * tau
    r = purify_link(qnet.network_from_dict(data), "alice", "bob")
    assert len(r.waiting_pmf) == 4  # a pair may wait 0..3 rounds
    P = (10 ** (-0.2 * 5 / 10)) ** 2 / 2
    q = 1 - P
    z = P * P + 2 * P * q * (1 - q**3)
    want = [P * P / z] + [2 * P * P * q**k / z for k in (1, 2, 3)]
    assert np.allclose(r.waiting_pmf, want, rtol=1e-12)
    uncut = purify_link(qnet.network_from_dict(two_photon_net(t2_s=t2)), "alice", "bob")
    assert r.fidelity > uncut.fidelity  # old, dephased pairs are no longer sacrificed


def test_node_gate_noise_lowers_the_purified_fidelity_and_each_node_counts():
    base = purify_link(qnet.network_from_dict(two_photon_net(visibility=0.9)), "alice", "bob")
    data = two_photon_net(visibility=0.9)
    data["nodes"]["alice"]["gate_fidelity"] = 0.95
    one = purify_link(qnet.network_from_dict(data), "alice", "bob")
    data["nodes"]["bob"]["gate_fidelity"] = 0.95
    both = purify_link(qnet.network_from_dict(data), "alice", "bob")
    assert both.fidelity < one.fidelity < base.fidelity


def test_purify_needs_two_memories_per_node(capsys):
    data = two_photon_net(memories=1)
    with pytest.raises(qnet.ConfigError, match="nodes.alice.memories = 1"):
        purify_link(qnet.network_from_dict(data), "alice", "bob")


def test_cli_json(capsys, tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(
        "\n".join(
            [
                '[nodes.alice]\nkind = "memory"\nt2_s = 0.01\nemission_efficiency = 0.5\nmemories = 2',
                '[nodes.bob]\nkind = "memory"\nt2_s = 0.01\nemission_efficiency = 0.5\nmemories = 2',
                '[nodes.mid]\nkind = "station"\nscheme = "two_photon"\nvisibility = 0.9',
                '[[fibres]]\na = "alice"\nb = "mid"\nlength_km = 2.0',
                '[[fibres]]\na = "mid"\nb = "bob"\nlength_km = 2.0',
            ]
        )
    )
    assert main(["purify", str(path), "alice", "bob", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["protocol"] == "dejmps" and list(out["link"]) == list(qnet.LINK_FIELDS) + list(qnet.LINK_LABELS)
    assert out["fidelity"] > out["link"]["fidelity"]  # V = 0.9 Bell-diagonal pairs do improve
    assert out["rate_hz"] < out["link"]["rate_hz"]


@pytest.mark.parametrize("law", ["exponential", "gaussian"])
@pytest.mark.parametrize("memory", [0, 1])
def test_vectorised_storage_is_the_storage_kraus_channel(law, memory):
    from qnet.quantum.channels import apply_storage, storage_factors, storage_kraus

    rng = np.random.default_rng(7)
    g = rng.normal(size=(5, 4, 4)) + 1j * rng.normal(size=(5, 4, 4))
    rho = g @ np.conj(np.swapaxes(g, 1, 2))
    rho /= np.trace(rho, axis1=1, axis2=2)[:, None, None]
    t_from, t_to = np.array([0.0, 0.1, 0.2, 0.3, 0.4]), np.array([0.05, 0.5, 0.2, 1.0, 2.0])
    c, s = storage_factors(t_from, t_to, 1.3, 0.7, law)
    got = apply_storage(rho, memory, c, s)
    for i in range(5):
        ks = storage_kraus(t_from[i], t_to[i], 1.3, 0.7, law)
        ks = [np.kron(k, np.eye(2)) if memory == 0 else np.kron(np.eye(2), k) for k in ks]
        want = sum(k @ rho[i] @ k.conj().T for k in ks)
        assert np.abs(got[i] - want).max() < 1e-14

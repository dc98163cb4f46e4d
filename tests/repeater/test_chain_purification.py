"""Repeater chains whose elementary links purify once before swapping (``purify=``, ``--purify``).

References: :mod:`qnet.repeater.link_purification` (the exact model of one purified link, tested in
test_link_purification.py against closed forms) and literature.md §5.4 / §5.5.

Frame (as in test_link_purification.py): two-photon links with visibility V and memories that
never decay deliver A|Psi+><Psi+| + D|Psi-><Psi-| with A = (1 + V)/2, D = (1 - V)/2. One DEJMPS
round on two such pairs with perfect nodes succeeds with p = A^2 + D^2, whatever the waiting,
and leaves A^2/p on Psi+ and D^2/p on Phi+ (qnet's frame). Towards the Psi+ target these are the
Paulis I (Psi+) and X (Phi+); swapping two Bell-diagonal pairs (perfect BSM, Pauli-frame
corrected) is the XOR (Klein-group) convolution of their Pauli weights (§5.4), so
    F_chain = F'^2 + (1 - F')^2,    F' = A^2 / (A^2 + D^2)
for two purified links, in every delivery. Each purified link's time is a sum of independent
trials: trial j lasts M_j = max(X_j, Y_j) rounds of tau (X, Y ~ Geom(P)) plus t_c, and the
number of trials N ~ Geom(p). The two links are independent and, with no decay and no cutoff,
the chain delivers when the later of the two exists: E[max(T_1, T_2)], computed below from the
joint distribution of (sum of M_j, N) built numerically in the test.

Monte Carlo is held to 4 standard errors (seeded) and rates to the reported 95 % interval.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import qnet
from qnet.repeater.chain import (
    ChainLink,
    LinkPurification,
    RepeaterChain,
    RepeaterNode,
    exact_chain,
    simulate_chain,
)
from qnet.cli import main
from qnet.repeater.link_purification import purify_link
from qnet.repeater.path import simulate_path
from qnet.quantum.states import bell_projector
from qnet_testing import build_link_network

C_KM_S = 2.0e5
L_KM = 5.0  # each half of every link
PREP_S = 10e-6
TAU = PREP_S + 2 * L_KM / C_KM_S  # two-photon attempt: preparation + round trip to the station
T_C = 2 * L_KM / C_KM_S  # the purification bits cross the link's fibre
P_HERALD = (10 ** (-0.2 * L_KM / 10)) ** 2 / 2  # both photons arrive, half the Bell states heralded


def one_link_net(t2_s=math.inf, visibility=1.0, memories=2, **memory):
    data = build_link_network("two_photon", length_a_km=L_KM, station={"visibility": visibility})
    for node in ("alice", "bob"):
        data["nodes"][node].update({"t2_s": t2_s, "memories": memories, "prep_time_s": PREP_S, **memory})
    return data


def chain_net(n_links: int, visibility=1.0, end_memories=2, repeater_memories=4, **memory) -> dict:
    """alice - m1 - r1 - m2 - ... - bob: two-photon links of 2 x L_KM, memories as given."""
    names = ["alice"] + [f"r{k}" for k in range(1, n_links)] + ["bob"]
    nodes: dict = {}
    for k, name in enumerate(names):
        mems = end_memories if k in (0, n_links) else repeater_memories
        nodes[name] = {
            "kind": "memory",
            "t2_s": math.inf,
            "emission_efficiency": 1.0,
            "prep_time_s": PREP_S,
            "memories": mems,
            **memory,
        }
    fibres = []
    for k in range(n_links):
        st = f"m{k + 1}"
        nodes[st] = {"kind": "station", "scheme": "two_photon", "visibility": visibility}
        fibres += [{"a": names[k], "b": st, "length_km": L_KM}, {"a": names[k + 1], "b": st, "length_km": L_KM}]
    return {"nodes": nodes, "fibres": fibres}


def hops_of(n_links: int) -> list[tuple[str, str, str]]:
    names = ["alice"] + [f"r{k}" for k in range(1, n_links)] + ["bob"]
    return [(names[k], names[k + 1], f"m{k + 1}") for k in range(n_links)]


def purified_time_distribution(P: float, p_pur: float, n_rounds: int = 1024, n_trials: int = 40):
    """(times, probabilities) of one purified link's completion time, built from its trials."""
    m = np.arange(n_rounds)
    cdf = (1 - (1 - P) ** m) ** 2  # P(max(X, Y) <= m)
    trial = np.diff(cdf, prepend=0.0)  # P(max(X, Y) = m), m >= 1
    times, probs = [], []
    rounds = np.zeros(n_rounds)
    rounds[0] = 1.0  # sum of 0 trials
    for n in range(1, n_trials + 1):
        rounds = np.convolve(rounds, trial)[:n_rounds]  # rounds of n trials
        w = p_pur * (1 - p_pur) ** (n - 1) * rounds
        times.append(m * TAU + n * T_C)
        probs.append(w)
    return np.concatenate(times), np.concatenate(probs)


def mean_of_max_of_two(times: np.ndarray, probs: np.ndarray) -> float:
    order = np.argsort(times, kind="stable")
    t, w = times[order], probs[order]
    cdf = np.cumsum(w)
    return float(np.sum(t * np.diff(cdf**2, prepend=0.0)))


# --------------------------------------------------------------------------- one link = purify_link


@pytest.mark.parametrize(
    "protocol, memory",
    [
        ("dejmps", {"t2_s": 2e-3}),
        (
            "bbpssw",
            {"t2_s": 2e-3, "decay": "gaussian", "cutoff_s": 3 * TAU, "gate_fidelity": 0.97, "readout_fidelity": 0.99},
        ),
    ],
)
def test_one_link_chain_is_the_purified_link(protocol, memory):
    data = one_link_net(visibility=0.9, **memory)
    data["nodes"]["bob"]["gate_fidelity"] = 0.99  # the two nodes differ
    graph = qnet.network_from_dict(data)
    ref = purify_link(graph, "alice", "bob", protocol=protocol)
    mc = simulate_path(graph, [("alice", "bob", "mid")], samples=6000, seed=21, purify=protocol)
    assert mc.purify == protocol and mc.method == "monte_carlo"
    lo, hi = mc.rate_hz_ci
    assert lo < ref.rate_hz < hi
    se = mc.fidelity_std / math.sqrt(mc.samples)
    assert abs(mc.fidelity - ref.fidelity) <= 4 * se
    assert mc.fidelity_std > 0  # the leaf state depends on the waiting time D
    # the purified state's other Bell weights agree as well (4 SE of each sampled mean)
    for bell in ("psi-", "phi+", "phi-"):
        want = float(np.real(np.trace(ref.density_matrix @ bell_projector(bell))))
        got = float(np.real(np.trace(mc.density_matrix @ bell_projector(bell))))
        assert abs(got - want) <= 4 * se + 1e-12


# --------------------------------------------------------------------------- no decay: closed forms


@pytest.mark.slow
def test_no_decay_purified_leaf_and_two_link_swap_and_time():
    V = 0.8
    A, D = (1 + V) / 2, (1 - V) / 2
    p_pur = A * A + D * D
    f_leaf = A * A / p_pur

    one = simulate_path(
        qnet.network_from_dict(chain_net(1, visibility=V)), hops_of(1), samples=400, seed=2, purify="dejmps"
    )
    assert one.links[0].success_probability == pytest.approx(P_HERALD, rel=1e-9)
    assert one.links[0].attempt_time_s == pytest.approx(TAU, rel=1e-12)
    assert one.fidelity == pytest.approx(f_leaf, rel=1e-9)
    assert one.fidelity_std < 1e-9  # no decay: every delivery is the same purified state

    times, probs = purified_time_distribution(P_HERALD, p_pur)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    mean_max_rounds = (3 - 2 * P_HERALD) / (P_HERALD * (2 - P_HERALD))
    t_one = float(np.dot(times, probs))
    assert t_one == pytest.approx((mean_max_rounds * TAU + T_C) / p_pur, rel=1e-9)  # Wald, renewal
    se1 = float(np.std(one.completion_time_samples_s, ddof=1)) / math.sqrt(one.samples)
    assert abs(one.mean_completion_time_s - t_one) <= 4 * se1

    two = simulate_path(
        qnet.network_from_dict(chain_net(2, visibility=V)), hops_of(2), samples=5000, seed=5, purify="dejmps"
    )
    assert two.fidelity == pytest.approx(f_leaf**2 + (1 - f_leaf) ** 2, rel=1e-9)  # XOR convolution
    assert two.fidelity_std < 1e-9
    t_two = mean_of_max_of_two(times, probs)
    se2 = float(np.std(two.completion_time_samples_s, ddof=1)) / math.sqrt(two.samples)
    assert abs(two.mean_completion_time_s - t_two) <= 4 * se2
    lo, hi = two.rate_hz_ci
    assert lo < 1 / t_two < hi
    # and the raw chain, for contrast: faster but worse
    raw = simulate_path(qnet.network_from_dict(chain_net(2, visibility=V)), hops_of(2), samples=200, seed=5)
    assert raw.purify is None
    assert raw.fidelity == pytest.approx(A * A + D * D, rel=1e-9)  # Psi- (Z) twice composes to I
    assert raw.fidelity < two.fidelity and raw.rate_hz > two.rate_hz


def test_purified_pair_enters_the_chain_with_memory_ages_shifted_by_t_c():
    """Gaussian memories: decay after the purification continues from age = herald age + t_c.

    Link 1 is purified (dephasing gaussian memories); link 2 is ideal with p = 1, so it exists
    after one round, before link 1 can (>= tau + t_c): link 1's pair is swapped the moment it
    exists and only its outer memory A decays, over the swap time s, from age a0 + t_c to
    a0 + t_c + s. That channel is the same for every waiting time D, so the mean delivered state
    is that channel applied to purify_link's state, then swapped with |Psi+> (linear).
    """
    from qnet.quantum.channels import apply_storage, storage_factors
    from qnet.repeater.path import build_chain
    from qnet.repeater.swapping import swap

    t2, s = 2e-3, 1e-3
    graph = qnet.network_from_dict(one_link_net(visibility=0.9, t2_s=t2, decay="gaussian", cutoff_s=4 * TAU))
    ref = purify_link(graph, "alice", "bob")
    chain1, specs, _ = build_chain(graph, [("alice", "bob", "mid")], purify="dejmps")
    purified = chain1.links[0]
    assert purified.purification.communication_time_s == pytest.approx(T_C, rel=1e-12)
    ideal = ChainLink(bell_projector("psi+"), 1.0, TAU)
    ch = RepeaterChain((purified, ideal), RepeaterNode(swap_time_s=s, memories=2), end_memories=(2, 1))
    mc = simulate_chain(ch, 4000, seed=8)
    a0 = specs[0].storage_time_a_s + T_C
    stored = apply_storage(ref.density_matrix[None], 0, *storage_factors(a0, a0 + s, math.inf, t2, "gaussian"))[0]
    want = float(np.real(np.trace(swap(stored, bell_projector("psi+")) @ bell_projector("psi+"))))
    assert abs(mc.fidelity - want) <= 4 * mc.fidelity_stderr
    # the shift matters here: starting the decay at the herald age instead is far outside 4 SE
    a_wrong = specs[0].storage_time_a_s
    wrong = apply_storage(
        ref.density_matrix[None], 0, *storage_factors(a_wrong, a_wrong + s, math.inf, t2, "gaussian")
    )[0]
    f_wrong = float(np.real(np.trace(wrong @ bell_projector("psi+"))))
    assert abs(f_wrong - want) > 10 * mc.fidelity_stderr
    # completion: link 1's purified time + s (rate within the 95 % interval)
    lo, hi = mc.rate_hz_ci
    assert lo < 1 / (ref.mean_completion_time_s + s) < hi


def test_chain_api_purified_links_may_be_mixed_with_raw_ones():
    rho = 0.9 * bell_projector("psi+") + 0.1 * bell_projector("psi-")
    pur = LinkPurification("dejmps", communication_time_s=0.25e-3)
    raw = ChainLink(rho, 0.5, 1e-3)
    purified = ChainLink(rho, 0.5, 1e-3, purification=pur)
    A, D = 0.9, 0.1
    f_leaf = A * A / (A * A + D * D)
    mc = simulate_chain(RepeaterChain((purified, raw), RepeaterNode(memories=2), end_memories=(2, 1)), 300, seed=1)
    # Phi+ (X) from the purified pair composed with Psi- (Z) of the raw one: only I -> Psi+ counts
    assert mc.fidelity == pytest.approx(f_leaf * A, rel=1e-9)
    with pytest.raises(qnet.ConfigError, match=r"chain.nodes\[0\].memories = 1"):
        RepeaterChain((purified, raw), RepeaterNode(memories=1), end_memories=(2, 1))
    with pytest.raises(qnet.ConfigError, match=r"chain.end_memories = \(1, 2\).*end user needs 2 memories"):
        RepeaterChain((purified, raw), RepeaterNode(memories=2), end_memories=(1, 2))
    with pytest.raises(qnet.QnetError, match="exact mode is not available.*purifies"):
        exact_chain(RepeaterChain((purified,), end_memories=2))
    with pytest.raises(qnet.ConfigError, match="purification.protocol"):
        LinkPurification("recurrence")
    with pytest.raises(qnet.ConfigError, match="purification.gate_fidelity"):
        LinkPurification(gate_fidelity=(1.0, 1.2))


# --------------------------------------------------------------------------- bad input, CLI


@pytest.mark.parametrize(
    "node, value, needle",
    [
        ("r1", 2, "nodes.r1.memories = 2"),
        ("r1", None, "nodes.r1.memories: repeater 'r1'"),
        ("alice", 1, "nodes.alice.memories = 1"),
        ("bob", None, "nodes.bob.memories: end node 'bob'"),
    ],
)
def test_purifying_needs_two_memories_per_node_per_link(node, value, needle):
    data = chain_net(2)
    data["nodes"][node]["memories"] = value
    if value is None:
        del data["nodes"][node]["memories"]
    with pytest.raises(qnet.ConfigError) as info:
        simulate_path(qnet.network_from_dict(data), hops_of(2), samples=10, seed=1, purify="dejmps")
    assert needle in str(info.value)


def test_bad_purify_requests():
    graph = qnet.network_from_dict(chain_net(2))
    with pytest.raises(qnet.QnetError, match="exact mode is not available"):
        simulate_path(graph, hops_of(2), exact=True, purify="dejmps")
    with pytest.raises(qnet.ConfigError, match="chain.purify = 'twice'"):
        simulate_path(graph, hops_of(2), samples=10, purify="twice")


def write_chain_toml(path, repeater_memories=4):
    lines = []
    for name, mem in (("alice", 2), ("r", repeater_memories), ("bob", 2)):
        lines.append(f'[nodes.{name}]\nkind = "memory"\nt2_s = 0.05\nemission_efficiency = 0.5\nmemories = {mem}')
    for st in ("m1", "m2"):
        lines.append(f'[nodes.{st}]\nkind = "station"\nscheme = "two_photon"\nvisibility = 0.9')
    for a, b in (("alice", "m1"), ("r", "m1"), ("r", "m2"), ("bob", "m2")):
        lines.append(f'[[fibres]]\na = "{a}"\nb = "{b}"\nlength_km = 2.0')
    path.write_text("\n".join(lines))
    return str(path)


def test_cli_purify_json(capsys, tmp_path):
    net = write_chain_toml(tmp_path / "net.toml")
    base = ["chain", net, "alice", "bob", "--via", "r", "--samples", "300", "--seed", "3", "--no-progress", "--json"]
    assert main([*base, "--purify", "bbpssw"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["purify"] == "bbpssw" and out["method"] == "monte_carlo" and out["samples"] == 300
    assert out["path"] == ["alice", "r", "bob"]
    assert main(base) == 0
    raw = json.loads(capsys.readouterr().out)
    assert raw["purify"] is None
    assert out["fidelity"] > raw["fidelity"] and out["rate_hz"] < raw["rate_hz"]
    assert main(["chain", net, "alice", "bob", "--via", "r", "--purify", "dejmps", "--no-progress"]) == 0
    assert "purified once (DEJMPS)" in capsys.readouterr().out


def test_cli_purify_with_too_few_memories_is_a_one_line_error(capsys, tmp_path):
    net = write_chain_toml(tmp_path / "net.toml", repeater_memories=3)
    assert main(["chain", net, "alice", "bob", "--via", "r", "--purify", "dejmps", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "nodes.r.memories = 3" in err and err.count("\n") == 1

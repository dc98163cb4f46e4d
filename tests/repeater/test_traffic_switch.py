"""The entanglement switch on the traffic engine: the idealised switch's capacity, GHZ fusion at the hub."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qnet.link.distinct import run_specs
from qnet.link.spec import link_spec
from qnet.network.generate import Hardware, network_table, star
from qnet.network.graph import network_from_dict
from qnet.repeater.fusion import fuse, ghz_fidelity
from qnet.repeater.switch import switch_capacity
from qnet.repeater.traffic import Request, simulate_traffic

# identical links, no decoherence, perfect operations; small p so rounds approach the Poisson model
IDEAL = {
    "t2_s": math.inf,
    "emission_efficiency": 0.04,
    "conversion_efficiency": 0.5,
    "prep_time_s": 380e-6,
    "bright_state_population": 0.05,
}
STATION = {"scheme": "single_click", "detector_efficiency": 0.8}


def switch_network(users: int, hub_memories: int):
    table = network_table(star(users, 10.0), Hardware(memory=IDEAL, station=STATION))
    table["nodes"]["hub"]["memories"] = hub_memories
    for u in range(users):
        table["nodes"][f"u{u}"]["memories"] = 1
    return network_from_dict(table)


def link_mu(graph):
    r = run_specs([link_spec(graph, "u0", "hub", "s-hub-u0")])[0]
    return r.success_probability, r.success_probability / r.attempt_time_s


@pytest.mark.parametrize("users,parties", [(3, 2), (5, 2), (4, 3), (5, 3)])
def test_idealised_switch_matches_published_capacity(users, parties):
    """B = 1 (one memory per link at the hub): C = q k(k-1) mu/(2k-1) (Bell), 1/sum 1/((k-i) mu) (GHZ).

    Tolerance: 4 standard errors of the delivery count (a renewal count, sd <= sqrt(N)) plus
    the discretisation of rounds, O(k p) relative (p = 1.3e-3 here).
    """
    graph = switch_network(users, hub_memories=users)
    p, mu = link_mu(graph)
    groups = itertools.combinations([f"u{i}" for i in range(users)], parties)
    reqs = [Request(*g) for g in groups]
    expected = switch_capacity(users, mu, parties=parties, buffer=1)
    duration = 4000 / expected
    run = simulate_traffic(graph, reqs, duration_s=duration, seed=7)
    n = sum(len(r.delivery_time_s) for r in run.requests)
    assert abs(n / duration - expected) < 4 * math.sqrt(n) / duration + users * p * expected
    # the switch treats every group alike (first come, first served): no group starves
    counts = [len(r.delivery_time_s) for r in run.requests]
    assert min(counts) > 0.5 * n / len(counts)


def test_ghz_delivery_state_is_the_fusion_of_its_links():
    """No decoherence: every GHZ delivered is fuse(rho, rho, rho) of the three links' states."""
    graph = switch_network(3, hub_memories=3)
    hub = graph.nodes["hub"]["hardware"]
    run = simulate_traffic(graph, [Request("u0", "u1", "u2")], duration_s=20.0, seed=3)
    rec = run.requests[0]
    assert rec.paths == (("u0", "hub"), ("u1", "hub"), ("u2", "hub"))
    rhos = [run_specs([link_spec(graph, f"u{i}", "hub", f"s-hub-u{i}")])[0].density_matrix for i in range(3)]
    expected = float(ghz_fidelity(fuse(*rhos, gate_fidelity=hub.gate_fidelity, readout_fidelity=hub.readout_fidelity)))
    assert rec.fidelity.size > 10
    np.testing.assert_allclose(rec.fidelity, expected, atol=1e-12)


def test_ghz_request_needs_a_hub():
    from qnet.errors import NetworkError
    from qnet.network.generate import line

    graph = network_from_dict(network_table(line(4, 10.0), Hardware(memory=IDEAL, station=STATION)))
    with pytest.raises(NetworkError, match=r"requests\[0\].*'n0', 'n1' and 'n3'"):
        simulate_traffic(graph, [Request("n0", "n1", "n3")], duration_s=1.0)

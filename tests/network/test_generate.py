"""Generated topologies, the hardware file and the network table they make (qnet.network.generate, writer)."""

from __future__ import annotations

import math
import tomllib

import networkx as nx
import numpy as np
import pytest

import qnet
from qnet.errors import QnetError
from qnet.network.generate import Hardware, grid, line, network_table, read_hardware, ring, star, waxman
from qnet.network.writer import to_toml, write_network

HW = "examples/hardware/ion.toml"


def test_line_ring_grid_star_shapes_and_lengths():
    g = line(5, 12.5)
    assert (g.number_of_nodes(), g.number_of_edges()) == (5, 4)
    assert sorted(d for _, d in g.degree) == [1, 1, 2, 2, 2]
    assert all(length == 12.5 for *_, length in g.edges(data="length_km"))
    g = ring(7, 3.0)
    assert (g.number_of_nodes(), g.number_of_edges()) == (7, 7)
    assert {d for _, d in g.degree} == {2}
    for u, v in g.edges:  # stored positions really are spacing_km apart
        assert math.dist(g.nodes[u]["pos"], g.nodes[v]["pos"]) == pytest.approx(3.0, rel=1e-12)
    g = grid(3, 4, 2.0)
    assert (g.number_of_nodes(), g.number_of_edges()) == (12, 3 * 3 + 2 * 4)
    assert sorted(d for _, d in g.degree).count(4) == 2 and g.degree["n0_0"] == 2 and g.degree["n1_1"] == 4
    g = star(5, 40.0)
    assert g.degree["hub"] == 5 and all(g.degree[f"u{i}"] == 1 for i in range(5))
    assert nx.is_tree(g)


def test_waxman_lengths_are_euclidean_and_connected():
    g = waxman(60, alpha=0.05, beta=0.3, domain_km=200.0, seed=3)
    assert g.number_of_nodes() == 60 and nx.is_connected(g)
    pos = {n: g.nodes[n]["pos"] for n in g}
    assert all(0.0 <= x <= 200.0 and 0.0 <= y <= 200.0 for x, y in pos.values())
    for u, v, length in g.edges(data="length_km"):
        dx, dy = pos[u][0] - pos[v][0], pos[u][1] - pos[v][1]
        assert length == pytest.approx((dx * dx + dy * dy) ** 0.5, rel=1e-12)
    # the same seed gives the same graph; another seed another
    assert sorted(g.edges) == sorted(waxman(60, alpha=0.05, beta=0.3, domain_km=200.0, seed=3).edges)
    assert sorted(g.edges) != sorted(waxman(60, alpha=0.05, beta=0.3, domain_km=200.0, seed=4).edges)


def test_waxman_joins_components_with_fewest_shortest_edges():
    raw = nx.waxman_graph(40, beta=0.2, alpha=0.03, domain=(0, 0, 100.0, 100.0), seed=5)
    parts = nx.number_connected_components(raw)
    assert parts > 1
    g = waxman(40, alpha=0.03, beta=0.2, domain_km=100.0, seed=5)
    assert g.graph["added_edges"] == parts - 1
    assert g.number_of_edges() == raw.number_of_edges() + parts - 1
    added = [(u, v) for u, v in g.edges if not raw.has_edge(int(u[1:]), int(v[1:]))]
    # each added edge is the shortest pair between two different parts of the raw graph
    comp = {n: i for i, c in enumerate(nx.connected_components(raw)) for n in c}
    pos = np.array([raw.nodes[i]["pos"] for i in range(40)]) * 1.0
    for u, v in added:
        cu, cv = comp[int(u[1:])], comp[int(v[1:])]
        assert cu != cv
        shortest = min(
            math.dist(pos[i], pos[j]) for i in range(40) for j in range(40) if comp[i] == cu and comp[j] == cv
        )
        assert g.edges[u, v]["length_km"] == pytest.approx(shortest, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: line(1, 1.0), "nodes = 1 is invalid: an integer >= 2"),
        (lambda: ring(2, 1.0), "nodes = 2 is invalid: an integer >= 3"),
        (lambda: line(3, -1.0), "spacing_km = -1.0 is invalid: a finite length in km > 0"),
        (lambda: grid(1, 1, 1.0), "grid 1 x 1 is invalid: at least 2 nodes"),
        (lambda: star(0, 1.0), "users = 0 is invalid: an integer >= 1"),
        (lambda: waxman(10, alpha=0.0), "alpha = 0.0 is invalid: a number in (0, 1]"),
        (lambda: waxman(10, domain_km=math.inf), "domain_km = inf is invalid: a finite length in km > 0"),
    ],
)
def test_bad_topology_parameters_one_line(call, message):
    with pytest.raises(QnetError) as exc:
        call()
    assert str(exc.value) == message


def test_network_table_structure_and_hardware():
    hw = read_hardware(HW)
    with open("examples/ion_repeater_chain.toml", "rb") as f:
        chain = tomllib.load(f)
    g = star(3, 30.0)
    table = network_table(g, hw)
    graph = qnet.network_from_dict(table)
    memories = sorted(n for n, d in graph.nodes(data=True) if isinstance(d["hardware"], qnet.MemoryNode))
    stations = sorted(n for n, d in graph.nodes(data=True) if isinstance(d["hardware"], qnet.Station))
    assert memories == ["hub", "u0", "u1", "u2"] and stations == ["s-hub-u0", "s-hub-u1", "s-hub-u2"]
    # every generated node carries the ion chain's memory and station fields
    mem = {k: v for k, v in chain["nodes"]["r1"].items()}
    assert table["nodes"]["hub"] == mem
    assert table["nodes"]["s-hub-u1"] == chain["nodes"]["s1"]
    for s in stations:  # station in the middle: two fibres of half the edge each
        assert [graph.edges[s, m]["fibre"].length_km for m in graph.neighbors(s)] == [15.0, 15.0]
    # fibres reachable by --set with their default names
    g2 = qnet.network_from_dict(table, overrides=["fibres.hub-s-hub-u0.length_km=4"])
    assert g2.edges["hub", "s-hub-u0"]["fibre"].length_km == 4.0


def test_memories_rule_max_of_hardware_and_degree():
    hw = read_hardware(HW)
    assert "memories" not in network_table(star(3, 1.0), hw)["nodes"]["hub"]  # qnet default: one per link
    hw2 = Hardware({**hw.memory, "memories": 2}, hw.station, hw.fibre, hw.network)
    nodes = network_table(star(3, 1.0), hw2)["nodes"]
    assert nodes["hub"]["memories"] == 3 and nodes["u0"]["memories"] == 2


def test_round_trip_toml(tmp_path):
    table = network_table(waxman(30, seed=2), read_hardware(HW), name="w", description='a "quoted" note')
    out = write_network(table, tmp_path / "w.toml", header="test\nfile")
    assert tomllib.loads(out.read_text()) == table
    a, b = qnet.load_network(out), qnet.network_from_dict(table)
    assert sorted(a.nodes(data="hardware")) == sorted(b.nodes(data="hardware"))
    assert sorted((tuple(sorted((u, v))), f) for u, v, f in a.edges(data="fibre")) == sorted(
        (tuple(sorted((u, v))), f) for u, v, f in b.edges(data="fibre")
    )
    assert a.graph["name"] == "w" and a.graph["description"] == 'a "quoted" note'
    with pytest.raises(QnetError, match="exists"):
        write_network(table, out)


def test_to_toml_floats_round_trip_exactly():
    values = [0.1, 1e-300, 5e-324, 1.7976931348623157e308, 380e-6, 2.0e5, -0.0, math.inf, 3.0]
    table = {"nodes": {f"x{i}": {"v": v} for i, v in enumerate(values)}}
    back = tomllib.loads(to_toml(table))
    assert [back["nodes"][f"x{i}"]["v"] for i in range(len(values))] == values


@pytest.mark.parametrize(
    "text, message",
    [
        ("[memory]\nt2_s = 1.0\nemission_efficiency = 0.5\n", "missing table [station]"),
        (
            "[memory]\nt2_s = 1.0\nemission_efficiency = 2.0\n[station]\nscheme = 'two_photon'\n",
            "memory.emission_efficiency = 2.0 is invalid: a number in [0, 1]",
        ),
        (
            "[memory]\nt2_s = 1.0\nemission_efficiency = 0.5\n[station]\nscheme = 'x'\n",
            "station.scheme = 'x' is invalid: one of 'single_click', 'two_photon'",
        ),
        (
            "[memory]\nt2_s = 1.0\nemission_efficiency = 0.5\n[station]\nscheme = 'two_photon'\n[fibre]\nlength_km = 3\n",
            "fibre.length_km = 3 is invalid: not a field here",
        ),
        (
            "[memory]\nt2_s = 1.0\nemission_efficiency = 0.5\n[station]\nscheme = 'two_photon'\n[nodes]\n",
            "unknown table [nodes]",
        ),
        ("[memory\n", "is not valid TOML"),
    ],
)
def test_bad_hardware_files_one_line(tmp_path, text, message):
    f = tmp_path / "hw.toml"
    f.write_text(text)
    with pytest.raises(QnetError) as exc:
        read_hardware(f)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert str(exc.value).startswith(f"hardware file {str(f)!r}")


def test_bad_topology_for_network_table():
    hw = read_hardware(HW)
    g = nx.Graph()
    g.add_edge("a.b", "c", length_km=1.0)
    with pytest.raises(QnetError, match="topology node 'a.b': invalid name"):
        network_table(g, hw)
    g = nx.Graph()
    g.add_edge("a", "b", length_km=-1.0)
    with pytest.raises(QnetError, match=r"topology edge a - b: length_km = -1.0 is invalid"):
        network_table(g, hw)
    g = nx.Graph()
    g.add_edge("a", "b", length_km=1.0)
    g.add_edge("s-a-b", "c", length_km=1.0)  # a node named like a station
    with pytest.raises(QnetError, match="station name 's-a-b' is already a node's name"):
        network_table(g, hw)


def test_hardware_kind_field_refused(tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text("[memory]\nkind = 'memory'\nt2_s = 1.0\nemission_efficiency = 0.5\n[station]\nscheme = 'two_photon'\n")
    with pytest.raises(QnetError) as exc:
        read_hardware(f)
    assert (
        str(exc.value)
        == f"hardware file {str(f)!r}: memory.kind = 'memory' is invalid: not a field here; the table [memory] gives the kind"
    )

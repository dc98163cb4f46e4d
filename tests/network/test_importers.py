"""GraphML/GML fibre maps as topologies (qnet.network.importers)."""

from __future__ import annotations

import math

import networkx as nx
import pytest

import qnet
from qnet.errors import QnetError
from qnet.network.generate import network_table, read_hardware
from qnet.network.importers import great_circle_km, read_topology

MAP = "tests/data/small_fibre_map.graphml"
LATLON = "tests/data/small_latlon_map.gml"


def test_shipped_graphml_with_known_lengths():
    g = read_topology(MAP)
    assert sorted(g) == ["Basel", "Bern", "Geneva", "Lausanne", "Zurich"]
    lengths = {frozenset(e): km for *e, km in g.edges(data="length_km")}
    assert lengths == {
        frozenset(("Geneva", "Lausanne")): 62.0,
        frozenset(("Lausanne", "Bern")): 101.5,
        frozenset(("Bern", "Basel")): 98.0,
        frozenset(("Bern", "Zurich")): 125.0,
        frozenset(("Basel", "Zurich")): 87.0,
    }
    assert g.nodes["Geneva"]["pos"] == (6.1432, 46.2044)
    graph = qnet.network_from_dict(network_table(g, read_hardware("examples/hardware/ion.toml")))
    assert graph.edges["Geneva", "s-Geneva-Lausanne"]["fibre"].length_km == 31.0


def test_length_unit_metres(tmp_path):
    f = tmp_path / "m.graphml"
    nx.write_graphml(nx.Graph([("a", "b", {"LinkLength": 2500.0})]), f)
    assert read_topology(f, length_unit="m").edges["a", "b"]["length_km"] == 2.5
    assert read_topology(f, length_attr="LinkLength").edges["a", "b"]["length_km"] == 2500.0


def test_great_circle_against_hand_value():
    # one degree of longitude on the equator: 2 pi R / 360 with R = 6371.0088 km
    assert great_circle_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(2 * math.pi * 6371.0088 / 360, rel=1e-12)
    # Geneva - Zurich by the spherical law of cosines, computed independently of the haversine
    p1, l1, p2, l2 = map(math.radians, (46.2044, 6.1432, 47.3769, 8.5417))
    central = math.acos(math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1))
    assert great_circle_km(46.2044, 6.1432, 47.3769, 8.5417) == pytest.approx(6371.0088 * central, rel=1e-9)
    assert 220 < 6371.0088 * central < 230  # the known ~224 km as the crow flies


def test_gml_without_lengths_uses_latitude_longitude():
    g = read_topology(LATLON)
    one_degree = 2 * math.pi * 6371.0088 / 360
    assert g.edges["0", "1"]["length_km"] == pytest.approx(one_degree, rel=1e-12)  # along the equator
    assert g.edges["1", "2"]["length_km"] == pytest.approx(one_degree, rel=1e-12)  # along a meridian


def test_names_sanitised_and_parallel_edges_keep_shortest(tmp_path):
    g = nx.MultiGraph()
    g.add_edge("New York", "Boston.1", length_km=300.0)
    g.add_edge("New York", "Boston.1", length_km=250.0)
    f = tmp_path / "multi.graphml"
    nx.write_graphml(g, f)
    topo = read_topology(f)
    assert sorted(topo) == ["Boston_1", "New_York"] and topo.edges["New_York", "Boston_1"]["length_km"] == 250.0


def _write(tmp_path, graph, name="g.graphml"):
    f = tmp_path / name
    nx.write_graphml(graph, f)
    return f


def test_largest_component_option(tmp_path):
    g = nx.Graph([("a", "b", {"length_km": 1.0}), ("b", "c", {"length_km": 1.0}), ("x", "y", {"length_km": 2.0})])
    f = _write(tmp_path, g)
    with pytest.raises(QnetError, match=r"2 separate parts \(sizes 3, 2\); use --largest-component"):
        read_topology(f)
    topo = read_topology(f, largest_component=True)
    assert sorted(topo) == ["a", "b", "c"] and topo.graph["dropped_nodes"] == 2


@pytest.mark.parametrize(
    "graph, kwargs, message",
    [
        (nx.Graph(), {}, "the graph has no nodes"),
        (nx.Graph([("a", "a", {"length_km": 1.0}), ("a", "b", {"length_km": 1.0})]), {}, "self-loop at node a"),
        (nx.Graph([("a", "b")]), {}, "no edge lengths: no edge attribute length_km, length, LinkLength, weight"),
        (
            nx.Graph([("a", "b", {"length_km": 1.0})]),
            {"length_attr": "km"},
            "--length-attr 'km': no edge has it; edge attributes: length_km",
        ),
        (nx.Graph([("a", "b", {"d": 1.0}), ("b", "c", {"e": 1.0})]), {"length_attr": "d"}, "edge b - c: no 'd' length"),
        (
            nx.Graph([("a", "b", {"length_km": -3.0})]),
            {},
            "edge a - b length_km = -3.0 is invalid: a finite number >= 0",
        ),
        (
            nx.Graph([("a", "b", {"length_km": 1.0})]),
            {"length_unit": "mi"},
            "--length-unit 'mi' is invalid: one of km, m",
        ),
    ],
)
def test_bad_inputs_one_line(tmp_path, graph, kwargs, message):
    f = _write(tmp_path, graph)
    with pytest.raises(QnetError) as exc:
        read_topology(f, **kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_files_one_line(tmp_path):
    with pytest.raises(QnetError, match="unknown format '.txt'"):
        read_topology(tmp_path / "map.txt")
    with pytest.raises(QnetError, match="not found"):
        read_topology(tmp_path / "none.graphml")
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph")
    with pytest.raises(QnetError, match="cannot be read as graphml") as exc:
        read_topology(bad)
    assert "\n" not in str(exc.value)
    nodes_only = nx.Graph()
    nodes_only.add_nodes_from("ab")
    with pytest.raises(QnetError, match="the graph has no edges"):
        read_topology(_write(tmp_path, nodes_only, "n.graphml"))


def test_colliding_names_refused(tmp_path):
    f = _write(tmp_path, nx.Graph([("a b", "a_b", {"length_km": 1.0})]))
    with pytest.raises(QnetError, match="nodes 'a_b' and another both become the name 'a_b'|nodes 'a b' and another"):
        read_topology(f)

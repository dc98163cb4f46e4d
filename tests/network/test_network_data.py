"""The validated network data (``network_data``) and the graph built from it.

A link sweep reads its link off :class:`~qnet.network.graph.NetworkData` and never builds the
``networkx.Graph`` (a cold ``qnet sweep`` of a link starts without importing networkx); these tests
hold the data and the graph to the same content, and ``find_station`` to the same answers on both.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import qnet
from qnet.link.spec import find_station
from qnet.network.graph import network_data
from qnet.network.hardware import MemoryNode

ROOT = Path(__file__).resolve().parents[2]
NETWORKS = sorted((ROOT / "examples").glob("*.toml"))


def _table(path: Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.name)
def test_graph_holds_the_tables_in_order(path):
    table = _table(path)
    data = network_data(table, source=str(path))
    graph = data.graph()
    assert list(graph) == list(table["nodes"]) == list(data.nodes)
    assert [graph.nodes[n]["hardware"].name for n in graph] == list(table["nodes"])
    assert [type(graph.nodes[n]["hardware"]).__name__ for n in graph] == [
        "MemoryNode" if t["kind"] == "memory" else "Station" for t in table["nodes"].values()
    ]
    ends = [(f["a"], f["b"]) for f in table["fibres"]]
    assert [(f.a, f.b) for f in data.fibres] == ends
    assert {frozenset(e) for e in graph.edges} == {frozenset(e) for e in ends}
    for fibre in data.fibres:
        assert graph.edges[fibre.a, fibre.b]["fibre"] is fibre
        assert data.adj[fibre.a][fibre.b]["fibre"] is data.adj[fibre.b][fibre.a]["fibre"] is fibre
    assert {n: set(nbrs) for n, nbrs in data.adj.items()} == {n: set(graph.adj[n]) for n in graph}
    assert graph.graph == data.attributes
    assert graph.graph["source"] == str(path)
    # the graph is a copy: editing it leaves the data as it was
    graph.nodes[next(iter(graph))]["hardware"] = None
    assert data.nodes[next(iter(data.nodes))]["hardware"] is not None


@pytest.mark.parametrize("path", NETWORKS, ids=lambda p: p.name)
def test_find_station_answers_alike_on_data_and_graph(path):
    data = network_data(_table(path))
    graph = data.graph()
    names = list(graph) + ["nowhere"]
    for a, b in itertools.product(names, repeat=2):
        for station in (None, *[n for n in graph if not isinstance(graph.nodes[n]["hardware"], MemoryNode)]):
            outcomes = []
            for net in (data, graph):
                try:
                    outcomes.append(("ok", find_station(net, a, b, station)))
                except qnet.QnetError as exc:
                    outcomes.append(("error", str(exc)))
            assert outcomes[0] == outcomes[1], (a, b, station)


def test_data_errors_are_the_graph_errors(link_network):
    table = link_network()
    table["fibres"].append(dict(table["fibres"][0]))
    with pytest.raises(qnet.QnetError) as from_data:
        network_data(table)
    with pytest.raises(qnet.QnetError) as from_graph:
        qnet.network_from_dict(table)
    assert str(from_data.value) == str(from_graph.value)
    assert "fibre names must be unique" in str(from_data.value)


def test_a_link_sweep_does_not_import_networkx(tmp_path):
    """The cold-start figure of a link sweep leaves networkx out (~0.1 s of imports); a chain sweep needs it."""
    out = tmp_path / "out.csv"
    code = (
        "import sys\n"
        "from qnet.cli.app import main\n"
        "rc = main(['sweep', 'examples/liu2026_ion_link.toml', 'alice', 'bob', '--vary',"
        " 'fibres.alice-station.length_km=1:20:5', '--link-backend', 'batch', '--no-progress',"
        f" '-o', {str(out)!r}] + sys.argv[1:])\n"
        "print(rc, 'networkx' in sys.modules)\n"
    )
    link = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert link.stdout.split() == ["0", "False"], link.stderr
    assert len(out.read_text().splitlines()) == 6  # the header and five points
    chain = subprocess.run(
        [sys.executable, "-c", code, "--chain", "--overwrite"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert chain.stdout.split() == ["0", "True"], chain.stderr

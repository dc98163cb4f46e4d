"""``qnet generate``, ``qnet import`` and ``qnet draw`` on the command line."""

from __future__ import annotations

import json
import math
import tomllib

import matplotlib.image
import networkx as nx
import pytest

import qnet
from qnet.cli.app import main
from qnet.network.generate import network_table, read_hardware, waxman

HW = "examples/hardware/ion.toml"


def test_generate_grid_writes_the_library_table(tmp_path, capsys):
    out = tmp_path / "grid.toml"
    assert (
        main(["generate", "grid", "--rows", "2", "--cols", "3", "--spacing-km", "10", "--hardware", HW, "-o", str(out)])
        == 0
    )
    assert capsys.readouterr().out.startswith(
        f"wrote {out}: 6 memory nodes, 7 links (7 stations, 14 fibres, 70 km of fibre)"
    )
    graph = qnet.load_network(out)
    memories = [n for n, hw in graph.nodes(data="hardware") if isinstance(hw, qnet.MemoryNode)]
    assert len(memories) == 6 and graph.number_of_nodes() == 13 and graph.number_of_edges() == 14
    assert graph.edges["n0_0", "s-n0_0-n0_1"]["fibre"].length_km == 5.0
    assert out.read_text().startswith(
        f"# grid topology\n# made by: qnet generate grid --hardware {HW} --rows 2 --cols 3 --spacing-km 10.0 -o {out}\n"
    )


def test_generate_waxman_matches_the_library(tmp_path, capsys):
    out = tmp_path / "w.toml"
    assert (
        main(["generate", "waxman", "--nodes", "25", "--alpha", "0.2", "--seed", "7", "--hardware", HW, "-o", str(out)])
        == 0
    )
    with open(out, "rb") as f:
        table = tomllib.load(f)
    expected = network_table(
        waxman(25, alpha=0.2, beta=0.4, domain_km=100.0, seed=7), read_hardware(HW), name="waxman_25"
    )
    assert table == expected
    assert main(["generate", "waxman", "--nodes", "25", "--hardware", HW, "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["generate", "waxman", "--nodes", "25", "--hardware", HW, "-o", str(out), "--overwrite"]) == 0


@pytest.mark.slow
def test_path_on_a_generated_network_equals_chain_on_its_route(tmp_path, capsys):
    out = tmp_path / "w.toml"
    assert (
        main(
            [
                "generate",
                "waxman",
                "--nodes",
                "12",
                "--alpha",
                "0.3",
                "--domain-km",
                "60",
                "--seed",
                "2",
                "--hardware",
                HW,
                "-o",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    a, b = "n0", "n11"
    assert main(["path", str(out), a, b, "--metric", "fidelity", "--seed", "1", "--json", "--no-progress"]) == 0
    path = json.loads(capsys.readouterr().out)
    assert path["path"][0] == a and path["path"][-1] == b
    assert 0.5 < path["fidelity"] < 1.0 and 0.0 < path["rate_hz"] < math.inf
    inner = path["path"][1:-1]
    args = ["chain", str(out), a, b, "--seed", "1", "--json", "--no-progress"] + (
        ["--via", ",".join(inner)] if inner else []
    )
    assert main(args) == 0
    chain = json.loads(capsys.readouterr().out)
    assert chain["fidelity"] == path["fidelity"] and chain["rate_hz"] == path["rate_hz"]
    # the route runs along edges of the topology the file was made from
    topo = waxman(12, alpha=0.3, domain_km=60.0, seed=2)
    assert nx.is_path(topo, path["path"])


def test_import_graphml(tmp_path, capsys):
    out = tmp_path / "swiss.toml"
    assert main(["import", "tests/data/small_fibre_map.graphml", "--hardware", HW, "-o", str(out)]) == 0
    assert "5 memory nodes, 5 links" in capsys.readouterr().out
    graph = qnet.load_network(out)
    assert graph.edges["Bern", "s-Bern-Zurich"]["fibre"].length_km == 62.5
    assert graph.graph["name"] == "small_fibre_map"


@pytest.mark.slow
def test_draw_png_and_utilisation(tmp_path, capsys):
    out = tmp_path / "chain.png"
    assert main(["draw", "examples/ion_repeater_chain.toml", "-o", str(out), "--color", "rate"]) == 0
    assert matplotlib.image.imread(out).shape[:2] == (600, 800)
    traffic = tmp_path / "traffic.json"
    traffic.write_text(json.dumps({"links": [{"a": "r1", "b": "r2", "utilisation": 0.5}]}))
    svg = tmp_path / "use.svg"
    assert main(["draw", "examples/ion_repeater_chain.toml", "--result", str(traffic), "-o", str(svg)]) == 0
    assert "coloured by utilisation (3 grey: no value)" in capsys.readouterr().out
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "line", "--nodes", "1", "--hardware", HW, "-o", "OUT"], "nodes = 1 is invalid: an integer >= 2"),
        (
            ["generate", "star", "--users", "3", "--length-km", "-2", "--hardware", HW, "-o", "OUT"],
            "length_km = -2.0 is invalid: a finite length in km > 0",
        ),
        (
            ["generate", "ring", "--nodes", "5", "--hardware", "nope.toml", "-o", "OUT"],
            "hardware file 'nope.toml' not found",
        ),
        (
            ["import", "tests/data/small_fibre_map.graphml", "--length-attr", "x", "--hardware", HW, "-o", "OUT"],
            "--length-attr 'x': no edge has it",
        ),
        (
            ["draw", "examples/ion_repeater_chain.toml", "--color", "utilisation", "-o", "OUT.png"],
            "--color utilisation needs a traffic result (--result FILE)",
        ),
    ],
)
def test_cli_errors_one_line(tmp_path, capsys, args, message):
    args = [a.replace("OUT", str(tmp_path / "out")) if a.startswith("OUT") else a for a in args]
    args = [str(tmp_path / "out.toml") if a == str(tmp_path / "out") else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("qnet: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out.toml").exists()


def test_generate_offers_exactly_the_library_topologies():
    import argparse

    from qnet.cli import network
    from qnet.network.choices import TOPOLOGIES

    parser = argparse.ArgumentParser()
    network.register(parser.add_subparsers(dest="command"))
    gen = parser._subparsers._group_actions[0].choices["generate"]
    assert tuple(gen._subparsers._group_actions[0].choices) == TOPOLOGIES

"""qnet.studies.draw: the memory-node topology with links coloured by fidelity, rate or utilisation."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pytest

import qnet
from qnet.errors import QnetError
from qnet.link.run import run_links
from qnet.link.circuit import compile_link
from qnet.link.spec import link_spec
from qnet.studies.draw import draw_network, memory_graph, read_utilisation

CHAIN = "examples/ion_repeater_chain.toml"


def test_png_has_the_expected_size(tmp_path):
    out = tmp_path / "net.png"
    draw_network(qnet.load_network(CHAIN), out, size_in=(6.0, 4.0), dpi=50)
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (200, 300)
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_memory_graph_collapses_stations():
    graph = qnet.load_network("examples/metro_ion_network.toml")
    g = memory_graph(graph)
    memories = {n for n, hw in graph.nodes(data="hardware") if isinstance(hw, qnet.MemoryNode)}
    assert set(g) == memories
    for a, b, d in g.edges(data=True):
        s = d["station"]
        assert d["length_km"] == graph.edges[a, s]["fibre"].length_km + graph.edges[s, b]["fibre"].length_km


def _line_colours(fig):
    from matplotlib.collections import LineCollection

    coll = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    return coll[-1]


def test_fidelity_colours_follow_the_link_results():
    graph = qnet.load_network(CHAIN, ["fibres.r3-s4.length_km=60"])  # one link much longer: a lower fidelity
    fig = draw_network(graph, color="fidelity")
    coll = _line_colours(fig)
    g = memory_graph(graph)
    fids = [run_links([compile_link(link_spec(graph, a, b, g.edges[a, b]["station"]))])[0].fidelity for a, b in g.edges]
    cbar = fig.axes[1]  # the colourbar spans exactly the links' fidelities (Aer, independent of the batch engine)
    lo, hi = cbar.get_ylim()
    assert lo == pytest.approx(min(fids), abs=1e-9) and hi == pytest.approx(max(fids), abs=1e-9)
    assert len(coll.get_colors()) == 4 and len({tuple(c) for c in coll.get_colors()}) == 2


def test_utilisation_from_a_traffic_result(tmp_path):
    f = tmp_path / "traffic.json"
    f.write_text(
        json.dumps(
            {"links": [{"a": "alice", "b": "r1", "utilisation": 0.9}, {"a": "r2", "b": "r1", "utilisation": 0.1}]}
        )
    )
    fig = draw_network(qnet.load_network(CHAIN), color="utilisation", utilisation=read_utilisation(f))
    assert "(2 grey: no value)" in fig.axes[0].get_title()
    coll = _line_colours(fig)
    colours = [tuple(c) for c in coll.get_colors()]
    assert len(colours) == 2 and colours[0] != colours[1]


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "expected a JSON object with a 'links' list"),
        ('{"links": [{"a": "x"}]}', "links[0] = {'a': 'x'} is invalid: an object with a, b and utilisation"),
        (
            '{"links": [{"a": "x", "b": "y", "utilisation": 1.5}]}',
            "links[0].utilisation = 1.5 is invalid: a number in [0, 1]",
        ),
        ("{", "not a JSON file"),
    ],
)
def test_bad_traffic_results_one_line(tmp_path, content, message):
    f = tmp_path / "t.json"
    f.write_text(content)
    with pytest.raises(QnetError) as exc:
        read_utilisation(f)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_bad_requests_one_line(tmp_path):
    graph = qnet.load_network(CHAIN)
    with pytest.raises(QnetError, match="--color utilisation needs a traffic result"):
        draw_network(graph, color="utilisation")
    with pytest.raises(QnetError, match="link alice - bob is not an elementary link"):
        draw_network(graph, color="utilisation", utilisation={frozenset(("alice", "bob")): 0.5})
    with pytest.raises(QnetError, match="one of .png, .svg, .pdf"):
        draw_network(graph, tmp_path / "x.jpg")
    (tmp_path / "x.png").write_bytes(b"old")
    with pytest.raises(QnetError, match="exists"):
        draw_network(graph, tmp_path / "x.png")
    assert (tmp_path / "x.png").read_bytes() == b"old"
    draw_network(graph, tmp_path / "x.png", overwrite=True)
    assert matplotlib.image.imread(tmp_path / "x.png").shape[:2] == (600, 800)


def test_layout_is_deterministic():
    graph = qnet.load_network(CHAIN)
    a = draw_network(graph, color="utilisation", utilisation={})
    b = draw_network(graph, color="utilisation", utilisation={})
    pa = np.asarray(a.axes[0].collections[-1].get_offsets())
    pb = np.asarray(b.axes[0].collections[-1].get_offsets())
    assert np.array_equal(pa, pb)


def test_auto_layout_follows_fibre_lengths():
    # a line with one link 4x longer: Kamada-Kawai (auto, small network) draws it ~4x longer
    graph = qnet.load_network(CHAIN, ["fibres.r3-s4.length_km=50", "fibres.s4-bob.length_km=50"])
    fig = draw_network(graph, color="utilisation", utilisation={})
    pts = dict(zip(memory_graph(graph), np.asarray(fig.axes[0].collections[-1].get_offsets())))
    short = np.linalg.norm(pts["r1"] - pts["r2"])
    long = np.linalg.norm(pts["r3"] - pts["bob"])
    assert long / short == pytest.approx(4.0, rel=0.05)


def test_without_matplotlib_one_line(monkeypatch, tmp_path):
    import sys

    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(QnetError) as exc:
        draw_network(qnet.load_network(CHAIN), tmp_path / "x.png")
    assert str(exc.value) == "qnet draw needs matplotlib: pip install 'qnet[plot]'"
    assert not (tmp_path / "x.png").exists()

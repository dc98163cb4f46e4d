"""circuits/ holds the compiled circuits of the shipped examples; they must not drift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qnet
from qnet.export import circuit_filename, circuits_equal, load_circuits
from qnet.link import elementary_links

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def _links():
    for path in EXAMPLES:
        graph = qnet.load_network(path)
        for a, b, s in elementary_links(graph):
            yield path, graph, a, b, s


@pytest.mark.parametrize("path, graph, a, b, s", list(_links()), ids=lambda x: getattr(x, "name", None))
def test_saved_circuit_matches_the_compiler(path, graph, a, b, s):
    saved = ROOT / "circuits" / circuit_filename(path, a, b)
    assert saved.exists(), f"run: qnet compile {' '.join(str(p.relative_to(ROOT)) for p in EXAMPLES)} -o circuits"
    loaded = load_circuits(saved)[0]
    compiled = qnet.compile_link(qnet.link_spec(graph, a, b, s))
    assert circuits_equal(loaded, compiled.circuit)
    assert loaded.metadata["heralds"] == compiled.metadata["heralds"]


def test_a_loaded_circuit_runs_on_aer_like_the_compiled_one():
    path, graph, a, b, s = next(_links())
    compiled = qnet.compile_link(qnet.link_spec(graph, a, b, s))
    loaded = load_circuits(ROOT / "circuits" / circuit_filename(path, a, b))[0]
    import dataclasses

    fresh, reloaded = qnet.run_links([compiled, dataclasses.replace(compiled, circuit=loaded)])
    assert np.allclose(fresh.density_matrix, reloaded.density_matrix, atol=1e-14)


def test_circuits_equal_sees_a_changed_parameter():
    path, graph, a, b, s = next(_links())
    one = qnet.compile_link(qnet.link_spec(graph, a, b, s)).circuit
    other = qnet.compile_link(
        qnet.link_spec(qnet.load_network(path, [f"fibres.{a}-{s}.length_km=7"]), a, b, s)
    ).circuit
    assert not circuits_equal(one, other)

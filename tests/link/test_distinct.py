"""run_specs: each distinct link once, in one run; results equal to running every link on its own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import qnet
from qnet.errors import QnetError
from qnet.link.distinct import run_specs


def _specs():
    g = qnet.load_network("examples/ion_repeater_chain.toml")
    a = qnet.link_spec(g, "alice", "r1")
    b = replace(a, efficiency_a=a.efficiency_a * 0.5)
    return [a, b, a, b, a]


@pytest.mark.parametrize("engine", ["aer", "batch"])
def test_distinct_links_equal_running_each(engine):
    specs = _specs()
    got = run_specs(specs, link_backend=engine)
    for spec, r in zip(specs, got):
        alone = qnet.run_link(qnet.compile_link(spec))
        assert r.success_probability == pytest.approx(alone.success_probability, rel=1e-12)
        np.testing.assert_allclose(r.density_matrix, alone.density_matrix, atol=1e-12)
    assert got[0].density_matrix is not got[2].density_matrix  # each caller gets its own copy


def test_unknown_link_backend_is_refused():
    with pytest.raises(QnetError, match="link_backend = 'foo' is invalid"):
        run_specs(_specs(), link_backend="foo")


def _distinct_specs_of_both_schemes():
    """Distinct links of each heralding scheme (efficiencies and storage times varied), one repeated."""
    rng = np.random.default_rng(11)
    out = []
    for path, a, b in (
        ("examples/krutyanskiy2023_230m_link.toml", "node_a", "node_b"),
        ("examples/liu2026_ion_link.toml", "alice", "bob"),
    ):
        base = qnet.link_spec(qnet.load_network(path), a, b)
        for eta, t in zip(rng.uniform(0.05, 0.5, (4, 2)), rng.uniform(1e-6, 1e-3, (4, 2))):
            out.append(
                replace(
                    base,
                    efficiency_a=float(eta[0]),
                    efficiency_b=float(eta[1]),
                    storage_time_a_s=float(t[0]),
                    storage_time_b_s=float(t[1]),
                )
            )
    return out + out[:1]


def test_the_public_paths_equal_the_internal_one():
    """qnet.run_specs (public, one call) and compile_link + run_links (public, two calls) give the
    internal path's results: the same figures and density matrices, field by field."""
    specs = _distinct_specs_of_both_schemes()
    internal = run_specs(specs)
    public = qnet.run_specs(specs)
    two_calls = qnet.run_links([qnet.compile_link(s) for s in specs])
    assert len({r.fidelity for r in internal}) == len(specs) - 1  # distinct links, one repeated
    for r, p, q in zip(internal, public, two_calls):
        assert (p.node_a, p.node_b, p.scheme) == (q.node_a, q.node_b, q.scheme) == (r.node_a, r.node_b, r.scheme)
        for field in ("success_probability", "fidelity", "rate_hz", "qber", "chsh"):
            assert getattr(p, field) == getattr(r, field), field
            assert getattr(q, field) == pytest.approx(getattr(r, field), rel=1e-12, abs=1e-15), field
        np.testing.assert_array_equal(p.density_matrix, r.density_matrix)
        np.testing.assert_allclose(q.density_matrix, r.density_matrix, atol=1e-12)


def test_run_links_leaves_the_callers_circuits_as_they_were():
    """run_links appends Aer's save instruction to a copy, never to the compiled link's circuit."""
    link = qnet.compile_link(_distinct_specs_of_both_schemes()[0])
    before = [(i.operation.name, tuple(i.qubits)) for i in link.circuit.data]
    qnet.run_links([link, link])
    assert [(i.operation.name, tuple(i.qubits)) for i in link.circuit.data] == before

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

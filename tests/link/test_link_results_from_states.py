"""link_results_from_states (the figures of many links at once) equals link_result link by link, errors included."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest

import qnet
from qnet.errors import QnetError
from qnet.link.results import LINK_FIELDS, LinkResult
from qnet.link.run import final_states, heralded_state, link_result, link_results_from_states

EXAMPLES = (
    ("examples/liu2026_ion_link.toml", "alice", "bob"),
    ("examples/krutyanskiy2023_230m_link.toml", "node_a", "node_b"),
)


def _specs():
    out = []
    for path, a, b in EXAMPLES:
        spec = qnet.link_spec(qnet.load_network(path), a, b)
        out += [
            spec,
            replace(spec, efficiency_a=0.05, storage_time_b_s=3e-4),
            replace(spec, phase_noise_rad=0.0, dark_count_probability=1e-4, attempts_per_round=4),
        ]
    return out[::2] + out[1::2]  # the schemes interleaved: each layout's links are not contiguous


def test_equal_to_link_result_link_by_link():
    compiled = [qnet.compile_link(s) for s in _specs()]
    states = final_states(compiled)
    got = link_results_from_states(compiled, states)
    assert [r.scheme for r in got] == [c.spec.scheme for c in compiled]
    for r, c, rho in zip(got, compiled, states):
        want = link_result(c, *heralded_state(rho, c))
        for name in LINK_FIELDS:
            assert getattr(r, name) == pytest.approx(getattr(want, name), rel=1e-13, abs=1e-300), name
        np.testing.assert_allclose(r.density_matrix, want.density_matrix, rtol=0, atol=1e-15)
        others = [f.name for f in fields(LinkResult) if f.name not in LINK_FIELDS and f.name != "density_matrix"]
        assert {n: getattr(r, n) for n in others} == {n: getattr(want, n) for n in others}
    # the links differ: equal figures are not equal by accident
    assert len({round(r.success_probability, 12) for r in got}) == len(got)


def test_the_first_link_that_never_heralds_is_named():
    sc = qnet.link_spec(qnet.load_network(EXAMPLES[0][0]), "alice", "bob")
    tp = qnet.link_spec(qnet.load_network(EXAMPLES[1][0]), "node_a", "node_b")
    # no photon reaches the station and no detector fires by itself: P = 0 exactly
    dark = dict(efficiency_a=0.0, efficiency_b=0.0, dark_count_probability=0.0)
    dark_tp = replace(tp, **dark, node_a="p", node_b="q")
    dark_sc = replace(sc, **dark, node_a="u", node_b="v")
    compiled = [qnet.compile_link(s) for s in (sc, dark_tp, dark_sc)]
    states = final_states(compiled)
    with pytest.raises(QnetError, match="link p-q never heralds"):
        link_results_from_states(compiled, states)
    with pytest.raises(QnetError, match="link u-v never heralds"):
        link_results_from_states(compiled[::2], states[::2])

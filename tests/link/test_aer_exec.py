"""qnet.link.aer_exec: Aer's raw job output and its public run().result() give the same states; the fallback works.

Both paths run the same circuits through the same Aer simulation (the raw path only skips
Aer's result formatting), so their density matrices must agree to rounding: 1e-14 absolute
on entries of size <= 1 (in practice they are bitwise equal). The states are also checked
against qnet's independent numpy simulator (:mod:`qnet.link.batch`) to 1e-12, the tolerance
the batch engine is held to elsewhere.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import qnet
from qnet.link import aer_exec
from qnet.link.batch import density_matrices as batch_density_matrices
from qnet.link.run import _save_instruction, _structural_copy, final_states, simulator
from qnet.link.station import HERALDS


def _variants(spec):
    """The circuit shapes a scheme compiles to: phase noise on/off, dark counts, memory decay, imperfect visibility."""
    return [
        spec,
        replace(spec, phase_noise_rad=0.0),
        replace(spec, phase_noise_rad=0.3, dark_count_probability=1e-3, visibility=0.9),
        replace(spec, efficiency_a=0.2, efficiency_b=0.05, storage_time_a_s=1e-3, storage_time_b_s=2e-4),
    ]


def _specs(scheme: str):
    path, a, b = EXAMPLES[scheme]
    spec = qnet.link_spec(qnet.load_network(path), a, b)
    assert spec.scheme == scheme
    return _variants(spec)


def _circuits(compiled):
    out = []
    for c in compiled:
        qc = _structural_copy(c.circuit)
        qc.append(_save_instruction(qc.num_qubits), qc.qubits, copy=False)
        out.append(qc)
    return out


EXAMPLES = {
    "single_click": ("examples/liu2026_ion_link.toml", "alice", "bob"),
    "two_photon": ("examples/krutyanskiy2023_230m_link.toml", "node_a", "node_b"),
}
OPTIONS = {"shots": 1, "fusion_enable": False}


def test_every_scheme_is_covered():
    assert set(HERALDS) == {"single_click", "two_photon"}  # a new scheme needs its examples here


@pytest.mark.parametrize("scheme", sorted(HERALDS))
def test_raw_and_public_paths_give_equal_states(scheme):
    compiled = [qnet.compile_link(s) for s in _specs(scheme)]
    circuits = _circuits(compiled)
    sim = simulator()
    raw = aer_exec.density_matrices(sim, circuits, OPTIONS, public=False)
    public = aer_exec.density_matrices(sim, circuits, OPTIONS, public=True)
    reference = batch_density_matrices([c.circuit for c in compiled])
    assert len(raw) == len(public) == len(compiled)
    for r, p, ref, c in zip(raw, public, reference, compiled):
        assert r.shape == (2**c.circuit.num_qubits,) * 2
        assert np.max(np.abs(r - p)) <= 1e-14
        assert np.max(np.abs(r - ref)) <= 1e-12
        assert abs(np.trace(r) - 1) <= 1e-12
    # the variants are different channels: equal paths are not equal by accident
    assert np.max(np.abs(raw[0] - raw[3])) > 1e-3


def test_final_states_with_the_public_path_forced(monkeypatch):
    compiled = [qnet.compile_link(s) for s in _specs("single_click") + _specs("two_photon")]
    raw = final_states(compiled)
    monkeypatch.setenv(aer_exec.PUBLIC_ENV, "1")
    forced = final_states(compiled)
    for r, f in zip(raw, forced):
        assert np.max(np.abs(r - f)) <= 1e-14


class _Proxy:
    """A simulator whose private job function is replaced (or missing); ``run`` is the real one."""

    def __init__(self, job=None):
        self.real = simulator()
        self.public_runs = 0
        if job is not None:
            self._execute_circuits_job = job

    def run(self, circuits, **options):
        self.public_runs += 1
        return self.real.run(circuits, **options)


def _expected():
    compiled = [qnet.compile_link(s) for s in _specs("single_click")[:2]]
    circuits = _circuits(compiled)
    return circuits, aer_exec.density_matrices(simulator(), circuits, OPTIONS, public=True)


def _check_fallback(proxy, public=False):
    circuits, expected = _expected()
    got = aer_exec.density_matrices(proxy, circuits, OPTIONS, public=public)
    assert proxy.public_runs == 1
    for g, e in zip(got, expected):
        assert np.max(np.abs(g - e)) <= 1e-14


def test_fallback_when_the_private_method_is_missing():
    _check_fallback(_Proxy())


def test_the_private_method_is_used_when_it_behaves():
    calls = []

    def job(*args, **kwargs):
        calls.append(1)
        return simulator()._execute_circuits_job(*args, **kwargs)

    proxy = _Proxy(job)
    circuits, expected = _expected()
    got = aer_exec.density_matrices(proxy, circuits, OPTIONS)
    assert calls == [1] and proxy.public_runs == 0
    for g, e in zip(got, expected):
        assert np.max(np.abs(g - e)) <= 1e-14


def _real_output(*args, **kwargs):
    return simulator()._execute_circuits_job(*args, **kwargs)


@pytest.mark.parametrize(
    "broken",
    [
        lambda *a, **k: (_ for _ in ()).throw(TypeError("unexpected keyword 'format_result'")),
        lambda *a, **k: {"success": True, "results": []},  # too few results
        lambda *a, **k: {"success": False, "results": _real_output(*a, **k)["results"]},
        lambda *a, **k: {"success": True},  # no results
        lambda *a, **k: object(),  # not a dict
        lambda *a, **k: {"success": True, "results": [{"success": True, "data": {}}] * 2},  # no state
        lambda *a, **k: {  # a state of the wrong shape
            "success": True,
            "results": [{"success": True, "data": {"rho": np.eye(2, dtype=complex)}}] * 2,
        },
        lambda *a, **k: {  # a state Aer formats elsewhere (not an ndarray)
            "success": True,
            "results": [{"success": True, "data": {"rho": np.eye(16).tolist()}}] * 2,
        },
    ],
)
def test_fallback_when_the_private_method_misbehaves(broken):
    _check_fallback(_Proxy(broken))


def test_environment_forces_the_public_path(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the private path must not run")

    monkeypatch.setenv(aer_exec.PUBLIC_ENV, "yes")
    _check_fallback(_Proxy(refuse), public=None)
    monkeypatch.delenv(aer_exec.PUBLIC_ENV)
    _check_fallback(_Proxy(refuse), public=True)


def test_no_circuits_no_run():
    proxy = _Proxy()
    assert aer_exec.density_matrices(proxy, [], OPTIONS) == [] and proxy.public_runs == 0

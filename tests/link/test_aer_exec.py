"""qnet.link.aer_exec: Aer's raw job output and its public run().result() give the same states; the fallback works.

Both paths run the same circuits through the same Aer simulation (the raw path assembles link
circuits itself, with the calls Aer's assembler makes, and skips Aer's result formatting), so
their density matrices must agree to rounding: 1e-14 absolute
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
    assert aer_exec._assemble(circuits) is not None  # the raw path assembles them itself
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
    raw = final_states(compiled)  # every core, several circuits at once
    one_thread = final_states(compiled, threads=1)
    monkeypatch.setenv(aer_exec.PUBLIC_ENV, "1")
    forced = final_states(compiled)
    for r, t, f in zip(raw, one_thread, forced):
        assert np.max(np.abs(r - f)) <= 1e-14 and np.max(np.abs(r - t)) <= 1e-14


class _Proxy:
    """The simulator, with some private names replaced (``override``) or missing (``missing``); counts public runs."""

    def __init__(self, missing=(), **override):
        self.real = simulator()
        self.missing = set(missing)
        self.public_runs = 0
        self.__dict__.update(override)

    def __getattr__(self, name):
        if name in self.missing:
            raise AttributeError(name)
        return getattr(self.real, name)

    def run(self, circuits, **options):
        self.public_runs += 1
        return self.real.run(circuits, **options)


def _link_circuits():
    return _circuits([qnet.compile_link(s) for s in _specs("single_click")[:2]])


def _other_circuits():
    """Circuits with an instruction qnet's assembler leaves to Aer's (a unitary): Aer's job function runs them."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    out = []
    for angle in (0.3, 1.1):
        qc = QuantumCircuit(2)
        qc.ry(angle, 0)
        qc.append(UnitaryGate(np.array([[0, 1], [1, 0]])), [1])
        qc.append(_save_instruction(2), qc.qubits)
        out.append(qc)
    return out


def _check(proxy, circuits, public=False, public_runs=1):
    expected = aer_exec.density_matrices(simulator(), circuits, OPTIONS, public=True)
    got = aer_exec.density_matrices(proxy, circuits, OPTIONS, public=public)
    assert proxy.public_runs == public_runs
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.max(np.abs(g - e)) <= 1e-14


def test_link_circuits_take_qnets_assembler_and_others_aers():
    assert aer_exec._assemble(_link_circuits()) is not None
    assert aer_exec._assemble(_other_circuits()) is None


@pytest.mark.parametrize(
    "circuits, missing",
    [
        (_link_circuits, "_execute_circuits"),
        (_other_circuits, "_execute_circuits_job"),
    ],
)
def test_fallback_when_a_private_method_is_missing(circuits, missing):
    _check(_Proxy(missing=(missing,)), circuits())


def _counting(name, calls):
    def call(*args, **kwargs):
        calls.append(name)
        return getattr(simulator(), name)(*args, **kwargs)

    return call


def test_the_raw_output_is_used_when_it_behaves():
    calls: list = []
    proxy = _Proxy(
        _execute_circuits=_counting("_execute_circuits", calls),
        _execute_circuits_job=_counting("_execute_circuits_job", calls),
    )
    _check(proxy, _link_circuits(), public_runs=0)
    assert calls == ["_execute_circuits"]
    _check(proxy, _other_circuits(), public_runs=0)
    assert calls == ["_execute_circuits", "_execute_circuits_job"]


def test_a_noise_model_goes_through_aers_job_function():
    from qiskit_aer.noise import NoiseModel, amplitude_damping_error

    noise = NoiseModel()
    noise.add_all_qubit_quantum_error(amplitude_damping_error(0.3), ["ry"])
    calls: list = []
    proxy = _Proxy(
        _execute_circuits=_counting("_execute_circuits", calls),
        _execute_circuits_job=_counting("_execute_circuits_job", calls),
    )
    circuits = _link_circuits()
    options = {**OPTIONS, "noise_model": noise}
    got = aer_exec.density_matrices(proxy, circuits, options)
    want = aer_exec.density_matrices(simulator(), circuits, options, public=True)
    plain = aer_exec.density_matrices(simulator(), circuits, OPTIONS, public=True)
    assert calls == ["_execute_circuits_job"] and proxy.public_runs == 0
    for g, w, p in zip(got, want, plain):
        assert np.max(np.abs(g - w)) <= 1e-14
        assert np.max(np.abs(g - p)) > 1e-3  # the noise model acted


def _real_output(*args, **kwargs):
    return simulator()._execute_circuits(*args, **kwargs)


BROKEN = [
    lambda *a, **k: (_ for _ in ()).throw(TypeError("unexpected keyword 'format_result'")),
    lambda *a, **k: (_ for _ in ()).throw(RuntimeError("a C++ exception from another Aer")),
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
]


@pytest.mark.parametrize("broken", BROKEN)
def test_fallback_when_the_run_misbehaves(broken):
    _check(_Proxy(_execute_circuits=broken), _link_circuits())


@pytest.mark.parametrize("broken", BROKEN[:3] + BROKEN[4:6])
def test_fallback_when_aers_job_function_misbehaves(broken):
    _check(_Proxy(_execute_circuits_job=broken), _other_circuits())


def test_environment_forces_the_public_path(monkeypatch):
    called = []

    def refuse(*args, **kwargs):
        called.append(1)
        raise RuntimeError("the private path must not run")

    proxy = _Proxy(_execute_circuits=refuse, _execute_circuits_job=refuse)
    monkeypatch.setenv(aer_exec.PUBLIC_ENV, "yes")
    _check(proxy, _link_circuits(), public=None)
    monkeypatch.delenv(aer_exec.PUBLIC_ENV)
    _check(proxy, _link_circuits(), public=True, public_runs=2)
    assert called == []
    _check(proxy, _link_circuits(), public=None, public_runs=3)  # without either, the private path is tried first
    assert called == [1]


def test_no_circuits_no_run():
    proxy = _Proxy()
    assert aer_exec.density_matrices(proxy, [], OPTIONS) == [] and proxy.public_runs == 0


def test_the_check_circuit_takes_qnets_assembler_and_passes_on_this_aer():
    assert aer_exec._assemble([aer_exec._check_circuit()]) is not None  # it exercises the raw path itself
    assert aer_exec.raw_path_verified()


def test_a_raw_path_that_disagrees_on_the_check_circuit_is_not_used(monkeypatch):
    real = aer_exec._raw_states

    def off_by_a_little(*args, **kwargs):
        states = real(*args, **kwargs)
        return None if states is None else [s + 1e-9 for s in states]

    monkeypatch.setattr(aer_exec, "_VERIFIED", [])
    monkeypatch.setattr(aer_exec, "_raw_states", off_by_a_little)
    assert not aer_exec.raw_path_verified()
    calls: list = []
    proxy = _Proxy(_execute_circuits=_counting("_execute_circuits", calls))
    _check(proxy, _link_circuits(), public_runs=1)  # the public path, without trying the raw one
    assert calls == []


def test_a_raw_path_that_raises_on_the_check_circuit_is_not_used(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("another Aer")

    monkeypatch.setattr(aer_exec, "_VERIFIED", [])
    monkeypatch.setattr(aer_exec, "_raw_output", broken)
    assert not aer_exec.raw_path_verified()

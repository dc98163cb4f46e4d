"""Helpers shared by qnet's tests (imported as ``from qnet_testing import ...``).

``build_link_network(...)`` builds the raw network table (the dict a TOML file parses to) of one
elementary link ``alice - fibre - mid - fibre - bob``; ``run_network(...)`` takes such a
table through the public API (network_from_dict -> link_spec -> compile_link -> run_link).
Everything defaults to an *ideal* link (unit efficiencies, memories that never decay,
V = 1, no dark counts, no phase noise), so each test names only the parameters it checks.
``random_state`` and ``assert_physical`` serve the state-level tests.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

import qnet


def build_link_network(
    scheme: str = "single_click",
    length_a_km: float = 10.0,
    length_b_km: float | None = None,
    attenuation_a_db_per_km: float = 0.2,
    attenuation_b_db_per_km: float | None = None,
    alice: dict[str, Any] | None = None,
    bob: dict[str, Any] | None = None,
    station: dict[str, Any] | None = None,
    network: dict[str, Any] | None = None,
    alpha: float = 0.1,
) -> dict[str, Any]:
    """Raw network table of one link; ``alice``/``bob``/``station`` override node fields."""
    length_b_km = length_a_km if length_b_km is None else length_b_km
    attenuation_b_db_per_km = attenuation_a_db_per_km if attenuation_b_db_per_km is None else attenuation_b_db_per_km

    def memory(extra: dict[str, Any] | None) -> dict[str, Any]:
        node: dict[str, Any] = {"kind": "memory", "t2_s": math.inf, "emission_efficiency": 1.0}
        if scheme == "single_click":
            node["bright_state_population"] = alpha
        node.update(extra or {})
        return node

    data: dict[str, Any] = {
        "nodes": {
            "alice": memory(alice),
            "bob": memory(bob),
            "mid": {"kind": "station", "scheme": scheme, **(station or {})},
        },
        "fibres": [
            {"a": "alice", "b": "mid", "length_km": length_a_km, "attenuation_db_per_km": attenuation_a_db_per_km},
            {"a": "bob", "b": "mid", "length_km": length_b_km, "attenuation_db_per_km": attenuation_b_db_per_km},
        ],
    }
    if network:
        data["network"] = dict(network)
    return data


def run_network(data: dict[str, Any], shots: int | None = None, seed: int | None = None) -> qnet.LinkResult:
    """Public-API path for the alice-bob link of ``data``."""
    graph = qnet.network_from_dict(copy.deepcopy(data))
    return qnet.run_link(qnet.compile_link(qnet.link_spec(graph, "alice", "bob")), shots=shots, seed=seed)


def random_state(rng, dim=4):
    """A random full-rank density matrix (Ginibre) of dimension ``dim``."""
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    r = g @ g.conj().T
    return r / np.trace(r)


def assert_physical(rho, atol=1e-10):
    """Hermitian, unit trace, no eigenvalue below -atol."""
    assert np.allclose(rho, rho.conj().T, atol=atol)
    assert abs(np.trace(rho) - 1) < atol
    assert np.linalg.eigvalsh((rho + rho.conj().T) / 2).min() > -atol


#: agreement of the batch engine with Aer (float64 arithmetic on sums of ~1e3 terms of size <= 1)
TOL = 1e-12


def aer_density_matrices(circuits):
    """Final density matrix of each circuit from one exact Aer run."""
    from qiskit_aer.library import SaveDensityMatrix

    from qnet.link.run import simulator

    runs = []
    for qc in circuits:
        qc = qc.copy()
        qc.append(SaveDensityMatrix(qc.num_qubits, label="rho"), qc.qubits)
        runs.append(qc)
    result = simulator("density_matrix").run(runs, shots=1).result()
    return [np.asarray(result.data(i)["rho"]) for i in range(len(runs))]


def compiled(**kwargs) -> qnet.CompiledLink:
    """The compiled alice-bob link of :func:`build_link_network` (``**kwargs``)."""
    graph = qnet.network_from_dict(build_link_network(**kwargs))
    return qnet.compile_link(qnet.link_spec(graph, "alice", "bob"))


# every physical feature the compiler has, for both schemes (single-click only: phase noise)
VARIANTS = {
    "ideal": {},
    "dark_counts": {"station": {"dark_count_probability": 0.02}},
    "visibility": {"station": {"visibility": 0.8}},
    "phase_noise": {"station": {"phase_noise_rad": 0.4}},
    "t1": {"alice": {"t1_s": 2e-4, "t2_s": 1e-3}, "bob": {"t1_s": 5e-4}},
    "gaussian": {"alice": {"t2_s": 1e-4, "decay": "gaussian"}, "bob": {"t2_s": 3e-4, "decay": "gaussian"}},
    "asymmetric": {
        "length_a_km": 3.0,
        "length_b_km": 27.0,
        "attenuation_b_db_per_km": 0.35,
        "alice": {"emission_efficiency": 0.3, "conversion_efficiency": 0.5, "t2_s": 1e-3},
        "bob": {"emission_efficiency": 0.9, "t2_s": 2e-3, "t1_s": 0.01},
    },
    "everything": {
        "length_a_km": 8.0,
        "length_b_km": 13.0,
        "alice": {"t1_s": 3e-4, "t2_s": 2e-4, "decay": "gaussian", "emission_efficiency": 0.4},
        "bob": {"t1_s": 1e-3, "t2_s": 5e-4, "emission_efficiency": 0.7},
        "station": {
            "detector_efficiency": 0.8,
            "dark_count_probability": 1e-3,
            "visibility": 0.9,
            "phase_noise_rad": 0.2,
        },
    },
}


def _variants():
    """Every VARIANTS entry for both schemes, as pytest params (scheme, network kwargs)."""
    for scheme in ("single_click", "two_photon"):
        for name, kwargs in VARIANTS.items():
            kwargs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in kwargs.items()}
            if scheme == "two_photon" and "station" in kwargs:
                kwargs["station"].pop("phase_noise_rad", None)
                if name == "phase_noise":
                    continue
            if scheme == "single_click":
                kwargs.setdefault("alpha", 0.07 if name != "asymmetric" else 0.2)
            yield pytest.param(scheme, kwargs, id=f"{scheme}-{name}")


ALL_VARIANTS = list(_variants())


class SpecCounter:
    """Wraps ``run_specs`` where the prepared network (:mod:`qnet.link.prepared`) calls it: the
    specs it is asked to simulate, in :attr:`specs` (``monkeypatch``: pytest's fixture)."""

    def __init__(self, monkeypatch):
        from qnet.link import prepared

        self.specs: list = []
        real = prepared.run_specs

        def counted(specs, **kw):
            self.specs += list(specs)
            return real(specs, **kw)

        monkeypatch.setattr(prepared, "run_specs", counted)

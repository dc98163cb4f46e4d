"""The heralding station as a quantum instrument on the photonic qubits.

The photons meet on a 50:50 beamsplitter (``a -> (c + d)/sqrt2``, ``b -> (c - d)/sqrt2``;
for ``two_photon`` a polarising splitter follows on each output) and threshold detectors
click when at least one photon arrives or a dark count happens (probability
``dark_count_probability`` per detector per window, independently). The instrument is derived
from first-principles linear optics in Fock space, so two photons that bunch
(Hong–Ou–Mandel) give a single click, and partially distinguishable photons are modelled
with an internal mode: photon A = o |psi> + sqrt(1 - o^2) |psi_perp>, photon B = |psi>.

``visibility`` V is the visibility of the scheme's own interference and multiplies the
heralded |Psi> coherence by V in both schemes (``conventions.md``): first-order
(single-photon) interference for ``single_click`` (mode overlap o = V; the two-photon term
then bunches with probability (1 + V^2)/2), two-photon (HOM) interference for
``two_photon`` (o = sqrt(V)).

Photonic qubits (Qiskit order, qubit j of the instruction = bit j of the index):

* ``single_click``: [photon A, photon B], occupation 0/1; detectors [c, d];
* ``two_photon``: [A_H, A_V, B_H, B_V], dual-rail occupations; detectors [c_H, c_V, d_H, d_V].

The instrument is written as a trace-preserving Kraus channel K_{o,j} = sqrt(l_j)|o><u_j|
that replaces the photonic state by the click record ``o`` (same qubits), where
E_o = sum_j l_j |u_j><u_j| is the POVM element of observing pattern ``o``. The memories'
state conditioned on ``o`` is then the block of the density matrix with record ``o``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["Herald", "HERALDS", "station_povm", "station_kraus", "N_PHOTON_QUBITS"]

N_PHOTON_QUBITS = {"single_click": 2, "two_photon": 4}


@dataclass(frozen=True)
class Herald:
    """A click pattern that heralds a Bell state, and the Pauli correction to |Psi+>."""

    clicks: tuple[int, ...]  # one bit per detector, in detector order
    detectors: tuple[str, ...]  # names of the clicking detectors
    heralded_state: str  # Bell state heralded in the ideal case
    correction: tuple[str, str]  # Pauli on (memory A, memory B) that maps it to |Psi+>


HERALDS: dict[str, tuple[Herald, ...]] = {
    "single_click": (
        Herald((1, 0), ("c",), "psi+", ("I", "I")),
        Herald((0, 1), ("d",), "psi-", ("Z", "I")),
    ),
    "two_photon": (
        Herald((1, 1, 0, 0), ("c_H", "c_V"), "psi+", ("I", "I")),
        Herald((0, 0, 1, 1), ("d_H", "d_V"), "psi+", ("I", "I")),
        Herald((1, 0, 0, 1), ("c_H", "d_V"), "psi-", ("Z", "I")),
        Herald((0, 1, 1, 0), ("c_V", "d_H"), "psi-", ("Z", "I")),
    ),
}

# input photon qubits -> (arm, polarisation); output detectors -> (port, polarisation)
_INPUTS = {"single_click": (("a", "H"), ("b", "H")), "two_photon": (("a", "H"), ("a", "V"), ("b", "H"), ("b", "V"))}
_DETECTORS = {"single_click": (("c", "H"), ("d", "H")), "two_photon": (("c", "H"), ("c", "V"), ("d", "H"), ("d", "V"))}


def _output_amplitudes(scheme: str, photons: list[tuple[str, str]], overlap: float) -> dict[tuple, complex]:
    """Fock amplitudes of the output modes (port, pol, internal) for the given input photons."""
    s = 1.0 / math.sqrt(2.0)
    perp = math.sqrt(max(0.0, 1.0 - overlap * overlap))
    per_photon = []
    for arm, pol in photons:
        internal = [("psi", overlap), ("perp", perp)] if arm == "a" else [("psi", 1.0)]
        sign_d = 1.0 if arm == "a" else -1.0
        terms = []
        for inner, amp in internal:
            if amp == 0.0:
                continue
            terms.append((("c", pol, inner), amp * s))
            terms.append((("d", pol, inner), amp * s * sign_d))
        per_photon.append(terms)
    out: dict[tuple, complex] = {}
    for choice in itertools.product(*per_photon):
        amp = 1.0
        modes = []
        for mode, a in choice:
            amp *= a
            modes.append(mode)
        key = tuple(sorted(modes))
        out[key] = out.get(key, 0.0) + amp
    # prod a^dagger |0> = prod_m sqrt(n_m!) |n>
    for key in out:
        norm = 1.0
        for mode in set(key):
            norm *= math.sqrt(math.factorial(key.count(mode)))
        out[key] *= norm
    return out


@lru_cache(maxsize=256)
def station_povm(scheme: str, visibility: float, dark_count_probability: float) -> dict[tuple[int, ...], np.ndarray]:
    """POVM elements E_o on the photonic qubits for every observed click pattern ``o``."""
    if scheme not in _INPUTS:
        raise ValueError(f"unknown scheme {scheme!r}; allowed: {sorted(_INPUTS)}")
    inputs, detectors = _INPUTS[scheme], _DETECTORS[scheme]
    n = len(inputs)
    overlap = visibility if scheme == "single_click" else math.sqrt(visibility)
    # rows: Fock output states; columns: input basis states (Qiskit index)
    columns: dict[int, dict[tuple, complex]] = {}
    for index in range(2**n):
        photons = [inputs[j] for j in range(n) if (index >> j) & 1]
        columns[index] = _output_amplitudes(scheme, photons, overlap)
    fock_states = sorted({key for col in columns.values() for key in col})
    amp = np.zeros((len(fock_states), 2**n), dtype=complex)
    for i, key in enumerate(fock_states):
        for index, col in columns.items():
            amp[i, index] = col.get(key, 0.0)
    real_clicks = [tuple(int(any((m[0], m[1]) == det for m in key)) for det in detectors) for key in fock_states]

    p = dark_count_probability
    povm = {o: np.zeros((2**n, 2**n), dtype=complex) for o in itertools.product((0, 1), repeat=len(detectors))}
    for i, clicks in enumerate(real_clicks):
        outer = np.outer(amp[i].conj(), amp[i])
        for dark in itertools.product((0, 1), repeat=len(detectors)):
            weight = math.prod(p if d else 1.0 - p for d in dark)
            if weight == 0.0:
                continue
            observed = tuple(c | d for c, d in zip(clicks, dark))
            povm[observed] += weight * outer
    return povm


@lru_cache(maxsize=256)
def station_kraus(scheme: str, visibility: float, dark_count_probability: float) -> tuple[np.ndarray, ...]:
    """Kraus operators sqrt(l)|o><u| of the station instrument (see module docstring)."""
    ops = []
    povm = station_povm(scheme, visibility, dark_count_probability)
    dim = next(iter(povm.values())).shape[0]
    for pattern, element in povm.items():
        out_index = sum(bit << j for j, bit in enumerate(pattern))
        vals, vecs = np.linalg.eigh((element + element.conj().T) / 2)
        for lam, u in zip(vals, vecs.T):
            if lam > 1e-14:
                k = np.zeros((dim, dim), dtype=complex)
                k[out_index, :] = math.sqrt(lam) * u.conj()
                ops.append(k)
    return tuple(ops)

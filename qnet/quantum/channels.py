"""Noise channels as Kraus operators (numpy), named like ``qiskit_aer.noise``.

Every function returns a list of 2x2 (or larger) complex matrices K_i with
sum_i K_i^dagger K_i = 1. The compiler turns them into raw Aer ``kraus`` instructions.

Memory decoherence follows ``docs/conventions.md``:

* dephasing multiplies a memory's coherence by c(t) = exp(-t/T2) ("exponential") or
  exp(-(t/T2)^2) ("gaussian"); ``t2_s`` is the time constant of the dephasing channel alone;
* amplitude damping with gamma = 1 - exp(-t/T1) decays |1> -> |0> and multiplies the
  coherence by a further sqrt(1 - gamma) = exp(-t/(2 T1)).

With finite T1 the total coherence of one memory is c(t) * exp(-t/(2 T1)); Qiskit's
``thermal_relaxation_error`` "T2" is the total, i.e. 1/T2_qiskit = 1/T2 + 1/(2 T1) in the
exponential case.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DECAY_LAWS",
    "fibre_transmission",
    "coherence_factor",
    "storage_coherence_factor",
    "amplitude_damping_kraus",
    "loss_kraus",
    "dephasing_kraus",
    "memory_kraus",
    "storage_kraus",
    "compose_kraus",
    "pair_coherence_time",
    "storage_factors",
    "apply_storage",
]

DECAY_LAWS = ("exponential", "gaussian")


def fibre_transmission(length_km: float, attenuation_db_per_km: float) -> float:
    """Transmission eta_f = 10^(-alpha L / 10) of a fibre (length in km, alpha in dB/km)."""
    return 10.0 ** (-attenuation_db_per_km * length_km / 10.0)


def coherence_factor(t_s: float, t2_s: float, decay: str = "exponential") -> float:
    """Dephasing coherence factor after storing a memory for ``t_s`` seconds."""
    if decay not in DECAY_LAWS:
        raise ValueError(f"decay must be one of {DECAY_LAWS}, got {decay!r}")
    if t_s <= 0 or math.isinf(t2_s):
        return 1.0
    x = t_s / t2_s
    return math.exp(-x) if decay == "exponential" else math.exp(-_gaussian_exponent(0.0, t_s, t2_s))


def storage_coherence_factor(t_from_s: float, t_to_s: float, t2_s: float, decay: str = "exponential") -> float:
    """Dephasing factor for a memory already stored ``t_from_s`` and kept until ``t_to_s``.

    Ages are measured from the memory's emission. For exponential decay this is
    exp(-(t_to - t_from)/T2); for gaussian decay the law is applied once over the whole
    storage interval, c(t_to)/c(t_from) = exp(-(t_to^2 - t_from^2)/T2^2) — never composed
    from short steps (``docs/conventions.md``).
    """
    if t_to_s < t_from_s:
        raise ValueError(f"storage interval ends before it starts: {t_from_s} > {t_to_s}")
    if math.isinf(t2_s):
        return 1.0
    if decay == "exponential":
        return math.exp(-(t_to_s - t_from_s) / t2_s)
    if decay == "gaussian":
        return math.exp(-_gaussian_exponent(t_from_s, t_to_s, t2_s))
    raise ValueError(f"decay must be one of {DECAY_LAWS}, got {decay!r}")


def _gaussian_exponent(t_from_s, t_to_s, t2_s: float):
    """(t_to^2 - t_from^2) / T2^2 as ((t_to - t_from)/T2) ((t_to + t_from)/T2).

    The factored form neither squares T2 (which underflows to 0 for T2 below ~1e-154 s) nor
    the ages (which overflow above ~1e154 s); a product that overflows is +inf, whose
    exp(-inf) = 0 is the physical limit (fully dephased). Works on floats and arrays.
    """
    with np.errstate(over="ignore"):
        return ((t_to_s - t_from_s) / t2_s) * ((t_to_s + t_from_s) / t2_s)


def amplitude_damping_kraus(gamma: float) -> list[np.ndarray]:
    """Amplitude damping |1> -> |0> with probability ``gamma``."""
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"amplitude damping gamma must be in [0, 1], got {gamma}")
    return loss_kraus(1.0 - gamma)


def loss_kraus(transmission: float) -> list[np.ndarray]:
    """Photon loss on an occupation qubit: amplitude damping with gamma = 1 - eta.

    Built from the transmission eta itself (K0 = diag(1, sqrt(eta))), so that an arm with
    eta far below the double-precision epsilon (e.g. 1e-20 at 1000 km) keeps full relative
    precision instead of rounding 1 - (1 - eta) to 0.
    """
    if not 0.0 <= transmission <= 1.0:
        raise ValueError(f"transmission must be in [0, 1], got {transmission}")
    return [
        np.array([[1.0, 0.0], [0.0, math.sqrt(transmission)]], dtype=complex),
        np.array([[0.0, math.sqrt(1.0 - transmission)], [0.0, 0.0]], dtype=complex),
    ]


def dephasing_kraus(coherence: float) -> list[np.ndarray]:
    """Pure dephasing that multiplies the off-diagonal element by ``coherence`` in [0, 1].

    Equals Qiskit's ``phase_damping_error(lam)`` with lam = 1 - coherence^2.
    """
    if not 0.0 <= coherence <= 1.0:
        raise ValueError(f"dephasing coherence factor must be in [0, 1], got {coherence}")
    return [
        np.array([[1.0, 0.0], [0.0, coherence]], dtype=complex),
        np.array([[0.0, 0.0], [0.0, math.sqrt(1.0 - coherence**2)]], dtype=complex),
    ]


def compose_kraus(first: list[np.ndarray], then: list[np.ndarray]) -> list[np.ndarray]:
    """Kraus set of ``then`` after ``first``; drops operators that vanish."""
    out = [b @ a for a in first for b in then]
    return [k for k in out if np.abs(k).max() > 0.0]


def storage_kraus(
    t_from_s: float, t_to_s: float, t1_s: float, t2_s: float, decay: str = "exponential"
) -> list[np.ndarray]:
    """Channel of a memory kept from age ``t_from_s`` to age ``t_to_s`` (dephasing then T1)."""
    c = storage_coherence_factor(t_from_s, t_to_s, t2_s, decay)
    survival = 1.0 if math.isinf(t1_s) else math.exp(-(t_to_s - t_from_s) / t1_s)  # 1 - gamma
    return compose_kraus(dephasing_kraus(c), loss_kraus(survival))


def memory_kraus(t_s: float, t1_s: float, t2_s: float, decay: str = "exponential") -> list[np.ndarray]:
    """Channel of a memory stored for ``t_s`` seconds from its emission."""
    return storage_kraus(0.0, t_s, t1_s, t2_s, decay)


def pair_coherence_time(*memories: tuple[float, float, str]) -> float:
    """Time for a stored pair's coherence to fall by 1/e with all its memories decaying (s).

    Each memory is a tuple ``(t2_s, t1_s, decay)``. The pair coherence is the product of the
    memories' factors, exp(-a t - b t^2) with a = sum of 1/T2 (exponential memories) +
    1/(2 T1) (amplitude damping) and b = sum of 1/T2^2 (gaussian memories); T_coh solves
    b t^2 + a t = 1. This gives 1/T_coh = 1/T2_A + 1/T2_B (exponential) and
    1/T_coh^2 = 1/T2_A^2 + 1/T2_B^2 (gaussian) as in ``docs/conventions.md`` when T1 is infinite.
    Returns ``inf`` for memories that never decay.
    """
    a = 0.0
    rates = []  # 1/T2 of the gaussian memories; sqrt(b) = hypot(*rates) without squaring (no overflow)
    for t2_s, t1_s, decay in memories:
        if decay not in DECAY_LAWS:
            raise ValueError(f"decay must be one of {DECAY_LAWS}, got {decay!r}")
        a += 0.5 / t1_s
        if decay == "exponential":
            a += 1.0 / t2_s
        else:
            rates.append(1.0 / t2_s)
    root_b = math.hypot(*rates)
    if root_b == 0.0:
        return math.inf if a == 0.0 else 1.0 / a
    return 2.0 / (a + math.hypot(a, 2.0 * root_b))  # positive root, stable form; 0 when a rate is inf


def storage_factors(
    t_from_s: np.ndarray | float, t_to_s: np.ndarray | float, t1_s: float, t2_s: float, decay: str = "exponential"
) -> tuple[np.ndarray, np.ndarray]:
    """(coherence factor, survival 1 - gamma) of :func:`storage_kraus`, vectorised over the ages (s)."""
    t_from = np.asarray(t_from_s, dtype=float)
    t_to = np.asarray(t_to_s, dtype=float)
    if np.any(t_to < t_from):
        raise ValueError("storage interval ends before it starts")
    if math.isinf(t2_s):
        coherence = np.ones(np.broadcast(t_from, t_to).shape)
    elif decay == "exponential":
        coherence = np.exp(-(t_to - t_from) / t2_s)
    elif decay == "gaussian":
        coherence = np.exp(-_gaussian_exponent(t_from, t_to, t2_s))
    else:
        raise ValueError(f"decay must be one of {DECAY_LAWS}, got {decay!r}")
    survival = np.ones_like(coherence) if math.isinf(t1_s) else np.broadcast_to(np.exp(-(t_to - t_from) / t1_s), coherence.shape)
    return coherence, np.asarray(survival, dtype=float)


def apply_storage(rho: np.ndarray, memory: int, coherence: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """The channel of :func:`storage_kraus` on memory 0 (A) or 1 (B) of two-qubit states.

    ``rho`` is (n, 4, 4) (memory A first); ``coherence`` and ``survival`` have shape (n,):
    populations of |1> decay by ``survival`` into |0>, off-diagonal elements of that memory are
    multiplied by coherence * sqrt(survival). Returns a new array.
    """
    r = np.array(rho, dtype=complex).reshape(-1, 2, 2, 2, 2)  # [n, a, b, a', b']
    c = np.asarray(coherence, dtype=float).reshape(-1, 1, 1)
    s = np.asarray(survival, dtype=float).reshape(-1, 1, 1)
    off = c * np.sqrt(s)
    if memory == 0:
        r[:, 0, :, 0, :] += (1.0 - s) * r[:, 1, :, 1, :]
        r[:, 1, :, 1, :] *= s
        r[:, 0, :, 1, :] *= off
        r[:, 1, :, 0, :] *= off
    elif memory == 1:
        r[:, :, 0, :, 0] += (1.0 - s) * r[:, :, 1, :, 1]
        r[:, :, 1, :, 1] *= s
        r[:, :, 0, :, 1] *= off
        r[:, :, 1, :, 0] *= off
    else:
        raise ValueError(f"memory must be 0 (A) or 1 (B), got {memory}")
    return r.reshape(-1, 4, 4)

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

#: Laws of memory dephasing: c(t) = exp(-t/T2) ("exponential") or exp(-(t/T2)^2) ("gaussian").
DECAY_LAWS = ("exponential", "gaussian")


def _check_decay(decay: str) -> None:
    """ValueError unless ``decay`` is one of :data:`DECAY_LAWS`."""
    if decay not in DECAY_LAWS:
        raise ValueError(f"decay must be one of {DECAY_LAWS}, got {decay!r}")


def fibre_transmission(length_km: float, attenuation_db_per_km: float) -> float:
    """Transmission eta_f = 10^(-alpha L / 10) of a fibre.

    Parameters
    ----------
    length_km : float
        Fibre length L (km).
    attenuation_db_per_km : float
        Attenuation alpha (dB/km).

    Returns
    -------
    float
        The probability that a photon crosses the fibre, in (0, 1] for L, alpha >= 0.

    Examples
    --------
    >>> from qnet.quantum.channels import fibre_transmission
    >>> round(fibre_transmission(50.0, 0.2), 6)      # 10 dB
    0.1
    >>> round(fibre_transmission(0.0, 0.2), 6)
    1.0
    """
    return 10.0 ** (-attenuation_db_per_km * length_km / 10.0)


def coherence_factor(t_s: float, t2_s: float, decay: str = "exponential") -> float:
    """Dephasing coherence factor c(t) after storing a memory for ``t_s`` seconds.

    Parameters
    ----------
    t_s : float
        Storage time t from the memory's emission (s); t <= 0 gives 1.
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for no dephasing.
    decay : str, optional
        ``"exponential"``, c = exp(-t/T2) (default), or ``"gaussian"``, c = exp(-(t/T2)^2).

    Returns
    -------
    float
        The factor in [0, 1] multiplying the memory's off-diagonal element.

    Raises
    ------
    ValueError
        If ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    >>> import math
    >>> from qnet.quantum.channels import coherence_factor
    >>> round(coherence_factor(1e-3, 1e-3), 6) == round(math.exp(-1), 6)
    True
    >>> round(coherence_factor(2e-3, 1e-3, "gaussian"), 6) == round(math.exp(-4), 6)
    True
    """
    _check_decay(decay)
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

    Parameters
    ----------
    t_from_s, t_to_s : float
        Ages of the memory at the start and the end of the storage (s), t_from <= t_to.
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for no dephasing.
    decay : str, optional
        One of :data:`DECAY_LAWS` (default ``"exponential"``).

    Returns
    -------
    float
        The factor in [0, 1] multiplying the memory's off-diagonal element.

    Raises
    ------
    ValueError
        If ``t_to_s < t_from_s`` or ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    Gaussian decay depends on the age: the same 1 ms costs more when it comes later,
    and the two steps compose to the whole interval.

    >>> from qnet.quantum.channels import coherence_factor, storage_coherence_factor
    >>> first = storage_coherence_factor(0.0, 1e-3, 2e-3, "gaussian")
    >>> second = storage_coherence_factor(1e-3, 2e-3, 2e-3, "gaussian")
    >>> round(first, 6), round(second, 6)
    (0.778801, 0.472367)
    >>> round(first * second, 6) == round(coherence_factor(2e-3, 2e-3, "gaussian"), 6)
    True
    """
    if t_to_s < t_from_s:
        raise ValueError(f"storage interval ends before it starts: {t_from_s} > {t_to_s}")
    if math.isinf(t2_s):
        return 1.0
    _check_decay(decay)
    if decay == "exponential":
        return math.exp(-(t_to_s - t_from_s) / t2_s)
    return math.exp(-_gaussian_exponent(t_from_s, t_to_s, t2_s))


def storage_coherence_factors(t_from_s, t_to_s, t2_s: float, decay: str = "exponential") -> np.ndarray:
    """:func:`storage_coherence_factor` of many intervals at once (arrays of ages, t_from <= t_to).

    Parameters
    ----------
    t_from_s, t_to_s : array_like
        Ages of the memory at the start and end of each storage (s).
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for none.
    decay : str, optional
        One of :data:`DECAY_LAWS` (default ``"exponential"``).

    Returns
    -------
    numpy.ndarray
        One factor in [0, 1] per interval.

    Examples
    --------
    >>> from qnet.quantum.channels import storage_coherence_factor, storage_coherence_factors
    >>> fs = storage_coherence_factors([0.0, 1e-3], [1e-3, 2e-3], 2e-3, "gaussian")
    >>> [round(float(f), 6) for f in fs] == [round(storage_coherence_factor(0.0, 1e-3, 2e-3, "gaussian"), 6),
    ...                                     round(storage_coherence_factor(1e-3, 2e-3, 2e-3, "gaussian"), 6)]
    True
    """
    t_from_s, t_to_s = np.asarray(t_from_s, dtype=float), np.asarray(t_to_s, dtype=float)
    if math.isinf(t2_s):
        return np.ones(np.broadcast(t_from_s, t_to_s).shape)
    _check_decay(decay)
    if decay == "exponential":
        return np.exp(-(t_to_s - t_from_s) / t2_s)
    return np.exp(-_gaussian_exponent(t_from_s, t_to_s, t2_s))


def _gaussian_exponent(t_from_s, t_to_s, t2_s: float):
    """(t_to^2 - t_from^2) / T2^2 as ((t_to - t_from)/T2) ((t_to + t_from)/T2).

    The factored form neither squares T2 (which underflows to 0 for T2 below ~1e-154 s) nor
    the ages (which overflow above ~1e154 s); a product that overflows is +inf, whose
    exp(-inf) = 0 is the physical limit (fully dephased). Works on floats and arrays.
    """
    with np.errstate(over="ignore"):
        return ((t_to_s - t_from_s) / t2_s) * ((t_to_s + t_from_s) / t2_s)


def amplitude_damping_kraus(gamma: float) -> list[np.ndarray]:
    """Kraus operators of amplitude damping |1> -> |0> with probability ``gamma``.

    Parameters
    ----------
    gamma : float
        Decay probability in [0, 1] (gamma = 1 - exp(-t/T1) for a memory stored t).

    Returns
    -------
    list of numpy.ndarray
        K0 = diag(1, sqrt(1 - gamma)), K1 = sqrt(gamma) |0><1| (2x2 complex).

    Raises
    ------
    ValueError
        If ``gamma`` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.channels import amplitude_damping_kraus
    >>> ks = amplitude_damping_kraus(0.3)
    >>> one = np.diag([0.0, 1.0])                       # |1><1|
    >>> out = sum(k @ one @ k.conj().T for k in ks)
    >>> np.diag(out).real.round(6).tolist()             # 30% decayed to |0>
    [0.3, 0.7]
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"amplitude damping gamma must be in [0, 1], got {gamma}")
    return loss_kraus(1.0 - gamma)


def loss_kraus(transmission: float) -> list[np.ndarray]:
    """Photon loss on an occupation qubit: amplitude damping with gamma = 1 - eta.

    Built from the transmission eta itself (K0 = diag(1, sqrt(eta))), so that an arm with
    eta far below the double-precision epsilon (e.g. 1e-20 at 1000 km) keeps full relative
    precision instead of rounding 1 - (1 - eta) to 0.

    Parameters
    ----------
    transmission : float
        Transmission eta in [0, 1] (e.g. :func:`fibre_transmission`).

    Returns
    -------
    list of numpy.ndarray
        K0 = diag(1, sqrt(eta)), K1 = sqrt(1 - eta) |0><1| (2x2 complex).

    Raises
    ------
    ValueError
        If ``transmission`` is outside [0, 1].

    Examples
    --------
    A photon (|1>) survives with probability eta:

    >>> import numpy as np
    >>> from qnet.quantum.channels import loss_kraus
    >>> ks = loss_kraus(0.25)
    >>> round(float(sum(abs(k[1, 1]) ** 2 for k in ks)), 6)
    0.25
    >>> np.allclose(sum(k.conj().T @ k for k in ks), np.eye(2))   # trace preserving
    True
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

    Parameters
    ----------
    coherence : float
        Factor c in [0, 1] (e.g. :func:`coherence_factor`); 1 is the identity channel.

    Returns
    -------
    list of numpy.ndarray
        K0 = diag(1, c), K1 = diag(0, sqrt(1 - c^2)) (2x2 complex).

    Raises
    ------
    ValueError
        If ``coherence`` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.channels import dephasing_kraus
    >>> ks = dephasing_kraus(0.6)
    >>> np.allclose(sum(k.conj().T @ k for k in ks), np.eye(2))   # sum K^dag K = 1
    True
    >>> plus = np.full((2, 2), 0.5)                              # |+><+|
    >>> out = sum(k @ plus @ k.conj().T for k in ks)
    >>> round(float(out[0, 1].real), 6), round(float(out[1, 1].real), 6)
    (0.3, 0.5)
    """
    if not 0.0 <= coherence <= 1.0:
        raise ValueError(f"dephasing coherence factor must be in [0, 1], got {coherence}")
    return [
        np.array([[1.0, 0.0], [0.0, coherence]], dtype=complex),
        np.array([[0.0, 0.0], [0.0, math.sqrt(1.0 - coherence**2)]], dtype=complex),
    ]


def compose_kraus(first: list[np.ndarray], then: list[np.ndarray]) -> list[np.ndarray]:
    """Kraus set of the channel ``then`` applied after ``first``.

    Parameters
    ----------
    first, then : list of numpy.ndarray
        Kraus sets of two channels on the same qubits.

    Returns
    -------
    list of numpy.ndarray
        The products B_j A_i, without the operators that are exactly zero.

    Examples
    --------
    Two dephasings multiply their coherence factors:

    >>> import numpy as np
    >>> from qnet.quantum.channels import compose_kraus, dephasing_kraus
    >>> ks = compose_kraus(dephasing_kraus(0.5), dephasing_kraus(0.4))
    >>> plus = np.full((2, 2), 0.5)
    >>> round(float(sum(k @ plus @ k.conj().T for k in ks)[0, 1].real), 6)   # 0.5 * 0.5 * 0.4
    0.1
    """
    out = [b @ a for a in first for b in then]
    return [k for k in out if np.abs(k).max() > 0.0]


def storage_kraus(
    t_from_s: float, t_to_s: float, t1_s: float, t2_s: float, decay: str = "exponential"
) -> list[np.ndarray]:
    """Kraus set of a memory kept from age ``t_from_s`` to age ``t_to_s`` (dephasing then T1).

    Parameters
    ----------
    t_from_s, t_to_s : float
        Ages of the memory at the start and the end of the storage (s), t_from <= t_to.
    t1_s : float
        Amplitude-damping time T1 (s); ``inf`` for none.
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for none.
    decay : str, optional
        One of :data:`DECAY_LAWS` (default ``"exponential"``).

    Returns
    -------
    list of numpy.ndarray
        2x2 Kraus operators: :func:`dephasing_kraus` of :func:`storage_coherence_factor`,
        then :func:`loss_kraus` with survival exp(-(t_to - t_from)/T1).

    Raises
    ------
    ValueError
        If ``t_to_s < t_from_s`` or ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    The coherence of |+> falls by c(t) exp(-t/(2 T1)):

    >>> import math
    >>> import numpy as np
    >>> from qnet.quantum.channels import storage_kraus
    >>> plus = np.full((2, 2), 0.5)
    >>> out = sum(k @ plus @ k.conj().T for k in storage_kraus(0.0, 1.0, 2.0, 4.0))
    >>> round(float(out[0, 1].real), 6) == round(0.5 * math.exp(-1 / 4 - 1 / 4), 6)
    True
    """
    c = storage_coherence_factor(t_from_s, t_to_s, t2_s, decay)
    survival = 1.0 if math.isinf(t1_s) else math.exp(-(t_to_s - t_from_s) / t1_s)  # 1 - gamma
    return compose_kraus(dephasing_kraus(c), loss_kraus(survival))


def memory_kraus(t_s: float, t1_s: float, t2_s: float, decay: str = "exponential") -> list[np.ndarray]:
    """Kraus set of a memory stored for ``t_s`` seconds from its emission.

    Same as :func:`storage_kraus` from age 0 to age ``t_s``.

    Parameters
    ----------
    t_s : float
        Storage time (s), >= 0.
    t1_s : float
        Amplitude-damping time T1 (s); ``inf`` for none.
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for none.
    decay : str, optional
        One of :data:`DECAY_LAWS` (default ``"exponential"``).

    Returns
    -------
    list of numpy.ndarray
        2x2 Kraus operators.

    Raises
    ------
    ValueError
        If ``t_s < 0`` or ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    A memory in |1> with T1 = 1 s stored 1 s stays in |1> with probability 1/e:

    >>> import math
    >>> import numpy as np
    >>> from qnet.quantum.channels import memory_kraus
    >>> one = np.diag([0.0, 1.0])
    >>> out = sum(k @ one @ k.conj().T for k in memory_kraus(1.0, 1.0, math.inf))
    >>> round(float(out[1, 1].real), 6) == round(math.exp(-1), 6)
    True
    """
    return storage_kraus(0.0, t_s, t1_s, t2_s, decay)


def pair_coherence_time(*memories: tuple[float, float, str]) -> float:
    """Time for a stored pair's coherence to fall by 1/e with all its memories decaying (s).

    Each memory is a tuple ``(t2_s, t1_s, decay)``. The pair coherence is the product of the
    memories' factors, exp(-a t - b t^2) with a = sum of 1/T2 (exponential memories) +
    1/(2 T1) (amplitude damping) and b = sum of 1/T2^2 (gaussian memories); T_coh solves
    b t^2 + a t = 1. This gives 1/T_coh = 1/T2_A + 1/T2_B (exponential) and
    1/T_coh^2 = 1/T2_A^2 + 1/T2_B^2 (gaussian) as in ``docs/conventions.md`` when T1 is infinite.

    Parameters
    ----------
    *memories : tuple of (float, float, str)
        ``(t2_s, t1_s, decay)`` of each memory: T2 (s), T1 (s) (``inf`` for none) and one of
        :data:`DECAY_LAWS`.

    Returns
    -------
    float
        T_coh (s); ``inf`` for memories that never decay.

    Raises
    ------
    ValueError
        If a ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    >>> import math
    >>> from qnet.quantum.channels import pair_coherence_time
    >>> round(pair_coherence_time((2.0, math.inf, "exponential"), (2.0, math.inf, "exponential")), 6)
    1.0
    >>> round(pair_coherence_time((3.0, math.inf, "gaussian"), (4.0, math.inf, "gaussian")), 6)   # 12/5
    2.4
    """
    a = 0.0
    rates = []  # 1/T2 of the gaussian memories; sqrt(b) = hypot(*rates) without squaring (no overflow)
    for t2_s, t1_s, decay in memories:
        _check_decay(decay)
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
    """(coherence factor, survival 1 - gamma) of :func:`storage_kraus`, vectorised over the ages.

    Parameters
    ----------
    t_from_s, t_to_s : numpy.ndarray or float
        Ages of the memories at the start and the end of the storage (s); broadcast together.
    t1_s : float
        Amplitude-damping time T1 (s); ``inf`` for none.
    t2_s : float
        Dephasing time constant T2 (s); ``inf`` for none.
    decay : str, optional
        One of :data:`DECAY_LAWS` (default ``"exponential"``).

    Returns
    -------
    coherence : numpy.ndarray
        The dephasing factor (:func:`storage_coherence_factor`) of each interval.
    survival : numpy.ndarray
        exp(-(t_to - t_from)/T1), the probability that |1> does not decay, same shape.

    Raises
    ------
    ValueError
        If an interval ends before it starts or ``decay`` is not in :data:`DECAY_LAWS`.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.channels import storage_factors
    >>> c, s = storage_factors(np.array([0.0, 1.0]), np.array([1.0, 3.0]), 2.0, 1.0)
    >>> c.round(6).tolist(), s.round(6).tolist()      # exp(-1), exp(-2); exp(-1/2), exp(-1)
    ([0.367879, 0.135335], [0.606531, 0.367879])
    """
    t_from = np.asarray(t_from_s, dtype=float)
    t_to = np.asarray(t_to_s, dtype=float)
    if np.any(t_to < t_from):
        raise ValueError("storage interval ends before it starts")
    if math.isinf(t2_s):
        coherence = np.ones(np.broadcast(t_from, t_to).shape)
    else:
        _check_decay(decay)
        if decay == "exponential":
            coherence = np.exp(-(t_to - t_from) / t2_s)
        else:
            coherence = np.exp(-_gaussian_exponent(t_from, t_to, t2_s))
    survival = (
        np.ones_like(coherence)
        if math.isinf(t1_s)
        else np.broadcast_to(np.exp(-(t_to - t_from) / t1_s), coherence.shape)
    )
    return coherence, np.asarray(survival, dtype=float)


def apply_storage(rho: np.ndarray, memory: int, coherence: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """The channel of :func:`storage_kraus` on memory 0 (A) or 1 (B) of two-qubit states.

    ``rho`` is (n, 4, 4) (memory A first); ``coherence`` and ``survival`` have shape (n,):
    populations of |1> decay by ``survival`` into |0>, off-diagonal elements of that memory are
    multiplied by coherence * sqrt(survival).

    Parameters
    ----------
    rho : numpy.ndarray
        Two-qubit states, shape (n, 4, 4) (or one (4, 4) state with factors of shape (1,)).
    memory : int
        0 for memory A (the first qubit), 1 for memory B.
    coherence, survival : numpy.ndarray
        Shape (n,): the factors of :func:`storage_factors` for each state.

    Returns
    -------
    numpy.ndarray
        A new complex array of shape (n, 4, 4).

    Raises
    ------
    ValueError
        If ``memory`` is not 0 or 1.

    Examples
    --------
    Dephasing memory A of |Psi+> with factor c leaves fidelity (1 + c)/2:

    >>> import numpy as np
    >>> from qnet.quantum.channels import apply_storage
    >>> from qnet.quantum.states import bell_projector, fidelity
    >>> out = apply_storage(bell_projector("psi+")[None], 0, np.array([0.6]), np.array([1.0]))
    >>> round(fidelity(out[0], "psi+"), 6)
    0.8
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

"""Run compiled links on Qiskit Aer and turn the output into :class:`~qnet.link.results.LinkResult`.

Exact mode (default): each circuit gets a ``save_density_matrix`` of all its qubits, all
circuits go to Aer in **one** ``run()`` (density-matrix method, shots=1, deterministic), and
the heralded memory state is the block of the final state whose photonic qubits hold a
herald record — no sampling, no mid-circuit measurement. Shots mode measures the memories in
the nine Pauli settings (XX, XY, ..., ZZ) together with the station's click record, keeps
the heralded shots, and estimates every figure with a standard error and a 95 % interval
(:mod:`qnet.link.shots`: direct estimators, a cross-fitted CHSH value, bootstrap errors).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from qnet._deprecation import renamed_keywords
from qnet.quantum import figures
from qnet.errors import QnetError
from qnet.link.circuit import CompiledLink, LinkProgram, compile_link
from qnet.link.spec import link_spec
from qnet.link.results import LinkResult
from qnet.quantum.states import PAULI, fidelity
from qnet.link.choices import ENGINES, LINK_BACKENDS, check_link_backend

if TYPE_CHECKING:  # pragma: no cover - typing only
    import networkx as nx
    from qiskit import QuantumCircuit

__all__ = [
    "LINK_BACKENDS",
    "ENGINES",
    "HeraldedState",
    "simulator",
    "link_figure_columns",
    "herald_floor",
    "never_heralds",
    "never_heralds_error",
    "heralded_state",
    "heralded_states",
    "link_figures",
    "link_result",
    "link_results_from_states",
    "layout_groups",
    "stack_figures",
    "final_states",
    "run_links",
    "run_link",
    "simulate_link",
]


class HeraldedState(NamedTuple):
    """What a link delivers: the herald probability per attempt and the corrected memory state.

    ``state`` is 4 x 4, memory A first, after the Pauli-frame correction (:func:`heralded_state`).

    Examples
    --------
    >>> import numpy as np
    >>> h = HeraldedState(0.25, np.eye(4) / 4)
    >>> h.probability, h.state.shape
    (0.25, (4, 4))
    """

    probability: float
    state: np.ndarray


@lru_cache(maxsize=4)
def simulator(method: str = "density_matrix", device: str = "CPU"):
    """A cached ``AerSimulator`` (density-matrix method by default) on ``device`` ("CPU" or "GPU").

    Parameters
    ----------
    method : str, default "density_matrix"
        Aer's simulation method.
    device : str, default "CPU"
        "CPU", or "GPU" (needs the qiskit-aer-gpu package and CUDA).

    Returns
    -------
    qiskit_aer.AerSimulator
        The same object for the same arguments.

    Raises
    ------
    QnetError
        When Aer has no such device here.

    Examples
    --------
    >>> sim = simulator()
    >>> type(sim).__name__, sim.options.method, sim is simulator()
    ('AerSimulator', 'density_matrix', True)
    """
    from qiskit_aer import AerSimulator

    available = AerSimulator().available_devices()
    if device not in available:
        hint = (
            " (install qiskit-aer-gpu in place of qiskit-aer on a machine with an NVIDIA GPU)"
            if device == "GPU"
            else ""
        )
        raise QnetError(f"device = {device!r} is not available to Aer here{hint}; available: {', '.join(available)}")
    return AerSimulator(method=method, device=device)


def herald_floor(num_qubits: int) -> float:
    """The smallest herald probability whose delivered state double precision resolves (n qubits).

    The station's Kraus operators are exactly zero wherever the instrument has no amplitude
    (photon number is conserved sector by sector, see :mod:`qnet.link.station`), so a link that can
    never herald (a node that never emits, a detector efficiency of 0) gets a herald
    probability of exactly 0, not rounding noise, while far links keep full relative precision
    however small P is (5e-41 for two_photon with 1000 km per arm). What limits P is the
    exponent range: the herald block's entries are P times the delivered state's, so once
    P <= d tiny / eps (d = 2^n, tiny = 2.2e-308 the smallest normal double; ~6e-291 for the
    6-qubit two_photon circuit) state entries at the eps level are subnormal and the
    normalised state loses precision. Such a P counts as never heralding (its rate is zero to
    any purpose).

    Parameters
    ----------
    num_qubits : int
        Qubits of the link circuit (4 for ``single_click``, 6 for ``two_photon``).

    Returns
    -------
    float
        2^n times the smallest normal double over the machine epsilon.

    Examples
    --------
    >>> f"{herald_floor(4):.3g}", f"{herald_floor(6):.3g}"
    ('1.6e-291', '6.41e-291')
    """
    info = np.finfo(float)
    return float(2.0**num_qubits * info.tiny / info.eps)


def never_heralds(p, num_qubits: int):
    """True where herald probability ``p`` (a float or an array) is indistinguishable from 0.

    NaN counts as never heralding. See :func:`herald_floor`.

    Parameters
    ----------
    p : float or array_like
        Herald probabilities per attempt.
    num_qubits : int
        Qubits of the link circuit.

    Returns
    -------
    numpy.bool_ or numpy.ndarray of bool
        Shaped like ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> never_heralds(np.array([0.0, 1e-300, 1e-3, np.nan]), 4)
    array([ True,  True, False,  True])
    """
    return ~(np.asarray(p) > herald_floor(num_qubits))


def never_heralds_error(compiled, p: float) -> QnetError:
    """The one-line error for a link that never heralds.

    Parameters
    ----------
    compiled : CompiledLink or LinkProgram
        The link (for its node names and qubit count).
    p : float
        Its herald probability.

    Returns
    -------
    QnetError
        Not raised: the caller raises it.

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> print(never_heralds_error(link, 0.0))
    link alice-bob never heralds (success probability 0, at or below 1.6e-291, the smallest double
    precision resolves): check the efficiencies, fibre lengths and bright-state populations
    """
    s = compiled.spec
    return QnetError(
        f"link {s.node_a}-{s.node_b} never heralds (success probability {p:.3g}, at or below "
        f"{herald_floor(_num_qubits(compiled)):.1e}, the smallest double precision resolves): check the "
        "efficiencies, fibre lengths and bright-state populations"
    )


def _num_qubits(compiled) -> int:
    return compiled.circuit.num_qubits if hasattr(compiled, "circuit") else compiled.num_qubits


def heralded_state(rho: np.ndarray, compiled: CompiledLink | LinkProgram) -> HeraldedState:
    """(herald probability, delivered state) from the circuit's final density matrix.

    The delivered state is sum_h C_h rho_h C_h^dagger / P with rho_h the unnormalised memory
    state for herald record h and C_h its Pauli-frame correction (memory A first).

    Parameters
    ----------
    rho : numpy.ndarray
        The circuit's final density matrix (2^n x 2^n, Qiskit order; :func:`final_states`).
    compiled : CompiledLink or LinkProgram
        The link it belongs to (its qubit roles and heralds).

    Returns
    -------
    HeraldedState
        The herald probability P per attempt (at most 1) and the 4 x 4 delivered state.

    Raises
    ------
    QnetError
        When the link never heralds (:func:`never_heralds_error`).

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> rho = final_states([link])[0]
    >>> p, state = heralded_state(rho, link)
    >>> rho.shape, state.shape, round(p, 6), round(float(np.trace(state).real), 6)
    ((16, 16), (4, 4), 0.000955, 1.0)
    """
    n = _num_qubits(compiled)
    p, states = heralded_states(
        np.asarray(rho)[None], n, compiled.memory_qubits, compiled.photon_qubits, compiled.heralds
    )
    if never_heralds(p[0], n):
        raise never_heralds_error(compiled, float(p[0]))
    return HeraldedState(min(1.0, float(p[0])), states[0])


@lru_cache(maxsize=64)
def _herald_indices(n: int, memory_qubits: tuple[int, int], photon_qubits: tuple[int, ...], heralds: tuple) -> tuple:
    """Per herald: (flat row/column indices (4, 2^t) of its memory block, the phases of its Pauli correction or None).

    A Pauli correction u = P_A (x) P_B has one entry per row, ph_i at column pi(i):
    (u S u^dagger)_ij = ph_i conj(ph_j) S_pi(i)pi(j). The rows of the indices come permuted by pi
    and the phases as the 4x4 matrix ph_i conj(ph_j) (entries +-1, +-i): every product is exact,
    the same numbers as the matrix products, without them.
    """
    rest = [q for q in range(n) if q not in memory_qubits and q not in photon_qubits]  # traced out
    qa, qb = memory_qubits
    kept = np.array([((a >> 1) << qa) | ((a & 1) << qb) for a in range(4)])  # memory A first
    traced = np.array([sum(((j >> i) & 1) << q for i, q in enumerate(rest)) for j in range(2 ** len(rest))])
    out = []
    for h in heralds:
        base = sum(bit << q for q, bit in zip(photon_qubits, h.clicks))
        idx = base + kept[:, None] + traced[None, :]
        phases = None
        if tuple(h.correction) != ("I", "I"):
            u = np.kron(PAULI[h.correction[0]], PAULI[h.correction[1]])
            pi = np.argmax(np.abs(u), axis=1)
            ph = u[np.arange(4), pi]
            idx, phases = idx[pi], ph[:, None] * ph.conj()[None, :]
        out.append((idx, phases))
    return tuple(out)


def heralded_states(
    rhos: np.ndarray, n: int, memory_qubits: tuple[int, int], photon_qubits: tuple[int, ...], heralds: Sequence
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`heralded_state` of a stack of final states (M, 2^n, 2^n) of one link layout, at once.

    Same arithmetic as :func:`heralded_state`, point by point.

    Parameters
    ----------
    rhos : numpy.ndarray
        Final density matrices (M, 2^n, 2^n) of circuits with one qubit layout.
    n : int
        Their qubit count.
    memory_qubits : tuple of int
        (memory A, memory B) qubits.
    photon_qubits : tuple of int
        The photonic qubits, in the order of the heralds' click records.
    heralds : sequence of Herald
        The click records that herald, with their corrections (:data:`qnet.link.station.HERALDS`).

    Returns
    -------
    P : numpy.ndarray
        The herald probabilities (M,), *not* clipped to 1.
    states : numpy.ndarray
        The delivered states (M, 4, 4) where P > 0 (rows where P <= 0 are not meaningful:
        such a link never heralds).

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> rho = final_states([link])[0]
    >>> p, states = heralded_states(np.stack([rho, rho]), 4, link.memory_qubits, link.photon_qubits, link.heralds)
    >>> p.shape, states.shape, bool(p[0] == heralded_state(rho, link).probability)
    ((2,), (2, 4, 4), True)
    """
    rhos = np.asarray(rhos)
    total = np.zeros((rhos.shape[0], 4, 4), dtype=complex)
    for idx, phases in _herald_indices(n, tuple(memory_qubits), tuple(photon_qubits), tuple(heralds)):
        block = rhos[:, idx[:, 0][:, None], idx[:, 0][None, :]]
        for j in range(1, idx.shape[1]):
            block = block + rhos[:, idx[:, j][:, None], idx[:, j][None, :]]
        total += block if phases is None else block * phases
    p = np.trace(total, axis1=1, axis2=2).real
    # (P = 0, or a subnormal P whose block rounds to entries above P: such rows are far below
    # herald_floor, never herald, and their states are not used)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rho_out = total / p[:, None, None]
        return p, (rho_out + rho_out.conj().transpose(0, 2, 1)) / 2


def link_figures(
    spec,
    p: float,
    fidelity: float,
    chsh: float,
    qber: float,
    bb84_key_fraction: float,
    pair_coherence_time_s: float | None = None,
) -> dict[str, float]:
    """The :data:`~qnet.link.results.LINK_FIELDS` of a link, from its herald probability and state figures.

    ``p`` is the herald probability per attempt; the rate counts the link's
    ``spec.attempts_per_round`` parallel attempts per round, (1 - (1 - p)^k) / T_att
    (:func:`qnet.link.multiplexing.rate_hz`). ``pair_coherence_time_s`` defaults to the spec's.
    The one place these figures are computed (``qnet link`` and link sweeps).

    Parameters
    ----------
    spec : LinkSpec
        The link (attempt time, attempts per round, coherence time).
    p : float
        Herald probability per attempt.
    fidelity, chsh, qber, bb84_key_fraction : float
        Figures of the delivered state.
    pair_coherence_time_s : float, optional
        Overrides ``spec.pair_coherence_time_s`` (s).

    Returns
    -------
    dict
        Every :data:`~qnet.link.results.LINK_FIELDS` figure by name.

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> f = link_figures(link.spec, 1e-3, 0.9, 2.5, 0.05, 0.4)
    >>> round(f["rate_hz"], 6), round(f["link_efficiency"], 6), round(f["bb84_key_rate_hz"], 6)
    (2.325581, 1.27907, 0.930233)
    """
    t_coh = spec.pair_coherence_time_s if pair_coherence_time_s is None else pair_coherence_time_s
    return link_figure_columns(
        p, spec.attempts_per_round, spec.attempt_time_s, t_coh, fidelity, chsh, qber, bb84_key_fraction
    )


def link_figure_columns(
    p, attempts_per_round, attempt_time_s, pair_coherence_time_s, fidelity, chsh, qber, bb84_key_fraction
) -> dict:
    """:func:`link_figures` of many links at once: every argument a scalar or an array (broadcast).

    The same formulas, elementwise (a link sweep computes a chunk's figures with one call).

    Parameters
    ----------
    p : float or numpy.ndarray
        Herald probability per attempt.
    attempts_per_round : int or numpy.ndarray
        Parallel attempts k per round.
    attempt_time_s, pair_coherence_time_s : float or numpy.ndarray
        One round, and the pair's coherence time (s).
    fidelity, chsh, qber, bb84_key_fraction : float or numpy.ndarray
        Figures of the delivered states.

    Returns
    -------
    dict
        Every :data:`~qnet.link.results.LINK_FIELDS` figure by name: floats for scalar
        arguments, arrays otherwise.

    Examples
    --------
    >>> cols = link_figure_columns(np.array([1e-3, 0.0]), 1, 430e-6, 0.55, 0.9, np.array([2.5, 2.5]), 0.05, 0.4)
    >>> np.round(cols["rate_hz"], 6).tolist(), cols["link_efficiency"].tolist()[1]
    ([2.325581, 0.0], 0.0)
    """
    from qnet.link.multiplexing import rate_figures

    r = figures.diqkd_key_fraction(chsh, qber)
    paid = rate_figures(p, attempts_per_round, attempt_time_s, pair_coherence_time_s, r, bb84_key_fraction)
    return dict(
        fidelity=fidelity,
        success_probability=p,
        attempts_per_round=attempts_per_round,
        attempt_time_s=attempt_time_s,
        rate_hz=paid["rate_hz"],
        pair_coherence_time_s=pair_coherence_time_s,
        link_efficiency=paid["link_efficiency"],
        chsh=chsh,
        qber=qber,
        diqkd_key_fraction=r,
        diqkd_key_rate_hz=paid["diqkd_key_rate_hz"],
        bb84_key_fraction=bb84_key_fraction,
        bb84_key_rate_hz=paid["bb84_key_rate_hz"],
    )


def link_result(
    compiled: CompiledLink | LinkProgram, p: float, rho: np.ndarray, f: float | None = None, **extra
) -> LinkResult:
    """The :class:`LinkResult` of a link whose herald probability is ``p`` and delivered state ``rho``.

    ``f`` overrides the fidelity (shots mode estimates it separately); ``extra`` fills the
    descriptive fields (method, shots, standard errors). Figures: :func:`link_figures`.

    Parameters
    ----------
    compiled : CompiledLink
        The link.
    p : float
        Its herald probability per attempt.
    rho : numpy.ndarray
        Its delivered 4 x 4 state (memory A first).
    f : float, optional
        The fidelity, when not the one of ``rho`` with the target.
    **extra
        Further :class:`~qnet.link.results.LinkResult` fields.

    Returns
    -------
    LinkResult

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> r = link_result(link, *heralded_state(final_states([link])[0], link))
    >>> round(r.fidelity, 6), round(r.success_probability, 6), r.node_a, r.station
    (0.913843, 0.000955, 'alice', 'station')
    """
    spec = compiled.spec
    values: dict[str, Any] = link_figures(
        spec,
        p,
        fidelity(rho, compiled.target) if f is None else f,
        figures.chsh(rho),
        figures.qber(rho, compiled.target),
        figures.bb84_key_fraction(rho, compiled.target),
    )
    return LinkResult(
        **values,
        density_matrix=rho,
        node_a=spec.node_a,
        node_b=spec.node_b,
        station=spec.station,
        scheme=spec.scheme,
        target=compiled.target,
        **extra,
    )


def layout_groups(compiled: Sequence[Any]) -> dict[tuple, tuple[tuple, list[int]]]:
    """The links grouped by qubit layout: ``{(n, memory_qubits, photon_qubits, id(heralds), target): (heralds, indices)}``.

    Links of one layout share their herald records (one tuple object), so grouping by its id
    saves hashing the nested tuples of every link; equal records in other objects only make
    another group, evaluated the same way. Groups and their indices are in order of first
    occurrence.

    Parameters
    ----------
    compiled : sequence of CompiledLink or LinkProgram
        The links.

    Returns
    -------
    dict

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> [(key[0], members) for key, (_, members) in layout_groups([link, link]).items()]
    [(4, [0, 1])]
    """
    groups: dict[tuple, tuple[tuple, list[int]]] = {}
    for i, c in enumerate(compiled):
        key = (_num_qubits(c), tuple(c.memory_qubits), tuple(c.photon_qubits), id(c.heralds), c.target)
        group = groups.get(key)
        if group is None:
            group = groups[key] = (c.heralds, [])
        group[1].append(i)
    return groups


class StackFigures(NamedTuple):
    """What :func:`stack_figures` returns for a stack of links of one layout."""

    p: np.ndarray  #: herald probability per link
    failed: np.ndarray  #: links that never herald (:func:`never_heralds`)
    rho: np.ndarray  #: heralded states (zero where ``failed``)
    columns: dict  #: :func:`link_figure_columns` of the stack


def stack_figures(
    rhos: np.ndarray,
    layout: tuple,
    heralds: tuple,
    attempts_per_round: Any,
    attempt_time_s: Any,
    pair_coherence_time_s: Any,
) -> StackFigures:
    """The heralded states and every link figure of a stack of final states of one layout.

    :func:`heralded_states`, then :func:`link_figure_columns` with the fidelity, CHSH value, QBER
    and BB84 key fraction of the heralded states (the figures of :func:`link_result`); a link that
    never heralds gets a zero state (its figures are finite and meaningless: the caller reports
    :func:`never_heralds_error` instead).

    Parameters
    ----------
    rhos : ndarray, shape (N, 2^n, 2^n)
        Final density matrices (:func:`final_states`).
    layout : tuple
        A key of :func:`layout_groups`: ``(n, memory_qubits, photon_qubits, _, target)``.
    heralds : tuple
        The layout's herald records.
    attempts_per_round, attempt_time_s, pair_coherence_time_s : scalar or ndarray
        As for :func:`link_figure_columns` (per link, or shared).

    Returns
    -------
    StackFigures

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> (layout, (heralds, _)), = layout_groups([link]).items()
    >>> s = link.spec
    >>> out = stack_figures(np.stack(final_states([link])), layout, heralds, s.attempts_per_round,
    ...                     s.attempt_time_s, s.pair_coherence_time_s)
    >>> bool(abs(out.columns["fidelity"][0] - run_link(link).fidelity) < 1e-12), out.failed.tolist()
    (True, [False])
    """
    n, memory_qubits, photon_qubits, _, target = layout
    p, rho = heralded_states(rhos, n, memory_qubits, photon_qubits, heralds)
    failed = never_heralds(p, n)
    if failed.any():
        rho[failed] = 0.0
    columns = link_figure_columns(
        np.minimum(1.0, p),
        attempts_per_round,
        attempt_time_s,
        pair_coherence_time_s,
        fidelity(rho, target),
        figures.chsh(rho),
        figures.qber(rho, target),
        figures.bb84_key_fraction(rho, target),
    )
    return StackFigures(p, failed, rho, columns)


def link_results_from_states(
    compiled: Sequence[CompiledLink | LinkProgram], states: Sequence[np.ndarray]
) -> list[LinkResult]:
    """:func:`link_result` of many links from their final states, the figures of each layout at once.

    The same as ``[link_result(c, *heralded_state(rho, c)) for c, rho in zip(compiled, states)]``
    (the same functions, given the stack of all links of one qubit layout), without the per-link
    numpy calls.

    Parameters
    ----------
    compiled : sequence of CompiledLink or LinkProgram
        The links.
    states : sequence of numpy.ndarray
        Their final density matrices (:func:`final_states`).

    Returns
    -------
    list of LinkResult
        One per link, in order.

    Raises
    ------
    QnetError
        For the first link (in order) that never heralds (:func:`never_heralds_error`).

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> rho, = final_states([link])
    >>> fast, = link_results_from_states([link], [rho])
    >>> slow = link_result(link, *heralded_state(rho, link))
    >>> abs(fast.fidelity - slow.fidelity) < 1e-15, abs(fast.rate_hz - slow.rate_hz) < 1e-12
    (True, True)
    """
    out: list[Any] = [None] * len(compiled)
    failures = []
    for layout, (heralds, members) in layout_groups(compiled).items():
        specs = [compiled[i].spec for i in members]
        p, failed, rho, columns = stack_figures(
            np.stack([states[i] for i in members]),
            layout,
            heralds,
            np.array([s.attempts_per_round for s in specs]),
            np.array([s.attempt_time_s for s in specs], dtype=float),
            np.array([s.pair_coherence_time_s for s in specs], dtype=float),
        )
        if failed.any():
            failures += [(members[k], float(p[k])) for k in np.flatnonzero(failed)]
            continue
        target = layout[4]
        values = {name: np.broadcast_to(columns[name], p.shape).tolist() for name in columns}
        for k, i in enumerate(members):
            spec = specs[k]
            out[i] = LinkResult(
                **{name: column[k] for name, column in values.items()},
                density_matrix=rho[k],
                node_a=spec.node_a,
                node_b=spec.node_b,
                station=spec.station,
                scheme=spec.scheme,
                target=target,
            )
    if failures:
        i, p_i = min(failures)
        raise never_heralds_error(compiled[i], p_i)
    return out


@renamed_keywords(engine="link_backend")
def run_links(
    compiled: Sequence[CompiledLink],
    shots: int | None = None,
    seed: int | None = None,
    device: str = "CPU",
    link_backend: str = "aer",
) -> list[LinkResult]:
    """Run many compiled links in one Aer ``run()``; exact unless ``shots`` is given.

    ``link_backend="batch"`` evaluates the same circuits with qnet's vectorised numpy simulator
    (:mod:`qnet.link.batch`, equal to Aer within 1e-12; exact mode only).

    Parameters
    ----------
    compiled : sequence of CompiledLink
        The links (:func:`qnet.link.circuit.compile_link`).
    shots : int, optional
        Shots per measurement setting (:mod:`qnet.link.shots`); None: the exact density matrix.
    seed : int, optional
        Seed of the shots and of the bootstrap (shots mode).
    device : str, default "CPU"
        Aer's device (:func:`simulator`).
    link_backend : str, default "aer"
        One of :data:`LINK_BACKENDS`.

    Returns
    -------
    list of LinkResult
        One per link, in order.

    Raises
    ------
    QnetError
        For invalid ``shots`` or ``link_backend``, the batch engine with shots, a link that never
        heralds, or (shots mode) a setting that saw no herald.

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> far = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml",
    ...     ["fibres.alice-station.length_km=25", "fibres.station-bob.length_km=25"]), "alice", "bob"))
    >>> [round(r.fidelity, 6) for r in run_links([link, far])]
    [0.913843, 0.910815]
    """
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise QnetError(f"shots = {shots!r} is invalid: an integer >= 1 (or None for the exact density matrix)")
    check_link_backend(link_backend)
    if link_backend == "batch" and shots is not None:
        raise QnetError(
            "link backend 'batch' computes exact density matrices only; drop shots or use link backend 'aer'"
        )
    if not compiled:
        return []
    if shots is not None:
        return _run_shots(compiled, shots, seed, device)
    return link_results_from_states(compiled, final_states(compiled, device, link_backend))


@lru_cache(maxsize=16)
def _save_instruction(n_qubits: int):
    from qiskit_aer.library import SaveDensityMatrix

    return SaveDensityMatrix(n_qubits, label="rho")


def _structural_copy(circuit: QuantumCircuit) -> QuantumCircuit:
    """A new circuit with ``circuit``'s instructions (the same operation objects, not copies).

    Enough to append a save instruction without touching the caller's circuit: 5-6x cheaper than
    ``QuantumCircuit.copy()``, which copies every operation (and a station's Kraus matrices).
    Falls back to ``copy()`` where Qiskit lacks the private constructor this uses.
    """
    try:
        from qiskit import QuantumCircuit

        out = QuantumCircuit._from_circuit_data(circuit._data.copy(copy_instructions=False))
    except (AttributeError, TypeError):  # pragma: no cover - another Qiskit 2.x internals layout
        return circuit.copy()
    out.global_phase = circuit.global_phase
    return out


@renamed_keywords(engine="link_backend")
def final_states(
    compiled: Sequence[CompiledLink],
    device: str = "CPU",
    link_backend: str = "aer",
    threads: int = 0,
    in_place: bool = False,
) -> list[np.ndarray]:
    """Final density matrix (all qubits, Qiskit order) of each compiled circuit.

    ``link_backend="aer"``: one Aer ``run()`` for all circuits, each with a ``save_density_matrix``
    appended (to a copy, or to the circuit itself with ``in_place=True`` when the caller owns
    it); ``threads`` > 0 sets Aer's ``max_parallel_threads`` (a sweep's worker processes use 1),
    0 lets Aer use every core, on several circuits at once (``max_parallel_experiments``). The states are read from Aer's raw
    output, without ``run().result()``'s formatting, by :func:`qnet.link.aer_exec.density_matrices`
    (which falls back to ``run().result()``; ``QNET_AER_PUBLIC=1`` forces that).
    ``link_backend="batch"``: qnet's vectorised numpy simulator of the same circuits.

    Parameters
    ----------
    compiled : sequence of CompiledLink
        The links (or :class:`~qnet.link.circuit.LinkProgram` lists with ``link_backend="batch"``).
    device : str, default "CPU"
        Aer's device.
    link_backend : str, default "aer"
        One of :data:`LINK_BACKENDS`.
    threads : int, default 0
        Aer's ``max_parallel_threads`` when > 0.
    in_place : bool, default False
        Append the save instruction to the circuits themselves (Aer).

    Returns
    -------
    list of numpy.ndarray
        One (2^n, 2^n) density matrix per link.

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> aer, = final_states([link])
    >>> batch, = final_states([link], link_backend="batch")
    >>> aer.shape, bool(np.allclose(aer, batch, atol=1e-12))
    ((16, 16), True)
    """
    if link_backend == "batch":
        from qnet.link.batch import density_matrices

        return list(density_matrices([c.circuit for c in compiled]))
    circuits = []
    for c in compiled:
        qc = c.circuit if in_place else _structural_copy(c.circuit)
        qc.append(_save_instruction(qc.num_qubits), qc.qubits, copy=False)
        circuits.append(qc)
    options: dict[str, Any] = {"shots": 1, **({"max_parallel_threads": threads} if threads else {})}
    if device == "CPU":
        # gate fusion pays off from ~14 qubits; on a link's 4-8 qubits (density matrix) it only
        # adds its own pass to every circuit (measured ~0.5 ms of ~3 ms per two_photon link)
        options["fusion_enable"] = False
        if not threads and len(circuits) > 1:
            # a link's circuit is far below the size from which Aer parallelises one simulation
            # (14 qubits): with all cores allowed, they go to several circuits at once instead
            options["max_parallel_experiments"] = 0
    from qnet.link import aer_exec

    return aer_exec.density_matrices(simulator("density_matrix", device), circuits, options, label="rho")


def _run_shots(compiled: Sequence[CompiledLink], shots: int, seed: int | None, device: str) -> list[LinkResult]:
    """Shots mode: the nine settings of every link in one Aer run, then :mod:`qnet.link.shots`."""
    from qnet.link import shots as sampling

    circuits = [sampling.measured_circuit(c, s) for c in compiled for s in sampling.SETTINGS]
    result = simulator("density_matrix", device).run(circuits, shots=shots, seed_simulator=seed).result()
    nset = len(sampling.SETTINGS)
    out = []
    for i, c in enumerate(compiled):
        counts = sampling.herald_counts(c, [result.get_counts(i * nset + k) for k in range(nset)])
        error = sampling.herald_error(c, shots, counts)
        if error is not None:
            raise error
        rng = np.random.default_rng(None if seed is None else [seed, i])
        spec = c.spec
        est = sampling.estimate(
            counts, shots, c.target, spec.attempt_time_s, spec.pair_coherence_time_s, rng, spec.attempts_per_round
        )
        base = link_result(c, est.values["success_probability"], sampling.tomographic_state(counts))
        names = {f.name for f in dataclasses.fields(LinkResult)}
        values: dict[str, Any] = {k: v for k, v in est.values.items() if k in names}
        out.append(
            dataclasses.replace(
                base,
                **values,
                method="shots",
                shots=shots,
                standard_errors=est.standard_errors,
                intervals_95=est.intervals_95,
            )
        )
    return out


@renamed_keywords(engine="link_backend")
def run_link(
    compiled: CompiledLink,
    shots: int | None = None,
    seed: int | None = None,
    device: str = "CPU",
    link_backend: str = "aer",
) -> LinkResult:
    """Run one compiled link on Aer (see :func:`run_links` for the arguments).

    Returns
    -------
    LinkResult

    Examples
    --------
    >>> import qnet
    >>> link = qnet.compile_link(qnet.link_spec(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob"))
    >>> round(run_link(link).fidelity, 6), round(run_link(link, link_backend="batch").fidelity, 6)
    (0.913843, 0.913843)
    """
    return run_links([compiled], shots=shots, seed=seed, device=device, link_backend=link_backend)[0]


def simulate_link(
    graph: nx.Graph, a: str, b: str, station: str | None = None, shots: int | None = None, seed: int | None = None
) -> LinkResult:
    """Load-free one-call path: link spec -> circuit -> Aer -> :class:`LinkResult`.

    Parameters
    ----------
    graph : networkx.Graph
        A network (:func:`qnet.load_network`).
    a, b : str
        The link's memory nodes.
    station : str, optional
        Its station, when ``a`` and ``b`` share several.
    shots, seed : int, optional
        As for :func:`run_links`.

    Returns
    -------
    LinkResult

    Raises
    ------
    NetworkError, ConfigError, QnetError
        As :func:`~qnet.link.spec.link_spec` and :func:`run_links` do.

    Examples
    --------
    >>> import qnet
    >>> r = simulate_link(qnet.load_network("examples/liu2026_ion_link.toml"), "alice", "bob")
    >>> round(r.fidelity, 6), round(r.rate_hz, 6)
    (0.913843, 2.220831)
    """
    return run_link(compile_link(link_spec(graph, a, b, station)), shots=shots, seed=seed)

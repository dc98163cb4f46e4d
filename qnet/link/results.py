"""Link result records and their renderings (table for people, JSON-ready dicts for programs).

:class:`LinkResult` is what one elementary link delivers; :data:`LINK_FIELDS` and
:data:`LINK_LABELS` name its JSON keys; :func:`format_table` renders it for people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

import numpy as np

from qnet.link.station import TARGET
from qnet.quantum import figures

__all__ = [
    "LinkResult",
    "FigureError",
    "LINK_FIELDS",
    "LINK_LABELS",
    "DELIVERED_STATE_FIELDS",
    "DeliveredStateFigures",
    "json_number",
    "format_table",
    "format_estimate",
]

#: The figures of a delivered pair's state at its rate (:class:`DeliveredStateFigures`), in the
#: order every result table lists them: links, chains, purified links, requirement targets.
DELIVERED_STATE_FIELDS = (
    "chsh",
    "qber",
    "diqkd_key_fraction",
    "diqkd_key_rate_hz",
    "bb84_key_fraction",
    "bb84_key_rate_hz",
)

#: The numeric fields of a link result, in the order ``qnet link --json`` prints them.
LINK_FIELDS = (
    "fidelity",
    "success_probability",
    "attempts_per_round",
    "attempt_time_s",
    "rate_hz",
    "pair_coherence_time_s",
    "link_efficiency",
    *DELIVERED_STATE_FIELDS,
)

#: Descriptive (non-numeric) fields of ``LinkResult.to_dict()``, after the numbers.
LINK_LABELS = ("node_a", "node_b", "station", "method")


def json_number(x: float) -> float | None:
    """A float for JSON; infinities and NaN become ``None`` (JSON has no inf).

    Parameters
    ----------
    x : float
        Any real number (a NumPy scalar too).

    Returns
    -------
    float or None
        ``float(x)``, or None when it is not finite.

    Examples
    --------
    >>> json_number(0.5), json_number(float("inf")), json_number(float("nan"))
    (0.5, None, None)
    """
    x = float(x)
    return x if math.isfinite(x) else None


class DeliveredStateFigures:
    """Figures of merit of a result's mean delivered ``density_matrix`` at its ``rate_hz``.

    For results whose figures are not stored fields (chains, purified links): CHSH, QBER, the
    DI-QKD key fraction and rate, the BB84/BBM92 key fraction and rate (``qnet.quantum.figures``
    defines each). A subclass provides ``density_matrix`` (4 x 4, memory A first) and
    ``rate_hz`` (delivered pairs per second).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector
    >>> @dataclass
    ... class Pair(DeliveredStateFigures):
    ...     density_matrix: np.ndarray
    ...     rate_hz: float
    >>> pair = Pair(0.9 * bell_projector("psi+") + 0.1 * np.eye(4) / 4, 10.0)  # Werner state
    >>> round(pair.chsh, 6), round(pair.qber, 6), round(pair.bb84_key_rate_hz, 6)
    (2.545584, 0.05, 4.272061)
    """

    density_matrix: np.ndarray
    rate_hz: float

    @property
    def chsh(self) -> float:
        """Maximal CHSH value S of the delivered state."""
        return figures.chsh(self.density_matrix)

    @property
    def qber(self) -> float:
        """Z-basis error probability of the delivered state."""
        return figures.qber(self.density_matrix)

    @property
    def diqkd_key_fraction(self) -> float:
        """Asymptotic DI-QKD secret bits per pair, from :attr:`chsh` and :attr:`qber`."""
        return figures.diqkd_key_fraction(self.chsh, self.qber)

    @property
    def diqkd_key_rate_hz(self) -> float:
        """DI-QKD key rate (bit/s): key fraction times ``rate_hz``."""
        return self.diqkd_key_fraction * self.rate_hz

    @property
    def bb84_key_fraction(self) -> float:
        """Asymptotic BB84/BBM92 secret bits per pair."""
        return figures.bb84_key_fraction(self.density_matrix)

    @property
    def bb84_key_rate_hz(self) -> float:
        """BB84/BBM92 key rate (bit/s): key fraction times ``rate_hz``."""
        return self.bb84_key_fraction * self.rate_hz


class FigureError(NamedTuple):
    """The uncertainty of one estimated figure (shots mode): :meth:`LinkResult.error`.

    Examples
    --------
    >>> err = FigureError(0.0064, (0.90, 0.93))
    >>> err.standard_error, err.interval_95[1]
    (0.0064, 0.93)
    """

    standard_error: float
    interval_95: tuple[float, float]


@dataclass(frozen=True)
class LinkResult:
    """What one elementary link delivers (``docs/conventions.md`` defines every figure).

    fidelity: <Psi+|rho|Psi+> of the delivered state, averaged over herald outcomes weighted by
    their probability, after the Pauli-frame correction. success_probability: herald
    probability p per attempt (one mode). attempts_per_round: k = min(memories at A, memories
    at B) parallel attempts per round (:mod:`qnet.link.multiplexing`). attempt_time_s: T_att, one
    round. rate_hz: delivered pairs per second, (1 - (1 - p)^k) / T_att (= p / T_att for
    k = 1). pair_coherence_time_s: 1/e time of the stored pair's coherence. link_efficiency:
    rate_hz * pair_coherence_time_s (> 1: generated faster than lost). chsh: maximal CHSH
    value. qber: Z-basis error. diqkd_key_fraction: asymptotic DI-QKD secret bits per pair;
    diqkd_key_rate_hz = diqkd_key_fraction * rate_hz. bb84_key_fraction: asymptotic
    BB84/BBM92 secret bits per pair; bb84_key_rate_hz = bb84_key_fraction * rate_hz.
    Shots mode (``method == "shots"``): the figures are estimates and :meth:`error` gives each
    one's standard error and 95 % interval (``standard_errors``, ``intervals_95``).

    Built by :func:`qnet.link.run.run_link` (and the other runners); the remaining fields say
    which link (``node_a``, ``node_b``, ``station``, ``scheme``, ``target``) and how it was
    computed (``method``, ``shots``); ``density_matrix`` is the delivered 4 x 4 state, memory A
    first.

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> r = qnet.run_link(qnet.compile_link(qnet.link_spec(g, "alice", "bob")))
    >>> round(r.fidelity, 6), r.method, r.density_matrix.shape, r.error("fidelity")
    (0.913843, 'exact', (4, 4), None)
    """

    fidelity: float
    success_probability: float
    attempt_time_s: float
    rate_hz: float
    pair_coherence_time_s: float
    link_efficiency: float
    chsh: float
    qber: float
    diqkd_key_fraction: float
    diqkd_key_rate_hz: float
    bb84_key_fraction: float
    bb84_key_rate_hz: float
    density_matrix: np.ndarray = field(repr=False, compare=False)
    node_a: str = ""
    node_b: str = ""
    station: str = ""
    scheme: str = ""
    target: str = TARGET
    method: str = "exact"  # "exact" (density matrix) or "shots"
    shots: int | None = None
    attempts_per_round: int = 1
    #: shots mode: standard error and 95 % interval of each estimated figure, by figure name
    #: (``qnet.link.shots`` says how they are computed); None in exact mode.
    standard_errors: Mapping[str, float] | None = field(default=None, repr=False, compare=False)
    intervals_95: Mapping[str, tuple[float, float]] | None = field(default=None, repr=False, compare=False)

    def error(self, name: str) -> FigureError | None:
        """(standard error, 95 % interval) of figure ``name``; None when exact or not estimated.

        Parameters
        ----------
        name : str
            A figure of :data:`LINK_FIELDS` (``"fidelity"``, ...).

        Returns
        -------
        FigureError or None

        Examples
        --------
        >>> import qnet
        >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
        >>> r = qnet.run_link(qnet.compile_link(qnet.link_spec(g, "alice", "bob")))
        >>> r.error("fidelity") is None  # exact mode: no error
        True
        """
        if not self.standard_errors or name not in self.standard_errors or self.intervals_95 is None:
            return None
        return FigureError(self.standard_errors[name], self.intervals_95[name])

    def to_dict(self, density_matrix: bool = False) -> dict[str, Any]:
        """JSON-ready dict: the numeric ``LINK_FIELDS``, then ``LINK_LABELS`` (which link, which
        method); in shots mode each estimated figure ``x`` is followed by ``x_se`` (standard
        error) and ``x_ci95`` ([low, high]).

        Infinite values (e.g. a memory that never decays) become ``None``; attempts_per_round
        stays an integer.

        Parameters
        ----------
        density_matrix : bool, default False
            Also include the delivered state as ``{"real": [[...]], "imag": [[...]]}``.

        Returns
        -------
        dict

        Examples
        --------
        >>> import qnet
        >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
        >>> d = qnet.run_link(qnet.compile_link(qnet.link_spec(g, "alice", "bob"))).to_dict()
        >>> list(d) == list(LINK_FIELDS) + list(LINK_LABELS), round(d["fidelity"], 6), d["method"]
        (True, 0.913843, 'exact')
        >>> list(d)[:3]
        ['fidelity', 'success_probability', 'attempts_per_round']
        """
        out: dict[str, Any] = {}
        for name in LINK_FIELDS:
            out[name] = json_number(getattr(self, name))
            err = self.error(name)
            if err is not None:
                low, high = err.interval_95
                out[f"{name}_se"] = json_number(err.standard_error)
                out[f"{name}_ci95"] = [json_number(low), json_number(high)]
        out["attempts_per_round"] = int(self.attempts_per_round)
        out.update((name, getattr(self, name)) for name in LINK_LABELS)
        if density_matrix:
            rho = np.asarray(self.density_matrix)
            out["density_matrix"] = {"real": rho.real.tolist(), "imag": rho.imag.tolist()}
        return out


_UNITS = {
    "fidelity": ("", "<Psi+|rho|Psi+> after Pauli-frame correction"),
    "success_probability": ("", "herald probability per attempt"),
    "attempts_per_round": ("", "parallel attempts k = min(memories at A, at B)"),
    "attempt_time_s": ("s", "T_att = max(prep) + 2 max(L_A, L_B)/c"),
    "rate_hz": ("1/s", "pairs per second, (1 - (1-p)^k) / T_att"),
    "pair_coherence_time_s": ("s", "1/e time of the stored pair's coherence"),
    "link_efficiency": ("", "rate x coherence time (> 1: faster than lost)"),
    "chsh": ("", "maximal CHSH value S"),
    "qber": ("", "Z-basis error probability"),
    "diqkd_key_fraction": ("bit/pair", "asymptotic DI-QKD key per pair"),
    "diqkd_key_rate_hz": ("bit/s", "DI-QKD key rate"),
    "bb84_key_fraction": ("bit/pair", "asymptotic BB84/BBM92 key per pair"),
    "bb84_key_rate_hz": ("bit/s", "BB84/BBM92 key rate"),
}


#: A link field whose error is stored under another name (the DI-QKD key rate's name in qnet.link.shots).
_ERROR_NAME = {"key_rate_hz": "diqkd_key_rate_hz"}
#: Physical upper bound of each figure (lower bound 0 for all); absent: unbounded.
_UPPER = {
    "fidelity": 1.0,
    "success_probability": 1.0,
    "qber": 1.0,
    "chsh": 2.0 * math.sqrt(2.0),
    "diqkd_key_fraction": 1.0,
    "bb84_key_fraction": 1.0,
}
_SHOTS_NOTE = (
    "+- one standard error; [low, high]: 95 % interval, shown instead where the estimate is within\n"
    "two standard errors of a physical bound. CHSH: settings chosen and scored on disjoint shots."
)


def format_estimate(name: str, x: float, se: float, ci: tuple[float, float]) -> str:
    """``x +- se`` rounded to the error's two significant digits, or ``x [lo, hi]`` near a bound.

    The interval is shown instead where ``x`` is within two standard errors of the figure's
    physical range (0 to 1 for probabilities and key fractions, 2 sqrt2 for CHSH).

    Parameters
    ----------
    name : str
        The figure (:data:`LINK_FIELDS`), for its physical bound.
    x, se : float
        The estimate and its standard error.
    ci : tuple of float
        Its 95 % interval (low, high).

    Returns
    -------
    str

    Examples
    --------
    >>> format_estimate("fidelity", 0.913843, 0.0064, (0.90, 0.93))
    '0.9138 +- 0.0064'
    >>> format_estimate("fidelity", 1.0, 0.27, (0.40, 1.0))
    '1.00 [0.40, 1.00]'
    """
    if not (math.isfinite(x) and math.isfinite(se)):
        return _fmt(x)
    if se == 0:  # e.g. a key fraction that is 0 in every bootstrap replicate
        return f"{_fmt(x)} [{_fmt(ci[0])}, {_fmt(ci[1])}]"
    decimals = 1 - math.floor(math.log10(se))
    show = (lambda v: f"{v:.{decimals}f}") if 0 <= decimals <= 9 else (lambda v: f"{v:.3g}")
    if x - 2 * se < 0.0 or x + 2 * se > _UPPER.get(name, math.inf):
        return f"{show(x)} [{show(ci[0])}, {show(ci[1])}]"
    return f"{show(x)} +- {show(se)}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.6g}"


def format_table(result: LinkResult) -> str:
    """A readable, aligned table of a link result with units and meanings (``qnet link``'s output).

    Parameters
    ----------
    result : LinkResult

    Returns
    -------
    str
        A title line, a rule, then one line per figure of :data:`LINK_FIELDS`: name, value,
        unit, meaning (shots mode: value with its error, and a note on the errors).

    Examples
    --------
    >>> import qnet
    >>> g = qnet.load_network("examples/liu2026_ion_link.toml")
    >>> table = format_table(qnet.run_link(qnet.compile_link(qnet.link_spec(g, "alice", "bob"))))
    >>> for line in table.splitlines()[:3]:
    ...     print(line)
    link alice - station - bob  (single_click, target |Psi+>, exact)
    ----------------------------------------------------------------
    fidelity               0.913843         <Psi+|rho|Psi+> after Pauli-frame correction
    """
    title = (
        f"link {result.node_a} - {result.station} - {result.node_b}  ({result.scheme}, target |Psi+>, {result.method}"
    )
    title += f", {result.shots} shots)" if result.method == "shots" else ")"
    rows = []
    for name in LINK_FIELDS:
        err = result.error(name)
        value = _fmt(getattr(result, name)) if err is None else format_estimate(name, getattr(result, name), *err)
        unit, meaning = _UNITS[name]
        rows.append((name, value, unit, meaning))
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [title, "-" * len(title)]
    lines += [f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]}" for r in rows]
    if result.standard_errors:
        lines.append(_SHOTS_NOTE)
    return "\n".join(lines)

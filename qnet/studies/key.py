"""Finite-size keys and time-to-key of links, chains and traffic requests (``qnet key``).

The bounds live in :mod:`qnet.quantum.finite_key`; this module feeds them the figures of a
delivered state (CHSH S, Z and X error rates) and its delivery rate, and turns pairs into time:
**time_s = pairs / rate_hz**, with rate_hz the delivered pairs per second of ``docs/conventions.md``
§4/§11 (every delivered pair is measured once; no other overhead is counted).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qnet.errors import QnetError
from qnet.link.results import json_number
from qnet.quantum import figures
from qnet.quantum.diqkd_bound import EPS_HASH
from qnet.quantum.finite_key import finite_key, pairs_for_key, threshold_pairs

__all__ = ["KeyResult", "format_key", "key_of_figures", "key_of_state", "traffic_keys", "werner_figures"]


@dataclass(frozen=True)
class KeyResult:
    """The finite key of one delivered state: pairs, bits, time, and the figures it rests on.

    Attributes
    ----------
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    eps_sec, eps_cor, ec_efficiency : float
        Secrecy (DI-QKD: soundness), correctness (DI-QKD: 2^-61, its hash tags'), error-correction
        leakage (units of the Shannon limit).
    chsh, qber, qber_x : float
        CHSH S and the Z- and X-basis error rates of the delivered state.
    rate_hz : float
        Delivered pairs per second.
    pairs : float
        Delivered pairs N used (given, or the fewest reaching ``target_bits``).
    key_bits : float
        Finite-size secret key from N pairs (bits).
    key_fraction, asymptotic_fraction : float
        key_bits / N and the bound's N -> infinity limit (bits per pair).
    test_fraction : float
        Optimal test fraction (NaN without key).
    time_s : float
        N / rate_hz (seconds; inf at rate 0).
    threshold_pairs : float
        Fewest pairs with a positive key (inf: none up to 10^18).
    target_bits : float or None
        The requested key length, when pairs were solved for.
    """

    protocol: str
    eps_sec: float
    eps_cor: float
    ec_efficiency: float
    chsh: float
    qber: float
    qber_x: float
    rate_hz: float
    pairs: float
    key_bits: float
    key_fraction: float
    asymptotic_fraction: float
    test_fraction: float
    time_s: float
    threshold_pairs: float
    target_bits: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (inf and NaN as None)."""
        return {k: (json_number(v) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def key_of_figures(
    protocol: str,
    *,
    chsh: float,
    qber: float,
    qber_x: float,
    rate_hz: float,
    pairs: float | None = None,
    target_bits: float | None = None,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-10,
    ec_efficiency: float = 1.0,
) -> KeyResult:
    """The finite key from N = ``pairs``, or the pairs and time for ``target_bits`` (exactly one).

    Parameters
    ----------
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    chsh, qber, qber_x : float
        CHSH S, Z- and X-basis error rates of the delivered state.
    rate_hz : float
        Delivered pairs per second (>= 0).
    pairs : float, optional
        Delivered pairs N > 0.
    target_bits : float, optional
        Key length K > 0 to reach.
    eps_sec, eps_cor, ec_efficiency : float
        As :func:`qnet.quantum.finite_key.finite_key`.

    Returns
    -------
    KeyResult

    Raises
    ------
    QnetError
        Neither or both of ``pairs`` and ``target_bits``, bad parameters, or K unreachable.

    Examples
    --------
    A perfect Bell pair delivered at 10 pairs per second, 10^6 bits of BBM92 key:

    >>> r = key_of_figures("bbm92", chsh=2.828, qber=0.0, qber_x=0.0, rate_hz=10.0, target_bits=1e6)
    >>> r.key_bits >= 1e6, r.time_s == r.pairs / 10.0, r.pairs > 1e6 / r.asymptotic_fraction
    (True, True, True)
    """
    if (pairs is None) == (target_bits is None):
        raise QnetError("give exactly one of pairs (--pairs) and target_bits (--target-bits)")
    kw = {
        "chsh": chsh,
        "qber": qber,
        "qber_x": qber_x,
        "eps_sec": eps_sec,
        "eps_cor": eps_cor,
        "ec_efficiency": ec_efficiency,
    }
    if target_bits is not None:
        pairs = pairs_for_key(protocol, target_bits, **kw)
    key = finite_key(protocol, pairs, **kw)
    time_s = key.pairs / rate_hz if rate_hz > 0 else math.inf
    if protocol == "diqkd":  # its correctness is that of the bound's 64-bit hash tags, not the argument
        eps_cor = EPS_HASH
    return KeyResult(
        protocol,
        eps_sec,
        eps_cor,
        ec_efficiency,
        float(chsh),
        float(qber),
        float(qber_x),
        float(rate_hz),
        key.pairs,
        key.key_bits,
        key.key_fraction,
        key.asymptotic_fraction,
        key.test_fraction,
        time_s,
        threshold_pairs(protocol, **kw),
        target_bits,
    )


def _qber_x(rho: np.ndarray, target: str) -> float:
    """X-basis error rate with respect to the target's X correlation (figures.bb84_key_fraction's rule)."""
    xx = float(figures.correlation_matrix(rho)[0, 0])
    sign = 1.0 if target in ("psi+", "phi+") else -1.0
    return min(1.0, max(0.0, (1.0 - sign * xx) / 2.0))


def key_of_state(protocol: str, density_matrix: np.ndarray, rate_hz: float, *, target: str = "psi+", **kw) -> KeyResult:
    """:func:`key_of_figures` for a delivered two-qubit state (its CHSH S, Z and X error rates).

    Parameters
    ----------
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    density_matrix : numpy.ndarray
        The mean delivered 4 x 4 state, memory A first.
    rate_hz : float
        Delivered pairs per second.
    target : str
        The Bell state aimed at (default ``"psi+"``).
    **kw
        ``pairs`` or ``target_bits``, and ``eps_sec``, ``eps_cor``, ``ec_efficiency``.

    Returns
    -------
    KeyResult

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.quantum.states import bell_projector
    >>> rho = 0.95 * bell_projector("psi+") + 0.05 * np.eye(4) / 4
    >>> r = key_of_state("diqkd", rho, 1.0, pairs=1e9)
    >>> round(r.chsh, 4), r.qber, 0 < r.key_fraction < r.asymptotic_fraction
    (2.687, 0.025, True)
    """
    return key_of_figures(
        protocol,
        chsh=figures.chsh(density_matrix),
        qber=figures.qber(density_matrix, target),
        qber_x=_qber_x(density_matrix, target),
        rate_hz=rate_hz,
        **kw,
    )


def werner_figures(fidelity: float) -> dict[str, float]:
    """CHSH S and the Z, X error rates of a Werner state of fidelity F: S = 2 sqrt2 (4F - 1)/3, Q = 2(1 - F)/3.

    Used where only a fidelity is known (traffic requests report the mean fidelity).

    Parameters
    ----------
    fidelity : float
        F in [0, 1].

    Returns
    -------
    dict
        ``chsh``, ``qber``, ``qber_x``.

    Examples
    --------
    >>> {k: round(v, 6) for k, v in werner_figures(0.85).items()}
    {'chsh': 2.262742, 'qber': 0.1, 'qber_x': 0.1}
    """
    w = (4.0 * fidelity - 1.0) / 3.0
    q = (1.0 - w) / 2.0
    return {"chsh": max(0.0, 2.0 * math.sqrt(2.0) * w), "qber": q, "qber_x": q}


def traffic_keys(
    traffic: dict, protocol: str, *, pairs: float | None = None, target_bits: float | None = None, **kw
) -> list[dict[str, Any]]:
    """A ``key`` section for each request of a ``qnet traffic --json`` result.

    Each request's pairs are taken as Werner states of its mean delivered fidelity
    (:func:`werner_figures`) at its delivered ``rate_hz``. Without ``pairs`` and
    ``target_bits``, N is the request's own ``delivered`` count (the key that run would give).
    GHZ requests (with ``c``), requests that delivered nothing and requests whose ``target_bits``
    is unreachable get ``key: null`` and the reason in ``note``.

    Parameters
    ----------
    traffic : dict
        The parsed JSON of ``qnet traffic --json``.
    protocol : str
        ``"diqkd"`` or ``"bbm92"``.
    pairs, target_bits : float, optional
        As :func:`key_of_figures` (at most one).
    **kw
        ``eps_sec``, ``eps_cor``, ``ec_efficiency``.

    Returns
    -------
    list of dict
        Per request (file order): ``request``, ``a``, ``b``, ``delivered``, ``fidelity``, ``key``
        (:meth:`KeyResult.to_dict` or None) and ``note``.

    Raises
    ------
    QnetError
        ``traffic`` is not a traffic result, or bad key parameters.

    Examples
    --------
    >>> run = {"requests": [{"a": "a", "b": "b", "c": None, "delivered": 2000000, "rate_hz": 50.0, "fidelity": 0.98}]}
    >>> row = traffic_keys(run, "bbm92")[0]
    >>> row["key"]["pairs"], row["key"]["key_bits"] > 0, row["note"]
    (2000000.0, True, None)
    """
    requests = traffic.get("requests") if isinstance(traffic, dict) else None
    if not isinstance(requests, list):
        raise QnetError("traffic result: no 'requests' list (expected the JSON of qnet traffic --json)")
    rows = []
    for i, req in enumerate(requests):
        row = {
            "request": i,
            "a": req.get("a"),
            "b": req.get("b"),
            "delivered": req.get("delivered"),
            "fidelity": req.get("fidelity"),
            "key": None,
            "note": None,
        }
        fidelity, rate = req.get("fidelity"), req.get("rate_hz") or 0.0
        n = req.get("delivered") if pairs is None and target_bits is None else pairs
        if req.get("c") is not None:
            row["note"] = "GHZ request: no two-party key"
        elif fidelity is None or not req.get("delivered"):
            row["note"] = "no pairs delivered"
        else:
            try:
                result = key_of_figures(
                    protocol,
                    rate_hz=float(rate),
                    pairs=None if n is None else float(n),
                    target_bits=target_bits,
                    **werner_figures(float(fidelity)),
                    **kw,
                )
            except QnetError as exc:  # this request's target is unreachable: say so, go on with the others
                if target_bits is None:
                    raise
                row["note"] = str(exc)
            else:
                row["key"] = result.to_dict()
        rows.append(row)
    return rows


def _time(seconds: float) -> str:
    """A duration in the largest sensible unit: 3.2 s, 4.5 min, 7.1 h, 2.3 d, 1.4 yr."""
    if not math.isfinite(seconds):
        return "never (rate 0)"
    for unit, size in (("yr", 365.25 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def format_key(result: KeyResult, path: str = "") -> str:
    """A readable table of a :class:`KeyResult`.

    Parameters
    ----------
    result : KeyResult
        What to print.
    path : str
        The route, e.g. ``"alice - bob"`` (optional first line).

    Returns
    -------
    str

    Examples
    --------
    >>> r = key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.01, rate_hz=100.0, pairs=1e6)
    >>> print(format_key(r).splitlines()[0])
    protocol           bbm92 (Tomamichel et al. 2012), eps_sec 1e-10, eps_cor 1e-10, EC leakage 1 x Shannon
    """
    name = {"diqkd": "diqkd (Nadlinger et al. 2022, Eq. 73)", "bbm92": "bbm92 (Tomamichel et al. 2012)"}[
        result.protocol
    ]
    cor = "2^-61 (64-bit hash tags)" if result.protocol == "diqkd" else f"{result.eps_cor:g}"
    lines = [f"path               {path}"] if path else []
    lines.insert(
        0,
        f"protocol           {name}, eps_sec {result.eps_sec:g}, eps_cor {cor}, "
        f"EC leakage {result.ec_efficiency:g} x Shannon",
    )
    lines += [
        f"state              CHSH {result.chsh:.4f}, QBER Z {result.qber:.4g}, X {result.qber_x:.4g}",
        f"rate               {result.rate_hz:.4g} pairs/s",
    ]
    if result.target_bits is not None:
        lines.append(f"target key         {result.target_bits:.6g} bits")
    lines += [
        f"pairs              {result.pairs:.6g}",
        f"time               {_time(result.time_s)}  ({result.time_s:.4g} s = pairs / rate)",
        (
            f"key                {result.key_bits:.6g} bits  ({result.key_fraction:.4g} bit/pair; "
            f"asymptotic {result.asymptotic_fraction:.4g} bit/pair)"
        ),
        f"test fraction      {result.test_fraction:.3g}" if result.key_bits > 0 else "test fraction      - (no key)",
        f"key from           {result.threshold_pairs:.4g} pairs"
        if math.isfinite(result.threshold_pairs)
        else "key from           never (no key up to 1e18 pairs)",
    ]
    return "\n".join(lines)


def format_key_scan(results: list[KeyResult], path: str = "") -> str:
    """A table of keys for several pair counts of the same state (``qnet key --pairs A:B:K:log``).

    Parameters
    ----------
    results : list of KeyResult
        One per pair count, all of the same protocol, state and parameters.
    path : str
        The route (optional first line).

    Returns
    -------
    str

    Examples
    --------
    >>> rows = [key_of_figures("bbm92", chsh=2.8, qber=0.01, qber_x=0.01, rate_hz=10.0, pairs=n) for n in (1e3, 1e6)]
    >>> lines = format_key_scan(rows).splitlines()
    >>> print(lines[-3])
          pairs  time               key bits   bit/pair test frac
    >>> lines[-2].split()                  # 1000 pairs (100 s at 10/s): below the threshold, no key
    ['1000', '1.67', 'min', '0', '0', '-']
    """
    first = results[0]
    head = format_key(first, path).splitlines()
    keep = [line for line in head if line.split(" ")[0] in ("protocol", "path", "state", "rate")]
    keep.append(
        f"asymptotic         {first.asymptotic_fraction:.4g} bit/pair; key from "
        + (f"{first.threshold_pairs:.4g} pairs" if math.isfinite(first.threshold_pairs) else "never")
    )
    keep.append(f"{'pairs':>11}  {'time':<14} {'key bits':>12} {'bit/pair':>10} {'test frac':>9}")
    for r in results:
        test = f"{r.test_fraction:.3g}" if r.key_bits > 0 else "-"
        keep.append(f"{r.pairs:11.4g}  {_time(r.time_s):<14} {r.key_bits:12.6g} {r.key_fraction:10.4g} {test:>9}")
    return "\n".join(keep)

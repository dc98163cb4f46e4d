"""Results of a repeater chain: a Monte Carlo estimate or an exact (truncated) distribution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnet.link.results import json_number

__all__ = ["ChainMonteCarloResult", "ChainExactResult"]


@dataclass(frozen=True, eq=False)
class ChainMonteCarloResult:
    """Monte Carlo estimate for a chain (``method="monte_carlo"``, :func:`simulate_chain`).

    Parameters
    ----------
    fidelity : float
        Mean over deliveries of <Psi+|rho|Psi+>.
    fidelity_std : float
        Sample standard deviation of the delivered fidelities.
    fidelity_stderr : float
        Standard error of the mean fidelity.
    fidelity_ci : (float, float)
        95 % normal (CLT) interval of the mean fidelity.
    rate_hz : float
        1 / mean_completion_time_s (Hz).
    rate_hz_ci : (float, float)
        95 % interval of the rate (Hz), from the CLT interval of the mean completion time.
    mean_completion_time_s : float
        Mean time between delivered pairs (s).
    completion_time_stderr_s : float
        Its standard error (s).
    fidelity_samples : ndarray
        Fidelity of every delivery.
    completion_time_samples_s : ndarray
        Completion time of every delivery (s).
    mean_state : ndarray, shape (4, 4)
        Average delivered state.
    samples : int
        Number of deliveries.
    seed : int or None
        The seed, when an integer was given.
    method : str
        ``"monte_carlo"``.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.path import build_chain
    >>> from qnet.repeater.chain import simulate_chain
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> chain, _, _ = build_chain(graph, ["alice", "r1", "r2"])
    >>> r = simulate_chain(chain, samples=20, seed=1)
    >>> sorted(r.to_dict())
    ['fidelity', 'fidelity_ci', 'fidelity_std', 'mean_completion_time_s', 'method', 'rate_hz', 'rate_hz_ci', 'samples']
    >>> r.fidelity_samples.shape
    (20,)
    """

    fidelity: float
    fidelity_std: float
    fidelity_stderr: float
    fidelity_ci: tuple[float, float]
    rate_hz: float
    rate_hz_ci: tuple[float, float]
    mean_completion_time_s: float
    completion_time_stderr_s: float
    fidelity_samples: np.ndarray = field(repr=False)
    completion_time_samples_s: np.ndarray = field(repr=False)
    mean_state: np.ndarray = field(repr=False)
    samples: int = 0
    seed: int | None = None
    method: str = "monte_carlo"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no sample arrays)."""
        return {
            "method": self.method,
            "samples": self.samples,
            "fidelity": json_number(self.fidelity),
            "fidelity_std": json_number(self.fidelity_std),
            "fidelity_ci": [json_number(x) for x in self.fidelity_ci],
            "rate_hz": json_number(self.rate_hz),
            "rate_hz_ci": [json_number(x) for x in self.rate_hz_ci],
            "mean_completion_time_s": json_number(self.mean_completion_time_s),
        }


@dataclass(frozen=True, eq=False)
class ChainExactResult:
    """Exact result for a chain (``method="exact"``, :func:`exact_chain`), up to the truncated tail.

    Parameters
    ----------
    fidelity : float
        Mean delivered <Psi+|rho|Psi+>, from the captured mass (normalised by it).
    rate_hz : float
        1 / mean_completion_time_s (Hz).
    mean_completion_time_s : float
        Mean completion time (s), from the captured mass.
    completion_time_pmf : ndarray
        ``completion_time_pmf[k]`` = P(T = k * round_time_s) for k < len(pmf).
    round_time_s : float
        Grid step (s), the links' attempt time.
    tail_mass : float
        1 - sum(pmf): the part beyond the grid (<= the requested tolerance).
    mean_state : ndarray, shape (4, 4)
        Average delivered state.
    method : str
        ``"exact"``.

    Examples
    --------
    >>> import qnet
    >>> from qnet.repeater.path import build_chain
    >>> from qnet.repeater.chain import exact_chain
    >>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
    >>> chain, _, _ = build_chain(graph, ["alice", "r1"])
    >>> r = exact_chain(chain)
    >>> r.tail_mass <= 1e-12, round(float(r.completion_time_pmf.sum()), 9)
    (True, 1.0)
    """

    fidelity: float
    rate_hz: float
    mean_completion_time_s: float
    completion_time_pmf: np.ndarray = field(repr=False)
    round_time_s: float = 0.0
    tail_mass: float = 0.0
    mean_state: np.ndarray = field(default_factory=lambda: np.zeros((4, 4), complex), repr=False)
    method: str = "exact"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no PMF)."""
        return {
            "method": self.method,
            "fidelity": json_number(self.fidelity),
            "rate_hz": json_number(self.rate_hz),
            "mean_completion_time_s": json_number(self.mean_completion_time_s),
            "round_time_s": json_number(self.round_time_s),
            "tail_mass": json_number(self.tail_mass),
        }

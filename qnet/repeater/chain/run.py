"""One entry point for a chain's figures: Monte Carlo or exact."""

from __future__ import annotations

from typing import Any

from qnet.errors import ConfigError
from qnet.repeater.chain.model import RepeaterChain
from qnet.repeater.chain.results import ChainExactResult, ChainMonteCarloResult

__all__ = ["run_chain"]


def run_chain(
    chain: RepeaterChain, method: str = "monte_carlo", **kwargs: Any
) -> ChainMonteCarloResult | ChainExactResult:
    """Figures of a chain by Monte Carlo (:func:`simulate_chain`) or exactly (:func:`exact_chain`).

    Parameters
    ----------
    chain : RepeaterChain
        The chain.
    method : str
        ``"monte_carlo"`` (default) or ``"exact"``.
    **kwargs
        Passed to :func:`simulate_chain` or :func:`exact_chain`.

    Returns
    -------
    ChainMonteCarloResult or ChainExactResult

    Raises
    ------
    ConfigError
        An unknown ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.chain import ChainLink, RepeaterChain, run_chain
    >>> chain = RepeaterChain((ChainLink(np.eye(4) / 4, 0.5, 1e-3),))
    >>> r = run_chain(chain, "exact")
    >>> r.method, round(r.rate_hz, 6), round(r.fidelity, 6)
    ('exact', 500.0, 0.25)
    """
    if method == "monte_carlo":
        from qnet.repeater.chain.montecarlo import simulate_chain

        return simulate_chain(chain, **kwargs)
    if method == "exact":
        from qnet.repeater.chain.exact import exact_chain

        return exact_chain(chain, **kwargs)
    raise ConfigError("run_chain", "method", method, "'monte_carlo' or 'exact'")

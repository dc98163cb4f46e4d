"""Fixtures shared by qnet's tests; the helpers behind them live in ``qnet_testing``."""

from __future__ import annotations

from typing import Any

import pytest

import qnet
from qnet_testing import build_link_network, run_network


@pytest.fixture
def link_network():
    """Builder of a one-link network table (see :func:`build_link_network`)."""
    return build_link_network


@pytest.fixture
def link_result():
    """Build and run a one-link network in one call: ``link_result(scheme=..., ...)``."""

    def _run(shots: int | None = None, seed: int | None = None, **kwargs: Any) -> qnet.LinkResult:
        return run_network(build_link_network(**kwargs), shots=shots, seed=seed)

    return _run

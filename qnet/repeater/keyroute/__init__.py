"""Key-rate routing: the route with the highest secret-key rate, found exactly (``--metric key_rate``).

The secret-key rate of a chain is not isotonic (Tang, Hinkley, Goodenough, Krastanov & Avis,
arXiv:2511.20628): extending two partial routes by the same link can reverse their order, so a
shortest path on any additive cost can miss the best route. This module defines the key rate of a
route with one documented model (the *route model*, ``docs/conventions.md`` §13) and finds the
route maximising it by a best-first label-setting search over partial routes that is exact for
that model (same value as brute force over all simple paths, which :func:`exhaustive_key_route`
does on small graphs).

Route model (swap as soon as possible, before waiting)
------------------------------------------------------
* Link i of the route delivers the Pauli-twirled (Bell-diagonal) part of its state, described by
  its correlations toward |Psi+>: s_i = (<XX>, <YY>, -<ZZ>) (1, 1, 1 for |Psi+>).
* A swap at repeater v with ``gate_fidelity`` f and ``readout_fidelity`` r multiplies the
  correlations by c_v = (f(2r-1), f(2r-1)^2, f(2r-1)) (the Bell measurement of ``docs/conventions.md``
  §11: depolarising CNOT, each measured bit flipped with probability 1 - r). Bell-diagonal pairs
  compose under swapping by the Klein-group convolution, whose characters multiply, so the route
  delivers s = s_1 * c_1 * s_2 * ... * s_n (componentwise).
* Link i makes k_i attempts per round, k_i from the route's memory shares exactly as
  ``qnet chain`` assigns them (:func:`qnet.link.multiplexing.link_shares`), and delivers after an
  exponential time of rate lambda_i = (1 - (1 - p_i)^k_i) / T_att,i (its ``rate_hz``). Swaps are
  instantaneous and deterministic, pairs do not decohere while they wait and no cutoff discards
  them: the chain delivers when its slowest link has, at mean time
  E[max_i X_i] = integral_0^inf (1 - prod_i (1 - exp(-lambda_i t))) dt, and rate_hz = 1 / E[max].
  The integral is taken by the trapezoid rule in log t (step 0.2 over the network's whole range of
  rates; relative error below 1e-13, tested against the closed forms H_n / lambda and inclusion-
  exclusion).
* key_rate_hz = K(s) * rate_hz, K the BB84/BBM92 key fraction 1 - h(Q_Z) - h(Q_X) with
  Q_Z = (1 - s_z)/2, Q_X = (1 - s_x)/2 (``key_rate``), or the DI-QKD fraction from
  S = 2 sqrt(the two largest s_i^2) and Q_Z (``diqkd_key_rate``) (:mod:`qnet.quantum.figures`).

The model leaves out what ``qnet chain`` adds to a chosen route: memory decoherence while pairs
wait, cutoffs, swap times and the non-Bell-diagonal part of the link states. ``qnet path
--metric key_rate`` therefore *chooses* the route with this model and then *reports* it with the
chain simulation like any other route.

The search, and why it is exact, is :mod:`qnet.repeater.keyroute.search` (its bounds:
:mod:`qnet.repeater.keyroute.bounds`); the model's figures and :class:`KeyRouteModel` are
:mod:`qnet.repeater.keyroute.model`.

Examples
--------
>>> import qnet
>>> from qnet.repeater.keyroute import best_key_route
>>> graph = qnet.load_network("examples/ion_repeater_chain.toml")
>>> route = best_key_route(graph, "alice", "bob")
>>> route.nodes, route.key_rate_hz > 0
(['alice', 'r1', 'r2', 'r3', 'bob'], True)
"""

from __future__ import annotations

from qnet.repeater.choices import KEY_METRICS
from qnet.repeater.keyroute.model import (
    GRID_STEP as GRID_STEP,
    KeyRoute,
    KeyRouteModel,
    key_fraction,
    link_correlations,
    mean_max_exponential,
    swap_factors,
)
from qnet.repeater.keyroute.search import best_key_route, exhaustive_key_route

__all__ = [
    "KEY_METRICS",
    "KeyRoute",
    "KeyRouteModel",
    "best_key_route",
    "exhaustive_key_route",
    "key_fraction",
    "mean_max_exponential",
    "link_correlations",
    "swap_factors",
]

"""Capacity of the idealised entanglement switch (a hub serving k users over identical links).

The model (Vardoyan, Guha, Nain & Towsley; ``docs/switch.md`` gives the sources)
----------------------------------------------------------------------------------
k users are each joined to the switch by one link. A link generates elementary pairs as a
Poisson process of rate mu (``link_rate_hz``) as long as the switch holds fewer than B
(``buffer``) of its pairs; a link whose buffer is full is idle. Pairs do not decohere. The
switch serves any ``parties`` = 2 users (a Bell-state measurement: a pair between two users)
or any 3 users (a GHZ fusion, :mod:`qnet.repeater.fusion`) **as soon as** that many links
hold a pair, consuming one pair of each; the measurement succeeds with probability q
(``success_probability``), and its pairs are consumed either way. The capacity is the mean
number of successful measurements per second (delivered Bell pairs or GHZ states, summed over
all groups of users) in the stationary regime.

Because pairs are used at once, fewer than ``parties`` links ever hold pairs: for Bell pairs
all stored pairs sit on one link, for GHZ states on at most two. By symmetry the state is then
the (sorted) stored counts, and every capacity below is q x (rate of the transitions that
consume pairs) x (the stationary probability of the states where they can happen).

Closed forms (mu = ``link_rate_hz``, k = ``users``, q = ``success_probability``)
-----------------------------------------------------------------------------
* **Bell pairs, buffer B** (birth-death chain of n = 0 .. B pairs stored on one link):
  0 -> 1 at k mu (any link), n -> n + 1 at mu (the storing link, n < B), n -> n - 1 at
  (k - 1) mu (any other link; each such step is one measurement). Detailed balance:
  pi_1 = pi_0 k / (k - 1), pi_(n+1) = pi_n / (k - 1), so with
  S = k/(k - 1) * sum_{j=0}^{B-1} (k - 1)^(-j):  P(n >= 1) = S / (1 + S) and
  **C = q (k - 1) mu S / (1 + S)**.
  B = 1: **C = q k (k - 1) mu / (2k - 1)**. k = 2: C = q mu 2B / (2B + 1).
* **Bell pairs, B = inf**: k >= 3: S = k / (k - 2), **C = q k mu / 2** (every pair is used:
  the k mu generated pairs per second make k mu / 2 measurements). k = 2 (a symmetric random
  walk, null recurrent) gives the same value q mu as the limit of finite B.
* **GHZ states, B = 1** (a cycle 0 -> 1 -> 2 -> 0 stored pairs, left at rates k mu,
  (k - 1) mu, (k - 2) mu; each return to 0 is one fusion):
  **C = q / (1/(k mu) + 1/((k - 1) mu) + 1/((k - 2) mu))**, one over the mean cycle time.
* **GHZ states, finite B >= 2**: no simple closed form is given here; qnet solves the
  symmetric chain exactly (states (a, b), a >= b >= 0 pairs on the two storing links; the
  fusion rate is (k - 2) mu whenever b >= 1, so C = q (k - 2) mu P(b >= 1)), a sparse linear
  system of (B + 1)(B + 2)/2 states.
* **GHZ states, B = inf**: k >= 4: **C = q k mu / 3** (every pair is used). Stability: for a
  large count a on one link, the second link's count b is a birth-death chain (up mu, down
  (k - 2) mu, 0 -> 1 at (k - 1) mu) with P(b >= 1) = (k - 1)/(2(k - 2)), so a drifts by
  mu - (k - 2) mu P(b >= 1) = mu (3 - k)/2 < 0 for k >= 4. k = 3 has zero drift (null
  recurrent) and q mu = q k mu / 3 is the limit of finite B.

The q scaling is exact in every case: the measurement's outcome does not change the stored
pairs (they are consumed either way), so the chain does not depend on q.

qnet's links attempt in rounds (geometric waiting times, ``docs/conventions.md`` §4); the
Poisson model is the limit p -> 0 at fixed mu = p / attempt_time_s (the link's ``rate_hz``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["SWITCH_PARTIES", "switch_capacity"]

#: Sizes of the groups the switch serves: 2 (Bell pairs) and 3 (GHZ states).
SWITCH_PARTIES = (2, 3)

#: Largest finite buffer solved for GHZ states ((B + 1)(B + 2)/2 states; use inf beyond).
_MAX_GHZ_BUFFER = 200

_WHERE = "switch_capacity"


def _config_error(field: str, value: object, allowed: str):
    from qnet.errors import ConfigError

    return ConfigError(_WHERE, field, value, allowed)


def _check(users, link_rate_hz, parties, buffer, success_probability) -> tuple[int, float, int, float, float]:
    """The arguments validated and normalised; ConfigError naming the first bad one."""
    if isinstance(parties, bool) or parties not in SWITCH_PARTIES:
        raise _config_error("parties", parties, "2 (Bell pairs) or 3 (GHZ states)")
    if isinstance(users, bool) or not isinstance(users, numbers.Integral) or users < parties:
        raise _config_error("users", users, f"an integer >= parties = {parties}")
    try:
        mu = float(link_rate_hz)
    except (TypeError, ValueError):
        mu = math.nan
    if not (mu > 0.0 and math.isfinite(mu)):
        raise _config_error("link_rate_hz", link_rate_hz, "a finite rate > 0 (pairs per second)")
    ok_buffer = not isinstance(buffer, bool) and isinstance(buffer, numbers.Real) and buffer >= 1  # type: ignore[operator]  # mypy lacks the numeric tower
    ok_buffer = ok_buffer and (buffer == math.inf or float(buffer).is_integer())
    if not ok_buffer:
        raise _config_error("buffer", buffer, "an integer >= 1 (pairs stored per link) or inf")
    if parties == 3 and _MAX_GHZ_BUFFER < buffer < math.inf:
        raise _config_error("buffer", buffer, f"at most {_MAX_GHZ_BUFFER} for GHZ states, or inf")
    try:
        q = float(success_probability)
    except (TypeError, ValueError):
        q = math.nan
    if not 0.0 < q <= 1.0:
        raise _config_error("success_probability", success_probability, "a probability in (0, 1]")
    return int(users), mu, int(parties), float(buffer), q


def _bell_busy_probability(k: int, b: float) -> float:
    """P(a pair is stored) of the Bell-pair chain with k users and buffer b (finite or inf, k >= 3 for inf)."""
    if b == math.inf:
        return k / (2.0 * (k - 1))
    rho = 1.0 / (k - 1)
    geometric = b if k == 2 else (1.0 - rho**b) / (1.0 - rho)
    s = k / (k - 1) * geometric
    return s / (1.0 + s)


def _ghz_fusing_probability(k: int, b: int) -> float:
    """P(two links store pairs) of the symmetric GHZ chain: states (a, c), b >= a >= c >= 0."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    states = [(a, c) for a in range(b + 1) for c in range(a + 1)]
    index = {s: i for i, s in enumerate(states)}
    rows, cols, rates = [], [], []

    def move(src, dst, rate):
        dst = (max(dst), min(dst))
        rows.append(index[src])
        cols.append(index[dst])
        rates.append(rate)

    for a, c in states:
        if a == 0:
            move((0, 0), (1, 0), k)  # any link
        elif c == 0:
            if a < b:
                move((a, 0), (a + 1, 0), 1.0)  # the storing link
            move((a, 0), (a, 1), k - 1.0)  # another link starts storing
        else:
            if a < b:
                move((a, c), (a + 1, c), 1.0)
            if c < b:
                move((a, c), (a, c + 1), 1.0)
            move((a, c), (a - 1, c - 1), k - 2.0)  # a third link: fusion
    n = len(states)
    q = coo_matrix((rates, (rows, cols)), shape=(n, n)).tocsr()
    q = q - coo_matrix((np.asarray(q.sum(axis=1)).ravel(), (range(n), range(n))), shape=(n, n))
    # pi Q = 0: fix pi_0 = 1, drop state 0's balance equation (the others imply it), normalise
    a_t = q.T.tocsc()
    pi = np.ones(n)
    pi[1:] = spsolve(a_t[1:, 1:], -a_t[1:, 0].toarray().ravel())
    pi /= pi.sum()
    return float(sum(p for p, (_, c) in zip(pi, states) if c >= 1))


def switch_capacity(
    users: int,
    link_rate_hz: float,
    *,
    parties: int = 2,
    buffer: float = 1,
    success_probability: float = 1.0,
) -> float:
    """Capacity of the idealised switch: successful Bell-pair or GHZ measurements per second.

    k = ``users`` identical links, each generating pairs at rate mu = ``link_rate_hz``
    (Poisson) while the switch holds fewer than ``buffer`` of its pairs; no decoherence; the
    switch measures any ``parties`` users as soon as they all hold a pair, succeeding with
    probability q = ``success_probability``. Closed forms and their derivations: module
    docstring (B = 1: q k(k - 1) mu / (2k - 1) for Bell pairs; B = inf: q k mu / 2 for
    Bell pairs with k >= 3, q k mu / 3 for GHZ states with k >= 4).

    Parameters
    ----------
    users : int
        k, the number of users (links), at least ``parties``.
    link_rate_hz : float
        mu, pairs per second generated by one link while it is not blocked (> 0).
    parties : int, optional
        2 (Bell pairs, the default) or 3 (GHZ states).
    buffer : int or float, optional
        B, the pairs the switch stores per link: an integer >= 1 (default 1) or ``math.inf``
        (for GHZ states a finite B is at most 200).
    success_probability : float, optional
        q, the probability that a measurement succeeds, in (0, 1] (default 1).

    Returns
    -------
    float
        Delivered Bell pairs (or GHZ states) per second, summed over all groups of users.

    Raises
    ------
    ConfigError
        A value outside the ranges above (one line naming the field).

    Examples
    --------
    >>> import math
    >>> from qnet.repeater.switch import switch_capacity
    >>> switch_capacity(3, 10.0)                      # 3 * 2 * 10 / 5
    12.0
    >>> switch_capacity(3, 10.0, buffer=math.inf)     # 3 * 10 / 2
    15.0
    >>> round(switch_capacity(4, 10.0, parties=3, success_probability=0.5), 6)   # 0.5 / (1/40 + 1/30 + 1/20)
    4.615385
    """
    k, mu, parties, b, q = _check(users, link_rate_hz, parties, buffer, success_probability)
    if parties == 2:
        if b == math.inf:
            return q * k * mu / 2.0
        return q * (k - 1) * mu * _bell_busy_probability(k, b)
    if b == math.inf:
        return q * k * mu / 3.0
    if b == 1:
        return q / (1.0 / (k * mu) + 1.0 / ((k - 1) * mu) + 1.0 / ((k - 2) * mu))
    return q * (k - 2) * mu * _ghz_fusing_probability(k, int(b))

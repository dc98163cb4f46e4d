"""Multiplexing: how many attempts an elementary link makes per round, and what that buys.

One rule everywhere (``qnet link``, ``chain``, ``path``, ``purify``, ``compare``, ``traffic`` and
sweeps):

* every node limits the attempts of the links it joins, end nodes included. A node's
  ``memories`` (``None``: one per link it joins) are split evenly between the links it joins
  *on the route considered* (:func:`memories_per_link`; ``qnet traffic`` considers every link
  the node joins in the network, since many routes share it): an end node or a single link's node
  gives all of them to its one link, a repeater gives ``memories // 2`` to each of its two
  links (and needs at least two). A node that lists a ``memory_split`` (memories per link, by
  station) gives each listed link that many and splits the rest evenly over the others
  (:func:`link_shares`);
* a link makes k = min(memories per link at its two ends) attempts in parallel per round
  (:func:`attempts_per_round`), each heralding independently with the single-mode herald
  probability p (``success_probability`` always means that: per attempt);
* one success fills the link: per round it succeeds with 1 - (1 - p)^k
  (:func:`success_per_round`), and ``rate_hz`` counts delivered pairs per second,
  (1 - (1 - p)^k) / T_att (:func:`rate_hz`).
"""

from __future__ import annotations

import numpy as np

from qnet.errors import ConfigError

__all__ = ["memories_per_link", "link_shares", "attempts_per_round", "success_per_round", "rate_hz", "rate_figures"]


def memories_per_link(name: str, memories: int | None, links_joined: int) -> int:
    """Memories node ``name`` devotes to each of the ``links_joined`` links it joins on a route.

    ``memories=None`` means one per link. Otherwise ``memories // links_joined`` (>= 1 required).

    Parameters
    ----------
    name : str
        The node (for the error message).
    memories : int or None
        The node's ``memories`` field.
    links_joined : int
        Links the node joins on the route (1 for an end node, 2 for a repeater).

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        Naming ``nodes.NAME.memories`` when the node has fewer memories than links.

    Examples
    --------
    >>> memories_per_link("r1", None, 2), memories_per_link("r1", 5, 2), memories_per_link("alice", 3, 1)
    (1, 2, 3)
    """
    return link_shares(name, memories, None, [f"link {i + 1}" for i in range(int(links_joined))])["link 1"]


def link_shares(name: str, memories: int | None, split, stations, strict: bool = True) -> dict[str, int]:
    """Memories node ``name`` devotes to each link it joins among ``stations`` (the links considered).

    Links listed in ``split`` get their listed number; the node's other memories
    (``memories`` minus everything listed) are split evenly, ``//``, over the unlisted links
    considered. ``memories=None``: one per link.

    Parameters
    ----------
    name : str
        The node (for the error message).
    memories : int or None
        The node's ``memories`` field.
    split : sequence of (str, int) or None
        The node's ``memory_split``: (station, memories) pairs.
    stations : sequence of str
        The stations of the links considered (a route's, or every link the node joins).
    strict : bool
        Refuse a link that would get no memory (default); False returns 0 for it.

    Returns
    -------
    dict
        station -> memories (>= 1 each when ``strict``).

    Raises
    ------
    ConfigError
        Naming ``nodes.NAME.memories`` when a link considered would get no memory.

    Examples
    --------
    >>> link_shares("r1", 5, None, ["s1", "s2"]), link_shares("r1", 6, [("s1", 4)], ["s1", "s2", "s3"])
    ({'s1': 2, 's2': 2}, {'s1': 4, 's2': 1, 's3': 1})
    """
    stations = list(stations)
    if memories is None:
        return {s: 1 for s in stations}
    listed = dict(split or ())
    rest = [s for s in stations if s not in listed]
    free = int(memories) - sum(listed.values())
    each = max(free // len(rest), 0) if rest else 0
    out = {s: int(listed.get(s, each)) for s in stations}
    if strict and rest and each < 1:
        if listed:
            why = f"after its memory_split ({sum(listed.values())} listed) none is left for {', '.join(rest)}"
        else:
            why = (
                f"{name!r} joins {len(stations)} links here and needs at least {len(stations)} memories (one per link)"
            )
        raise ConfigError(f"nodes.{name}", "memories", memories, why)
    return out


def attempts_per_round(memories_a: int, memories_b: int) -> int:
    """Parallel attempts k of a link per round: the smaller of its two ends' memories for it.

    Parameters
    ----------
    memories_a, memories_b : int
        Memories each end devotes to the link (:func:`memories_per_link`).

    Returns
    -------
    int

    Examples
    --------
    >>> attempts_per_round(3, 2)
    2
    """
    return int(min(memories_a, memories_b))


def success_per_round(p, k):
    """1 - (1 - p)^k: the probability that at least one of k attempts heralds (vectorised).

    Computed as -expm1(k log1p(-p)) (accurate for tiny p); k = 1 gives p itself and p = 1
    exactly 1.

    Parameters
    ----------
    p : float or array_like
        Herald probability per attempt.
    k : int or array_like
        Attempts per round.

    Returns
    -------
    float or numpy.ndarray
        A float when both are scalars, else broadcast.

    Examples
    --------
    >>> success_per_round(0.3, 1), round(success_per_round(0.5, 2), 6)
    (0.3, 0.75)
    >>> success_per_round([0.5, 0.5], [1, 3])
    array([0.5  , 0.875])
    """
    p, k = np.asarray(p, dtype=float), np.asarray(k)
    with np.errstate(divide="ignore"):
        many = -np.expm1(k * np.log1p(-np.minimum(p, 1.0)))
    out = np.where(k == 1, p, np.where(p >= 1.0, 1.0, many))
    return float(out) if out.ndim == 0 else out


def rate_hz(p, k, attempt_time_s):
    """Delivered pairs per second of a link with k attempts per round: (1 - (1 - p)^k) / T_att.

    Parameters
    ----------
    p : float or array_like
        Herald probability per attempt.
    k : int or array_like
        Attempts per round.
    attempt_time_s : float or array_like
        T_att, one round (s).

    Returns
    -------
    float or numpy.ndarray
        Pairs per second (1/s).

    Examples
    --------
    >>> p, k, t = 0.01, 4, 1e-3
    >>> round(rate_hz(p, k, t), 6), round((1 - (1 - p) ** k) / t, 6)
    (39.40399, 39.40399)
    """
    return success_per_round(p, k) / attempt_time_s


def rate_figures(p, k, attempt_time_s: float, coherence_time_s: float, diqkd_key_fraction, bb84_key_fraction) -> dict:
    """What the rate buys: ``rate_hz``, ``link_efficiency`` (rate x T_coh, 0 when the rate is 0) and the key rates.

    One formula for exact links (:func:`qnet.link.run.link_figures`) and sampled ones
    (:mod:`qnet.link.shots`, arrays of bootstrap replicates).

    Parameters
    ----------
    p : float or numpy.ndarray
        Herald probability per attempt.
    k : int
        Attempts per round.
    attempt_time_s : float
        One round (s).
    coherence_time_s : float
        The pair's coherence time T_coh (s; inf: no decay).
    diqkd_key_fraction, bb84_key_fraction : float or numpy.ndarray
        Secret bits per delivered pair.

    Returns
    -------
    dict
        ``rate_hz``, ``link_efficiency``, ``diqkd_key_rate_hz``, ``bb84_key_rate_hz`` (floats, or
        arrays shaped like ``p``).

    Examples
    --------
    >>> f = rate_figures(0.01, 1, 1e-3, 0.5, 0.2, 0.4)
    >>> round(f["rate_hz"], 6), round(f["link_efficiency"], 6), round(f["bb84_key_rate_hz"], 6)
    (10.0, 5.0, 4.0)
    >>> rate_figures(0.0, 1, 1e-3, float("inf"), 0.0, 0.0)["link_efficiency"]
    0.0
    """
    rate = rate_hz(p, k, attempt_time_s)
    r = np.asarray(rate, dtype=float)
    with np.errstate(invalid="ignore"):
        efficiency = np.where(r > 0, r * coherence_time_s, 0.0)
    return {
        "rate_hz": rate,
        "link_efficiency": float(efficiency) if efficiency.ndim == 0 else efficiency,
        "diqkd_key_rate_hz": diqkd_key_fraction * rate,
        "bb84_key_rate_hz": bb84_key_fraction * rate,
    }

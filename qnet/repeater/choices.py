"""Names the repeater layer accepts for its options, in a module without heavy imports.

The command line offers them as ``choices`` without importing numpy or networkx
(``qnet --help`` stays instant).

Examples
--------
>>> from qnet.repeater.choices import METRICS, PROTOCOLS, SWAP_POLICIES
>>> SWAP_POLICIES, PROTOCOLS, METRICS
(('asap', 'nested'), ('dejmps', 'bbpssw'), ('fidelity', 'rate', 'length', 'hops', 'key_rate', 'diqkd_key_rate'))
"""

from __future__ import annotations

__all__ = [
    "SWAP_POLICIES",
    "PROTOCOLS",
    "METRICS",
    "ADDITIVE_METRICS",
    "KEY_METRICS",
    "MEMORY_POLICIES",
    "TRAFFIC_POLICIES",
    "EVENT_LOOPS",
]

#: Swap policies (``--swap-policy`` / ``swap_policy=``): ``asap`` (swap as soon as both links exist) or ``nested`` (doubling, 2^n links).
SWAP_POLICIES = ("asap", "nested")

#: Purification protocols (one round of two pairs into one).
PROTOCOLS = ("dejmps", "bbpssw")

#: Routing metrics with an additive cost (shortest path): max fidelity, max rate, min length, min hops.
ADDITIVE_METRICS = ("fidelity", "rate", "length", "hops")

#: Routing metrics maximising a secret-key rate (exact search, :mod:`qnet.repeater.keyroute`):
#: BB84/BBM92 and device-independent QKD.
KEY_METRICS = ("key_rate", "diqkd_key_rate")

#: Every routing metric.
METRICS = ADDITIVE_METRICS + KEY_METRICS

#: Memory policies of traffic: ``shared`` (link pairs go to whichever request can use them first)
#: or ``reserve`` (a request holds memories along its path while one of its pairs is built).
#: ``--memory-policy`` / ``memory_policy=``.
MEMORY_POLICIES = ("shared", "reserve")

#: Deprecated name of :data:`MEMORY_POLICIES` (removed in the next release).
TRAFFIC_POLICIES = MEMORY_POLICIES

#: Event loops: ``auto`` (compiled when numba is installed, else python), ``compiled`` (the rules
#: compiled with numba: ``pip install 'qnet[fast]'``) or ``python`` (the same rules, not compiled);
#: every loop gives the same run to the last bit.
EVENT_LOOPS = ("auto", "compiled", "python")

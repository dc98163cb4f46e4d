"""Names the repeater layer accepts for its options, in a module without heavy imports.

The command line offers them as ``choices`` without importing numpy or networkx
(``qnet --help`` stays instant).

Examples
--------
>>> from qnet.repeater.choices import METRICS, PROTOCOLS, SWAP_POLICIES
>>> SWAP_POLICIES, PROTOCOLS, METRICS
(('asap', 'nested'), ('dejmps', 'bbpssw'), ('fidelity', 'rate', 'length', 'hops'))
"""

from __future__ import annotations

__all__ = ["SWAP_POLICIES", "PROTOCOLS", "METRICS", "TRAFFIC_POLICIES", "EVENT_LOOPS"]

#: Swap policies: ``asap`` (swap as soon as both links exist) or ``nested`` (doubling, 2^n links).
SWAP_POLICIES = ("asap", "nested")

#: Purification protocols (one round of two pairs into one).
PROTOCOLS = ("dejmps", "bbpssw")

#: Routing metrics: max fidelity, max rate, min length, min hops.
METRICS = ("fidelity", "rate", "length", "hops")

#: Memory policies of traffic: ``shared`` (link pairs go to whichever request can use them first)
#: or ``reserve`` (a request holds memories along its path while one of its pairs is built).
TRAFFIC_POLICIES = ("shared", "reserve")

#: Event loops: ``auto`` (compiled when numba is installed, else python), ``compiled`` (the rules
#: compiled with numba: ``pip install 'qnet[fast]'``) or ``python`` (the same rules, not compiled);
#: every loop gives the same run to the last bit.
EVENT_LOOPS = ("auto", "compiled", "python")

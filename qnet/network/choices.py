"""Names the network layer accepts for its options, in a module without heavy imports.

The command line offers them as ``choices`` without importing networkx (``qnet --help`` stays
instant); :mod:`qnet.network.generate` and :mod:`qnet.network.importers` use the same tuples.

Examples
--------
>>> from qnet.network.choices import LENGTH_UNITS, TOPOLOGIES
>>> TOPOLOGIES, tuple(LENGTH_UNITS)
(('line', 'ring', 'grid', 'star', 'waxman'), ('km', 'm'))
"""

from __future__ import annotations

__all__ = ["TOPOLOGIES", "LENGTH_UNITS"]

#: The topologies ``qnet generate`` makes.
TOPOLOGIES = ("line", "ring", "grid", "star", "waxman")

#: Units of an imported map's edge length attribute, and their size in km.
LENGTH_UNITS = {"km": 1.0, "m": 1e-3}

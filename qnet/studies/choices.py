"""Names the studies layer accepts for its options, in a module without heavy imports.

Examples
--------
>>> from qnet.studies.choices import TABLE_FORMATS
>>> TABLE_FORMATS
('csv', 'parquet')
"""

from __future__ import annotations

__all__ = ["TABLE_FORMATS", "DRAW_COLORS", "DRAW_LAYOUTS"]

#: Formats of a result table (``qnet sweep -o``): CSV, or Parquet (needs pyarrow).
TABLE_FORMATS = ("csv", "parquet")

#: What ``qnet draw --color`` colours links by (``utilisation`` needs a traffic result).
DRAW_COLORS = ("fidelity", "rate", "utilisation")

#: ``qnet draw --layout``: auto (Kamada-Kawai for small networks, else seeded spring), spring, kamada_kawai.
DRAW_LAYOUTS = ("auto", "spring", "kamada_kawai")

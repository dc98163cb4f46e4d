"""Names the studies layer accepts for its options, in a module without heavy imports.

Examples
--------
>>> from qnet.studies.choices import TABLE_FORMATS
>>> TABLE_FORMATS
('csv', 'parquet')
"""

from __future__ import annotations

__all__ = ["TABLE_FORMATS"]

#: Formats of a result table (``qnet sweep -o``): CSV, or Parquet (needs pyarrow).
TABLE_FORMATS = ("csv", "parquet")

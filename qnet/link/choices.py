"""Names the link layer accepts for its options, in a module without heavy imports.

The command line offers them as ``choices`` without importing numpy, networkx or Qiskit
(``qnet --help`` stays instant); the simulators check their arguments against the same tuples.

Examples
--------
>>> from qnet.link.choices import DEVICES, ENGINES
>>> ENGINES, DEVICES
(('aer', 'batch'), ('CPU', 'GPU'))
"""

from __future__ import annotations

__all__ = ["ENGINES", "DEVICES"]

#: Link engines: ``aer`` (Qiskit Aer) or ``batch`` (qnet's vectorised numpy simulator of the same circuits).
ENGINES = ("aer", "batch")

#: Aer devices (``GPU`` needs the qiskit-aer-gpu package and an NVIDIA GPU).
DEVICES = ("CPU", "GPU")

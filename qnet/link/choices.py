"""Names the link layer accepts for its options, in a module without heavy imports.

The command line offers them as ``choices`` without importing numpy, networkx or Qiskit
(``qnet --help`` stays instant); the simulators check their arguments against the same tuples.

Examples
--------
>>> from qnet.link.choices import DEVICES, LINK_BACKENDS
>>> LINK_BACKENDS, DEVICES
(('aer', 'batch'), ('CPU', 'GPU'))
"""

from __future__ import annotations

__all__ = ["LINK_BACKENDS", "ENGINES", "DEVICES"]

#: Link backends, the simulators of a link's circuit: ``aer`` (Qiskit Aer) or ``batch`` (qnet's
#: vectorised numpy simulator of the same circuits). ``--link-backend`` / ``link_backend=``.
LINK_BACKENDS = ("aer", "batch")

#: Deprecated name of :data:`LINK_BACKENDS` (removed in the next release).
ENGINES = LINK_BACKENDS

#: Aer devices (``GPU`` needs the qiskit-aer-gpu package and an NVIDIA GPU).
DEVICES = ("CPU", "GPU")

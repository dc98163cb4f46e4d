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

__all__ = ["LINK_BACKENDS", "ENGINES", "DEVICES", "check_link_backend"]

#: Link backends, the simulators of a link's circuit: ``aer`` (Qiskit Aer) or ``batch`` (qnet's
#: vectorised numpy simulator of the same circuits). ``--link-backend`` / ``link_backend=``.
LINK_BACKENDS = ("aer", "batch")

#: Deprecated name of :data:`LINK_BACKENDS` (removed in the next release).
ENGINES = LINK_BACKENDS

#: Aer devices (``GPU`` needs the qiskit-aer-gpu package and an NVIDIA GPU).
DEVICES = ("CPU", "GPU")


def check_link_backend(link_backend: str) -> str:
    """``link_backend`` itself when it is one of :data:`LINK_BACKENDS`.

    Parameters
    ----------
    link_backend : str

    Returns
    -------
    str

    Raises
    ------
    qnet.errors.QnetError
        Naming the value and the allowed ones.

    Examples
    --------
    >>> check_link_backend("batch")
    'batch'
    >>> check_link_backend("numpy")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: link_backend = 'numpy' is invalid: one of aer, batch
    """
    if link_backend not in LINK_BACKENDS:
        from qnet.errors import QnetError

        raise QnetError(f"link_backend = {link_backend!r} is invalid: one of {', '.join(LINK_BACKENDS)}")
    return link_backend

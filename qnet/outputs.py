"""One rule for every file qnet writes (sweep tables, compare CSVs, plots, QPY circuits).

Rule: an output path is checked **before** any computation starts. Its folder must exist, the
path must not be a folder, and an existing file is replaced only when the user said so
(``--overwrite``); otherwise the command stops with one line naming the option and the path.
Files are written through a temporary sibling and renamed into place, so an interrupted write
never leaves half a file under the final name.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import QnetError

__all__ = ["check_output_path", "write_text_atomic"]


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False, option: str = "-o") -> Path:
    """Validate an output path before any work is done.

    Parameters
    ----------
    path : str or path-like
        Where the command will write.
    overwrite : bool
        Whether an existing file may be replaced.
    option : str
        The command-line option (or field) that named the path, used in the error message.

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    QnetError
        If the folder does not exist, the path is a folder, or the file exists and
        ``overwrite`` is false.

    Examples
    --------
    >>> check_output_path("no-such-folder/x.csv")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: -o no-such-folder/x.csv: folder 'no-such-folder' does not exist
    """
    p = Path(path)
    if str(path) == "" or p.name in ("", ".", ".."):
        raise QnetError(f"{option} {str(path)!r}: expected a file name")
    parent = p.parent
    if not parent.is_dir():
        raise QnetError(f"{option} {p}: folder {str(parent)!r} does not exist")
    if p.is_dir():
        raise QnetError(f"{option} {p}: is a folder, expected a file name")
    if p.exists() and not overwrite:
        raise QnetError(f"{option} {p}: exists; use --overwrite to replace it")
    return p


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling renamed into place."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.part")
    try:
        tmp.write_text(text)
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()

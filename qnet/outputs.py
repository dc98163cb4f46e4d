"""One rule for every file qnet writes (sweep tables, compare CSVs, plots, QPY circuits).

Rule: an output path is checked **before** any computation starts. Its folder must exist, the
path must not be a folder, and an existing file is replaced only when the user said so
(``--overwrite``); otherwise the command stops with one line naming the option and the path.
Files are written through a temporary sibling and renamed into place, so an interrupted write
never leaves half a file under the final name; the temporary sibling gets a fresh name, created
exclusively, so it never replaces a file of the user's. The same rule applies to every sidecar
a command writes next to its output (``OUT.meta.json``, ``OUT.partial.csv``): the command checks
each of them with :func:`check_output_path` too. A command that appends to its output over a
long run holds :func:`output_lock` on it, so two runs never write the same file at once.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from qnet.errors import QnetError

__all__ = ["check_output_path", "write_text_atomic", "replacing", "output_lock", "OutputLock"]


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
    r"""Write ``text`` (UTF-8) to ``path`` through a temporary sibling renamed into place.

    Parameters
    ----------
    path : str or path-like
        The file to write (replaced whole, or left as it was if writing fails).
    text : str
        Its new content.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "note.txt"
    >>> write_text_atomic(target, "done\n")
    >>> target.read_text()
    'done\n'
    """
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _fresh_sibling(path: Path) -> Path:
    """A new empty file next to ``path`` (hidden, unique name, created exclusively, umask modes)."""
    import secrets  # (here: its import pulls in random, ~2 ms of every start)

    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise QnetError(f"cannot create a temporary file next to {path}")  # pragma: no cover


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    r"""Yield a fresh temporary sibling of ``path``; rename it onto ``path`` when the block succeeds.

    The sibling is a new file (never one of the user's); it is removed if the block fails, so
    ``path`` holds either its old content or the whole new content, never half of it.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "table.csv"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("a,b\n")
    >>> target.read_text(), tmp.exists()
    ('a,b\n', False)
    """
    p = Path(path)
    tmp = _fresh_sibling(p)
    try:
        yield tmp
        os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)


_LOCK_TAG = b"qnet lock"


class OutputLock:
    """An exclusive lock on an output file, held through the sidecar ``OUT.lock``.

    The lock is an OS file lock (``flock``; ``msvcrt.locking`` on Windows) on that sidecar,
    which the OS drops when the holder dies: a lock left by a killed run never blocks the next
    one. The sidecar holds ``qnet lock pid N`` (for the error message) and is removed on
    :meth:`release`. Use :func:`output_lock`.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "sweep.csv"
    >>> lock = output_lock(out)
    >>> lock.lock_path.name, lock.lock_path.exists()
    ('sweep.csv.lock', True)
    >>> lock.release(); lock.lock_path.exists()
    False
    """

    def __init__(self, path: Path, lock_path: Path, fd: int):
        self.path, self.lock_path, self.fd = path, lock_path, fd

    def release(self) -> None:
        """Remove the sidecar and drop the lock (idempotent)."""
        if self.fd < 0:
            return
        try:
            self.lock_path.unlink(missing_ok=True)  # while still held: a waiting run re-checks the inode
        except OSError:  # pragma: no cover - Windows cannot remove an open file
            pass
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> "OutputLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """Take the OS lock on ``fd`` without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]  # Windows only
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def output_lock(path: str | os.PathLike, *, option: str = "-o") -> OutputLock:
    """Lock ``path`` for writing by this process, or fail with one line naming it.

    Parameters
    ----------
    path : str or path-like
        The output the caller is about to write (it need not exist).
    option : str
        The option that named it, for the error message.

    Returns
    -------
    OutputLock
        Held until :meth:`OutputLock.release` (or the end of a ``with`` block, or the process).

    Raises
    ------
    QnetError
        If another process holds the lock, or ``OUT.lock`` exists and is not a qnet lock file
        (a file of the user's is never overwritten).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "table.csv"
    >>> _ = (out.parent / "table.csv.lock").write_text("my notes")
    >>> output_lock(out)
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: -o ...table.csv: ...
    """
    p = Path(path)
    lock = p.with_name(p.name + ".lock")
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise QnetError(f"{option} {p}: cannot create the lock file {lock.name}: {exc.strerror}") from None
        text = os.read(fd, 200)
        if text and not text.startswith(_LOCK_TAG):
            os.close(fd)
            raise QnetError(f"{option} {p}: {lock} exists and is not a qnet lock file; move it away")
        os.lseek(fd, 0, os.SEEK_SET)  # msvcrt locks bytes from the current position
        if not _try_lock(fd):
            os.close(fd)
            holder = text.decode(errors="replace").strip().removeprefix("qnet lock ")
            raise QnetError(
                f"{option} {p}: another qnet run ({holder or 'pid unknown'}) is writing it; wait for it or choose another output"
            )
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder removed it as we waited: lock the new file
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, _LOCK_TAG + f" pid {os.getpid()}\n".encode())
    return OutputLock(p, lock, fd)

"""Where a sweep's chunks run: in this process, in local worker processes, or on a Dask cluster.

:func:`start_executor` picks one; each yields ``(positions, rows)`` per finished chunk, can
:meth:`~Executor.drain` the chunks still running after Ctrl-C, and is closed when the sweep
ends. The Dask scheduler runs the code it is sent and qnet unpickles what comes back, so the
cluster must be trusted; an address on another machine needs ``tls://`` (:func:`dask_security`)
or an explicit ``insecure`` (:func:`check_dask_address`).

Only the standard library is imported at module level (dask where it is used).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from qnet.errors import QnetError

__all__ = [
    "WorkerDied",
    "Executor",
    "ChunkResult",
    "start_executor",
    "evaluate_chunk",
    "dask_security",
    "check_dask_address",
    "dask_address",
]

#: A finished chunk: its grid positions and one result row per point (and, when profiled, its
#: ``{stage: seconds}``).
ChunkResult = tuple


def _init_worker(parent: int | None = None) -> None:
    """Worker process setup: one OpenMP/BLAS thread each, Ctrl-C is the parent's business, and
    the worker ends when its parent ``parent`` does (a killed sweep leaves no orphan)."""
    import signal

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(parent,), name="qnet-watch-parent", daemon=True).start()


def _watch_parent(parent: int, interval_s: float = 0.25) -> None:
    """End this process as soon as its parent ``parent`` is gone (it is then re-parented).

    Polls ``os.getppid()``, which changes when the parent dies on POSIX systems, so it works
    whatever killed the parent (SIGKILL included) and whatever the worker is busy with (Aer
    and numpy release the GIL; a Python loop yields it every few milliseconds).
    """
    while os.getppid() == parent:
        time.sleep(interval_s)
    os._exit(1)


def evaluate_chunk(
    evaluator: Any, fields: tuple[str, ...], chunk: tuple[list[int], list[tuple]], profile: bool = False
) -> ChunkResult:
    """Evaluate one chunk (runs in this process, a worker process or a Dask worker).

    Parameters
    ----------
    evaluator : Evaluator
        What computes the rows.
    fields : tuple of str
        The grid's fields (the keys of each point).
    chunk : (list of int, list of tuple)
        The points' grid positions and values.
    profile : bool
        Also return the chunk's stage times (:mod:`qnet.studies.sweep.profile`): the stages the
        evaluator reports, and ``evaluate`` for the rest of its time.

    Returns
    -------
    ChunkResult
        The positions and one row per point (and ``{stage: seconds}`` with ``profile``).

    Examples
    --------
    >>> from qnet.studies.sweep import Evaluator
    >>> class One(Evaluator):
    ...     columns = ("y",)
    ...     def evaluate(self, points):
    ...         return [{"y": 1.0, "error": ""} for _ in points]
    >>> evaluate_chunk(One(), ("nodes.a.t2_s",), ([0, 1], [(1.0,), (2.0,)]))
    ([0, 1], [{'y': 1.0, 'error': ''}, {'y': 1.0, 'error': ''}])
    """
    indices, values = chunk
    if profile:
        from qnet.studies.sweep.profile import StageTimes, record

        times = StageTimes()
        t0 = time.perf_counter()
        with record(times):
            rows = evaluator.evaluate([dict(zip(fields, v)) for v in values])
        rest = time.perf_counter() - t0 - sum(times.seconds.values())
        times.add("evaluate", max(0.0, rest))
    else:
        rows = evaluator.evaluate([dict(zip(fields, v)) for v in values])
    if len(rows) != len(indices):
        raise RuntimeError(f"evaluator returned {len(rows)} rows for {len(indices)} points")
    return (indices, rows, times.seconds) if profile else (indices, rows)


class WorkerDied(QnetError):
    """A worker process or Dask worker died; the finished points are on disk.

    Examples
    --------
    >>> isinstance(WorkerDied("a worker process died"), QnetError)
    True
    """


class Executor:
    """Chunks being evaluated somewhere; iterate for the finished ones (in completion order).

    Made by :func:`start_executor` (see its example): serially in this process, in worker
    processes, or on a Dask cluster. Subclasses implement ``__iter__``; ``drain`` and ``close``
    default to nothing to do.

    Examples
    --------
    >>> executor = Executor()
    >>> executor.drain(), executor.close()
    ([], None)
    """

    def __iter__(self) -> Iterator[ChunkResult]:
        raise NotImplementedError

    def drain(self) -> list[ChunkResult]:
        """After Ctrl-C: the chunks that finish without more work being started."""
        return []

    def close(self) -> None:
        """Stop what still runs and release the workers."""


class _Serial(Executor):
    """Chunks evaluated one after the other in this process."""

    def __init__(self, evaluator: Any, fields: tuple[str, ...], chunks: Iterator, profile: bool = False):
        self.evaluator, self.fields, self.chunks, self.profile = evaluator, fields, chunks, profile

    def __iter__(self) -> Iterator[ChunkResult]:
        for chunk in self.chunks:
            yield evaluate_chunk(self.evaluator, self.fields, chunk, self.profile)

    def drain(self) -> list[ChunkResult]:
        return []  # an interrupted chunk in this process is not finished

    def close(self) -> None:
        pass


#: Seconds of work per worker below which a helping pool starts no worker: a spawned worker
#: costs about this much (a fresh Python importing numpy, networkx and qnet) before it helps.
WORKER_START_S = 1.0


def _started(evaluator: Any, fields: tuple[str, ...], point: tuple) -> bool:
    """A worker's first task when the main process helps: evaluate one point (imports, caches), then report."""
    evaluator.evaluate([dict(zip(fields, point))])
    return True


class _Pool(Executor):
    """Chunks on ``workers`` processes at once: local spawned worker processes, and maybe this one.

    When the evaluator allows it (``helps_while_workers_start``), this process is one of the
    ``workers``: it starts ``workers - 1`` worker processes and evaluates chunks itself, between
    handing finished chunks over (``workers`` processes busy, one per core asked for, none
    waiting for a core). A spawned worker first imports numpy, qnet and Qiskit and warms its
    caches on one point (its first task), and gets chunks (:meth:`_top_up`) only once that is
    done; meanwhile this process evaluates chunks alone. A short sweep then costs about what a
    serial one does (workers still starting when it ends are stopped) instead of waiting for
    Python to start twice; and when the first chunk shows that the rest would take less than
    :data:`WORKER_START_S` per worker to start, no worker is started. An evaluator whose
    ``min_seconds_per_point`` shows the sweep is long enough gets its workers started at once,
    before that first chunk (which pays for this process's own imports). Otherwise (long chunks:
    traffic runs) ``workers`` worker processes evaluate, at most two chunks each in flight,
    and this process only hands chunks out and writes what comes back. The stage times of the
    chunks evaluated here, when profiled, are in :attr:`local_times`.
    """

    def __init__(
        self,
        evaluator: Any,
        fields: tuple[str, ...],
        chunks: Iterator,
        workers: int,
        profile: bool = False,
        points: int | None = None,
    ):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.evaluator, self.fields, self.chunks, self.workers = evaluator, fields, chunks, workers
        self.profile = profile
        self.helping = bool(getattr(evaluator, "helps_while_workers_start", False))
        self.spawned = workers - 1 if self.helping else workers  # worker processes to start
        self.local_times: dict[str, float] = {}  # stages of the chunks evaluated in this process
        self.executor = ProcessPoolExecutor(
            max_workers=self.spawned,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        self.pending: set = set()
        self.starting: set = set()  # workers' "I am up" tasks not yet returned
        self.points = points  # points to evaluate, when known
        self.left = points  # points not yet handed out (None: unknown)
        self.chunk_points = 1  # the largest chunk seen

    def _next(self) -> tuple[list[int], list[tuple]] | None:
        """The next chunk (None when none is left), counted out of :attr:`left`."""
        chunk = next(self.chunks, None)
        if chunk is not None:
            self.chunk_points = max(self.chunk_points, len(chunk[0]))
            if self.left is not None:
                self.left -= len(chunk[0])
        return chunk

    def _submit(self, n: int) -> None:
        for _ in range(n):
            chunk = self._next()
            if chunk is None:
                return
            self.pending.add(self.executor.submit(evaluate_chunk, self.evaluator, self.fields, chunk, self.profile))

    def _top_up(self) -> None:
        """Helping: two chunks in flight per worker that is up, one once the end is near.

        Two, so that a worker finishing one while this process evaluates its own (or writes)
        has the next one queued instead of waiting for a hand-out; one when what is left would
        not keep every process busy for two more chunks, so that the sweep does not end with
        this process waiting for a worker's queue.
        """
        plenty = self.left is None or self.left > 2 * (self.spawned + 1) * self.chunk_points
        up = self.spawned - len(self.starting)
        self._submit(up * (2 if plenty else 1) - len(self.pending))

    @staticmethod
    def _result(fut: Any) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return fut.result()
        except BrokenProcessPool as exc:
            raise WorkerDied(f"a worker process died ({exc})") from None

    def __iter__(self) -> Iterator[ChunkResult]:
        from concurrent.futures import FIRST_COMPLETED, wait

        helping = self.helping
        if helping:
            first = self._next()
            if first is None:
                return
            # a sweep the evaluator vouches is long enough starts its workers now, while this
            # process evaluates the first chunk (its imports included); else that chunk decides
            floor = float(getattr(self.evaluator, "min_seconds_per_point", 0.0) or 0.0)
            if self.points is not None and self.points * floor >= WORKER_START_S * self.spawned:
                self._start_workers(first[1][0])
            t0 = time.perf_counter()
            result = self._here(first)
            n = len(first[0])
            if (
                not self.starting
                and self.points is not None
                and (self.points - n) / n * (time.perf_counter() - t0) < WORKER_START_S * self.spawned
            ):
                yield result  # the rest is quicker done here than starting workers
                for chunk in self.chunks:
                    yield self._here(chunk)
                return
            if not self.starting:
                self._start_workers(first[1][0])
            yield result
        else:
            self._submit(2 * self.spawned)
        while True:
            for fut in [f for f in self.starting if f.done()]:  # a worker is up and warm: chunks for it
                self.starting.discard(fut)
                self._result(fut)
                self._top_up()
            if helping:
                for fut in [f for f in self.pending if f.done()]:  # hand finished chunks over first
                    self.pending.discard(fut)
                    result = self._result(fut)
                    self._top_up()
                    yield result
                chunk = self._next()
                if chunk is not None:
                    yield self._here(chunk)
                    continue
                helping = False  # no chunk left: wait for the workers' last ones
            if not self.pending:
                return
            done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
            for fut in done:
                result = self._result(fut)
                self._submit(1)
                yield result

    def _start_workers(self, point: tuple) -> None:
        """Start the worker processes; each first evaluates ``point`` (imports, caches), then reports."""
        self.starting = {
            self.executor.submit(_started, self.evaluator, self.fields, point) for _ in range(self.spawned)
        }

    def _here(self, chunk: tuple[list[int], list[tuple]]) -> ChunkResult:
        """Evaluate one chunk in this process (while the workers start)."""
        result = evaluate_chunk(self.evaluator, self.fields, chunk, self.profile)
        if self.profile:
            for stage, seconds in result[2].items():
                self.local_times[stage] = self.local_times.get(stage, 0.0) + seconds
        return result[0], result[1]

    def drain(self) -> list[ChunkResult]:
        """After Ctrl-C: cancel the queued chunks, wait for the running ones (workers ignore SIGINT)."""
        out = []
        for fut in list(self.pending):
            if fut.cancel():
                continue
            try:
                out.append(fut.result())
            except Exception:
                pass
        self.pending.clear()
        return out

    def close(self) -> None:
        """Stop the workers: at once when none is evaluating a chunk (every chunk is back, or they
        are still starting), which saves waiting for them to wind down (~0.3 s); else after the
        chunks they are evaluating."""
        for fut in self.pending:
            fut.cancel()
        if all(fut.done() for fut in self.pending):
            for process in list((getattr(self.executor, "_processes", None) or {}).values()):
                process.terminate()
        self.executor.shutdown(wait=True, cancel_futures=True)


class _Dask(Executor):
    """Chunks on a dask.distributed cluster (an address or a ``Client``)."""

    def __init__(
        self,
        evaluator: Any,
        fields: tuple[str, ...],
        chunks: Iterator,
        dask: Any,
        security: Any = None,
        profile: bool = False,
    ):
        try:
            from distributed import Client
        except ImportError:
            raise QnetError("--dask needs dask.distributed: pip install 'qnet[dask]'") from None
        self.own = not isinstance(dask, Client)
        try:
            self.client = (
                (Client(dask, security=security) if security is not None else Client(dask)) if self.own else dask
            )
        except Exception as exc:  # unreachable scheduler, bad address
            raise QnetError(f"cannot connect to the Dask scheduler at {dask!r}: {exc}") from None
        self.fields, self.chunks, self.profile = fields, chunks, profile
        self.remote = self.client.scatter(evaluator, broadcast=True)
        workers = self.client.scheduler_info().get("workers", {}).values()
        self.slots = max(1, sum(w.get("nthreads", 1) for w in workers))
        self.futures: list = []

    def _submit(self, n: int) -> list:
        new = [
            self.client.submit(evaluate_chunk, self.remote, self.fields, chunk, self.profile, pure=False)
            for chunk in itertools.islice(self.chunks, n)
        ]
        self.futures += new
        return new

    def __iter__(self) -> Iterator[ChunkResult]:
        from distributed import as_completed

        queue = as_completed(self._submit(2 * self.slots))
        for fut in queue:
            try:
                result = fut.result()
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker":
                    raise WorkerDied(f"a Dask worker died ({exc})") from None
                raise
            self.futures.remove(fut)
            for new in self._submit(1):
                queue.add(new)
            yield result

    def drain(self) -> list[ChunkResult]:
        out = []
        for fut in self.futures:
            if fut.status == "finished":
                out.append(fut.result())
        return out

    def close(self) -> None:
        if self.futures:
            self.client.cancel(self.futures)
            self.futures = []
        if self.own:
            self.client.close()


def dask_address(client: Any) -> str:
    """The scheduler address of a ``distributed.Client`` (its repr when it has none).

    Examples
    --------
    >>> dask_address("not a client")
    "'not a client'"
    """
    try:
        return str(client.scheduler.address)
    except AttributeError:
        return repr(client)


def _loopback(address: str) -> bool:
    import ipaddress

    scheme, _, rest = address.rpartition("://")
    if scheme == "inproc":
        return True
    host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 or rest.startswith("[") else rest
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dask_security(*, tls_ca_file: str | None = None, tls_cert: str | None = None, tls_key: str | None = None) -> Any:
    """A ``distributed.security.Security`` requiring TLS from these files, or None when none is given.

    Parameters
    ----------
    tls_ca_file : str, optional
        The certificate authority that signed the cluster's certificates (``--dask-tls-ca-file``).
    tls_cert, tls_key : str, optional
        This client's certificate and private key (``--dask-tls-cert``, ``--dask-tls-key``).

    Returns
    -------
    distributed.security.Security or None
        With ``require_encryption=True``; None when no file is given (then a ``tls://``
        address uses dask's configuration ``distributed.comm.tls.*``).

    Raises
    ------
    QnetError
        When only some of the three are given, or a file does not exist.

    Examples
    --------
    >>> dask_security() is None
    True
    >>> dask_security(tls_ca_file="ca.pem")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --dask-tls-cert, --dask-tls-key missing: --dask-tls-ca-file, --dask-tls-cert and --dask-tls-key go together
    """
    given = {"--dask-tls-ca-file": tls_ca_file, "--dask-tls-cert": tls_cert, "--dask-tls-key": tls_key}
    if not any(given.values()):
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise QnetError(
            f"{', '.join(missing)} missing: --dask-tls-ca-file, --dask-tls-cert and --dask-tls-key go together"
        )
    for option, path in given.items():
        if not Path(str(path)).is_file():  # each given (checked above)
            raise QnetError(f"{option} {path}: no such file")
    try:
        from distributed.security import Security
    except ImportError:
        raise QnetError("--dask needs dask.distributed: pip install 'qnet[dask]'") from None
    return Security(tls_ca_file=tls_ca_file, tls_client_cert=tls_cert, tls_client_key=tls_key, require_encryption=True)


def check_dask_address(address: str, *, security: Any = None, insecure: bool = False) -> None:
    """Refuse to send pickles over plain TCP to another machine unless ``insecure`` is given.

    A Dask scheduler runs the code it is sent, and qnet unpickles what comes back: the cluster
    must be trusted, and the connection to it encrypted and authenticated (TLS) unless it stays
    on this machine. ``tls://`` addresses use ``security`` (or, without it, dask's own
    configuration ``distributed.comm.tls.*``).

    Parameters
    ----------
    address : str
        The scheduler address (``tcp://host:port``, ``tls://host:port``, ``host:port``, ``inproc://...``).
    security : distributed.security.Security, optional
        From :func:`dask_security`; needs a ``tls://`` address.
    insecure : bool
        ``--dask-insecure``: allow plain TCP to another machine.

    Raises
    ------
    QnetError
        One line: plain TCP to a host that is not loopback (127.0.0.0/8, ::1, localhost)
        without ``insecure``, TLS files with a non-TLS address, or TLS files with ``insecure``.

    Examples
    --------
    >>> check_dask_address("tcp://127.0.0.1:8786")
    >>> check_dask_address("tcp://10.0.0.2:8786", insecure=True)
    >>> check_dask_address("tcp://10.0.0.2:8786")
    Traceback (most recent call last):
    ...
    qnet.errors.QnetError: --dask tcp://10.0.0.2:8786: plain TCP to another machine would send and run pickled code unauthenticated; ...
    """
    if not isinstance(address, str) or not address.strip():
        raise QnetError(
            f"--dask {address!r}: expected a scheduler address such as tcp://127.0.0.1:8786 or tls://host:8786"
        )
    tls = address.startswith("tls://")
    if security is not None and not tls:
        raise QnetError(f"--dask {address}: the TLS options need a tls:// address")
    if security is not None and insecure:
        raise QnetError("--dask-insecure and the --dask-tls-* options exclude each other")
    if tls or insecure or _loopback(address):
        return
    raise QnetError(
        f"--dask {address}: plain TCP to another machine would send and run pickled code unauthenticated; "
        f"use tls:// with --dask-tls-ca-file/--dask-tls-cert/--dask-tls-key, or --dask-insecure on a network you trust"
    )


def start_executor(
    evaluator: Any,
    fields: tuple[str, ...],
    chunks: Iterator,
    *,
    workers: int = 1,
    dask: Any = None,
    security: Any = None,
    profile: bool = False,
    points: int | None = None,
) -> Executor:
    """Start evaluating ``chunks``: on Dask when ``dask`` is given, else in ``workers`` local
    processes at once when ``workers > 1``, else in this process.

    ``workers`` counts the processes that evaluate at once (about the cores kept busy): with an
    evaluator that ``helps_while_workers_start`` (a link sweep: chunks of milliseconds) this
    process and ``workers - 1`` spawned workers, otherwise ``workers`` spawned workers while
    this process only hands chunks out and collects them. A Dask cluster has its own workers.

    Parameters
    ----------
    evaluator : Evaluator
        What computes the rows (configured for parallel workers where they are used).
    fields : tuple of str
        The grid's fields.
    chunks : iterator of (list of int, list of tuple)
        The chunks, consumed as workers become free.
    workers : int
        Local processes evaluating at once (this one included when the evaluator helps).
    dask : str or distributed.Client, optional
        A scheduler address or a client.
    security : distributed.security.Security, optional
        TLS settings for a ``dask`` address (:func:`dask_security`).
    profile : bool
        Each finished chunk also carries its stage times (:func:`evaluate_chunk`).
    points : int, optional
        How many points the chunks hold (lets a short sweep skip starting workers).

    Returns
    -------
    Executor

    Examples
    --------
    >>> from qnet.studies.sweep import Evaluator
    >>> class One(Evaluator):
    ...     columns = ("y",)
    ...     def evaluate(self, points):
    ...         return [{"y": 1.0, "error": ""} for _ in points]
    >>> executor = start_executor(One(), ("x",), iter([([0], [(1.0,)]), ([1], [(2.0,)])]))
    >>> [positions for positions, rows in executor]
    [[0], [1]]
    >>> executor.close()
    """
    if dask is not None:
        return _Dask(evaluator, fields, chunks, dask, security, profile)
    if workers > 1:
        return _Pool(evaluator, fields, chunks, workers, profile, points)
    return _Serial(evaluator, fields, chunks, profile)

"""The event engine's Python face: :class:`Engine` builds a run's arrays and runs the rules on them.

The rules are :mod:`qnet.repeater.engine.rules` (with ``memories`` and ``store``), written once:
compiled with numba when it is installed (``loop="auto"`` or ``"compiled"``), else run as plain
Python (``loop="python"``, or no numba): the same functions, the same draws from the same
generators in the same order, so both give the same runs to the last bit
(``tests/repeater/test_compiled_engine.py``). Compiled, events run 10-20x faster; the first
compiled run after an install compiles the rules once (a notice on stderr), later runs load
them from numba's cache.

:class:`Engine` answers what chains and traffic runs read: deliveries with their trees, heralds
per link, node peaks, occupancy integrals and snapshots, trace rows.
"""

from __future__ import annotations

import gc
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from qnet.errors import ConfigError, QnetError
from qnet.link.multiplexing import success_per_round
from qnet.repeater.waiting import TIME_RTOL
from qnet.repeater.choices import EVENT_LOOPS
from qnet.repeater.engine import jit
from qnet.repeater.engine.model import Delivery
from qnet.repeater.engine.trees import FlatTree, FlatTrees, Leaf

__all__ = ["Engine", "PoolView", "available", "use_compiled"]

_CHUNK_INSTANTS = 200_000  # instants per compiled call: Ctrl-C and progress are seen between calls
_PLAIN_CHUNK = 2_000  # instants (or deliveries, at most) per call of the plain rules before a run may move on
_PLAIN_S = 0.3  # loop="auto": a run still going after this long on the plain rules moves to the compiled ones
_NOTICE = (
    "qnet: compiling the event loop, once per install (a minute or more; later runs load it from numba's cache) ..."
)
_BACKGROUND = (
    "qnet: the event loop is being compiled in the background, once per install; this run uses the same "
    "rules uncompiled (the same results)"
)
_noticed: set[str] = set()  # entry points this process has announced or found cached
_LOCK_S = 1800.0  # a background compile younger than this is left to finish


def cached(kernel, entry: str) -> bool:
    """Whether numba's cache holds the compiled rules for ``entry`` (``"run_until"``: traffic, ``"deliver"``: chains).

    (numba compiles a rule the first time it runs and caches it, ``cache=True``.) True also when
    the rules are not compiled or numba's cache cannot be read.

    Examples
    --------
    >>> from qnet.repeater.engine import jit
    >>> from qnet.repeater.engine.core import cached
    >>> cached(jit.kernel(False), "deliver")  # the plain rules: nothing to compile
    True
    """
    store = kernel.store
    used = (
        getattr(kernel.rules, entry),
        kernel.rules.start_requests,
        store.new_state,
        store.new_waiters,
        store.waiters_of,
        store.set_run,
        store.export_counts,
        store.export_deliveries,
        store.flat_deliveries,
        store.error_of,
        store.export_trace,
    )
    try:
        return all(bool(f._cache._cache_file._load_index()) for f in used)
    except AttributeError:  # not compiled, or numba's cache internals changed
        return True


def _stderr_if_watched():
    """stderr when a person is watching it (a terminal, as for progress lines), else None."""
    return sys.stderr if getattr(sys.stderr, "isatty", lambda: False)() else None


def compile_notice(kernel, entry: str, stream=None) -> bool:
    """Say (once per process) that the event loop is about to be compiled, when it is.

    Given only when numba's cache holds nothing for ``entry`` (:func:`cached`), so a cached
    run says nothing; on ``stream``, by default stderr when that is a terminal.

    Returns
    -------
    bool
        Whether the rules are about to be compiled (the notice was due).

    Examples
    --------
    >>> from qnet.repeater.engine import jit
    >>> from qnet.repeater.engine.core import compile_notice
    >>> compile_notice(jit.kernel(False), "deliver")  # the plain rules: nothing to compile
    False
    """
    if entry in _noticed:
        return False
    _noticed.add(entry)
    cold = not cached(kernel, entry)
    stream = _stderr_if_watched() if stream is None else stream
    if cold and stream is not None:
        print(_NOTICE, file=stream, flush=True)
    return cold


#: The background compiles this process started: held, so that a compile still running is not
#: reaped (and warned about) when its handle would otherwise be garbage-collected.
_started: list = []


def compile_in_background(stream=None) -> bool:
    """Start compiling the rules into numba's cache in a separate, low-priority process (once per machine).

    ``loop="auto"``'s first run after an install runs the plain rules at once (the same results)
    instead of waiting for the compiler; the runs after it load the compiled rules. A lock file
    (in the temporary folder, :data:`_LOCK_S` old at most) keeps parallel runs from starting
    more than one compile.

    ``QNET_BACKGROUND_COMPILE=0`` in the environment turns this off (the test suite does: its
    runs compare both loops themselves, and a compile beside it would compete for its cores).

    Returns
    -------
    bool
        Whether a compile was started.
    """
    if os.environ.get("QNET_BACKGROUND_COMPILE", "1") == "0":
        return False
    lock = Path(tempfile.gettempdir()) / f"qnet-engine-compile-{os.getuid() if hasattr(os, 'getuid') else 0}.lock"
    try:
        if lock.exists() and time.time() - lock.stat().st_mtime < _LOCK_S:
            return False
        lock.unlink(missing_ok=True)
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
        _started.append(
            subprocess.Popen(
                [sys.executable, "-m", "qnet.repeater.engine.warm", str(lock)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    except OSError:
        return False
    stream = _stderr_if_watched() if stream is None else stream
    if stream is not None:
        print(_BACKGROUND, file=stream, flush=True)
    return True


def available() -> bool:
    """True when the rules can be compiled here (numba installed; :func:`qnet.repeater.engine.jit.available`).

    Examples
    --------
    >>> from qnet.repeater.engine.core import available
    >>> isinstance(available(), bool)
    True
    """
    return jit.available()


def use_compiled(loop: str) -> bool:
    """Whether event loop ``loop`` runs the rules compiled: ``auto`` when numba is installed, ``compiled`` always.

    Raises
    ------
    ConfigError
        ``loop`` is not one of :data:`qnet.repeater.choices.EVENT_LOOPS`, or ``compiled`` without numba.

    Examples
    --------
    >>> from qnet.repeater.engine.core import available, use_compiled
    >>> use_compiled("python"), use_compiled("auto") == available()
    (False, True)
    >>> use_compiled("fast")
    Traceback (most recent call last):
    ...
    qnet.errors.ConfigError: traffic.loop = 'fast' is invalid: one of auto, compiled, python
    """
    if loop not in EVENT_LOOPS:
        raise ConfigError("traffic", "loop", loop, f"one of {', '.join(EVENT_LOOPS)}")
    if loop == "compiled" and not available():
        raise ConfigError(
            "traffic", "loop", loop, "'auto' or 'python' (the compiled loop needs numba: pip install 'qnet[fast]')"
        )
    return loop == "compiled" or (loop == "auto" and available())


class PoolView(NamedTuple):
    """A pool's memories now: free slots and running bundle at each end, pairs waiting (tests, traces)."""

    free_a: int
    free_b: int
    bundle_a: int  # memory pairs of the running attempt bundle (0: none)
    bundle_b: int
    waiting: int


class _Request:
    """What a traffic run reads of one request: its deliveries and (with demand) how many it had."""

    __slots__ = ("demanded", "done")

    def __init__(self) -> None:
        self.done: list[Delivery] = []
        self.demanded = 0


class Engine:
    """Discrete-event simulation of requests on links (the rules: :mod:`qnet.repeater.engine`).

    Parameters
    ----------
    links : sequence of EngineLink
    requests : sequence of EngineRequest
    node_names : sequence of str
        Names of the node indices (traces).
    policy : str
        ``"shared"`` or ``"reserve"``.
    rng : numpy.random.Generator
        Draws of the physics (heralds, swap successes).
    tie_rng : numpy.random.Generator, optional
        Draws of the contention rule's random keys (a separate stream, so a lone request draws
        exactly what a chain draws).
    trace : bool
        Record every event (:data:`qnet.repeater.traffic.records.TRACE_COLUMNS`, :attr:`rows`).
    occupancy : bool
        Integrate memory use over time (node occupancy, link utilisation; default True).
    loop : str
        ``"auto"`` (default): the plain rules first, moving to the compiled ones (numba installed)
        when a run lasts longer than 0.3 s, as loading them costs about a second; the first run
        after an install stays on the plain rules while a background process compiles them
        (:func:`compile_in_background`). ``"compiled"``: compiled throughout (compiled here if
        need be); ``"python"``: plain throughout (:func:`use_compiled`). Every setting gives
        the same run.
    chain : bool
        Chain mode: :meth:`deliver` (each delivery from a fresh start) instead of :meth:`run`.

    Raises
    ------
    ConfigError
        A bad ``loop``, or ``"compiled"`` without numba.

    Examples
    --------
    >>> import numpy as np
    >>> from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute
    >>> link = EngineLink(p=0.5, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=1, cap_b=1)
    >>> route = EngineRoute((0,), (0,), (np.inf, np.inf), (1.0, 1.0), (0.0, 0.0))
    >>> args = ([link], [EngineRequest(route)], ["a", "b"], "shared")
    >>> fast, plain = Engine(*args, np.random.default_rng(1)), Engine(*args, np.random.default_rng(1), loop="python")
    >>> fast.run(until_s=1.0); plain.run(until_s=1.0)
    >>> 300 < len(fast.requests[0].done) < 700
    True
    >>> [(d.time_s, d.tree.tree()) for d in fast.requests[0].done] == [(d.time_s, d.tree.tree()) for d in plain.requests[0].done]
    True
    """

    def __init__(
        self,
        links,
        requests,
        node_names,
        policy: str,
        rng: np.random.Generator,
        tie_rng: np.random.Generator | None = None,
        trace: bool = False,
        occupancy: bool = True,
        loop: str = "auto",
        chain: bool = False,
    ):
        from qnet.repeater.engine.state import KernelInputs

        self.compiled = use_compiled(loop)
        self.entry = "deliver" if chain else "run_until"
        # auto: start on the plain rules, move to the compiled ones if the run proves long (numba's
        # import and cache load cost about a second: short runs end before they would pay)
        self.switch = self.compiled and loop == "auto"
        self.compiled = self.compiled and not self.switch
        self.links, self.specs, self.node_names = list(links), list(requests), list(node_names)
        self.rng = rng
        self.tie_rng = tie_rng if tie_rng is not None else np.random.default_rng(0)
        self.atol_s = TIME_RTOL * min(link.attempt_time_s for link in self.links)
        self.kernel = jit.kernel(self.compiled)
        self.state = KernelInputs(
            self.links,
            self.specs,
            len(self.node_names),
            policy,
            occupancy,
            _p_rounds(self.links),
            self.kernel,
            trace,
            chain,
        )
        self.record = trace
        self.rows: list[tuple] = []
        self.node_memories = [int(x) for x in self.state.memories]
        self.now = 0.0
        self.snapshots: list[list[float]] = []
        self.requests = [_Request() for _ in self.specs]

    def run(self, until_s: float, progress: Callable[[float], None] | None = None, bins: int = 0) -> None:
        """Traffic mode: run the clock to ``until_s`` (s); ``progress(t)`` now and then.

        ``bins`` > 0 records the memory-seconds in use per node at the ends of ``bins`` equal
        slices of [0, until_s) (:attr:`snapshots`: occupancy over time).
        """
        if self.compiled:
            compile_notice(self.kernel, "run_until")
        S = self.state.kernel_state(until_s, bins)
        edges = [until_s * (k + 1) / bins for k in range(bins)]
        began = time.perf_counter()
        try:
            while not self.kernel.rules.run_until(
                S, self.rng, self.tie_rng, until_s, self.atol_s, _PLAIN_CHUNK if self.switch else _CHUNK_INSTANTS
            ):
                if progress is not None:
                    progress(float(self.kernel.store.clock(S)))
                if self.switch and time.perf_counter() - began > _PLAIN_S:
                    S = self._to_compiled(S)
            self._raise_error(S)
        finally:
            self._collect(S)
        self.snapshots += [self._node_areas_at(edges[k]) for k in range(len(self.snapshots), bins - 1)]
        self.now = until_s

    def deliver(
        self, count: int, max_events: int, progress: Callable[[int, int], None] | None = None
    ) -> tuple[np.ndarray, list]:
        """Chain mode (``chain=True``): ``count`` deliveries of request 0, each from a fresh start.

        Parameters
        ----------
        count : int
            Deliveries to make.
        max_events : int
            Bound on the events of one delivery.
        progress : callable, optional
            ``progress(done, count)`` now and then (calls take about 0.1 s each).

        Returns
        -------
        (numpy.ndarray, list of FlatTree)
            Each delivery's latency (s) from its fresh start, and its tree.

        Raises
        ------
        QnetError
            No event is left before a delivery, or a delivery needs more than ``max_events`` events.
        """
        if self.compiled:
            compile_notice(self.kernel, "deliver")
        S = self.state.kernel_state(0.0, 0)
        done, chunk, start = 0, 1, time.perf_counter()
        while done < count:
            rules, store = self.kernel.rules, self.kernel.store
            n = min(chunk, count - done, _PLAIN_CHUNK if self.switch else count)
            began = time.perf_counter()
            made, status = rules.deliver(S, self.rng, self.tie_rng, self.atol_s, max_events, n)
            done += int(made)
            if status == 3:
                self._raise_error(S)
            if status == 1:
                raise QnetError("the chain can never deliver: no event left")
            if status == 2:
                now = float(store.clock(S))
                raise QnetError(
                    f"no end-to-end pair after {max_events} events (t = {now:.6g} s): the chain "
                    "practically never delivers (cutoffs too short?); raise max_events to insist"
                )
            if progress is not None:
                progress(done, count)
            if time.perf_counter() - began < 0.05:
                chunk *= 2
            if self.switch and done < count and time.perf_counter() - start > _PLAIN_S:
                S = self._to_compiled(S)
        store = self.kernel.store
        d_req, d_t, d_lat, d_tree, *_ = store.export_deliveries(store.arrays(S))
        table, first, last = _flat_table(store.flat_deliveries(S, np.ones(len(d_req), np.bool_)))
        return d_lat, [FlatTree(table, a, b) for a, b in zip(first.tolist(), last.tolist())]

    def _to_compiled(self, S):
        """Move a run from the plain rules to the compiled ones: the same state, every array as it is.

        With nothing in numba's cache (the first run after an install) the run stays on the plain
        rules and a background process compiles them (:func:`compile_in_background`).
        """
        kernel = jit.kernel(True)
        self.switch = False
        if not cached(kernel, self.entry):
            compile_in_background()
            return S
        store = kernel.store
        A = self.kernel.store.arrays(S)  # (the plain rules hold lists)
        values = {name: getattr(A, name) for name in store.FIELDS}
        w = values["waiters"]
        values["waiters"] = store.waiters_of(
            np.array([x[0] for x in w], np.float64),
            np.array([x[1] for x in w], np.float64),
            np.array([x[2] for x in w], np.float64),
            np.array([x[3] for x in w], np.int64),
        )
        self.kernel = self.state.kernel = kernel
        self.state._state = store.new_state(*(values[name] for name in store.FIELDS))
        self.compiled = True
        return self.state._state

    def pool(self, p: int) -> PoolView:
        """Pool ``p``'s memories now (pools 0..L-1 are the links' shared pools).

        Examples
        --------
        >>> import numpy as np
        >>> from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute
        >>> link = EngineLink(p=1.0, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=3, cap_b=2)
        >>> route = EngineRoute((0,), (0,), (np.inf, np.inf), (1.0, 1.0), (0.0, 0.0))
        >>> eng = Engine([link], [EngineRequest(route)], ["a", "b"], "shared", np.random.default_rng(1))
        >>> eng.run(until_s=0.5e-3)
        >>> eng.pool(0)
        PoolView(free_a=1, free_b=0, bundle_a=2, bundle_b=2, waiting=0)
        """
        S = self.state.kernel_state(self.now, 0) if self.state._state is None else self.state._state
        return PoolView(*(int(x) for x in self.kernel.store.pool_view(S, p)))

    def close(self, t: float) -> tuple[list[float], list[float]]:
        """Occupancy integrals up to time ``t``: (memory-seconds in use per node, per link)."""
        self.now = t
        node_area = [0.0] * len(self.node_names)
        link_area = [0.0] * len(self.links)
        for k in range(len(self.end_area)):
            self.end_area[k] += self.end_used[k] * (t - self.end_since[k])
            self.end_since[k] = t
            node_area[self.end_node[k]] += self.end_area[k]
            link_area[k // 2] += self.end_area[k]
        return node_area, link_area

    def _node_areas_at(self, t: float) -> list[float]:
        """Memory-seconds in use per node from 0 to ``t`` (no event in between)."""
        out = [0.0] * len(self.node_names)
        for k, node in enumerate(self.end_node):
            out[node] += self.end_area[k] + self.end_used[k] * (t - self.end_since[k])
        return out

    def _raise_error(self, S) -> None:
        """Raise the error a run stopped on, if any (a purified link's wait or trials beyond their bounds)."""
        code, k, value = (int(x) for x in self.kernel.store.error_of(S))
        if code == 0:
            return
        source = self.state.sources[k]
        if code == self.kernel.store.ERR_LONG_WAIT:
            raise QnetError(
                f"a purified link (p = {source.p:.3g} per attempt) drew a waiting time of {value:,} rounds; "
                "set a cutoff on its nodes to bound it"
            )
        raise QnetError(f"a purified link failed {self.kernel.memories.MAX_TRIALS:,} purification trials in a row")

    def _collect(self, S) -> None:
        """Deliveries (with their trees), demand, heralds, peaks and areas of the run so far."""
        store = self.kernel.store
        A = store.arrays(S)  # (the plain rules hold lists: the export functions take arrays)
        if self.record:
            times, ints = store.export_trace(A)
            self.rows = _trace_rows(
                times, ints, self.node_names, [link.name for link in self.links], store.TRACE_EVENTS
            )
        (now, events, nsnap, snaps, heralds, peaks, used, area, since, end_node, demanded) = store.export_counts(A)
        self.now, self.events = float(now), int(events)
        self.snapshots = snaps[:nsnap].tolist()
        self.heralds, self.node_peak = heralds.tolist(), peaks.tolist()
        self.end_used, self.end_area, self.end_since, self.end_node = (
            used.tolist(),
            area.tolist(),
            since.tolist(),
            end_node.tolist(),
        )
        ghz = np.array([spec.route.hub is not None for spec in self.specs], dtype=bool)
        d_req, d_t, d_lat, d_tree, *nodes = store.export_deliveries(A)
        table, first, last = _flat_table(store.flat_deliveries(S, ~ghz[d_req]))
        triples = _ghz_trees(d_tree[ghz[d_req]].tolist(), *(x.tolist() for x in nodes)) if ghz.any() else iter(())
        for req in self.requests:
            req.done = []
        new = tuple.__new__
        collecting = gc.isenabled()
        gc.disable()  # (many new tuples, no cycles: the collector's passes would cost more than the building)
        try:
            for r, t, lat, a, b in zip(d_req.tolist(), d_t.tolist(), d_lat.tolist(), first.tolist(), last.tolist()):
                tree = next(triples) if a < 0 else new(FlatTree, (table, a, b))
                self.requests[r].done.append(new(Delivery, (r, t, lat, tree)))
        finally:
            if collecting:
                gc.enable()
        for req, n in zip(self.requests, demanded.tolist()):
            req.demanded = n


def _flat_table(flat: tuple) -> tuple[FlatTrees, np.ndarray, np.ndarray]:
    """:func:`~qnet.repeater.engine.store.flat_deliveries`'s columns as a table (no roots listed: a
    :class:`FlatTree` names its rows), and each delivery's first and last-plus-one row."""
    i, f = (lambda x: np.asarray(x, np.int64)), (lambda x: np.asarray(x, np.float64))  # (plain rules: lists)
    where, left, right, state_s, exists_s, lo, hi, herald_a, herald_b, height, leaf_id, first, last = flat
    table = FlatTrees(
        *(i(where), i(left), i(right), f(state_s), f(exists_s), i(lo), i(hi), f(herald_a), f(herald_b)),
        *(i(height), i(leaf_id), np.empty(0, np.int64)),
    )
    return table, i(first), i(last)


def _trace_rows(times, ints, nodes: list[str], links: list[str], events: tuple[str, ...]) -> list[tuple]:
    """Trace rows as :data:`qnet.repeater.traffic.records.TRACE_COLUMNS` (fidelity NaN) from the kernel's arrays."""
    name = lambda k, names: names[k] if k >= 0 else ""  # noqa: E731
    return [
        (
            t,
            events[kind],
            pair,
            pa,
            pb,
            pc,
            r,
            name(node, nodes),
            name(na, nodes),
            name(nb, nodes),
            ma,
            mb,
            name(link, links),
            math.nan,
        )
        for t, (kind, pair, pa, pb, pc, r, node, na, nb, ma, mb, link) in zip(times.tolist(), ints.tolist())
    ]


def _p_rounds(links) -> np.ndarray:
    """Success per round of each link with m = 0..cap memory pairs (the interpreted engine's values)."""
    top = max(max(link.cap_a, link.cap_b) for link in links)
    table = np.zeros((len(links), top + 1))
    for g, link in enumerate(links):
        for m in range(1, top + 1):
            table[g, m] = success_per_round(link.p, m)
    return table


def _ghz_trees(roots, index, kind, a, t0, t1, left, right, leaf):
    """The GHZ deliveries' trees (three :class:`Leaf` legs each), in order, from the tree node arrays."""
    at = {k: i for i, k in enumerate(index)}
    for root in roots:
        i = at[root]
        yield tuple(Leaf(a[at[k]], t0[at[k]], leaf[at[k]]) for k in (left[i], right[i], leaf[i]))

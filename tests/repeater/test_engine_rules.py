"""Rules of the event engine checked one event at a time (qnet.repeater.engine)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnet.repeater.engine import Engine, EngineLink, EngineRequest, EngineRoute, jit

INF = math.inf


def _two_hop_engine(cap: int, cutoff_s: float, trace: bool = False, loop: str = "auto") -> Engine:
    """a -- r -- b: link 0 heralds after exactly one round (p = 1, 1 ms) with ``cap`` memories per
    end and a cutoff; link 1 practically never heralds, so link 0's pairs wait until cut off."""
    links = [
        EngineLink(p=1.0, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=cap, cap_b=cap, cutoff_s=cutoff_s),
        EngineLink(p=1e-12, attempt_time_s=1e-3, node_a=1, node_b=2, cap_a=1, cap_b=1),
    ]
    route = EngineRoute(
        hops=(0, 1), left_side=(0, 0), cutoff_s=(INF, cutoff_s, INF), swap_success=(1.0,) * 3, swap_time_s=(0.0,) * 3
    )
    return Engine(
        links, [EngineRequest(route)], ["a", "r", "b"], "shared", np.random.default_rng(1), trace=trace, loop=loop
    )


def test_a_bundle_uses_every_free_memory_pair():
    eng = _two_hop_engine(cap=3, cutoff_s=INF)
    eng.run(until_s=0.5e-3)  # t = 0: link 0 attempts with all three memory pairs
    assert (eng.pool(0).bundle_a, eng.pool(0).bundle_b) == (3, 3)
    eng.run(until_s=1.5e-3)  # its herald keeps one pair; no new attempt while that pair waits
    assert (eng.pool(0).bundle_a, eng.pool(0).waiting) == (0, 1)
    assert (eng.pool(0).free_a, eng.pool(0).free_b) == (2, 2)


def test_a_cut_off_pair_frees_both_memories_before_the_next_attempt():
    """The pair waiting in link 0 is cut off at 1 ms + 5 ms: both its memories are free at that
    instant, so the attempt that follows uses both memory pairs of each end (not one, as if
    the second memory came back later)."""
    eng = _two_hop_engine(cap=2, cutoff_s=5e-3, trace=True)
    eng.run(until_s=6.5e-3)
    events = [(round(row[0], 9), row[1]) for row in eng.rows]
    assert events == [(1e-3, "herald"), (6e-3, "cutoff")]
    assert (eng.pool(0).bundle_a, eng.pool(0).bundle_b) == (2, 2)
    eng.run(until_s=7.5e-3)  # p = 1: the next pair exists one round after the cutoff
    assert [(round(row[0], 9), row[1]) for row in eng.rows][-1] == (7e-3, "herald")


def test_the_engine_sits_below_chains_and_traffic():
    """qnet.repeater.engine imports nothing from qnet.repeater.chain or .traffic (they use it, not the reverse)."""
    import ast
    from pathlib import Path

    import qnet.repeater.engine as engine

    for path in Path(engine.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in getattr(node, "names", [])]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith(("qnet.repeater.chain", "qnet.repeater.traffic")), (
                    f"{path.name} imports {name}"
                )


def test_the_compile_notice_is_printed_once_and_only_when_numba_has_nothing_cached(monkeypatch):
    import io
    from types import SimpleNamespace

    from qnet.repeater.engine import core

    def dispatcher(index):
        return SimpleNamespace(_cache=SimpleNamespace(_cache_file=SimpleNamespace(_load_index=lambda: index)))

    class Module:  # every function cached except those named
        def __init__(self, *cold):
            self.cold = cold

        def __getattr__(self, name):
            return dispatcher({} if name in self.cold else {"sig": 1})

    monkeypatch.setattr(core, "_noticed", set())
    warm = SimpleNamespace(rules=Module(), store=Module())
    cold = SimpleNamespace(rules=Module("run_until"), store=Module())
    out = io.StringIO()
    assert not core.compile_notice(warm, "deliver", out)
    assert core.compile_notice(cold, "run_until", out)
    assert not core.compile_notice(cold, "run_until", out)  # once per process
    assert out.getvalue().count("\n") == 1 and "compiling the event loop, once per install" in out.getvalue()


@pytest.mark.skipif(not jit.available(), reason="the compiled rules need numba (and QNET_JIT not 0)")
def test_auto_runs_the_plain_rules_while_the_first_compile_is_in_the_background(monkeypatch):
    """`loop="auto"` with nothing in numba's cache: this run uncompiled (the same run), one background compile."""
    from qnet.repeater.engine import core

    started = []
    monkeypatch.setattr(core, "_PLAIN_S", 0.0)  # decide after the first chunk
    monkeypatch.setattr(core, "_PLAIN_CHUNK", 20)
    monkeypatch.setattr(core, "cached", lambda kernel, entry: False)
    monkeypatch.setattr(core, "compile_in_background", lambda: started.append(1) or True)
    cold = _two_hop_engine(cap=2, cutoff_s=5e-3, loop="auto")
    warm = _two_hop_engine(cap=2, cutoff_s=5e-3, loop="compiled")
    for eng in (cold, warm):
        eng.run(until_s=0.5)
    assert cold.compiled is False and started == [1]
    assert [d.time_s for d in cold.requests[0].done] == [d.time_s for d in warm.requests[0].done]


def test_one_background_compile_at_a_time(monkeypatch, tmp_path):
    import io
    import subprocess

    from qnet.repeater.engine import core

    calls = []
    monkeypatch.setenv("QNET_BACKGROUND_COMPILE", "1")  # (the suite turns it off: tests/conftest.py)
    monkeypatch.setattr(core.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(subprocess, "Popen", lambda argv, **kw: calls.append(argv))
    out = io.StringIO()
    assert core.compile_in_background(out) and not core.compile_in_background(out)  # the lock holds the second
    assert len(calls) == 1 and calls[0][1:3] == ["-m", "qnet.repeater.engine.warm"]
    assert out.getvalue().count("\n") == 1 and "compiled in the background" in out.getvalue()


def test_priorities_of_any_size_keep_their_order():
    """Priorities are Python integers of any size (the fuzz test found 2^63): only their order counts."""
    link = EngineLink(p=0.3, attempt_time_s=1e-3, node_a=0, node_b=1, cap_a=1, cap_b=1)
    route = EngineRoute((0,), (0,), (INF, INF), (1.0, 1.0), (0.0, 0.0))

    def run(priorities):
        eng = Engine(
            [link],
            [EngineRequest(route, priority=p) for p in priorities],
            ["a", "b"],
            "shared",
            np.random.default_rng(1),
            np.random.default_rng(2),
        )
        eng.run(until_s=1.0)
        return [[d.time_s for d in r.done] for r in eng.requests]

    small, huge = run([1, 0, 2]), run([2**63, -(2**70), 2**64])
    assert small == huge and len(small[2]) > 100  # (the highest priority takes the one link)

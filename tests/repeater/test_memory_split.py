"""A node's memory_split: memories for given links, the rest split evenly (docs/conventions.md §4, §14)."""

from __future__ import annotations

import pytest

import qnet
from qnet.errors import ConfigError
from qnet.repeater.path import build_chain
from qnet.repeater.routing import link_graph
from qnet.repeater.traffic.setup import link_memories

CHAIN = "examples/ion_repeater_chain.toml"  # alice - s1 - r1 - s2 - r2 - s3 - r3 - s4 - bob


def load(*overrides):
    return qnet.load_network(CHAIN, list(overrides))


def test_split_sets_each_sides_attempts_in_a_chain():
    g = load("nodes.r1.memories=5", "nodes.r1.memory_split={s2=4}", "nodes.alice.memories=4", "nodes.r2.memories=8")
    chain, specs, _ = build_chain(g, ["alice", "r1", "r2"])
    # r1: 4 for s2 (listed), the other 1 for s1; r2 (the route's end, no split) all 8; alice 4
    assert chain.link_memories(0) == (4, 1) and chain.link_memories(1) == (4, 8)
    assert [s.attempts_per_round for s in specs] == [1, 4]
    assert chain.nodes[0].memories == (1, 4)


def test_split_for_a_single_link_and_for_traffic():
    g = load("nodes.alice.memories=3", "nodes.alice.memory_split={s1=2}", "nodes.r1.memories=6")
    assert qnet.link_spec(g, "alice", "r1").attempts_per_round == 2  # r1 alone on this link: 6
    shares = link_memories(g, link_graph(g))
    assert shares[("alice", "s1")] == 2 and shares[("r1", "s1")] == 3 and shares[("r1", "s2")] == 3
    g2 = load("nodes.r1.memories=6", "nodes.r1.memory_split={s1=5}")
    shares = link_memories(g2, link_graph(g2))
    assert shares[("r1", "s1")] == 5 and shares[("r1", "s2")] == 1


@pytest.mark.parametrize(
    "override,needle",
    [
        ("nodes.r1.memory_split={s1=2}", "needs memories"),
        ("nodes.r1.memory_split={s1=0}", "memory_split.s1 = 0"),
        ("nodes.r1.memory_split={s1=1.5}", "memory_split.s1 = 1.5"),
        ("nodes.r1.memory_split=3", "a table"),
        ("nodes.r1.memory_split={s9=1}", "memory_split.s9 = 1 is invalid: a station 'r1' has a fibre to (s1, s2)"),
    ],
)
def test_bad_splits_are_one_line(override, needle):
    extra = [] if "needs memories" in needle else ["nodes.r1.memories=4"]
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")) as info:
        load(*extra, override)
    assert "\n" not in str(info.value)


def test_split_larger_than_memories_and_starved_links_are_refused():
    with pytest.raises(ConfigError, match="at most memories = 4"):
        load("nodes.r1.memories=4", "nodes.r1.memory_split={s1=3, s2=2}")
    g = load("nodes.r1.memories=4", "nodes.r1.memory_split={s1=4}")
    with pytest.raises(ConfigError, match=r"nodes\.r1\.memories = 4 .*none is left for s2"):
        build_chain(g, ["alice", "r1", "r2"])
    with pytest.raises(ConfigError, match=r"nodes\.r1\.memories"):
        qnet.simulate_traffic(g, [qnet.Request("alice", "r2")], duration_s=1.0)


def test_one_station_of_a_split_is_settable_and_merges():
    """`--set nodes.r1.memory_split.s2=4` is `memory_split = {s2 = 4}`; a second key adds to the table."""
    from qnet.network.fields import FieldPath

    whole = load("nodes.r1.memories=6", "nodes.r1.memory_split={s2=4}")
    one = load("nodes.r1.memories=6", "nodes.r1.memory_split.s2=4")
    assert one.nodes["r1"]["hardware"].memory_split == whole.nodes["r1"]["hardware"].memory_split == (("s2", 4),)
    both = load("nodes.r1.memories=6", "nodes.r1.memory_split={s2=4}", "nodes.r1.memory_split.s1=2")
    assert both.nodes["r1"]["hardware"].memory_split == (("s1", 2), ("s2", 4))
    shares = link_memories(both, link_graph(both))
    assert shares[("r1", "s1")] == 2 and shares[("r1", "s2")] == 4
    path = FieldPath.parse("nodes.r1.memory_split.s2")
    table = {"nodes": {"r1": {"kind": "memory", "memory_split": {"s1": 1}}}}
    assert path.get(table) is None and path.replace(table, 3)["nodes"]["r1"]["memory_split"] == {"s1": 1, "s2": 3}
    assert table["nodes"]["r1"]["memory_split"] == {"s1": 1}  # replace copies
    with pytest.raises(ConfigError, match=r"memory_split\.s9 = 1 is invalid"):
        load("nodes.r1.memories=4", "nodes.r1.memory_split.s9=1")

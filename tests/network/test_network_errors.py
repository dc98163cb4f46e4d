"""Bad input: every invalid value gives a ``qnet.QnetError`` that names where (node / fibre /
table), the field and the offending value, so a user can find and fix the line."""

from __future__ import annotations

import copy
import math

import pytest

import qnet


def _net(link_network, scheme: str = "single_click") -> dict:
    return link_network(scheme=scheme)


def _raises(data: dict, *fragments: str, a: str = "alice", b: str = "bob") -> str:
    """Building (and specifying the link of) ``data`` must raise QnetError naming ``fragments``."""
    with pytest.raises(qnet.QnetError) as info:
        g = qnet.network_from_dict(data)
        qnet.link_spec(g, a, b)
    msg = str(info.value)
    for frag in fragments:
        assert frag in msg, f"{frag!r} missing from error message {msg!r}"
    return msg


def _set(data: dict, path: tuple, value) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()

# (path into the raw table, bad value, fragments the message must contain)
NODE_CASES = [
    # out of range
    (("nodes", "alice", "emission_efficiency"), 1.5, ["nodes.alice", "emission_efficiency", "1.5"]),
    (("nodes", "alice", "emission_efficiency"), -0.1, ["nodes.alice", "emission_efficiency", "-0.1"]),
    (("nodes", "bob", "conversion_efficiency"), 2, ["nodes.bob", "conversion_efficiency", "2"]),
    (("nodes", "alice", "t2_s"), 0.0, ["nodes.alice", "t2_s", "0"]),
    (("nodes", "alice", "t2_s"), -1.0, ["nodes.alice", "t2_s", "-1"]),
    (("nodes", "alice", "t2_s"), math.nan, ["nodes.alice", "t2_s", "nan"]),
    (("nodes", "bob", "t1_s"), 0.0, ["nodes.bob", "t1_s", "0"]),
    (("nodes", "bob", "t1_s"), -2.0, ["nodes.bob", "t1_s", "-2"]),
    (("nodes", "alice", "prep_time_s"), -1e-6, ["nodes.alice", "prep_time_s", "-1e-06"]),
    (("nodes", "alice", "prep_time_s"), math.inf, ["nodes.alice", "prep_time_s", "inf"]),
    (("nodes", "alice", "bright_state_population"), 0.0, ["nodes.alice", "bright_state_population", "0"]),
    (("nodes", "alice", "bright_state_population"), 1.0, ["nodes.alice", "bright_state_population", "1"]),
    (("nodes", "bob", "bright_state_population"), 1.5, ["nodes.bob", "bright_state_population", "1.5"]),
    (("nodes", "alice", "memories"), 0, ["nodes.alice", "memories", "0"]),
    (("nodes", "alice", "memories"), 1.5, ["nodes.alice", "memories", "1.5"]),
    (("nodes", "alice", "gate_fidelity"), 1.1, ["nodes.alice", "gate_fidelity", "1.1"]),
    (("nodes", "alice", "readout_fidelity"), -0.5, ["nodes.alice", "readout_fidelity", "-0.5"]),
    (("nodes", "alice", "cutoff_s"), 0.0, ["nodes.alice", "cutoff_s", "0"]),
    (("nodes", "mid", "detector_efficiency"), 1.2, ["nodes.mid", "detector_efficiency", "1.2"]),
    (("nodes", "mid", "dark_count_probability"), -1e-3, ["nodes.mid", "dark_count_probability", "-0.001"]),
    (
        ("nodes", "mid", "dark_count_probability"),
        1.0,
        ["nodes.mid", "dark_count_probability", "1.0", "every detector clicks"],
    ),
    (("nodes", "mid", "visibility"), 1.01, ["nodes.mid", "visibility", "1.01"]),
    (("nodes", "mid", "phase_noise_rad"), -0.1, ["nodes.mid", "phase_noise_rad", "-0.1"]),
    # unknown choices
    (("nodes", "alice", "decay"), "linear", ["nodes.alice", "decay", "linear"]),
    (("nodes", "mid", "scheme"), "three_photon", ["nodes.mid", "scheme", "three_photon"]),
    (("nodes", "alice", "kind"), "router", ["nodes.alice", "kind", "router"]),
    (("nodes", "mid", "kind"), 3, ["nodes.mid", "kind", "3"]),
    # unknown fields
    (("nodes", "alice", "t3_s"), 1.0, ["nodes.alice", "t3_s", "unknown field"]),
    (("nodes", "mid", "bright_state_population"), 0.1, ["nodes.mid", "bright_state_population", "unknown field"]),
    (("nodes", "mid", "colour"), "red", ["nodes.mid", "colour", "unknown field"]),
    # non-numeric values
    (("nodes", "alice", "t2_s"), "1e-3", ["nodes.alice", "t2_s", "'1e-3'"]),
    (("nodes", "alice", "emission_efficiency"), "high", ["nodes.alice", "emission_efficiency", "'high'"]),
    (("nodes", "mid", "visibility"), [0.9], ["nodes.mid", "visibility", "[0.9]"]),
    (("nodes", "alice", "decay"), 1.0, ["nodes.alice", "decay", "1.0"]),
    # booleans are not numbers here
    (("nodes", "alice", "emission_efficiency"), True, ["nodes.alice", "emission_efficiency", "True"]),
    (("nodes", "alice", "t2_s"), True, ["nodes.alice", "t2_s", "True"]),
    (("nodes", "alice", "memories"), True, ["nodes.alice", "memories", "True"]),
    (("nodes", "alice", "bright_state_population"), False, ["nodes.alice", "bright_state_population", "False"]),
    (("nodes", "mid", "dark_count_probability"), False, ["nodes.mid", "dark_count_probability", "False"]),
    # missing required fields
    (("nodes", "alice", "t2_s"), _DELETE, ["nodes.alice", "t2_s", "missing"]),
    (("nodes", "bob", "emission_efficiency"), _DELETE, ["nodes.bob", "emission_efficiency", "missing"]),
    (("nodes", "mid", "scheme"), _DELETE, ["nodes.mid", "scheme", "missing"]),
    (("nodes", "alice", "kind"), _DELETE, ["nodes.alice", "kind"]),
    (("nodes", "bob", "bright_state_population"), _DELETE, ["nodes.bob", "bright_state_population", "single_click"]),
]


@pytest.mark.parametrize("path,value,fragments", NODE_CASES, ids=[f"{'.'.join(p[1:])}={v!r}" for p, v, _ in NODE_CASES])
def test_invalid_node_values(link_network, path, value, fragments):
    _raises(_set(_net(link_network), path, value), *fragments)


FIBRE_CASES = [
    ("length_km", -5.0, ["fibres.alice-mid", "length_km", "-5"]),
    ("length_km", math.inf, ["fibres.alice-mid", "length_km", "inf"]),
    ("length_km", math.nan, ["fibres.alice-mid", "length_km", "nan"]),
    ("length_km", "ten", ["fibres.alice-mid", "length_km", "'ten'"]),
    ("length_km", True, ["fibres.alice-mid", "length_km", "True"]),
    ("length_km", _DELETE, ["fibres.alice-mid", "length_km", "missing"]),
    ("attenuation_db_per_km", -0.2, ["fibres.alice-mid", "attenuation_db_per_km", "-0.2"]),
    ("attenuation_db_per_km", "0.2", ["fibres.alice-mid", "attenuation_db_per_km", "'0.2'"]),
    ("colour", "blue", ["fibres.alice-mid", "colour", "unknown field"]),
    ("b", "carol", ["fibres.alice-carol", "carol"]),  # fibre to an unknown node
    ("b", "alice", ["fibres.alice-alice", "alice"]),  # a fibre from a node to itself
    ("b", 7, ["fibres[0]", "b", "7"]),
    ("a", _DELETE, ["fibres[0]", "a", "missing"]),
    ("name", "", ["fibres[0]", "name"]),
]


@pytest.mark.parametrize("field,value,fragments", FIBRE_CASES, ids=[f"{f}={v!r}" for f, v, _ in FIBRE_CASES])
def test_invalid_fibre_values(link_network, field, value, fragments):
    data = _net(link_network)
    data["fibres"][0] = _set(data["fibres"][0], (field,), value)
    _raises(data, *fragments)


def test_duplicate_fibre_name(link_network):
    data = _net(link_network)
    data["fibres"][0]["name"] = "f1"
    data["fibres"][1]["name"] = "f1"
    _raises(data, "fibres.f1", "f1", "unique")


def test_second_fibre_between_same_nodes(link_network):
    data = _net(link_network)
    data["fibres"].append({"name": "spare", "a": "mid", "b": "alice", "length_km": 3.0})
    _raises(data, "fibres.spare", "alice", "mid")


@pytest.mark.parametrize(
    "network,fragments",
    [
        ({"fibre_speed_km_per_s": 0.0}, ["network", "fibre_speed_km_per_s", "0"]),
        ({"fibre_speed_km_per_s": -2e5}, ["network", "fibre_speed_km_per_s", "-200000"]),
        ({"fibre_speed_km_per_s": "fast"}, ["network", "fibre_speed_km_per_s", "'fast'"]),
        ({"fibre_speed_km_per_s": True}, ["network", "fibre_speed_km_per_s", "True"]),
        ({"fibre_speed_km_per_s": math.inf}, ["network", "fibre_speed_km_per_s", "inf"]),
        ({"speed_of_light": 2e5}, ["network", "speed_of_light", "unknown"]),
    ],
)
def test_invalid_network_table(link_network, network, fragments):
    _raises(link_network(network=network), *fragments)


def test_unknown_top_level_table(link_network):
    data = _net(link_network)
    data["links"] = {}
    _raises(data, "links")


def test_node_that_is_not_a_table(link_network):
    data = _net(link_network)
    data["nodes"]["alice"] = 3
    _raises(data, "nodes.alice", "3")


def test_phase_noise_is_rejected_for_two_photon(link_network):
    _raises(link_network(scheme="two_photon", station={"phase_noise_rad": 0.2}), "nodes.mid", "phase_noise_rad", "0.2")


# ------------------------------------------------------------------ requests on a graph
def test_unknown_node(link_network):
    g = qnet.network_from_dict(_net(link_network))
    with pytest.raises(qnet.QnetError, match="carol"):
        qnet.link_spec(g, "alice", "carol")


def test_station_is_not_a_link_end(link_network):
    g = qnet.network_from_dict(_net(link_network))
    with pytest.raises(qnet.QnetError, match="mid"):
        qnet.link_spec(g, "alice", "mid")


def test_same_node_twice(link_network):
    g = qnet.network_from_dict(_net(link_network))
    with pytest.raises(qnet.QnetError, match="alice"):
        qnet.link_spec(g, "alice", "alice")


def test_pair_without_common_station(link_network):
    """alice - mid - bob and carol - mid2: alice and carol share no station."""
    data = _net(link_network)
    data["nodes"]["carol"] = dict(data["nodes"]["bob"])
    data["nodes"]["mid2"] = {"kind": "station", "scheme": "single_click"}
    data["fibres"].append({"a": "carol", "b": "mid2", "length_km": 5.0})
    g = qnet.network_from_dict(data)
    with pytest.raises(qnet.QnetError) as info:
        qnet.link_spec(g, "alice", "carol")
    assert "alice" in str(info.value) and "carol" in str(info.value)


def test_zero_attempt_time_is_rejected(link_network):
    """No fibre length and no preparation time: T_att = 0 and rate = P/0 would be infinite."""
    _raises(link_network(length_a_km=0.0), "alice", "prep_time_s")


@pytest.mark.parametrize(
    "overrides",
    [
        # two_photon needs both photons: one node that never emits means no herald
        {"scheme": "two_photon", "alice": {"emission_efficiency": 0.0}},
        {"scheme": "single_click", "alice": {"emission_efficiency": 0.0}, "bob": {"conversion_efficiency": 0.0}},
        {"scheme": "single_click", "station": {"detector_efficiency": 0.0}},
    ],
)
def test_link_that_never_heralds(link_network, overrides):
    g = qnet.network_from_dict(link_network(**overrides))
    compiled = qnet.compile_link(qnet.link_spec(g, "alice", "bob"))
    with pytest.raises(qnet.QnetError) as info:
        qnet.run_link(compiled)
    assert "alice" in str(info.value) and "bob" in str(info.value)


@pytest.mark.parametrize("shots", [0, -5, 2.5, True, "100"])
def test_bad_shot_counts(link_network, shots):
    g = qnet.network_from_dict(_net(link_network))
    compiled = qnet.compile_link(qnet.link_spec(g, "alice", "bob"))
    with pytest.raises(qnet.QnetError, match="shots"):
        qnet.run_link(compiled, shots=shots)


# -------------------------------------------------------------------- files and --set
TOML = """
[network]
fibre_speed_km_per_s = 2.0e5

[nodes.alice]
kind = "memory"
t2_s = inf
emission_efficiency = 1.0
bright_state_population = 0.1

[nodes.bob]
kind = "memory"
t2_s = inf
emission_efficiency = 1.0
bright_state_population = 0.1

[nodes.mid]
kind = "station"
scheme = "single_click"

[[fibres]]
a = "alice"
b = "mid"
length_km = 10.0

[[fibres]]
a = "bob"
b = "mid"
length_km = 10.0
"""


def test_valid_file_and_overrides_load(tmp_path):
    """Control for the error tests below: the file itself is fine, and --set changes values."""
    path = tmp_path / "link.toml"
    path.write_text(TOML, encoding="utf-8")
    g = qnet.load_network(path, ["nodes.alice.decay=gaussian", "nodes.alice.t2_s=0.5", "fibres.bob-mid.length_km=20"])
    spec = qnet.link_spec(g, "alice", "bob")
    assert (spec.decay_a, spec.t2_a_s, spec.length_b_km) == ("gaussian", 0.5, 20.0)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(qnet.QnetError, match="nope.toml"):
        qnet.load_network(path)


def test_malformed_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TOML.replace('scheme = "single_click"', "scheme = single_click"), encoding="utf-8")
    with pytest.raises(qnet.QnetError) as info:
        qnet.load_network(path)
    assert "bad.toml" in str(info.value)
    assert "line" in str(info.value)  # where in the file


@pytest.mark.parametrize(
    "override,fragments",
    [
        ("nodes.alice.t2_s", ["nodes.alice.t2_s"]),  # no '='
        ("nodes.alice=1", ["nodes.alice=1"]),  # missing field
        ("nodes..t2_s=1", ["nodes..t2_s=1"]),
        ("links.alice.t2_s=1", ["links.alice.t2_s=1"]),  # unknown section
        ("nodes.carol.t2_s=1", ["carol"]),  # unknown node
        ("fibres.alice-carol.length_km=1", ["alice-carol"]),  # unknown fibre
        ("nodes.alice.t2_s=-1", ["nodes.alice", "t2_s", "-1"]),  # valid syntax, invalid value
        ("nodes.alice.emission_efficiency=true", ["nodes.alice", "emission_efficiency", "True"]),
        ("nodes.alice.decay=linear", ["nodes.alice", "decay", "linear"]),
        ("nodes.alice.t3_s=1", ["nodes.alice", "t3_s"]),
        ("fibres.alice-mid.length_km=-3", ["fibres.alice-mid", "length_km", "-3"]),
        ("network.fibre_speed_km_per_s=0", ["network", "fibre_speed_km_per_s", "0"]),
    ],
)
def test_bad_set_overrides(tmp_path, override, fragments):
    path = tmp_path / "link.toml"
    path.write_text(TOML, encoding="utf-8")
    with pytest.raises(qnet.QnetError) as info:
        g = qnet.load_network(path, [override])
        qnet.link_spec(g, "alice", "bob")
    for frag in fragments:
        assert frag in str(info.value), (frag, str(info.value))


# ------------------------------------------------------- names, topology, layout, nesting
@pytest.mark.parametrize("name", ["a.b", "a=b", "a,b", "a b", "a\nb", "", "x/y"])
def test_node_names_unreachable_by_set_are_refused(link_network, name):
    """A node named 'a.b' could never be reached by --set nodes.NAME.FIELD, --vary or --via."""
    data = _net(link_network)
    data["nodes"][name] = data["nodes"].pop("bob")
    data["fibres"][1]["a"] = name
    msg = _raises(data, repr(name), "letters, digits, '_' and '-'")
    assert "\n" not in msg


@pytest.mark.parametrize("name", ["a.b", "x=1", "p,q", " "])
def test_fibre_names_unreachable_by_set_are_refused(link_network, name):
    data = _net(link_network)
    data["fibres"][0]["name"] = name
    _raises(data, "fibres[0].name", repr(name), "letters, digits")


def test_valid_names_with_hyphens_underscores_and_letters_load(link_network):
    """Control: the allowed characters, including non-ASCII letters, load and are reachable by --set."""
    data = _net(link_network)
    data["nodes"]["zürich_2-b"] = data["nodes"].pop("bob")
    data["fibres"][1]["a"] = "zürich_2-b"
    g = qnet.network_from_dict(data, overrides=["fibres.zürich_2-b-mid.length_km=3"])
    assert g.edges["zürich_2-b", "mid"]["fibre"].length_km == 3.0


def test_colliding_default_fibre_names_are_refused(link_network):
    """m - s-n and m-s - n both default to 'm-s-n': refuse and ask for an explicit name."""
    data = _net(link_network)
    memory = data["nodes"]["alice"]
    data["nodes"] = {
        "m": dict(memory),
        "m-s": dict(memory),
        "s-n": {"kind": "station", "scheme": "single_click"},
        "n": {"kind": "station", "scheme": "single_click"},
    }
    data["fibres"] = [{"a": "m", "b": "s-n", "length_km": 1.0}, {"a": "m-s", "b": "n", "length_km": 1.0}]
    msg = _raises(data, "fibres.m-s-n", "fibres[0]", "fibres[1]", "unique", "name =", a="m", b="m-s")
    data["fibres"][1]["name"] = "other"  # the fix the message asks for
    g = qnet.network_from_dict(data)
    assert {f.name for _u, _v, f in g.edges(data="fibre")} == {"m-s-n", "other"}
    assert "\n" not in msg


def test_name_field_inside_a_node_table_is_refused(link_network):
    data = _net(link_network)
    data["nodes"]["alice"]["name"] = "carol"
    _raises(data, "nodes.alice.name", "'carol'", "[nodes.alice]")


@pytest.mark.parametrize("ends, kind", [(("alice", "bob"), "memory nodes"), (("mid", "mid2"), "stations")])
def test_fibre_that_no_link_can_use_is_refused(link_network, ends, kind):
    """Links are memory - station - memory: a fibre between two memories or two stations means nothing."""
    data = _net(link_network)
    data["nodes"]["mid2"] = {"kind": "station", "scheme": "single_click"}
    data["fibres"].append({"name": "odd", "a": ends[0], "b": ends[1], "length_km": 1.0})
    _raises(data, "fibres.odd", kind, ends[0], ends[1], "memory node to a station")


@pytest.mark.parametrize("field, value", [("name", 3), ("name", [1]), ("description", {"a": 1})])
def test_network_name_and_description_are_strings(link_network, field, value):
    _raises(link_network(network={field: value}), "network", field, repr(value))


@pytest.mark.parametrize(
    "layout, override",
    [
        ({"nodes": {"alice": 3}}, "nodes.alice.t2_s=1"),
        ({"nodes": [1, 2]}, "nodes.alice.t2_s=1"),
        ({"network": 5}, "network.name=x"),
        ({"fibres": [1]}, "fibres.x.length_km=1"),
        ({"fibres": {"a": 1}}, "fibres.x.length_km=1"),
    ],
)
def test_overrides_on_a_broken_layout_name_the_table(link_network, layout, override):
    """--set lands in tables only after the layout is checked (was a TypeError/AttributeError)."""
    data = {**_net(link_network), **layout}
    with pytest.raises(qnet.QnetError) as info:
        qnet.network_from_dict(data, overrides=[override])
    assert str(next(iter(layout))) in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "v = " + "[" * 600 + "]" * 600,  # tomllib itself recurses too deep
        "v = " + "{a = " * 600 + "1" + "}" * 600,
        "[" + ".".join(["a"] * 600) + "]",  # parses, but copying/validating would recurse
        "[" + ".".join(["a"] * 20) + "]",  # no recursion, still beyond the bound
    ],
)
def test_deeply_nested_files_are_refused(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(qnet.QnetError) as info:
        qnet.load_network(path)
    assert "deep.toml" in str(info.value) and "nested more than" in str(info.value)


def test_nesting_bound_also_guards_dicts(link_network):
    data = _net(link_network)
    deep: dict = {}
    for _ in range(2000):
        deep = {"x": deep}
    data["nodes"]["alice"]["t2_s"] = deep
    with pytest.raises(qnet.QnetError, match="nested more than"):
        qnet.network_from_dict(data)


def test_folder_as_network_file(tmp_path):
    with pytest.raises(qnet.QnetError, match="is a folder"):
        qnet.load_network(tmp_path)


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[nodes.zürich]\nkind = "memory"\n'.encode("latin-1"))
    with pytest.raises(qnet.QnetError, match="latin1.toml.*not valid TOML"):
        qnet.load_network(path)


@pytest.mark.parametrize(
    "path, fragments",
    [
        (("nodes", "alice", "prep_time_s"), ["nodes.alice", "prep_time_s", "1000000"]),  # finite field: too large
        (("nodes", "mid", "visibility"), ["nodes.mid", "visibility", "1000000"]),
        (("network", "fibre_speed_km_per_s"), ["network", "fibre_speed_km_per_s", "1000000"]),
        (("nodes", "alice", "memories"), ["nodes.alice", "memories", "1000000"]),
    ],
)
def test_integers_beyond_the_float_range_are_refused(link_network, path, fragments):
    """TOML integers have no size limit; float(10**400) would raise OverflowError."""
    data = link_network()
    data.setdefault("network", {})
    _raises(_set(data, path, 10**400), *fragments)


def test_integer_beyond_the_float_range_is_infinite_where_inf_is_allowed(link_network):
    g = qnet.network_from_dict(link_network(alice={"t2_s": 10**400}))
    assert g.nodes["alice"]["hardware"].t2_s == math.inf

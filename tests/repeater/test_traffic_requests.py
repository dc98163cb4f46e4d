"""The requests file: parsing, every bad input as one line naming requests[i].FIELD, checks against a network."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qnet
from qnet.errors import ConfigError, NetworkError, QnetError
from qnet.repeater.traffic.requests import REQUEST_FIELDS, Request, check_requests, read_requests, requests_from_table

METRO = "examples/metro_ion_network.toml"


def _file(tmp_path, text: str):
    path = tmp_path / "requests.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_every_field_in_file_order(tmp_path):
    path = _file(
        tmp_path,
        """
[[requests]]
a = "x"
b = "y"

[[requests]]
a = "p"
b = "q"
c = "r"
rate_hz = 3
min_fidelity = 0.9
start_s = 1
stop_s = 2.5
priority = -2
""",
    )
    first, second = read_requests(path)
    assert first == Request("x", "y")
    assert (first.c, first.rate_hz, first.min_fidelity, first.start_s, first.stop_s, first.priority) == (
        None,
        None,
        0.0,
        0.0,
        math.inf,
        0,
    )
    assert second == Request("p", "q", c="r", rate_hz=3.0, min_fidelity=0.9, start_s=1.0, stop_s=2.5, priority=-2)
    assert isinstance(second.rate_hz, float) and second.parties == ("p", "q", "r")


def test_example_file_fits_the_metro_network():
    graph = qnet.load_network(METRO)
    requests = read_requests("examples/requests/metro.toml")
    check_requests(graph, requests)
    assert 3 <= len(requests) <= 4
    assert any(r.rate_hz is not None for r in requests)
    assert any(r.stop_s < math.inf and r.start_s > 0 for r in requests)
    assert any(r.priority != 0 for r in requests)


def test_request_fields_are_the_dataclass_fields():
    import dataclasses

    assert REQUEST_FIELDS == tuple(f.name for f in dataclasses.fields(Request))


def _entry(**fields) -> str:
    fields = {"a": '"x"', "b": '"y"', **fields}
    return "[[requests]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None)


@pytest.mark.parametrize(
    "text, message",
    [
        # each message: the field, its value, what is allowed
        (
            _entry() + _entry() + _entry() + _entry(rate_hz="-1.0"),
            "requests[3].rate_hz = -1.0 is invalid: a demand > 0 pairs per second",
        ),
        (_entry(rate_hz="0"), "requests[0].rate_hz = 0 is invalid: a demand > 0"),
        (_entry(rate_hz="inf"), "requests[0].rate_hz = inf is invalid: a demand > 0"),
        (_entry(rate_hz='"fast"'), "requests[0].rate_hz = 'fast' is invalid: a demand > 0"),
        (_entry(rate_hz="true"), "requests[0].rate_hz = True is invalid"),
        (_entry(min_fidelity="1.5"), "requests[0].min_fidelity = 1.5 is invalid: a fidelity in [0, 1]"),
        (_entry(min_fidelity="nan"), "requests[0].min_fidelity = nan is invalid: a fidelity in [0, 1]"),
        (_entry(min_fidelity='"high"'), "requests[0].min_fidelity = 'high' is invalid: a fidelity in [0, 1]"),
        (_entry(start_s="-1"), "requests[0].start_s = -1 is invalid: a time >= 0 in seconds"),
        (_entry(start_s="1979-05-27"), "requests[0].start_s = datetime.date(1979, 5, 27) is invalid: a time >= 0"),
        (_entry(start_s="5", stop_s="5"), "requests[0].stop_s = 5 is invalid: a time > start_s = 5 s"),
        (_entry(stop_s='"later"'), "requests[0].stop_s = 'later' is invalid: a time > start_s = 0 s"),
        (_entry(priority="1.5"), "requests[0].priority = 1.5 is invalid: an integer"),
        (_entry(priority="true"), "requests[0].priority = True is invalid: an integer"),
        (_entry(a="3"), "requests[0].a = 3 is invalid: a memory-node name"),
        (_entry(c='""'), "requests[0].c = '' is invalid: a memory-node name"),
        (_entry(b='"x"'), "requests[0].b = 'x' is invalid: a node different from the others"),
        (_entry(c='"y"'), "requests[0].c = 'y' is invalid: a node different from the others"),
        (_entry(rate="2"), "requests[0].rate = 2 is invalid: unknown field; a request has a, b, c, rate_hz"),
        ("[[requests]]\nb = 'y'\n", "requests[0].a: missing: a request names two memory nodes a and b"),
        (_entry() + "[[requests]]\na = 'y'\n", "requests[1].b: missing"),
        ("", "no [[requests]] table"),
        ("# only a comment\n", "no [[requests]] table"),
        ("requests = []\n", "no [[requests]] table"),
        ("[requests]\na = 'x'\n", "requests = {'a': 'x'} is invalid: must be an array of tables"),
        ("requests = [1]\n", "requests[0] = 1 is invalid: must be a table"),
        (_entry() + "[network]\nname = 'x'\n", "unknown table 'network'"),
        ("[[requests]\na = 'x'", "is not valid TOML"),
        ("x = " + "[" * 20 + "]" * 20, "is refused: tables or arrays nested more than 16 levels deep"),
    ],
)
def test_bad_files_are_one_line_naming_the_field(tmp_path, text, message):
    path = _file(tmp_path, text)
    with pytest.raises(QnetError) as info:
        read_requests(path)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(QnetError, match=r"^requests file '.*nope.toml' not found$"):
        read_requests(tmp_path / "nope.toml")
    with pytest.raises(QnetError, match="is a folder, expected a TOML file"):
        read_requests(tmp_path)
    with pytest.raises(QnetError, match="expected a file name"):
        read_requests("")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"# caf\xe9\n")
    with pytest.raises(QnetError, match="latin1.toml' is not valid TOML"):
        read_requests(bad)
    with pytest.raises(QnetError, match=r"^requests file '.*empty.toml': no \[\[requests\]\] table"):
        read_requests(_file(tmp_path, "").rename(tmp_path / "empty.toml"))


def test_table_errors_are_config_errors_with_the_field():
    with pytest.raises(ConfigError) as info:
        requests_from_table({"requests": [{"a": "x", "b": "y", "min_fidelity": 2.0}]})
    assert (info.value.where, info.value.field, info.value.value) == ("requests[0]", "min_fidelity", 2.0)
    with pytest.raises(QnetError, match="^requests table: expected a table"):
        requests_from_table([])


def test_check_requests_names_the_request_and_party():
    graph = qnet.load_network(METRO)
    ok = Request("campus", "airport")
    check_requests(graph, [ok])
    with pytest.raises(NetworkError) as info:
        check_requests(graph, [ok, ok, Request("campus", "mars")])
    text = str(info.value)
    assert text.startswith("requests[2].b = 'mars' is not a node of the network; its memory nodes are ")
    assert "airport, campus, downtown, harbour, north" in text and "s_cd" not in text and "\n" not in text
    with pytest.raises(NetworkError, match=r"^requests\[0\].c = 's_ch' is a station; a request joins memory nodes$"):
        check_requests(graph, [Request("campus", "airport", c="s_ch")])
    with pytest.raises(NetworkError, match=r"^requests\[0\].a = 's_cd' is a station"):
        check_requests(graph, [Request("s_cd", "airport")])


def test_check_requests_lists_a_few_nodes_of_a_big_network():
    graph = qnet.load_network(METRO)
    for i in range(20):  # add memory nodes without links: only the listing matters here
        graph.add_node(f"m{i:02d}", hardware=graph.nodes["campus"]["hardware"])
    with pytest.raises(NetworkError) as info:
        check_requests(graph, [Request("campus", "nowhere")])
    assert str(info.value).endswith(", ... (25 in all)")


ODD = st.one_of(
    st.sampled_from(["x", "y", "z", "", "campus", "inf", "nan"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=10**400 + 1),
    st.booleans(),
    st.dates(),
    st.lists(st.integers(), max_size=2),
)


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.lists(st.dictionaries(st.sampled_from(REQUEST_FIELDS + ("rate", "name")), ODD, max_size=6), max_size=3))
def test_any_table_gives_requests_or_one_line(entries):
    """Fuzz: whatever the values, requests_from_table returns valid requests or raises one QnetError line."""
    try:
        requests = requests_from_table({"requests": entries})
    except QnetError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    for r in requests:
        assert isinstance(r.a, str) and isinstance(r.b, str) and r.start_s < r.stop_s
        assert 0 <= r.min_fidelity <= 1 and (r.rate_hz is None or 0 < r.rate_hz < math.inf)

"""Every figure of the README's Performance section is in a committed, dated benchmark record.

The rule (stated in the section itself): the section is a list, one bullet per benchmark, each
naming the command that records it (``python benchmarks/run_all.py --only NAME``); a *figure* is
a number directly followed by a unit of time, size, rate or ratio (``2.3 s``, ``0.89 ms``,
``4,900 points/s``, ``120,000 heralds/s``, ``3.8×``, ``510 MB``). Every figure of a bullet must
appear, as written, among the figures of ``benchmarks/results/NAME.json``, and the bullet must
give that record's date and core count, so a README figure that no run produced, or that a newer
run replaced, fails here. No timing is asserted: the record is what the README must match.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SECTION = "## Performance"
#: a figure: a number (thousands separated by commas, or a decimal) and a unit right after it
FIGURE = re.compile(
    r"(?<![\w.,/×-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)[ \u00a0\u202f]?"
    r"(ms|µs|us|s|MB|GB|×|[a-z]+/s)(?![\w/×])"
)
ONLY = re.compile(r"python benchmarks/run_all\.py --only (\w+)")


def figures(text: str) -> list[str]:
    """The figures of a text, normalised to 'number unit' ('3.8×' stays '3.8×')."""
    return [f"{n}{u}" if u == "×" else f"{n} {u}" for n, u in FIGURE.findall(text)]


def performance_section(readme: str) -> str:
    start = readme.index(SECTION) + len(SECTION)
    end = readme.find("\n## ", start)
    return readme[start:] if end < 0 else readme[start:end]


def bullets(section: str) -> tuple[str, list[str]]:
    """(the text outside the list, the list's bullets each as one string)."""
    outside, items = [], []
    for line in section.splitlines():
        if line.startswith("- "):
            items.append(line[2:])
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        else:
            outside.append(line)
    return "\n".join(outside), items


def stale(item: str, record: dict) -> list[str]:
    """The figures of a README bullet that its record does not hold."""
    recorded = {f for fig in record["figures"].values() for f in figures(fig["text"])}
    return [f for f in figures(item) if f not in recorded]


def load_record(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    if not path.exists():
        pytest.fail(
            f"README's Performance section cites `run_all.py --only {name}` but {path.relative_to(ROOT)} does not exist: "
            f"run `python benchmarks/run_all.py --only {name}` and commit the record"
        )
    return json.loads(path.read_text(encoding="utf-8"))


README = (ROOT / "README.md").read_text(encoding="utf-8")
OUTSIDE, BULLETS = bullets(performance_section(README))


def test_the_figure_rule_reads_the_readme_style():
    text = "takes 2.3 s (4,900 points/s), 0.89 ms a circuit, 120,000 heralds/s, 3.8× the target, peaks at 510 MB"
    assert figures(text) == ["2.3 s", "4,900 points/s", "0.89 ms", "120,000 heralds/s", "3.8×", "510 MB"]
    # scenario parameters written as words or with non-figure units are not figures
    assert figures("a 2×20 km chain, 10⁴ points, 1 % precision, a one-second cutoff, 2×10⁵ heralds, 512-link") == []
    assert figures("qnet --help 0.07 s; v1.3.1 and 2 CPUs") == ["0.07 s"]


def test_the_section_quotes_figures_only_in_benchmark_bullets():
    assert BULLETS, "the Performance section should be a list of benchmarks"
    stray = figures(OUTSIDE)
    assert not stray, (
        f"README Performance figures {stray} are outside the benchmark bullets: put each in the bullet "
        "of the benchmark that measures it (its `python benchmarks/run_all.py --only NAME`)"
    )
    for item in BULLETS:
        if figures(item):
            assert ONLY.search(item), (
                f"README Performance bullet quotes figures but names no `run_all.py --only NAME`: {item[:80]}..."
            )


@pytest.mark.parametrize("item", BULLETS, ids=lambda b: (ONLY.search(b) or [None, "no-command"])[1])
def test_every_performance_figure_is_in_its_dated_record(item):
    match = ONLY.search(item)
    if match is None or not figures(item):  # a bullet that only names its command needs no record
        return
    name = match[1]
    record = load_record(name)
    regenerate = f"python benchmarks/run_all.py --only {name}"
    missing = stale(item, record)
    assert not missing, (
        f"README Performance figures {missing} (the '{name}' bullet) are not in benchmarks/results/{name}.json "
        f"(recorded {record['date']}): stale or never measured. Rerun `{regenerate}` and copy the figures it prints "
        f"into README.md"
    )
    day = record["date"][:10]
    assert day in item and f"{record['cpu_count']} CPUs" in item, (
        f"the README's '{name}' bullet must name its run ({day}, {record['cpu_count']} CPUs) from "
        f"benchmarks/results/{name}.json; rerun `{regenerate}` or fix the bullet"
    )


def test_records_say_when_where_and_how_they_were_measured():
    paths = sorted(RESULTS.glob("*.json"))
    assert paths, "no benchmark records in benchmarks/results/"
    for path in paths:
        record = json.loads(path.read_text(encoding="utf-8"))
        for key in ("benchmark", "script", "command", "regenerate", "date", "cpu_count", "versions", "figures"):
            assert key in record, f"{path.name} lacks {key!r}"
        assert record["benchmark"] == path.stem
        assert (ROOT / record["script"]).exists(), f"{path.name}: {record['script']} does not exist"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", record["date"])
        assert {"python", "numpy", "qiskit", "qiskit_aer"} <= set(record["versions"])
        for key, fig in record["figures"].items():
            assert set(fig) == {"text", "value", "label"}, f"{path.name}: figure {key}"


def test_a_figure_its_record_lacks_is_stale():
    record = {
        "figures": {
            "x": {"text": "2.3 s", "value": 2.3, "label": ""},
            "y": {"text": "4,900 points/s", "value": 4912.0, "label": ""},
        }
    }
    item = "sweeps take 2.3 s (4,900 points/s), and 0.43 s with batch (`python benchmarks/run_all.py --only sweep`)"
    assert stale(item, record) == ["0.43 s"]
    assert stale("2.30 s or 4,900 pairs/s", record) == ["2.30 s", "4,900 pairs/s"]  # as written, unit included

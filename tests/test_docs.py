"""The documentation stays inside the repository and agrees with the code.

* Nothing in the package, the README, the examples or docs/ points outside the repository:
  no ``../shared`` or ``shared/reference`` paths, and every ``*.md`` file cited (by name, as
  in "see conventions.md", or by path) is a file the repository has. A bare name resolves the
  way a reader would look for it: any file of that name in the repository
  (``conventions.md`` -> ``docs/conventions.md``).
* Every physics number the README quotes is recomputed by ``docs/readme_numbers.py`` and must
  appear in the README at the printed precision (line breaks aside).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "build", "dist", "node_modules"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".rst", ".cfg", ".ini", ".json", ".yaml", ".yml", ""}
#: what must be checked: the package, the README, the examples and docs/
CHECKED = ("qnet", "README.md", "examples", "docs", "benchmarks")
OUTSIDE = re.compile(r"\.\./shared|shared/reference")
MD_REFERENCE = re.compile(r"(?<![\w./-])((?:\.{1,2}/)?[\w./-]*?[\w-]+\.md)\b")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")


def _repo_files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            out.append(path)
    return out


def _checked_files() -> list[Path]:
    roots = [ROOT / c for c in CHECKED]
    return [p for p in _repo_files() if p.suffix in TEXT_SUFFIXES and any(p == r or r in p.parents for r in roots)]


def _resolves(reference: str, where: Path, files: list[Path]) -> bool:
    """Whether a cited ``*.md`` (a bare name or a path) is a file of the repository."""
    if "/" not in reference:
        return any(f.name == reference for f in files)
    for base in (where.parent, ROOT):
        target = (base / reference).resolve()
        if target.is_file() and ROOT in target.parents:
            return True
    return False


def bad_references(text: str, where: Path, files: list[Path]) -> list[str]:
    """Every reference in ``text`` (the contents of file ``where``) that points outside the repository."""
    bad = [f"{where.name}: {m.group(0)!r} points outside the repository" for m in OUTSIDE.finditer(text)]
    local = URL.sub("", text)  # web addresses are not repository files
    for m in MD_REFERENCE.finditer(local):
        if not _resolves(m.group(1), where, files):
            bad.append(f"{where.name}: cites {m.group(1)!r}, which the repository does not have")
    if where.suffix == ".md":
        for m in MD_LINK.finditer(text):
            link = m.group(1).split("#")[0]
            if (
                link
                and not re.match(r"[a-z]+:", link)
                and not _resolves(link if "/" in link else "./" + link, where, files)
            ):
                bad.append(f"{where.name}: link {m.group(1)!r} does not resolve inside the repository")
    return bad


@pytest.mark.slow
def test_nothing_points_outside_the_repository():
    files = _repo_files()
    checked = _checked_files()
    assert any(p.name == "README.md" for p in checked) and any(p.suffix == ".toml" for p in checked)
    problems = []
    for path in checked:
        problems += bad_references(path.read_text(encoding="utf-8", errors="replace"), path, files)
    assert not problems, "\n".join(problems)


def test_the_reference_check_catches_what_it_should():
    files = _repo_files()
    here = ROOT / "examples" / "x.toml"
    assert bad_references("# see ../shared/reference/literature.md §2", here, files)
    assert bad_references("see shared/reference for the numbers", here, files)
    assert bad_references("defined in ``nowhere_to_be_found.md``", here, files)
    assert bad_references("see docs/missing_file.md", here, files)
    assert bad_references("[x](docs/missing_file.png)", ROOT / "README.md", files)
    # a bare name resolves the way a reader would look for it, a path relative to the file or the root
    assert not bad_references("Conventions (``conventions.md``) and literature.md §5.6", here, files)
    assert not bad_references("see docs/conventions.md and ../docs/literature.md", here, files)
    assert not bad_references("[c](conventions.md) [r](../README.md)", ROOT / "docs" / "x.md", files)
    assert not bad_references("https://example.org/notes/elsewhere.md", here, files)


def _readme_numbers():
    spec = importlib.util.spec_from_file_location("readme_numbers", ROOT / "docs" / "readme_numbers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


README_NUMBERS = _readme_numbers()


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.slow
@pytest.mark.parametrize("quote", README_NUMBERS.QUOTES, ids=lambda q: q.name)
def test_readme_quotes_the_numbers_the_code_gives(quote):
    readme = _normalised((ROOT / "README.md").read_text(encoding="utf-8"))
    missing = [f for f in quote.compute() if _normalised(f) not in readme]
    assert not missing, (
        f"README.md no longer matches the code ({quote.command}); "
        f"run `python docs/readme_numbers.py` and update it. Missing: {missing}"
    )


def test_the_readme_numbers_cover_the_link_table_and_crossing():
    names = {q.name for q in README_NUMBERS.QUOTES if q.fast}
    assert {"link table, 10 km", "link table, 101 km", "figure caption: link efficiency = 1"} <= names


def test_the_worked_pair_coherence_times_in_conventions_md():
    """docs/conventions.md section 5: T_coh solves b t^2 + a t = 1 (mixed laws, gaussian + T1)."""
    import math

    from qnet.quantum.channels import pair_coherence_time

    text = _normalised((ROOT / "docs" / "conventions.md").read_text(encoding="utf-8"))
    assert "T_coh = (√5 − 1)/2 ≈ 0.618 s" in text and "T_coh ≈ 0.593 s" in text
    mixed = pair_coherence_time((1.0, math.inf, "exponential"), (1.0, math.inf, "gaussian"))
    assert mixed == pytest.approx((math.sqrt(5.0) - 1.0) / 2.0, rel=1e-12)  # t^2 + t = 1
    with_t1 = pair_coherence_time((1.0, 2.0, "gaussian"), (1.0, 2.0, "gaussian"))
    assert with_t1 == pytest.approx((-0.5 + math.sqrt(0.25 + 8.0)) / 4.0, rel=1e-12)  # 2 t^2 + t/2 = 1
    assert f"{with_t1:.3f}" == "0.593"

"""The package's layers: a module imports only from its own layer and the layers below it.

quantum -> network -> link -> repeater -> studies -> cli (``qnet.LAYERS``), with ``errors``,
``outputs`` and ``_lazy`` beneath them all. Every ``import`` statement counts, including the
ones inside functions (qnet imports heavy modules lazily, and a lazy import across layers is
still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import qnet

PACKAGE = Path(qnet.__file__).parent
BASE = {"errors", "outputs", "_lazy"}


def _layer(module: str) -> int:
    """Rank of a dotted module name inside qnet: -1 for the base modules, else its layer's index."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in BASE:
        return -1
    return qnet.LAYERS.index(parts[1])


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _qnet_imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import (qnet uses absolute imports)"
            if node.module and node.module.split(".")[0] == "qnet":
                names = [f"{node.module}.{a.name}" if node.module.count(".") == 1 else node.module for a in node.names]
                out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "qnet"]
    return out


def layer_violations() -> list[str]:
    """Every import of a higher layer, as 'file:line: importer -> imported'."""
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if name in ("qnet", "qnet.__main__"):
            continue  # the package's lazy map and `python -m qnet` name every layer by design
        own = _layer(name)
        for line, imported in _qnet_imports(path):
            if imported == "qnet" or imported.split(".")[1] in ("LAYERS", "__version__"):
                continue
            if _layer(imported) > own:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {name} -> {imported}")
    return bad


def test_lower_layers_never_import_higher_ones():
    assert layer_violations() == []


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        parts = name.split(".")
        assert len(parts) == 1 or parts[1] in BASE | set(qnet.LAYERS) | {"__main__"}, name


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The rule can fail: a quantum-layer module importing the repeater layer is reported."""
    fake = PACKAGE / "quantum" / "_layer_probe.py"
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: iter([fake]))
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: "from qnet.repeater.swapping import swap\n")
    assert layer_violations() == ["qnet/quantum/_layer_probe.py:1: qnet.quantum._layer_probe -> qnet.repeater.swapping"]


def test_every_layer_lists_its_modules_and_its_exports_resolve():
    """Each layer's lazy __init__ names exactly its modules, and every exported name imports."""
    import importlib

    for layer in qnet.LAYERS:
        package = importlib.import_module(f"qnet.{layer}")
        folder = Path(package.__file__).parent
        modules = {f.stem for f in folder.glob("*.py")} - {"__init__"}
        modules |= {d.name for d in folder.iterdir() if (d / "__init__.py").exists()}
        assert set(package.SUBMODULES) == modules, layer
        for name, module in package.EXPORTS.items():
            assert getattr(package, name) is getattr(importlib.import_module(f"qnet.{layer}.{module}"), name)

"""The package's layers: a module imports only from its own layer and the layers below it.

quantum -> network -> link -> repeater -> studies -> cli (``qnet.LAYERS``), with ``errors``,
``outputs``, ``_lazy`` and ``_deprecation`` beneath them all. Every ``import`` statement counts, including the
ones inside functions (qnet imports heavy modules lazily, and a lazy import across layers is
still a dependency), and so does a module named in a string: ``importlib.import_module("qnet.x.y")``,
``import_module(f"qnet.x.{name}")`` or ``__import__("qnet.x")``, and any string that is exactly
the dotted name of a qnet module (``{"swap": ("qnet.repeater.swapping", ...)}`` handed to
``import_module`` later).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import qnet

PACKAGE = Path(qnet.__file__).parent
BASE = {"errors", "outputs", "_lazy", "_deprecation"}


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


_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def _dynamic_import(node: ast.Call) -> str | None:
    """The qnet module a call ``import_module(...)`` / ``__import__(...)`` names, as far as its text is fixed.

    A plain string gives the module; an f-string gives its leading constant text up to the last
    dot (``f"qnet.repeater.{x}"`` -> ``qnet.repeater``), enough to know the layer.
    """
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in _DYNAMIC_IMPORTS or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        text = arg.value
    elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        text = str(arg.values[0].value).rpartition(".")[0]
    else:
        return None
    return text if text.split(".")[0] == "qnet" and text.count(".") >= 1 else None


def _module_string(node: ast.Constant) -> str | None:
    """A string constant that is exactly the dotted name of a qnet module or package, else None."""
    text = node.value
    if not isinstance(text, str) or not re.fullmatch(r"qnet(\.[A-Za-z_]\w*)+", text):
        return None
    rel = Path(*text.split(".")[1:])
    found = (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()
    return text if found else None


def _qnet_imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and (dynamic := _dynamic_import(node)):
            out.append((node.lineno, dynamic))
        elif isinstance(node, ast.Constant) and (named := _module_string(node)):
            out.append((node.lineno, named))
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import (qnet uses absolute imports)"
            if node.module and node.module.split(".")[0] == "qnet":
                names = [f"{node.module}.{a.name}" if node.module.count(".") == 1 else node.module for a in node.names]
                out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "qnet"]
    return sorted(set(out))  # import_module("qnet.x") is one import, not a call and a string


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


@pytest.mark.parametrize(
    "source",
    [
        'import importlib\nimportlib.import_module("qnet.repeater.swapping")\n',
        'from importlib import import_module\nimport_module(f"qnet.repeater.{name}")\n',
        '__import__("qnet.repeater")\n',
        '_BUILDERS = {"swap": ("qnet.repeater.swapping", "swap_circuit")}\n',
    ],
)
def test_the_check_catches_an_upward_import_named_in_a_string(monkeypatch, source):
    """A module name in import_module / __import__ is an import too (the old aer_channels registry was one)."""
    fake = PACKAGE / "quantum" / "_layer_probe.py"
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: iter([fake]))
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    [violation] = layer_violations()
    assert violation.startswith("qnet/quantum/_layer_probe.py:") and "-> qnet.repeater" in violation


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

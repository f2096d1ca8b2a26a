"""The tree is the architecture: lrwidget's packages are layers, and DESIGN.md lists the tree.

* the layer rule: a package imports only from the packages below it (``LAYERS``, lowest
  first); every import counts, relative or absolute, at the top or inside a function;
* DESIGN.md's "Rooms" names every module of ``lrwidget/`` and nothing that is not there.

Pure and fast: the modules are parsed (``ast``), never imported.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lrwidget"

#: lowest first; ``lrwidget/__init__.py`` and ``__main__.py`` sit on top of them all
LAYERS = ("pure", "engine", "channel", "remote", "views", "integrations")
TOP = len(LAYERS)
#: names of the top package any layer may read: the package's version is data, not a layer
TOP_NAMES_ALLOWED = {"__version__"}


def _module_name(path: pathlib.Path, root: pathlib.Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _rank(dotted: str) -> int:
    """The layer of a module of lrwidget (``TOP`` for the package itself and ``__main__``)."""
    parts = dotted.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def _is_module(dotted: str, root: pathlib.Path) -> bool:
    path = root.parent / dotted.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: pathlib.Path, root: pathlib.Path) -> list[tuple[int, str, str]]:
    """(line, module imported, name taken from it or "") for each lrwidget import in ``path``."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                # `from . import wire` takes a module; `from .. import __version__` a name
                if _is_module(sub, root):
                    found.append((node.lineno, sub, ""))
                else:
                    found.append((node.lineno, target, a.name))
    return [f for f in found if f[1] == "lrwidget" or f[1].startswith("lrwidget.")]


def layer_violations(root: pathlib.Path = PACKAGE) -> list[str]:
    """Every import of a module from a layer above its own, as ``path:line: a -> b``."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        here = _module_name(path, root)
        for line, target, taken in _imports(path, root):
            if target == "lrwidget" and taken in TOP_NAMES_ALLOWED:
                continue
            if _rank(target) > _rank(here):
                what = f"{target}.{taken}" if taken else target
                bad.append(f"{path.relative_to(root.parent)}:{line}: {here} -> {what}")
    return bad


def test_each_package_imports_only_from_the_layers_below_it():
    bad = layer_violations()
    assert not bad, (
        "imports from a layer above (order: " + " < ".join(LAYERS) + "):\n" + "\n".join(bad)
    )


def test_the_layer_rule_sees_relative_absolute_and_function_imports(tmp_path):
    # a tree of real files with one violation of each kind: the rule must name all four
    pkg = tmp_path / "lrwidget"
    for sub in ("", "pure", "engine", "views", "remote"):
        (pkg / sub).mkdir(exist_ok=True)
        (pkg / sub / "__init__.py").write_text('__version__ = "0"\n' if not sub else "")
    (pkg / "views" / "widget.py").write_text("X = 1\n")
    (pkg / "pure" / "rules.py").write_text("from ..engine import finder\n")
    (pkg / "engine" / "finder.py").write_text(
        "from ..pure import rules\n"  # allowed: below
        "from .. import __version__\n"  # allowed: the version
        "def f():\n    from ..views.widget import X\n"
        "import lrwidget.views.widget\n"
    )
    (pkg / "remote" / "link.py").write_text("from lrwidget.views import widget\n")
    bad = layer_violations(pkg)
    assert len(bad) == 4, bad
    assert any("pure/rules.py:1: lrwidget.pure.rules -> lrwidget.engine.finder" in b for b in bad)
    assert any("engine/finder.py:4:" in b and "lrwidget.views.widget" in b for b in bad)
    assert any("engine/finder.py:5:" in b for b in bad)
    assert any("remote/link.py:1: lrwidget.remote.link -> lrwidget.views.widget" in b for b in bad)


def rooms(design: pathlib.Path = ROOT / "DESIGN.md") -> set[str]:
    """The files of lrwidget/ that DESIGN.md's "Rooms" tree names, as paths under lrwidget/."""
    text = design.read_text(encoding="utf-8")
    block = text.split("## Rooms", 1)[1].split("```", 2)[1]
    tree = block.split("\nlrwidget/", 1)[1].split("\njs/", 1)[0]
    names, package = set(), ""
    for line in tree.splitlines()[1:]:
        m = re.match(r"( +)(\S+)", line)
        if not m:
            continue
        indent, entry = len(m.group(1)), m.group(2)
        if indent == 2:  # a top-level module or a package
            package = entry if entry.endswith("/") else ""
            names.add(entry)
        elif indent == 4 and package:  # a package's module
            names.add(package + entry)
    return names


def test_design_rooms_list_every_module_and_only_existing_files():
    named = rooms()
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    missing = sorted(modules - named)
    assert not missing, f"modules that DESIGN.md's Rooms does not list: {missing}"
    gone = sorted(n for n in named if not (PACKAGE / n).exists())
    assert not gone, f"DESIGN.md's Rooms names files that do not exist: {gone}"

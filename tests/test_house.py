"""The house's size rules, kept by tests: no file over 500 lines, no function over 60 lines of code
(its docstring not counted: numpydoc parameters are documentation, not code), no import cycle
between lrwidget's modules. Python is parsed (``ast``); JavaScript by TypeScript's parser (node).

Each checker is tried on a small tree that breaks its rule, so a checker that sees nothing fails.
"""

from __future__ import annotations

import ast
import json
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lrwidget"
JS = ROOT / "js"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60


def _lines(path: pathlib.Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def long_files(paths: list[pathlib.Path]) -> list[str]:
    """``path: n lines`` for each file over ``MAX_FILE_LINES``."""
    return [f"{p}: {n} lines" for p in paths if (n := _lines(p)) > MAX_FILE_LINES]


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    end = fn.end_lineno or fn.lineno
    n = end - fn.lineno + 1
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):  # the docstring
            n -= (first.end_lineno or first.lineno) - first.lineno + 1
    return n


def long_python_functions(root: pathlib.Path) -> list[str]:
    """``path:line name: n lines`` for each function over ``MAX_FUNCTION_LINES`` lines of code."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node)
                if n > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno} {node.name}: {n} lines")
    return found


def _top_level_imports(path: pathlib.Path, root: pathlib.Path) -> set[str]:
    """The lrwidget modules ``path`` imports when it is imported (not under TYPE_CHECKING, not
    inside a function: those run later and cannot make a cycle at import time)."""
    rel = path.relative_to(root.parent).with_suffix("")
    package = list(rel.parts[:-1])  # a module's package, or for __init__ the package itself
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body + node.orelse + getattr(node, "finalbody", []))
                for h in getattr(node, "handlers", []):
                    visit(h.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    found.add(sub if _module_path(sub, root) else target)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if _module_path(m, root)}


def _module_path(dotted: str, root: pathlib.Path) -> pathlib.Path | None:
    if not (dotted == root.name or dotted.startswith(root.name + ".")):
        return None
    path = root.parent / dotted.replace(".", "/")
    for p in (path.with_suffix(".py"), path / "__init__.py"):
        if p.exists():
            return p
    return None


def import_cycles(root: pathlib.Path = PACKAGE) -> list[list[str]]:
    """The cycles of import-time imports between the modules under ``root`` (each once)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        graph[name] = _top_level_imports(path, root) - {name}
    cycles, seen = [], set()
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:  # back where it began (no self-imports: see above)
                    key = frozenset(trail)
                    if key not in seen:
                        seen.add(key)
                        cycles.append([*trail, start])
                elif nxt not in trail and nxt > start:  # each cycle from its smallest module
                    stack.append((nxt, [*trail, nxt]))
    # a package's __init__ importing its own modules is how packages work, not a cycle
    return [c for c in cycles if not all(c[0].startswith(m) or m.startswith(c[0]) for m in c)]


def _js_sources() -> list[pathlib.Path]:
    return sorted(p for p in JS.rglob("*.js") if "tests" not in p.relative_to(JS).parts)


JS_CHECK = r"""
import ts from "typescript";
import fs from "node:fs";
const [max, ...files] = process.argv.slice(2);
const long = [];
for (const f of files) {
  const sf = ts.createSourceFile(f, fs.readFileSync(f, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (n) => {
    if (ts.isFunctionLike(n) && n.body) {
      const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const name = n.name?.getText() ?? "(anonymous)";
      if (b - a + 1 > Number(max)) long.push(`${f}:${a + 1} ${name}: ${b - a + 1} lines`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
console.log(JSON.stringify(long));
"""


def long_js_functions(files: list[pathlib.Path]) -> list[str]:
    """``path:line name: n lines`` for each JS function over ``MAX_FUNCTION_LINES`` lines."""
    script = ROOT / "node_modules" / ".house_check.mjs"  # beside typescript, so node finds it
    script.write_text(JS_CHECK, encoding="utf-8")
    try:
        out = subprocess.run(
            ["node", str(script), str(MAX_FUNCTION_LINES), *map(str, files)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        script.unlink(missing_ok=True)
    return json.loads(out)


def test_no_python_file_over_500_lines():
    found = long_files(sorted(PACKAGE.rglob("*.py")))
    assert not found, "\n".join(map(str, found))


def test_no_python_function_over_60_lines_of_code():
    found = long_python_functions(PACKAGE)
    assert not found, "\n".join(map(str, found))


def test_no_import_cycle_between_lrwidgets_modules():
    found = import_cycles()
    assert not found, "\n".join(map(str, found))


def test_no_js_file_over_500_lines():
    found = long_files(_js_sources())
    assert not found, "\n".join(map(str, found))


needs_node = pytest.mark.skipif(
    not (shutil.which("node") and (ROOT / "node_modules" / "typescript").is_dir()),
    reason="node and npm ci's typescript (scripts/setup.sh --browser) read the JS",
)


@needs_node
def test_no_js_function_over_60_lines():
    found = long_js_functions(_js_sources())
    assert not found, "\n".join(map(str, found))


def test_the_python_checkers_see_what_breaks_the_rules(tmp_path):
    pkg = tmp_path / "lrwidget"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import b\n")
    (pkg / "a" / "__init__.py").write_text("")
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    doc = '    """' + "\n" * 30 + '    """\n'
    (pkg / "b.py").write_text(
        f"from .a import c\ndef long():\n{body}\ndef documented():\n{doc}    return 1\n"
    )
    (pkg / "a" / "c.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .. import d\n"
        "from .. import b\n"
    )
    (pkg / "d.py").write_text("from .a import c\n" + "x = 1\n" * 500)
    assert [s.split(" ", 1)[1] for s in long_python_functions(pkg)] == ["long: 62 lines"]
    assert long_files([pkg / "d.py"]) == [f"{pkg / 'd.py'}: 501 lines"]
    # b -> a.c -> b is a cycle; a.c -> d only under TYPE_CHECKING is not; the package's own
    # __init__ importing b is not
    assert import_cycles(pkg) == [["lrwidget.a.c", "lrwidget.b", "lrwidget.a.c"]]


@needs_node
def test_the_js_checker_sees_a_long_function(tmp_path):
    lines = "\n".join(f"  const x{i} = {i};" for i in range(60))
    f = tmp_path / "long.js"
    f.write_text(f"export function long() {{\n{lines}\n}}\nconst short = () => 1;\n")
    assert long_js_functions([f]) == [f"{f}:1 long: 62 lines"]


def test_the_xdist_groups_reach_xdist(request):
    """Under ``make test`` (``-n 2 --dist loadgroup``) every test conftest.py puts in a group
    carries it in its id, which is what xdist schedules by. pytest 9.2 moved the id where
    pytest-xdist 3.8 no longer writes it: the groups silently vanished (two JupyterLabs, torchrun
    jobs side by side), hence the pin in pyproject.toml and this check."""
    config = request.config
    if not (hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False)):
        pytest.skip("runs under pytest -n N --dist loadgroup (make test)")
    grouped = [i for i in request.session.items if i.get_closest_marker("xdist_group")]
    lost = [i.nodeid for i in grouped if "@" not in i.nodeid]
    assert not lost, f"{len(lost)} grouped tests without their group in the id: {lost[:3]}"

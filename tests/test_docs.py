"""The docs site (mkdocs.yml, scripts/docs_hooks.py, docs/): its links, its API pages, one place
per fact.

The whole build, ``mkdocs build --strict``, runs in ``make lint`` (``make docs``; CI runs it and
tests/test_lint.py checks that it does); here the pieces it relies on, quickly.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
pytest.importorskip("mkdocs", reason="the docs extra (pip install -e .[dev])")
griffe = pytest.importorskip("griffe", reason="the docs extra (pip install -e .[dev])")


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "scripts" / "docs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _hooks()
FIGURE = "benchmarks/results/choice_quality.png"


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        # README.md is the home page: its links into docs/ lose the folder
        ("docs/hosts.md#vs-code", "index.md", "hosts.md#vs-code"),
        ("docs/screenshot.png", "index.md", "screenshot.png"),
        ("notebooks/quickstart.ipynb", "index.md", "notebooks/quickstart.ipynb"),
        ("DESIGN.md", "index.md", "design.md"),
        # a page's links to the repository's files reach the ones the site serves
        ("../notebooks/sidebar.ipynb", "hosts.md", "notebooks/sidebar.ipynb"),
        (f"../{FIGURE}", "suggestions.md", FIGURE),
        ("../README.md#install", "install.md", "index.md#install"),
        ("../engine.md", "api/engine.md", "../engine.md"),
        ("../../DESIGN.md", "api/engine.md", "../design.md"),
        # left as they are: mkdocs reports a link to nothing, and the strict build fails
        ("../tests/test_docs.py", "hosts.md", "../tests/test_docs.py"),
        ("nowhere.md", "hosts.md", "nowhere.md"),
        ("https://anywidget.dev/en/afm/", "hosts.md", "https://anywidget.dev/en/afm/"),
        ("#colab", "hosts.md", "#colab"),
    ],
)
def test_links_written_for_github_reach_the_same_file_on_the_site(target, page, expected):
    assert hooks.site_link(target, page) == expected


def test_links_and_images_are_rewritten_and_titles_kept():
    md = '![shot](docs/screenshot.png "the widget") and [hosts](docs/hosts.md#vs-code)'
    assert hooks.rewrite_links(md, "index.md") == (
        '![shot](screenshot.png "the widget") and [hosts](hosts.md#vs-code)'
    )


@pytest.fixture(scope="module")
def package():
    loader = griffe.GriffeLoader(
        extensions=griffe.load_extensions(hooks.HouseDocstrings), search_paths=[str(REPO)]
    )
    pkg = loader.load("lrwidget")
    loader.resolve_aliases(external=False)
    return pkg


def _public_names():
    init = (REPO / "lrwidget" / "__init__.py").read_text()
    block = re.search(r"__all__ = \[(.*?)\]", init, re.S)
    assert block is not None
    return re.findall(r'"(\w+)"', block.group(1))


def test_every_public_name_resolves_with_its_docstring(package):
    # the lazy ones (LRFinderWidget, listen, ...) are found only through the extension
    for name in _public_names():
        obj = package[name]
        assert obj.docstring is not None and obj.docstring.value.strip(), name


def test_an_example_section_is_read_as_numpydoc_examples(package):
    sections = package["LRFinder.one_cycle"].docstring.parse("numpy")
    kinds = [s.kind.value for s in sections]
    assert "examples" in kinds, kinds


def test_every_public_name_has_an_api_page():
    pages = "".join(p.read_text() for p in (REPO / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"^::: lrwidget\.(\w+)", pages, re.M))
    missing = set(_public_names()) - documented
    # the loader iterators are torch-lr-finder's protocol; the rest must all be there
    assert not missing, f"public names without an API page: {sorted(missing)}"


def _paragraphs(path: pathlib.Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # code may repeat
    found = set()
    for para in re.split(r"\n\s*\n", text):
        words = " ".join(para.split())
        if len(words) > 120 and not words.startswith("|"):
            found.add(words)
    return found


def test_each_fact_in_one_place():
    # the site renders README.md and DESIGN.md themselves: a paragraph moved into docs/ must
    # leave them, and no page may repeat another's
    files = [REPO / "README.md", REPO / "DESIGN.md", *sorted((REPO / "docs").rglob("*.md"))]
    seen: dict[str, pathlib.Path] = {}
    for path in files:
        for para in _paragraphs(path):
            assert para not in seen, f"in {seen[para].name} and {path.name}: {para[:80]}..."
            seen[para] = path

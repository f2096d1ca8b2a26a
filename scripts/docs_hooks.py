"""The docs site's hooks (mkdocs.yml ``hooks:``) and its griffe extension (``extensions:``).

One source for every page: the site's home page is README.md and its Design page DESIGN.md, read
from the repository root when the site is built, never copied into docs/; the notebooks and the
benchmark figures are served from where they are. Links are written for GitHub (relative to the
file that holds them: ``docs/hosts.md`` in README.md, ``../notebooks/sidebar.ipynb`` in a page);
:func:`site_link` maps them to the site's paths, so both work and ``mkdocs build --strict`` still
fails on a link to nothing.
"""

from __future__ import annotations

import ast
import posixpath
import re
from pathlib import Path

import griffe
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent

# repository file -> the page it becomes (rendered from the repository root)
PAGES = {"README.md": "index.md", "DESIGN.md": "design.md"}
# repository files served as they are, at their repository path
SERVED = ["notebooks/*.ipynb", "benchmarks/results/*.png", "LICENSE"]

# a Markdown link or image target: ](target) or ](target "title")
_LINK = re.compile(r"\]\(([^)\s]+)((?:\s+\"[^\"]*\")?)\)")


def repo_path(src_uri: str) -> str:
    """The repository path of the site file at ``src_uri``."""
    pages = {page: repo for repo, page in PAGES.items()}
    if src_uri in pages:
        return pages[src_uri]
    if any(Path(src_uri).match(glob) for glob in SERVED):
        return src_uri
    return f"docs/{src_uri}"


def site_path(repo: str) -> str | None:
    """The site's path of repository file ``repo``, None when the site has no such file."""
    if repo in PAGES:
        return PAGES[repo]
    if repo.startswith("docs/"):
        return repo[len("docs/") :]
    if any(Path(repo).match(glob) for glob in SERVED) and (ROOT / repo).is_file():
        return repo
    return None


def site_link(target: str, src_uri: str) -> str:
    """``target``, a link in the site file at ``src_uri`` written relative to its repository
    file, relative to that page on the site instead.

    Web addresses, anchors and links to files the site does not have are returned as they are
    (mkdocs then reports the latter).

    Example
    -------
    >>> site_link("docs/hosts.md#vs-code", "index.md")
    'hosts.md#vs-code'
    >>> site_link("../notebooks/sidebar.ipynb", "hosts.md")
    'notebooks/sidebar.ipynb'
    >>> site_link("../DESIGN.md", "api/finder.md")
    '../design.md'
    >>> site_link("https://anywidget.dev/en/afm/", "hosts.md")
    'https://anywidget.dev/en/afm/'
    """
    path, hash_, anchor = target.partition("#")
    if not path or re.match(r"^[a-z][a-z0-9+.-]*:", path):
        return target
    page_repo = repo_path(src_uri)
    repo = posixpath.normpath(posixpath.join(posixpath.dirname(page_repo), path))
    site = site_path(repo)
    if site is None:
        return target
    return posixpath.relpath(site, posixpath.dirname(src_uri) or ".") + hash_ + anchor


def rewrite_links(markdown: str, src_uri: str) -> str:
    """Every Markdown link and image of the page at ``src_uri`` pointed at the site's files."""
    return _LINK.sub(lambda m: f"]({site_link(m.group(1), src_uri)}{m.group(2)})", markdown)


# ---------------------------------------------------------------- mkdocs hooks


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns the notebooks into pages
def on_files(files: Files, config) -> Files:
    for repo, page in PAGES.items():
        files.append(File.generated(config, page, abs_src_path=str(ROOT / repo)))
    for glob in SERVED:
        for path in sorted(ROOT.glob(glob)):
            # a plain File, not File.generated: mkdocs-jupyter's wrapper of a notebook's File
            # finds the source only through src_dir
            rel = path.relative_to(ROOT).as_posix()
            files.append(File(rel, str(ROOT), config.site_dir, config.use_directory_urls))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return rewrite_links(markdown, page.file.src_uri)


# ---------------------------------------------------------------- griffe extension


# the house writes numpydoc's "Examples" section as "Example"; griffe knows only the plural
_EXAMPLE = re.compile(r"^Example\n-------$", re.M)
# Sphinx roles (:meth:`apply`, :class:`~lrwidget.LRFinder`), which Markdown would show as written
_ROLE = re.compile(r":(?:meth|attr|class|func|mod|data|exc|obj):`~?([^`]+)`")


class HouseDocstrings(griffe.Extension):
    """lrwidget as the API pages show it: under its public names, its docstrings parsed as
    written.

    - ``lrwidget.LRFinderWidget`` and the other names lrwidget imports on first use (its
      ``_LAZY`` table, PEP 562) become aliases of their definitions, so that a page names the
      public ``lrwidget.X`` wherever its module lives: griffe reads the package without
      importing it, and would not find them.
    - An ``Example`` section is read as numpydoc's ``Examples``: its doctests are shown as code
      (and not as Markdown, where ``opt.param_groups[0]["lr"]`` is a broken reference); a
      Sphinx role (``:meth:`apply```) is shown as code.
    """

    def on_package(self, *, pkg: griffe.Module, **kwargs: object) -> None:
        if pkg.name != "lrwidget":
            return
        _examples_as_numpydoc(pkg)
        table = pkg.members["_LAZY"]
        assert isinstance(table, griffe.Attribute)
        for name, module in ast.literal_eval(str(table.value)).items():
            pkg.set_member(name, griffe.Alias(name, f"lrwidget.{module}.{name}", parent=pkg))


def _examples_as_numpydoc(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        value = _EXAMPLE.sub("Examples\n--------", obj.docstring.value)
        obj.docstring.value = _ROLE.sub(r"`\1`", value)
    for member in obj.members.values():
        if not member.is_alias:
            _examples_as_numpydoc(member)  # type: ignore[arg-type]

"""Static exports of a finished range test.

* ``jupyter nbconvert --to html`` of a notebook executed headless WITHOUT stored widget state (as
  JupyterLab saves by default) shows the widget's static fallback: the curve as inline SVG and
  the one-line summary.
* ``lrwidget.views.report.save_html`` writes a self-contained page (no http(s) resources) with the
  curve, every suggestion with its reason and the chosen lr. (Opening it in Chromium with the
  network blocked: tests/browser/test_report_offline.py.)
"""

from __future__ import annotations

import base64
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from lrwidget import LRFinder
from lrwidget.views.report import format_lr, save_html
from tests.digits import digits_sgd
from tests.kernel_code import DIGITS_DATA, digits_setup

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_the_kernels_digits_are_scikit_learns():
    # the kernels read the file without importing sklearn (tests/kernel_code.py)
    from sklearn.datasets import load_digits

    got: dict = {}
    exec(DIGITS_DATA, got)
    X, y = load_digits(return_X_y=True)
    assert got["X"].dtype == X.dtype and (got["X"] == X).all()
    assert got["y"].dtype == y.dtype and (got["y"] == y).all()


CELLS = [
    digits_setup(sleep=0.0, title="export"),
    """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=60)
result = widget.wait(120)
print("READINGS", len(result), result.stop_reason)""",
]


def _artifacts() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("LRW_ARTIFACTS", REPO / "artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_nbconvert_html_shows_the_static_fallback(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    env_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path  # the kernel imports this checkout's lrwidget
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    assert "widgets" not in nb.metadata or not nb.metadata["widgets"], "widget state was stored"
    m = re.search(
        r"READINGS (\d+) (\w+)",
        "".join(o.get("text", "") for o in nb.cells[1].outputs if o.get("output_type") == "stream"),
    )
    assert m, nb.cells[1].outputs
    n, reason = int(m.group(1)), m.group(2)
    # the saved display output was refreshed at the end of the run: it holds the final curve
    shown = [o for o in nb.cells[1].outputs if o.get("output_type") == "display_data"]
    assert len(shown) == 1, shown
    assert "image/svg+xml" in shown[0]["data"], list(shown[0]["data"])

    src = tmp_path / "executed.ipynb"
    nbformat.write(nb, str(src))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nbconvert",
            "--to",
            "html",
            str(src),
            "--output-dir",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    html = (tmp_path / "executed.html").read_text(encoding="utf-8")
    shutil.copy(tmp_path / "executed.html", _artifacts() / "nbconvert_export.html")
    summary = shown[0]["data"]["text/plain"]
    summary = summary if isinstance(summary, str) else "".join(summary)
    word = {"completed": "done", "diverged": "diverged", "stopped": "stopped"}[reason]
    assert summary.startswith(f"LR range test {word}: {n}/60 readings"), summary

    # the curve: an SVG inline or as a data: image (nbconvert 7 writes <img src="data:...">)
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    svgs += [
        base64.b64decode(b).decode("utf-8", "replace")
        for b in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    ]
    curves = [x for x in svgs if "<polyline" in x and "learning rate" in x]
    assert curves, f"no SVG of the curve in the nbconvert HTML ({len(svgs)} svg)"
    pts = re.findall(r'points="([^"]+)"', curves[0])
    assert max(len(p.split()) for p in pts) >= n // 2, "the curve in the export is truncated"
    # the one-line summary, visible: as page text, or as <text> in the curve's SVG
    page_text = _visible_text(html)
    svg_text = " ".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", curves[0]))
    if not (summary in page_text or _unescape(summary) in _unescape(svg_text)):
        pytest.fail(
            f"the summary line {summary!r} is not shown in the nbconvert HTML (nbconvert shows one "
            f"representation per output, here the SVG, whose text is {svg_text[:300]!r})",
            pytrace=False,
        )


def _unescape(s: str) -> str:
    import html

    return html.unescape(s)


def _visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return _unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return run_and_report(tmp_path_factory.mktemp("report") / "report.html")


def run_and_report(path):
    """A real range test on the digits data, with a chosen (applied) lr."""
    model, opt, loader = digits_sgd()
    finder = LRFinder(model, opt, torch.nn.CrossEntropyLoss())
    result = finder.range_test(loader, start_lr=1e-5, end_lr=10, num_iter=80)
    chosen = float(result.lrs[len(result) // 3])
    finder.apply(chosen)
    save_html(result, path, applied_lr=chosen)
    return result, chosen, path


def test_report_is_self_contained(finished):
    result, chosen, path = finished
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # nothing fetched: no script / style / image / font / iframe from anywhere
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page, flags=re.I)
    refs = re.findall(
        r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?([^"')]+)""", page, flags=re.I
    )
    refs = [r for r in (a or b for a, b in refs) if not r.startswith(("#", "data:"))]
    assert not refs, f"the report refers to outside resources: {refs}"
    urls = re.findall(r"https?://[^\s\"'<>)]+", page)
    assert all(u.startswith("http://www.w3.org/") for u in urls), urls  # xmlns only
    assert "<svg" in page and "<polyline" in page
    # the suggestions with their reasons, and the chosen lr
    assert result.suggestions, "the range test produced no suggestions"
    for name, s in result.suggestions.items():
        assert name in page, name
        assert s.reason and _html_text(s.reason) in page, (name, s.reason)
        if s.lr is not None:
            assert format_lr(s.lr) in page, (name, s.lr)
    assert re.search(
        rf"Chosen learning rate: <b>{re.escape(format_lr(chosen))} \(applied\)", page
    ), "the chosen lr is not shown"


def _html_text(s: str) -> str:
    import html

    return html.escape(s, quote=True)

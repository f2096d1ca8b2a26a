"""Saved notebooks (issue 13): the curve is in the saved widget state, so it shows where no kernel
is behind the widget.

* ``jupyter nbconvert --execute`` with its defaults (widget state stored), then ``--to html``: the
  page, opened in Chromium with nothing from the internet (nbconvert's page loads require.js,
  @jupyter-widgets/html-manager and anywidget from CDNs: those requests are answered with the
  local copies, ``npm ci``'s and the kernel environment's, every other one fails), draws the
  whole curve from the state. Exported without widget state, with JavaScript off, the page shows
  the static picture.
* JupyterLab, "save widget state" on: run, save, close, open again with a fresh kernel (which has
  none of the widgets): the view draws the saved run. The nbconvert-executed notebook opened in
  JupyterLab is untrusted: the static picture shows (not the SVG's text stripped of its tags) until
  it is trusted, then the widget from the state.

Screenshots: artifacts/saved_state_*.png.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest

from lrwidget.channel.protocol import decode_saved_readings
from tests.browser import stable
from tests.browser.conftest import PANEL, REPO, _need
from tests.browser.stable import into_view
from tests.kernel_code import digits_setup

NUM_ITER = 300
RUN = f"""\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter={NUM_ITER})
result = widget.wait(120)
print("READINGS", len(result), result.stop_reason)"""
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

NODE_MODULES = REPO / "node_modules"
#: what nbconvert's HTML page fetches to show widgets -> the local file answering it
LOCAL_SCRIPTS = {
    r"/require(\.min)?\.js$": NODE_MODULES / "requirejs" / "require.js",
    r"/@jupyter-widgets/html-manager@[^/]*/dist/embed-amd\.js$": (
        NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js"
    ),
    r"/anywidget@[^/]*/dist/index\.js$": (
        pathlib.Path(sys.prefix) / "share" / "jupyter" / "nbextensions" / "anywidget" / "index.js"
    ),
}


def _readings_printed(nb) -> tuple[int, str]:
    text = "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name")
    )
    m = re.search(r"READINGS (\d+) (\w+)", text)
    assert m, text
    return int(m.group(1)), m.group(2)


def _saved_run(nb) -> tuple[dict, bytes]:
    """The lrwidget model's saved state and its saved_readings bytes."""
    import base64

    models = nb.metadata["widgets"][WIDGET_STATE]["state"]
    (ours,) = [m for m in models.values() if m["state"].get("title") == "saved"]
    (buf,) = [b for b in ours.get("buffers", []) if b["path"] == ["saved_readings"]]
    return ours, base64.b64decode(buf["data"])


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A notebook run by ``jupyter nbconvert --execute`` (defaults: widget state stored), and its
    HTML exports with and without the widget state."""
    d = tmp_path_factory.mktemp("saved_nb")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in (digits_setup(0.0, "saved"), RUN)]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(d / "saved.ipynb"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))

    def nbconvert(*args):
        subprocess.run(
            [sys.executable, "-m", "nbconvert", *args],
            cwd=d,
            env=env,
            check=True,
            capture_output=True,
            timeout=240,
        )

    nbconvert("--to", "notebook", "--execute", "--output", "executed.ipynb", "saved.ipynb")
    out = nbformat.read(str(d / "executed.ipynb"), 4)
    bare = nbformat.read(str(d / "executed.ipynb"), 4)
    bare.metadata.pop("widgets")  # as JupyterLab saves by default
    nbformat.write(bare, str(d / "nostate.ipynb"))
    nbconvert("--to", "html", "executed.ipynb", "nostate.ipynb")  # one process for both
    n, reason = _readings_printed(out)
    return {"dir": d, "nb": out, "n": n, "reason": reason}


def test_executed_notebook_keeps_the_readings_compactly(executed):
    n = executed["n"]
    ours, blob = _saved_run(executed["nb"])
    _, lrs, losses, _ = decode_saved_readings(blob)
    assert len(lrs) == len(losses) == n == ours["state"]["step"]
    entry = len(json.dumps(ours, separators=(",", ":")))
    ours["buffers"] = [b for b in ours["buffers"] if b["path"] != ["saved_readings"]]
    per_reading = (entry - len(json.dumps(ours, separators=(",", ":")))) / n
    print(f"saved state: {per_reading:.1f} bytes per reading ({n} readings)")
    assert per_reading <= 30, per_reading


def _offline_context(browser, **kw):
    """A context where the widget scripts come from local files and nothing else from outside."""
    for path in LOCAL_SCRIPTS.values():
        _need(str(path), path.exists(), "npm ci (node_modules) and pip install anywidget")
    served, refused = [], []

    def answer(route):
        url = route.request.url
        for pattern, path in LOCAL_SCRIPTS.items():
            if re.search(pattern, url):
                served.append(url)
                return route.fulfill(path=str(path), content_type="application/javascript")
        refused.append(url)
        return route.abort()

    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, **kw)
    ctx.route(re.compile(r"^(?!file:).*"), answer)
    return ctx, served, refused


CURVE_COLUMNS = """(root) => {
  // Columns of the canvas holding the curve's blue (the light theme's accent): the curve drawn.
  const c = root.querySelector("canvas.lrw-canvas");
  const { width, height } = c;
  const px = c.getContext("2d").getImageData(0, 0, width, height).data;
  let cols = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const i = (y * width + x) * 4;
      if (px[i + 3] > 200 && px[i + 2] > 180 && px[i + 2] - px[i] > 100) { cols++; break; }
    }
  }
  return { cols, width };
}"""


@pytest.mark.parametrize("dpr", [1, 2])
def test_nbconvert_html_with_state_draws_the_curve(browser, executed, artifacts, dpr):
    n = executed["n"]
    ctx, served, refused = _offline_context(browser, device_scale_factor=dpr)
    errors = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((executed["dir"] / "executed.html").as_uri())
        root = page.locator(".lrw-root").first
        try:
            page.wait_for_function(
                "n => { const r = document.querySelector('.lrw-root');"
                " return !!r && Number(r.dataset.readings) === n; }",
                arg=n,
                timeout=30_000,
            )
        finally:
            shot = artifacts / f"saved_state_nbconvert_{dpr}x.png"
            page.screenshot(path=str(shot), full_page=True)
        status = root.locator(".lrw-status-text").inner_text()
        curve = root.evaluate(CURVE_COLUMNS)
    finally:
        ctx.close()
    assert len(served) == 3, (served, refused)  # require.js, the html manager, anywidget
    assert not errors, errors
    word = {"completed": "Done", "diverged": "Diverged"}[executed["reason"]]
    assert status.startswith(word), status
    assert f"{n} steps" in status or f"step {n}/{NUM_ITER}" in status, status
    # the curve spans the plot: blue in most columns of the canvas
    assert curve["cols"] > 0.5 * curve["width"], curve


def test_nbconvert_html_without_state_shows_the_picture_with_js_off(browser, executed, artifacts):
    ctx, _, refused = _offline_context(browser, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto((executed["dir"] / "nostate.html").as_uri())
        page.wait_for_load_state("load")
        picture = page.locator(".lrwidget-static img").first
        box = stable.box(picture)
        loaded = picture.evaluate("i => i.complete && i.naturalWidth")
        text = page.locator(".lrwidget-static").first.inner_text()
        page.screenshot(path=str(artifacts / "saved_state_nostate_nojs.png"), full_page=True)
    finally:
        ctx.close()
    assert box and box["width"] > 300 and box["height"] > 150, box
    assert loaded and loaded > 300, loaded
    assert f"{executed['n']}/{NUM_ITER} readings" in text, text
    assert not refused, refused


# ------------------------------------------------------------------ JupyterLab
SAVE_STATE = "@jupyter-widgets/jupyterlab-manager:plugin"


def _lab_setting(jupyter, plugin: str, raw: dict) -> None:
    req = urllib.request.Request(
        f"{jupyter.url}/lab/api/settings/{plugin}?token={jupyter.token}",
        data=json.dumps({"raw": json.dumps(raw)}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30):
        pass


def _view_of_saved_run(nb, n: int, shot, name: str):
    """Wait until the notebook's first lrwidget view shows n readings; return its status text."""
    try:
        nb.page.wait_for_function(
            "([sel, n]) => { const r = document.querySelector(sel);"
            " return !!r && Number(r.dataset.readings) === n; }",
            arg=[f"{PANEL} .lrw-root", n],
            timeout=30_000,
        )
        root = nb.widget()
        into_view(root)
        return root.locator(".lrw-status-text").inner_text(), root.evaluate(CURVE_COLUMNS)
    finally:
        shot(nb.page, name)


def test_lab_saved_widget_state_draws_after_reopening(jupyter, open_notebook, shot):
    name = "saved_lab.ipynb"
    jupyter.write_notebook(name, [digits_setup(0.0, "saved"), RUN])
    _lab_setting(jupyter, SAVE_STATE, {"saveState": True})
    try:
        nb = open_notebook(name, fresh=True)  # an app that loads the setting
        assert "SETUP OK" in nb.run(0)
        out = nb.run(1, timeout=120)
        n = int(re.search(r"READINGS (\d+)", out).group(1))
        nb.wait_status(["done", "diverged"])
        nb.page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
        path = jupyter.root / name
        deadline = time.time() + 30
        while "saved_readings" not in path.read_text() and time.time() < deadline:
            time.sleep(0.25)
        saved = nbformat.read(str(path), 4)
        _, blob = _saved_run(saved)
        assert len(decode_saved_readings(blob)[1]) == n
        nb.page.close()  # the notebook's tab closed
        jupyter.shutdown_kernels()

        again = open_notebook(name, fresh=True)  # a fresh kernel: none of the widgets are in it
        status, curve = _view_of_saved_run(again, n, shot, "saved_state_lab_reopened")
    finally:
        _lab_setting(jupyter, SAVE_STATE, {})
    assert f"{n}" in status, status
    assert curve["cols"] > 0.5 * curve["width"], curve


def test_lab_shows_an_nbconvert_executed_notebook(jupyter, open_notebook, executed, shot):
    name = "saved_executed.ipynb"
    n = executed["n"]
    (jupyter.root / name).write_text((executed["dir"] / "executed.ipynb").read_text())
    nb = open_notebook(name)
    # not trusted (nbconvert does not sign): JupyterLab shows the sanitized text/html, which must
    # be the picture, not the text of an SVG whose tags were stripped
    picture = nb.cell(1).locator(".lrwidget-static img").first
    picture.wait_for(timeout=30_000)
    loaded = picture.evaluate("i => i.complete && i.naturalWidth")
    text = nb.output(1)
    shot(nb.page, "saved_state_lab_untrusted")
    assert loaded and loaded > 300, loaded
    assert "10⁻⁵" not in text and "learning rate (log scale)" not in text, text
    nb.page.evaluate("() => { window.jupyterapp.commands.execute('notebook:trust'); }")
    nb.page.locator(".jp-Dialog .jp-mod-accept").click()
    status, curve = _view_of_saved_run(nb, n, shot, "saved_state_lab_trusted")
    assert f"{n}" in status, status
    assert curve["cols"] > 0.5 * curve["width"], curve

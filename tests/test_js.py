"""The front end's own checks, run from pytest: the node:test unit tests of the pure JS modules,
and a rebuild of the bundle that must equal the committed lrwidget/views/static/widget.js (a stale
bundle fails)."""

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"

needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed (scripts/setup.sh --browser)"
)


@needs_node
def test_js_unit_tests_pass():
    proc = subprocess.run(
        [NODE, "--test", "js/tests/"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # node --test prints "# pass N": make sure tests actually ran.
    passed = [line for line in proc.stdout.splitlines() if line.startswith("# pass")]
    assert passed and int(passed[0].split()[-1]) >= 30, proc.stdout[-2000:]


def _build_args():
    """The esbuild arguments of `npm run build`, from package.json, without the --outfile."""
    script = json.loads((ROOT / "package.json").read_text())["scripts"]["build"]
    esbuild_part = script.split("&&")[0]
    args = shlex.split(esbuild_part)
    assert args[0] == "esbuild", script
    return [a for a in args[1:] if not a.startswith("--outfile")]


@needs_node
@pytest.mark.skipif(not ESBUILD.exists(), reason="esbuild is not installed (npm ci)")
def test_committed_bundle_is_up_to_date(tmp_path):
    out = tmp_path / "widget.js"
    proc = subprocess.run(
        [str(ESBUILD), *_build_args(), f"--outfile={out}", "--log-level=warning"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    committed = ROOT / "lrwidget" / "views" / "static" / "widget.js"
    assert committed.exists(), "run `npm run build`"
    assert out.read_text() == committed.read_text(), (
        "lrwidget/views/static/widget.js is stale: run `npm run build`"
    )
    css_src = (ROOT / "js" / "widget.css").read_text()
    assert (ROOT / "lrwidget" / "views" / "static" / "widget.css").read_text() == css_src, (
        "lrwidget/views/static/widget.css is stale: run `npm run build`"
    )


def test_bundle_exports_render():
    bundle = (ROOT / "lrwidget" / "views" / "static" / "widget.js").read_text()
    assert "export {" in bundle and "render" in bundle
    assert "widget_default as default" in bundle

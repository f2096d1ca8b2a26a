"""A VS Code-like notebook host for the browser tests (``tests/browser/vscode_www/``).

VS Code cannot run here, so the tests build the part of it that shows a widget: its own
widget-manager bundle (``@vscode/jupyter-ipywidgets8``, from ``npm ci``) on a real kernel, in a
page with VS Code's theme variables and body classes and the ``cell-output-ipywidget-background``
output container. Nothing is fetched: the page, the bundled harness, require.js and anywidget's
nbextension (from this environment, where VS Code looks for it too) are served by a Jupyter
Server on 127.0.0.1 with a token, which also runs the kernel.

Not reproduced (docs/hosts.md, "VS Code"): the extension host's relay of kernel messages through
postMessage, the webview's content security policy, theme values other than the two themes
written into ``index.html``, and VS Code itself.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

from tests.browser.conftest import REPO, _free_port
from tests.browser.hosts import ServerProcess, fresh_env

WWW_SRC = pathlib.Path(__file__).resolve().parent / "vscode_www"
BUNDLE = REPO / "node_modules" / "@vscode" / "jupyter-ipywidgets8" / "dist" / "ipywidgets.js"
ESBUILD = REPO / "node_modules" / ".bin" / "esbuild"
REQUIREJS = REPO / "node_modules" / "requirejs" / "require.js"


def missing() -> str | None:
    """What the host needs and lacks (None when it can be built)."""
    for p in (BUNDLE, ESBUILD, REQUIREJS):
        if not p.exists():
            return f"{p.relative_to(REPO)} (run `npm ci`)"
    if _anywidget_nbextension() is None:
        return "anywidget's nbextension in share/jupyter/nbextensions (pip install anywidget)"
    return None


def _anywidget_nbextension() -> pathlib.Path | None:
    from jupyter_core.paths import jupyter_path

    for d in jupyter_path("nbextensions"):
        p = pathlib.Path(d) / "anywidget" / "index.js"
        if p.exists():
            return p.parent
    return None


def build_www(dest: pathlib.Path) -> pathlib.Path:
    """The page, the harness bundled with esbuild, require.js and anywidget's nbextension."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(WWW_SRC / "index.html", dest / "index.html")
    shutil.copy(REQUIREJS, dest / "require.js")
    shutil.copytree(_anywidget_nbextension(), dest / "nbextensions" / "anywidget")
    r = subprocess.run(
        [
            str(ESBUILD),
            str(WWW_SRC / "harness.js"),
            "--bundle",
            "--format=esm",
            "--platform=browser",
            "--log-level=error",
            f"--outfile={dest / 'harness.js'}",
        ],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode:
        raise RuntimeError(f"esbuild could not bundle the VS Code harness:\n{r.stderr[-3000:]}")
    return dest


class VSCodeServer:
    """Jupyter Server (kernels, websocket, the page as static files) with fresh dirs."""

    def __init__(self, root: pathlib.Path):
        self.www = build_www(root / "www")
        self.token = "lrwvscode"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        nbdir = root / "nb"
        nbdir.mkdir()
        cmd = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={nbdir}",
            f"--ServerApp.extra_static_paths=['{self.www}']",
            "--ServerApp.disable_check_xsrf=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.server = ServerProcess(
            cmd,
            fresh_env(root),
            nbdir,
            root / "server.log",
            f"{self.url}/api/status?token={self.token}",
        )

    def page_url(self, theme: str, container: str) -> str:
        return (
            f"{self.url}/static/index.html?token={self.token}&theme={theme}&container={container}"
        )

    def log(self) -> str:
        return self.server.log()

    def stop(self) -> None:
        self.server.stop()


class VSCodePage:
    """One webview: its own kernel, cells run with ``exec``; theme switched like VS Code does."""

    def __init__(self, page, server: VSCodeServer, theme: str, container: str):
        self.page = page
        self.console: list = []
        page.on("console", lambda m: self.console.append(f"[{m.type}] {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"[pageerror] {e}"))
        page.goto(server.page_url(theme, container))
        page.wait_for_function("() => document.body.dataset.ready", timeout=60_000)
        ready = page.evaluate("document.body.dataset.ready")
        if ready != "1":
            raise RuntimeError(f"the VS Code-like host did not start: {self.console[-10:]}")

    def exec(self, code: str) -> str:
        """Run ``code`` in the kernel like a cell; returns its text output, raises on an error."""
        r = self.page.evaluate("c => harness.exec(c)", code)
        if r["status"] != "ok":
            raise AssertionError(f"cell failed: {r['text'][-3000:]}")
        return r["text"]

    def set_theme(self, kind: str) -> None:
        self.page.evaluate("k => window.setVSCodeTheme(k)", kind)

    def widget(self):
        return self.page.locator(".cell-output-ipywidget-background .lrw-root").first

    def shutdown_kernel(self) -> None:
        self.page.evaluate("() => harness.kernel.shutdown()")

"""Real-browser fixtures: JupyterLab 4 (which also serves Notebook 7) + headless Chromium.

Every test here is marked ``browser`` (by ../conftest.py, which also puts them in
the xdist group "browser"). Without Debian's ``chromium`` the tests skip, except
under CI (``CI=true``), where a missing browser is a failure.

Fixtures
--------
jupyter        a running server (session scope: one for every browser test): ``.url``,
               ``.token``, ``.root`` (the notebook dir, fresh), ``.url_for(name, ui="lab" |
               "notebook")``, ``.write_notebook(name, cells)``, ``.kernel_eval(expr, name=None)``,
               ``.kernel_id(name)``, ``.shutdown_kernels(wait=True)``, ``.log()``; stopped by PID
               afterwards
browser        a Playwright Chromium (session scope)
lab_profile    a persistent Chromium profile (session scope) whose caches every test's first
               notebook page shares
lab_tabs       the JupyterLab tab of each server, kept from test to test (session scope)
open_notebook  ``open_notebook(name, ui="lab", theme=None, viewport=(1280, 1000), fresh=False)``
               -> NotebookPage (the test's first lab notebook in the kept tab, emptied; with
               ``fresh`` (a test that changed the server's lab settings, which a loaded app does
               not read again) or a first Notebook 7 page: a new page in ``lab_profile``, closed
               afterwards; a later page in a fresh context); afterwards the kept tab is
               emptied (closed if its test failed), the other pages and contexts are closed, and
               every kernel is shut down
digits_setup   ``digits_setup(sleep=0.05, title="digits MLP, SGD", gate=None)`` -> the source of a
               cell that builds ``model``, ``optimizer``, ``loader``, ``step`` (sleeps ``sleep`` s
               per step; with ``gate``, a path, waits on that gate), ``finder`` and ``widget`` on
               the digits data (the widget is not displayed)
gate           a ``tests.browser.gate.Gate`` for one run's steps (in the test's tmp_path): the run
               holds after a few steps until the test lets more through (``more``) or opens it
               (``open``); a test waits for what it checks instead of sleeping through a slowed run
shot           ``shot(page, name)`` saves ``artifacts/<name>.png`` and returns the path
artifacts      the artifacts folder (``LRW_ARTIFACTS`` or ``<repo>/artifacts``; gitignored)

NotebookPage: ``run(i, timeout=120)`` runs cell i (robust to a lost first key press) and
returns its output text, ``run_all()``, ``output(i)``, ``cell(i)``, ``widget(i=None)`` (the
``.lrw-root`` locator, optionally inside cell i), ``attr(locator, name)``, ``set_theme(name)``,
``wait_idle()``, ``wait_status(statuses, index=0)``, ``readings(index=0)``, ``page``; for the
one view of a notebook: ``watch_it_grow(root, gate)`` (it runs and its readings grow:
``tests.browser.gate.watch_it_grow`` for any host's view),
``wait_ended(readings)`` (the re-rendered view once its test ended), ``select_on_plot(root, x)``
and ``apply(root)`` (a click on the curve, then Apply, each waited for).

Pitfalls met here (see ../shared/reference/README.md): fresh config / workspace dirs and
``?reset`` or old tabs come back; selectors scoped to the visible notebook panel; the first
Shift+Enter can be lost while the page settles; read outputs from the output area, not the
cell source.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterable

import pytest

from tests.browser.gate import Gate, watch_it_grow
from tests.kernel_code import digits_setup as _digits_setup

from .stable import into_view

REPO = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(what: str, ok: bool, hint: str):
    if ok:
        return
    if _in_ci():
        pytest.fail(f"{what} is missing under CI: {hint}", pytrace=False)
    pytest.skip(f"{what} not available ({hint})")


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("LRW_ARTIFACTS", REPO / "artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def shot(artifacts):
    def take(page, name: str, **kw) -> pathlib.Path:
        p = artifacts / f"{name}.png"
        page.screenshot(path=str(p), **kw)
        return p

    return take


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class JupyterServer:
    """One JupyterLab server process with its own dirs (lab UI and Notebook 7 UI)."""

    def __init__(self, root: pathlib.Path, theme: str | None = None):
        self.root = root / "nb"
        self.root.mkdir()
        self.home = root
        self.token = "lrwtest"
        self._shutting_down: list[threading.Thread] = []
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
            env[k] = str(root / k.lower())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env.setdefault("OMP_NUM_THREADS", "1")  # the machine is shared
        self.runtime = pathlib.Path(env["JUPYTER_RUNTIME_DIR"])
        settings = root / "settings"
        # no "get Jupyter news?" toast over the screenshots, no update check (offline)
        d = settings / "@jupyterlab" / "apputils-extension"
        d.mkdir(parents=True)
        (d / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        if theme:
            (d / "themes.jupyterlab-settings").write_text(
                json.dumps({"theme": THEMES.get(theme, theme)})
            )
        self.log_path = root / "jupyter.log"
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={root}/ws",
            f"--LabApp.user_settings_dir={settings}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.disable_check_xsrf=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(self.root)
        )
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=1)
                break
            except Exception as e:
                if self.proc.poll() is not None or time.time() - t0 > 90:
                    self.stop()
                    raise RuntimeError(f"JupyterLab did not start:\n{self.log()[-3000:]}") from e
                time.sleep(0.25)
        self.startup_s = time.time() - t0

    def url_for(self, name: str, ui: str = "lab") -> str:
        if ui == "lab":
            return f"{self.url}/lab/tree/{name}?reset&token={self.token}"
        if ui == "notebook":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        raise ValueError(f"ui must be 'lab' or 'notebook', got {ui!r}")

    def write_notebook(self, name: str, cells: Iterable[str]) -> pathlib.Path:
        import nbformat
        from nbformat.v4 import new_code_cell, new_notebook

        nb = new_notebook(cells=[new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        p = self.root / name
        nbformat.write(nb, str(p))
        return p

    def _api(self, method: str, path: str):
        req = urllib.request.Request(f"{self.url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def kernel_id(self, name: str) -> str:
        """The id of the kernel of notebook ``name`` (from the server's sessions)."""
        for s in self._api("GET", "sessions"):
            if s.get("path") == name or s.get("path", "").endswith("/" + name):
                return s["kernel"]["id"]
        raise RuntimeError(f"no kernel session for {name!r}")

    def shutdown_kernels(self, wait: bool = True) -> None:
        """Shut down every kernel session (one server serves all tests; idle kernels cost CPU).

        ``wait=False``: in the background, while the next test starts (the server waits up to
        seconds for each kernel to exit); ``stop`` waits for it.
        """
        sessions = self._api("GET", "sessions")
        if wait:
            self._delete_sessions(sessions)
            return
        t = threading.Thread(target=self._delete_sessions, args=(sessions,), daemon=True)
        t.start()
        self._shutting_down.append(t)

    def _delete_sessions(self, sessions: list) -> None:
        for s in sessions:
            try:
                self._api("DELETE", f"sessions/{s['id']}")
            except Exception as e:  # the next test still runs; say which kernel was left
                warnings.warn(f"could not shut down kernel session {s['id']}: {e!r}", stacklevel=1)

    def kernel_eval(self, expr: str, timeout: float = 30.0, name: str | None = None) -> str:
        """``repr(eval(expr))`` in the kernel of notebook ``name`` (default: the newest
        kernel), through a second client.

        Runs on the kernel's shell channel, so it waits for a cell that is executing.
        """
        from jupyter_client import BlockingKernelClient

        if name is not None:
            f = self.runtime / f"kernel-{self.kernel_id(name)}.json"
            files = [f] if f.exists() else []
        else:
            files = sorted(self.runtime.glob("kernel-*.json"), key=lambda p: p.stat().st_mtime)
        if not files:
            raise RuntimeError("no running kernel" + (f" for {name!r}" if name else ""))
        kc = BlockingKernelClient(connection_file=str(files[-1]))
        kc.load_connection_file()
        kc.start_channels()
        try:
            reply = kc.execute_interactive(
                "", user_expressions={"v": expr}, timeout=timeout, store_history=False, silent=True
            )
            v = reply["content"]["user_expressions"]["v"]
            if v["status"] != "ok":
                raise RuntimeError(f"{expr!r} raised {v.get('ename')}: {v.get('evalue')}")
            return v["data"]["text/plain"]
        finally:
            kc.stop_channels()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        for t in self._shutting_down:
            t.join(30)
        if self.proc.poll() is None:
            self.proc.terminate()  # by PID: our own process only
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory):
    import importlib.util

    _need(
        "jupyterlab", importlib.util.find_spec("jupyterlab") is not None, "pip install jupyterlab"
    )
    server = JupyterServer(tmp_path_factory.mktemp("jupyter"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _playwright():
    exe = shutil.which("chromium")
    _need("Debian chromium", exe is not None, "apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright", False, "pip install playwright (never `playwright install`)")
    with sync_playwright() as p:
        yield p, exe


@pytest.fixture(scope="session")
def browser(_playwright):
    p, exe = _playwright
    b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="session")
def lab_profile(_playwright, tmp_path_factory):
    """One browser profile (its own Chromium) for the notebook pages of every test.

    A page of a fresh context downloads and compiles JupyterLab's scripts again (~17 CPU-s a
    notebook on this machine); in one profile they come from its HTTP cache and V8's code cache
    after the first page (~10 CPU-s, measured). Each test still gets a page of its own, closed
    afterwards; the settings a test changes (theme, saveState) are the server's, not the profile's.
    """
    p, exe = _playwright
    ctx = p.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("profile")), executable_path=exe, args=CHROMIUM_ARGS
    )
    try:
        yield ctx
    finally:
        ctx.close()


class NotebookPage:
    """A notebook opened in JupyterLab or Notebook 7, driven like a user would."""

    def __init__(self, page, ui: str):
        self.page = page
        self.ui = ui
        self.themed = False
        self.panel = page.locator(PANEL) if ui == "lab" else page.locator(".jp-Notebook").first
        self.cells = page.locator(f"{PANEL} .jp-Cell")

    def wait_idle(self, timeout: float = 90.0) -> None:
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
            timeout=timeout * 1000
        )

    def dismiss_dialogs(self) -> None:
        dlg = self.page.locator(".jp-Dialog .jp-mod-accept")
        if dlg.count():
            dlg.first.click()

    def cell(self, i: int):
        return self.cells.nth(i)

    def run(self, i: int, timeout: float = 120.0) -> str:
        """Run cell ``i`` and wait for its execution count; returns its output text."""
        prompt = self.cell(i).locator(".jp-InputArea-prompt")
        before = prompt.inner_text().strip()
        started = re.compile(r"\[(\*|\d+)\]")
        for _ in range(4):  # the first key press can be lost while the page settles
            self.dismiss_dialogs()
            self.cell(i).locator(".jp-InputArea-editor").click()
            self.page.keyboard.press("Escape")  # command mode: Shift+Enter runs, never types
            self.page.keyboard.press("Shift+Enter")
            t0 = time.time()
            while time.time() - t0 < 5:
                now = prompt.inner_text().strip()
                if started.search(now) and (now != before or "*" in now):
                    break
                time.sleep(0.1)
            else:
                continue
            break
        else:
            raise AssertionError(f"cell {i} did not start running")
        prompt.filter(has_text=re.compile(r"\[\d+\]")).wait_for(timeout=timeout * 1000)
        return self.output(i)

    def run_all(self, n_cells: int, timeout: float = 120.0) -> list:
        return [self.run(i, timeout) for i in range(n_cells)]

    def output(self, i: int) -> str:
        return "\n".join(self.cell(i).locator(".jp-OutputArea-output").all_inner_texts())

    def widget(self, i: int | None = None):
        scope = self.cell(i) if i is not None else self.page.locator(PANEL)
        return scope.locator(".lrw-root").first

    def roots(self):
        """Every lrwidget view in the visible notebook, in page order."""
        return self.page.locator(f"{PANEL} .lrw-root")

    def readings(self, index: int = 0) -> int:
        return int(self.roots().nth(index).get_attribute("data-readings") or 0)

    def wait_status(self, statuses, index: int = 0, timeout: float = 60.0) -> str:
        """Wait until view ``index`` shows one of ``statuses`` (its ``data-status``)."""
        statuses = [statuses] if isinstance(statuses, str) else list(statuses)
        self.page.wait_for_function(
            "([sel, i, want]) => { const r = document.querySelectorAll(sel)[i];"
            " return !!r && want.includes(r.dataset.status); }",
            arg=[f"{PANEL} .lrw-root", index, statuses],
            timeout=timeout * 1000,
        )
        return self.roots().nth(index).get_attribute("data-status")

    def attr(self, locator, name: str) -> str | None:
        return locator.get_attribute(name)

    def watch_it_grow(self, root, gate: Gate, timeout: float = 60.0, more: int = 10) -> int:
        """``gate.watch_it_grow`` for view ``root``, scrolled into view for a shot."""
        n = watch_it_grow(root, gate, timeout, more)
        into_view(root)
        return n

    def wait_ended(self, readings: int, cell: int = 0, timeout: float = 120.0):
        """Wait until the view's range test is done (or diverged) and the view of cell
        ``cell`` shows at least ``readings`` readings; that view.

        The end of a run refreshes the output's static fallback (display id), which re-renders
        the view: the new view asks for a replay ("hello") and gets every reading.
        """
        self.page.wait_for_function(
            "() => ['done', 'diverged'].includes("
            "document.querySelector('.lrw-root').dataset.status)",
            timeout=timeout * 1000,
        )
        self.page.wait_for_function(
            "n => { const r = document.querySelectorAll('.lrw-root');"
            " return r.length === 1 && Number(r[0].dataset.readings) >= n; }",
            arg=readings,
            timeout=15_000,
        )
        return self.widget(cell)

    def select_on_plot(self, root, x: float) -> None:
        """Click view ``root``'s curve at ``x`` of the plot's width (half its height); wait
        until the view shows the selected lr."""
        canvas = root.locator("canvas.lrw-canvas")
        # the end of a run may re-render the output (its static fallback) between the caller's
        # wait and this click: a view being replaced has no box for a moment (CI stop 23)
        deadline = time.monotonic() + 15
        while (box := canvas.bounding_box(timeout=15_000)) is None:
            assert time.monotonic() < deadline, "the view's canvas never became visible"
            canvas.wait_for(state="visible", timeout=15_000)
        canvas.click(position={"x": box["width"] * x, "y": box["height"] * 0.5})
        self.page.wait_for_function(
            "() => /Selected /.test(document.querySelector('.lrw-root .lrw-sel').textContent)"
        )

    def apply(self, root, timeout: float = 30.0) -> None:
        """Press view ``root``'s Apply; wait until it shows the applied lr."""
        root.get_by_role("button", name="Apply", exact=True).click()
        root.locator(".lrw-applied").filter(has_text="Applied").wait_for(timeout=timeout * 1000)

    def set_theme(self, name: str) -> None:
        """Switch the JupyterLab theme ("light", "dark" or a theme's full name); open_notebook
        puts the light one back after the test (a server-side setting every later page reads)."""
        theme = THEMES.get(name, name)
        self.themed = theme != THEMES["light"]
        self.page.evaluate(
            "t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme
        )
        self.page.wait_for_function(
            "t => document.body.dataset.jpThemeName === t", arg=theme, timeout=30_000
        )


# Every document and view out of the tab, no save dialog; true when nothing of the test is left
# (a view in a sidebar, a dialog, a document that would not close: the next test gets a new tab).
# JupyterLab puts a launcher in the emptied main area: OPEN_IN_TAB closes it once the notebook
# is in.
CLEAR_TAB = """async () => {
  const app = window.jupyterapp;
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (w.context && w.context.model) w.context.model.dirty = false;
    w.dispose();
  }
  await new Promise((r) => setTimeout(r, 50));
  return Array.from(app.shell.widgets('main')).every((w) => !w.context) &&
    !document.querySelector('.lrw-root, .jp-Dialog');
}"""
OPEN_IN_TAB = """async (p) => {
  const app = window.jupyterapp;
  await app.commands.execute('docmanager:open', {path: p});
  for (const w of Array.from(app.shell.widgets('main'))) if (!w.context) w.dispose();
  return Array.from(app.shell.widgets('main')).length;
}"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":  # open_notebook keeps the lab tab only after a test that passed
        item.lrw_failed = outcome.get_result().failed


@pytest.fixture(scope="session")
def lab_tabs(lab_profile):
    """The JupyterLab tab of each server, kept from test to test: the app loads once, and each
    test's notebook opens in it (~2 CPU-s instead of ~13 for a new tab, measured). A test gets it
    empty (:data:`CLEAR_TAB`) at the viewport it asks for; a tab that cannot be cleared, or one
    whose test failed, is closed and the next test loads a new one."""
    tabs: dict = {}
    yield tabs
    for page in tabs.values():
        if not page.is_closed():
            page.close()


def _open_in_tab(page, name: str, size: dict) -> NotebookPage | None:
    """``name`` opened in the kept lab tab ``page``, or None if the tab is not fit for it."""
    try:
        page.set_viewport_size(size)
        if page.evaluate(OPEN_IN_TAB, name) != 1:  # the notebook alone
            raise RuntimeError(f"{name} did not open alone in the tab")
        return NotebookPage(page, "lab")
    except Exception as e:
        warnings.warn(f"the kept JupyterLab tab failed ({e!r}); loading a new one", stacklevel=1)
        page.close()
        return None


@pytest.fixture
def open_notebook(request, jupyter, browser, lab_profile, lab_tabs):
    contexts = []
    shared = []
    opened: list[NotebookPage] = []

    def open_(
        name: str,
        ui: str = "lab",
        theme: str | None = None,
        viewport=(1280, 1000),
        fresh: bool = False,
    ) -> NotebookPage:
        size = {"width": viewport[0], "height": viewport[1]}
        nb = None
        if all(pg.is_closed() for pg in shared):  # in the shared profile (its caches are warm)
            keep = ui == "lab" and not fresh
            tab = lab_tabs.get(jupyter.url)
            if tab is not None and not keep and not tab.is_closed():  # one app of this server
                tab.close()  # at a time (two tabs of one workspace: the second is moved off it)
            tab = tab if keep else None
            if tab is not None and not tab.is_closed():
                nb = _open_in_tab(tab, name, size)
            if nb is None:
                page = lab_profile.new_page()
                page.set_viewport_size(size)
                if keep:
                    lab_tabs[jupyter.url] = page
            else:
                page = nb.page
            shared.append(page)
        else:  # a second page at once: a context of its own, as two users' browsers would be
            ctx = browser.new_context(viewport=size)
            contexts.append(ctx)
            page = ctx.new_page()
        page.set_default_timeout(60_000)
        if nb is None:
            page.goto(jupyter.url_for(name, ui))
            nb = NotebookPage(page, ui)
        nb.wait_idle()
        nb.cell(0).locator(".jp-InputArea-editor").wait_for()  # the cells are drawn
        nb.dismiss_dialogs()
        opened.append(nb)
        if theme:
            nb.set_theme(theme)
        return nb

    yield open_
    for nb in (nb for nb in opened if nb.themed and not nb.page.is_closed()):
        try:  # the theme is a server-side user setting: put it back for the next test
            nb.set_theme("light")
        except Exception as e:
            warnings.warn(f"could not put the light theme back: {e!r}", stacklevel=1)
    passed = not getattr(request.node, "lrw_failed", True)
    kept = {id(tab) for tab in lab_tabs.values()} if passed else set()
    for page in shared:
        if page.is_closed():
            continue
        try:
            if id(page) in kept and page.evaluate(CLEAR_TAB):
                continue
        except Exception as e:
            warnings.warn(f"could not clear the JupyterLab tab: {e!r}", stacklevel=1)
        page.close()
    for ctx in contexts:
        ctx.close()
    jupyter.shutdown_kernels(wait=False)


@pytest.fixture
def gate(tmp_path):
    """A shut gate for one run's steps (tests/browser/gate.py); opened at the end, so that a
    test that failed leaves no kernel or job waiting on it."""
    g = Gate(tmp_path / "steps.gate")
    yield g
    g.open()


@pytest.fixture(scope="session")
def digits_setup():
    return _digits_setup

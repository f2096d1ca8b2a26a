"""Development screenshots of the widget in the static harness (not a test).

Usage: .venv/bin/python tests/browser_harness/shoot.py [out_dir]   (default /tmp/lrw_shots)
"""

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = [
    # name, query, viewport width, hover?
    ("light_1000_done", "theme=light&width=1000&scenario=done", 1040, True),
    ("dark_1000_done", "theme=dark&width=1000&scenario=done", 1040, True),
    ("light_320_done", "theme=light&width=320&scenario=done&height=240", 360, False),
    ("dark_320_live", "theme=dark&width=320&scenario=live&height=240", 360, False),
    ("light_1000_live", "theme=light&width=1000&scenario=live", 1040, False),
    ("dark_1000_diverged", "theme=dark&width=1000&scenario=diverged", 1040, False),
    ("vscode_dark_700_done", "theme=vscode-dark&width=700&scenario=done", 740, False),
    ("light_700_empty", "theme=light&width=700&scenario=empty", 740, False),
    ("light_1000_100k", "theme=light&width=1000&scenario=done&n=100000", 1040, False),
]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def main(out=None):
    if out is None:
        out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/lrw_shots")
    out.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(Quiet, directory=str(ROOT))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/tests/browser_harness/index.html"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            for name, query, vw, hover in SHOTS:
                page = browser.new_page(
                    viewport={"width": vw, "height": 700}, device_scale_factor=2
                )
                errors = []
                # bound per page: a late event of an earlier page must not land in this list
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.on(
                    "console",
                    lambda m, errors=errors: (
                        errors.append(m.text) if m.type in ("error", "warning") else None
                    ),
                )
                page.goto(f"{base}?{query}")
                page.wait_for_selector(".lrw-root[data-readings]")
                page.wait_for_timeout(300)
                if hover:
                    box = page.locator(".lrw-canvas").bounding_box()
                    page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.5)
                    page.wait_for_timeout(150)
                page.locator(".lrw-root").screenshot(path=str(out / f"{name}.png"))
                print(name, "errors:", errors or "none")
                page.close()
            browser.close()
    finally:
        srv.shutdown()


if __name__ == "__main__":
    main()

"""Copies the browser tests' screenshots of each host into docs/hosts/, small.

The pictures come only from test runs (``artifacts/``, see tests/browser/conftest.py ``shot``): run
the browser tests named below, then ``python scripts/docs_shots.py``. Each page is scaled to 640 px
wide and written with a 256-colour palette (about 10-30 kB).
"""

from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = pathlib.Path(os.environ.get("LRW_ARTIFACTS", ROOT / "artifacts"))
OUT = ROOT / "docs" / "hosts"
WIDTH = 640

# docs/hosts/<name>.png <- artifacts/<shot>.png, written by the test named
SHOTS = {
    "jupyterlab_light": ("widget_inline", "tests/browser/test_lab_inline.py"),
    "jupyterlab_dark": ("lab_dark", "tests/browser/test_theme_dark.py"),
    "notebook7": ("nb7_applied", "tests/browser/test_notebook7.py"),
    "jupyterlab_sidebar": ("sidebar_applied", "tests/browser/test_sidebar.py"),
    "vscode_light": ("vscode_light_applied", "tests/browser/test_vscode.py"),
    "vscode_dark": ("vscode_dark_applied", "tests/browser/test_vscode.py"),
    "marimo_dark": ("marimo_dark_applied", "tests/browser/test_marimo.py"),
    "voila_dark": ("voila_dark_applied", "tests/browser/test_voila.py"),
}


def main() -> int:
    from PIL import Image

    OUT.mkdir(parents=True, exist_ok=True)
    missing = [
        f"{shot}.png ({test})"
        for shot, test in SHOTS.values()
        if not (ARTIFACTS / f"{shot}.png").exists()
    ]
    if missing:
        print("run these browser tests first; missing in artifacts/:", *missing, sep="\n  ")
        return 1
    for name, (shot, _) in SHOTS.items():
        img = Image.open(ARTIFACTS / f"{shot}.png").convert("RGB")
        img = img.resize((WIDTH, round(img.height * WIDTH / img.width)), Image.LANCZOS)
        img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        path = OUT / f"{name}.png"
        img.save(path, optimize=True)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

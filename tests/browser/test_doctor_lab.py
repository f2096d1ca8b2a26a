"""The doctor in a real JupyterLab (issue 18): ``widget.train(fn)`` runs a training loop on a thread
while the cell returns; the view draws the training, and a click on its x0.1 button reaches the
optimizer within 1 s (read from the kernel: the wall-clock time the loop first saw the new lr).
Then a 1,000,000-step stream, zoomed in and out and resized: each frame draws vertices bounded by
the canvas's pixel columns, not by the steps (tests/browser/frames.py). Screenshots in light and
dark."""

from __future__ import annotations

import re
import time

from tests.browser import frames, stable
from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
ROOT = f"{PANEL} .lrw-root"

TRAIN = """\
import threading
seen, halt = {}, threading.Event()
def loop(watch):
    base = optimizer.param_groups[0]["lr"]
    while not halt.is_set():
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
            watch.record(loss)
            lr = optimizer.param_groups[0]["lr"]
            if lr != base and "t" not in seen:
                seen.update(t=time.time(), lr=lr, base=base)
            time.sleep(0.003)
            if halt.is_set():
                break
display(widget)
optimizer.param_groups[0]["lr"] = 0.05
run = widget.train(loop)
print("TRAINING", run.running)"""

CHECK = """\
t_wait = time.time() + 10
while "t" not in seen and time.time() < t_wait:
    time.sleep(0.01)
halt.set(); run.wait(30)
print(f"SEEN t={seen.get('t')!r} lr={seen.get('lr')!r} base={seen.get('base')!r}")"""

MILLION = """\
import numpy as np
from lrwidget.engine.watch_events import Chunk
second = widget.watch()  # a new chart: its chunks come in straight through the listener
feed = widget._training
rng = np.random.default_rng(0)
for start in range(0, 1_000_000, 8000):
    losses = 2.0 * np.exp(-start / 3e5) + 0.05 * rng.standard_normal(8000)
    if start == 496_000: losses[17] = 40.0
    lrs = np.full((8000, 1), 1e-3 * (0.1 if start > 7e5 else 1))
    feed.on_event(Chunk(start, losses, lrs, np.full(1, np.nan)))
print("MILLION", feed.snapshot()[0]["steps"])"""


def _steps(page) -> int:
    return int(page.evaluate("s => Number(document.querySelector(s).dataset.steps || 0)", ROOT))


def _zoom(page, n: int) -> None:
    """Zoom the training chart in and out ``n`` times with the wheel, a frame or two apart (the
    view draws the columns it has at once, then the kernel's answer when it comes)."""
    page.evaluate(
        """async ([s, n]) => {
          const box = document.querySelector(s).querySelector('.lrw-plot');
          for (let i = 0; i < n; i++) {
            box.dispatchEvent(new WheelEvent('wheel', {deltaY: i % 12 < 6 ? -100 : 100,
                                                       clientX: 300 + 40 * (i % 7),
                                                       bubbles: true, cancelable: true}));
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
          }
        }""",
        [ROOT, n],
    )


def _frames(page, rounds: int = 4, wheel: int = 12) -> frames.Frames:
    """The frames of ``rounds`` of ``wheel`` zooms, the window resized between rounds."""
    frames.watch(page, ROOT)
    for r in range(rounds):
        page.set_viewport_size({"width": 1280 - 160 * (r % 2), "height": 1000})
        _zoom(page, wheel)
    time.sleep(0.5)  # the last zoom's answer
    return frames.recorded(page)


def test_click_during_training_reaches_the_optimizer_within_a_second(
    jupyter, open_notebook, digits_setup, shot, artifacts
):
    jupyter.write_notebook("doctor.ipynb", [digits_setup(0.0, "Doctor"), TRAIN, CHECK, MILLION])
    nb = open_notebook("doctor.ipynb")
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        assert "TRAINING True" in nb.run(1), nb.output(1)
        root = nb.widget(1)
        page.wait_for_function(
            "s => { const r = document.querySelector(s);"
            " return r && r.dataset.mode === 'training' && Number(r.dataset.steps) >= 200; }",
            arg=ROOT,
            timeout=60_000,
        )
        button = root.get_by_role("button", name=re.compile("^Roll back to the last snapshot"))
        assert button.is_visible() and button.is_enabled()
        into_view(root)
        shot(page, "doctor_training_light")
        t_click = time.time()
        button.click()
        out = nb.run(2)
        m = re.search(r"SEEN t=([\d.]+) lr=([\d.e-]+) base=([\d.e-]+)", out)
        assert m, out
        took = float(m.group(1)) - t_click
        assert abs(float(m.group(2)) / (0.1 * float(m.group(3))) - 1) < 1e-9, out
        assert took < 1.0, f"the click reached the optimizer {took:.2f} s later"
        print(f"click -> optimizer: {took * 1000:.0f} ms")
        page.wait_for_function(
            "s => Number(document.querySelector(s).dataset.actions) === 1", arg=ROOT
        )  # the action came back from the kernel and is marked on the chart
        time.sleep(0.3)
        stable.screenshot(root, path=str(artifacts / "doctor_light.png"))
        assert "MILLION 1000000" in nb.run(3)
        page.wait_for_function(
            "s => Number(document.querySelector(s).dataset.steps) === 1000000", arg=ROOT
        )
        drawn = _frames(page)
        print(drawn.summary("training chart of 1M steps, zooms and resizes"))
        # a frame that did not decimate 1M steps would draw ~1M vertices on every frame
        assert len(drawn) >= 40, drawn
        assert max(drawn.per_column()) <= frames.PER_COLUMN, drawn
        nb.set_theme("dark")
        time.sleep(0.5)
        into_view(root)
        stable.screenshot(root, path=str(artifacts / "doctor_dark.png"))
        page.set_viewport_size({"width": 640, "height": 900})
        time.sleep(0.5)
        stable.screenshot(root, path=str(artifacts / "doctor_dark_narrow.png"))
        mode = root.get_by_role("button", name="Range test curve")
        mode.click()
        assert root.get_attribute("data-mode") == "range"
        stable.screenshot(root, path=str(artifacts / "doctor_range_mode.png"))
    except Exception:
        shot(page, "doctor_failure")
        raise

"""JupyterLab + headless Chromium: Lightning's find step. A cell makes an LRFinderCallback and
calls ``find()``, which returns the live widget at once while the range test runs in the
background; the curve grows, a click on it and Apply choose the lr; the next cell's
``trainer.fit`` trains with it (the optimizer's lr at the first step, printed by the kernel)."""

from __future__ import annotations

import re

from tests.browser.stable import into_view

FIND = """\
import torch
torch.set_num_threads(1)
import lightning.pytorch as pl
from lrwidget.integrations.lightning import LRFinderCallback
from tests.browser.gate import Hold
from tests.lightning_jobs import DigitsModule, digits_loader, quiet_trainer

hold = Hold({gate!r})  # the test watches the curve grow, then lets the rest of the steps run

class Slow(DigitsModule):
    def training_step(self, batch, batch_idx):
        hold()
        return super().training_step(batch, batch_idx)

model, loader = Slow(), digits_loader()
cb = LRFinderCallback(start_lr=1e-5, end_lr=10, num_iter=200)  # choose="click"
trainer = pl.Trainer(**quiet_trainer("lightning_root", max_steps=3), callbacks=[cb])
w = cb.find(model, loader, trainer=trainer)
print("FOUND", w.status)
w"""

FIT = """\
steps = model.steps
trainer.fit(model, loader)
tried = cb.chosen_lr in w.result.lrs
print(f"FIT first_lr={model.lrs[0]!r} chosen={cb.chosen_lr!r} by={cb.chosen_by} "
      f"applied={w.applied_lr!r} steps={model.steps - steps} tried={tried}")"""


def test_lightning_find_step_click_apply_then_fit_trains_at_the_clicked_lr(
    jupyter, open_notebook, gate, shot
):
    jupyter.write_notebook("lightning.ipynb", [FIND.format(gate=str(gate.path)), FIT])
    nb = open_notebook("lightning.ipynb")
    page = nb.page
    try:
        out = nb.run(0, timeout=180)
        assert "FOUND running" in out, out  # find() returned while its test ran
        root = nb.widget(0)
        root.wait_for(state="visible")
        n = nb.watch_it_grow(root, gate)
        shot(page, "lightning_lab_running")
        gate.open()
        root = nb.wait_ended(n)
        nb.select_on_plot(root, 0.4)
        nb.apply(root)
        into_view(root)
        shot(page, "lightning_lab_applied")
        applied = float(jupyter.kernel_eval("w.applied_lr"))

        out = nb.run(1, timeout=180)
        m = re.search(
            r"FIT first_lr=(\S+) chosen=(\S+) by=(\w+) applied=(\S+) steps=(\d+) tried=(\w+)", out
        )
        assert m, out
        first, chosen, by, applied_then, steps, tried = m.groups()
        assert float(first) == float(chosen) == float(applied_then) == applied, out
        assert by == "click" and tried == "True", out
        assert steps == "3", f"fit ran its own range test: {out}"
    except Exception:
        shot(page, "lightning_lab_failure")
        print(jupyter.log()[-3000:])
        raise

"""Stop during a run (JupyterLab): the view's Stop button ends the range test early, the status
becomes "stopped" in the view and in the kernel, and the model and optimizer are exactly as they
were before the test (torch.equal over both state_dicts)."""

from __future__ import annotations

import re
import time

from tests.browser.stable import into_view

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

WARM = """\
# one real step first, so the optimizer has momentum buffers to restore
x0, y0 = next(iter(loader))
optimizer.zero_grad(); criterion(model(x0), y0).backward(); optimizer.step()
before = {"model": copy.deepcopy(model.state_dict()),
          "optimizer": copy.deepcopy(optimizer.state_dict())}
print("WARM", len(optimizer.state))"""

RUN = """\
display(widget)
widget.run(loader, start_lr=1e-5, end_lr=10, num_iter=400, step_fn=step)
print("STARTED")"""

CHECK = """\
def same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b
result = widget.wait(60)
print(f"CHECK model={same(before['model'], model.state_dict())} "
      f"optimizer={same(before['optimizer'], optimizer.state_dict())} "
      f"status={widget.status} reason={result.stop_reason} n={len(result)} "
      f"num_iter={result.num_iter} running={finder.running}")"""


def test_stop_button_ends_the_run_and_restores_the_model(
    jupyter, open_notebook, digits_setup, shot
):
    jupyter.write_notebook("stop.ipynb", [digits_setup(0.05, "Stop me"), WARM, RUN, CHECK])
    nb = open_notebook("stop.ipynb")
    page = nb.page
    try:
        assert "SETUP OK" in nb.run(0)
        assert "WARM" in nb.run(1) and "WARM 0" not in nb.output(1)
        assert "STARTED" in nb.run(2)
        root = nb.widget(2)
        nb.wait_status("running", timeout=30)
        stop = root.get_by_role("button", name="Stop")
        page.wait_for_function(
            f"() => Number(document.querySelector('{PANEL} .lrw-root').dataset.readings) >= 20",
            timeout=30_000,
        )
        assert stop.is_enabled()
        stop.click()
        t0 = time.time()
        assert nb.wait_status(["stopped", "done", "diverged", "error"], timeout=15) == "stopped"
        took = time.time() - t0
        assert stop.is_disabled()
        assert re.search(r"Stopped at step \d+/400", root.locator(".lrw-status").inner_text())
        into_view(root)
        shot(page, "stop_stopped")

        out = nb.run(3)
        m = re.search(
            r"CHECK model=(\w+) optimizer=(\w+) status=(\w+) reason=(\w+) n=(\d+) "
            r"num_iter=(\d+) running=(\w+)",
            out,
        )
        assert m, out
        model_same, opt_same, status, reason, n, num_iter, running = m.groups()
        assert model_same == "True", "model parameters differ from the copy taken before the test"
        assert opt_same == "True", "optimizer state differs from the copy taken before the test"
        assert status == "stopped" and reason == "stopped", out
        assert 0 < int(n) < int(num_iter) == 400, out
        assert running == "False"
        # the view shows every reading the result has
        assert nb.readings() == int(n), (nb.readings(), n)
        assert took < 10, f"Stop took {took:.1f} s to show"
    except Exception:
        shot(page, "stop_failure")
        raise

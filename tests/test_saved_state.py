"""The readings in the saved widget state: a notebook saved with widget state (nbconvert's
``--execute``, JupyterLab's "save widget state") keeps the curve, so a view with no kernel behind
it draws it. One binary trait, ``saved_readings``, written once when a run ends and cleared
when the next one starts (DESIGN.md, "Widget protocol").

The layout is decoded here from its description, independently of lrwidget's own decoder:
16 bytes of header (b"LRW1", uint32 run id, uint32 n, uint32 0), then n little-endian float64
lrs, n float32 losses, n float32 smoothed losses (the line drawn: a finished run's, without lag).

The nbconvert round trip (state stored by nbclient, HTML opened in Chromium) is in
tests/browser/test_saved_state.py.
"""

from __future__ import annotations

import base64
import json
import pathlib
import shutil
import struct
import subprocess
import threading

import numpy as np
import pytest
import torch
from ipywidgets import Widget
from torch import nn

from lrwidget import LRFinder, LRFinderWidget
from lrwidget.channel.protocol import decode_saved_readings, encode_saved_readings
from lrwidget.pure.smooth import centered
from tests.widgets import slow_step, wait_until

#: the issue's target for the saved state (widget-state JSON, as a notebook stores it)
MAX_BYTES_PER_READING = 30


def unpack(blob: bytes):
    """(run_id, lrs, losses, smoothed) from the documented layout."""
    magic, run_id, n, flags = struct.unpack_from("<4sIII", blob, 0)
    assert magic == b"LRW1" and flags == 0, (magic, flags)
    assert len(blob) == 16 + 16 * n, (len(blob), n)
    lrs = np.frombuffer(blob, "<f8", n, 16)
    losses = np.frombuffer(blob, "<f4", n, 16 + 8 * n)
    smoothed = np.frombuffer(blob, "<f4", n, 16 + 12 * n)
    return run_id, lrs, losses, smoothed


def same32(a, b):
    """``a`` (float32 as saved) holds ``b`` (float64) rounded to float32, NaN and inf included."""
    a = np.asarray(a, dtype=np.float32)
    with np.errstate(over="ignore"):  # beyond float32: inf, as saved
        b = np.asarray(b, dtype=np.float64).astype(np.float32)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.fixture
def small():
    """A tiny model on fixed random data: thousands of steps in about a second."""
    made = []

    def make(seed=0):
        torch.manual_seed(seed)
        model = nn.Linear(8, 4)
        opt = torch.optim.SGD(model.parameters(), lr=1e-4)
        data = [(torch.randn(16, 8), torch.randint(0, 4, (16,))) for _ in range(8)]
        w = LRFinderWidget(LRFinder(model, opt, nn.CrossEntropyLoss()))
        made.append(w)
        return w, data

    yield make
    for w in made:
        w.close()


def test_a_finished_run_is_in_the_saved_state(small):
    w, data = small()
    assert w.saved_readings == b"", "nothing before the first run"
    w.run(data, start_lr=1e-5, end_lr=1.0, num_iter=300)
    result = w.wait(60)
    run_id, lrs, losses, smoothed = unpack(w.saved_readings)
    assert len(lrs) == len(result) == w.step
    assert np.array_equal(lrs, result.lrs), "lrs are kept exactly (float64)"
    assert same32(losses, result.losses)
    # the line drawn: the finished run smoothed without lag (issue 21), not the live EMA
    assert same32(smoothed, centered(result.lrs, result.losses))
    assert not same32(smoothed, result.smoothed)
    assert run_id == w._channel.run.run_id


def test_written_once_per_run_and_cleared_when_the_next_one_starts(small):
    w, data = small()
    seen = []
    lock = threading.Lock()

    def record(change):
        with lock:
            seen.append((w.status, len(change["new"])))

    w.observe(record, names="saved_readings")
    w.run(data, start_lr=1e-5, end_lr=1.0, num_iter=200)
    first = w.wait(60)
    first_id = unpack(w.saved_readings)[0]
    with lock:
        assert seen == [(seen[0][0], 16 + 16 * len(first))], seen
        seen.clear()
    # the second run: cleared as it starts (while it runs the state holds no stale curve)
    w.run(data, start_lr=1e-5, end_lr=1.0, num_iter=60, step_fn=slow_step(0.01))
    wait_until(lambda: w.step > 5, what="the second run to stream")
    assert w.saved_readings == b"" and w.status == "running"
    second = w.wait(60)
    with lock:
        assert [n for _, n in seen] == [0, 16 + 16 * len(second)], seen
    run_id, lrs, _, _ = unpack(w.saved_readings)
    assert run_id != first_id and len(lrs) == len(second)


def test_a_widget_made_after_the_run_has_it_too(small):
    w, data = small()
    w.run(data, start_lr=1e-5, end_lr=1.0, num_iter=100)
    result = w.wait(60)
    late = LRFinderWidget(w.finder)
    try:
        assert late.saved_readings == w.saved_readings
        assert len(unpack(late.saved_readings)[1]) == len(result)
    finally:
        late.close()


def _state_json_size(w) -> int:
    """Bytes of this widget's entry in the widget state a notebook stores (buffers in base64)."""
    state = Widget.get_manager_state(drop_defaults=True, widgets=[w])["state"][w.model_id]
    return len(json.dumps(state, separators=(",", ":")))


def test_saved_state_size_per_reading(small):
    sizes = {}
    for n in (500, 2500):
        w, data = small()
        w.run(data, start_lr=1e-6, end_lr=1.0, num_iter=n, diverge_th=1e9)
        assert len(w.wait(120)) == n
        sizes[n] = _state_json_size(w)
        entry = Widget.get_manager_state(drop_defaults=True, widgets=[w])["state"][w.model_id]
        (buf,) = [b for b in entry.get("buffers", []) if b["path"] == ["saved_readings"]]
        assert len(base64.b64decode(buf["data"])) == 16 + 16 * n
    per_reading = (sizes[2500] - sizes[500]) / 2000
    print(f"saved widget state: {per_reading:.1f} bytes per reading")
    assert per_reading <= MAX_BYTES_PER_READING, per_reading


NODE = shutil.which("node")
REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(NODE is None, reason="node is not installed (scripts/setup.sh --browser)")
def test_the_front_end_reads_what_python_saves(tmp_path):
    lrs = np.geomspace(1e-6, 3.0, 257)
    losses = np.linspace(2.5, 0.4, 257)
    losses[[10, 20, 30]] = [np.nan, np.inf, 1e39]  # 1e39: beyond float32, saved as inf
    smoothed = np.convolve(losses, np.ones(3) / 3, mode="same")
    blob = encode_saved_readings(2**33 + 5, lrs, losses, smoothed)
    # read at an odd offset, as a DataView may be
    (tmp_path / "saved.bin").write_bytes(b"xyz" + blob)
    script = tmp_path / "read.mjs"
    script.write_text(
        f'import {{ readFileSync }} from "node:fs";\n'
        f'import {{ decodeSavedReadings }} from "{(REPO / "js" / "state.js").as_uri()}";\n'
        f'const b = readFileSync("{tmp_path / "saved.bin"}");\n'
        "const d = decodeSavedReadings(new DataView(b.buffer, b.byteOffset + 3, b.length - 3));\n"
        "const out = (a) => Array.from(a, (x) => (Number.isFinite(x) ? x : String(x)));\n"
        "console.log(JSON.stringify({ runId: d.runId, lr: out(d.lr), loss: out(d.loss),"
        " smoothed: out(d.smoothed) }));\n"
    )
    proc = subprocess.run(
        [NODE, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    back = {k: np.array([float(x) for x in got[k]]) for k in ("lr", "loss", "smoothed")}
    assert got["runId"] == 5, "the run id modulo 2**32"
    assert np.array_equal(back["lr"], lrs)
    assert same32(back["loss"], losses) and np.isinf(back["loss"][30])
    assert same32(back["smoothed"], smoothed)
    _, lr2, loss2, sm2 = decode_saved_readings(blob)  # Python's own reader agrees
    assert np.array_equal(lr2, lrs) and same32(loss2, losses) and same32(sm2, smoothed)

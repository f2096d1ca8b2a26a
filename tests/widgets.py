"""Helpers for tests of widgets without a kernel: every outgoing comm message is captured by
replacing the widget's ``_send`` (custom messages and trait updates both go through it), and
commands go in through the path the comm uses (``_handle_msg``)."""

from __future__ import annotations

import threading
import time

import numpy as np
from torch import nn


class Capture:
    """Records what a widget sends: (monotonic time, message dict, buffers)."""

    def __init__(self, widget):
        self.items = []
        self.lock = threading.Lock()
        widget._send = self._send  # instance attribute shadows ipywidgets' Widget._send

    def _send(self, msg, buffers=None):
        with self.lock:
            self.items.append((time.monotonic(), msg, list(buffers or [])))

    def custom(self, kind=None):
        with self.lock:
            out = [(t, m["content"], b) for t, m, b in self.items if m.get("method") == "custom"]
        return [x for x in out if kind is None or x[1]["type"] == kind]

    def clear(self):
        with self.lock:
            self.items.clear()


def comm_msg(widget, content):
    """Deliver ``content`` as the comm does for a front-end ``model.send(content)``."""
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def decode(buffers):
    return [np.frombuffer(b, dtype="<f8") for b in buffers]


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def wait_until(pred, timeout=10.0, what="condition"):
    t0 = time.monotonic()
    while not pred():
        assert time.monotonic() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.005)


def slow_step(delay):
    crit = nn.CrossEntropyLoss()

    def step(model, batch):
        time.sleep(delay)  # a step slow enough to act during the run
        x, y = batch
        return crit(model(x), y)

    return step

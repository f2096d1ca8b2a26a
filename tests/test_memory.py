"""A long sweep costs memory near its readings (24 B each), not a schedule built up front.

Measured in a fresh subprocess (its peak RSS, ``ru_maxrss``, before and after starting a test of
``N`` steps that is stopped at its first step), so other tests cannot disturb the number.
"""

import os
import subprocess
import sys
import tempfile

N = 2_000_000
READING_BYTES = 24  # History: three float64 arrays
SLACK_MIB = 40  # constant part: the snapshot of a tiny model, a chunk of lrs, allocator noise

CHILD = r"""
import resource, sys
import torch
from torch import nn
torch.set_num_threads(1)
from lrwidget import LRFinder

n = int(sys.argv[1])
m = nn.Linear(4, 1)
opt = torch.optim.SGD([{"params": [m.weight]}, {"params": [m.bias], "lr": 1e-5}], lr=1e-4)
data = [(torch.randn(8, 4), torch.randn(8, 1))]
finder = LRFinder(m, opt)

def step(model, batch):
    finder.stop()  # the first step is enough: what matters is what was built before it
    return (model(batch[0]) - batch[1]).pow(2).mean()

finder.range_test(data, end_lr=1.0, num_iter=10, step_fn=step)  # warm every code path
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = finder.range_test(data, end_lr=1.0, num_iter=n, step_fn=step)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert r.stop_reason == "stopped" and len(r) == 1, r
print((peak - base) * 1024)  # ru_maxrss is in KiB on Linux
"""


def test_a_long_sweep_costs_memory_near_its_readings():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cwd:  # no stray module in cwd can shadow the stdlib
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(N)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": root},
        )
    assert out.returncode == 0, out.stderr
    grew = int(out.stdout.strip().splitlines()[-1])
    bound = READING_BYTES * N * 1.2 + SLACK_MIB * 2**20
    assert grew < bound, (
        f"peak RSS grew {grew / 2**20:.0f} MiB for {N} steps (bound {bound / 2**20:.0f} MiB)"
    )

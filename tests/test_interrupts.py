"""Ctrl-C during a restore (issue 9, item 5): the restore finishes, the KeyboardInterrupt comes
after.

Every test sends real SIGINTs, so each runs in a child process (tests/subproc.py): a broken deferral
must not interrupt the pytest session itself.
"""

import json
import signal

from tests.subproc import run_script

RESTORE_UNDER_SIGINT_STORM = r"""
import json, os, signal, sys, threading, time
from torch import nn
from lrwidget.engine.snapshot import Snapshot

torch.manual_seed(0)
# about 100 MB of parameters: a restore takes tens of milliseconds, ~1 SIGINT per millisecond
model = nn.Sequential(*[nn.Linear(2048, 2048) for _ in range(6)])
opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
params = list(model.parameters())
ref = [p.detach().clone() for p in params]
snap = Snapshot.capture(model, opt)


def mutate():
    # what a range test leaves: moved parameters, a swept lr, optimizer state
    with torch.no_grad():
        for p in params:
            p.add_(1.0)
    for g in opt.param_groups:
        g["lr"] = 1.3e-3
    for p in params:
        opt.state[p] = {"momentum_buffer": torch.zeros(1)}


def outcome():
    lrs = [g["lr"] for g in opt.param_groups]
    if (all(torch.equal(p, r) for p, r in zip(params, ref)) and lrs == [1e-4]
            and len(opt.state) == 0):
        return "restored"
    if (all(torch.equal(p, r + 1.0) for p, r in zip(params, ref)) and lrs == [1.3e-3]
            and len(opt.state) == len(params)):
        return "untouched"  # the interrupt came before the restore began
    same = sum(torch.equal(p, r) for p, r in zip(params, ref))
    return f"half: {same}/{len(params)} tensors restored, lr {lrs}, {len(opt.state)} states"


# a Python SIGINT handler that raises KeyboardInterrupt once per try, like the default one; the
# later signals of the storm are ignored so that the checks between tries run undisturbed
live = False


def on_sigint(signum, frame):
    global live
    if live:
        live = False
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, on_sigint)
stop = threading.Event()


def storm():
    while not stop.is_set():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.001)


tries = int(sys.argv[1])
results, seconds = [], []
sender = threading.Thread(target=storm, daemon=True)
sender.start()
for _ in range(tries):
    mutate()
    t0 = time.perf_counter()
    live = True
    try:
        snap.restore()
        live = False
        raised = False
    except KeyboardInterrupt:
        raised = True
    seconds.append(time.perf_counter() - t0)
    live = False
    results.append([raised, outcome()])
stop.set()
sender.join()
print(json.dumps({"results": results, "seconds": seconds}))
"""


def test_a_restore_interrupted_by_sigint_still_completes(tmp_path):
    tries = 12
    out = run_script(RESTORE_UNDER_SIGINT_STORM, tmp_path, timeout=240, args=[tries])
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    results = got["results"]
    half = [o for _, o in results if o.startswith("half")]
    assert not half, f"{len(half)} of {tries} restores left a half-restored model: {half[:3]}"
    # the signals did land during the restores: most tries raised, after restoring everything
    late = sum(1 for raised, o in results if raised and o == "restored")
    assert late >= tries // 2, (results, got["seconds"])


DEFER_SEMANTICS = r"""
import os, signal, threading
from lrwidget.engine.interrupts import defer_sigint

log = []


def spin():
    # a pending signal's Python handler runs at the next bytecode boundary: well within this loop
    for _ in range(200_000):
        pass


# 1. the default handler: the KeyboardInterrupt comes after the block, the handler is back
try:
    with defer_sigint():
        os.kill(os.getpid(), signal.SIGINT)
        spin()
        log.append("body done")
except KeyboardInterrupt:
    log.append("KeyboardInterrupt")
log.append(signal.getsignal(signal.SIGINT) is signal.default_int_handler)

# 2. no signal: nothing raised
with defer_sigint():
    spin()
log.append("quiet")

# 3. another Python handler is called afterwards with the signal number
calls = []
signal.signal(signal.SIGINT, lambda s, f: calls.append(s))
with defer_sigint():
    os.kill(os.getpid(), signal.SIGINT)
    spin()
    log.append(list(calls))
spin()
log.append(list(calls))

# 4. SIGINT ignored: nothing is installed, nothing is raised
signal.signal(signal.SIGINT, signal.SIG_IGN)
with defer_sigint():
    log.append(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
    os.kill(os.getpid(), signal.SIGINT)
    spin()
signal.signal(signal.SIGINT, signal.default_int_handler)

# 5. off the main thread (which gets no signals) it does nothing and does not fail
seen = []


def worker():
    with defer_sigint():
        seen.append(signal.getsignal(signal.SIGINT) is signal.default_int_handler)


t = threading.Thread(target=worker)
t.start()
t.join()
log.append(seen)

# 6. nested blocks: one KeyboardInterrupt, after the outer one
try:
    with defer_sigint():
        with defer_sigint():
            os.kill(os.getpid(), signal.SIGINT)
            spin()
        spin()
        log.append("outer body done")
except KeyboardInterrupt:
    log.append("KeyboardInterrupt")

# 7. an error in the body and a pending signal: KeyboardInterrupt, the error as its context
try:
    with defer_sigint():
        os.kill(os.getpid(), signal.SIGINT)
        spin()
        raise ValueError("boom")
except KeyboardInterrupt as e:
    log.append(repr(e.__context__))
print(log)
"""


def test_defer_sigint_semantics(tmp_path):
    out = run_script(DEFER_SEMANTICS, tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == str(
        [
            "body done",
            "KeyboardInterrupt",
            True,
            "quiet",
            [],
            [2],
            True,
            [True],
            "outer body done",
            "KeyboardInterrupt",
            "ValueError('boom')",
        ]
    )


def test_a_script_child_raises_keyboard_interrupt_even_when_pytest_ignores_sigint(tmp_path):
    # pytest started in the background by a non-interactive shell ignores SIGINT, and so would
    # every child: the Ctrl-C tests then saw no KeyboardInterrupt (a CI started with `&`)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        out = run_script(
            "import signal\nprint(signal.getsignal(signal.SIGINT) is signal.default_int_handler)",
            tmp_path,
            timeout=60,
        )
    finally:
        signal.signal(signal.SIGINT, old)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["True"]

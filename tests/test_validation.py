"""Every bad input raises a clear error naming the parameter, before any training step."""

import pytest
import torch
from torch import nn

from lrwidget import LRFinder
from lrwidget.engine import plan


@pytest.fixture
def watched(mlp, digits_loader, full_state):
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-4)
    calls = {"forward": 0, "step": 0}
    mlp.register_forward_hook(lambda *a: calls.__setitem__("forward", calls["forward"] + 1))
    opt.register_step_pre_hook(lambda *a: calls.__setitem__("step", calls["step"] + 1))
    return mlp, opt, calls, full_state(mlp, opt)


BAD_RANGE_TEST = [
    (dict(start_lr=0.0), ValueError, "start_lr"),
    (dict(start_lr=-1e-3), ValueError, "start_lr"),
    (dict(start_lr=float("nan")), ValueError, "start_lr"),
    (dict(start_lr=[1e-3, 1e-4]), ValueError, "start_lr"),  # one group only
    (dict(start_lr="0.001"), TypeError, "start_lr"),
    (dict(start_lr=1e-3, end_lr=1e-3), ValueError, "end_lr"),
    (dict(start_lr=1e-3, end_lr=1e-4), ValueError, "end_lr"),
    (dict(end_lr=1e-5), ValueError, "end_lr"),  # below the optimizer's lr (start_lr=None)
    (dict(num_iter=1), ValueError, "num_iter"),
    (dict(num_iter=0), ValueError, "num_iter"),
    (dict(num_iter=10.0), TypeError, "num_iter"),
    (dict(step_mode="log"), ValueError, "step_mode"),
    (dict(smooth_f=1.0), ValueError, "smooth_f"),
    (dict(smooth_f=-0.1), ValueError, "smooth_f"),
    (dict(diverge_th=1.0), ValueError, "diverge_th"),
    (dict(diverge_th=0.5), ValueError, "diverge_th"),
    (dict(accumulation_steps=0), ValueError, "accumulation_steps"),
    (dict(accumulation_steps=1.5), TypeError, "accumulation_steps"),
    (dict(accumulation_steps=True), TypeError, "accumulation_steps"),  # a bool is no number
    (dict(num_iter=True), TypeError, "num_iter"),
    (dict(step_fn="not callable"), TypeError, "step_fn"),
    (dict(train_loader=[]), ValueError, "train_loader is empty"),
    (
        dict(
            train_loader=torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.zeros(0, 64), torch.zeros(0, dtype=torch.long))
            )
        ),
        ValueError,
        "empty",
    ),
    (dict(train_loader=5), TypeError, "train_loader"),
    (dict(val_loader=[]), ValueError, "val_loader is empty"),
    # one-shot val loaders would be exhausted after the first validation (issue 9, item 3)
    (
        dict(val_loader=iter([(torch.zeros(2, 64), torch.zeros(2, dtype=torch.long))])),
        ValueError,
        "val_loader .*can be iterated only once.*DataLoader or a list",
    ),
    (
        dict(val_loader=(b for b in [(torch.zeros(2, 64), torch.zeros(2, dtype=torch.long))])),
        ValueError,
        "val_loader .*can be iterated only once.*DataLoader or a list",
    ),
    # sweeps that overflow to inf (issue 9, item 8)
    (dict(end_lr=1e308), ValueError, "end_lr.*start_lr"),
    (dict(start_lr=1e-300, end_lr=1e10), ValueError, "end_lr.*start_lr"),
    (dict(start_lr=1e-10, end_lr=1e300, step_mode="linear"), ValueError, "end_lr.*start_lr"),
    # readings that cannot be held (issue 9, item 11)
    (dict(num_iter=10**10), ValueError, "num_iter"),
]


@pytest.mark.parametrize("method", ["range_test", "check_range_test_args"])
@pytest.mark.parametrize(
    "kwargs, exc, words",
    BAD_RANGE_TEST,
    ids=[str(k).split(" at 0x")[0][:60] for k, _, _ in BAD_RANGE_TEST],
)
def test_bad_range_test_arguments(
    watched, digits_loader, full_state, assert_same_state, kwargs, exc, words, method
):
    # check_range_test_args (what the widget calls before its thread starts) raises what
    # range_test raises, and neither trains a step
    model, opt, calls, before = watched
    kwargs = dict(kwargs)
    loader = kwargs.pop("train_loader", digits_loader)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(exc, match=words):
        getattr(finder, method)(loader, **kwargs)
    assert calls == {"forward": 0, "step": 0}
    assert_same_state(full_state(model, opt), before)
    assert finder.result is None and not finder.running


def test_numpy_numbers_are_numbers_everywhere(mlp, digits_loader):
    # one rule (lrwidget.pure.numbers): a user's np.int64 / np.float32 counts, a bool does not
    import numpy as np

    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=1e-4), nn.CrossEntropyLoss())
    result = finder.range_test(
        digits_loader,
        end_lr=np.float32(1.0),
        num_iter=np.int64(6),
        smooth_f=np.float64(0.05),
        diverge_th=np.int32(5),
        accumulation_steps=np.int64(2),
    )
    assert result.num_iter == 6 and len(result) == 6


@pytest.mark.parametrize(
    "result, exc, words",
    [
        (lambda out, y: nn.functional.cross_entropy(out, y, reduction="none"), ValueError, "shape"),
        (lambda out, y: 1.0, TypeError, "scalar loss tensor"),
    ],
)
def test_criterion_result_must_be_a_scalar_tensor(
    watched, digits_loader, full_state, assert_same_state, result, exc, words
):
    model, opt, calls, before = watched
    finder = LRFinder(model, opt, result)
    with pytest.raises(exc, match=f"criterion must return a {words}|{words}"):
        finder.range_test(digits_loader, end_lr=1.0, num_iter=10)
    assert calls["step"] == 0  # the forward had to run to see the loss; no step did
    assert_same_state(full_state(model, opt), before)


def test_step_fn_result_must_be_a_scalar_tensor(
    watched, digits_loader, full_state, assert_same_state
):
    model, opt, calls, before = watched
    with pytest.raises(ValueError, match="step_fn must return a scalar loss tensor"):
        LRFinder(model, opt).range_test(
            digits_loader, end_lr=1.0, num_iter=10, step_fn=lambda m, b: m(b[0])
        )
    assert calls["step"] == 0
    assert_same_state(full_state(model, opt), before)


def test_missing_criterion_and_step_fn(watched, digits_loader):
    model, opt, calls, _ = watched
    with pytest.raises(ValueError, match="criterion is None"):
        LRFinder(model, opt).range_test(digits_loader, end_lr=1.0)
    assert calls == {"forward": 0, "step": 0}


def test_constructor_checks(mlp):
    other = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="optimizer holds none of the model's parameters"):
        LRFinder(mlp, torch.optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        LRFinder(lambda x: x, torch.optim.SGD(mlp.parameters(), lr=0.1))
    with pytest.raises(TypeError, match=r"optimizer must be a torch\.optim\.Optimizer"):
        LRFinder(mlp, "sgd")
    with pytest.raises(TypeError, match="criterion must be callable"):
        LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1), criterion=3)
    with pytest.raises(ValueError, match="amp_backend"):
        LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1), amp_backend="apex")


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(start_lr=0), ValueError, "start_lr"),
        (dict(end_lr=1e-6), ValueError, "end_lr"),
        (dict(num_iter=1), ValueError, "num_iter"),
        (dict(step_mode="cos"), ValueError, "step_mode"),
        (dict(smooth_f=2), ValueError, "smooth_f"),
        (dict(diverge_th=1), ValueError, "diverge_th"),
    ],
)
def test_bad_track_arguments(watched, full_state, assert_same_state, kwargs, exc, words):
    model, opt, calls, before = watched
    with pytest.raises(exc, match=words):
        LRFinder(model, opt).track(**kwargs)
    assert_same_state(full_state(model, opt), before)


def test_subscribe_and_apply_arguments(mlp):
    finder = LRFinder(mlp, torch.optim.SGD(mlp.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="callback"):
        finder.subscribe(None)
    with pytest.raises(ValueError, match="interval"):
        finder.subscribe(print, interval=0)
    for bad in (0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="lr"):
            finder.apply(bad)
    with pytest.raises(TypeError, match="lr"):
        finder.apply("0.1")


# ---- LRFinder.check_range_test_args: the same checks, without running anything ------------------


def test_check_range_test_args_accepts_good_arguments_and_runs_nothing(
    watched, digits_loader, full_state, assert_same_state
):
    model, opt, calls, before = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    seen = []

    class Watched:  # a loader that records being iterated
        def __iter__(self):
            seen.append(1)
            return iter(digits_loader)

        def __len__(self):
            return len(digits_loader)

    assert (
        finder.check_range_test_args(
            Watched(),
            val_loader=Watched(),
            start_lr=1e-5,
            end_lr=1.0,
            num_iter=20,
            step_mode="linear",
            smooth_f=0.1,
            diverge_th=3,
            accumulation_steps=2,
            non_blocking_transfer=False,
        )
        is None
    )
    assert seen == [] and calls == {"forward": 0, "step": 0} and finder.result is None
    assert_same_state(full_state(model, opt), before)


def test_check_range_test_args_names_unknown_keywords_and_the_accepted_ones(watched, digits_loader):
    model, opt, _, _ = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(
        TypeError,
        match=r"unexpected keyword argument 'num_iters'.*"
        r"accepted keyword arguments: val_loader, start_lr",
    ):
        finder.check_range_test_args(digits_loader, num_iters=10)
    with pytest.raises(ValueError, match="criterion is None"):
        LRFinder(model, opt).check_range_test_args(digits_loader)


def test_check_range_test_args_refuses_while_a_test_runs(watched, digits_loader):
    model, opt, _, _ = watched
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    errors = []

    def step(m, batch):
        if not errors:
            try:
                finder.check_range_test_args(digits_loader)
            except RuntimeError as e:
                errors.append(str(e))
        x, y = batch
        return nn.functional.cross_entropy(m(x), y)

    finder.range_test(digits_loader, end_lr=1.0, num_iter=3, step_fn=step)
    assert errors and "already running" in errors[0]


# ---- issue 9: sweeps, batches, closure optimizers and cache_dir ----------------------------------


def test_a_group_pushed_to_inf_by_its_ratio_is_refused(
    mlp, digits_loader, full_state, assert_same_state
):
    # the first group stays finite; the second, 1e12 times larger, would reach inf
    opt = torch.optim.SGD(
        [{"params": mlp[0].parameters(), "lr": 1e-2}, {"params": mlp[1:].parameters(), "lr": 1e10}]
    )
    before = full_state(mlp, opt)
    finder = LRFinder(mlp, opt, nn.CrossEntropyLoss())
    for call in (finder.range_test, finder.check_range_test_args):
        with pytest.raises(ValueError, match=r"end_lr.*start_lr.*group 1"):
            call(digits_loader, end_lr=1e300, num_iter=10)
    with pytest.raises(ValueError, match=r"end_lr.*start_lr.*group 1"):
        finder.track(end_lr=1e300, num_iter=10)
    with pytest.raises(ValueError, match=r"end_lr.*start_lr"):
        finder.track(end_lr=1e308, num_iter=10)
    assert_same_state(full_state(mlp, opt), before)


def test_huge_num_iter_is_refused_by_track_too(watched):
    model, opt, calls, _ = watched
    with pytest.raises(ValueError, match="num_iter"):
        LRFinder(model, opt).track(end_lr=1.0, num_iter=10**10)


@pytest.mark.parametrize("where", ["train_loader", "val_loader"])
@pytest.mark.parametrize("batch", ["dict", "tensor", "one item"])
def test_batches_that_are_not_inputs_labels_need_step_fn(
    watched, digits, full_state, assert_same_state, where, batch
):
    model, opt, calls, before = watched
    X, y = digits
    make = {
        "dict": lambda i: {"x": X[i : i + 8], "y": y[i : i + 8]},
        "tensor": lambda i: X[i : i + 8],
        "one item": lambda i: (X[i : i + 8],),
    }[batch]
    bad = [make(i) for i in range(0, 32, 8)]
    good = [(X[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)]
    train, val = (bad, None) if where == "train_loader" else (good, bad)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    with pytest.raises(
        TypeError,
        match=rf"{where} yields .*\(inputs, labels, \*extras\).*"
        r"step_fn\(model, batch\) -> loss",
    ):
        finder.range_test(train, val_loader=val, end_lr=1.0, num_iter=10)
    assert calls == {"forward": 0, "step": 0}
    assert_same_state(full_state(model, opt), before)


def test_closure_optimizer_with_a_grad_scaler_is_refused(
    mlp, digits_loader, full_state, assert_same_state
):
    opt = torch.optim.LBFGS(mlp.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu")
    before = full_state(mlp, opt, scaler)
    finder = LRFinder(mlp, opt, nn.CrossEntropyLoss(), grad_scaler=scaler)
    for call in (finder.range_test, finder.check_range_test_args):
        with pytest.raises(ValueError, match=r"LBFGS.*closure.*grad_scaler"):
            call(digits_loader, end_lr=1.0, num_iter=10)
    assert_same_state(full_state(mlp, opt, scaler), before)


def _bad_cache_dirs(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {"missing": tmp_path / "missing", "a file": a_file, "under a file": a_file / "sub"}


@pytest.mark.parametrize("kind", ["missing", "a file", "under a file", "proc"])
def test_invalid_cache_dir_is_refused_before_any_step(
    watched, digits_loader, tmp_path, full_state, assert_same_state, kind
):
    model, opt, calls, before = watched
    if kind == "proc":
        # a directory even root cannot create files in (os.access says writable to root)
        import os

        if not os.path.isdir("/proc/self"):
            pytest.skip("no /proc on this system")
        cache_dir = "/proc"
    else:
        cache_dir = _bad_cache_dirs(tmp_path)[kind]
    finder = LRFinder(model, opt, nn.CrossEntropyLoss(), memory_cache=False, cache_dir=cache_dir)
    for call in (finder.range_test, finder.check_range_test_args):
        with pytest.raises(ValueError, match="cache_dir"):
            call(digits_loader, end_lr=1.0, num_iter=10)
    with pytest.raises(ValueError, match="cache_dir"):
        finder.track(end_lr=1.0, num_iter=10)
    assert calls == {"forward": 0, "step": 0}
    assert_same_state(full_state(model, opt), before)
    # memory_cache=True does not use cache_dir: nothing to refuse
    ok = LRFinder(model, opt, nn.CrossEntropyLoss(), memory_cache=True, cache_dir=cache_dir)
    assert ok.check_range_test_args(digits_loader, end_lr=1.0, num_iter=10) is None


def test_a_read_only_cache_dir_is_refused():
    # a 0500 directory. Root may write anywhere, so as root the check runs in a child process
    # whose effective user is "nobody" (set after its imports: the interpreter lives under /root)
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    base = tempfile.mkdtemp(prefix="lrwidget-ro-")  # /tmp: reachable by "nobody"
    try:
        os.chmod(base, 0o755)
        ro = os.path.join(base, "ro")
        os.mkdir(ro, 0o500)
        os.chmod(ro, 0o500)
        code = (
            "import os, sys, torch; from torch import nn; from lrwidget import LRFinder\n"
            "m = nn.Linear(2, 1); f = LRFinder(m, torch.optim.SGD(m.parameters(), lr=0.1),"
            " nn.MSELoss(), memory_cache=False, cache_dir=sys.argv[1])\n"
            "if os.geteuid() == 0:\n    os.setegid(65534); os.seteuid(65534)\n"
            "assert not os.access(sys.argv[1], os.W_OK, effective_ids=True)\n"
            "try:\n    f.check_range_test_args([(torch.ones(1, 2), torch.ones(1, 1))],"
            " end_lr=1.0)\n"
            "except ValueError as e:\n    print('refused:', e)\n"
        )
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run(
            [sys.executable, "-c", code, ro],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=base,
            env={**os.environ, "PYTHONPATH": root},
        )
        assert out.returncode == 0, out.stderr
        assert "refused:" in out.stdout and "cache_dir" in out.stdout, out.stdout
        assert "not writable" in out.stdout, out.stdout
    finally:
        os.chmod(os.path.join(base, "ro"), 0o700)
        shutil.rmtree(base)


# ---------------------------- a loss without a graph, a frozen model (issue 16): clear errors
def _detached_criterion(out, y):
    return torch.tensor(nn.functional.cross_entropy(out, y).item())  # no graph: a copy


def _detached_step_fn(model, batch):
    return nn.functional.cross_entropy(model(batch[0]), batch[1]).detach()


@pytest.mark.parametrize(
    "setup",
    ["plain", "staged", "accumulation", "closure optimizer", "val_loader", "step_fn"],
)
def test_a_loss_without_a_graph_is_refused_before_any_step(
    mlp, digits_loader, full_state, assert_same_state, setup, monkeypatch
):
    opt = (torch.optim.LBFGS if setup == "closure optimizer" else torch.optim.Adam)(
        mlp.parameters(), lr=1e-4
    )
    steps = []
    opt.register_step_pre_hook(lambda *a: steps.append(1))
    before = full_state(mlp, opt)
    crit = nn.CrossEntropyLoss() if setup == "step_fn" else _detached_criterion
    finder = LRFinder(mlp, opt, crit)
    kw = dict(end_lr=1.0, num_iter=10)
    if setup == "accumulation":
        kw["accumulation_steps"] = 2
    if setup == "val_loader":
        kw["val_loader"] = [next(iter(digits_loader))]
    if setup == "step_fn":
        kw["step_fn"] = _detached_step_fn
    source = "step_fn" if setup == "step_fn" else "criterion"
    monkeypatch.setattr(plan, "STAGE_ON_CPU", setup == "staged")
    with pytest.raises(
        ValueError, match=rf"{source} returned a loss that does not require grad.*detach"
    ):
        finder.range_test(digits_loader, progress=False, **kw)
    # LBFGS is entered with its closure, which raises before the first update
    assert steps == ([1] if setup == "closure optimizer" else [])
    assert_same_state(full_state(mlp, opt), before)
    assert finder.result.stop_reason == "error" and not finder.running


def test_a_range_test_under_no_grad_says_so(mlp, digits_loader, full_state, assert_same_state):
    opt = torch.optim.SGD(mlp.parameters(), lr=1e-4)
    before = full_state(mlp, opt)
    with torch.no_grad(), pytest.raises(ValueError, match=r"torch\.no_grad"):
        LRFinder(mlp, opt, nn.CrossEntropyLoss()).range_test(digits_loader, num_iter=10)
    assert_same_state(full_state(mlp, opt), before)


@pytest.mark.parametrize("frozen", ["the whole model", "the optimizer's params"])
@pytest.mark.parametrize("method", ["range_test", "check_range_test_args", "track"])
def test_a_frozen_model_is_refused_before_anything_runs(
    make_mlp, digits_loader, full_state, assert_same_state, frozen, method
):
    model = make_mlp()
    held = model if frozen == "the whole model" else model[0]  # the optimizer holds these
    opt = torch.optim.SGD(held.parameters(), lr=1e-4)
    for p in held.parameters():
        p.requires_grad_(False)
    calls = []
    model.register_forward_hook(lambda *a: calls.append(1))
    before = full_state(model, opt)
    finder = LRFinder(model, opt, nn.CrossEntropyLoss())
    args = () if method == "track" else (digits_loader,)
    with pytest.raises(ValueError, match=r"optimizer.*requires_grad.*requires_grad_\(True\)"):
        getattr(finder, method)(*args, num_iter=10)
    assert calls == [] and finder.result is None and not finder.running
    assert_same_state(full_state(model, opt), before)

import json
import math
import os
import stat
import tracemalloc

import numpy as np
import pytest

from lrwidget.engine.history import History, RangeTestResult
from lrwidget.pure import suggest


def _reference_smoothing(losses, sf):
    # fastai's bias-corrected EMA written with beta = 1 - smooth_f
    beta, avg, out = 1 - sf, 0.0, []
    for i, x in enumerate(losses):
        avg = beta * avg + (1 - beta) * x
        out.append(avg / (1 - beta ** (i + 1)))
    return np.array(out)


@pytest.mark.parametrize("sf", [0.05, 0.3, 0.9])
def test_smoothing_is_bias_corrected_ema(sf):
    rng = np.random.default_rng(1)
    losses = rng.uniform(0.5, 3.0, 200)
    h = History(200, sf)
    got = [h.append(1e-3 * (i + 1), x) for i, x in enumerate(losses)]
    np.testing.assert_allclose(got, _reference_smoothing(losses, sf), rtol=1e-10)
    np.testing.assert_allclose(h.smoothed[: h.n], got)
    assert got[0] == losses[0]  # no pull towards zero at the start
    assert h.best == min(got)
    np.testing.assert_array_equal(h.losses, losses)


def test_constant_loss_stays_constant():
    h = History(50, 0.05)
    vals = [h.append(0.1, 2.5) for _ in range(50)]
    np.testing.assert_allclose(vals, 2.5, rtol=1e-12)


def test_smooth_f_zero_means_raw():
    h = History(3, 0.0)
    assert [h.append(1, x) for x in (3.0, 1.0, 2.0)] == [3.0, 1.0, 2.0]


def test_non_finite_losses_are_kept_as_they_are():
    h = History(4, 0.05)
    h.append(1e-3, 1.0)
    h.append(1e-2, float("nan"))
    h.append(1e-1, float("inf"))
    assert math.isnan(h.losses[1]) and h.losses[2] == math.inf
    assert not np.isfinite(h.smoothed[1:3]).any()
    assert h.best == 1.0 and h.n == 3


def test_full_history_raises():
    h = History(2, 0.05)
    h.append(1, 1.0)
    h.append(2, 1.0)
    with pytest.raises(IndexError):
        h.append(3, 1.0)
    assert h.n == 2


def test_100k_readings_fit_in_4_mb_and_appending_allocates_nothing_lasting():
    h = History(100_000, 0.05)
    assert h.nbytes <= 4_000_000
    assert h.nbytes == 3 * 8 * 100_000
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for i in range(50_000):
        h.append(1e-3, 1.0 + (i % 7))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 10_000, f"{grown} bytes kept after 50k appends"
    assert h.n == 50_000


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_capacity(bad):
    with pytest.raises(ValueError, match="capacity"):
        History(bad, 0.05)


def _result():
    lrs = np.logspace(-5, 0, 60)
    losses = 1 / (1 + np.exp(4 * (np.log10(lrs) + 2.5))) + 0.1
    losses[-2] = np.nan
    losses[-1] = np.inf
    smoothed = losses.copy()
    smoothed[-3] = -np.inf
    return RangeTestResult(lrs, losses, smoothed, "diverged", "exp", 1e-5, 1.0, 100, 1.5)


def test_json_round_trip_with_nan_and_inf(tmp_path):
    r = _result()
    p = tmp_path / "r.json"
    r.save(p)

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    d = json.loads(p.read_text(), parse_constant=no_constants)
    assert d["losses"][-2] is None and d["losses"][-1] == "inf" and d["smoothed"][-3] == "-inf"
    back = RangeTestResult.load(p)
    np.testing.assert_array_equal(back.lrs, r.lrs)
    np.testing.assert_array_equal(back.losses, r.losses)  # NaN == NaN for this helper
    np.testing.assert_array_equal(back.smoothed, r.smoothed)
    assert (
        back.stop_reason,
        back.step_mode,
        back.start_lr,
        back.end_lr,
        back.num_iter,
        back.elapsed,
    ) == ("diverged", "exp", 1e-5, 1.0, 100, 1.5)
    assert back.suggestions == r.suggestions
    assert list(d["suggestions"]) == list(r.suggestions)


def test_suggestions_come_from_the_suggest_module():
    r = _result()
    assert next(iter(r.suggestions)) == suggest.DEFAULT
    expect = suggest.suggest(r.lrs, r.smoothed, raw=r.losses)
    assert r.suggested_lr == expect.lr
    h = r.history
    assert set(h) == {"lr", "loss"} and isinstance(h["loss"], list)
    np.testing.assert_array_equal(h["lr"], r.lrs)
    np.testing.assert_array_equal(h["loss"], r.smoothed)


def test_result_rejects_bad_fields():
    with pytest.raises(ValueError, match="stop_reason"):
        RangeTestResult([1.0], [1.0], [1.0], "exploded", "exp", 1, 2, 2, 0)
    with pytest.raises(ValueError, match=r"same length|one length"):
        RangeTestResult([1.0, 2.0], [1.0], [1.0], "completed", "exp", 1, 2, 2, 0)
    with pytest.raises(ValueError, match="missing"):
        RangeTestResult.from_dict({"lrs": []})


def test_history_has_no_dead_last_method():
    # issue 10: History.last was used nowhere (readers take view() or the arrays up to n)
    assert not hasattr(History, "last")


# ---------------------------------------------------------------- save is atomic (issue 9, item 6)
def _big_result(n=200_000):
    lrs = np.logspace(-6, 1, n)
    losses = 2.0 + np.sin(np.arange(n) / 1000.0)
    return RangeTestResult(lrs, losses, losses.copy(), "completed", "exp", 1e-6, 10.0, n, 3.0)


def _good_file(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    p = d / "r.json"
    _result().save(p)
    return d, p


def _same_as_good(p):
    back, good = RangeTestResult.load(p), _result()
    np.testing.assert_array_equal(back.lrs, good.lrs)
    np.testing.assert_array_equal(back.losses, good.losses)
    assert back.stop_reason == good.stop_reason


def test_save_that_hits_the_disk_limit_leaves_the_old_file_whole(tmp_path):
    from tests.subproc import run_script

    d, p = _good_file(tmp_path)
    out = run_script(
        f"""
        import errno, resource, signal
        from tests.test_history import _big_result
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        big = _big_result()
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, resource.RLIM_INFINITY))
        try:
            big.save({str(p)!r})
        except OSError as e:
            print("OSError", errno.errorcode[e.errno])
        else:
            print("saved")
    """,
        tmp_path / "child",
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["OSError", "EFBIG"]
    _same_as_good(p)
    assert os.listdir(d) == ["r.json"]  # no temporary file left behind


def test_save_interrupted_by_ctrl_c_while_writing_leaves_the_old_file_whole(tmp_path):
    from tests.subproc import run_script

    d, p = _good_file(tmp_path)
    # a real SIGINT, sent when save makes its first write call: deterministic, unlike a timer
    out = run_script(
        f"""
        import os, signal, sys
        from tests.test_history import _big_result
        big = _big_result(20_000)
        fired = []

        def on_call(frame, event, arg):
            if event == "c_call" and getattr(arg, "__name__", "") == "write" and not fired:
                fired.append(getattr(arg, "__qualname__", "write"))
                os.kill(os.getpid(), signal.SIGINT)

        sys.setprofile(on_call)
        try:
            big.save({str(p)!r})
            outcome = "saved"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        finally:
            sys.setprofile(None)
        print(outcome, len(fired))
    """,
        tmp_path / "child",
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["KeyboardInterrupt", "1"]
    _same_as_good(p)
    assert os.listdir(d) == ["r.json"]


def _umask():
    # read, not set-and-reset: os.umask would change it for every thread meanwhile
    with open("/proc/self/status") as f:
        return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the umask from /proc")
def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path):
    d, p = _good_file(tmp_path)
    os.chmod(p, 0o640)
    big = _big_result(100)
    big.save(p)
    assert len(RangeTestResult.load(p)) == 100
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
    assert os.listdir(d) == ["r.json"]
    fresh = d / "new.json"
    big.save(fresh)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o666 & ~_umask()


# ------------------------------------------------------ load refuses what it cannot read (item 13)
def _with(key, value):
    def change(d):
        d[key] = value
        return d

    return change


def _item(key, i, value):
    def change(d):
        d[key][i] = value
        return d

    return change


def _shorter(key):
    def change(d):
        d[key].pop()
        return d

    return change


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: None, "JSON object.*null"),
        (lambda d: [1, 2], "JSON object.*list"),
        (_with("version", 2), "written by a newer lrwidget.*version 2.*reads version 1"),
        (_with("version", "1"), "version"),
        (_with("version", 0), "version"),
        (_item("lrs", 3, -1e-3), r"lrs\[3\].*-0.001.*> 0"),
        (_item("lrs", 0, 0), r"lrs\[0\].*> 0"),
        (_item("lrs", 5, None), r"lrs\[5\].*finite"),
        (_item("lrs", 5, "inf"), r"lrs\[5\].*finite"),
        (_item("lrs", 5, "fast"), r"lrs\[5\]"),
        (_item("losses", 2, [1]), r"losses\[2\]"),
        (_item("smoothed", 2, True), r"smoothed\[2\]"),
        (_with("lrs", 5), "lrs must be a list"),
        (_shorter("losses"), "one length.*60, 59, 60"),
        (_with("stop_reason", "exploded"), "stop_reason.*completed.*got 'exploded'"),
        (_with("step_mode", "cubic"), "step_mode.*exp.*got 'cubic'"),
        (_with("num_iter", -3), "num_iter"),
        (_with("elapsed", "soon"), "elapsed"),
    ],
)
def test_from_dict_and_load_name_what_is_wrong(tmp_path, change, match):
    bad = change(_result().to_dict())
    with pytest.raises(ValueError, match=match):
        RangeTestResult.from_dict(bad)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=match) as info:
        RangeTestResult.load(p)
    assert str(p) in str(info.value)


def test_load_of_a_file_that_is_not_json_names_the_file(tmp_path):
    p = tmp_path / "r.json"
    p.write_text('{"lrs": [1e-3, ')
    with pytest.raises(ValueError, match=r"r\.json") as info:
        RangeTestResult.load(p)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_a_result_without_readings_still_round_trips(tmp_path):
    r = RangeTestResult([], [], [], "error", "exp", 1e-5, 1.0, 10, 0.1, "ValueError: x")
    p = tmp_path / "r.json"
    r.save(p)
    back = RangeTestResult.load(p)
    assert len(back) == 0 and back.error == "ValueError: x" and back.stop_reason == "error"


def test_from_dict_takes_numpy_scalars_and_refuses_bools_then_saves_plain_json(tmp_path):
    # a dict built with numpy (np.int64 counts, np.float32 times) is a number like any other
    # (the one rule: lrwidget.pure.numbers); a bool never is
    d = _result().to_dict()
    d.update(version=np.int64(1), num_iter=np.int64(100), elapsed=np.float32(0.5))
    r = RangeTestResult.from_dict(d)
    assert type(r.num_iter) is int and r.num_iter == 100 and r.elapsed == 0.5
    r.save(tmp_path / "r.json")  # json refuses an np.int64: the count must be a plain int
    assert RangeTestResult.load(tmp_path / "r.json").num_iter == 100
    for field in ("version", "num_iter", "elapsed"):
        with pytest.raises(ValueError, match=field):
            RangeTestResult.from_dict({**d, field: True})


# ------------------------------------------------- hostile files: ValueError only (issue 16, 9)
_BIG = 10**400  # float() of it raises OverflowError
_DEEP = "[" * 100_000 + "]" * 100_000  # json's parser raises RecursionError on it


def _deep(levels=100_000):
    deep: dict = {"a": None}
    for _ in range(levels):  # built without recursion; repr() of it would recurse
        deep = {"a": deep}
    return deep


def _hostile_fields():
    """(field, value) pairs: a 400-digit int in every numeric field, deep nesting, wrong types,
    huge values."""
    deep = _deep()
    cases = [(k, _BIG, "big") for k in ("version", "start_lr", "end_lr", "num_iter", "elapsed")]
    cases += [(k, [_BIG] * 3, "big-items") for k in ("lrs", "losses", "smoothed")]
    cases += [(k, -_BIG, "minus-big") for k in ("start_lr", "num_iter", "elapsed")]
    cases += [(k, deep, "deep") for k in ("lrs", "version", "stop_reason", "step_mode", "error")]
    cases += [("lrs", [deep], "deep-item"), ("losses", [deep], "deep-item")]
    cases += [("num_iter", deep, "deep")]
    cases += [(k, v, type(v).__name__) for k in ("stop_reason", "step_mode") for v in ([], {}, 3)]
    cases += [("error", ["x"], "list"), ("num_iter", 2.5, "float")]
    cases += [("lrs", "x" * 10_000_000, "huge-str"), ("error", {"x" * 10_000_000: 1}, "huge")]
    cases += [("losses", [1e-3] * 2_000_000, "huge-list")]
    return [pytest.param(k, v, id=f"{k}-{name}") for k, v, name in cases]


@pytest.mark.parametrize("field, value", _hostile_fields())
def test_from_dict_of_hostile_values_raises_value_error_naming_the_field(field, value):
    d = _result().to_dict()
    d[field] = value
    with pytest.raises(ValueError) as info:
        RangeTestResult.from_dict(d)
    msg = str(info.value)
    assert field in msg
    assert len(msg) < 1000  # a huge value is not copied into the message


@pytest.mark.parametrize(
    "text, match",
    [
        (_DEEP, "nested too deeply"),
        ('{"lrs": ' + _DEEP + "}", "nested too deeply"),
        (
            '{"lrs": [1' + "0" * 400 + "], " + '"losses": [1], "smoothed": [1], '
            '"stop_reason": "completed"}',
            r"lrs\[0\]",
        ),
        (
            '{"lrs": [1e-3], "losses": [1], "smoothed": [1], "stop_reason": "completed", '
            '"start_lr": 1' + "0" * 400 + "}",
            "start_lr",
        ),
        (
            '{"lrs": [1e-3], "losses": [1], "smoothed": [1], "stop_reason": "completed", '
            '"num_iter": 1' + "0" * 400 + "}",
            "num_iter",
        ),
        ("1" + "0" * 5000, "not a RangeTestResult JSON file"),  # past Python's digit limit
    ],
    ids=["deep", "deep-field", "big-lr", "big-start", "big-num-iter", "5000-digits"],
)
def test_load_of_a_hostile_file_raises_value_error_naming_the_file(tmp_path, text, match):
    p = tmp_path / "hostile.json"
    p.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        RangeTestResult.load(p)
    assert str(p) in str(info.value) and len(str(info.value)) < 1000 + len(str(p))

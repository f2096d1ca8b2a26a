import json
import math
import tracemalloc

import numpy as np
import pytest

from lrwidget import suggest
from lrwidget.history import History, RangeTestResult


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
    np.testing.assert_allclose(h.smoothed[:h.n], got)
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
    assert (back.stop_reason, back.step_mode, back.start_lr, back.end_lr, back.num_iter,
            back.elapsed) == ("diverged", "exp", 1e-5, 1.0, 100, 1.5)
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
    with pytest.raises(ValueError, match="same length|one length"):
        RangeTestResult([1.0, 2.0], [1.0], [1.0], "completed", "exp", 1, 2, 2, 0)
    with pytest.raises(ValueError, match="missing"):
        RangeTestResult.from_dict({"lrs": []})

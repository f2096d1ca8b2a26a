"""The finished curve's smoother (issue 21): no lag, no divergence smeared backwards. The views
draw it once a run is over; the live EMA stays the stream's, the stop rule's and the rules'."""

import time

import numpy as np
import pytest

from lrwidget.engine.history import History
from lrwidget.pure import smooth
from lrwidget.pure.smooth import centered

LRS = np.logspace(-7, 1, 100)
T = np.log10(LRS)


def valley(noise=0.0, seed=0):
    """A fall, a floor and a steep rise (the shape of a range test), lowest at reading 74."""
    true = 2 / (1 + np.exp(2 * (T + 3))) + 0.3 + np.where(T > -1, 5 * (T + 1) ** 2, 0)
    return true + noise * np.random.default_rng(seed).standard_normal(T.size)


def ema(losses, smooth_f=0.05):
    h = History(len(losses), smooth_f)
    return np.array([h.append(lr, x) for lr, x in zip(LRS, losses)])


def test_the_lowest_point_stays_where_the_raw_curve_has_it():
    raw = valley()
    low = int(np.argmin(raw))
    assert abs(int(np.argmin(centered(LRS, raw))) - low) <= 1
    assert int(np.argmin(ema(raw))) - low >= 3  # the live EMA lags: what this replaces


def test_noise_is_smoothed_and_a_spike_is_ignored():
    raw = valley(noise=0.05)
    raw[40] += 5.0
    err = centered(LRS, raw)[10:72] - valley()[10:72]  # the fall and the floor
    assert np.max(np.abs(err)) < 0.1
    assert np.std(err) < 0.05 * 0.6  # the noise: 0.05


def test_an_explosion_is_not_smeared_backwards():
    raw = 1.0 + 0.05 * np.random.default_rng(1).standard_normal(100)
    raw[80:] = 1e4 * np.arange(1, 21)  # finite, but far above where it started
    sm = centered(LRS, raw)
    assert np.all(sm[:80] < 1.2) and np.all(sm[80:] > 1e3)


def test_readings_from_the_first_non_finite_loss_on_are_nan():
    raw = valley(noise=0.05)
    cut = raw.copy()
    cut[70] = np.nan
    sm = centered(LRS, cut)
    assert np.isnan(sm[70:]).all() and np.isfinite(sm[:70]).all()
    # what came after the cut never moves what came before it
    np.testing.assert_array_equal(sm[:70], centered(LRS[:70], raw[:70]))


def test_bad_lrs_are_nan_and_the_window_is_in_log_lr_whatever_the_order():
    raw = valley(noise=0.05)
    lrs = LRS.copy()
    lrs[5] = -1.0
    sm = centered(lrs, raw)
    assert np.isnan(sm[5]) and np.isfinite(np.delete(sm, 5)).all()
    perm = np.random.default_rng(2).permutation(100)
    np.testing.assert_allclose(centered(LRS[perm], raw[perm]), centered(LRS, raw)[perm])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lrs=LRS, losses=LRS[:5]), "one length"),
        (dict(lrs=[[1.0]], losses=[[1.0]]), "one-dimensional"),
        (dict(lrs=LRS, losses=LRS, half_width=0), "half_width"),
        (dict(lrs=LRS, losses=LRS, half_width=True), "half_width"),
        (dict(lrs=LRS, losses=LRS, half_width=float("nan")), "half_width"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        centered(**kwargs)


def test_short_and_empty_curves():
    assert centered([], []).size == 0
    assert centered([1e-3], [2.0]).tolist() == [2.0]
    assert np.isnan(centered([1e-3, 1e-2], [np.inf, 1.0])).all()


def test_a_long_tracked_run_is_smoothed_quickly():
    n = 200_000
    lrs = np.logspace(-6, 0, n)
    raw = 1 + np.random.default_rng(3).standard_normal(n)
    t0 = time.perf_counter()
    sm = centered(lrs, raw)
    assert time.perf_counter() - t0 < 5.0
    # dense sweep: MAX_SIDE readings a side, so the noise falls by about sqrt(2 * MAX_SIDE + 1)
    assert np.std(sm[1000:-1000]) < 3 / np.sqrt(2 * smooth.MAX_SIDE + 1)

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrwidget.pure.schedule import factors, schedule, start_lrs_for


def test_exp_formula_and_exact_endpoints():
    s = schedule(1e-7, 10.0, 100, "exp")[:, 0]
    i = np.arange(100)
    np.testing.assert_allclose(s, 1e-7 * (10.0 / 1e-7) ** (i / 99), rtol=1e-12)
    assert s[0] == 1e-7 and s[-1] == 10.0
    assert np.all(np.diff(s) > 0)
    # geometric: constant ratio between neighbours
    r = s[1:] / s[:-1]
    np.testing.assert_allclose(r, r[0], rtol=1e-9)


def test_linear_is_evenly_spaced():
    s = schedule(0.1, 1.0, 10, "linear")[:, 0]
    assert s[0] == 0.1 and s[-1] == 1.0
    np.testing.assert_allclose(np.diff(s), 0.1, rtol=1e-9)


def test_groups_keep_their_ratios():
    s = schedule([1e-4, 1e-5, 3e-4], 1.0, 50, "exp")
    np.testing.assert_allclose(s[:, 1] / s[:, 0], 0.1, rtol=1e-12)
    np.testing.assert_allclose(s[:, 2] / s[:, 0], 3.0, rtol=1e-12)
    assert s[0].tolist() == [1e-4, 1e-5, 3e-4]
    assert s[-1, 0] == 1.0


def test_start_lr_resolution():
    assert start_lrs_for(None, [0.1, 0.01]) == [0.1, 0.01]
    assert start_lrs_for(1e-3, [0.1, 0.01]) == pytest.approx([1e-3, 1e-4])
    assert start_lrs_for([1e-3, 5e-3], [0.1, 0.01]) == [1e-3, 5e-3]
    with pytest.raises(ValueError, match="one number per param group"):
        start_lrs_for([1e-3], [0.1, 0.01])
    with pytest.raises(ValueError, match="start_lr"):
        start_lrs_for(None, [0.0])


@pytest.mark.parametrize(
    "args, exc, words",
    [
        ((0.0, 1.0, 10, "exp"), ValueError, "start_lr"),
        ((-1.0, 1.0, 10, "exp"), ValueError, "start_lr"),
        ((1.0, 1.0, 10, "exp"), ValueError, "end_lr"),
        ((1.0, 0.5, 10, "exp"), ValueError, "end_lr"),
        ((1e-3, float("inf"), 10, "exp"), ValueError, "end_lr"),
        ((1e-3, 1.0, 1, "exp"), ValueError, "num_iter"),
        ((1e-3, 1.0, 2.5, "exp"), TypeError, "num_iter"),
        ((1e-3, 1.0, 10, "log"), ValueError, "step_mode"),
        (("1e-3", 1.0, 10, "exp"), TypeError, "start_lr"),
    ],
)
def test_bad_sweeps_name_the_parameter(args, exc, words):
    with pytest.raises(exc, match=words):
        factors(*args)


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(1e-10, 1e3),
    ratio=st.floats(1.0001, 1e12),
    n=st.integers(2, 3000),
    mode=st.sampled_from(["exp", "linear"]),
    g=st.floats(1e-3, 1e3),
)
def test_property_endpoints_monotone_ratio(start, ratio, n, mode, g):
    end = start * ratio
    if not math.isfinite(end) or end <= start:
        return
    s = schedule([start, start * g], end, n, mode)
    assert s[0, 0] == start and s[-1, 0] == end
    assert np.all(np.isfinite(s))
    assert np.all(np.diff(s[:, 0]) >= 0)
    np.testing.assert_allclose(s[1:-1, 1] / s[1:-1, 0], g, rtol=1e-9)


# ---- Sweep: the schedule computed in chunks, bit for bit (issue 9, items 8 and 11) ----------


def test_sweep_rows_are_the_schedule_bit_for_bit_in_any_chunks():
    from lrwidget.pure.schedule import Sweep

    for mode in ("exp", "linear"):
        full = schedule([3e-7, 1e-8, 2e-5], 7.5, 1001, mode)
        sw = Sweep([3e-7, 1e-8, 2e-5], 7.5, 1001, mode)
        assert len(sw) == 1001 and sw.n_groups == 3
        for size in (1, 7, 64, 1000, 1001, 5000):
            got = np.concatenate([rows for _, rows in sw.chunks(size)])
            np.testing.assert_array_equal(got, full)
            assert [lo for lo, _ in sw.chunks(size)] == list(range(0, 1001, size))
        assert sw.rows(0, 1)[0].tolist() == [3e-7, 1e-8, 2e-5] and sw.rows(1000, 1001)[0, 0] == 7.5
        assert [sw.lr(i) for i in (0, 500, 1000)] == full[[0, 500, 1000], 0].tolist()


def test_sweep_holds_no_per_step_array():
    import sys

    from lrwidget.pure.schedule import Sweep

    sw = Sweep([1e-4, 1e-5], 1.0, 10**12, "exp")  # no allocation proportional to num_iter
    assert sum(sys.getsizeof(getattr(sw, k)) for k in sw.__slots__) < 10_000
    assert sw.lr(10**12 - 1) == 1.0 and sw.lr(0) == 1e-4
    np.testing.assert_allclose(sw.rows(5 * 10**11, 5 * 10**11 + 1)[0], [1e-2, 1e-3], rtol=1e-9)


@pytest.mark.parametrize(
    "starts, end, mode, words",
    [
        ([1e-4], 1e308, "exp", r"end_lr \(1e\+308\) / start_lr \(0\.0001\)"),
        ([1e-300], 1e10, "exp", "end_lr .* / start_lr"),
        ([1e-10], 1e300, "linear", "end_lr .* / start_lr"),
        ([1e-2, 1e10], 1e300, "exp", r"end_lr.*start_lr.*group 1 .*inf"),
        ([1e-2, 1e10], 1e300, "linear", r"end_lr.*start_lr.*group 1 .*inf"),
    ],
)
def test_sweeps_that_overflow_are_refused(starts, end, mode, words):
    from lrwidget.pure.schedule import Sweep

    with pytest.raises(ValueError, match=words):
        Sweep(starts, end, 10, mode)
    with pytest.raises(ValueError, match=words):
        schedule(starts, end, 10, mode)


@settings(max_examples=100, deadline=None)
@given(
    start=st.floats(1e-300, 1e300),
    exp10=st.floats(0.01, 600),
    g=st.floats(1e-300, 1e300),
    mode=st.sampled_from(["exp", "linear"]),
)
def test_property_every_accepted_sweep_is_finite(start, exp10, g, mode):
    from lrwidget.pure.schedule import Sweep

    end = start * 10.0**exp10 if exp10 < 308 else math.inf
    if not math.isfinite(end) or end <= start:
        return
    try:
        sw = Sweep([start, g], end, 50, mode)
    except ValueError as e:
        assert "end_lr" in str(e) and "start_lr" in str(e)
        return
    rows = np.concatenate([r for _, r in sw.chunks(16)])
    assert np.isfinite(rows).all() and (rows > 0).all()

"""The downsampler keeps what a chart would show: spikes, ends, and everything when it fits."""

from __future__ import annotations

import math
from array import array

from mlscope.history import downsample, window


def _wave(n: int) -> tuple[array, array]:
    return array("q", range(n)), array("d", [math.sin(i / 50) for i in range(n)])


def test_a_single_step_spike_is_kept():
    xs, values = _wave(100_000)
    values[61_234] = 1_000.0
    values[7_777] = -1_000.0
    picked = downsample(xs, values, 1000)
    assert 61_234 in picked and 7_777 in picked


def test_first_and_last_points_are_kept():
    xs, values = _wave(50_000)
    picked = downsample(xs, values, 500)
    assert picked[0] == 0 and picked[-1] == 49_999


def test_never_returns_more_than_the_target():
    xs, values = _wave(12_345)
    for target in (4, 5, 10, 999, 1000, 12_344):
        assert len(downsample(xs, values, target)) <= target


def test_is_exact_when_the_series_fits():
    xs, values = _wave(800)
    assert downsample(xs, values, 800) == list(range(800))


def test_indices_come_back_in_x_order_without_duplicates():
    xs, values = _wave(20_000)
    picked = downsample(xs, values, 2000)
    assert picked == sorted(set(picked))


def test_each_bucket_keeps_its_min_and_max():
    xs = array("q", range(1000))
    values = array("d", [0.0] * 1000)
    values[10], values[20] = 5.0, -5.0  # both in the first bucket (steps 0-99)
    picked = downsample(xs, values, 40)  # 10 buckets of 100 steps
    assert 10 in picked and 20 in picked


def test_nan_does_not_hide_a_spike_in_its_bucket():
    xs, values = _wave(10_000)
    values[5_000] = math.nan
    values[5_003] = 99.0
    assert 5_003 in downsample(xs, values, 100)


def test_infinities_count_as_extremes():
    xs, values = _wave(10_000)
    values[300], values[301] = math.inf, -math.inf
    picked = downsample(xs, values, 100)
    assert 300 in picked and 301 in picked


def test_uneven_steps_are_bucketed_by_x_not_by_index():
    xs = array("q", [*range(1000), *range(1_000_000, 1_000_010)])
    values = array("d", [0.0] * 1010)
    values[1005] = 42.0
    picked = downsample(xs, values, 40)
    assert 1005 in picked and len(picked) <= 40


def test_window_selects_an_inclusive_x_range():
    xs = array("q", [0, 10, 10, 20, 30])
    assert window(xs, 10, 20) == (1, 4)
    assert window(xs, None, None) == (0, 5)
    assert window(xs, 31, None) == (5, 5)


def test_downsample_works_within_a_window():
    xs, values = _wave(100_000)
    start, stop = window(xs, 40_000, 40_500)
    picked = downsample(xs, values, 1000, start, stop)
    assert picked == list(range(40_000, 40_501))

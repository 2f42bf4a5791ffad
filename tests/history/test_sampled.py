"""Reduced whole-range series are kept per metric-file version: a repeated chart costs a stat, not a read."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from mlscope.history import HistoryCache
from mlscope.history.sampled import Sampled, SampledHistories, sample


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "metrics").mkdir()
    return tmp_path


def _write(run_dir: Path, key: str, lines: list[tuple[int, float, int]], mode: str = "w") -> None:
    with open(run_dir / "metrics" / key, mode) as handle:
        handle.write("".join(f"{ts} {value!r} {step}\n" for ts, value, step in lines))


def _ramp(count: int, spike_at: int | None = None) -> list[tuple[int, float, int]]:
    return [(1000 + 10 * s, 100.0 if s == spike_at else s * 0.001, s) for s in range(count)]


def _kept(cache: HistoryCache) -> SampledHistories[Sampled]:
    return SampledHistories(cache, lambda s: s)


def test_a_repeated_request_is_answered_without_reading_or_reducing_again(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(10_000))
    cache = HistoryCache()
    sampled = _kept(cache)
    first = sampled.series(run_dir, "loss", points=400)
    read = cache.reads
    assert sampled.series(run_dir, "loss", points=400) is first
    assert cache.reads == read and sampled.computed == 1


def test_an_appended_point_is_seen_by_the_next_request(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(100))
    sampled = _kept(HistoryCache())
    assert sampled.series(run_dir, "loss", points=400).total == 100
    _write(run_dir, "loss", [(99_999, 7.0, 100)], mode="a")
    later = sampled.series(run_dir, "loss", points=400)
    assert later.total == 101 and later.values[-1] == 7.0


def test_a_rewritten_file_of_the_same_size_and_time_is_seen_through_its_inode(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(10))
    sampled = _kept(HistoryCache())
    before = sampled.series(run_dir, "loss", points=400)
    path = run_dir / "metrics" / "loss"
    stat = path.stat()
    replacement = run_dir / "loss.new"
    replacement.write_text(path.read_text().replace(" 0.001 ", " 0.002 "))
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    assert sampled.series(run_dir, "loss", points=400).values[1] == 0.002 != before.values[1]


def test_a_one_step_spike_survives_the_reduction(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(100_000, spike_at=54_321))
    reduced = _kept(HistoryCache()).series(run_dir, "loss", points=200)
    assert len(reduced) <= 200 and reduced.total == 100_000
    assert 100.0 in reduced.values and reduced.steps[reduced.values.index(100.0)] == 54_321


def test_a_zoomed_range_is_reduced_from_the_full_history(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(10_000))
    sampled = _kept(HistoryCache())
    zoomed = sampled.series(run_dir, "loss", points=400, x_min=100, x_max=199)
    assert zoomed.steps == list(range(100, 200)) and zoomed.total == 100
    assert sampled.computed == 0  # ranges are not kept


def test_relative_time_ranges_count_from_the_first_point(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(100))
    zoomed = _kept(HistoryCache()).series(run_dir, "loss", x="relative", points=400, x_min=0, x_max=90)
    assert zoomed.start_timestamp == 1000 and zoomed.steps == list(range(10))


def test_steps_and_times_in_the_same_order_are_monotonic(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(50))
    _write(run_dir, "late", [(2000, 1.0, 0), (1000, 2.0, 1), (3000, 3.0, 2)])  # step 1 logged before step 0
    sampled = _kept(HistoryCache())
    assert sampled.series(run_dir, "loss").monotonic
    assert sampled.series(run_dir, "loss", x="time").monotonic
    assert not sampled.series(run_dir, "late").monotonic
    assert not sampled.series(run_dir, "late", x="time").monotonic


def test_non_finite_values_are_flagged_for_the_encoder(run_dir: Path) -> None:
    _write(run_dir, "loss", [(1000, 1.0, 0), (1001, math.nan, 1)])
    _write(run_dir, "ok", [(1000, 1.0, 0), (1001, 2.0, 1)])
    sampled = _kept(HistoryCache())
    assert not sampled.series(run_dir, "loss").finite
    assert sampled.series(run_dir, "ok").finite


def test_a_missing_metric_is_none(run_dir: Path) -> None:
    assert _kept(HistoryCache()).series(run_dir, "nope") is None
    assert _kept(HistoryCache()).series(run_dir, "../meta.yaml") is None


def test_memory_is_bounded_by_the_points_kept(run_dir: Path) -> None:
    for i in range(5):
        _write(run_dir, f"m{i}", _ramp(1000))
    sampled = SampledHistories(HistoryCache(), lambda s: s, max_points=2500)
    for i in range(5):
        sampled.series(run_dir, f"m{i}", points=1000)
    computed = sampled.computed
    sampled.series(run_dir, "m4", points=1000)  # the most recent is kept
    assert sampled.computed == computed
    sampled.series(run_dir, "m0", points=1000)  # the oldest was dropped
    assert sampled.computed == computed + 1


def test_sample_of_an_empty_range_is_empty(run_dir: Path) -> None:
    _write(run_dir, "loss", _ramp(10))
    snap = HistoryCache().snapshot(run_dir, "loss")
    assert snap is not None
    assert sample(snap, "step", 100, x_min=50, x_max=60).steps == []

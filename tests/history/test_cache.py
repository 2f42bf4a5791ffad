"""The history cache reads a metric file once, then only what was appended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlscope.history import HistoryCache


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "metrics" / "train").mkdir(parents=True)
    return tmp_path


def _write(path: Path, text: str, mode: str = "a") -> None:
    with open(path, mode) as handle:
        handle.write(text)


def _lines(start: int, stop: int) -> str:
    return "".join(f"{1000 + s} {s * 0.5} {s}\n" for s in range(start, stop))


def test_reads_a_history_sorted_by_step(run_dir: Path):
    _write(run_dir / "metrics" / "loss", "100 3.0 2\n100 1.0 0\n100 2.0 1\n")
    snap = HistoryCache().snapshot(run_dir, "loss")
    assert snap is not None
    assert list(snap.steps) == [0, 1, 2] and list(snap.values) == [1.0, 2.0, 3.0]


def test_nested_keys_are_read_from_subfolders(run_dir: Path):
    _write(run_dir / "metrics" / "train" / "loss", _lines(0, 3))
    snap = HistoryCache().snapshot(run_dir, "train/loss")
    assert snap is not None and snap.length == 3


def test_a_missing_metric_is_none(run_dir: Path):
    assert HistoryCache().snapshot(run_dir, "nope") is None


def test_a_key_leaving_the_metrics_folder_is_none(run_dir: Path):
    assert HistoryCache().snapshot(run_dir, "../meta.yaml") is None


def test_an_unchanged_file_is_not_read_again(run_dir: Path):
    _write(run_dir / "metrics" / "loss", _lines(0, 100))
    cache = HistoryCache()
    cache.snapshot(run_dir, "loss")
    read = cache.reads
    cache.snapshot(run_dir, "loss")
    assert cache.reads == read


def test_appends_are_read_incrementally(run_dir: Path):
    path = run_dir / "metrics" / "loss"
    _write(path, _lines(0, 1000))
    cache = HistoryCache()
    cache.snapshot(run_dir, "loss")
    first = cache.reads
    appended = _lines(1000, 1010)
    _write(path, appended)
    snap = cache.snapshot(run_dir, "loss")
    assert snap is not None and snap.length == 1010
    assert cache.reads - first == len(appended.encode())


def test_a_torn_last_line_is_ignored_then_picked_up(run_dir: Path):
    path = run_dir / "metrics" / "loss"
    _write(path, _lines(0, 5) + "1005 2.")
    cache = HistoryCache()
    snap = cache.snapshot(run_dir, "loss")
    assert snap is not None and snap.length == 5
    _write(path, "5 5\n")
    snap = cache.snapshot(run_dir, "loss")
    assert snap is not None and snap.length == 6
    assert snap.values[-1] == 2.5 and snap.steps[-1] == 5


def test_a_rewritten_file_is_read_from_the_start(run_dir: Path):
    path = run_dir / "metrics" / "loss"
    _write(path, _lines(0, 10))
    cache = HistoryCache()
    cache.snapshot(run_dir, "loss")
    replacement = run_dir / "replacement"
    _write(replacement, _lines(0, 3), "w")
    os.replace(replacement, path)
    snap = cache.snapshot(run_dir, "loss")
    assert snap is not None and snap.length == 3


def test_a_deleted_file_is_forgotten(run_dir: Path):
    path = run_dir / "metrics" / "loss"
    _write(path, _lines(0, 10))
    cache = HistoryCache()
    cache.snapshot(run_dir, "loss")
    path.unlink()
    assert cache.snapshot(run_dir, "loss") is None and cache.points == 0


def test_malformed_lines_are_skipped_and_counted(run_dir: Path):
    _write(run_dir / "metrics" / "loss", "100 1.0 0\ngarbage\n101 2.0 1\n")
    snap = HistoryCache().snapshot(run_dir, "loss")
    assert snap is not None and snap.length == 2 and snap.skipped == 1


def test_memory_is_bounded_by_points_least_recently_used_first(run_dir: Path):
    for key in ("a", "b", "c"):
        _write(run_dir / "metrics" / key, _lines(0, 100))
    cache = HistoryCache(max_points=250)
    cache.snapshot(run_dir, "a")
    cache.snapshot(run_dir, "b")
    cache.snapshot(run_dir, "a")  # a is now more recent than b
    cache.snapshot(run_dir, "c")
    assert cache.points <= 250
    read = cache.reads
    cache.snapshot(run_dir, "a")
    assert cache.reads == read  # a survived; b was evicted


def test_sorting_by_time_orders_by_timestamp(run_dir: Path):
    _write(run_dir / "metrics" / "loss", "300 1.0 0\n100 2.0 1\n200 3.0 2\n")
    snap = HistoryCache().snapshot(run_dir, "loss", "time")
    assert snap is not None and list(snap.timestamps) == [100, 200, 300] and list(snap.steps) == [1, 2, 0]


# ------------------------------------------- MLflow's get-history endpoints


def test_history_lists_points_in_file_order_as_mlflow_returns_them(run_dir: Path):
    _write(run_dir / "metrics" / "loss", "100 3.0 2\n101 1.0 0\n102 2.0 1\n")
    points = HistoryCache().history(run_dir, "loss")
    assert [(p.timestamp, p.value, p.step) for p in points] == [(100, 3.0, 2), (101, 1.0, 0), (102, 2.0, 1)]


def test_history_keeps_the_dataset_of_five_field_lines(run_dir: Path):
    _write(run_dir / "metrics" / "loss", "100 3.0 0\n101 1.0 1 eval set d1g35t\n")
    points = HistoryCache().history(run_dir, "loss")
    assert (points[0].dataset_name, points[1].dataset_name, points[1].dataset_digest) == (None, "eval set", "d1g35t")


def test_history_after_an_append_reads_only_the_new_bytes(run_dir: Path):
    cache = HistoryCache()
    _write(run_dir / "metrics" / "loss", _lines(0, 1000))
    assert len(cache.history(run_dir, "loss")) == 1000
    read_before = cache.reads
    _write(run_dir / "metrics" / "loss", _lines(1000, 1001))
    assert cache.history(run_dir, "loss")[-1].step == 1000
    assert cache.reads - read_before == len(_lines(1000, 1001))


def test_history_shares_its_reads_with_the_charts(run_dir: Path):
    cache = HistoryCache()
    _write(run_dir / "metrics" / "loss", _lines(0, 100))
    cache.snapshot(run_dir, "loss")
    read_before = cache.reads
    assert len(cache.history(run_dir, "loss")) == 100
    assert cache.reads == read_before


def test_history_of_a_file_with_a_garbage_line_is_refused(run_dir: Path):
    from mlscope.store.errors import MalformedError

    _write(run_dir / "metrics" / "loss", "100 1.0 0\nthis is not a metric\n")
    with pytest.raises(MalformedError, match="loss"):
        HistoryCache().history(run_dir, "loss")


def test_history_of_a_missing_metric_is_empty(run_dir: Path):
    assert HistoryCache().history(run_dir, "nope") == []


def test_a_key_no_file_can_be_named_is_a_missing_metric(run_dir: Path):
    cache = HistoryCache()
    assert cache.snapshot(run_dir, "loss\ud800") is None
    assert cache.stamp(run_dir, "loss\ud800") == (0, -1, 0)

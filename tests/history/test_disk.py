"""Reduced histories kept on disk (history/disk.py): a restart reads no metric file, and nothing stale is ever served."""

from __future__ import annotations

import math
import os
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mlscope.history import HistoryCache
from mlscope.history.cache import SeriesData
from mlscope.history.disk import SeriesStore
from mlscope.history.grouping import GroupHistories, Summary, grid_for, summarise
from mlscope.history.sampled import Sampled, SampledHistories, sample
from mlscope.index import RunIndex
from mlscope.server.app import create_app
from mlscope.server.settings import ServerSettings
from mlscope.store.metric_files import parse_metric_line
from tests.chart_trees import write_chart_tree


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "run" / "metrics").mkdir(parents=True)
    return tmp_path / "run"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "histories"


def _write(run_dir: Path, key: str, count: int, start: int = 0, mode: str = "w", scale: float = 1.0) -> None:
    with open(run_dir / "metrics" / key, mode) as handle:
        handle.write("".join(f"{1000 + 10 * s} {scale * math.sin(s / 7) + (50.0 if s % 997 == 5 else 0)!r} {s}\n"
                             for s in range(start, start + count)))


def _server(store_dir: Path) -> tuple[HistoryCache, SampledHistories[Sampled]]:
    """What one server process holds: its own memory, the shared store on disk."""
    cache = HistoryCache()
    return cache, SampledHistories(cache, lambda s: s, disk=SeriesStore(store_dir, background=False))


def _direct(run_dir: Path, key: str, points: int, by: str = "step") -> Sampled:
    """The reduction computed from a fresh parse of the file, with no cache of any kind."""
    snap = HistoryCache().snapshot(run_dir, key, by)
    assert snap is not None
    return sample(snap, by, points)


def test_after_a_restart_a_series_is_served_from_disk_without_reading_its_file(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 5000)
    _server(store_dir)[1].series(run_dir, "loss", points=400)
    cache, restarted = _server(store_dir)
    served = restarted.series(run_dir, "loss", points=400)
    assert cache.reads == 0 and restarted.computed == 0 and restarted.from_disk == 1
    assert served == _direct(run_dir, "loss", 400)


def test_each_axis_and_width_is_kept_as_its_own_entry(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 3000)
    first = _server(store_dir)[1]
    for x, points in [("step", 400), ("time", 400), ("step", 1000)]:
        first.series(run_dir, "loss", x=x, points=points)
    cache, restarted = _server(store_dir)
    assert restarted.series(run_dir, "loss", x="time", points=400) == _direct(run_dir, "loss", 400, "time")
    assert restarted.series(run_dir, "loss", x="step", points=1000) == _direct(run_dir, "loss", 1000)
    assert cache.reads == 0


def test_an_appended_file_is_reduced_again_after_a_restart(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 2000)
    _server(store_dir)[1].series(run_dir, "loss", points=400)
    _write(run_dir, "loss", 10, start=2000, mode="a")
    served = _server(store_dir)[1].series(run_dir, "loss", points=400)
    assert served is not None and served.total == 2010
    assert served == _direct(run_dir, "loss", 400)


def test_a_truncated_file_is_reduced_again_after_a_restart(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 2000)
    _server(store_dir)[1].series(run_dir, "loss", points=400)
    path = run_dir / "metrics" / "loss"
    with open(path, "r+b") as handle:
        handle.truncate(path.read_bytes().index(b"\n1500 ") + 1)
    served = _server(store_dir)[1].series(run_dir, "loss", points=400)
    assert served is not None and served.total == 50
    assert served == _direct(run_dir, "loss", 400)


def test_a_file_replaced_with_the_same_size_and_time_is_seen_through_its_inode(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 100)
    _server(store_dir)[1].series(run_dir, "loss", points=400)
    path = run_dir / "metrics" / "loss"
    stat = path.stat()
    replacement = run_dir / "loss.new"
    replacement.write_bytes(path.read_bytes().replace(b" 0.0 0\n", b" 9.0 0\n"))
    assert replacement.stat().st_size == stat.st_size
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)
    served = _server(store_dir)[1].series(run_dir, "loss", points=400)
    assert served is not None and served.values[0] == 9.0
    assert served == _direct(run_dir, "loss", 400)


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "garbage", "empty"])
def test_a_damaged_store_file_is_ignored_and_rewritten(run_dir: Path, store_dir: Path, damage: str) -> None:
    _write(run_dir, "loss", 2000)
    store = SeriesStore(store_dir, background=False)
    SampledHistories(HistoryCache(), lambda s: s, disk=store).series(run_dir, "loss", points=400)
    kept = Path(store.file_for(os.path.abspath(run_dir / "metrics" / "loss")))
    raw = kept.read_bytes()
    kept.write_bytes({"truncated": raw[: len(raw) // 2], "flipped byte": raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:],
                      "garbage": b"\x00not a cache" * 50, "empty": b""}[damage])
    cache, restarted = _server(store_dir)
    assert restarted.series(run_dir, "loss", points=400) == _direct(run_dir, "loss", 400)
    assert restarted.computed == 1 and cache.reads > 0
    assert kept.read_bytes() != b"" and _server(store_dir)[1].series(run_dir, "loss", points=400) == _direct(run_dir, "loss", 400)


def test_a_store_file_kept_for_another_path_is_not_served(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 300, scale=1.0)
    _write(run_dir, "acc", 300, scale=2.0)
    store = SeriesStore(store_dir, background=False)
    SampledHistories(HistoryCache(), lambda s: s, disk=store).series(run_dir, "loss", points=100)
    loss_file = Path(store.file_for(os.path.abspath(run_dir / "metrics" / "loss")))
    acc_file = Path(store.file_for(os.path.abspath(run_dir / "metrics" / "acc")))
    acc_file.parent.mkdir(parents=True, exist_ok=True)
    acc_file.write_bytes(loss_file.read_bytes())
    os.utime(run_dir / "metrics" / "acc", ns=(0, (run_dir / "metrics" / "loss").stat().st_mtime_ns))
    assert _server(store_dir)[1].series(run_dir, "acc", points=100) == _direct(run_dir, "acc", 100)


def test_writes_in_the_background_land_and_are_served(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 1000)
    store = SeriesStore(store_dir)
    SampledHistories(HistoryCache(), lambda s: s, disk=store).series(run_dir, "loss", points=200)
    store.flush()
    cache, restarted = _server(store_dir)
    assert restarted.series(run_dir, "loss", points=200) == _direct(run_dir, "loss", 200) and cache.reads == 0


def test_the_store_is_bounded_by_dropping_the_least_recently_written_files(run_dir: Path, store_dir: Path) -> None:
    store = SeriesStore(store_dir, background=False)
    sampled = SampledHistories(HistoryCache(), lambda s: s, disk=store)
    for i in range(6):
        _write(run_dir, f"m{i}", 500)
        sampled.series(run_dir, f"m{i}", points=400)
        kept = Path(store.file_for(os.path.abspath(run_dir / "metrics" / f"m{i}")))
        os.utime(kept, ns=(i * 10**9, i * 10**9))
    size = Path(store.file_for(os.path.abspath(run_dir / "metrics" / "m0"))).stat().st_size
    store.max_bytes = 3 * size + size // 2
    assert store.prune() == 3
    left = [i for i in range(6) if Path(store.file_for(os.path.abspath(run_dir / "metrics" / f"m{i}"))).exists()]
    assert left == [3, 4, 5]


def test_group_base_summaries_are_served_from_disk_after_a_restart(tmp_path: Path) -> None:
    ids = write_chart_tree(tmp_path / "mlruns")
    index = RunIndex(tmp_path / "mlruns")
    index.build()
    runs = [index.run(rid) for rid in ids["run_ids"]]
    store_dir = tmp_path / "cache"
    before = GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False))
    expected = before.series([runs[:3], runs[3:]], "train/loss", buckets=64)
    after = GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False))
    assert after.series([runs[:3], runs[3:]], "train/loss", buckets=64) == expected
    assert after.read == 0 and after.histories.reads == 0
    assert GroupHistories(HistoryCache()).series([runs[:3], runs[3:]], "train/loss", buckets=64) == expected


def test_a_group_base_of_an_appended_file_is_summarised_again_after_a_restart(tmp_path: Path) -> None:
    ids = write_chart_tree(tmp_path / "mlruns")
    index = RunIndex(tmp_path / "mlruns")
    index.build()
    run = index.run(ids["runs"]["spiky"])
    store_dir = tmp_path / "cache"
    GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False)).series([[run]], "val/loss")
    with open(run.path / "metrics" / "val" / "loss", "a") as handle:
        handle.write(f"{10**12} 0.5 60\n")
    after = GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False))
    assert after.series([[run]], "val/loss")[1][0].x[-1] == 60.0
    assert after.read == 1


def test_a_summary_survives_its_plain_form_exactly() -> None:
    values = array("d", [math.sin(i) for i in range(1000)])
    summary = summarise(array("q", range(1000)), values, 1000, grid_for(0, 999, 64))
    assert Summary.from_kept(summary.kept()) == summary
    assert Summary.from_kept((0, 1, 2, b"", b"", b"", b"", b"", b"", 0)) is None


_number = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e5", "-0", "+3", "1_0", "0x10", "", "abc", "1.5.2", "٣"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_number, _number, _number), min_size=1, max_size=30))
def test_column_parsing_gives_what_the_line_parser_gives(lines: list[tuple[str, str, str]]) -> None:
    data = "".join(f"{ts} {value} {step}\n" for ts, value, step in lines).encode()
    series = SeriesData()
    series.extend(data, "k")
    expected = []
    for line in data.decode().split("\n"):
        if line.strip():
            try:
                point = parse_metric_line("k", line)
            except ValueError:
                continue
            expected.append((point.step, point.value, point.timestamp))
    got = list(zip(series.steps, series.values, series.timestamps, strict=True))
    assert [(s, repr(v), t) for s, v, t in got] == [(s, repr(v), t) for s, v, t in expected]
    assert series.skipped == len([ln for ln in data.decode().split("\n") if ln.strip()]) - len(expected)


def test_a_regrouping_after_a_restart_reads_its_grid_from_disk_without_merging(tmp_path: Path) -> None:
    ids = write_chart_tree(tmp_path / "mlruns")
    index = RunIndex(tmp_path / "mlruns")
    index.build()
    runs = [index.run(rid) for rid in ids["run_ids"]]
    store_dir = tmp_path / "cache"
    expected = GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False)).series([runs], "train/loss", buckets=16)
    after = GroupHistories(HistoryCache(), disk=SeriesStore(store_dir, background=False))
    assert after.series([runs], "train/loss", buckets=16) == expected
    assert after.from_disk == 2 * len(runs)  # each run's base summary and its summary on the chart's grid


def test_a_file_keeps_at_most_its_newest_reductions(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 3000)
    sampled = _server(store_dir)[1]
    widths = list(range(100, 100 + 20 * 20, 20))
    for points in widths:
        sampled.series(run_dir, "loss", points=points)
    cache, restarted = _server(store_dir)
    restarted.series(run_dir, "loss", points=widths[-1])
    restarted.series(run_dir, "loss", points=widths[0])
    assert restarted.computed == 1 and restarted.from_disk == 1


def test_a_restarted_server_answers_the_chart_endpoints_from_the_cache_directory(tmp_path: Path) -> None:
    ids = write_chart_tree(tmp_path / "mlruns")
    series = {"run_ids": ids["run_ids"][:4], "keys": ["train/loss", "val/loss"], "points": 40}
    groups = {"groups": [{"id": "a", "run_ids": ids["run_ids"][:6]}, {"id": "b", "run_ids": ids["run_ids"][6:]}],
              "keys": ["train/loss"], "buckets": 16}
    answers = []
    for _ in range(2):  # a server, then the same server started again on the cache it left
        app = create_app(tmp_path / "mlruns", settings=ServerSettings(index_cache=True))
        with TestClient(app, base_url="http://localhost") as client:
            answers.append((client.post("/api/mlscope/metrics/histories", json=series).json(),
                            client.post("/api/mlscope/charts/group-histories", json=groups).json()))
            reads = app.state.history_cache.reads
    assert answers[1] == answers[0] and len(answers[0][0]["series"]) == 8 and len(answers[0][1]["series"]) == 2
    assert reads == 0  # the restarted server read no metric file


def test_a_shape_that_makes_bytes_is_kept_shaped_and_served_as_it_was_made(run_dir: Path, store_dir: Path) -> None:
    _write(run_dir, "loss", 2000)

    def encode(sampled: Sampled) -> bytes:
        return repr((sampled.steps, sampled.values, sampled.timestamps)).encode()

    made = SampledHistories(HistoryCache(), encode, disk=SeriesStore(store_dir, background=False)).series(run_dir, "loss", points=400)
    restarted = SampledHistories(HistoryCache(), encode, disk=SeriesStore(store_dir, background=False))
    assert restarted.series(run_dir, "loss", points=400) == made == encode(_direct(run_dir, "loss", 400))
    assert restarted.from_disk == 1 and restarted.histories.reads == 0
    assert _server(store_dir)[1].series(run_dir, "loss", points=400) == _direct(run_dir, "loss", 400)  # another shape


def test_a_cache_directory_that_cannot_be_written_only_means_nothing_is_kept(run_dir: Path, tmp_path: Path) -> None:
    _write(run_dir, "loss", 500)
    (tmp_path / "not-a-folder").write_text("")
    store = SeriesStore(tmp_path / "not-a-folder" / "histories", background=False)
    sampled = SampledHistories(HistoryCache(), lambda s: s, disk=store)
    assert sampled.series(run_dir, "loss", points=100) == _direct(run_dir, "loss", 100)
    assert store.writes == 0 and store.prune() == 0

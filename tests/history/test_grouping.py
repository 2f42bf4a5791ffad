"""Group statistics of histories: exact per-step mean/std/median/min/max, spikes kept in bands, cached summaries."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from mlscope.history import HistoryCache
from mlscope.history.grouping import GroupHistories, aggregate, bucket_run, grid_for
from mlscope.index import RunIndex
from mlscope.store.model import Run
from tests.chart_trees import SPIKE, STEPS, values_at, write_chart_tree


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunIndex, dict[str, Any]]:
    root = tmp_path_factory.mktemp("grouping") / "mlruns"
    ids = write_chart_tree(root)
    index = RunIndex(root)
    index.build()
    return index, ids


def runs_with(index: RunIndex, ids: dict[str, Any], lr: str) -> list[Run]:
    return [index.run(rid) for rid in ids["run_ids"] if ids["params"][rid]["lr"] == lr]


def test_a_step_grid_has_one_bucket_per_step_when_the_steps_fit() -> None:
    grid = grid_for(0, 59, 250, integer=True)
    assert (grid.x0, grid.width, grid.count) == (0.0, 1.0, 60)


def test_a_step_grid_widens_buckets_to_whole_steps_when_they_do_not_fit() -> None:
    grid = grid_for(0, 9_999, 250, integer=True)
    assert grid.width == 40.0 and grid.count == 250


def test_a_run_bucket_keeps_its_mean_min_max_and_x_range() -> None:
    xs = [0, 1, 2, 3, 10, 11]
    values = [1.0, 9.0, 2.0, 4.0, 5.0, 7.0]
    summary = bucket_run(xs, values, len(xs), grid_for(0, 11, 3, integer=True))
    assert (summary.mean[0], summary.mean[2]) == (4.0, 6.0)
    assert math.isnan(summary.mean[1])  # nothing logged at steps 4..7
    assert (summary.low[0], summary.high[0]) == (1.0, 9.0)
    assert (summary.first_x[2], summary.last_x[2]) == (10.0, 11.0)
    assert summary.points == 6


def test_non_finite_values_are_left_out_of_a_bucket() -> None:
    summary = bucket_run([0, 0, 0], [1.0, math.nan, 3.0], 3, grid_for(0, 0, 10, integer=True))
    assert summary.mean[0] == 2.0 and summary.low[0] == 1.0 and summary.high[0] == 3.0


def test_aggregate_is_mean_std_median_min_max_across_runs_per_step() -> None:
    grid = grid_for(0, 1, 10, integer=True)
    members = [bucket_run([0, 1], values, 2, grid) for values in ([1.0, 10.0], [2.0, 20.0], [6.0, 60.0])]
    series = aggregate(members, center="median")
    assert series.x == [0.0, 1.0]
    assert series.mean == [3.0, 30.0]
    assert series.center == [2.0, 20.0]
    assert series.std == pytest.approx([statistics.pstdev([1, 2, 6]), statistics.pstdev([10, 20, 60])])
    assert (series.low, series.high, series.count) == ([1.0, 10.0], [6.0, 60.0], [3, 3])


def test_group_lines_match_the_mean_and_std_of_the_logged_values(sweep) -> None:
    index, ids = sweep
    groups = [runs_with(index, ids, lr) for lr in ("0.1", "0.01")]
    grid, series = GroupHistories(HistoryCache()).series(groups, "train/loss", buckets=250)
    assert grid is not None and grid.width == 1.0
    for group, result in zip(groups, series, strict=True):
        member_ids = [r.info.run_id for r in group]
        assert result.x == [float(s) for s in range(STEPS)]
        for step in (0, 17, 45, 59):
            values = values_at(ids["histories"], member_ids, "train/loss", step)
            assert result.mean[step] == pytest.approx(statistics.fmean(values))
            assert result.std[step] == pytest.approx(statistics.pstdev(values))
            assert result.count[step] == len(values)


def test_a_nan_point_is_left_out_of_its_groups_step(sweep) -> None:
    index, ids = sweep
    (series,) = GroupHistories(HistoryCache()).series([runs_with(index, ids, "0.001")], "train/loss")[1]
    assert series.count[7] == 3 and series.count[8] == 4
    assert math.isfinite(series.mean[7])


def test_one_runs_spike_stays_in_the_min_max_band_when_buckets_are_wider_than_a_step(sweep) -> None:
    index, ids = sweep
    (series,) = GroupHistories(HistoryCache()).series([runs_with(index, ids, "0.1")], "train/loss", buckets=8)[1]
    assert len(series.x) == 8  # 60 steps in 8-step buckets
    assert max(series.high) == SPIKE[1]
    assert max(series.center) < SPIKE[1] / 2  # the mean line is the mean, the band shows the extreme


def test_groups_share_one_grid_so_their_x_values_line_up(sweep) -> None:
    index, ids = sweep
    groups = [runs_with(index, ids, lr) for lr in ("0.1", "0.001")]
    _, series = GroupHistories(HistoryCache()).series(groups, "val/loss", buckets=5)
    assert series[0].x == series[1].x


def test_relative_time_aligns_runs_that_started_at_different_times(sweep) -> None:
    index, ids = sweep
    group = runs_with(index, ids, "0.01")
    _, (series,) = GroupHistories(HistoryCache()).series([group], "system/cpu", x="relative", buckets=100)
    assert series.x[0] == 0.0 and series.count[0] == 4
    assert series.x[-1] == pytest.approx(90_000, abs=1000)


def test_a_zoomed_range_narrows_the_grid(sweep) -> None:
    index, ids = sweep
    grid, (series,) = GroupHistories(HistoryCache()).series(
        [runs_with(index, ids, "0.1")], "train/loss", x_min=10, x_max=19
    )
    assert grid is not None and grid.x0 == 10.0 and grid.count == 10
    assert series.x == [float(s) for s in range(10, 20)]


def test_runs_without_the_metric_are_left_out_and_not_counted(sweep) -> None:
    index, ids = sweep
    group = runs_with(index, ids, "0.01")
    _, (series,) = GroupHistories(HistoryCache()).series([group], "final_score")
    assert series.runs == 3


def test_regrouping_the_same_runs_reads_and_buckets_nothing_again(sweep) -> None:
    index, ids = sweep
    grouping = GroupHistories(HistoryCache())
    everything = [index.run(rid) for rid in ids["run_ids"]]
    grouping.series([everything], "train/loss")
    computed, read = grouping.bucketed, grouping.histories.reads
    by_model = [[r for r in everything if ids["tags"][r.info.run_id]["model"] == m] for m in ("small", "large")]
    grouping.series(by_model, "train/loss", center="median")
    assert (grouping.bucketed, grouping.histories.reads) == (computed, read)


def test_an_appended_point_is_seen_by_the_next_request(tmp_path: Path) -> None:
    ids = write_chart_tree(tmp_path / "mlruns")
    index = RunIndex(tmp_path / "mlruns")
    index.build()
    grouping = GroupHistories(HistoryCache())
    run = index.run(ids["runs"]["spiky"])
    assert grouping.series([[run]], "val/loss")[1][0].x[-1] == 55.0
    with open(run.path / "metrics" / "val" / "loss", "a") as handle:
        handle.write(f"{10**12} 0.5 60\n")
    assert grouping.series([[run]], "val/loss")[1][0].x[-1] == 60.0

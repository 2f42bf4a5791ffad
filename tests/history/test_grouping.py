"""Group statistics of histories: exact per-step mean/std/median/min/max, spikes kept in bands, cached summaries."""

from __future__ import annotations

import math
import statistics
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.history import HistoryCache
from mlscope.history.grouping import GroupHistories, aggregate, coarsen, grid_for, summarise, summarise_points
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


def test_a_grid_has_one_bucket_per_step_when_the_steps_fit() -> None:
    grid = grid_for(0, 59, 250)
    assert (grid.x0, grid.width, grid.count) == (0, 1, 60)


def test_a_grid_widens_buckets_to_the_next_power_of_two_when_steps_do_not_fit() -> None:
    grid = grid_for(0, 9_999, 250)
    assert (grid.width, grid.count) == (64, 157)


def test_grid_edges_are_multiples_of_the_width() -> None:
    grid = grid_for(1_000_003, 1_090_000, 100)
    assert grid.x0 % grid.width == 0 and grid.x0 <= 1_000_003 < grid.edge(1)
    assert grid.edge(grid.count - 1) <= 1_090_000 < grid.edge(grid.count)


def test_a_run_bucket_keeps_its_mean_min_max_and_x_range() -> None:
    xs = [0, 1, 2, 3, 10, 11]
    values = [1.0, 9.0, 2.0, 4.0, 5.0, 7.0]
    summary = summarise(xs, values, len(xs), grid_for(0, 11, 3))
    mean = summary.mean()
    assert (mean[0], mean[2]) == (4.0, 6.0)
    assert math.isnan(mean[1])  # nothing logged at steps 4..7
    assert (summary.low[0], summary.high[0]) == (1.0, 9.0)
    assert (summary.first_x[2], summary.last_x[2]) == (10.0, 11.0)
    assert summary.points == 6


def test_non_finite_values_are_left_out_of_a_bucket() -> None:
    summary = summarise([0, 0, 0], [1.0, math.nan, 3.0], 3, grid_for(0, 0, 10))
    assert summary.mean()[0] == 2.0 and summary.low[0] == 1.0 and summary.high[0] == 3.0


def test_aggregate_is_mean_std_median_min_max_across_runs_per_step() -> None:
    grid = grid_for(0, 1, 10)
    members = [summarise([0, 1], values, 2, grid) for values in ([1.0, 10.0], [2.0, 20.0], [6.0, 60.0])]
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
    assert grid is not None and grid.width == 1
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
    assert grid is not None and grid.x0 == 10 and grid.count == 10
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
    computed, read = grouping.read, grouping.histories.reads
    by_model = [[r for r in everything if ids["tags"][r.info.run_id]["model"] == m] for m in ("small", "large")]
    grouping.series(by_model, "train/loss", center="median")
    assert (grouping.read, grouping.histories.reads) == (computed, read)


def test_a_coarser_grid_is_merged_from_the_base_summary_exactly_without_reading(sweep) -> None:
    index, ids = sweep
    group = runs_with(index, ids, "0.1")
    grouping = GroupHistories(HistoryCache())
    grouping.series([group], "train/loss", buckets=250)
    read = grouping.read
    _, (merged,) = grouping.series([group], "train/loss", buckets=8)
    assert grouping.read == read
    grid = grid_for(0, STEPS - 1, 8)
    direct = []
    for run in group:
        snap = HistoryCache().snapshot(run.path, "train/loss")
        direct.append(summarise(snap.steps, snap.values, snap.length, grid))
    assert merged == aggregate(direct)


def test_coarsening_is_refused_for_a_finer_grid() -> None:
    base = summarise(list(range(100)), [1.0] * 100, 100, grid_for(0, 99, 25))
    assert coarsen(base, grid_for(0, 99, 100)) is None


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


@settings(max_examples=200, deadline=None)
@given(
    first=st.integers(-50, 50),
    values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300),
    low=st.integers(-80, 400),
    span=st.integers(0, 400),
    buckets=st.integers(1, 64),
)
def test_consecutive_steps_are_summarised_as_the_general_path_does(first, values, low, span, buckets) -> None:
    xs = array("q", range(first, first + len(values)))
    grid = grid_for(low, low + span, buckets)
    fast = summarise(xs, array("d", values), len(values), grid)
    general = summarise_points(xs, array("d", values), len(values), grid)
    assert fast.grid == general.grid and fast.points == general.points
    assert list(fast.counts) == list(general.counts)
    assert list(fast.low) == list(general.low) and list(fast.high) == list(general.high)
    assert list(fast.first_x) == list(general.first_x) and list(fast.last_x) == list(general.last_x)
    assert list(fast.sums) == pytest.approx(list(general.sums))


@settings(max_examples=300, deadline=None)
@given(
    xs=st.lists(st.integers(-300, 3000), min_size=1, max_size=200).map(sorted),
    data=st.data(),
    base_buckets=st.integers(1, 64),
    low=st.integers(-6000, 6000),
    span=st.integers(0, 4000),
    buckets=st.integers(1, 64),
)
def test_a_coarser_grid_merged_from_a_base_summary_equals_summarising_the_points(xs, data, base_buckets, low, span, buckets) -> None:
    values = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=len(xs), max_size=len(xs)))
    points_x, points_v = array("q", xs), array("d", values)
    base = summarise_points(points_x, points_v, len(xs), grid_for(xs[0], xs[-1], base_buckets))
    grid = grid_for(low, low + span, buckets)
    merged = coarsen(base, grid)
    if merged is None:
        assert grid.width < base.grid.width
        return
    direct = summarise_points(points_x, points_v, len(xs), grid)
    inside = [x for x in xs if base.grid.x0 <= x < base.grid.edge(base.grid.count)]  # what the base summary holds
    assert len(inside) == len(xs) and merged.grid == direct.grid and merged.points == direct.points
    assert list(merged.counts) == list(direct.counts)
    assert list(merged.low) == list(direct.low) and list(merged.high) == list(direct.high)
    assert list(merged.first_x) == list(direct.first_x) and list(merged.last_x) == list(direct.last_x)
    assert list(merged.sums) == pytest.approx(list(direct.sums))

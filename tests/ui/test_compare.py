"""The compare-runs page (#/compare-runs?runs=[...]&experiments=[...]) in a real browser."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bench.generate import generate
from mlscope.index import RunIndex
from tests.conftest import LiveServer
from tests.reference_trees import mlflow_client

pytestmark = pytest.mark.ui

LONG_NOTE = "A long free-text note about this run. " * 12


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """Two experiments of synthetic runs (bench.generate) plus one long tag: (root, run ids by experiment)."""
    root = tmp_path_factory.mktemp("compare") / "mlruns"
    generate(root, runs=64, experiments=2, steps=12, seed=3)
    index = RunIndex(root)
    index.build()
    by_exp: dict[str, list[str]] = {}
    for run in sorted(index.runs(), key=lambda r: r.info.start_time or 0):
        if run.info.lifecycle_stage == "active":
            by_exp.setdefault(run.info.experiment_id, []).append(run.info.run_id)
    by_exp = {exp: ids for exp, ids in by_exp.items() if len(ids) >= 25}
    assert len(by_exp) == 2, "the generated tree should have two experiments with 25+ active runs"
    first = next(iter(by_exp.values()))[0]
    mlflow_client(root).set_tag(first, "notes", LONG_NOTE)
    return root, by_exp


@pytest.fixture(scope="module")
def server(tree: tuple[Path, dict[str, list[str]]], serve: Any) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def ref_server(reference_server: LiveServer) -> LiveServer:
    return reference_server


@pytest.fixture(scope="module")
def ref_ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


def compare_url(server: LiveServer, runs: list[str], experiments: list[str], **params: str) -> str:
    query = {"runs": json.dumps(runs), "experiments": json.dumps(experiments), **params}
    return f"{server.url}/#/compare-runs?{urllib.parse.urlencode(query)}"


def open_compare(page: Page, server: LiveServer, runs: list[str], experiments: list[str], **params: str) -> None:
    page.goto(compare_url(server, runs, experiments, **params))
    page.wait_for_selector(".cmp-table")
    expect(page.locator("th.cmp-run")).to_have_count(len(runs))


def url_list(page: Page, name: str) -> list[str]:
    query = urllib.parse.parse_qs(page.url.split("?", 1)[1])
    return json.loads(query[name][0]) if name in query else []


def table(page: Page) -> dict[str, Any]:
    """What the table shows: run names, ids and, per row key, the cells' values and highlight classes."""
    return page.evaluate(
        """() => {
          const heads = [...document.querySelectorAll('th.cmp-run')];
          const rows = [...document.querySelectorAll('tr.cmp-row')].map((tr) => ({
            key: tr.dataset.key,
            values: [...tr.querySelectorAll('td.cmp-cell')].map((td) => td.dataset.value),
            diff: [...tr.querySelectorAll('td.cmp-cell')].map((td) => td.classList.contains('diff')),
            best: [...tr.querySelectorAll('td.cmp-cell')].map((td) => td.classList.contains('best')),
          }));
          return {
            names: heads.map((th) => th.querySelector('.cmp-run-name').textContent),
            ids: heads.map((th) => th.dataset.run),
            rows,
          };
        }"""
    )


def row(page: Page, key: str) -> dict[str, Any]:
    rows = [r for r in table(page)["rows"] if r["key"] == key]
    assert rows, f"no row {key!r}"
    return rows[0]


def keys(page: Page) -> list[str]:
    return [r["key"] for r in table(page)["rows"]]


# ------------------------------------------------------------------ opening a comparison


def test_two_runs_open_from_the_url_with_every_row_shown(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    runs = [ref_ids["runs"]["parent"], ref_ids["runs"]["child"]]
    open_compare(page, ref_server, runs, [ref_ids["experiment"]])
    shown = table(page)
    assert shown["ids"] == runs
    assert shown["names"][0] == "parent-sweep"
    expect(page.get_by_label("Only differences")).not_to_be_checked()
    assert "Experiment" in keys(page)  # equal for both runs, still shown with two runs


def test_three_runs_open_with_only_differences_on(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]])
    expect(page.get_by_label("Only differences")).to_be_checked()
    assert "params.optimizer" in keys(page)


def test_fifty_runs_from_two_experiments_open_from_the_url(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    runs = by_exp[exps[0]][:25] + by_exp[exps[1]][:25]
    open_compare(page, server, runs, exps)
    expect(page.locator(".cmp-top h1")).to_have_text("Comparing 50 runs from 2 experiments")
    assert table(page)["ids"] == runs
    assert set(row(page, "Experiment")["values"]) == set(by_exp_names(server, exps))


def by_exp_names(server: LiveServer, exps: list[str]) -> list[str]:
    index = server.app.state.index
    return [index.experiment(e).name for e in exps]


def test_selecting_runs_in_the_runs_table_opens_them_in_compare(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    page.goto(f"{server.url}/#/compare-experiments?experiments={urllib.parse.quote(json.dumps(exps))}")
    boxes = page.locator(".trow input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    for i in range(3):
        boxes.nth(i).check()
    page.get_by_role("link", name="Compare (3)").click()
    page.wait_for_selector(".cmp-table")
    expect(page.locator("th.cmp-run")).to_have_count(3)
    chosen = url_list(page, "runs")
    assert len(chosen) == 3 and table(page)["ids"] == chosen
    assert set(url_list(page, "experiments")) <= set(exps)


def test_an_unknown_run_id_is_reported_and_the_others_still_compare(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    page.goto(compare_url(ref_server, [r["parent"], "f" * 32, r["child"]], [ref_ids["experiment"]]))
    expect(page.locator(".cmp-missing")).to_contain_text("1 run could not be loaded")
    expect(page.locator("th.cmp-run")).to_have_count(2)
    page.locator(".cmp-missing").get_by_role("button").click()
    expect(page.locator(".cmp-missing")).to_have_count(0)
    assert url_list(page, "runs") == [r["parent"], r["child"]]


# ------------------------------------------------------------------ adding and removing


def test_removing_a_run_updates_the_url(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]])
    page.locator(f'th.cmp-run[data-run="{r["child"]}"]').hover()
    page.locator(f'th.cmp-run[data-run="{r["child"]}"] .cmp-remove').click()
    expect(page.locator("th.cmp-run")).to_have_count(2)
    assert url_list(page, "runs") == [r["parent"], r["failed"]]


def test_adding_a_run_from_another_experiment_updates_runs_and_experiments(
    page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]
) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"]], [ref_ids["experiment"], ref_ids["other"]])
    page.get_by_role("button", name="+ Add run").click()
    page.get_by_label("Find a run to add").fill("tie-a")
    page.locator(".cmp-add-item", has_text="tie-a").click()
    expect(page.locator("th.cmp-run")).to_have_count(3)
    assert url_list(page, "runs") == [r["parent"], r["child"], r["tie_a"]]
    assert set(url_list(page, "experiments")) == {ref_ids["experiment"], ref_ids["other"]}


# ------------------------------------------------------------------ the table


def test_the_diff_toggle_hides_rows_whose_values_are_all_equal(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]], diff="0")
    assert row(page, "Experiment")["values"] == ["demo-exp"] * 3
    page.get_by_label("Only differences").check()
    expect(page.locator('tr[data-key="Experiment"]')).to_have_count(0)
    for shown in table(page)["rows"]:
        assert len(set(shown["values"])) > 1, shown["key"]
    assert "diff=1" in page.url


def test_only_the_value_that_differs_from_the_majority_is_highlighted(
    page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]
) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["killed"]], [ref_ids["experiment"]])
    lr = row(page, "params.lr")
    assert lr["values"] == ["0.01", "0.1", "0.01"]
    assert lr["diff"] == [False, True, False]


def test_with_no_majority_every_differing_value_is_highlighted(
    page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]
) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"]], [ref_ids["experiment"]])
    assert row(page, "params.lr")["diff"] == [True, True]
    assert row(page, "Experiment")["diff"] == [False, False]


def test_the_best_latest_value_is_marked_and_the_direction_is_switchable(
    page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]
) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]])
    assert row(page, "metrics.loss")["best"] == [True, False, False]  # loss: lower is better by default
    page.get_by_label("Best loss: min").click()
    expect(page.locator('tr[data-key="metrics.loss"] td.best')).to_have_attribute("data-value", "3.5")
    assert row(page, "metrics.loss")["best"] == [False, False, True]
    assert url_list(page, "best") == ["loss:max"]


def test_metric_rows_show_history_min_max_and_last(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"]], [ref_ids["experiment"]])
    assert row(page, "metrics.out_of_order")["values"][0] == "5"
    assert row(page, "metrics.out_of_order (min)")["values"][0] == "2"
    assert row(page, "metrics.out_of_order (max)")["values"][0] == "5"
    assert row(page, "metrics.out_of_order (last)")["values"][0] == "2"
    page.get_by_label("History min, max, last").uncheck()
    expect(page.locator('tr[data-key="metrics.out_of_order (min)"]')).to_have_count(0)


def test_row_search_keeps_only_matching_rows(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"]], [ref_ids["experiment"]])
    page.get_by_label("Search rows").fill("loss")
    expect(page.locator('tr[data-key="params.lr"]')).to_have_count(0)
    assert keys(page) and all("loss" in k for k in keys(page))
    assert "q=loss" in page.url


def test_a_long_value_is_cut_and_expands_on_click(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    first_exp, second_exp = list(by_exp)
    open_compare(page, server, [by_exp[first_exp][0], by_exp[second_exp][0]], [first_exp, second_exp])
    notes = page.locator('tr[data-key="tags.notes"]')
    cell = notes.locator("td").first
    collapsed = cell.bounding_box()["height"]
    notes.locator("th").click()
    expect(notes).to_have_class("cmp-row differs expanded long")
    assert cell.bounding_box()["height"] > 2 * collapsed


def test_a_long_value_expands_from_the_keyboard(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    first_exp, second_exp = list(by_exp)
    open_compare(page, server, [by_exp[first_exp][0], by_exp[second_exp][0]], [first_exp, second_exp])
    button = page.get_by_role("button", name="Show all of notes")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator('tr[data-key="tags.notes"]')).to_have_class("cmp-row differs expanded long")
    expect(page.get_by_role("button", name="Show less of notes")).to_have_attribute("aria-expanded", "true")


def test_the_csv_export_equals_the_table(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"], r["tie_a"]], [ref_ids["experiment"], ref_ids["other"]])
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    lines = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    shown = table(page)
    assert lines[0] == ["field", *shown["names"]]
    assert [line[0] for line in lines[1:]] == [row["key"] for row in shown["rows"]]
    assert [line[1:] for line in lines[1:]] == [row["values"] for row in shown["rows"]]


# ------------------------------------------------------------------ charts and plots


def test_metric_charts_have_one_series_per_run(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    runs = by_exp[exps[0]][:3] + by_exp[exps[1]][:2]
    open_compare(page, server, runs, exps, metrics='["loss"]')
    page.locator("#cmp-charts").scroll_into_view_if_needed()  # charts are drawn only near the viewport
    legend = page.locator('.mc-card[data-keys="loss"] .mchart-legend-row')
    expect(legend).to_have_count(len(runs))
    assert sorted(legend.evaluate_all("rows => rows.map(r => r.dataset.id.split('\\u0000')[0])")) == sorted(runs)


def parcoords_lines(page: Page) -> int:
    return page.evaluate(
        """async () => {
          const echarts = await import('echarts');
          const chart = echarts.getInstanceByDom(document.querySelector('.cmp-parcoords'));
          return chart.getOption().series[0].data.length;
        }"""
    )


def test_parallel_coordinates_draw_one_line_per_run(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    runs = by_exp[exps[0]][:25] + by_exp[exps[1]][:25]
    open_compare(page, server, runs, exps, axes='["params.lr","params.optimizer","metrics.loss"]')
    expect(page.locator(".cmp-parcoords canvas")).to_have_count(1)
    assert parcoords_lines(page) == 50


def test_brushing_an_axis_narrows_the_highlighted_runs(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    runs = by_exp[exps[0]][:20] + by_exp[exps[1]][:20]
    open_compare(page, server, runs, exps, axes='["metrics.loss","params.optimizer"]', metrics='["-"]', diff="0")
    plot = page.locator(".cmp-parcoords")
    expect(plot).to_have_attribute("data-active", "40")
    page.wait_for_selector(".cmp-parcoords canvas")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    # The first axis (loss) sits at the plot's left padding; drag over its lower half (the smaller losses).
    x = box["x"] + 48
    top, bottom = box["y"] + 36, box["y"] + box["height"] - 28
    page.mouse.move(x, top + (bottom - top) * 0.6)
    page.mouse.down()
    page.mouse.move(x, bottom - 2, steps=6)
    page.mouse.up()
    expect(page.locator("#cmp-parallel .cmp-plot-status")).to_contain_text("of 40 runs inside the brushed ranges")
    active = int(plot.get_attribute("data-active"))
    assert 0 < active < 40
    expect(page.locator("th.cmp-run.dim")).to_have_count(40 - active)
    losses = {rid: value for rid, value in zip(table(page)["ids"], row(page, "metrics.loss")["values"], strict=True)}
    kept = [rid for rid in runs if not page.locator(f'th.cmp-run[data-run="{rid}"]').get_attribute("class").endswith("dim")]
    dropped = [rid for rid in runs if rid not in kept]
    inside = [float(losses[rid]) for rid in kept]  # a run without a loss value is never inside a loss brush
    low, high = min(inside), max(inside)
    outside = [float(losses[rid]) for rid in dropped if losses[rid] not in ("", "NaN")]
    assert all(v < low or v > high for v in outside)


def test_scatter_draws_a_point_per_run_with_both_values(page: Page, server: LiveServer, tree: Any) -> None:
    _, by_exp = tree
    exps = list(by_exp)
    runs = by_exp[exps[0]][:6] + by_exp[exps[1]][:6]
    open_compare(page, server, runs, exps, x="params.lr", y="metrics.accuracy")
    scatter = page.locator(".cmp-scatter")
    expect(scatter).to_have_attribute("data-points", "12")
    names = page.evaluate(
        """async () => {
          const echarts = await import('echarts');
          const chart = echarts.getInstanceByDom(document.querySelector('.cmp-scatter'));
          return chart.getOption().series[0].data.map((d) => d.name);
        }"""
    )
    assert sorted(names) == sorted(table(page)["names"])


def test_plot_choices_live_in_the_url(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]])
    page.locator("#cmp-scatter select").first.select_option("params.lr")
    page.locator("#cmp-parallel select").select_option("metrics.acc")
    assert "x=params.lr" in page.url and "color=acc" in page.url
    page.reload()
    expect(page.locator("#cmp-scatter select").first).to_have_value("params.lr")
    expect(page.locator("#cmp-parallel select")).to_have_value("metrics.acc")


def test_compare_only_the_brushed_runs_narrows_the_url(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    runs = [r["parent"], r["child"], r["failed"]]
    open_compare(page, ref_server, runs, [ref_ids["experiment"]], axes='["metrics.loss"]', metrics='["-"]')
    page.wait_for_selector(".cmp-parcoords canvas")
    page.evaluate(
        """async () => {
          const echarts = await import('echarts');
          const chart = echarts.getInstanceByDom(document.querySelector('.cmp-parcoords'));
          chart.dispatchAction({ type: 'axisAreaSelect', parallelAxisIndex: 0, intervals: [[0, 1]] });
        }"""
    )
    page.get_by_role("button", name="Compare only these 2").click()
    expect(page.locator("th.cmp-run")).to_have_count(2)
    assert url_list(page, "runs") == [r["parent"], r["child"]]  # losses 0.05 and 0.4; failed-run's 3.5 is outside


def test_a_metric_logged_to_a_compared_run_appears_without_reload(page: Page, server: LiveServer, tree: Any) -> None:
    root, by_exp = tree
    first_exp, second_exp = list(by_exp)
    run_id = by_exp[first_exp][1]
    open_compare(page, server, [run_id, by_exp[second_exp][1]], [first_exp, second_exp], metrics='["-"]')
    expect(page.locator('tr[data-key="metrics.live_metric"]')).to_have_count(0)
    mlflow_client(root).log_metric(run_id, "live_metric", 42.5, step=3)
    expect(page.locator('tr[data-key="metrics.live_metric"] td').first).to_have_attribute("data-value", "42.5", timeout=10_000)


# ------------------------------------------------------------------ stats rows, plot widths, box plot


def test_min_max_last_rows_only_for_metrics_with_a_history(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"]], [ref_ids["experiment"]], diff="0")
    assert "metrics.loss (min)" in keys(page)  # 20 and 3 values
    assert "metrics.peak" in keys(page) and "metrics.peak (min)" not in keys(page)  # logged once


def test_the_scatter_plot_uses_the_panels_width(page: Page, ref_server: LiveServer, ref_ids: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    r = ref_ids["runs"]
    open_compare(page, ref_server, [r["parent"], r["child"], r["failed"]], [ref_ids["experiment"]])
    panel = page.locator("#cmp-scatter").bounding_box()
    scatter = page.locator(".cmp-scatter").bounding_box()
    assert scatter["width"] > 0.9 * panel["width"]


def test_a_box_plot_shows_a_metric_per_param_value(page: Page, server: LiveServer, tree: Any) -> None:
    root, by_exp = tree
    runs = next(iter(by_exp.values()))[:24]
    index = RunIndex(root)
    index.build()
    by_lr: dict[str, list[float]] = {}
    for run_id in runs:
        run = index.run(run_id)
        if "loss" in run.metrics and math.isfinite(run.metrics["loss"].value):
            by_lr.setdefault(run.params["lr"], []).append(run.metrics["loss"].value)
    open_compare(page, server, runs, list(by_exp)[:1], box_param="lr", box_metric="loss")
    box = page.locator(".cmp-box")
    box.scroll_into_view_if_needed()
    expect(box).to_have_attribute("data-boxes", str(len(by_lr)))
    ordered = sorted(by_lr, key=float)
    medians = json.loads(box.get_attribute("data-medians") or "[]")
    assert medians == pytest.approx([statistics.median(by_lr[lr]) for lr in ordered])
    page.screenshot(path="/tmp/compare_box_plot.png", full_page=False)

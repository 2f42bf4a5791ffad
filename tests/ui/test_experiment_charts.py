"""The experiment page's chart view: switch and URL, runs in view, eye and pin, colours, search, sections,
layout memory, hover and click, bars, grouping bands (checked against the tree), grouped table, importance."""

from __future__ import annotations

import json
import re
import statistics
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.chart_trees import STEPS, values_at, write_chart_tree
from tests.conftest import LiveServer
from tests.ui.synthetic import write_experiment, write_run


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("experiment-charts") / "mlruns"
    return root, write_chart_tree(root)


@pytest.fixture(scope="module")
def server(sweep, serve) -> LiveServer:
    return serve(sweep[0])


@pytest.fixture(scope="module")
def ids(sweep) -> dict[str, Any]:
    return sweep[1]


def names_of(ids: dict[str, Any]) -> dict[str, str]:
    return {run_id: name for name, run_id in ids["runs"].items()}


def open_page(page: Page, server: LiveServer, ids: dict[str, Any], **params: Any) -> None:
    page.set_viewport_size({"width": 1500, "height": 1000})
    query = "&".join(f"{k}={quote(json.dumps(v) if isinstance(v, list) else str(v))}" for k, v in params.items())
    page.goto(f"{server.url}/#/experiments/{ids['experiment']}" + (f"?{query}" if query else ""))


def open_charts(page: Page, server: LiveServer, ids: dict[str, Any], **params: Any) -> None:
    open_page(page, server, ids, compareRunsMode="CHART", **params)
    expect(page.locator(".ec-card").first).to_be_visible(timeout=30_000)  # a loaded CI machine can take this long


def card(page: Page, metric: str):
    return page.locator(f'.ec-card[data-card="metric:{metric}"]')


def legend_names(page: Page, metric: str) -> list[str]:
    card(page, metric).scroll_into_view_if_needed()  # charts are drawn when they come into view
    names = card(page, metric).locator(".mchart-name")
    expect(names.first).to_be_visible(timeout=10_000)
    return names.all_inner_texts()


def table_names(page: Page) -> list[str]:
    rows = page.locator(".table-scroll .trow[data-run-id] .run-link")
    expect(rows.first).to_be_visible(timeout=10_000)
    return rows.all_inner_texts()


def line_point(page: Page, metric: str, color: str) -> tuple[float, float]:
    """Page coordinates of a pixel of the line drawn in `color` (#rrggbb) in the middle column of a chart."""
    found = page.evaluate(
        """([sel, hex]) => {
            const canvas = document.querySelector(sel + " canvas");
            const ctx = canvas.getContext("2d");
            const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
            const x = Math.floor(canvas.width * 0.55);
            const px = ctx.getImageData(x, 0, 1, canvas.height).data;
            let best = null;
            let bestDist = 120; // antialiased 1px lines are blended with the background
            for (let y = 0; y < canvas.height; y++) {
              const i = y * 4;
              if (px[i + 3] < 100) continue;
              const dist = Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b);
              if (dist < bestDist) [best, bestDist] = [y, dist];
            }
            if (best === null) return null;
            const box = canvas.getBoundingClientRect();
            return [box.left + (x / canvas.width) * box.width, box.top + (best / canvas.height) * box.height];
        }""",
        [f'.ec-card[data-card="metric:{metric}"]', color],
    )
    assert found is not None, f"no pixel of {color} in {metric}"
    return found[0], found[1]


# ------------------------------------------------------------------ the switch and the URL


def test_the_charts_switch_shows_charts_and_keeps_the_mode_in_the_url(page: Page, server, ids) -> None:
    open_page(page, server, ids)
    expect(page.locator(".table-scroll .trow[data-run-id]").first).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Charts", exact=True).click()
    expect(card(page, "train/loss")).to_be_visible()
    assert "compareRunsMode=CHART" in page.url
    page.reload()
    expect(card(page, "train/loss")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Table", exact=True).click()
    expect(page.locator(".ec-card")).to_have_count(0)
    assert "compareRunsMode" not in page.url


def test_the_table_prefetches_the_chart_view_so_the_switch_loads_no_script(page: Page, server, ids) -> None:
    with page.expect_request(lambda r: r.url.endswith("/views/experiment_charts.js")):
        open_page(page, server, ids)  # fetched while the table sits idle
    expect(page.locator(".table-scroll .trow[data-run-id]").first).to_be_visible(timeout=10_000)
    page.wait_for_load_state("networkidle")
    scripts: list[str] = []
    page.on("request", lambda r: r.resource_type == "script" and scripts.append(r.url))
    page.get_by_role("button", name="Charts", exact=True).click()
    expect(card(page, "train/loss")).to_be_visible()
    assert scripts == []


def test_one_chart_per_metric_key_in_sections_by_prefix(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    sections = page.locator(".ec-section")
    expect(sections).to_have_count(4)
    assert [s.get_attribute("data-section") for s in sections.all()] == ["", "system", "train", "val"]
    expect(page.locator('.ec-section[data-section="train"] .ec-card')).to_have_count(2)


def test_the_url_restores_controls_grouping_and_importance(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_x="relative", chart_log="1", chart_q="loss", groupBy=["params.lr"], importance="final_score")
    expect(page.get_by_label("X axis")).to_have_value("relative")
    expect(page.get_by_label("Log y")).to_be_checked()
    expect(page.get_by_label("Filter charts")).to_have_value("loss")
    expect(page.locator(".chip")).to_have_text(re.compile("params.lr"))
    expect(page.get_by_label("Importance metric")).to_have_value("final_score")
    expect(page.locator(".ec-card")).to_have_count(2)  # train/loss and val/loss


# ------------------------------------------------------------------ runs in view, eye, pin, colours


def test_charts_show_the_first_rows_of_the_tables_order(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=3, orderByKey="attributes.run_name", orderByAsc="true")
    assert legend_names(page, "train/loss") == table_names(page)[:3]


def test_the_tables_filter_decides_the_runs_in_view(page: Page, server, ids) -> None:
    open_charts(page, server, ids, searchFilter="params.lr = '0.01'")
    names = legend_names(page, "train/loss")
    assert sorted(names) == sorted(n for rid, n in names_of(ids).items() if ids["params"][rid]["lr"] == "0.01")


@pytest.fixture(scope="module")
def two_experiments(tmp_path_factory: pytest.TempPathFactory, serve) -> LiveServer:
    """Experiment 1: an old run, a recent run and a deleted run; experiment 2: one run. Each logs "loss"."""
    root = tmp_path_factory.mktemp("experiment-charts-selection") / "mlruns"
    now = int(time.time() * 1000)
    first, second = write_experiment(root, "1", "first"), write_experiment(root, "2", "second")
    old, recent, deleted, other = (uuid.uuid4().hex for _ in range(4))
    write_run(first, old, "old-run", now - 40 * 86_400_000, 3, {"lr": "0.1"}, {"loss": [3.0, 2.0]}, {})
    write_run(first, recent, "recent-run", now - 3_600_000, 3, {"lr": "0.1"}, {"loss": [2.0, 1.0]}, {})
    write_run(first, deleted, "deleted-run", now - 3_600_000, 3, {"lr": "0.1"}, {"loss": [5.0, 4.0]}, {})
    meta = first / deleted / "meta.yaml"
    meta.write_text(meta.read_text().replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    write_run(second, other, "other-experiment-run", now - 7_200_000, 3, {"lr": "0.1"}, {"loss": [1.0, 0.5]}, {})
    return serve(root)


def charted(page: Page, url: str) -> list[str]:
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(url)
    return sorted(legend_names(page, "loss"))


def test_the_tables_lifecycle_time_range_and_experiments_decide_the_runs_in_view(page: Page, two_experiments) -> None:
    base = f"{two_experiments.url}/#"
    assert charted(page, f"{base}/experiments/1?compareRunsMode=CHART") == ["old-run", "recent-run"]
    assert charted(page, f"{base}/experiments/1?compareRunsMode=CHART&lifecycleFilter=Deleted") == ["deleted-run"]
    assert charted(page, f"{base}/experiments/1?compareRunsMode=CHART&startTime=LAST_7_DAYS") == ["recent-run"]
    both = quote(json.dumps(["1", "2"]))
    assert charted(page, f"{base}/compare-experiments/s?experiments={both}&compareRunsMode=CHART") == [
        "old-run", "other-experiment-run", "recent-run"]


def test_the_eye_hides_a_run_from_every_chart(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    first = table_names(page)[0]
    expect(card(page, "final_score").locator(".bar-row", has_text=first)).to_have_count(1)
    page.get_by_role("button", name=f"Hide {first} in charts").click()
    expect(card(page, "final_score").locator(".bar-row", has_text=first)).to_have_count(0)
    assert first not in legend_names(page, "train/loss")
    assert ids["runs"][first] in page.url  # hidden=[...] is in the URL
    page.get_by_role("button", name=f"Show {first} in charts").click()
    expect(card(page, "final_score").locator(".bar-row", has_text=first)).to_have_count(1)


def test_a_pinned_run_is_charted_even_beyond_the_first_rows(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=2)
    last = table_names(page)[-1]
    assert last not in legend_names(page, "train/loss")
    page.get_by_role("button", name=f"Pin {last}").click()
    expect(card(page, "train/loss").locator(".mchart-name", has_text=last)).to_have_count(1)


def test_each_run_has_one_colour_in_the_table_and_the_charts(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    legend_names(page, "train/loss")
    table = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.trow[data-run-id]')].map((row) =>
            [row.querySelector('.run-link').textContent, row.querySelector('.run-swatch').dataset.color]))"""
    )
    chart = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.ec-card[data-card="metric:train/loss"] .mchart-legend-row')].map((row) =>
            [row.querySelector('.mchart-name').textContent, getComputedStyle(row.querySelector('.mchart-swatch')).backgroundColor]))"""
    )
    assert len(chart) == 10
    for name, rgb in chart.items():
        hex_color = table[name]
        expected = "rgb({}, {}, {})".format(*(int(hex_color[i : i + 2], 16) for i in (1, 3, 5)))
        assert rgb == expected, name
    assert len(set(chart.values())) == 10  # ten runs side by side, ten colours


def rgb(hex_color: str) -> str:
    return "rgb({}, {}, {})".format(*(int(hex_color[i : i + 2], 16) for i in (1, 3, 5)))


def test_the_compare_page_shows_each_run_in_its_chart_colour(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    legend_names(page, "train/loss")
    rows = page.evaluate(
        """() => [...document.querySelectorAll('.trow[data-run-id]')].slice(0, 3).map((row) =>
            [row.dataset.runId, row.querySelector('.run-swatch').dataset.color])"""
    )
    run_ids = [run_id for run_id, _ in rows]
    page.goto(f"{server.url}/#/compare-runs?runs={quote(json.dumps(run_ids))}&experiments={quote(json.dumps([ids['experiment']]))}")
    swatches = page.locator(".cmp-swatch")
    expect(swatches).to_have_count(3, timeout=10_000)
    assert [s.evaluate("e => getComputedStyle(e).backgroundColor") for s in swatches.all()] == [rgb(c) for _, c in rows]


# ------------------------------------------------------------------ search, sections, layout


def test_chart_search_matches_substrings_and_regular_expressions(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    page.get_by_label("Filter charts").fill("LOSS")
    expect(page.locator(".ec-card")).to_have_count(2)
    page.get_by_role("button", name="Regular expression").click()
    page.get_by_label("Filter charts").fill("^(val|system)/")
    expect(page.locator(".ec-card")).to_have_count(2)
    expect(card(page, "system/cpu")).to_be_visible()
    page.get_by_label("Filter charts").fill("([")
    expect(page.get_by_label("Filter charts")).to_have_attribute("aria-invalid", "true")


def test_a_collapsed_section_stays_collapsed_after_a_reload(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    page.locator('.ec-section[data-section="train"] .mc-group-head').click()
    expect(page.locator('.ec-section[data-section="train"] .ec-card')).to_have_count(0)
    page.reload()
    expect(card(page, "val/loss")).to_be_visible(timeout=10_000)
    expect(page.locator('.ec-section[data-section="train"] .ec-card')).to_have_count(0)
    page.locator('.ec-section[data-section="train"] .mc-group-head').click()
    expect(page.locator('.ec-section[data-section="train"] .ec-card')).to_have_count(2)


def test_card_order_and_size_are_remembered_per_experiment(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    train = page.locator('.ec-section[data-section="train"] .ec-card')
    assert [c.get_attribute("data-card") for c in train.all()] == ["metric:train/acc", "metric:train/loss"]
    page.get_by_role("button", name="Move chart train/loss").press("ArrowLeft")
    expect(train.first).to_have_attribute("data-card", "metric:train/loss")
    resize = page.get_by_role("button", name="Resize chart val/loss")
    resize.press("ArrowRight")
    resize.press("ArrowDown")
    expect(card(page, "val/loss")).to_have_attribute("data-w", "2")
    expect(card(page, "val/loss")).to_have_attribute("data-h", "260")
    page.reload()
    expect(train.first).to_have_attribute("data-card", "metric:train/loss", timeout=10_000)
    expect(card(page, "val/loss")).to_have_attribute("data-w", "2")
    page.evaluate("() => localStorage.clear()")


def test_dragging_a_card_onto_another_reorders_the_section(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    train = page.locator('.ec-section[data-section="train"] .ec-card')
    expect(train.first).to_have_attribute("data-card", "metric:train/acc")
    legend_names(page, "train/acc")
    legend_names(page, "train/loss")  # both drawn: the layout no longer moves under the drag
    page.get_by_role("button", name="Move chart train/acc").drag_to(card(page, "train/loss"), target_position={"x": 300, "y": 100})
    expect(train.first).to_have_attribute("data-card", "metric:train/loss")
    page.evaluate("() => localStorage.clear()")


# ------------------------------------------------------------------ hover, click, bars


def test_hovering_a_line_highlights_its_run_in_the_table_and_other_charts(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=1)
    (name,) = legend_names(page, "train/loss")
    color = page.locator(".trow[data-run-id] .run-swatch").first.get_attribute("data-color")
    expect(card(page, "train/loss").locator(".mc-note")).to_contain_text("points shown")
    x, y = line_point(page, "train/loss", color)
    row = page.locator(".trow[data-run-id]", has_text=name).locator(".cell").first
    resting = row.evaluate("e => getComputedStyle(e).backgroundColor")
    page.mouse.move(x, y)
    expect(row).not_to_have_css("background-color", resting)
    highlighted = row.evaluate("e => getComputedStyle(e).backgroundColor")
    page.mouse.move(x, y - 150)
    expect(row).to_have_css("background-color", resting)
    assert highlighted != resting


def test_hovering_a_table_row_dims_the_other_runs_in_the_charts(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    legend_names(page, "train/loss")
    first = table_names(page)[0]
    page.locator(".table-scroll .trow[data-run-id] .run-link", has_text=first).hover()
    dimmed = card(page, "train/loss").locator(".mchart-legend-row.dim")
    expect(dimmed).to_have_count(9)
    expect(card(page, "train/loss").locator(".mchart-legend-row:not(.dim)")).to_have_text(re.compile(first))


def test_clicking_a_line_opens_its_run(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=1)
    (name,) = legend_names(page, "train/loss")
    color = page.locator(".trow[data-run-id] .run-swatch").first.get_attribute("data-color")
    expect(card(page, "train/loss").locator(".mc-note")).to_contain_text("points shown")
    x, y = line_point(page, "train/loss", color)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(f"/runs/{ids['runs'][name]}"))


def test_another_x_axis_redraws_the_charts_without_asking_the_server_again(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_q="train/loss")
    note = card(page, "train/loss").locator(".mc-note")
    expect(note).to_contain_text("points shown")
    page.evaluate("document.querySelector('.ec-card canvas').dataset.old = '1'")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/metrics/histories" in r.url else None)
    page.get_by_label("X axis").select_option("relative")
    expect(card(page, "train/loss").locator("canvas:not([data-old])")).to_have_count(1)
    expect(note).to_contain_text("points shown")
    page.get_by_label("X axis").select_option("wall")
    page.get_by_label("X axis").select_option("step")
    expect(note).to_contain_text("points shown")
    assert requests == []


def test_a_metric_logged_once_per_run_is_a_bar_chart_of_latest_values(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=12)
    bars = card(page, "final_score").locator(".bar-row")
    expect(bars).to_have_count(11)  # "no-score" has none
    spiky = bars.filter(has_text="spiky")
    expect(spiky.locator(".bar-value")).to_have_text("1.001")
    expect(card(page, "final_score").locator("canvas")).to_have_count(0)


# ------------------------------------------------------------------ grouping


def test_grouping_draws_each_groups_mean_and_std_band_from_the_tree(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_q="train/loss")
    with page.expect_response(lambda r: "/charts/group-histories" in r.url) as response:
        page.get_by_label("Add a grouping field").select_option("params.lr")
    body = response.value.json()
    legend = card(page, "train/loss").locator(".mchart-legend-row")
    expect(legend).to_have_count(3)
    expect(legend.locator(".mchart-name")).to_have_text(["lr=0.001 (4)", "lr=0.01 (4)", "lr=0.1 (4)"])
    assert sorted(s["group"] for s in body["series"]) == ["0.001", "0.01", "0.1"]
    for series in body["series"]:
        members = [r for r in ids["run_ids"] if ids["params"][r]["lr"] == series["group"]]
        assert series["x"] == list(range(STEPS))
        for step in (0, 31, STEPS - 1):
            values = values_at(ids["histories"], members, "train/loss", step)
            assert series["center"][step] == pytest.approx(statistics.fmean(values))
            assert series["std"][step] == pytest.approx(statistics.pstdev(values))
    # The legend's resting readout is each group's last mean, drawn from the same numbers.
    shown = [float(v) for v in legend.locator(".mchart-value").all_inner_texts()]
    expected = [statistics.fmean(values_at(ids["histories"], [r for r in ids["run_ids"] if ids["params"][r]["lr"] == lr], "train/loss", STEPS - 1))
                for lr in ("0.001", "0.01", "0.1")]
    assert shown == pytest.approx(expected, rel=1e-5)
    page.screenshot(path="/tmp/experiment_charts_groups.png")


def test_the_min_max_band_keeps_one_runs_spike(page: Page, server, ids) -> None:
    with page.expect_response(lambda r: "/charts/group-histories" in r.url) as response:
        open_charts(page, server, ids, chart_q="train/loss", groupBy=["params.lr"])
    spiky_group = next(s for s in response.value.json()["series"] if s["group"] == "0.1")
    assert max(spiky_group["max"]) == 50.0
    expect(card(page, "train/loss").locator(".mchart-legend-row")).to_have_count(3)
    expect(card(page, "train/loss").locator(".mc-note")).to_contain_text("± std")


def test_switching_the_band_redraws_without_a_request(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_q="train/loss", groupBy=["params.lr"])
    note = card(page, "train/loss").locator(".mc-note")
    expect(note).to_contain_text("± std")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/charts/" in r.url or "/metrics/" in r.url else None)
    page.get_by_label("Group band").select_option("minmax")
    expect(note).to_contain_text("min–max band")
    page.get_by_label("Group band").select_option("none")
    expect(note).not_to_contain_text("band")
    expect(note).not_to_contain_text("std")
    assert requests == []


def test_expanding_a_group_shows_its_runs_in_the_table_and_the_charts(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_q="train/loss", groupBy=["params.lr"])
    legend = card(page, "train/loss").locator(".mchart-legend-row")
    expect(legend).to_have_count(3)
    page.get_by_role("button", name="Expand group lr=0.1").click()
    expect(page.locator(".member-row")).to_have_count(4)
    expect(legend).to_have_count(7)  # the group's four runs as thin lines
    expect(legend.filter(has_text="spiky")).to_have_count(1)
    page.get_by_role("button", name="Collapse group lr=0.1").click()


def test_the_grouped_table_shows_mean_min_and_max_of_metric_columns(page: Page, server, ids) -> None:
    open_page(page, server, ids, groupBy=["params.lr"])
    rows = page.locator(".group-row")
    expect(rows).to_have_count(3)
    header = page.locator(".groups-table thead th").all_inner_texts()
    column = header.index("final_score")
    cell = rows.filter(has_text="lr=0.1").locator("td").nth(column)
    expect(cell).to_contain_text("1.0015")
    expect(cell).to_contain_text("1 – 1.003")
    page.screenshot(path="/tmp/experiment_grouped_table.png")


# ------------------------------------------------------------------ importance, added charts


def test_param_importance_ranks_the_param_that_determines_the_metric_first(page: Page, server, ids) -> None:
    open_charts(page, server, ids, chart_n=20)
    page.get_by_role("button", name="Param importance").click()
    page.get_by_label("Importance metric").select_option("final_score")
    rows = page.locator(".importance-table tbody tr")
    expect(rows.first).to_have_attribute("data-param", "lr")
    expect(page.locator(".importance-head")).to_contain_text("11 runs used, 1 left out")
    params = [r.get_attribute("data-param") for r in rows.all()]
    assert params.index("lr") < params.index("noise")
    page.screenshot(path="/tmp/experiment_importance.png")


def test_parallel_coordinates_and_scatter_charts_can_be_added_and_removed(page: Page, server, ids) -> None:
    open_charts(page, server, ids)
    page.get_by_role("button", name="+ Parallel coordinates").click()
    expect(page.locator(".cmp-parcoords")).to_have_attribute("data-lines", "10", timeout=10_000)
    page.get_by_role("button", name="+ Scatter").click()
    expect(page.locator(".cmp-scatter")).to_have_count(1)
    page.reload()
    expect(page.locator('.ec-section[data-section="*custom"] .ec-card')).to_have_count(2, timeout=10_000)
    remove = page.get_by_role("button", name="Remove this chart")
    while remove.count():
        remove.first.click()
    expect(page.locator(".cmp-parcoords")).to_have_count(0)
    page.screenshot(path="/tmp/experiment_charts.png")


# ------------------------------------------------------------------ live


def test_new_points_and_new_metrics_of_runs_in_view_appear_without_a_reload(page: Page, serve, tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    live_ids = write_chart_tree(root)
    live_server = serve(root)
    with page.expect_response("**/api/mlscope/events*"):  # the live feed is connected
        open_charts(page, live_server, live_ids, chart_n=1)
    (name,) = legend_names(page, "train/loss")
    note = card(page, "train/loss").locator(".mc-note")
    expect(note).to_have_text(f"{STEPS} of {STEPS} points shown")
    run_dir = root / live_ids["experiment"] / live_ids["runs"][name]
    with open(run_dir / "metrics" / "train" / "loss", "a") as handle:
        handle.write(f"{10**12} 0.01 {STEPS}\n")
    expect(note).to_have_text(f"{STEPS + 1} of {STEPS + 1} points shown", timeout=5_000)
    (run_dir / "metrics" / "val" / "f1").write_text(f"{10**12} 0.5 0\n")
    expect(card(page, "val/f1")).to_be_visible(timeout=5_000)

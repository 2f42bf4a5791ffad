"""Metric charts on the run page: drawn, zoomable with detail re-requested, spikes kept, live-followed."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.reference_trees import T0, mlflow_client

SPIKE_STEP, SPIKE_VALUE = 12_345, 500.0


@pytest.fixture(scope="module")
def charts_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A finished run with a 20,000-point spiky history and 30 small metrics; a RUNNING run to append to."""
    from mlflow.entities import Metric

    root = tmp_path_factory.mktemp("charts") / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("charts")
    spiky = client.create_run(exp, run_name="spiky-run", start_time=T0).info.run_id
    client.log_batch(spiky, metrics=[Metric(f"many/m{i:02d}", float(i), T0, 0) for i in range(30)])
    client.log_metric(spiky, "loss", 1.0, timestamp=T0, step=0)
    run_dir = root / exp / spiky
    with open(run_dir / "metrics" / "loss", "a") as handle:  # the exact FileStore line format, written fast
        for step in range(1, 20_000):
            value = SPIKE_VALUE if step == SPIKE_STEP else 1.0 + (step % 13) / 100
            handle.write(f"{T0 + step * 10} {value} {step}\n")
    client.set_terminated(spiky, "FINISHED")
    live = client.create_run(exp, run_name="live-run", start_time=T0).info.run_id
    for step in range(3):
        client.log_metric(live, "loss", 1.0 / (step + 1), timestamp=T0 + step, step=step)
    return root, {"exp": exp, "spiky": spiky, "live": live}


@pytest.fixture(scope="module")
def charts_server(charts_tree, serve):
    return serve(charts_tree[0])


def open_charts(page: Page, server: Any, tree: tuple[Path, dict[str, str]], run: str, query: str = "") -> None:
    ids = tree[1]
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{server.url}/#/experiments/{ids['exp']}/runs/{ids[run]}/model-metrics{query}")


def card(page: Page, key: str):
    return page.locator(f'.mc-card[data-keys="{key}"]')


def blue_pixels(page: Page, key: str, top_fraction: float = 1.0) -> int:
    """Pixels of the series colour (#2563eb) in the top `top_fraction` of a chart's canvas."""
    return page.evaluate(
        """([key, frac]) => {
            const canvas = document.querySelector(`.mc-card[data-keys="${key}"] canvas`);
            const ctx = canvas.getContext("2d");
            const h = Math.floor(canvas.height * frac);
            const px = ctx.getImageData(0, 0, canvas.width, h).data;
            let n = 0;
            for (let i = 0; i < px.length; i += 4) if (px[i] < 90 && px[i + 1] < 150 && px[i + 2] > 190 && px[i + 3] > 0) n++;
            return n;
        }""",
        [key, top_fraction],
    )


def test_a_chart_is_drawn_with_its_legend_and_points_note(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    expect(loss.locator(".mchart-name")).to_have_text("spiky-run")
    assert blue_pixels(page, "loss") > 200
    page.screenshot(path="/tmp/metric_charts.png")


def test_a_single_step_spike_survives_downsampling(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    note = card(page, "loss").locator(".mc-note")
    expect(note).to_contain_text("of 20,000 points shown", timeout=10_000)
    shown = int(note.inner_text().split(" of ")[0].replace(",", ""))
    assert shown < 5000  # really downsampled...
    assert blue_pixels(page, "loss", top_fraction=0.25) > 0  # ...and the spike still reaches the top of the plot


def test_dragging_to_zoom_re_requests_the_visible_range_in_detail(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    box = loss.locator(".u-over").bounding_box()
    assert box is not None
    with page.expect_request(lambda r: "/api/mlscope/metrics/histories" in r.url and "x_min" in (r.post_data or "")) as req:
        page.mouse.move(box["x"] + box["width"] * 0.50, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.52, box["y"] + box["height"] / 2, steps=4)
        page.mouse.up()
    body = json.loads(req.value.post_data or "{}")
    assert 8_000 < body["x_min"] < body["x_max"] < 12_000
    expected = body["x_max"] - body["x_min"] + 1
    expect(loss.locator(".mc-note")).to_have_text(f"{expected:,} of {expected:,} points shown")
    expect(loss.get_by_role("button", name="Reset zoom")).to_be_visible()


def test_double_click_resets_the_zoom(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    box = loss.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 40, steps=4)
    page.mouse.up()
    expect(loss.get_by_role("button", name="Reset zoom")).to_be_visible()
    page.mouse.dblclick(box["x"] + box["width"] * 0.5, box["y"] + 40)
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown")
    expect(loss.get_by_role("button", name="Reset zoom")).to_have_count(0)


def test_the_keyboard_zooms_moves_and_resets_a_chart(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    loss.locator(".mchart-plot").focus()

    def histories_request(r: Any) -> bool:
        return "/api/mlscope/metrics/histories" in r.url and "x_min" in (r.post_data or "")

    with page.expect_request(histories_request) as zoomed:
        page.keyboard.press("+")  # the middle half
    body = json.loads(zoomed.value.post_data or "{}")
    assert 4_000 < body["x_min"] < 6_000 and 14_000 < body["x_max"] < 16_000
    expect(loss.get_by_role("button", name="Reset zoom")).to_be_visible()
    with page.expect_request(histories_request) as moved:
        page.keyboard.press("ArrowRight")  # a quarter of the view to the right
    assert json.loads(moved.value.post_data or "{}")["x_min"] > body["x_min"] + 2_000
    page.keyboard.press("0")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown")
    expect(loss.get_by_role("button", name="Reset zoom")).to_have_count(0)


def test_hovering_shows_the_value_at_the_cursor(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    box = loss.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
    expect(loss.locator(".mchart-legend-head")).to_contain_text("step")
    value = loss.locator(".mchart-value")
    step = int(value.get_attribute("title").removeprefix("step ").replace(",", ""))
    assert 5_000 < step < 7_000
    assert float(value.inner_text()) == pytest.approx(1.0 + (step % 13) / 100)


def test_charts_are_grouped_by_key_prefix_and_filterable(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    expect(page.locator(".mc-group-head", has_text="many")).to_contain_text("30")
    page.get_by_label("Filter charts").fill("m07")
    expect(page.locator(".mc-card")).to_have_count(1)
    expect(page.locator(".mc-card .mc-title")).to_have_text("many/m07")
    assert "chart_q=m07" in page.url


def test_only_charts_near_the_viewport_are_drawn(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    expect(card(page, "loss").locator("canvas")).to_have_count(1, timeout=10_000)
    last = card(page, "many/m29")  # logged once: drawn as a bar
    assert page.locator(".mc-card .bar-row").count() < 30
    expect(last.locator(".bar-row")).to_have_count(0)
    last.scroll_into_view_if_needed()
    expect(last.locator(".bar-row .bar-value")).to_have_text("29")


def test_chart_settings_live_in_the_url(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky", "?chart_log=1&chart_smooth=0.8&chart_x=relative")
    expect(page.get_by_label("Log y")).to_be_checked()
    expect(page.locator(".mc-smooth-value")).to_have_text("0.80")
    expect(page.locator(".mc-controls select")).to_have_value("relative")
    page.get_by_label("Log y").uncheck()
    expect(page.get_by_label("Log y")).not_to_be_checked()
    assert "chart_log" not in page.url and "chart_smooth=0.8" in page.url


def test_smoothing_draws_the_raw_line_faint_behind(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky", "?chart_smooth=0.9")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_contain_text("of 20,000 points shown", timeout=10_000)
    page.screenshot(path="/tmp/metric_charts_smoothed.png")
    assert blue_pixels(page, "loss") > 200  # the smoothed line, full colour; the raw one is faint


def test_combining_selected_metrics_draws_them_in_one_chart(page: Page, charts_server, charts_tree):
    open_charts(page, charts_server, charts_tree, "spiky")
    for key in ("many/m01", "many/m02"):
        select = card(page, key).locator(".mc-select")
        card(page, key).scroll_into_view_if_needed()  # charts are drawn as they come into view
        expect(card(page, key).locator(".bar-label").first).to_be_visible(timeout=10_000)  # drawn: no re-render pending
        select.check()
        expect(select).to_be_checked()
    page.get_by_role("button", name="Combine selected (2)").click()
    combined = card(page, "many/m01,many/m02")
    expect(combined.locator(".bar-label")).to_have_text(["many/m01", "many/m02"])  # values logged once: bars
    assert "chart_combine" in page.url


def test_a_point_appended_to_a_running_run_appears_within_two_seconds(page: Page, charts_server, charts_tree):
    root, ids = charts_tree
    with page.expect_response("**/api/mlscope/events*"):  # the live feed is connected
        open_charts(page, charts_server, charts_tree, "live")
    loss = card(page, "loss")
    expect(loss.locator(".mc-note")).to_have_text("3 of 3 points shown", timeout=10_000)
    with open(root / ids["exp"] / ids["live"] / "metrics" / "loss", "a") as handle:
        handle.write(f"{T0 + 3} 0.125 3\n")
    started = time.monotonic()
    expect(loss.locator(".mc-note")).to_have_text("4 of 4 points shown", timeout=2_000)
    expect(loss.locator(".mchart-value")).to_have_text("0.125")
    assert time.monotonic() - started <= 2.0


# ------------------------------------------------------------------ values that are hard to draw


@pytest.fixture(scope="module")
def odd_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One run whose metrics are hard to draw: logged once, only NaN or ∞, near -1e300, ≤ 0 on a log scale,
    six decades wide, several values at one step, and a history spread over days."""
    from mlflow.entities import Metric

    root = tmp_path_factory.mktemp("odd-charts") / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("odd")
    run = client.create_run(exp, run_name="odd-run", start_time=T0).info.run_id
    metrics = [Metric("f1", 0.87, T0, 0), Metric("tiny", -1e300, T0, 0), Metric("inf_only", math.inf, T0, 0)]
    metrics += [Metric("nan_only", math.nan, T0 + i, i) for i in range(2)]
    metrics += [Metric("mixed_sign", v, T0 + i * 1000, i) for i, v in enumerate([-1.0, 0.0, 10.0, 100.0, 1000.0])]
    metrics += [Metric("wide", 10 ** (-3 + 6 * i / 49), T0 + i * 1000, i) for i in range(50)]
    metrics += [Metric("bigline", v, T0 + i * 1000, i) for i, v in enumerate([-1e300, -2e300, -5e299])]
    metrics += [Metric("same_step", v, T0, 0) for v in (1.0, 2.0, 3.0)]
    metrics += [Metric("days", float(i), T0 + i * 3 * 86_400_000, i) for i in range(5)]
    client.log_batch(run, metrics=metrics)
    client.set_terminated(run, "FINISHED", end_time=T0 + 60_000)
    return root, {"exp": exp, "odd": run}


@pytest.fixture(scope="module")
def odd_server(odd_tree, serve):
    return serve(odd_tree[0])


def open_odd(page: Page, server: Any, tree: tuple[Path, dict[str, str]], key: str, query: str = "") -> Any:
    """The run's chart of `key` alone (the chart filter), scrolled into view."""
    sep = "&" if query else ""
    open_charts(page, server, tree, "odd", f"?chart_q={key}{sep}{query}")
    return card(page, key)


def uplot_labels(chart: Any, axis: str) -> list[str]:
    expect(chart.locator(".uplot")).to_have_attribute(f"data-{axis}-labels", re.compile(".+"))
    return json.loads(chart.locator(".uplot").get_attribute(f"data-{axis}-labels") or "[]")


def test_a_metric_logged_once_is_drawn_as_a_bar_with_its_value(page: Page, odd_server, odd_tree):
    f1 = open_odd(page, odd_server, odd_tree, "f1")
    expect(f1.locator(".bar-row .bar-value")).to_have_text("0.87")
    assert f1.locator(".bar").bounding_box()["width"] > 100
    page.screenshot(path="/tmp/metric_charts_single_value.png")


def test_a_huge_negative_value_is_still_drawn(page: Page, odd_server, odd_tree):
    tiny = open_odd(page, odd_server, odd_tree, "tiny")
    expect(tiny.locator(".bar-row .bar-value")).to_have_text("-1.0000e+300")
    assert tiny.locator(".bar").bounding_box()["width"] > 100
    bigline = open_odd(page, odd_server, odd_tree, "bigline")
    expect(bigline.locator(".mc-note")).to_have_text("3 of 3 points shown")
    assert blue_pixels(page, "bigline") > 100
    assert uplot_labels(bigline, "y")  # the axis has labels at ±1e300 too


@pytest.mark.parametrize(("key", "said"), [("nan_only", "All values are NaN"), ("inf_only", "All values are ∞")])
def test_a_chart_of_only_nan_or_infinity_says_so(page: Page, odd_server, odd_tree, key: str, said: str):
    chart = open_odd(page, odd_server, odd_tree, key)
    expect(chart.get_by_text(said)).to_be_visible()


def test_log_y_labels_only_the_decades(page: Page, odd_server, odd_tree):
    wide = open_odd(page, odd_server, odd_tree, "wide", "chart_log=1")
    expect(wide.locator(".mc-note")).to_have_text("50 of 50 points shown")
    labels = uplot_labels(wide, "y")
    assert len(labels) >= 4 and set(labels) <= {"0.001", "0.01", "0.1", "1", "10", "100", "1000"}
    page.screenshot(path="/tmp/metric_charts_log_y.png")


def test_log_y_says_how_many_values_it_leaves_out(page: Page, odd_server, odd_tree):
    chart = open_odd(page, odd_server, odd_tree, "mixed_sign", "chart_log=1")
    expect(chart.locator(".mchart-omitted")).to_have_text("2 values ≤ 0 left out (log scale)")
    page.get_by_label("Log y").uncheck()
    expect(chart.locator(".mchart-omitted")).to_be_hidden()


def test_wall_time_labels_keep_their_date_line(page: Page, odd_server, odd_tree):
    days = open_odd(page, odd_server, odd_tree, "days", "chart_x=wall")
    expect(days.locator(".mc-note")).to_have_text("5 of 5 points shown")
    lowest_ink = page.evaluate(
        """() => {
            const canvas = document.querySelector('.mc-card[data-keys="days"] canvas');
            const { width, height } = canvas;
            const px = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            for (let y = height - 1; y >= 0; y--)
              for (let x = 0; x < width; x++) if (px[(y * width + x) * 4 + 3] > 0) return { y, height };
            return null;
        }"""
    )
    assert lowest_ink["height"] - lowest_ink["y"] > 4  # the date line ends above the canvas's edge, not cut by it
    page.screenshot(path="/tmp/metric_charts_wall_time.png")


def test_relative_time_of_values_logged_at_one_instant_has_no_negative_ticks(page: Page, odd_server, odd_tree):
    chart = open_odd(page, odd_server, odd_tree, "same_step", "chart_x=relative")
    labels = uplot_labels(chart, "x")
    assert labels[0] == "0s" and not any(label.startswith("-") for label in labels)

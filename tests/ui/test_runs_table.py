"""The runs table against MLflow's reference tree and a synthetic 2,000-run tree."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.reference_trees import mlflow_client
from tests.ui.synthetic import write_experiment, write_synthetic_tree


@pytest.fixture(scope="module")
def ids(reference_tree: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return reference_tree[1]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, dict[str, Any]]:
    root = tmp_path_factory.mktemp("big") / "mlruns"
    info = write_synthetic_tree(root, 2000)
    return serve(root), info


def open_table(page: Page, server: LiveServer, experiment: str, query: str = "") -> None:
    page.goto(f"{server.url}/#/experiments/{experiment}{query}")
    expect(page.locator(".trow[data-run-id]").first).to_be_visible()


def names(page: Page) -> list[str]:
    return page.locator(".trow[data-run-id] .run-link").all_inner_texts()


def test_rows_show_run_names_with_status_icons(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    assert names(page) == ["still-running", "killed-run", "failed-run", "parent-sweep"]
    for name, status in [("still-running", "RUNNING"), ("killed-run", "KILLED"), ("failed-run", "FAILED"), ("parent-sweep", "FINISHED")]:
        expect(page.locator(".trow", has_text=name).locator(f".status-{status}")).to_be_visible()


def test_expanding_a_parent_shows_its_generated_name_child(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    child = page.locator(f".trow[data-run-id='{ids['runs']['child']}']")
    expect(child).to_have_count(0)
    page.get_by_role("button", name="Expand 1 child runs").click()
    expect(child).to_be_visible()
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d+", child.locator(".run-link").inner_text())
    page.get_by_role("button", name="Collapse 1 child runs").click()
    expect(child).to_have_count(0)


def test_clicking_a_header_sorts_on_the_server_and_keeps_it_in_the_url(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    header = page.get_by_role("columnheader", name="User")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(".trow[data-run-id] .run-link").first).to_have_text("parent-sweep")  # alice
    assert "orderByKey=tags.%60mlflow.user%60" in page.url or "orderByKey=tags.`mlflow.user`" in page.url
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".trow[data-run-id] .run-link").first).not_to_have_text("parent-sweep")


def test_sorting_by_run_name_starts_a_to_z(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    header = page.get_by_role("columnheader", name="Run Name")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(".trow[data-run-id] .run-link").first).to_have_text("failed-run")
    assert names(page) == ["failed-run", "killed-run", "parent-sweep", "still-running"]
    assert "orderByKey=attributes.run_name" in page.url and "orderByAsc=true" in page.url
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".trow[data-run-id] .run-link").first).to_have_text("still-running")


def test_a_filter_narrows_the_rows_and_lives_in_the_url(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.fill("params.optimizer = 'adam'")
    box.press("Enter")
    expect(page.locator(".trow[data-run-id]")).to_have_count(2)
    assert sorted(names(page)) == ["failed-run", "parent-sweep"]
    assert "searchFilter=" in page.url


def test_a_bad_filter_shows_the_parser_message_inline(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc > 'high'")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Expected numeric value type for metric")


def test_autocomplete_suggests_keys_and_inserts_the_chosen_one(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.tr")
    options = page.get_by_role("listbox", name="Filter keys").get_by_role("option")
    expect(options.first).to_have_text("metrics.`train/loss`")
    options.first.click()
    expect(box).to_have_value("metrics.`train/loss` ")


def test_quick_time_filter_hides_older_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_label("Time range").select_option("LAST_HOUR")
    expect(page.get_by_text("No runs started in the last hour.")).to_be_visible()
    assert "startTime=LAST_HOUR" in page.url


def test_deleted_runs_are_behind_the_lifecycle_toggle(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    expect(page.locator(".trow", has_text="deleted-run")).to_have_count(0)
    page.get_by_label("Run lifecycle").select_option("Deleted")
    expect(page.locator(".trow.deleted", has_text="deleted-run")).to_be_visible()


def test_column_chooser_adds_a_column_and_remembers_it(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_role("button", name=re.compile(r"Columns")).click()
    page.get_by_label("Search columns").fill("stage")
    page.get_by_role("dialog", name="Choose columns").get_by_label("stage").check()
    header = page.get_by_role("columnheader", name=re.compile("stage"))
    expect(header).to_be_visible()
    expect(page.locator(".trow", has_text="parent-sweep").locator(".col-tags")).to_have_text("dev")
    page.reload()
    expect(page.get_by_role("columnheader", name=re.compile("stage"))).to_be_visible()


def test_metric_columns_show_latest_values(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    row = page.locator(".trow", has_text="parent-sweep")
    expect(row.locator(".col-metrics").first).to_have_text("0.05")  # loss, the commonest metric, is the first metric column
    expect(row.locator(".col-metrics").nth(1)).to_have_text("0.69")  # acc


def test_selected_runs_lead_to_compare(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    page.get_by_label("Select failed-run").check()
    page.get_by_label("Select killed-run").check()
    link = page.get_by_role("link", name="Compare (2)")
    href = link.get_attribute("href") or ""
    assert href.startswith("#/compare-runs?")
    assert ids["runs"]["failed"] in href and ids["runs"]["killed"] in href and ids["experiment"] in href


def test_export_link_asks_for_every_match_with_the_chosen_columns(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"], "?searchFilter=params.lr+%3D+%270.01%27")
    href = page.get_by_role("link", name="Export CSV").get_attribute("href") or ""
    assert href.startswith("/api/mlscope/runs/export.csv?") and "metrics=acc" in href
    response = page.request.get(reference_server.url + href)
    lines = response.text().strip().splitlines()
    assert len(lines) == 3  # header + parent-sweep + killed-run


def test_the_table_is_virtualized_and_loads_pages_on_scroll(page: Page, big: tuple[LiveServer, dict[str, Any]]) -> None:
    server, info = big
    open_table(page, server, info["experiment"])
    expect(page.locator(".run-count")).to_contain_text("2,000 runs")
    assert page.locator(".trow").count() < 100
    page.locator(".table-scroll").evaluate("el => el.scrollTop = el.scrollHeight")
    last_top_level = [r for r in info["run_ids"] if not any(r in kids for kids in info["parents"].values())][-1]
    expect(page.locator(f".trow[data-run-id='{last_top_level}']")).to_be_visible()
    assert page.locator(".trow").count() < 100


def test_first_rows_of_a_big_tree_come_from_the_first_page_only(page: Page, big: tuple[LiveServer, dict[str, Any]]) -> None:
    """Navigation shows rows from one page request, not the whole tree (timing lives in bench/bench_ui.py)."""
    server, info = big
    sizes: list[int] = []
    page.on("request", lambda r: sizes.append(r.post_data_json["max_results"]) if "/api/mlscope/runs/search" in r.url else None)
    page.goto(server.url + f"/#/experiments/{info['experiment']}")
    page.wait_for_selector(".trow[data-run-id]")
    assert sizes and all(size <= 200 for size in sizes)
    assert page.locator(".trow[data-run-id]").count() < 100


# ------------------------------------------------------------------ MLflow's runs URLs and failed queries


def mlflow_datasets_param(datasets: list[dict[str, str]]) -> str:
    """datasetsFilter as MLflow 3.17's UI writes it: base64 of the JSON list."""
    return base64.b64encode(json.dumps(datasets).encode()).decode()


def test_a_runs_url_written_by_mlflow_shows_the_active_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    query = urllib.parse.urlencode({
        "searchFilter": "", "orderByKey": "attributes.start_time", "orderByAsc": "false", "startTime": "ALL",
        "lifecycleFilter": "Active", "modelVersionFilter": "All Runs", "datasetsFilter": mlflow_datasets_param([]),
    })
    open_table(page, reference_server, ids["experiment"], "?" + query)
    assert names(page) == ["still-running", "killed-run", "failed-run", "parent-sweep"]
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".run-count")).to_contain_text("5 runs")


def test_mlflow_deleted_lifecycle_filter_shows_deleted_runs(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"], "?lifecycleFilter=Deleted&modelVersionFilter=All+Runs")
    assert names(page) == ["deleted-run"]
    expect(page.get_by_label("Run lifecycle")).to_have_value("Deleted")


def test_mlflow_datasets_filter_keeps_runs_that_used_the_dataset(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    param = mlflow_datasets_param([{"name": "toy data", "digest": "cd5cd803", "context": "training"}])
    open_table(page, reference_server, ids["experiment"], "?" + urllib.parse.urlencode({"lifecycleFilter": "Active", "datasetsFilter": param}))
    expect(page.locator(".trow[data-run-id]")).to_have_count(1)
    assert names(page) == ["parent-sweep"]
    expect(page.get_by_role("status").filter(has_text="Only runs that used toy data")).to_be_visible()


def test_an_invalid_filter_says_zero_runs_instead_of_loading(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc > 'high'")
    box.press("Enter")
    expect(page.locator(".run-count")).to_have_text("0 runs — fix the filter")
    expect(page.locator(".empty")).to_contain_text("0 runs — fix the filter")


def test_a_failed_request_shows_an_error_and_retries(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.route("**/api/mlscope/runs/search", lambda route: route.fulfill(status=500, content_type="application/json",
                                                                        body='{"error_code": "INTERNAL_ERROR", "message": "disk on fire"}'))
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}")
    expect(page.get_by_role("alert")).to_contain_text("Could not load runs: disk on fire")
    expect(page.locator(".run-count")).not_to_contain_text("Loading")
    page.unroute("**/api/mlscope/runs/search")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".trow", has_text="parent-sweep")).to_be_visible()


# ------------------------------------------------------------------ what the table shows and keeps in view


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> LiveServer:
    """A tree with one experiment that has no runs."""
    root = tmp_path_factory.mktemp("empty-exp") / "mlruns"
    write_experiment(root, "7", "nothing-yet")
    return serve(root)


def cell_text(page: Page, run_name: str, column: str) -> str:
    return page.locator(".trow", has_text=run_name).locator(f".col-{column}").inner_text()


def test_durations_below_a_minute_keep_their_precision(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    assert cell_text(page, "killed-run", "duration") == "100ms"
    assert cell_text(page, "failed-run", "duration") == "500ms"
    assert cell_text(page, "parent-sweep", "duration") == "8.0s"


def test_run_name_and_checkbox_stay_pinned_when_scrolling_sideways(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 900, "height": 600})
    open_table(page, reference_server, ids["experiment"])
    row = page.locator(".trow", has_text="parent-sweep")
    name_box = row.locator(".col-name").bounding_box()
    check_box = row.locator(".cell.select").bounding_box()
    header_box = page.get_by_role("columnheader", name="Run Name").bounding_box()
    page.locator(".table-scroll").evaluate("el => { el.scrollLeft = 600; }")
    page.wait_for_function("document.querySelector('.table-scroll').scrollLeft >= 600")
    assert row.locator(".col-name").bounding_box()["x"] == name_box["x"]
    assert row.locator(".cell.select").bounding_box()["x"] == check_box["x"]
    assert page.get_by_role("columnheader", name="Run Name").bounding_box()["x"] == header_box["x"]
    expect(row.locator(".run-link")).to_be_visible()
    page.screenshot(path="/tmp/runs_table_pinned.png")


def test_an_empty_experiment_says_it_has_no_runs_yet_and_how_to_log_one(page: Page, empty_server: LiveServer) -> None:
    page.goto(f"{empty_server.url}/#/experiments/7")
    message = page.locator(".empty")
    expect(message).to_contain_text("No runs in this experiment yet")
    expect(message).to_contain_text('mlflow.set_experiment(experiment_id="7")')
    expect(page.locator(".run-count")).to_have_text("0 runs")


def test_a_filter_with_no_match_says_so_even_when_scrolled_sideways(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 900, "height": 600})
    page.goto(f"{reference_server.url}/#/experiments/{ids['experiment']}?searchFilter=params.lr+%3D+%27nope%27")
    message = page.get_by_text("No runs match this filter.")
    expect(message).to_be_visible()
    page.locator(".table-scroll").evaluate("el => { el.scrollLeft = 800; }")
    box = message.bounding_box()
    assert box is not None and 0 <= box["x"] < 900
    page.screenshot(path="/tmp/runs_table_no_match.png")


# ------------------------------------------------------------------ registered model versions and default columns


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, dict[str, Any]]:
    """Three runs; the newest has version 1 of 'iris-classifier' registered from it (MLflow's own registry write)."""
    root = tmp_path_factory.mktemp("registered") / "mlruns"
    info = write_synthetic_tree(root, 3, children_every=0)
    client = mlflow_client(root)
    client.create_registered_model("iris-classifier")
    newest = info["run_ids"][0]
    client.create_model_version("iris-classifier", f"runs:/{newest}/model", run_id=newest)
    return serve(root), {**info, "registered_run": newest}


def test_registered_model_versions_appear_in_the_models_column(page: Page, registered: tuple[LiveServer, dict[str, Any]]) -> None:
    server, info = registered
    open_table(page, server, info["experiment"])
    cell = page.locator(f".trow[data-run-id='{info['registered_run']}'] .col-models")
    link = cell.get_by_role("link", name="iris-classifier v1")
    expect(link).to_have_attribute("href", "#/models/iris-classifier/versions/1")
    others = [r for r in info["run_ids"] if r != info["registered_run"]]
    expect(page.locator(f".trow[data-run-id='{others[0]}'] .col-models")).to_have_text("")
    page.locator(f".trow[data-run-id='{info['registered_run']}'] .run-link").click()  # and the run page lists it too
    expect(page.locator("[data-list=registered-versions]")).to_contain_text("iris-classifier v1")


def test_mlflow_model_version_filter_keeps_runs_with_or_without_versions(page: Page, registered: tuple[LiveServer, dict[str, Any]]) -> None:
    server, info = registered
    open_table(page, server, info["experiment"], "?modelVersionFilter=With+Model+Versions")
    expect(page.locator(".trow[data-run-id]")).to_have_count(1)
    expect(page.locator(f".trow[data-run-id='{info['registered_run']}']")).to_be_visible()
    page.get_by_label("Model versions").select_option("Without Model Versions")
    expect(page.locator(".trow[data-run-id]")).to_have_count(2)
    assert "modelVersionFilter=Without+Model+Versions" in page.url


def test_default_columns_are_the_keys_most_runs_have(page: Page, reference_server: LiveServer, ids: dict[str, Any]) -> None:
    open_table(page, reference_server, ids["experiment"])
    metric_headers = page.locator(".th-metrics .th-label").all_inner_texts()
    param_headers = page.locator(".th-params .th-label").all_inner_texts()
    # loss: 4 active runs, acc: 2, the others 1 each (ties by name); lr: 5 active runs (and a deleted one), optimizer 3, batch_size 2
    assert metric_headers[:2] == ["loss", "acc"]
    assert param_headers[:3] == ["lr", "optimizer", "batch_size"]


@pytest.fixture(scope="module")
def deleted_keys(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, str]:
    """Two active runs with param `lr` and metric `loss`; a deleted run alone has `old_param` and `old_metric`."""
    root = tmp_path_factory.mktemp("deleted-keys") / "mlruns"
    client = mlflow_client(root)
    exp = client.create_experiment("keys")
    for name in ("a", "b"):
        run = client.create_run(exp, run_name=name).info.run_id
        client.log_param(run, "lr", "0.1")
        client.log_metric(run, "loss", 0.5)
    gone = client.create_run(exp, run_name="gone").info.run_id
    client.log_param(gone, "old_param", "x")
    client.log_metric(gone, "old_metric", 1.0)
    client.delete_run(gone)
    return serve(root), exp


def test_default_columns_leave_out_keys_only_deleted_runs_have(page: Page, deleted_keys: tuple[LiveServer, str]) -> None:
    server, exp = deleted_keys
    open_table(page, server, exp)
    expect(page.locator(".th-metrics .th-label")).to_have_text(["loss"])
    expect(page.locator(".th-params .th-label")).to_have_text(["lr"])

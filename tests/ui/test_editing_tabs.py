"""Edits seen from other tabs, and edits racing other writers: two tabs on one run, a training process logging
into the run while the user renames it. Checked with MLflow's FileStore (the oracle) afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, expect

from tests.conftest import LiveServer
from tests.ui.editing_trees import file_store, write_editing_tree

Tree = tuple[Path, dict[str, Any]]
OTHER_TAB_MS = 2000  # the bound: an edit shows in other open tabs within 2 s


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("edit-tabs") / "mlruns"
    return root, write_editing_tree(root, runs=4)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])


@pytest.fixture
def tabs(context: BrowserContext) -> Iterator[tuple[Page, Page]]:
    """Two tabs of one browser."""
    first, second = context.new_page(), context.new_page()
    yield first, second
    first.close()
    second.close()


def run_url(server: LiveServer, tree: Tree, index: int) -> str:
    ids = tree[1]
    return f"{server.url}/#/experiments/{ids['vision']}/runs/{ids['runs'][index]}"


def open_run(page: Page, server: LiveServer, tree: Tree, index: int) -> None:
    page.goto(run_url(server, tree, index))
    expect(page.get_by_role("toolbar", name="Run actions")).to_be_visible()


def add_tag(page: Page, key: str, value: str) -> None:
    """In an open "Description & tags" dialog. Enter submits: a click could land on a row the other tab's live
    update inserts at that moment (the layout shifts by a row)."""
    page.get_by_label("New tag key").fill(key)
    page.get_by_label("New tag value").fill(value)
    page.get_by_label("New tag value").press("Enter")
    expect(page.get_by_label("New tag key")).to_have_value("")  # the write answered (the form resets on success)
    expect(page.locator(f'.edit-tags tr[data-tag="{key}"]')).to_contain_text(value)


def edit_tag(page: Page, key: str, value: str) -> None:
    page.get_by_role("button", name=f"Edit tag {key}").click()
    page.get_by_label(f"Value of tag {key}").fill(value)
    page.get_by_label(f"Value of tag {key}").press("Enter")
    expect(page.locator(f'.edit-tags tr[data-tag="{key}"] td').nth(1)).to_have_text(value)


def test_a_rename_in_one_tab_shows_in_the_other_tabs_table_within_two_seconds(tabs: tuple[Page, Page], server: LiveServer, tree: Tree) -> None:
    table, run_page = tabs
    table.goto(f"{server.url}/#/experiments/{tree[1]['vision']}")
    expect(table.locator(".run-link", has_text="run-3")).to_be_visible()
    open_run(run_page, server, tree, 3)
    run_page.get_by_role("button", name="Rename").click()
    run_page.get_by_label("Run name").fill("renamed elsewhere")
    run_page.get_by_label("Run name").press("Enter")
    expect(run_page.locator(".run-header h1")).to_contain_text("renamed elsewhere")
    expect(table.locator(".run-link", has_text="renamed elsewhere")).to_be_visible(timeout=OTHER_TAB_MS)
    expect(table.locator(".run-link", has_text="run-3")).to_have_count(0)


def test_a_tag_and_a_delete_in_one_tab_show_on_the_other_tabs_run_page_within_two_seconds(tabs: tuple[Page, Page], server: LiveServer, tree: Tree) -> None:
    watcher, editor = tabs
    open_run(watcher, server, tree, 2)
    open_run(editor, server, tree, 2)
    editor.get_by_role("button", name="Edit description & tags").click()
    add_tag(editor, "reviewed", "yes")
    expect(watcher.locator('[data-table="tags"]')).to_contain_text("reviewed", timeout=OTHER_TAB_MS)
    editor.get_by_role("button", name="Close").click()
    editor.get_by_role("button", name="Delete run").click()
    expect(watcher.get_by_role("button", name="Restore run")).to_be_visible(timeout=OTHER_TAB_MS)
    watcher.get_by_role("button", name="Restore run").click()
    expect(editor.get_by_role("button", name="Delete run")).to_be_visible(timeout=OTHER_TAB_MS)
    assert file_store(tree[0]).get_run(tree[1]["runs"][2]).info.lifecycle_stage == "active"


def test_two_tabs_editing_one_runs_tags_keep_every_key_and_the_last_value_of_each(tabs: tuple[Page, Page], server: LiveServer, tree: Tree) -> None:
    first, second = tabs
    for page in tabs:
        open_run(page, server, tree, 1)
        page.get_by_role("button", name="Edit description & tags").click()
    add_tag(first, "owner", "alice")
    add_tag(second, "split", "v2")  # the second tab's dialog was opened before the first tab's write
    expect(first.locator('.edit-tags tr[data-tag="split"]')).to_be_visible(timeout=OTHER_TAB_MS)
    expect(second.locator('.edit-tags tr[data-tag="owner"]')).to_be_visible(timeout=OTHER_TAB_MS)
    edit_tag(first, "owner", "bob")
    edit_tag(second, "owner", "carol")  # the later write of the same key wins
    expect(first.locator('.edit-tags tr[data-tag="owner"] td').nth(1)).to_have_text("carol", timeout=OTHER_TAB_MS)
    tags = file_store(tree[0]).get_run(tree[1]["runs"][1]).data.tags
    assert (tags["owner"], tags["split"]) == ("carol", "v2")


def test_renaming_a_run_while_a_training_process_logs_into_it_loses_nothing(page: Page, server: LiveServer, tree: Tree) -> None:
    """The training process is MLflow's FileStore on the same tree: every log call re-reads meta.yaml (a torn
    file would fail it), and each point is an append the rename must not disturb."""
    root, ids = tree
    run_id = ids["runs"][0]
    meta = root / ids["vision"] / run_id / "meta.yaml"
    errors: list[BaseException] = []
    torn: list[str] = []
    stop = threading.Event()
    logged = {"n": 0}

    def train() -> None:
        from mlflow.entities import Metric, Param, RunTag

        store = file_store(root)
        step = 0
        try:
            while not stop.is_set() or step < 50:
                store.log_batch(run_id, metrics=[Metric("loss", 1.0 / (step + 1), int(time.time() * 1000), step)], params=[], tags=[])
                if step % 10 == 0:
                    store.log_batch(run_id, metrics=[], params=[Param(f"p{step}", str(step))], tags=[RunTag(f"t{step}", str(step))])
                step += 1
                logged["n"] = step
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    def watch_meta() -> None:
        while not stop.is_set():
            try:
                text = meta.read_text()
            except FileNotFoundError:
                torn.append("meta.yaml missing")
                continue
            loaded = yaml.safe_load(text)
            if not isinstance(loaded, dict) or loaded.get("run_id") != run_id:
                torn.append(text)

    trainer = threading.Thread(target=train)
    watcher = threading.Thread(target=watch_meta)
    trainer.start()
    watcher.start()
    try:
        page.goto(run_url(server, tree, 0))
        for name in ["first name", "second name", "final name"]:
            page.get_by_role("button", name="Rename").click()
            page.get_by_label("Run name").fill(name)
            page.get_by_label("Run name").press("Enter")
            expect(page.locator(".run-header h1")).to_contain_text(name)
    finally:
        stop.set()
        trainer.join(60)
        watcher.join(10)
    assert errors == [] and torn == []
    run = file_store(root).get_run(run_id)
    steps = logged["n"]
    assert run.info.run_name == "final name" and run.data.tags["mlflow.runName"] == "final name"
    assert run.info.status == "RUNNING" and run.info.lifecycle_stage == "active"
    history = file_store(root).get_metric_history(run_id, "loss")
    assert sorted(m.step for m in history) == list(range(steps))
    assert {k for k in run.data.params} == {f"p{s}" for s in range(0, steps, 10)}
    assert run.data.tags["team"] == "cv" and all(run.data.tags[f"t{s}"] == str(s) for s in range(0, steps, 10))


def test_a_bulk_tag_is_found_by_search_and_a_rename_shows_in_compare_at_once(page: Page, server: LiveServer, tree: Tree) -> None:
    ids = tree[1]
    first, second = ids["runs"][1], ids["runs"][2]
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    for run_id in (first, second):
        page.locator(f'.trow[data-run-id="{run_id}"] input[type=checkbox]').check()
    page.get_by_role("button", name="Add tag (2)").click()
    page.get_by_label("Tag key").fill("report")
    page.get_by_label("Tag value").fill("q4")
    page.get_by_label("Tag value").press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_label("Filter runs").fill("tags.report = 'q4'")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".trow[data-run-id]")).to_have_count(2)
    assert sorted(page.locator(".trow[data-run-id]").evaluate_all("rows => rows.map(r => r.dataset.runId)")) == sorted([first, second])
    open_run(page, server, tree, 1)
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Run name").fill("compared-name")
    page.get_by_label("Run name").press("Enter")
    expect(page.locator(".run-header h1")).to_contain_text("compared-name")
    page.goto(f'{server.url}/#/compare-runs?runs=["{first}","{second}"]')
    expect(page.locator("th.cmp-run .cmp-run-name").first).to_have_text("compared-name")

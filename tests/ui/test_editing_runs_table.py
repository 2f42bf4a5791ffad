"""Bulk edits from the runs table (delete with undo, restore from the deleted view, tag) and read-only mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from mlscope.server.settings import ServerSettings
from tests.conftest import LiveServer
from tests.ui.editing_trees import file_store, write_editing_tree

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("edit-table") / "mlruns"
    return root, write_editing_tree(root, runs=4)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])


@pytest.fixture(scope="module")
def hundred(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> tuple[LiveServer, Tree]:
    root = tmp_path_factory.mktemp("edit-100") / "mlruns"
    tree = (root, write_editing_tree(root, runs=100))
    return serve(root), tree


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("edit-read-only") / "mlruns"
    ids = write_editing_tree(root)
    server = LiveServer(root, settings=ServerSettings(read_only=True)).start()
    yield server, (root, ids)
    server.stop()


def stages(root: Path, run_ids: list[str]) -> list[str]:
    store = file_store(root)
    return [store.get_run(r).info.lifecycle_stage for r in run_ids]


def test_bulk_delete_offers_undo(page: Page, server: LiveServer, tree: Tree) -> None:
    root, ids = tree
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    page.get_by_label("Select run-1").check()
    page.get_by_label("Select run-2").check()
    page.get_by_role("button", name="Delete (2)").click()
    expect(page.get_by_label("Select run-1")).to_have_count(0)
    assert stages(root, ids["runs"][1:3]) == ["deleted", "deleted"]
    page.screenshot(path="/tmp/ed/table_deleted_toast.png")
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.get_by_label("Select run-1")).to_be_visible()
    assert stages(root, ids["runs"][1:3]) == ["active", "active"]


def test_deleted_view_restores_selected_runs(page: Page, server: LiveServer, tree: Tree) -> None:
    root, ids = tree
    file_store(root).delete_run(ids["runs"][3])
    page.goto(f"{server.url}/#/experiments/{ids['vision']}?lifecycleFilter=Deleted")
    page.get_by_label("Select run-3").check()
    expect(page.get_by_role("button", name="Delete (1)")).to_have_count(0)
    page.screenshot(path="/tmp/ed/table_deleted_view.png")
    page.get_by_role("button", name="Restore (1)").click()
    expect(page.get_by_label("Select run-3")).to_have_count(0)
    assert stages(root, [ids["runs"][3]]) == ["active"]


def test_bulk_tag_sets_the_tag_on_every_selected_run(page: Page, server: LiveServer, tree: Tree) -> None:
    root, ids = tree
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    page.get_by_label("Select run-0").check()
    page.get_by_label("Select run-3").check()
    page.get_by_role("button", name="Add tag (2)").click()
    page.get_by_label("Tag key").fill("report")
    page.get_by_label("Tag value").fill("q4")
    page.screenshot(path="/tmp/ed/table_bulk_tag.png")
    page.get_by_label("Tag value").press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    store = file_store(root)
    assert [store.get_run(r).data.tags.get("report") for r in ids["runs"]] == ["q4", None, None, "q4"]


def test_runs_are_deleted_with_the_keyboard_alone_and_undo_takes_the_focus(page: Page, server: LiveServer, tree: Tree) -> None:
    root, ids = tree
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    box = page.get_by_label("Select run-2")
    box.focus()
    page.keyboard.press("Space")
    delete = page.get_by_role("button", name="Delete (1)")
    for _ in range(30):  # Shift+Tab back from the row to the toolbar's Delete
        if delete.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Shift+Tab")
    expect(delete).to_be_focused()
    page.keyboard.press("Enter")
    undo = page.locator(".toast").get_by_role("button", name="Undo")
    expect(undo).to_be_focused()  # the Delete button went with the selection: focus lands on Undo, not on the body
    assert stages(root, [ids["runs"][2]]) == ["deleted"]
    page.keyboard.press("Enter")
    expect(page.get_by_label("Select run-2")).to_be_visible()
    assert stages(root, [ids["runs"][2]]) == ["active"]


def test_ctrl_z_undoes_the_last_delete(page: Page, server: LiveServer, tree: Tree) -> None:
    root, ids = tree
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    page.get_by_label("Select run-1").check()
    page.get_by_role("button", name="Delete (1)").click()
    expect(page.get_by_label("Select run-1")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.get_by_label("Select run-1")).to_be_visible()
    expect(page.locator(".toast")).to_have_count(0)
    assert stages(root, [ids["runs"][1]]) == ["active"]


def test_bulk_delete_of_100_runs(page: Page, hundred: tuple[LiveServer, Tree]) -> None:
    server, (root, ids) = hundred
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    expect(page.locator(".run-count")).to_contain_text("100 runs")
    page.get_by_label("Select loaded runs").check()
    page.get_by_role("button", name="Delete (100)").click()
    expect(page.locator(".run-count")).to_have_text(re.compile(r"^\s*0 runs"), timeout=90_000)  # 100 sequential requests on a loaded test machine
    assert set(stages(root, ids["runs"])) == {"deleted"}


def test_read_only_server_shows_no_edit_controls(page: Page, read_only: tuple[LiveServer, Tree]) -> None:
    server, (_, ids) = read_only
    page.goto(f"{server.url}/#/experiments/{ids['vision']}")
    page.get_by_label("Select run-0").check()
    expect(page.locator(".exp-header[data-writable=false] h1")).to_have_text("vision")  # the status has answered
    for name in ["New experiment", "Rename", "Delete experiment", "Delete (1)", "Add tag (1)"]:
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    page.goto(f"{server.url}/#/experiments/{ids['vision']}/runs/{ids['runs'][0]}")
    expect(page.locator(".run-header h1")).to_contain_text("run-0")
    expect(page.get_by_role("toolbar", name="Run actions")).to_have_count(0)

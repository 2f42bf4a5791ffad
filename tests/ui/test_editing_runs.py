"""Editing a run from its page: rename, description, tags, delete and restore; checked with MLflow's FileStore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.ui.editing_trees import file_store, write_editing_tree

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("edit-runs") / "mlruns"
    return root, write_editing_tree(root)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])


def open_run(page: Page, server: LiveServer, tree: Tree, index: int) -> str:
    ids = tree[1]
    run_id = ids["runs"][index]
    page.goto(f"{server.url}/#/experiments/{ids['vision']}/runs/{run_id}")
    expect(page.get_by_role("toolbar", name="Run actions")).to_be_visible()
    return run_id


def test_rename_sets_meta_run_name_and_the_run_name_tag(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 1)
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Run name").fill("renamed run")
    page.screenshot(path="/tmp/ed/run_rename.png")
    page.get_by_label("Run name").press("Enter")
    expect(page.locator(".run-header h1")).to_contain_text("renamed run")
    run = file_store(tree[0]).get_run(run_id)
    assert run.info.run_name == "renamed run"
    assert run.data.tags["mlflow.runName"] == "renamed run"


def test_description_is_saved_as_the_note_tag_and_rendered_as_markdown(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 1)
    page.get_by_role("button", name="Edit description & tags").click()
    page.get_by_role("button", name="Edit the description of this run").click()
    page.get_by_label("Description (markdown)").fill("**best** run <script>alert(1)</script>")
    page.get_by_role("tab", name="Preview").click()
    expect(page.get_by_label("Description preview").locator("strong")).to_have_text("best")
    expect(page.get_by_label("Description preview").locator("script")).to_have_count(0)
    page.screenshot(path="/tmp/ed/run_description.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Description preview")).to_have_count(0)  # saved: the editor closed (the preview has <strong> too)
    expect(page.locator(".edit-description strong")).to_have_text("best")
    assert file_store(tree[0]).get_run(run_id).data.tags["mlflow.note.content"] == "**best** run <script>alert(1)</script>"


def test_tags_can_be_added_edited_and_removed(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 0)
    page.get_by_role("button", name="Edit description & tags").click()
    page.get_by_label("New tag key").fill("stage")
    page.get_by_label("New tag value").fill("draft")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator("[data-table=edit-tags] tr[data-tag=stage]")).to_contain_text("draft")
    page.get_by_role("button", name="Edit tag stage").click()
    page.get_by_label("Value of tag stage").fill("final")
    page.get_by_label("Value of tag stage").press("Enter")
    expect(page.locator("[data-table=edit-tags] tr[data-tag=stage]")).to_contain_text("final")
    page.get_by_role("button", name="Remove tag team").click()
    expect(page.locator("[data-table=edit-tags] tr[data-tag=team]")).to_have_count(0)
    page.screenshot(path="/tmp/ed/run_tags.png")
    tags = file_store(tree[0]).get_run(run_id).data.tags
    assert tags["stage"] == "final"
    assert "team" not in tags


def test_system_tags_are_read_only(page: Page, server: LiveServer, tree: Tree) -> None:
    open_run(page, server, tree, 0)
    page.get_by_role("button", name="Edit description & tags").click()
    row = page.locator("[data-table=edit-tags] tr[data-tag='mlflow.source.name']")
    expect(row).to_contain_text("read-only")
    expect(row.get_by_role("button")).to_have_count(0)


def test_escape_closes_the_dialog_and_focus_returns(page: Page, server: LiveServer, tree: Tree) -> None:
    open_run(page, server, tree, 2)
    button = page.get_by_role("button", name="Rename")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Rename run")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(button).to_be_focused()


def test_delete_is_soft_and_undo_restores(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 2)
    page.get_by_role("button", name="Delete run").click()
    expect(page.get_by_role("button", name="Restore run")).to_be_visible()
    page.screenshot(path="/tmp/ed/run_deleted.png")
    assert file_store(tree[0]).get_run(run_id).info.lifecycle_stage == "deleted"
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.get_by_role("button", name="Delete run")).to_be_visible()
    assert file_store(tree[0]).get_run(run_id).info.lifecycle_stage == "active"


def test_a_deleted_run_can_be_restored_from_its_page(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = tree[1]["runs"][2]
    file_store(tree[0]).delete_run(run_id)
    open_run(page, server, tree, 2)
    page.get_by_role("button", name="Restore run").click()
    expect(page.get_by_role("button", name="Delete run")).to_be_visible()
    assert file_store(tree[0]).get_run(run_id).info.lifecycle_stage == "active"


def test_escape_in_the_description_editor_cancels_the_edit_but_keeps_the_dialog(page: Page, server: LiveServer, tree: Tree) -> None:
    open_run(page, server, tree, 0)
    page.get_by_role("button", name="Edit description & tags").click()
    page.get_by_role("button", name="Edit the description of this run").click()
    page.get_by_label("Description (markdown)").press("Escape")
    expect(page.get_by_label("Description (markdown)")).to_have_count(0)
    expect(page.get_by_role("dialog", name="Description & tags")).to_be_visible()


def test_a_refused_write_shows_the_servers_message(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 1)
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Run name").fill("too late")
    file_store(tree[0]).delete_run(run_id)  # behind the page's back: MLflow refuses edits of a deleted run
    page.get_by_label("Run name").press("Enter")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("must be in 'active' lifecycle_stage")
    assert file_store(tree[0]).get_run(run_id).info.run_name != "too late"


def test_tab_and_shift_tab_stay_inside_a_dialog(page: Page, server: LiveServer, tree: Tree) -> None:
    open_run(page, server, tree, 2)
    page.get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog", name="Rename run")
    expect(page.get_by_label("Run name")).to_be_focused()
    for _ in range(5):
        page.keyboard.press("Tab")
        assert dialog.evaluate("el => el.contains(document.activeElement)")
    page.get_by_label("Run name").focus()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()


def test_removing_a_tag_offers_undo_and_keeps_the_focus_in_the_dialog(page: Page, server: LiveServer, tree: Tree) -> None:
    from mlflow.entities import RunTag

    run_id = tree[1]["runs"][2]
    file_store(tree[0]).set_tag(run_id, RunTag("keep-me", "yes"))
    open_run(page, server, tree, 2)
    page.get_by_role("button", name="Edit description & tags").click()
    page.get_by_role("button", name="Remove tag keep-me").click()
    expect(page.locator("[data-table=edit-tags] tr[data-tag=keep-me]")).to_have_count(0)
    assert page.get_by_role("dialog", name="Description & tags").evaluate("el => el.contains(document.activeElement)")
    assert "keep-me" not in file_store(tree[0]).get_run(run_id).data.tags
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.locator("[data-table=edit-tags] tr[data-tag=keep-me]")).to_contain_text("yes")
    assert file_store(tree[0]).get_run(run_id).data.tags["keep-me"] == "yes"


def test_deleting_a_run_from_the_keyboard_puts_the_focus_on_undo(page: Page, server: LiveServer, tree: Tree) -> None:
    run_id = open_run(page, server, tree, 2)
    page.get_by_role("button", name="Delete run").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Restore run")).to_be_visible()  # Delete run went away with the focus
    expect(page.locator(".toast").get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Delete run")).to_be_visible()
    assert file_store(tree[0]).get_run(run_id).info.lifecycle_stage == "active"

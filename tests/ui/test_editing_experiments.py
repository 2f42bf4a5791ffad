"""Editing experiments from the sidebar and the experiment header; checked with MLflow's FileStore."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.ui.editing_trees import file_store, write_editing_tree

Tree = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("edit-experiments") / "mlruns"
    return root, write_editing_tree(root)


@pytest.fixture(scope="module")
def server(tree: Tree, serve: Any) -> LiveServer:
    return serve(tree[0])



def test_create_with_artifact_location_and_tags(page: Page, server: LiveServer, tree: Tree, tmp_path: Path) -> None:
    page.goto(f"{server.url}/#/experiments")
    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_label("Experiment name").fill("audio")
    dialog.get_by_label("Artifact location").fill((tmp_path / "audio-artifacts").as_uri())
    dialog.get_by_label("Tag 1 key").fill("owner")
    dialog.get_by_label("Tag 1 value").fill("bob")
    page.screenshot(path="/tmp/ed/exp_create.png")
    dialog.get_by_role("button", name="Create").click()
    expect(page.locator(".exp-header h1")).to_have_text("audio")
    created = file_store(tree[0]).get_experiment_by_name("audio")
    assert created is not None
    assert created.artifact_location == (tmp_path / "audio-artifacts").as_uri()
    assert created.tags["owner"] == "bob"


def test_create_with_a_taken_name_shows_mlflows_error_inline(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/#/experiments")
    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_label("Experiment name").fill("speech")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("speech")
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")
    page.screenshot(path="/tmp/ed/exp_create_error.png")


def test_rename_writes_the_new_name(page: Page, server: LiveServer, tree: Tree) -> None:
    speech = file_store(tree[0]).get_experiment_by_name("speech").experiment_id
    page.goto(f"{server.url}/#/experiments/{speech}")
    page.locator(".exp-header").get_by_role("button", name="Rename").click()
    page.get_by_label("New name").fill("speech-v2")
    page.get_by_label("New name").press("Enter")
    expect(page.locator(".exp-header h1")).to_have_text("speech-v2")
    assert file_store(tree[0]).get_experiment(speech).name == "speech-v2"


def test_rename_to_an_empty_name_shows_mlflows_error(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/experiments/{tree[1]['vision']}")
    page.locator(".exp-header").get_by_role("button", name="Rename").click()
    page.get_by_label("New name").fill("")
    page.get_by_label("New name").press("Enter")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_be_visible()
    page.screenshot(path="/tmp/ed/exp_rename_error.png")
    assert file_store(tree[0]).get_experiment(tree[1]["vision"]).name == "vision"


def test_description_is_the_note_tag(page: Page, server: LiveServer, tree: Tree) -> None:
    vision = tree[1]["vision"]
    page.goto(f"{server.url}/#/experiments/{vision}")
    page.get_by_role("button", name="Description & tags").click()
    page.get_by_role("button", name="Edit the description of this experiment").click()
    page.get_by_label("Description (markdown)").fill("# Vision\nimage *models*")
    page.get_by_label("Description (markdown)").press("Control+Enter")
    expect(page.locator(".exp-header .edit-description em")).to_have_text("models")
    page.screenshot(path="/tmp/ed/exp_details.png")
    assert file_store(tree[0]).get_experiment(vision).tags["mlflow.note.content"] == "# Vision\nimage *models*"


def test_tags_can_be_added_and_removed(page: Page, server: LiveServer, tree: Tree) -> None:
    vision = tree[1]["vision"]
    page.goto(f"{server.url}/#/experiments/{vision}")
    page.get_by_role("button", name="Description & tags").click()
    page.get_by_label("New tag key").fill("area")
    page.get_by_label("New tag value").fill("cv")
    page.get_by_label("New tag value").press("Enter")
    expect(page.locator(".exp-header tr[data-tag=area]")).to_contain_text("cv")
    assert file_store(tree[0]).get_experiment(vision).tags["area"] == "cv"
    page.get_by_role("button", name="Remove tag area").click()
    expect(page.locator(".exp-header tr[data-tag=area]")).to_have_count(0)
    assert "area" not in file_store(tree[0]).get_experiment(vision).tags


def test_delete_offers_undo(page: Page, server: LiveServer, tree: Tree) -> None:
    vision = tree[1]["vision"]
    page.goto(f"{server.url}/#/experiments/{vision}")
    page.get_by_role("button", name="Delete experiment").click()
    expect(page.get_by_role("button", name="Restore experiment")).to_be_visible()
    assert file_store(tree[0]).get_experiment(vision).lifecycle_stage == "deleted"
    page.screenshot(path="/tmp/ed/exp_deleted.png")
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.get_by_role("button", name="Delete experiment")).to_be_visible()
    assert file_store(tree[0]).get_experiment(vision).lifecycle_stage == "active"


def test_restore_from_the_show_deleted_list(page: Page, server: LiveServer, tree: Tree) -> None:
    store = file_store(tree[0])
    doomed = store.create_experiment("doomed")
    store.delete_experiment(doomed)
    page.goto(f"{server.url}/#/experiments")
    page.get_by_label("Show deleted").check()
    page.get_by_role("button", name="Restore doomed").click()
    expect(page.get_by_role("button", name="Restore doomed")).to_have_count(0)
    assert file_store(tree[0]).get_experiment(doomed).lifecycle_stage == "active"


def test_an_experiment_can_be_created_from_the_keyboard_alone(page: Page, server: LiveServer, tree: Tree) -> None:
    page.goto(f"{server.url}/#/experiments")
    page.get_by_role("button", name="New experiment").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Experiment name")).to_be_focused()
    page.keyboard.type("keyboard-made")
    page.keyboard.press("Enter")
    expect(page.locator(".exp-header h1")).to_have_text("keyboard-made")
    assert file_store(tree[0]).get_experiment_by_name("keyboard-made") is not None


def test_renaming_an_experiment_deleted_elsewhere_shows_mlflows_refusal(page: Page, server: LiveServer, tree: Tree) -> None:
    store = file_store(tree[0])
    gone = store.create_experiment("deleted-behind-the-page")
    page.goto(f"{server.url}/#/experiments/{gone}")
    page.locator(".exp-header").get_by_role("button", name="Rename").click()
    store.delete_experiment(gone)  # another tab or a script deleted it meanwhile
    page.get_by_label("New name").fill("too-late")
    page.get_by_label("New name").press("Enter")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("non-active lifecycle stage")
    assert file_store(tree[0]).get_experiment(gone).name == "deleted-behind-the-page"


def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """The UI shows an edit as its request is answered; the tree is read once the write has landed."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the write never reached the tree"
        time.sleep(0.05)


def test_removing_an_experiment_tag_offers_undo(page: Page, server: LiveServer, tree: Tree) -> None:
    from mlflow.entities import ExperimentTag

    store = file_store(tree[0])
    exp = store.create_experiment("tag-undo")
    store.set_experiment_tag(exp, ExperimentTag("owner", "ada"))
    page.goto(f"{server.url}/#/experiments/{exp}")
    page.get_by_role("button", name="Description & tags").click()
    page.get_by_role("button", name="Remove tag owner").click()
    expect(page.locator(".exp-header tr[data-tag=owner]")).to_have_count(0)
    _eventually(lambda: "owner" not in file_store(tree[0]).get_experiment(exp).tags)
    page.locator(".toast").get_by_role("button", name="Undo").click()
    expect(page.locator(".exp-header tr[data-tag=owner]")).to_contain_text("ada")
    _eventually(lambda: file_store(tree[0]).get_experiment(exp).tags.get("owner") == "ada")

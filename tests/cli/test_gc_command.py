"""`mlscope gc` removes for good only what is deleted, as `mlflow gc` does; a dry run changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.file_store import FileStore
from mlflow.tracking import MlflowClient

MLSCOPE = [sys.executable, "-m", "mlscope.cli.main"]


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A tree written by MLflow: an active run, a deleted run, and a deleted experiment with one run."""
    root = tmp_path / "mlruns"
    client = MlflowClient(tracking_uri=root.as_uri())
    kept_exp = client.create_experiment("kept")
    gone_exp = client.create_experiment("gone")
    ids = {"kept_exp": kept_exp, "gone_exp": gone_exp}
    for name in ("active", "deleted"):
        run = client.create_run(kept_exp, run_name=name)
        (Path(run.info.artifact_uri.removeprefix("file://")) / "f.txt").parent.mkdir(parents=True, exist_ok=True)
        client.log_text(run.info.run_id, "x", "f.txt")
        ids[name] = run.info.run_id
    ids["in_gone"] = client.create_run(gone_exp, run_name="in-gone").info.run_id
    client.delete_run(ids["deleted"])
    client.delete_experiment(gone_exp)
    return root, ids


def gc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MLSCOPE, "gc", "--backend-store-uri", str(root), *args], capture_output=True, text=True, timeout=60)


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def exists(root: Path, run_id: str) -> bool:
    try:
        FileStore(root.as_uri()).get_run(run_id)
        return True
    except MlflowException:
        return False


def test_gc_removes_deleted_runs_and_experiments_and_keeps_active_ones(tree):
    root, ids = tree
    result = gc(root)
    assert result.returncode == 0, result.stderr
    assert exists(root, ids["active"])
    assert not exists(root, ids["deleted"]) and not exists(root, ids["in_gone"])
    assert not (root / ".trash" / ids["gone_exp"]).exists()
    assert f"Removed run {ids['deleted']}" in result.stdout


def test_gc_leaves_the_same_tree_as_mlflow_gc(tree, tmp_path):
    root, _ = tree
    theirs = tmp_path / "theirs"
    shutil.copytree(root, theirs)
    env = {**os.environ, "MLFLOW_TRACKING_URI": theirs.as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    subprocess.run([sys.executable, "-m", "mlflow", "gc", "--backend-store-uri", theirs.as_uri()], check=True, capture_output=True, env=env, timeout=120)
    assert gc(root).returncode == 0
    assert listing(root) == listing(theirs)


def test_dry_run_lists_what_would_go_and_changes_nothing(tree):
    root, ids = tree
    before = listing(root)
    result = gc(root, "--dry-run")
    assert f"Would remove run {ids['deleted']}" in result.stdout and f"Would remove experiment {ids['gone_exp']}" in result.stdout
    assert listing(root) == before


def test_an_active_run_is_refused_by_id(tree):
    root, ids = tree
    result = gc(root, "--run-ids", ids["active"])
    assert result.returncode == 2 and "not in `deleted` lifecycle stage" in result.stderr
    assert exists(root, ids["active"])


def test_an_active_experiment_is_refused_by_id(tree):
    root, ids = tree
    result = gc(root, "--experiment-ids", ids["kept_exp"])
    assert result.returncode == 2 and "not in the deleted lifecycle stage" in result.stderr


def test_older_than_keeps_what_was_deleted_recently(tree):
    root, ids = tree
    before = listing(root)
    assert gc(root, "--older-than", "1d").returncode == 0
    assert listing(root) == before


def test_run_ids_remove_only_those_runs(tree):
    root, ids = tree
    assert gc(root, "--run-ids", ids["deleted"]).returncode == 0
    assert not exists(root, ids["deleted"])
    assert (root / ".trash" / ids["gone_exp"]).exists()


def test_a_bad_older_than_is_a_one_line_error(tree):
    result = gc(tree[0], "--older-than", "soon")
    assert result.returncode == 2 and "Could not parse any time information from 'soon'" in result.stderr

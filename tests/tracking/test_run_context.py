"""The tags a new run (and a code-sourced dataset) gets from where it runs are MLflow's: user, source, git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
if sys.argv[1] == "mlflow":
    from mlflow.tracking.context.registry import resolve_tags
    tags = resolve_tags()
else:
    from mlscope.tracking.context import default_tags
    tags = default_tags()
print(json.dumps(tags))
"""


def context_tags(script: Path, which: str, **env: str) -> dict[str, str]:
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(PROBE)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    result = subprocess.run([sys.executable, script.name, which], cwd=script.parent, env={**clean, **env},
                            capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = tmp_path / "repo"
    folder.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)

    git("init", "-q", "-b", "trunk")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    git("remote", "add", "origin", "https://example.com/team/repo.git")
    (folder / ".gitignore").write_text("ignored/\n")
    git("add", ".gitignore")
    git("commit", "-q", "-m", "first")
    return folder


def test_a_script_in_a_repository_gets_mlflows_git_tags(repo: Path) -> None:
    ours = context_tags(repo / "train.py", "mlscope")
    assert ours == context_tags(repo / "train.py", "mlflow")
    assert ours["mlflow.source.git.branch"] == "trunk" and ours["mlflow.source.git.repoURL"] == "https://example.com/team/repo.git"


def test_a_git_ignored_script_gets_no_git_tags_as_in_mlflow(repo: Path) -> None:
    ours = context_tags(repo / "ignored" / "train.py", "mlscope")
    assert ours == context_tags(repo / "ignored" / "train.py", "mlflow")
    assert not any(key.startswith("mlflow.source.git") for key in ours)


def test_the_tracking_username_and_run_context_variables_are_used_as_in_mlflow(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_USERNAME": "ci-bot", "MLFLOW_RUN_CONTEXT": json.dumps({"job": "nightly"})}
    ours = context_tags(tmp_path / "train.py", "mlscope", **env)
    assert ours == context_tags(tmp_path / "train.py", "mlflow", **env)
    assert ours["mlflow.user"] == "ci-bot" and ours["job"] == "nightly"

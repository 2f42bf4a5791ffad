"""Where runs go (the tracking URI) and the system tags MLflow adds to every new run."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from ..store.paths import NotLocalError, local_path
from .validation import MlscopeException

DEFAULT_TRACKING_URI = "./mlruns"


def root_for_uri(uri: str) -> Path:
    """The local mlruns folder a tracking URI names; a remote URI is a clear error (no server writes yet)."""
    try:
        if uri in ("databricks", "databricks-uc", "uc"):  # MLflow's schemeless remote names
            raise NotLocalError(uri)
        path = local_path(uri)
    except NotLocalError:
        raise MlscopeException(
            f"Tracking URI '{uri}' is not a local path or file: URI. mlscope's client writes runs straight into "
            "an mlruns folder and cannot log to a server or database yet: use set_tracking_uri('./mlruns') "
            "or MLFLOW_TRACKING_URI=file:/path/to/mlruns."
        ) from None
    return path.expanduser().absolute()


def user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def source_name() -> str:
    return sys.argv[0] if sys.argv and sys.argv[0] else "<console>"


def default_tags() -> dict[str, str]:
    """mlflow.user / mlflow.source.name / mlflow.source.type, plus git tags when the script is in a repo."""
    tags = {"mlflow.user": user(), "mlflow.source.name": source_name(), "mlflow.source.type": "LOCAL"}
    if sys.argv and sys.argv[0]:
        tags.update(git_tags(Path(sys.argv[0])))
    return tags


def git_tags(main_file: Path) -> dict[str, str]:
    """Commit, branch and origin URL read straight from .git (no git binary or GitPython needed)."""
    try:
        start = main_file.resolve()
    except OSError:
        return {}
    git_dir = _find_git_dir(start if start.is_dir() else start.parent)
    if git_dir is None:
        return {}
    tags: dict[str, str] = {}
    head = _read(git_dir / "HEAD").strip()
    commit = head
    if head.startswith("ref:"):
        ref = head[4:].strip()
        if ref.startswith("refs/heads/"):
            tags["mlflow.source.git.branch"] = ref[len("refs/heads/") :]
        commit = _resolve_ref(git_dir, ref)
    if len(commit) == 40 and all(c in "0123456789abcdef" for c in commit):
        tags["mlflow.source.git.commit"] = commit
    else:
        return {}  # a repo with no commits yet: MLflow adds no git tags either
    url = _origin_url(git_dir)
    if url:
        tags["mlflow.source.git.repoURL"] = url
    return tags


def _find_git_dir(folder: Path) -> Path | None:
    for candidate in (folder, *folder.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # worktree / submodule: "gitdir: <path>"
            text = _read(dot_git).strip()
            if text.startswith("gitdir:"):
                target = Path(text[7:].strip())
                return target if target.is_absolute() else (candidate / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    common = _read(git_dir / "commondir").strip()
    return (git_dir / common).resolve() if common else git_dir


def _resolve_ref(git_dir: Path, ref: str) -> str:
    for folder in (git_dir, _common_dir(git_dir)):
        loose = _read(folder / ref).strip()
        if loose:
            return loose
        for line in _read(folder / "packed-refs").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref:
                return parts[0]
    return ""


def _origin_url(git_dir: Path) -> str:
    section = ""
    for line in _read(_common_dir(git_dir) / "config").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == '[remote "origin"]' and line.startswith("url"):
            return line.split("=", 1)[1].strip()
    return ""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def env_tracking_uri() -> str | None:
    return os.environ.get("MLFLOW_TRACKING_URI") or None

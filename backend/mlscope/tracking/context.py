"""Where runs go (the tracking URI) and the system tags MLflow adds to every new run."""

from __future__ import annotations

import functools
import getpass
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from ..store.paths import NotLocalError, local_path
from .validation import MlscopeException

DEFAULT_TRACKING_URI = "./mlruns"
_state_lock = threading.Lock()
_tracking_uri: str | None = None  # set_tracking_uri's value, process-wide as in MLflow


def set_tracking_uri(uri: str | None) -> None:
    global _tracking_uri
    with _state_lock:
        _tracking_uri = uri


def tracking_uri_set_here() -> str | None:
    with _state_lock:
        return _tracking_uri


def current_tracking_uri() -> str:
    """The URI set by set_tracking_uri, else $MLFLOW_TRACKING_URI, else ``./mlruns`` (what MlflowClient() uses too)."""
    return tracking_uri_set_here() or env_tracking_uri() or DEFAULT_TRACKING_URI


def is_server_uri(uri: str) -> bool:
    """An ``http(s)://`` tracking URI: runs go to a tracking server over MLflow's REST API."""
    return uri.lower().startswith(("http://", "https://"))


def root_for_uri(uri: str) -> Path:
    """The local mlruns folder a tracking URI names; a database or other remote URI is a clear error."""
    try:
        if uri in ("databricks", "databricks-uc", "uc"):  # MLflow's schemeless remote names
            raise NotLocalError(uri)
        path = local_path(uri)
    except NotLocalError:
        raise MlscopeException(
            f"Tracking URI '{uri}' is not a local path, file: URI or http(s):// tracking server. mlscope's client "
            "writes runs into an mlruns folder or logs to a tracking server: use set_tracking_uri('./mlruns'), "
            "MLFLOW_TRACKING_URI=file:/path/to/mlruns, or a tracking server's address such as http://127.0.0.1:5000 "
            "(`mlscope server` or `mlflow server`)."
        ) from None
    return path.expanduser().absolute()


def user() -> str:
    """MLFLOW_TRACKING_USERNAME when set (as MLflow's default context), else the login name."""
    if os.environ.get("MLFLOW_TRACKING_USERNAME"):
        return os.environ["MLFLOW_TRACKING_USERNAME"]
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
    extra = os.environ.get("MLFLOW_RUN_CONTEXT")  # MLflow's SystemEnvironmentContext: a JSON object of tags
    if extra:
        try:
            parsed = json.loads(extra)
        except ValueError:
            raise MlscopeException(f"MLFLOW_RUN_CONTEXT must be a JSON object of tags, got {extra!r}") from None
        tags.update({str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {})
    return tags


@functools.lru_cache(maxsize=16)
def git_tags(main_file: Path) -> dict[str, str]:
    """Commit, branch and origin URL read straight from .git, once per script (as MLflow caches them).

    As MLflow, none when the script's folder is git-ignored (asked of ``git check-ignore``
    when git is installed; MLflow's GitPython needs it for everything).
    """
    try:
        start = main_file.resolve()
    except OSError:
        return {}
    folder = start if start.is_dir() else Path(os.path.abspath(main_file)).parent
    git_dir = _find_git_dir(start if start.is_dir() else start.parent)
    if git_dir is None or _ignored(folder):
        return {}
    head = _read(git_dir / "HEAD").strip()
    commit, branch = head, None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        if ref.startswith("refs/heads/"):
            branch = ref[len("refs/heads/") :]
        commit = _resolve_ref(git_dir, ref)
    if not (len(commit) == 40 and all(c in "0123456789abcdef" for c in commit)):
        return {}  # a repo with no commits yet: MLflow adds no git tags either
    tags = {"mlflow.source.git.commit": commit}  # MLflow's order: commit, branch, repoURL
    if branch:
        tags["mlflow.source.git.branch"] = branch
    url = _origin_url(git_dir)
    if url:
        tags["mlflow.source.git.repoURL"] = url
    return tags


def _ignored(folder: Path) -> bool:
    git = shutil.which("git")
    if git is None:
        return False
    try:
        result = subprocess.run([git, "check-ignore", "-q", str(folder)], cwd=folder, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


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

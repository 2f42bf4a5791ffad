"""``mlscope.doctor()``: what is installed, where runs go, and what is wrong with the tree (like ``mlflow doctor``)."""

from __future__ import annotations

import os
import platform
import re
import sys
import types
from importlib import metadata
from pathlib import Path
from typing import TextIO

from .store import reader

_FALLBACK_DEPENDENCIES = ("pyyaml", "starlette", "uvicorn", "aiofiles")
MAX_LISTED = 10


def _dependencies() -> list[tuple[str, str]]:
    try:
        requires = metadata.requires("mlscope") or []
    except metadata.PackageNotFoundError:
        requires = []
    names = [re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r] or list(_FALLBACK_DEPENDENCIES)
    found = []
    for name in names:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return found


def tree_problems(root: Path) -> list[str]:
    """One line per experiment or run folder the lenient reader cannot read, with the reason."""
    problems = []
    active, trashed = reader.experiment_dirs(root)
    for exp_dir in active + trashed:
        try:
            experiment = reader.read_experiment(exp_dir)
        except reader.MalformedError as exc:
            problems.append(f"experiment {exp_dir.name}: {exc}")
            continue
        for run_dir in reader.run_dirs(exp_dir):
            try:
                reader.read_run(run_dir, experiment)
            except reader.MalformedError as exc:
                problems.append(f"run {exp_dir.name}/{run_dir.name}: {exc}")
    return problems


def report() -> tuple[list[str], list[str]]:
    """(info lines, warnings) — doctor() prints them; tests and the CLI reuse them."""
    import mlscope

    from .tracking import fluent
    from .tracking.context import is_server_uri, root_for_uri
    from .tracking.rest import HttpClient
    from .tracking.validation import MlscopeException

    uname = platform.uname()
    uri = fluent.get_tracking_uri()
    lines = [
        f"System information: {uname.system} {uname.version}",
        f"Python version: {platform.python_version()}",
        f"mlscope version: {mlscope.__version__}",
        f"mlscope module location: {Path(mlscope.__file__).parent}",
        f"Tracking URI: {uri}",
        f"Registry URI: {fluent.get_registry_uri()}",
    ]
    warnings: list[str] = []
    with fluent._lock:
        experiment_id = fluent._active_experiment_id
    if experiment_id is not None:
        lines.append(f"Active experiment ID: {experiment_id}")
    run = fluent.active_run()
    if run is not None:
        lines.append(f"Active run ID: {run.info.run_id}")
        lines.append(f"Active run artifact URI: {run.info.artifact_uri}")
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        if os.environ.get(key):
            lines.append(f"{key}: {os.environ[key]}")
    lines.append("mlscope dependencies:")
    lines.extend(f"  {name}: {version}" for name, version in _dependencies())
    if is_server_uri(uri):  # runs go to a tracking server: say whether it answers, not what a folder holds
        try:
            HttpClient(uri).request("GET", "/health", retries=0).read()
            lines.append(f"Tracking server: {uri} (answers /health)")
        except MlscopeException as exc:
            warnings.append(f"the tracking server at {uri} does not answer: {exc}")
        return lines, warnings
    try:
        root = root_for_uri(uri)
    except MlscopeException as exc:
        warnings.append(str(exc))
        return lines, warnings
    lines.append(f"Tracking folder: {root}")
    probe = root if root.exists() else next((p for p in root.parents if p.exists()), root)
    if root.exists() and not root.is_dir():
        warnings.append(f"{root} exists but is not a folder: runs cannot be written there")
    elif not os.access(probe, os.W_OK | os.X_OK):
        warnings.append(f"{probe} is not writable: runs cannot be logged to {root}")
    if root.is_dir():
        problems = tree_problems(root)
        if problems:
            warnings.append(f"{len(problems)} malformed experiment/run folder(s) found under {root}:")
            warnings.extend(f"  {p}" for p in problems[:MAX_LISTED])
            if len(problems) > MAX_LISTED:
                warnings.append(f"  ... and {len(problems) - MAX_LISTED} more")
    else:
        lines.append("(the tracking folder does not exist yet; it is created by the first logged run)")
    return lines, warnings


def doctor(file: TextIO | None = None) -> None:
    """Print versions, locations, URIs, the active run and any problem found, for bug reports."""
    out = file if file is not None else sys.stdout
    lines, warnings = report()
    for line in lines:
        print(line, file=out)
    for warning in warnings:
        print(f"WARNING: {warning}", file=out)


class _CallableModule(types.ModuleType):
    """Importing ``mlscope.doctor`` (this module) sets the package attribute to the module;
    making the module callable keeps ``mlscope.doctor()`` working either way."""

    def __call__(self, file: TextIO | None = None) -> None:
        doctor(file)


sys.modules[__name__].__class__ = _CallableModule

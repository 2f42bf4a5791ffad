"""What `mlscope ui|server` opens: the default store as MLflow chooses it, and a SQL store's app.

The default store is MLflow's: ``$MLFLOW_TRACKING_URI`` (a local folder, a
``file:`` URI, ``sqlite:///...`` or ``postgresql://...``), else ``./mlruns`` if it
exists, else ``./mlflow.db`` if it exists (MLflow 3's default), else
``./mlruns``. SQL stores need the ``sql`` / ``postgres`` extras; without them
the command says what to install, in one line.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..store.paths import NotLocalError, local_path
from .usage import UsageError

DEFAULT_TREE = "./mlruns"
DEFAULT_DATABASE = "mlflow.db"


def is_sql_uri(uri: str) -> bool:
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    return scheme in ("sqlite", "postgresql", "postgres", "mysql", "mssql")


def default_store_uri(cwd: Path | None = None) -> str:
    """MLflow's choice of store when none is named."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if uri:
        if is_sql_uri(uri):
            return uri
        try:
            local_path(uri)
            return uri
        except NotLocalError:
            pass
    here = cwd or Path.cwd()
    if (here / "mlruns").is_dir():
        return DEFAULT_TREE
    if (here / DEFAULT_DATABASE).is_file():
        return f"sqlite:///{DEFAULT_DATABASE}"
    return DEFAULT_TREE


def open_sql_app(uri: str, settings: Any) -> tuple[Any, str]:
    """(the app serving the database at uri, a line saying which store it is); UsageError when it cannot be served."""
    try:
        from ..store.errors import StoreError
        from ..store.sql.backend import open_sql_backend
    except ImportError:
        raise UsageError("SQL stores need SQLAlchemy: pip install 'mlscope[sql]' (PostgreSQL: 'mlscope[postgres]')") from None
    from ..server.app import create_app

    if getattr(settings, "workers", 1) > 1:
        raise UsageError("--workers is for mlruns folders; for a database run several `mlscope server` processes on it (they share it safely)")
    try:
        backend = open_sql_backend(
            uri,
            default_artifact_root=settings.default_artifact_root,
            serve_artifacts=settings.serve_artifacts,
            artifacts_destination=settings.artifacts_destination,
            read_only=settings.read_only,
        )
    except StoreError as exc:
        raise UsageError(f"cannot serve {uri}: {exc.message}") from None
    except Exception as exc:  # the driver's own error: unreachable server, bad credentials, not a database file
        raise UsageError(f"cannot open {_without_password(uri)}: {str(exc).splitlines()[0]}") from None
    description = backend.describe()
    if backend.store.status.warning:
        description += f"; warning: {backend.store.status.warning}"
    if backend.store.writer is None and not settings.read_only:
        settings = replace(settings, read_only=True)  # an unknown schema version: every write refused (403), the UI says so
    return create_app(backend.artifacts_destination, settings=settings, sql_backend=backend), description


def _without_password(uri: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(uri).render_as_string(hide_password=True)
    except Exception:
        return uri.split("@")[-1]

"""mlscope: open a folder of MLflow runs in the browser, fast; log runs with MLflow's API names.

``import mlscope as mlflow`` gives MLflow's tracking API: ``mlscope.log_metric``,
``mlscope.MlflowClient``, ``mlscope.data``, ``mlscope.artifacts``, ``mlscope.entities``,
``mlscope.exceptions``. Everything loads on first use, so the server and CLI never
import the tracking client unless they call it.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Lazy exports: a submodule (``mlscope.data``), a tracking call, or a clear error for MLflow-only features."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "doctor":
        return importlib.import_module("mlscope.doctor").doctor
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    tracking = importlib.import_module("mlscope.tracking")
    if name in tracking.__all__:
        value = globals()[name] = getattr(tracking, name)  # later uses skip this lookup (log_metric in a loop)
        return value
    from .tracking.unsupported import UnsupportedFeatureError, is_mlflow_only

    if is_mlflow_only(name):
        raise UnsupportedFeatureError(name)
    raise AttributeError(f"module 'mlscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    public = ["artifacts", "data", "doctor", "entities", "exceptions"]
    return sorted([*globals(), *public, *importlib.import_module("mlscope.tracking").__all__])

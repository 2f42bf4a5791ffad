"""mlscope: open a folder of MLflow runs in the browser, fast; log runs with MLflow's API names."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Lazy re-exports: ``mlscope.log_param`` etc. load the tracking client only when first used."""
    if name.startswith("__"):
        raise AttributeError(name)
    if name == "doctor":
        return importlib.import_module("mlscope.doctor").doctor
    tracking = importlib.import_module("mlscope.tracking")
    if name in tracking.__all__:
        return getattr(tracking, name)
    raise AttributeError(f"module 'mlscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "doctor", *importlib.import_module("mlscope.tracking").__all__])

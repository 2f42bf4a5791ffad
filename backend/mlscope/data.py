"""``mlscope.data``: datasets for ``log_input``, as ``mlflow.data`` makes them (same name, digest, source, schema, profile)."""

from __future__ import annotations

from typing import Any

from .tracking.datasets import (
    Dataset,
    DatasetSource,
    NumpyDataset,
    PandasDataset,
    from_numpy,
    from_pandas,
    get_source,
)

__all__ = ["Dataset", "DatasetSource", "NumpyDataset", "PandasDataset", "from_numpy", "from_pandas", "get_source"]

_MLFLOW_ONLY = ("from_spark", "load_delta", "from_huggingface", "from_polars", "from_tensorflow", "from_evaluation_dataset")


def __getattr__(name: str) -> Any:
    if name in _MLFLOW_ONLY:
        from .tracking.unsupported import UnsupportedFeatureError

        raise UnsupportedFeatureError(f"data.{name}") from None
    raise AttributeError(f"module 'mlscope.data' has no attribute {name!r}")

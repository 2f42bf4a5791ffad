"""Datasets for ``log_input``: ``mlscope.data.from_pandas`` / ``from_numpy`` with MLflow's digest, schema, profile and source.

The digest is MLflow's (md5 over pandas' row hashes of the first 10,000 rows,
the row count and the column names; or over the flattened arrays and their
shapes), so a dataset logged by mlscope and by MLflow from the same data is
the same dataset: same name, digest, source, schema and profile.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import urlsplit

from . import context, schema
from .entities import Dataset as DatasetEntity
from .validation import MlscopeException

MAX_ROWS = 10000
# Artifact-store schemes MLflow resolves dataset sources for (its artifact repositories minus http/runs/models/dbfs).
URI_SOURCE_SCHEMES = frozenset({"s3", "r2", "gs", "wasbs", "ftp", "sftp", "hdfs", "viewfs", "abfss", "b2"})


class DatasetSource:
    """Where a dataset came from: a type name and a JSON object, as MLflow stores them."""

    def __init__(self, source_type: str, fields: dict[str, Any]) -> None:
        self._source_type = source_type
        self._fields = fields

    def _get_source_type(self) -> str:
        return self._source_type

    def to_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    def to_json(self) -> str:
        return json.dumps(self._fields)

    def __repr__(self) -> str:
        return f"<DatasetSource {self._source_type}: {self.to_json()}>"


def code_source() -> DatasetSource:
    """The running script, described by MLflow's context tags (user, source name and type, git)."""
    return DatasetSource("code", {"tags": context.default_tags()})


def resolve_source(raw: Any) -> DatasetSource:
    """A path or URI as MLflow's dataset source registry reads it: local, http(s) or an artifact store's scheme."""
    if isinstance(raw, DatasetSource):
        return raw
    if hasattr(raw, "to_json") and hasattr(raw, "_get_source_type"):  # one of MLflow's own DatasetSources
        return DatasetSource(raw._get_source_type(), json.loads(raw.to_json()))
    if not isinstance(raw, (str, os.PathLike)):
        raise MlscopeException(f"Could not find a source information resolver for the specified dataset source: {raw}.", "RESOURCE_DOES_NOT_EXIST")
    text = str(raw)
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https") and isinstance(raw, str):
        return DatasetSource("http", {"url": text})
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        return DatasetSource("local", {"uri": text})
    if scheme in URI_SOURCE_SCHEMES and isinstance(raw, str):
        return DatasetSource(scheme, {"uri": text})
    raise MlscopeException(f"Could not find a source information resolver for the specified dataset source: {text}.", "RESOURCE_DOES_NOT_EXIST")


class Dataset:
    """A named, digested dataset with a source (MLflow's ``mlflow.data.dataset.Dataset``)."""

    def __init__(self, source: DatasetSource, name: str | None = None, digest: str | None = None) -> None:
        self._source = source
        self._name = name
        self._digest = digest or self._compute_digest()

    def _compute_digest(self) -> str:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._name if self._name is not None else "dataset"

    @property
    def digest(self) -> str:
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def schema_json(self) -> str | None:
        return None

    @property
    def profile(self) -> Any:
        return None

    def to_dict(self) -> dict[str, str | None]:
        return {"name": self.name, "digest": self.digest, "source": self.source.to_json(), "source_type": self.source._get_source_type(),
                "schema": self.schema_json, "profile": json.dumps(self.profile)}  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _to_mlflow_entity(self) -> DatasetEntity:
        d = self.to_dict()
        return DatasetEntity(str(d["name"]), str(d["digest"]), str(d["source_type"]), str(d["source"]), d["schema"], d["profile"])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r}>"


class PandasDataset(Dataset):
    def __init__(self, df: Any, source: DatasetSource, targets: str | None = None, name: str | None = None,
                 digest: str | None = None, predictions: str | None = None) -> None:  # fmt: skip
        for role, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise MlscopeException(f"The specified pandas DataFrame does not contain the specified {role} column '{column}'.")
        self._df, self._targets, self._predictions = df, targets, predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return pandas_digest(self._df)

    @property
    def df(self) -> Any:
        return self._df

    @property
    def targets(self) -> str | None:
        return self._targets

    @property
    def predictions(self) -> str | None:
        return self._predictions

    @property
    def profile(self) -> dict[str, int]:
        return {"num_rows": len(self._df), "num_elements": int(self._df.size)}

    @property
    def schema_json(self) -> str | None:
        try:
            return schema.dataframe_schema(self._df)
        except (schema.SchemaError, TypeError, ValueError):
            return None  # MLflow logs the dataset without a schema when it cannot infer one


class NumpyDataset(Dataset):
    def __init__(self, features: Any, source: DatasetSource, targets: Any = None, name: str | None = None, digest: str | None = None) -> None:
        self._features, self._targets = features, targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return numpy_digest(self._features, self._targets)

    @property
    def features(self) -> Any:
        return self._features

    @property
    def targets(self) -> Any:
        return self._targets

    @property
    def profile(self) -> dict[str, Any]:
        def attribute(data: Any, name: str) -> Any:
            return {k: getattr(v, name) for k, v in data.items()} if isinstance(data, dict) else getattr(data, name)

        profile = {f"features_{a}": attribute(self._features, a) for a in ("shape", "size", "nbytes")}
        if self._targets is not None:
            profile.update({f"targets_{a}": attribute(self._targets, a) for a in ("shape", "size", "nbytes")})
        return profile

    @property
    def schema_json(self) -> str | None:
        try:
            return schema.tensor_schema(self._features, self._targets)
        except (schema.SchemaError, TypeError, ValueError):
            return None


def from_pandas(df: Any, source: Any = None, targets: str | None = None, name: str | None = None,
                digest: str | None = None, predictions: str | None = None) -> PandasDataset:  # fmt: skip
    """A dataset of a DataFrame; without a source, the running script is the source (as in MLflow)."""
    return PandasDataset(df, resolve_source(source) if source is not None else code_source(), targets, name, digest, predictions)


def from_numpy(features: Any, source: Any = None, targets: Any = None, name: str | None = None, digest: str | None = None) -> NumpyDataset:
    """A dataset of a numpy array (or dict of arrays) with optional targets."""
    return NumpyDataset(features, resolve_source(source) if source is not None else code_source(), targets, name, digest)


def get_source(dataset: Any) -> DatasetSource:
    """The source of a dataset, or of a logged dataset input (``run.inputs.dataset_inputs[0].dataset``)."""
    if isinstance(dataset, Dataset):
        return dataset.source
    inner = getattr(dataset, "dataset", dataset)
    return DatasetSource(str(inner.source_type), json.loads(inner.source))


def pandas_digest(df: Any) -> str:
    """MLflow's compute_pandas_digest: string and numeric columns of the first 10,000 rows, row count, column names."""
    import numpy as np
    import pandas as pd

    trimmed = df.head(MAX_ROWS)
    mapper = df.map if hasattr(df, "map") else df.applymap
    string_columns = trimmed.columns[(mapper(type) == str).all(0)]  # noqa: E721 (element-wise, as MLflow)
    numeric_columns = trimmed.select_dtypes(include=[np.number]).columns
    trimmed = trimmed[string_columns.union(numeric_columns)]
    parts = [pd.util.hash_pandas_object(trimmed).values, np.int64(len(df))] + [str(c).encode() for c in df.columns]
    return _md5_8(parts)


def numpy_digest(features: Any, targets: Any = None) -> str:
    """MLflow's compute_numpy_digest: the first 10,000 flattened values of each array and its shape."""
    import numpy as np
    import pandas as pd

    parts: list[Any] = []

    def add(array: Any) -> None:
        flat = array.flatten()[0:MAX_ROWS]
        try:
            parts.append(pd.util.hash_array(flat))
        except TypeError:
            parts.append(np.int64(flat.size))
        parts.extend(np.int64(x) for x in array.shape)

    for item in (features, targets):
        if item is None:
            continue
        if isinstance(item, dict):
            for key in sorted(item):
                add(item[key])
        else:
            add(item)
    return _md5_8(parts)


def _md5_8(parts: list[Any]) -> str:
    if not parts:
        raise MlscopeException("No hashable elements were provided for md5 digest creation")
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(part)
    return md5.hexdigest()[:8]

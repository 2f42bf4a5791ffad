"""Tables as run artifacts (``log_table`` / ``load_table``), and runs as a pandas DataFrame, as MLflow makes them.

With pandas installed the bytes are pandas' own (split-oriented JSON or
parquet), a second ``log_table`` to the same file appends its rows, and images
in a column are stored under ``table_images/`` as MLflow stores them. Without
pandas, a dict of columns is still written (and appended to) in the same JSON shape.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .validation import MlscopeException

if TYPE_CHECKING:
    from .entities import FileInfo, TrackedRun

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"
FORBIDDEN_CHARACTERS = ('"', "'", ",", ":", "[", "]", "{", "}")


def check_artifact_file(artifact_file: str) -> None:
    """MLflow refuses these characters in table file names (they would break the tag's LIKE search)."""
    for char in FORBIDDEN_CHARACTERS:
        if char in artifact_file:
            raise ValueError(f"The artifact_file contains forbidden character: {char}")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        return None
    return pandas


class TablesMixin:
    def get_run(self, run_id: str) -> TrackedRun:  # pragma: no cover - provided by the client
        raise NotImplementedError

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:  # pragma: no cover
        raise NotImplementedError

    def download_artifacts(self, run_id: str, path: str, dst_path: Any = None) -> str:  # pragma: no cover
        raise NotImplementedError

    def search_runs(self, *args: Any, **kwargs: Any) -> list[TrackedRun]:  # pragma: no cover
        raise NotImplementedError

    def _existing_table(self, run_id: str, artifact_file: str, reader: Any) -> Any:
        """The table already logged under artifact_file (read with reader), or None."""
        folder = posixpath.dirname(posixpath.normpath(artifact_file)) or None
        if artifact_file not in [f.path for f in self.list_artifacts(run_id, folder)]:
            return None
        with tempfile.TemporaryDirectory() as tmp:
            return reader(self.download_artifacts(run_id, artifact_file, tmp))

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """A dict of columns or a DataFrame, appended to the rows already logged there; listed in mlflow.loggedArtifacts."""
        check_artifact_file(artifact_file)
        if not artifact_file.endswith((".json", ".parquet")):
            raise ValueError(
                f"Invalid artifact file path '{artifact_file}'. Please ensure the file you are trying to log as a table "
                "has a file name with either '.json' or '.parquet' extension."
            )
        pd = _pandas()
        if pd is not None:
            self._log_frame(run_id, pd, data, artifact_file)
        elif artifact_file.endswith(".json") and isinstance(data, dict):
            self._log_columns(run_id, data, artifact_file)
        else:
            raise MlscopeException("log_table needs pandas for DataFrames and .parquet files (pip install pandas)")
        current = json.loads(self.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": artifact_file, "type": "table"}
        if entry not in current:
            current.append(entry)
            self.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(current))

    def _log_frame(self, run_id: str, pd: Any, data: Any, artifact_file: str) -> None:
        if not isinstance(data, (pd.DataFrame, dict)):
            raise MlscopeException("data must be a pandas.DataFrame or a dictionary")
        if isinstance(data, dict):
            try:
                data = pd.DataFrame(data)
            except ValueError:  # all scalars: one row
                data = pd.DataFrame([data])
        data = self._store_image_columns(run_id, data, artifact_file)
        existing = self._existing_table(run_id, artifact_file, lambda path: read_table_file(pd, path))
        if existing is not None:
            data = pd.concat([existing, data], ignore_index=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, posixpath.basename(artifact_file))
            try:
                if artifact_file.endswith(".json"):
                    data.to_json(path, orient="split", index=False, date_format="iso")
                else:
                    data.to_parquet(path, index=False)
            except Exception as exc:
                raise MlscopeException(f"Failed to save {data} as table as the data is not JSON serializable. Error: {exc}") from None
            with open(path, "rb") as handle:
                self.log_bytes(run_id, handle.read(), artifact_file)

    def _store_image_columns(self, run_id: str, data: Any, artifact_file: str) -> Any:
        """Columns of PIL images become references to PNG + WebP files under table_images/, as in MLflow."""
        if not len(data.select_dtypes(include=["object"]).columns):
            return data
        from .artifacts import _thumbnail
        from .images import to_png

        def is_image(value: Any) -> bool:
            return all(callable(getattr(value, name, None)) for name in ("save", "resize")) and hasattr(value, "size")

        def store(image: Any) -> dict[str, str]:
            stem = posixpath.join("table_images", os.path.splitext(artifact_file)[0], str(uuid.uuid4()))
            png = to_png(image)
            self.log_bytes(run_id, png, f"{stem}.png")
            self.log_bytes(run_id, _thumbnail(png), f"{stem}.webp")
            return {"type": "image", "filepath": f"{stem}.png", "compressed_filepath": f"{stem}.webp"}

        for column in data.columns:
            flags = data[column].map(is_image)
            if any(flags) and not all(flags):
                raise ValueError(f"Column `{column}` contains a mix of images and non-images. Please ensure that all elements in the column are of the same type.")
            if len(flags) and all(flags):
                data[column] = data[column].map(store)
        return data

    def _log_columns(self, run_id: str, data: dict[str, Any], artifact_file: str) -> None:
        """Without pandas: the split-oriented JSON pandas would write, rows appended to an existing table."""
        columns = list(data)
        values = [v if isinstance(v, (list, tuple)) else [v] for v in data.values()]
        rows = [list(row) for row in zip(*values, strict=True)]
        existing = self._existing_table(run_id, artifact_file, _read_json_table)
        if existing is not None:
            old_columns, old_rows = existing
            merged = old_columns + [c for c in columns if c not in old_columns]
            rows = [[dict(zip(old_columns, r, strict=True)).get(c) for c in merged] for r in old_rows] + [
                [dict(zip(columns, r, strict=True)).get(c) for c in merged] for r in rows
            ]
            columns = merged
        self.log_bytes(run_id, json.dumps({"columns": columns, "data": rows}, default=str, separators=(",", ":")).encode(), artifact_file)

    def load_table(self, experiment_id: str, artifact_file: str, run_ids: Sequence[str] | None = None,
                   extra_columns: Sequence[str] | None = None) -> Any:  # fmt: skip
        """The table logged under artifact_file in each matching run of the experiment, joined (needs pandas)."""
        pd = _pandas()
        if pd is None:
            raise MlscopeException("load_table returns a pandas DataFrame: install pandas (pip install pandas)")
        check_artifact_file(artifact_file)
        filter_string = f"tags.{LOGGED_ARTIFACTS_TAG} LIKE '%\"path\"%:%\"{artifact_file}\",%\"type\"%:%\"table\"%'"
        if run_ids:
            filter_string += f" and attributes.run_id IN ({','.join(map(repr, run_ids))})"
        runs = runs_dataframe(pd, self.search_runs([str(experiment_id)], filter_string, max_results=100_000))
        if runs.empty:
            raise MlscopeException("No runs found with the corresponding table artifact.", "RESOURCE_DOES_NOT_EXIST")
        frames = []
        for _, run in runs.iterrows():
            table = self._existing_table(run.run_id, artifact_file, lambda path: read_table_file(pd, path))
            if table is None:
                raise MlscopeException(f"Artifact {artifact_file} not found for run {run.run_id}.", "RESOURCE_DOES_NOT_EXIST")
            for column in extra_columns or ():
                table[f"{column}_" if column in table else column] = run[column]
            frames.append(table)
        return pd.concat(frames, ignore_index=True)


def read_table_file(pd: Any, path: str) -> Any:
    if path.endswith(".json"):
        return pd.read_json(path, orient="split")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    raise ValueError(f"Unsupported file type in {path}. Expected .json or .parquet")


def _read_json_table(path: str) -> tuple[list[str], list[list[Any]]]:
    with open(path, encoding="utf-8") as handle:
        table = json.load(handle)
    return list(table.get("columns", [])), [list(r) for r in table.get("data", [])]


def runs_dataframe(pd: Any, runs: Sequence[TrackedRun]) -> Any:
    """MLflow's search_runs DataFrame: info columns (times as UTC datetimes), then metrics., params., tags. columns."""
    import numpy as np

    info: dict[str, list[Any]] = {"run_id": [], "experiment_id": [], "status": [], "artifact_uri": [], "start_time": [], "end_time": []}
    sections: dict[str, dict[str, list[Any]]] = {"metrics": {}, "params": {}, "tags": {}}
    missing = {"metrics": np.nan, "params": None, "tags": None}
    for i, run in enumerate(runs):
        info["run_id"].append(run.info.run_id)
        info["experiment_id"].append(run.info.experiment_id)
        info["status"].append(run.info.status)
        info["artifact_uri"].append(run.info.artifact_uri)
        info["start_time"].append(pd.to_datetime(run.info.start_time, unit="ms", utc=True))
        info["end_time"].append(pd.to_datetime(run.info.end_time, unit="ms", utc=True))
        for name, values in (("metrics", run.data.metrics), ("params", run.data.params), ("tags", run.data.tags)):
            columns = sections[name]
            for key, column in columns.items():
                column.append(values.get(key, missing[name]))
            for key in values.keys() - columns.keys():
                columns[key] = [missing[name]] * i + [values[key]]
    data: dict[str, list[Any]] = dict(info)
    for name, columns in sections.items():
        data.update({f"{name}.{key}": column for key, column in columns.items()})
    return pd.DataFrame(data)

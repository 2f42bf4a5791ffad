"""The REST store: every tracking operation as the MLflow REST call MLflow's own client makes.

Request bodies are shaped as MLflow's client sends them (protobuf JSON: enum
names, NaN/Infinity as strings), so any MLflow-compatible server (MLflow's or
mlscope's) accepts them; answers are turned into the store's records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..store.model import DatasetInput, Experiment, Metric, ModelRef, Run, RunInfo
from .rest import HttpClient, json_float
from .stores import Point
from .validation import MlscopeException

VIEW_NAMES = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
NOWHERE = Path(".")  # records from a server have no folder on this machine


class RestStore:
    """Runs and experiments on a tracking server at ``http(s)://host:port[/prefix]``."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.http = HttpClient(self.tracking_uri)

    def _post(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.call("POST", endpoint, {k: v for k, v in body.items() if v is not None})

    def _get(self, endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return self.http.call("GET", endpoint, params)

    # ---------------------------------------------------------- experiments

    def create_experiment(self, name: str, artifact_location: str | None, tags: dict[str, str]) -> str:
        body = {"name": name, "artifact_location": artifact_location, "tags": _pairs(tags.items()) or None}
        return str(self._post("experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return experiment_from_json(self._get("experiments/get", {"experiment_id": experiment_id})["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._get("experiments/get-by-name", {"experiment_name": name})
        except MlscopeException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        return experiment_from_json(answer["experiment"])

    def search_experiments(self, view_type: int, max_results: int, filter_string: str | None,
                           order_by: Sequence[str] | None, page_token: str | None) -> tuple[list[Experiment], str | None]:  # fmt: skip
        body = {"max_results": max_results, "page_token": page_token, "filter": filter_string or None,
                "order_by": list(order_by) if order_by else None, "view_type": VIEW_NAMES[view_type]}  # fmt: skip
        answer = self._post("experiments/search", body)
        return [experiment_from_json(e) for e in answer.get("experiments", [])], answer.get("next_page_token") or None

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post("experiments/update", {"experiment_id": experiment_id, "new_name": new_name})

    def delete_experiment(self, experiment_id: str) -> None:
        self._post("experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._post("experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._post("experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": key, "value": value})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key})

    # ------------------------------------------------------------------ runs

    def create_run(self, experiment_id: str, user_id: str, start_time: int | None, tags: dict[str, str], run_name: str | None) -> Run:
        body = {"experiment_id": experiment_id, "user_id": user_id, "start_time": start_time, "tags": _pairs(tags.items()), "run_name": run_name}
        return run_from_json(self._post("runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        return run_from_json(self._get("runs/get", {"run_uuid": run_id, "run_id": run_id})["run"])

    def update_run(self, run_id: str, status: str | None, end_time: int | None, run_name: str | None) -> None:
        self._post("runs/update", {"run_uuid": run_id, "run_id": run_id, "status": status, "end_time": end_time, "run_name": run_name})

    def delete_run(self, run_id: str) -> None:
        self._post("runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._post("runs/restore", {"run_id": run_id})

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._post("runs/log-parameter", {"run_uuid": run_id, "run_id": run_id, "key": key, "value": value})

    def log_metric(self, run_id: str, point: Point, model_id: str | None) -> None:
        self._post("runs/log-metric", {"run_uuid": run_id, "run_id": run_id, "model_id": model_id, **_metric_json(point)})

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._post("runs/set-tag", {"run_uuid": run_id, "run_id": run_id, "key": key, "value": value})

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("runs/delete-tag", {"run_id": run_id, "key": key})

    def log_batch(self, run_id: str, metrics: Sequence[Point], params: Sequence[tuple[str, str]], tags: Sequence[tuple[str, str]]) -> None:
        body = {"run_id": run_id, "metrics": [_metric_json(p) for p in metrics], "params": _pairs(params), "tags": _pairs(tags)}
        self._post("runs/log-batch", body)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput], models: Sequence[str]) -> None:
        body = {
            "run_id": run_id,
            "datasets": [{"tags": _pairs(d.tags.items()), "dataset": _dataset_json(d)} for d in datasets] or None,
            "models": [{"model_id": m} for m in models] or None,
        }
        self._post("runs/log-inputs", body)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        points: list[Metric] = []
        token = None
        while True:
            answer = self._get("metrics/get-history", {"run_uuid": run_id, "run_id": run_id, "metric_key": key, "page_token": token})
            points.extend(metric_from_json(m) for m in answer.get("metrics", []))
            token = answer.get("next_page_token")
            if not token:
                return points

    def search_runs(self, experiment_ids: Sequence[str], filter_string: str, view_type: int, max_results: int,
                    order_by: Sequence[str] | None, page_token: str | None) -> tuple[list[Run], str | None]:  # fmt: skip
        body = {"experiment_ids": [str(e) for e in experiment_ids], "filter": filter_string or None, "run_view_type": VIEW_NAMES[view_type],
                "max_results": max_results, "order_by": list(order_by) if order_by else None, "page_token": page_token}  # fmt: skip
        answer = self._post("runs/search", body)
        return [run_from_json(r) for r in answer.get("runs", [])], answer.get("next_page_token") or None


# ------------------------------------------------------------- JSON shapes


def _pairs(items: Any) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items]


def _metric_json(point: Point) -> dict[str, Any]:
    key, value, timestamp, step, dataset_name, dataset_digest = point
    shaped: dict[str, Any] = {"key": key, "value": json_float(value), "timestamp": timestamp, "step": step}
    if dataset_name is not None and dataset_digest is not None:
        shaped.update(dataset_name=dataset_name, dataset_digest=dataset_digest)
    return shaped


def _dataset_json(dataset: DatasetInput) -> dict[str, Any]:
    shaped = {"name": dataset.name, "digest": dataset.digest, "source_type": dataset.source_type, "source": dataset.source}
    if dataset.schema:
        shaped["schema"] = dataset.schema
    if dataset.profile:
        shaped["profile"] = dataset.profile
    return shaped


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _float(value: Any) -> float:
    return float(value)  # numbers, and protobuf JSON's "NaN" / "Infinity" / "-Infinity" strings


def _tags(items: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or []}


def experiment_from_json(data: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(data["experiment_id"]),
        name=str(data.get("name", "")),
        artifact_location=str(data.get("artifact_location", "")),
        lifecycle_stage=str(data.get("lifecycle_stage", "active")),
        creation_time=_int(data.get("creation_time")),
        last_update_time=_int(data.get("last_update_time")),
        tags=_tags(data.get("tags")),
        path=NOWHERE,
    )


def metric_from_json(data: Mapping[str, Any]) -> Metric:
    return Metric(
        key=str(data["key"]), value=_float(data.get("value", 0.0)), timestamp=_int(data.get("timestamp")) or 0,
        step=_int(data.get("step")) or 0, dataset_name=data.get("dataset_name"), dataset_digest=data.get("dataset_digest"),
    )  # fmt: skip


def run_from_json(data: Mapping[str, Any]) -> Run:
    info, body = data["info"], data.get("data", {})
    inputs, outputs = data.get("inputs") or {}, data.get("outputs") or {}
    run_id = str(info.get("run_id") or info.get("run_uuid"))
    tags = _tags(body.get("tags"))
    metrics = {}
    for item in body.get("metrics", []):
        metric = metric_from_json(item)
        metrics[metric.key] = metric
    datasets = tuple(
        DatasetInput(
            name=str(d["dataset"].get("name", "")), digest=str(d["dataset"].get("digest", "")),
            source_type=str(d["dataset"].get("source_type", "")), source=str(d["dataset"].get("source", "")),
            schema=str(d["dataset"].get("schema") or ""), profile=str(d["dataset"].get("profile") or ""), tags=_tags(d.get("tags")),
        )  # fmt: skip
        for d in inputs.get("dataset_inputs", [])
    )
    return Run(
        info=RunInfo(
            run_id=run_id,
            experiment_id=str(info.get("experiment_id", "")),
            run_name=str(info.get("run_name") or tags.get("mlflow.runName", "")),
            user_id=str(info.get("user_id", "")),
            status=str(info.get("status", "RUNNING")),
            start_time=_int(info.get("start_time")),
            end_time=_int(info.get("end_time")),
            lifecycle_stage=str(info.get("lifecycle_stage", "active")),
            artifact_uri=str(info.get("artifact_uri", "")),
        ),
        params={str(p["key"]): str(p.get("value", "")) for p in body.get("params", [])},
        tags=tags,
        metrics=metrics,
        dataset_inputs=datasets,
        model_inputs=tuple(ModelRef(str(m["model_id"])) for m in inputs.get("model_inputs", [])),
        model_outputs=tuple(ModelRef(str(m["model_id"]), _int(m.get("step"))) for m in outputs.get("model_outputs", [])),
        path=NOWHERE,
    )

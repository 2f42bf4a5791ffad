"""MLflow's write API side by side: each request gets the same status, error code and message from mlscope as from ``mlflow server``.

Every case sets up what it needs through the API (its own experiment and
run), then makes one request to both servers; ids and times are normalised
away before comparing. Where mlflow server answers 500 because of a bug in
its file store or handlers, mlscope answers 400 instead (DEVIATIONS); where it
answers 200 but logs another number than was sent (past int64), mlscope
refuses (REFUSED). Both lists say what mlscope answers and are checked too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.server.mlflow_rest import RestApi, outcome
from tests.tracking_servers import ServerProcess

Case = Callable[[RestApi], httpx.Response]
CASES: dict[str, Case] = {}
T = 1_700_000_000_000


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


# ------------------------------------------------------------------ experiments


@case
def create_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": api.name(), "tags": [{"key": "team", "value": "a"}]})


@case
def create_experiment_twice(api: RestApi) -> httpx.Response:
    name = api.name()
    api.post("/experiments/create", {"name": name})
    return api.post("/experiments/create", {"name": name})


@case
def create_experiment_named_like_a_deleted_one(api: RestApi) -> httpx.Response:
    name = api.name()
    experiment_id = api.post("/experiments/create", {"name": name}).json()["experiment_id"]
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/experiments/create", {"name": name})


@case
def create_experiment_without_name(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {})


@case
def create_experiment_with_empty_name(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": ""})


@case
def create_experiment_name_not_a_string(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": 5})


@case
def create_experiment_name_too_long(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": "x" * 501})


@case
def create_experiment_tag_key_escaping(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": api.name(), "tags": [{"key": "a/../b", "value": "v"}]})


@case
def create_experiment_tags_not_a_list(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": api.name(), "tags": "notalist"})


@case
def create_experiment_without_content_type(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", content=b'{"name": "x"}')


@case
def create_experiment_as_text_plain(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", content=b'{"name": "x"}', headers={"content-type": "text/plain"})


@case
def create_experiment_body_not_json(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", content=b"not json", headers={"content-type": "application/json"})


@case
def rename_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/update", {"experiment_id": api.experiment(), "new_name": api.name("renamed")})


@case
def rename_experiment_without_new_name(api: RestApi) -> httpx.Response:
    return api.post("/experiments/update", {"experiment_id": api.experiment()})


@case
def rename_experiment_to_a_taken_name(api: RestApi) -> httpx.Response:
    name = api.name()
    api.post("/experiments/create", {"name": name})
    return api.post("/experiments/update", {"experiment_id": api.experiment(), "new_name": name})


@case
def rename_unknown_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/update", {"experiment_id": "999", "new_name": api.name()})


@case
def delete_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/delete", {"experiment_id": api.experiment()})


@case
def delete_experiment_twice(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/experiments/delete", {"experiment_id": experiment_id})


@case
def delete_unknown_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/delete", {"experiment_id": "999"})


@case
def restore_experiment(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/experiments/restore", {"experiment_id": experiment_id})


@case
def restore_active_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/restore", {"experiment_id": api.experiment()})


@case
def set_experiment_tag(api: RestApi) -> httpx.Response:
    return api.post("/experiments/set-experiment-tag", {"experiment_id": api.experiment(), "key": "k", "value": "v"})


@case
def set_experiment_tag_value_too_long(api: RestApi) -> httpx.Response:
    return api.post("/experiments/set-experiment-tag", {"experiment_id": api.experiment(), "key": "k", "value": "v" * 20001})


@case
def set_experiment_tag_on_deleted_experiment(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"})


@case
def set_experiment_tag_on_unknown_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/set-experiment-tag", {"experiment_id": "999", "key": "k", "value": "v"})


@case
def delete_missing_experiment_tag(api: RestApi) -> httpx.Response:
    return api.post("/experiments/delete-experiment-tag", {"experiment_id": api.experiment(), "key": "nope"})


@case
def delete_experiment_tag(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"})
    return api.post("/experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"})


@case
def get_created_experiment(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"})
    return api.get("/experiments/get", experiment_id=experiment_id)


# ------------------------------------------------------------------------ runs


@case
def create_run(api: RestApi) -> httpx.Response:
    body = {"experiment_id": api.experiment(), "start_time": T, "user_id": "me", "tags": [{"key": "mlflow.user", "value": "me"}]}
    return api.post("/runs/create", body)


@case
def create_named_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"experiment_id": api.experiment(), "start_time": T, "run_name": "named"})


@case
def create_run_in_unknown_experiment(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"experiment_id": "123456", "start_time": T})


@case
def create_run_without_experiment(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"start_time": T})


@case
def create_run_in_deleted_experiment(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/runs/create", {"experiment_id": experiment_id, "start_time": T})


@case
def create_run_start_time_not_a_number(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"experiment_id": api.experiment(), "start_time": "abc"})


@case
def create_run_with_two_names(api: RestApi) -> httpx.Response:
    tags = [{"key": "mlflow.runName", "value": "b"}]
    return api.post("/runs/create", {"experiment_id": api.experiment(), "start_time": T, "run_name": "a", "tags": tags})


@case
def create_run_with_bad_tag_key(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"experiment_id": api.experiment(), "start_time": T, "tags": [{"key": "bad!", "value": "v"}]})


@case
def finish_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/update", {"run_id": api.run(), "status": "FINISHED", "end_time": T + 5})


@case
def update_run_status_by_number(api: RestApi) -> httpx.Response:
    return api.post("/runs/update", {"run_id": api.run(), "status": 4})


@case
def rename_run_by_update(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/update", {"run_id": run_id, "run_name": "renamed"})
    return api.get("/runs/get", run_id=run_id)


@case
def update_unknown_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/update", {"run_id": "0" * 32, "status": "FINISHED"})


@case
def update_deleted_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return api.post("/runs/update", {"run_id": run_id, "status": "FAILED"})


@case
def delete_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/delete", {"run_id": api.run()})


@case
def delete_unknown_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/delete", {"run_id": "0" * 32})


@case
def delete_run_without_id(api: RestApi) -> httpx.Response:
    return api.post("/runs/delete", {})


@case
def deleted_run_reads_as_deleted(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return api.get("/runs/get", run_id=run_id)


@case
def restore_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    api.post("/runs/restore", {"run_id": run_id})
    return api.get("/runs/get", run_id=run_id)


@case
def restore_unknown_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/restore", {"run_id": "0" * 32})


# --------------------------------------------------------------------- metrics


def metric(api: RestApi, run_id: str | None = None, **fields: Any) -> httpx.Response:
    return api.post("/runs/log-metric", {"run_id": run_id or api.run(), "key": "m", "value": 1.5, "timestamp": T, "step": 2, **fields})


@case
def log_metric(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id)
    return api.get("/runs/get", run_id=run_id)


@case
def log_metric_nan(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id, value="NaN")
    return api.get("/metrics/get-history", run_id=run_id, metric_key="m")


@case
def log_metric_value_not_a_number(api: RestApi) -> httpx.Response:
    return metric(api, value="abc")


@case
def log_metric_without_timestamp(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-metric", {"run_id": api.run(), "key": "m", "value": 1})


@case
def log_metric_without_value(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-metric", {"run_id": api.run(), "key": "m", "timestamp": T})


@case
def log_metric_bad_key(api: RestApi) -> httpx.Response:
    return metric(api, key="bad!")


@case
def log_metric_key_escaping(api: RestApi) -> httpx.Response:
    return metric(api, key="../x")


@case
def log_metric_key_too_long(api: RestApi) -> httpx.Response:
    return metric(api, key="k" * 251)


@case
def log_metric_negative_timestamp(api: RestApi) -> httpx.Response:
    return metric(api, timestamp=-1)


@case
def log_metric_unknown_run(api: RestApi) -> httpx.Response:
    return metric(api, run_id="0" * 32)


@case
def log_metric_run_id_escaping(api: RestApi) -> httpx.Response:
    return metric(api, run_id="../etc")


@case
def log_metric_to_deleted_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return metric(api, run_id)


@case
def log_metric_with_dataset(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id, dataset_name="train", dataset_digest="abc123")
    return api.get("/metrics/get-history", run_id=run_id, metric_key="m")


# ---------------------------------------------------------------- params, tags


def param(api: RestApi, run_id: str, key: str = "p", value: Any = "1") -> httpx.Response:
    return api.post("/runs/log-parameter", {"run_id": run_id, "key": key, "value": value})


@case
def log_param_twice_with_the_same_value(api: RestApi) -> httpx.Response:
    run_id = api.run()
    param(api, run_id)
    return param(api, run_id)


@case
def log_param_with_a_new_value(api: RestApi) -> httpx.Response:
    run_id = api.run()
    param(api, run_id)
    return param(api, run_id, value="2")


@case
def log_param_value_not_a_string(api: RestApi) -> httpx.Response:
    return param(api, api.run(), value=5)


@case
def log_param_long_value_is_truncated(api: RestApi) -> httpx.Response:
    run_id = api.run()
    param(api, run_id, value="v" * 6001)
    return api.get("/runs/get", run_id=run_id)


@case
def log_param_key_too_long(api: RestApi) -> httpx.Response:
    return param(api, api.run(), key="k" * 251)


@case
def log_param_without_value(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/log-parameter", {"run_id": run_id, "key": "empty"})
    return api.get("/runs/get", run_id=run_id)


@case
def set_tag_long_value(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/set-tag", {"run_id": run_id, "key": "long", "value": "v" * 8001})
    return api.get("/runs/get", run_id=run_id)


@case
def set_tag_bad_key(api: RestApi) -> httpx.Response:
    return api.post("/runs/set-tag", {"run_id": api.run(), "key": "a//b", "value": "v"})


@case
def set_run_name_tag_renames_the_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "renamed"})
    return api.get("/runs/get", run_id=run_id)


@case
def set_tag_on_deleted_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return api.post("/runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"})


@case
def delete_missing_tag(api: RestApi) -> httpx.Response:
    return api.post("/runs/delete-tag", {"run_id": api.run(), "key": "nope"})


@case
def delete_tag(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"})
    api.post("/runs/delete-tag", {"run_id": run_id, "key": "k"})
    return api.get("/runs/get", run_id=run_id)


# --------------------------------------------------------------------- batches


def batch(api: RestApi, run_id: str | None = None, **fields: Any) -> httpx.Response:
    return api.post("/runs/log-batch", {"run_id": run_id or api.run(), **fields})


def metrics(n: int, key: str = "b") -> list[dict[str, Any]]:
    return [{"key": key, "value": i, "timestamp": T + i, "step": i} for i in range(n)]


@case
def log_batch(api: RestApi) -> httpx.Response:
    run_id = api.run()
    batch(api, run_id, metrics=metrics(3), params=[{"key": "bp", "value": "x"}], tags=[{"key": "bt", "value": "y"}])
    return api.get("/runs/get", run_id=run_id)


@case
def log_batch_1001_metrics(api: RestApi) -> httpx.Response:
    return batch(api, metrics=metrics(1001))


@case
def log_batch_101_params(api: RestApi) -> httpx.Response:
    return batch(api, params=[{"key": f"p{i}", "value": "1"} for i in range(101)])


@case
def log_batch_101_tags(api: RestApi) -> httpx.Response:
    return batch(api, tags=[{"key": f"t{i}", "value": "1"} for i in range(101)])


@case
def log_batch_1001_entities(api: RestApi) -> httpx.Response:
    return batch(api, metrics=metrics(1000), params=[{"key": "p", "value": "1"}])


@case
def log_batch_duplicate_param_keys(api: RestApi) -> httpx.Response:
    return batch(api, params=[{"key": "d", "value": "1"}, {"key": "d", "value": "2"}])


@case
def log_batch_metric_without_timestamp(api: RestApi) -> httpx.Response:
    return batch(api, metrics=[{"key": "b", "value": 1}])


@case
def log_batch_without_run_id(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-batch", {"metrics": [{"key": "b", "value": 1}]})


@case
def log_batch_bad_metric_key(api: RestApi) -> httpx.Response:
    return batch(api, metrics=metrics(1, key="bad!"))


@case
def log_batch_to_deleted_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return batch(api, run_id, metrics=metrics(1))


@case
def log_batch_renames_with_run_name_tag(api: RestApi) -> httpx.Response:
    run_id = api.run()
    batch(api, run_id, tags=[{"key": "mlflow.runName", "value": "from-batch"}])
    return api.get("/runs/get", run_id=run_id)


@case
def log_batch_changing_a_param(api: RestApi) -> httpx.Response:
    run_id = api.run()
    param(api, run_id, value="1")
    return batch(api, run_id, params=[{"key": "p", "value": "9"}])


# ---------------------------------------------------------------------- inputs


@case
def log_inputs(api: RestApi) -> httpx.Response:
    run_id = api.run()
    dataset = {"name": "d", "digest": "abc", "source_type": "local", "source": '{"uri": "x"}', "schema": "{}", "profile": '{"rows": 3}'}
    api.post("/runs/log-inputs", {"run_id": run_id, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}]})
    return api.get("/runs/get", run_id=run_id)


@case
def log_inputs_to_unknown_run(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-inputs", {"run_id": "0" * 32, "datasets": []})


# --------------------------------------------------------------- logged models


@case
def create_logged_model(api: RestApi) -> httpx.Response:
    run_id = api.run()
    body = {"experiment_id": api.experiment(), "name": "mm", "source_run_id": run_id, "params": [{"key": "a", "value": "1"}], "tags": [{"key": "t", "value": "v"}]}
    return api.post("/logged-models", body)


@case
def create_logged_model_with_bad_name(api: RestApi) -> httpx.Response:
    return api.post("/logged-models", {"experiment_id": api.experiment(), "name": "bad/name"})


@case
def create_logged_model_without_experiment(api: RestApi) -> httpx.Response:
    return api.post("/logged-models", {})


@case
def create_logged_model_in_unknown_experiment(api: RestApi) -> httpx.Response:
    return api.post("/logged-models", {"experiment_id": "999"})


@case
def finalize_logged_model(api: RestApi) -> httpx.Response:
    model_id = api.model(name="mm")
    return api.call("PATCH", f"/logged-models/{model_id}", {"model_id": model_id, "status": "LOGGED_MODEL_READY"})


@case
def finalize_unknown_logged_model(api: RestApi) -> httpx.Response:
    return api.call("PATCH", "/logged-models/m-nope", {"model_id": "m-nope", "status": "LOGGED_MODEL_READY"})


@case
def tag_and_parametrize_logged_model(api: RestApi) -> httpx.Response:
    model_id = api.model(name="mm")
    api.call("PATCH", f"/logged-models/{model_id}/tags", {"tags": [{"key": "t2", "value": "v2"}]})
    api.post(f"/logged-models/{model_id}/params", {"model_id": model_id, "params": [{"key": "b", "value": "2"}]})
    return api.get(f"/logged-models/{model_id}")


@case
def delete_missing_logged_model_tag(api: RestApi) -> httpx.Response:
    return api.call("DELETE", f"/logged-models/{api.model(name='mm')}/tags/nope")


@case
def deleted_logged_model_is_gone(api: RestApi) -> httpx.Response:
    model_id = api.model(name="mm")
    api.call("DELETE", f"/logged-models/{model_id}")
    return api.get(f"/logged-models/{model_id}")


@case
def get_unknown_logged_model(api: RestApi) -> httpx.Response:
    return api.get("/logged-models/m-nope")


@case
def log_outputs(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    run_id = api.run(experiment_id)
    model_id = api.model(experiment_id, name="mm", source_run_id=run_id)
    api.post("/runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 3}]})
    return api.get("/runs/get", run_id=run_id)


def model_json(run_id: str, **changes: Any) -> str:
    """What MLflow 3's log_model sends to runs/log-model (Model.get_tags_dict())."""
    model = {
        "run_id": run_id,
        "artifact_path": "model",
        "utc_time_created": "2026-01-01 00:00:00.000000",
        "model_uuid": "abc",
        "flavors": {"python_function": {"loader_module": "mlflow.sklearn", "config": {"x": 1}}, "sklearn": {"sklearn_version": "1.5"}},
        **changes,
    }
    return json.dumps({k: v for k, v in model.items() if v is not None})


@case
def log_model_records_the_model_history(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/log-model", {"run_id": run_id, "model_json": model_json(run_id)})
    api.post("/runs/log-model", {"run_id": run_id, "model_json": model_json(run_id, artifact_path="second", model_uuid=None)})
    return api.get("/runs/get", run_id=run_id)


@case
def log_model_json_malformed(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-model", {"run_id": api.run(), "model_json": "{not json"})


@case
def log_model_json_missing_a_field(api: RestApi) -> httpx.Response:
    run_id = api.run()
    return api.post("/runs/log-model", {"run_id": run_id, "model_json": model_json(run_id, utc_time_created=None)})


@case
def log_model_to_a_deleted_run(api: RestApi) -> httpx.Response:
    run_id = api.run()
    api.post("/runs/delete", {"run_id": run_id})
    return api.post("/runs/log-model", {"run_id": run_id, "model_json": model_json(run_id)})


# ---------------------------------------------------- values of the wrong JSON type

HUGE = 10**400  # past a double and an int64; JSON allows it


@case
def log_metric_value_as_a_numeric_string(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id, value="1.25")
    return api.get("/metrics/get-history", run_id=run_id, metric_key="m")


@case
def log_metric_value_true(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id, value=True)
    return api.get("/metrics/get-history", run_id=run_id, metric_key="m")


@case
def log_metric_value_null(api: RestApi) -> httpx.Response:
    return metric(api, value=None)


@case
def log_metric_step_as_a_string(api: RestApi) -> httpx.Response:
    run_id = api.run()
    metric(api, run_id, step="7")
    return api.get("/metrics/get-history", run_id=run_id, metric_key="m")


@case
def log_metric_step_with_a_fraction(api: RestApi) -> httpx.Response:
    return metric(api, step=1.5)


@case
def log_metric_key_huge_integer(api: RestApi) -> httpx.Response:
    return metric(api, key=HUGE)


@case
def log_param_value_huge_integer(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-parameter", {"run_id": api.run(), "key": "p", "value": HUGE})


@case
def set_tag_value_a_list(api: RestApi) -> httpx.Response:
    return api.post("/runs/set-tag", {"run_id": api.run(), "key": "t", "value": [1]})


@case
def create_experiment_name_huge_integer(api: RestApi) -> httpx.Response:
    return api.post("/experiments/create", {"name": HUGE})


@case
def log_batch_metric_value_a_string(api: RestApi) -> httpx.Response:
    return batch(api, metrics=[{"key": "b", "value": "x", "timestamp": T, "step": 0}])


@case
def log_batch_params_huge_integer(api: RestApi) -> httpx.Response:
    return batch(api, params=HUGE)


# MLflow answers 500 to these (float() overflows, or a non-object item reaches .get()): see DEVIATIONS.
@case
def log_metric_value_huge_integer(api: RestApi) -> httpx.Response:
    return metric(api, value=HUGE)


@case
def log_metric_value_a_list(api: RestApi) -> httpx.Response:
    return metric(api, value=[1])


@case
def log_metric_step_infinity(api: RestApi) -> httpx.Response:
    return api.post("/runs/log-metric", content=f'{{"run_id": "{api.run()}", "key": "m", "value": 1, "timestamp": {T}, "step": Infinity}}',
                    headers={"Content-Type": "application/json"})


@case
def log_batch_metric_value_huge_integer(api: RestApi) -> httpx.Response:
    return batch(api, metrics=[{"key": "b", "value": HUGE, "timestamp": T, "step": 0}])


@case
def log_batch_metric_not_an_object(api: RestApi) -> httpx.Response:
    return batch(api, metrics=[5])


# MLflow answers 200 to these and logs 0 in place of the number (or ignores the status): see REFUSED.
@case
def log_metric_step_past_int64(api: RestApi) -> httpx.Response:
    return metric(api, step=2**63)


@case
def log_metric_timestamp_huge_integer(api: RestApi) -> httpx.Response:
    return metric(api, timestamp=HUGE)


@case
def create_run_start_time_past_int64(api: RestApi) -> httpx.Response:
    return api.post("/runs/create", {"experiment_id": api.experiment(), "start_time": -(2**63) - 1})


@case
def log_batch_metric_step_huge_integer(api: RestApi) -> httpx.Response:
    return batch(api, metrics=[{"key": "b", "value": 1, "timestamp": T, "step": HUGE}])


@case
def update_run_status_true(api: RestApi) -> httpx.Response:
    return api.post("/runs/update", {"run_id": api.run(), "status": True})


# ------------------------------------------------- where mlflow server fails


@case
def delete_default_experiment(api: RestApi) -> httpx.Response:
    return api.post("/experiments/delete", {"experiment_id": "0"})


@case
def rename_deleted_experiment(api: RestApi) -> httpx.Response:
    experiment_id = api.experiment()
    api.post("/experiments/delete", {"experiment_id": experiment_id})
    return api.post("/experiments/update", {"experiment_id": experiment_id, "new_name": api.name("renamed")})


# ------------------------------------------------------------------ the checks

# Where mlflow server answers 500 from a bug or an uncaught error, mlscope answers 400 with the message.
# (MLflow's client also retries every 500 for minutes before it gives up.)
INVALID = {"status": 400, "error_code": "INVALID_PARAMETER_VALUE"}
API_DOCS = " See the API docs for more information about request parameters."
DEVIATIONS: dict[str, dict[str, Any]] = {
    # FileStore wraps the refusal in MlflowException(INTERNAL_ERROR) after writing the params before it.
    "log_batch_changing_a_param": INVALID,
    # FileStore raises MlflowException without an error code: 500 INTERNAL_ERROR.
    "delete_default_experiment": {
        **INVALID,
        "message": "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
    },
    # FileStore raises a bare Exception: mlflow server answers an HTML 500 page.
    "rename_deleted_experiment": {
        **INVALID,
        "message": "Cannot rename experiment in non-active lifecycle stage. Current stage: deleted",
    },
    # The handler's float() overflows (OverflowError) or gets a list (TypeError): an HTML 500 page.
    "log_metric_value_huge_integer": {**INVALID, "message": f"Invalid value {HUGE} for parameter 'value' supplied:  Hint: Value was of type 'int'.{API_DOCS}"},
    "log_metric_value_a_list": {**INVALID, "message": f"Invalid value [1] for parameter 'value' supplied:  Hint: Value was of type 'list'.{API_DOCS}"},
    # int(Infinity) overflows in the handler's type check.
    "log_metric_step_infinity": {**INVALID, "message": f"Invalid value Infinity for parameter 'step' supplied:  Hint: Value was of type 'float'.{API_DOCS}"},
    "log_batch_metric_value_huge_integer": {**INVALID, "message": f"Invalid value {HUGE} for parameter 'metrics[0].value' supplied: it is outside the range of a double.{API_DOCS}"},
    # The handler calls .get() on the item: AttributeError.
    "log_batch_metric_not_an_object": {**INVALID, "message": f"Missing value for required parameter 'metrics[0].key'.{API_DOCS}"},
}

# Where mlflow server answers 200 but logs something else than was sent (the proto parse stops at a number past
# int64 and the field keeps 0; a status of true reads as enum 1), mlscope refuses the request: nothing is logged wrong.
INT64 = "the int64 range [-9223372036854775808, 9223372036854775807]"
REFUSED: dict[str, dict[str, Any]] = {
    "log_metric_step_past_int64": {**INVALID, "message": f"Invalid value {2**63} for parameter 'step' supplied: it is outside {INT64}.{API_DOCS}"},
    "log_metric_timestamp_huge_integer": {**INVALID, "message": f"Invalid value {HUGE} for parameter 'timestamp' supplied: it is outside {INT64}.{API_DOCS}"},
    "create_run_start_time_past_int64": {**INVALID, "message": f"Invalid value {-(2**63) - 1} for parameter 'start_time' supplied: it is outside {INT64}.{API_DOCS}"},
    "log_batch_metric_step_huge_integer": {**INVALID, "message": f"Invalid value {HUGE} for parameter 'metrics[0].step' supplied: it is outside {INT64}.{API_DOCS}"},
    "update_run_status_true": {**INVALID, "message": f"Invalid value true for parameter 'status' supplied:  Hint: Value was of type 'bool'.{API_DOCS}"},
}


@pytest.fixture(scope="module")
def servers(mlflow_reference_server: ServerProcess, tracking_server: LiveServer) -> Iterator[tuple[str, str]]:
    yield mlflow_reference_server.url, tracking_server.url


@pytest.mark.parametrize("name", sorted(CASES))
def test_mlscope_answers_as_mlflow_server(servers: tuple[str, str], name: str) -> None:
    results = []
    for url in servers:
        api = RestApi(url, prefix=name)
        try:
            results.append(outcome(api, CASES[name](api)))
        finally:
            api.close()
    theirs, ours = results
    if name in DEVIATIONS:
        assert theirs["status"] >= 500, f"mlflow server no longer fails here: {theirs}"
        assert {k: ours[k] for k in DEVIATIONS[name]} == DEVIATIONS[name]
        if "message" in theirs:
            assert ours["message"] == theirs["message"]
    elif name in REFUSED:
        assert theirs["status"] == 200, f"mlflow server no longer accepts this: {theirs}"
        assert {k: ours[k] for k in REFUSED[name]} == REFUSED[name]
    else:
        assert ours == theirs


def test_log_model_history_tag_is_written_as_mlflow_server_writes_it(servers: tuple[str, str]) -> None:
    values = []
    for url in servers:
        api = RestApi(url, prefix="log-model-history")
        try:
            response = log_model_records_the_model_history(api)
            tags = {t["key"]: t["value"] for t in response.json()["run"]["data"]["tags"]}
            values.append(api.normalise(tags["mlflow.log-model.history"]))
        finally:
            api.close()
    assert values[0] == values[1]


def test_logged_model_metrics_read_back_as_mlflow_server_returns_them(servers: tuple[str, str]) -> None:
    """Metrics logged with a model_id: get and search answer the same JSON (latest per key and dataset, run id, NaN)."""
    answers = []
    for url in servers:
        api = RestApi(url, prefix="model-metrics")
        try:
            experiment_id = api.experiment()
            run_id = api.run(experiment_id)
            model_id = api.model(experiment_id, source_run_id=run_id, params=[{"key": "C", "value": "1"}])
            for value, step, extra in [(0.5, 1, {}), (0.7, 2, {}), ("NaN", 0, {"dataset_name": "ds", "dataset_digest": "abc"})]:
                metric(api, run_id, key="acc", value=value, step=step, model_id=model_id, **extra)
            batch(api, run_id, metrics=[{"key": "loss", "value": 0.1, "timestamp": T, "step": 3, "model_id": model_id}])
            got = api.get(f"/logged-models/{model_id}").json()["model"]
            found = api.post("/logged-models/search", {"experiment_ids": [experiment_id]}).json()["models"]
            answers.append(api.normalise(json.dumps([got["data"], [m["data"] for m in found]])))
        finally:
            api.close()
    theirs, ours = answers
    assert '"metrics"' in ours
    assert ours == theirs

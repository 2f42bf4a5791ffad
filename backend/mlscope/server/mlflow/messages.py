"""The request messages of MLflow's write endpoints (field types from service.proto) and their handler schemas.

Each endpoint pairs a Message (how protobuf parses the JSON body) with the
schema MLflow's handler checks afterwards, in MLflow's order: a request that
fails gets the same status and message as from ``mlflow server``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..args import (
    DOUBLE,
    INT,
    IS_ARRAY,
    IS_FLOAT,
    IS_INT,
    IS_STRING,
    REQUIRED,
    STRING,
    Enum,
    Message,
    Repeated,
    required_path,
)

RUN_STATUS = Enum({"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5})
LOGGED_MODEL_STATUS = Enum(
    {"LOGGED_MODEL_STATUS_UNSPECIFIED": 0, "LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}
)
KEY_VALUE = Message({"key": STRING, "value": STRING})
METRIC = Message(
    {
        "key": STRING,
        "value": DOUBLE,
        "timestamp": INT,
        "step": INT,
        "dataset_name": STRING,
        "dataset_digest": STRING,
        "model_id": STRING,
        "run_id": STRING,
    }
)
DATASET = Message({"name": STRING, "digest": STRING, "source_type": STRING, "source": STRING, "schema": STRING, "profile": STRING})

# ---------------------------------------------------------------- experiments

CREATE_EXPERIMENT = Message({"name": STRING, "artifact_location": STRING, "tags": Repeated(KEY_VALUE)})
CREATE_EXPERIMENT_SCHEMA = {"name": (REQUIRED, IS_STRING), "artifact_location": (IS_STRING,), "tags": (IS_ARRAY,)}
EXPERIMENT_ID = Message({"experiment_id": STRING})
EXPERIMENT_ID_SCHEMA = {"experiment_id": (REQUIRED, IS_STRING)}
UPDATE_EXPERIMENT = Message({"experiment_id": STRING, "new_name": STRING})
UPDATE_EXPERIMENT_SCHEMA = {"experiment_id": (REQUIRED, IS_STRING), "new_name": (IS_STRING, REQUIRED)}
SET_EXPERIMENT_TAG = Message({"experiment_id": STRING, "key": STRING, "value": STRING})
SET_EXPERIMENT_TAG_SCHEMA = {"experiment_id": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING), "value": (IS_STRING,)}
DELETE_EXPERIMENT_TAG = Message({"experiment_id": STRING, "key": STRING})
DELETE_EXPERIMENT_TAG_SCHEMA = {"experiment_id": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING)}

# ----------------------------------------------------------------------- runs

CREATE_RUN = Message(
    {"experiment_id": STRING, "user_id": STRING, "run_name": STRING, "start_time": INT, "tags": Repeated(KEY_VALUE)}
)
CREATE_RUN_SCHEMA = {"experiment_id": (IS_STRING,), "start_time": (IS_INT,), "run_name": (IS_STRING,)}
UPDATE_RUN = Message({"run_id": STRING, "run_uuid": STRING, "status": RUN_STATUS, "end_time": INT, "run_name": STRING})
UPDATE_RUN_SCHEMA = {"run_id": (REQUIRED, IS_STRING), "end_time": (IS_INT,), "status": (IS_STRING,), "run_name": (IS_STRING,)}
RUN_ID = Message({"run_id": STRING})
RUN_ID_SCHEMA = {"run_id": (REQUIRED, IS_STRING)}

LOG_METRIC = Message(
    {
        "run_id": STRING,
        "run_uuid": STRING,
        "key": STRING,
        "value": DOUBLE,
        "timestamp": INT,
        "step": INT,
        "model_id": STRING,
        "dataset_name": STRING,
        "dataset_digest": STRING,
    }
)
LOG_METRIC_SCHEMA = {
    "run_id": (REQUIRED, IS_STRING),
    "key": (REQUIRED, IS_STRING),
    "value": (REQUIRED, IS_FLOAT),
    "timestamp": (IS_INT, REQUIRED),
    "step": (IS_INT,),
    "model_id": (IS_STRING,),
    "dataset_name": (IS_STRING,),
    "dataset_digest": (IS_STRING,),
}
LOG_PARAM = Message({"run_id": STRING, "run_uuid": STRING, "key": STRING, "value": STRING})
LOG_PARAM_SCHEMA = {"run_id": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING), "value": (IS_STRING,)}
SET_TAG = LOG_PARAM
SET_TAG_SCHEMA = LOG_PARAM_SCHEMA
DELETE_TAG = Message({"run_id": STRING, "key": STRING})
DELETE_TAG_SCHEMA = {"run_id": (REQUIRED, IS_STRING), "key": (REQUIRED, IS_STRING)}
LOG_BATCH = Message({"run_id": STRING, "metrics": Repeated(METRIC), "params": Repeated(KEY_VALUE), "tags": Repeated(KEY_VALUE)})


def _entries_present(name: str, fields: tuple[str, ...]) -> Callable[[Any], None]:
    """log-batch's check that every metric has key, value and timestamp (params and tags a key)."""

    def check(entries: Any) -> None:
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and all(entry.get(field) not in (None, "") for field in fields):
                continue
            for field in fields:
                required_path(entry.get(field) if isinstance(entry, dict) else None, f"{name}[{index}].{field}")

    return check


LOG_BATCH_SCHEMA = {
    "run_id": (IS_STRING, REQUIRED),
    "metrics": (IS_ARRAY, _entries_present("metrics", ("key", "value", "timestamp"))),
    "params": (IS_ARRAY, _entries_present("params", ("key",))),
    "tags": (IS_ARRAY, _entries_present("tags", ("key",))),
}
LOG_INPUTS = Message(
    {
        "run_id": STRING,
        "datasets": Repeated(Message({"tags": Repeated(KEY_VALUE), "dataset": DATASET})),
        "models": Repeated(Message({"model_id": STRING})),
    }
)
LOG_INPUTS_SCHEMA = {"run_id": (REQUIRED, IS_STRING), "datasets": (IS_ARRAY,), "models": (IS_ARRAY,)}
LOG_MODEL = Message({"run_id": STRING, "model_json": STRING})
LOG_MODEL_SCHEMA = {"run_id": (IS_STRING, REQUIRED), "model_json": (IS_STRING, REQUIRED)}
LOG_OUTPUTS = Message({"run_id": STRING, "models": Repeated(Message({"model_id": STRING, "step": INT}))})
LOG_OUTPUTS_SCHEMA = {"run_id": (REQUIRED, IS_STRING), "models": (REQUIRED, IS_ARRAY)}

# -------------------------------------------------------------- logged models

CREATE_LOGGED_MODEL = Message(
    {
        "experiment_id": STRING,
        "name": STRING,
        "model_type": STRING,
        "source_run_id": STRING,
        "params": Repeated(KEY_VALUE),
        "tags": Repeated(KEY_VALUE),
    }
)
CREATE_LOGGED_MODEL_SCHEMA = {
    "experiment_id": (IS_STRING, REQUIRED),
    "name": (IS_STRING,),
    "model_type": (IS_STRING,),
    "source_run_id": (IS_STRING,),
    "params": (IS_ARRAY,),
    "tags": (IS_ARRAY,),
}
FINALIZE_LOGGED_MODEL = Message({"model_id": STRING, "status": LOGGED_MODEL_STATUS})
FINALIZE_LOGGED_MODEL_SCHEMA = {"model_id": (IS_STRING, REQUIRED), "status": (IS_INT, REQUIRED)}
SET_LOGGED_MODEL_TAGS = Message({"model_id": STRING, "tags": Repeated(KEY_VALUE)})
SET_LOGGED_MODEL_TAGS_SCHEMA = {"tags": (IS_ARRAY,)}
LOG_LOGGED_MODEL_PARAMS = Message({"model_id": STRING, "params": Repeated(KEY_VALUE)})
LOG_LOGGED_MODEL_PARAMS_SCHEMA = {"model_id": (IS_STRING, REQUIRED), "params": (IS_ARRAY,)}


def pairs(items: list[dict[str, str]] | None) -> list[tuple[str, str]]:
    """Repeated {key, value} messages as (key, value), proto defaults ('') for absent fields."""
    return [(item.get("key", ""), item.get("value", "")) for item in items or []]

"""A small raw-REST client for comparing mlscope's tracking server with ``mlflow server`` request by request."""

from __future__ import annotations

import re
from typing import Any

import httpx

API = "/api/2.0/mlflow"


class RestApi:
    """Raw calls to one server, plus helpers that create what a case needs (ids remembered for normalising)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.prefix = prefix  # makes experiment names unique per case within one server's tree
        self.ids: dict[str, str] = {}
        self._count = 0

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.http.request(method, API + path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, body, **kwargs)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(API + path, params=params)

    def name(self, label: str = "exp") -> str:
        self._count += 1
        return f"{self.prefix}-{label}-{self._count}"

    def experiment(self, label: str = "exp") -> str:
        response = self.post("/experiments/create", {"name": self.name(label)})
        assert response.status_code == 200, response.text
        experiment_id = response.json()["experiment_id"]
        self.ids[experiment_id] = f"<{label}>"
        return experiment_id

    def run(self, experiment_id: str | None = None, label: str = "run", **fields: Any) -> str:
        experiment_id = experiment_id or self.experiment()
        response = self.post("/runs/create", {"experiment_id": experiment_id, "start_time": 1_700_000_000_000, **fields})
        assert response.status_code == 200, response.text
        run_id = response.json()["run"]["info"]["run_id"]
        self.ids[run_id] = f"<{label}>"
        return run_id

    def model(self, experiment_id: str | None = None, label: str = "model", **fields: Any) -> str:
        experiment_id = experiment_id or self.experiment()
        response = self.post("/logged-models", {"experiment_id": experiment_id, **fields})
        assert response.status_code == 200, response.text
        model_id = response.json()["model"]["info"]["model_id"]
        self.ids[model_id] = f"<{label}>"
        return model_id

    def normalise(self, text: str) -> str:
        """Ids this client created replaced by their labels; any other long id or epoch time by a placeholder."""
        for raw, label in sorted(self.ids.items(), key=lambda item: -len(item[0])):
            text = text.replace(raw, label)
        text = re.sub(r"\bm-[0-9a-f]{32}\b", "<model-id>", text)
        text = re.sub(r"\b[0-9a-f]{32}\b", "<run-id>", text)
        return re.sub(r"\b1[0-9]{12}\b", "<time>", text)


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys of objects (recursively), element shapes of lists, types of leaves."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def outcome(api: RestApi, response: httpx.Response) -> dict[str, Any]:
    """What must match between the servers: status, and the error or the body's shape."""
    result: dict[str, Any] = {"status": response.status_code}
    try:
        body = response.json()
    except ValueError:
        return {**result, "body": "not JSON"}
    if response.status_code >= 400:
        result.update(
            error_code=body.get("error_code"),
            message=api.normalise(str(body.get("message"))),
            sqlstate=body.get("sqlstate"),
            error_class=body.get("error_class"),
        )
    else:
        result["shape"] = shape(body)
    return result

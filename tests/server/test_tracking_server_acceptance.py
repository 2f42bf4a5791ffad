"""Acceptance: MLflow's own client logs to ``mlscope server`` over HTTP, as to ``mlflow server``.

1. The tutorial's scenario 3 (``mlflow_tracking.py``) against ``mlscope server`` on an empty folder:
   the run, ``param1``, three ``foo`` values and ``outputs/test.txt`` show up in the tree, in
   mlscope's API and in MLflow's FileStore reading that tree.
2. A realistic training script (scikit-learn, nested runs, ``log_batch``, ``log_input``, tags,
   a renamed and a deleted run, ``mlflow.sklearn.log_model``) run once against ``mlscope server``
   and once against ``mlflow server``: what MLflow's client reads back from each is the same,
   field by field (ids and times aside), and the model loads back through mlscope.
Both servers run as subprocesses started from their command lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reference_trees import file_store
from tests.tracking_servers import ServerProcess, mlflow_server, mlscope_server

# The tutorial's examples/quickstart/mlflow_tracking.py, as users run it.
TUTORIAL_SCRIPT = '''
import os
from random import random, randint
from mlflow import log_metric, log_param, log_artifacts

if __name__ == "__main__":
    print("Running mlflow_tracking.py")

    log_param("param1", randint(0, 100))

    log_metric("foo", random())
    log_metric("foo", random() + 1)
    log_metric("foo", random() + 2)

    if not os.path.exists("outputs"):
        os.makedirs("outputs")
    with open("outputs/test.txt", "w") as f:
        f.write("hello world!")

    log_artifacts("outputs")
'''

TRAINING_SCRIPT = '''
import json

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

T0 = 1_700_000_000_000
mlflow.set_experiment("realistic")
client = MlflowClient()
X, y = load_iris(return_X_y=True, as_frame=True)
dataset = mlflow.data.from_pandas(X.assign(target=y), source="iris.csv", name="iris", targets="target")
ids = {"children": []}
with mlflow.start_run(run_name="sweep") as parent:
    ids["parent"] = parent.info.run_id
    mlflow.set_tags({"team": "vision", "stage": "dev"})
    mlflow.log_input(dataset, context="training")
    mlflow.log_param("model", "logistic")
    best = None
    for C in (0.1, 1.0, 10.0):
        with mlflow.start_run(run_name=f"C={C}", nested=True) as child:
            ids["children"].append(child.info.run_id)
            model = LogisticRegression(C=C, max_iter=500).fit(X, y)
            accuracy = float(model.score(X, y))
            client.log_batch(
                child.info.run_id,
                metrics=[Metric("loss", 1.0 / (C * (s + 1)), T0 + s, s) for s in range(10)] + [Metric("accuracy", accuracy, T0 + 10, 0)],
                params=[Param("C", str(C)), Param("max_iter", "500")],
                tags=[RunTag("kind", "child")],
            )
            mlflow.log_input(dataset, context="training")
            mlflow.log_dict({"C": C, "accuracy": accuracy}, "config/params.json")
            mlflow.log_text("trained\\n", "notes.txt")
            if best is None or accuracy > best[0]:
                best = (accuracy, model)
    mlflow.log_metric("best_accuracy", best[0])
    info = mlflow.sklearn.log_model(best[1], name="model", input_example=X.iloc[:3], pip_requirements=["scikit-learn"])
    ids["model_id"] = info.model_id
    ids["predictions"] = best[1].predict(X.iloc[:5]).tolist()
client.set_tag(ids["children"][0], "mlflow.runName", "renamed-child")
client.delete_run(ids["children"][2])
print("IDS " + json.dumps(ids))
'''

# Tags whose values hold ids, times, hosts or versions rather than what the script logged.
VOLATILE_TAGS = {"mlflow.log-model.history", "mlflow.source.git.commit", "mlflow.source.git.repoURL", "mlflow.source.git.branch"}


def run_script(work: Path, name: str, text: str, url: str) -> str:
    (work / name).write_text(text)
    # An experiment or run chosen by an earlier test in this process (mlflow.set_experiment exports it) is not the script's.
    inherited = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")}
    env = {**inherited, "MLFLOW_TRACKING_URI": url, "MLFLOW_ALLOW_FILE_STORE": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    done = subprocess.run([sys.executable, name], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{name} against {url} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done.stdout


# ------------------------------------------------------ scenario 3 of the tutorial


@pytest.fixture(scope="module")
def scenario3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ServerProcess, str]]:
    """(tree, server, run id) after mlflow_tracking.py ran against mlscope server on an empty folder."""
    base = tmp_path_factory.mktemp("scenario3")
    root = base / "mlruns"
    root.mkdir()
    server = mlscope_server(root).start()
    try:
        work = base / "work"
        work.mkdir()
        run_script(work, "mlflow_tracking.py", TUTORIAL_SCRIPT, server.url)
        runs = [p for p in (root / "0").iterdir() if p.is_dir() and (p / "meta.yaml").is_file()]
        assert len(runs) == 1, runs
        yield root, server, runs[0].name
    finally:
        server.stop()


def test_scenario3_run_is_written_in_mlflows_format(scenario3: tuple[Path, ServerProcess, str]) -> None:
    root, _, run_id = scenario3
    run_dir = root / "0" / run_id
    assert 0 <= int((run_dir / "params" / "param1").read_text()) <= 100
    lines = (run_dir / "metrics" / "foo").read_text().splitlines()
    values = [float(line.split()[1]) for line in lines]
    assert len(values) == 3 and [int(v) for v in values] == [0, 1, 2]
    assert all(len(line.split()) == 3 for line in lines)
    assert (run_dir / "artifacts" / "test.txt").read_text() == "hello world!"
    assert "artifact_uri: mlflow-artifacts:/0/" in (run_dir / "meta.yaml").read_text()


def test_scenario3_mlflows_file_store_reads_the_tree(scenario3: tuple[Path, ServerProcess, str]) -> None:
    root, _, run_id = scenario3
    store = file_store(root)
    run = store.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.end_time is not None
    assert set(run.data.params) == {"param1"}
    assert [int(m.value) for m in store.get_metric_history(run_id, "foo")] == [0, 1, 2]
    assert [r.info.run_id for r in store.search_runs(["0"], None, 1)] == [run_id]


def test_scenario3_appears_in_mlscopes_api(scenario3: tuple[Path, ServerProcess, str]) -> None:
    _, server, run_id = scenario3
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/api/mlscope/run", params={"run_id": run_id}).json()["run"]
        assert set(page["params"]) == {"param1"} and [m["key"] for m in page["metrics"]] == ["foo"]
        assert int(page["metrics"][0]["value"]) == 2
        listed = client.get("/api/mlscope/artifacts/list", params={"run_id": run_id, "path": ""}).json()
        assert [f["path"] for f in listed["files"]] == ["test.txt"]
        assert client.get("/api/mlscope/artifacts/file", params={"run_id": run_id, "path": "test.txt"}).text == "hello world!"
        found = client.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "filter": "params.param1 != ''"}).json()
        assert [r["info"]["run_id"] for r in found["runs"]] == [run_id]


def test_scenario3_mlflows_client_reads_it_back(scenario3: tuple[Path, ServerProcess, str], tmp_path: Path) -> None:
    from mlflow import MlflowClient

    _, server, run_id = scenario3
    client = MlflowClient(server.url)
    assert [int(m.value) for m in client.get_metric_history(run_id, "foo")] == [0, 1, 2]
    assert [f.path for f in client.list_artifacts(run_id)] == ["test.txt"]
    downloaded = Path(client.download_artifacts(run_id, "test.txt", str(tmp_path)))
    assert downloaded.read_text() == "hello world!"


# ------------------------------------------- a realistic script, side by side


def tree_listing(client: Any, run_id: str, path: str | None = None) -> list[tuple[str, bool]]:
    found = []
    for entry in client.list_artifacts(run_id, path):
        found.append((entry.path, entry.is_dir))
        if entry.is_dir:
            found.extend(tree_listing(client, run_id, entry.path))
    return found


def model_listing(url: str, location: str, path: str | None = None) -> list[tuple[str, bool]]:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repo = get_artifact_repository(location, tracking_uri=url)
    found = []
    for entry in repo.list_artifacts(path):
        found.append((entry.path, entry.is_dir))
        if entry.is_dir:
            found.extend(model_listing(url, location, entry.path))
    return found


def snapshot(url: str) -> dict[str, Any]:
    """Everything MLflow's client reads back about the script's experiment, with ids and times taken out."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(url)
    experiment = client.get_experiment_by_name("realistic")
    runs = client.search_runs([experiment.experiment_id], run_view_type=ViewType.ALL)
    names = {r.info.run_id: r.info.run_name for r in runs}
    described: dict[str, Any] = {}
    for run in runs:
        tags = {k: v for k, v in run.data.tags.items() if k not in VOLATILE_TAGS}
        if "mlflow.parentRunId" in tags:
            tags["mlflow.parentRunId"] = names.get(tags["mlflow.parentRunId"], "?")
        described[run.info.run_name] = {
            "status": run.info.status,
            "lifecycle_stage": run.info.lifecycle_stage,
            "ended": run.info.end_time is not None,
            "params": run.data.params,
            "metrics": run.data.metrics,
            "tags": tags,
            "histories": {k: [(m.value, m.step) for m in client.get_metric_history(run.info.run_id, k)] for k in run.data.metrics},
            "datasets": sorted(
                (d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, d.dataset.schema, d.dataset.profile,
                 tuple(sorted((t.key, t.value) for t in d.tags)))
                for d in run.inputs.dataset_inputs
            ),
            "artifacts": tree_listing(client, run.info.run_id),
            "model_outputs": len(run.outputs.model_outputs) if run.outputs else 0,
        }
    models = client.search_logged_models([experiment.experiment_id])
    described["logged models"] = sorted(
        (
            m.name,
            str(m.status),
            names.get(m.source_run_id or "", "?"),
            tuple(sorted(m.params.items())),
            tuple(sorted((k, v) for k, v in m.tags.items() if k not in VOLATILE_TAGS)),
            tuple(model_listing(url, m.artifact_location)),
        )
        for m in models
    )
    described["experiment"] = {"name": experiment.name, "lifecycle_stage": experiment.lifecycle_stage,
                               "tags": {k: v for k, v in experiment.tags.items() if k not in VOLATILE_TAGS}}
    return described


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The training script run against mlscope server and against mlflow server (each on its own folder)."""
    base = tmp_path_factory.mktemp("side-by-side")
    (base / "ours" / "mlruns").mkdir(parents=True)
    work = base / "work"
    work.mkdir()
    ours = mlscope_server(base / "ours" / "mlruns").start()
    theirs = mlflow_server(base / "theirs").start()
    try:
        result: dict[str, Any] = {"ours": ours, "theirs": theirs, "root": base / "ours" / "mlruns"}
        for name, server in (("ours", ours), ("theirs", theirs)):
            output = run_script(work, "train.py", TRAINING_SCRIPT, server.url)
            result[f"{name}_ids"] = json.loads(output.split("IDS ", 1)[1].splitlines()[0])
        result["ours_snapshot"], result["theirs_snapshot"] = snapshot(ours.url), snapshot(theirs.url)
        yield result
    finally:
        ours.stop()
        theirs.stop()


@pytest.mark.parametrize("part", ["sweep", "C=1.0", "renamed-child", "C=10.0", "logged models", "experiment"])
def test_training_script_reads_back_as_from_mlflows_server(side_by_side: dict[str, Any], part: str) -> None:
    assert side_by_side["ours_snapshot"][part] == side_by_side["theirs_snapshot"][part]


def test_training_script_gives_the_same_runs(side_by_side: dict[str, Any]) -> None:
    assert sorted(side_by_side["ours_snapshot"]) == sorted(side_by_side["theirs_snapshot"])


def test_the_deleted_and_renamed_runs_are_as_the_script_left_them(side_by_side: dict[str, Any]) -> None:
    runs = side_by_side["ours_snapshot"]
    assert runs["C=10.0"]["lifecycle_stage"] == "deleted" and runs["renamed-child"]["tags"]["mlflow.runName"] == "renamed-child"


def test_the_model_loads_back_through_mlscope(side_by_side: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from sklearn.datasets import load_iris

    ids = side_by_side["ours_ids"]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", side_by_side["ours"].url)
    X, _ = load_iris(return_X_y=True, as_frame=True)
    for uri in (f"runs:/{ids['parent']}/model", f"models:/{ids['model_id']}"):
        model = mlflow.pyfunc.load_model(uri)
        assert model.predict(X.iloc[:5]).tolist() == ids["predictions"]


def test_the_models_files_live_in_the_tree(side_by_side: dict[str, Any]) -> None:
    root: Path = side_by_side["root"]
    model_id = side_by_side["ours_ids"]["model_id"]
    found = list(root.glob(f"*/models/{model_id}/artifacts/MLmodel"))
    assert len(found) == 1 and "sklearn" in found[0].read_text()
    assert not (root.parent / "mlartifacts").exists()


def test_mlflows_file_store_reads_the_tree_mlscope_wrote(side_by_side: dict[str, Any]) -> None:
    from mlflow.entities import ViewType

    store = file_store(side_by_side["root"])
    experiment = store.get_experiment_by_name("realistic")
    runs = store.search_runs([experiment.experiment_id], None, ViewType.ALL)
    assert sorted(r.info.run_name for r in runs) == sorted(k for k in side_by_side["ours_snapshot"] if k not in ("logged models", "experiment"))
    for run in runs:
        assert store.get_run(run.info.run_id).data.params == side_by_side["ours_snapshot"][run.info.run_name]["params"]

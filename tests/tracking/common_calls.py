"""A realistic script of MLflow's common tracking calls; tests run it as ``import mlflow`` and as ``import mlscope as mlflow``.

The ``import mlflow`` line is swapped by the test (``import mlflow`` / ``import mlscope as mlflow``);
everything else is unchanged MLflow code. Data is deterministic so both trees can be
compared field by field.
"""

import json
import os

import matplotlib
import mlflow  # the test replaces this line

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ViewType = mlflow.entities.ViewType
Metric, Param, RunTag = mlflow.entities.Metric, mlflow.entities.Param, mlflow.entities.RunTag

experiment = mlflow.set_experiment("common-calls")
mlflow.set_experiment_tags({"team": "vision", "project": "acceptance"})
mlflow.set_experiment_tag("stage", "dev")
doomed = mlflow.create_experiment("to-delete", tags={"temp": "yes"})
mlflow.delete_experiment(doomed)
revived = mlflow.create_experiment("to-restore")
mlflow.delete_experiment(revived)
mlflow.restore_experiment(revived)

frame = pd.DataFrame({
    "sepal": [5.1, 4.9, 4.7, 4.6, 5.0, float("nan")],
    "petal": [1, 2, 3, 4, 5, 6],
    "species": ["setosa", "setosa", "versicolor", "virginica", "setosa", "versicolor"],
    "flag": [True, False, True, True, False, True],
})
train = mlflow.data.from_pandas(frame, source="data/iris.csv", name="iris-train", targets="species")
features = mlflow.data.from_numpy(np.arange(24, dtype=np.float32).reshape(6, 4), targets=np.array([0, 1, 0, 1, 1, 0]), name="tensors")
code_sourced = mlflow.data.from_pandas(frame.head(3))

with mlflow.start_run(run_name="parent", tags={"kind": "sweep"}, description="The *parent* run") as parent:
    mlflow.log_param("lr", 0.01, synchronous=True)
    mlflow.log_params({"epochs": 3, "optimizer": "adam", "nested/param": "x"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1000 + step, synchronous=True)
    mlflow.log_metrics({"acc": 0.91, "f1": 0.88}, step=4)
    mlflow.log_metric("special", float("nan"))
    mlflow.log_metric("big", 1.7e308, step=2**40)
    mlflow.log_metric("eval/acc", 0.8, step=1, dataset=train)
    mlflow.log_input(train, context="training", tags={"split": "train"})
    mlflow.log_inputs(datasets=[features, code_sourced], contexts=["eval", None], tags_list=[None, {"origin": "code"}])
    mlflow.set_tag("mlflow.note.content", "The *parent* run, updated")
    mlflow.set_tags({"owner": "alice", "temporary": "yes"})
    mlflow.delete_tag("temporary")
    try:
        mlflow.log_param("lr", 0.02)
    except mlflow.exceptions.MlflowException as exc:
        mlflow.set_tag("param_error", exc.error_code)

    os.makedirs("outputs/plots", exist_ok=True)
    with open("outputs/summary.txt", "w") as handle:
        handle.write("summary\n")
    with open("outputs/plots/notes.md", "w") as handle:
        handle.write("# notes\n")
    mlflow.log_artifact("outputs/summary.txt")
    mlflow.log_artifact("outputs/summary.txt", artifact_path="copies")
    mlflow.log_artifacts("outputs", artifact_path="bundle")
    mlflow.log_text("line one\nline two\n", "logs/train.log")
    mlflow.log_dict({"layers": [64, 32], "dropout": 0.1}, "config/model.json")
    mlflow.log_dict({"layers": [64, 32], "dropout": 0.1}, "config/model.yaml")
    mlflow.log_image(np.full((8, 12, 3), 200, dtype=np.uint8), "images/static.png")
    mlflow.log_image(np.eye(10, dtype=np.float64), key="samples/pred", step=3, timestamp=1234)
    figure, axes = plt.subplots(figsize=(2, 2))
    axes.plot([0, 1, 2], [2, 1, 3])
    mlflow.log_figure(figure, "plots/curve.png")
    plt.close(figure)
    mlflow.log_table({"question": ["a?", "b?"], "score": [0.5, 0.7]}, "eval/table.json")
    mlflow.log_table(pd.DataFrame({"question": ["c?"], "score": [0.9]}), "eval/table.json")
    loaded = mlflow.load_table("eval/table.json", run_ids=[parent.info.run_id], extra_columns=["run_id"])
    mlflow.log_param("table_rows", len(loaded))

    with mlflow.start_run(run_name="child-a", nested=True) as child:
        mlflow.log_metric("child_metric", 1.5)
    with mlflow.start_run(run_name="child-b", parent_run_id=parent.info.run_id, nested=True):
        mlflow.log_metric("child_metric", 2.5)
        mlflow.log_metric("parent_side", 7.0, run_id=parent.info.run_id)

run = mlflow.get_run(parent.info.run_id)
inputs = sorted((d.dataset.name, d.dataset.digest, tuple(sorted((t.key, t.value) for t in d.tags))) for d in run.inputs.dataset_inputs)

client = mlflow.MlflowClient()
batch_run = client.create_run(experiment.experiment_id, run_name="batch", tags={"source": "client"})
client.log_batch(
    batch_run.info.run_id,
    metrics=[Metric("m", float(i), 5000 + i, i) for i in range(1500)],
    params=[Param(f"p{i}", str(i)) for i in range(150)],
    tags=[RunTag("inputs", json.dumps(inputs))],
)
client.log_param(batch_run.info.run_id, "single", "one")
client.set_tag(batch_run.info.run_id, "client_tag", "v")
client.update_run(batch_run.info.run_id, name="batch-renamed")
client.set_terminated(batch_run.info.run_id, status="FAILED")

with mlflow.start_run(run_name="killed"):
    mlflow.log_metric("partial", 0.1)
    mlflow.end_run(status="KILLED")
with mlflow.start_run(run_name="deleted") as gone:
    mlflow.log_param("x", 1)
mlflow.delete_run(gone.info.run_id)
with mlflow.start_run(run_name="restored") as back:
    mlflow.log_param("x", 2)
mlflow.delete_run(back.info.run_id)
mlflow.restore_run(back.info.run_id)
with mlflow.start_run(run_id=child.info.run_id):
    mlflow.log_metric("child_metric", 3.5, step=1)

frame = mlflow.search_runs(order_by=["attributes.run_name ASC"])
listed = mlflow.search_runs(filter_string="metrics.child_metric > 2", output_format="list")
every = mlflow.search_experiments(view_type=ViewType.ALL, filter_string="name LIKE 'to-%'")
summary = {
    "columns": sorted(frame.columns),
    "dtypes": {column: str(frame[column].dtype) for column in sorted(frame.columns)},
    "names": list(frame["tags.mlflow.runName"]),
    "matching": sorted(r.info.run_name for r in listed),
    "experiments": sorted(e.name for e in every),
}
with mlflow.start_run(run_name="reader"):
    mlflow.log_dict(summary, "search.json")
    config = mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/config/model.json")
    text = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/logs/train.log")
    local = mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="bundle", dst_path="downloaded")
    mlflow.log_dict({"config": config, "text": text, "files": sorted(os.listdir(os.path.join(local, "plots")))}, "read_back.json")
    mlflow.log_artifacts("downloaded", artifact_path="downloaded")

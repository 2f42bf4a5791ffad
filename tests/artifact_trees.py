"""An mlruns tree full of artifacts, written by MLflow itself where MLflow can write them.

One run holds every preview type (log_text, log_dict, log_image, log_figure,
log_table, an MLmodel folder laid out like mlflow.sklearn.log_model's, PDF,
HTML with a script, binary); an MLflow 3 logged model hangs off it; other
runs cover moved trees (stale artifact_uri), s3: URIs and symlinks out of
the root. Needs numpy, pillow, matplotlib and pandas (the test extras).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tests.reference_trees import T0, mlflow_client

MARKDOWN = """# Training notes

Some **bold** text and a [link](https://example.com).

<script>document.body.setAttribute('data-md-script-ran', '1')</script>
<img src="x" onerror="document.body.setAttribute('data-md-onerror-ran', '1')">

- item one
- item two
"""

HTML_WITH_SCRIPT = """<!doctype html>
<html><head><title>report</title></head>
<body><h1 id="title">Evaluation report</h1>
<script>document.getElementById('title').textContent = 'SCRIPT RAN'; try { parent.document.body.dataset.pwned = '1' } catch (e) {}</script>
</body></html>
"""

LOG_LINES = "".join(f"step {i}: loss={1 / (i + 1):.4f}\n" for i in range(2000))
TRAIN_PY = 'import math\n\n\ndef loss(x: float) -> float:\n    """Squared error."""\n    return math.pow(x, 2)\n'
CSV_TEXT = "epoch,loss,acc\n" + "".join(f"{i},{1 / (i + 1):.5f},{i / 30:.3f}\n" for i in range(30))
UNICODE_TEXT = "".join(f"{i}: héllo wörld ✓ 日本語 🙂\n" for i in range(300))
TSV_TEXT = "name\tscore\nalpha\t3\nbeta\t10\ngamma\t2\n"

MLMODEL = """artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.9
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.2
mlflow_version: 3.17.2
model_size_bytes: 1024
model_uuid: 2a3b4c5d6e7f
run_id: RUN_ID
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type": "double", "name": "petal width (cm)", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-01-02 03:04:05.000000'
"""
CONDA_YAML = "channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.0\n- pip:\n  - mlflow==3.17.2\n  - scikit-learn==1.5.2\nname: mlflow-env\n"
PYTHON_ENV_YAML = "python: 3.11.9\nbuild_dependencies:\n- pip==24.0\ndependencies:\n- -r requirements.txt\n"
REQUIREMENTS_TXT = "mlflow==3.17.2\ncloudpickle==3.0.0\nnumpy==1.26.4\nscikit-learn==1.5.2\n"


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def _set_artifact_uri(run_dir: Path, uri: str) -> None:
    meta = run_dir / "meta.yaml"
    lines = [
        f"artifact_uri: {uri}" if line.startswith("artifact_uri:") else line for line in meta.read_text().splitlines()
    ]
    meta.write_text("\n".join(lines) + "\n")


def write_artifact_tree(root: Path, outside: Path) -> dict[str, Any]:
    """Write the tree under ``root``; ``outside`` is a folder beside it that no request may reach."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    client = mlflow_client(root)
    exp = client.create_experiment("artifacts-exp")
    run = client.create_run(exp, start_time=T0, run_name="all-previews").info.run_id
    ids: dict[str, Any] = {"experiment": exp, "run": run}

    client.log_text(run, MARKDOWN, "notes/readme.md")
    client.log_text(run, LOG_LINES, "logs/train.log")
    client.log_text(run, TRAIN_PY, "code/train.py")
    client.log_text(run, CSV_TEXT, "data/metrics.csv")
    client.log_text(run, TSV_TEXT, "data/scores.tsv")
    client.log_text(run, HTML_WITH_SCRIPT, "report.html")
    client.log_text(run, '{"lr": 0.1, "layers": [1, 2', "broken.json")
    client.log_text(run, UNICODE_TEXT, "notes/unicode.txt")
    client.log_dict(
        run, {"lr": 0.01, "optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "tags": ["a", "b"]}, "config.json"
    )
    client.log_dict(run, {"epochs": 10, "data": {"path": "/data/train", "shuffle": True}}, "params.yaml")
    client.log_table(
        run,
        {"question": ["What is 2+2?", "Capital of France?"], "answer": ["4", "Paris"], "score": [1.0, 0.5]},
        "tables/eval.json",
    )

    gradient = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
    for step in range(4):
        client.log_image(
            run,
            np.stack([gradient, np.roll(gradient, 16 * step, axis=1), gradient], axis=-1),
            key="samples/grad",
            step=step,
            timestamp=T0 + step,
        )
    client.log_image(run, gradient, "plots/gradient.png")
    figure, axis = plt.subplots(figsize=(4, 3))
    axis.plot([0, 1, 2, 3], [3, 1, 2, 0.5], label="loss")
    axis.legend()
    client.log_figure(run, figure, "plots/loss_curve.png")
    client.log_figure(run, figure, "plots/loss_curve.svg")
    client.log_figure(run, figure, "plots/loss_curve.pdf")
    plt.close(figure)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = _write(
            Path(tmp) / "model",
            {
                "MLmodel": MLMODEL.replace("RUN_ID", run),
                "conda.yaml": CONDA_YAML,
                "python_env.yaml": PYTHON_ENV_YAML,
                "requirements.txt": REQUIREMENTS_TXT,
                "model.pkl": bytes(range(256)) * 4,
            },
        )
        client.log_artifacts(run, str(model_dir), "model")
        weights = _write(Path(tmp) / "w", {"weights.bin": os.urandom(4096), "empty.txt": ""})
        client.log_artifacts(run, str(weights))

        logged = client.create_logged_model(exp, name="iris-classifier", source_run_id=run)
        model_files = _write(
            Path(tmp) / "logged",
            {
                "MLmodel": MLMODEL.replace("RUN_ID", run),
                "requirements.txt": REQUIREMENTS_TXT,
                "model.pkl": b"\x80\x04model",
            },
        )
        client.log_model_artifacts(logged.model_id, str(model_files))
        ids["logged_model"] = logged.model_id
    client.set_terminated(run, "FINISHED", end_time=T0 + 5000)

    run_dir = root / exp / run
    artifacts = run_dir / "artifacts"
    _write(outside, {"secret.txt": "TOP SECRET outside the artifact root\n"})
    os.symlink(outside / "secret.txt", artifacts / "leak.txt")
    os.symlink(outside, artifacts / "leakdir")
    os.symlink(artifacts / "config.json", artifacts / "config-link.json")  # stays inside: allowed

    moved = client.create_run(exp, start_time=T0 + 100, run_name="moved-tree").info.run_id
    client.log_text(moved, "kept after the move\n", "kept.txt")
    _set_artifact_uri(root / exp / moved, "file:///nonexistent/old-machine/mlruns/1/" + moved + "/artifacts")
    remote = client.create_run(exp, start_time=T0 + 200, run_name="remote-artifacts").info.run_id
    _set_artifact_uri(root / exp / remote, "s3://some-bucket/mlruns/" + remote + "/artifacts")
    ids.update(moved=moved, remote=remote)
    return ids

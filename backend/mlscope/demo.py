"""``mlscope demo``: a realistic mlruns tree written through the client, in a few seconds.

Three experiments, ~50 runs: image classification (curves with noise and a
spike, system metrics, a 10,000-step history, a FAILED and a RUNNING run,
images, CSV/JSON/YAML, a log, an HTML report, a model folder and an MLflow 3
logged model), a nested hyperparameter sweep, a small tabular project, and a
model registry (three registered models, versions in every stage, aliases).
Deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .store.writer import atomic_write, dump_yaml
from .tracking.client import MlscopeClient
from .tracking.images import encode_png

DAY_MS = 86_400_000


@dataclass
class DemoSummary:
    root: Path
    experiments: int
    runs: int
    seconds: float


class _Demo:
    def __init__(self, root: Path, seed: int) -> None:
        self.client = MlscopeClient(str(root))
        self.rng = random.Random(seed)
        self.now = int(time.time() * 1000)
        self.commit = f"{self.rng.getrandbits(160):040x}"
        self.runs = 0
        self.image_runs: list[str] = []
        self.churn_runs: list[str] = []
        self.logged_model_id = ""

    def tags(self, source: str, **extra: str) -> dict[str, str]:
        return {
            "mlflow.user": "ada",
            "mlflow.source.name": source,
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": self.commit,
            "mlflow.source.git.branch": "main",
            **extra,
        }

    def run(self, experiment_id: str, name: str | None, start: int, tags: dict[str, str]) -> str:
        self.runs += 1
        return self.client.create_run(experiment_id, start_time=start, tags=tags, run_name=name).info.run_id

    def finish(self, run_id: str, end: int, status: str = "FINISHED") -> None:
        self.client.set_terminated(run_id, status, end_time=end)

    # ------------------------------------------------------------ curves

    def curves(self, run_id: str, epochs: int, lr: float, start: int, spike_at: int | None = None, diverge_at: int | None = None) -> int:
        """Per-epoch loss/accuracy with noise (and optionally a spike); returns the end timestamp."""
        points = []
        rate = 2.5 + 40 * lr
        t = start
        for epoch in range(epochs):
            t += 45_000 + self.rng.randint(0, 5000)
            decay = math.exp(-rate * (epoch + 1) / epochs)
            train_loss = 0.08 + 2.2 * decay + self.rng.gauss(0, 0.02)
            val_loss = train_loss + 0.05 + 0.002 * epoch + self.rng.gauss(0, 0.03)
            if spike_at is not None and epoch == spike_at:
                train_loss *= 3.5
            if diverge_at is not None and epoch >= diverge_at:
                train_loss = float("nan") if epoch > diverge_at else 1e6
                val_loss = train_loss
            acc = max(0.0, min(1.0, 0.98 - 0.9 * decay + self.rng.gauss(0, 0.01)))
            points += [
                ("train/loss", train_loss, t, epoch),
                ("val/loss", val_loss, t, epoch),
                ("train/accuracy", acc, t, epoch),
                ("val/accuracy", max(0.0, acc - 0.03 + self.rng.gauss(0, 0.01)), t, epoch),
                ("learning_rate", lr * (0.5 ** (epoch // 10)), t, epoch),
            ]
        for i in range(0, epochs * 45, 10):  # system metrics every ~10 s
            ts = start + i * 1000
            points += [
                ("system/cpu_utilization_percentage", round(55 + 30 * self.rng.random(), 1), ts, i // 10),
                ("system/memory_usage_megabytes", round(3900 + 20 * math.sqrt(i) + self.rng.random() * 50, 1), ts, i // 10),
                ("system/gpu_0_utilization_percentage", round(80 + 18 * self.rng.random(), 1), ts, i // 10),
            ]
        self.client.log_batch(run_id, metrics=points)
        return t

    def image(self, size: int, phase: float) -> bytes:
        pixels = bytearray()
        for y in range(size):
            for x in range(size):
                v = math.sin((x + phase * 7) / 5) * math.cos((y - phase * 3) / 6)
                pixels += bytes((int(127 + 120 * v), int(127 + 120 * math.sin(phase + x / 9)), int(200 - 100 * abs(v))))
        return encode_png(size, size, pixels, 3)

    # ------------------------------------------------------- experiments

    def image_classification(self) -> None:
        c = self.client
        exp = c.create_experiment(
            "image-classification",
            tags={"mlflow.note.content": "# CIFAR-10 baselines\n\nResNet and ViT variants, **50 epochs** each.\n\n- augmentation: flip + crop\n- metric: `val/accuracy`", "team": "vision"},
        )
        base = self.now - 6 * DAY_MS
        combos = [(lr, bs, opt) for lr in (0.1, 0.03, 0.01, 0.003) for bs, opt in ((64, "sgd"), (128, "adam"), (256, "adamw"))][:12]
        for i, (lr, bs, opt) in enumerate(combos):
            start = base + i * 3 * 3600_000
            model = "resnet50" if i % 3 else "vit-small"
            run_id = self.run(exp, f"{model}-lr{lr}-bs{bs}", start, self.tags("train.py", **({"mlflow.note.content": f"## {model}\n\nlr **{lr}**, batch {bs}, `{opt}`."} if i % 4 == 0 else {})))
            c.log_batch(run_id, params={"lr": lr, "batch_size": bs, "optimizer": opt, "epochs": 50, "model": model, "weight_decay": 5e-4, "augment": "flip,crop"})
            end = self.curves(run_id, 50, lr, start, spike_at=23 if i == 2 else None)
            if i == 0:
                self.rich_artifacts(exp, run_id, start)
            elif i % 3 == 0:
                self.model_folder(run_id, TORCH_FLAVOR, TENSOR_SIGNATURE)
            self.image_runs.append(run_id)
            if i == 1:
                for step in range(8):
                    c.log_image(run_id, self.image(32, step / 2), key="samples/predictions", step=step * 5, timestamp=start + step * 60_000)
            self.finish(run_id, end)
        # a long step-level history: 10,000 points through the bulk path
        start = base + 40 * 3600_000
        run_id = self.run(exp, "resnet50-long-schedule", start, self.tags("train.py"))
        c.log_batch(run_id, params={"lr": 0.05, "batch_size": 128, "optimizer": "sgd", "epochs": 200, "model": "resnet50"})
        loss, points = 2.4, []
        for step in range(10_000):
            loss = max(0.02, loss * 0.9995 + self.rng.gauss(0, 0.004))
            points.append(("train/batch_loss", loss + (0.8 if step == 6200 else 0.0), start + step * 900, step))
        c.log_batch(run_id, metrics=points)
        self.finish(run_id, start + 10_000 * 900)
        # a failed run (diverged) and one still running
        start = base + 44 * 3600_000
        run_id = self.run(exp, "vit-small-lr1.0", start, self.tags("train.py", **{"mlflow.note.content": "Diverged: **NaN loss** at epoch 7."}))
        c.log_batch(run_id, params={"lr": 1.0, "batch_size": 64, "optimizer": "sgd", "epochs": 50, "model": "vit-small"})
        end = self.curves(run_id, 9, 1.0, start, diverge_at=6)
        c.log_text(run_id, "".join(f"epoch {e}: loss={'nan' if e > 6 else 2.0 - e * 0.1:.3}\n" for e in range(9)) + "Traceback (most recent call last):\n  ...\nFloatingPointError: loss is NaN\n", "train.log")
        self.finish(run_id, end, "FAILED")
        start = self.now - 20 * 60_000
        run_id = self.run(exp, "resnet50-running", start, self.tags("train.py"))
        c.log_batch(run_id, params={"lr": 0.01, "batch_size": 128, "optimizer": "adamw", "epochs": 50, "model": "resnet50"})
        self.curves(run_id, 18, 0.01, start)

    def rich_artifacts(self, experiment_id: str, run_id: str, start: int) -> None:
        c = self.client
        c.log_image(run_id, self.image(64, 0.0), artifact_file="plots/confusion_matrix.png")
        c.log_image(run_id, self.image(48, 1.5), artifact_file="plots/loss_landscape.png")
        rows = ["id,label,prediction,confidence"] + [f"{i},{self.rng.randint(0, 9)},{self.rng.randint(0, 9)},{self.rng.random():.4f}" for i in range(200)]
        c.log_text(run_id, "\n".join(rows) + "\n", "predictions.csv")
        config = {"model": {"name": "vit-small", "patch_size": 16, "depth": 12}, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "data": {"dataset": "cifar10", "augment": ["flip", "crop"]}}
        c.log_dict(run_id, config, "config.json")
        c.log_dict(run_id, config, "config.yaml")
        c.log_text(run_id, "".join(f"2026-11-21 10:{e // 60:02d}:{e % 60:02d} INFO epoch={e} loss={2.2 * math.exp(-e / 12):.4f}\n" for e in range(50)), "train.log")
        c.log_text(
            run_id,
            "<!doctype html><html><head><title>Training report</title></head><body><h1>Training report</h1>"
            "<p>Best val accuracy: <b>0.962</b></p><table border=1><tr><th>epoch</th><th>loss</th></tr>"
            + "".join(f"<tr><td>{e}</td><td>{2.2 * math.exp(-e / 12):.3f}</td></tr>" for e in range(0, 50, 10))
            + "</table><script>document.title = 'report (script ran)';</script></body></html>",
            "report.html",
        )
        c.log_table(run_id, {"image": [f"img_{i}.png" for i in range(5)], "label": ["cat", "dog", "ship", "frog", "car"], "score": [0.91, 0.85, 0.77, 0.66, 0.95]}, "eval_table.json")
        header = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (16, 16), }"
        header = header + b" " * (127 - len(header)) + b"\n"
        c.log_bytes(run_id, header + bytes(self.rng.getrandbits(8) for _ in range(16 * 16 * 4)), "embeddings.npy")
        mlmodel: dict[str, object] = {"artifact_path": "model", "flavors": {"python_function": {"loader_module": "mlflow.pytorch", "python_version": "3.11.7", "env": {"virtualenv": "python_env.yaml"}}, "pytorch": {"pytorch_version": "2.5.1", "model_data": "data"}},
                   "mlflow_version": "3.17.2", "model_uuid": uuid.UUID(int=self.rng.getrandbits(128)).hex, "run_id": run_id, "utc_time_created": "2026-11-21 10:50:00.000000",
                   "signature": {"inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 32, 32]}}]', "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]'}}  # fmt: skip
        c.log_bytes(run_id, dump_yaml(mlmodel), "model/MLmodel")
        c.log_text(run_id, "python: 3.11.7\nbuild_dependencies:\n- pip==24.0\ndependencies:\n- -r requirements.txt\n", "model/python_env.yaml")
        c.log_text(run_id, "mlflow==3.17.2\ntorch==2.5.1\ntorchvision==0.20.1\n", "model/requirements.txt")
        c.log_bytes(run_id, bytes(self.rng.getrandbits(8) for _ in range(2048)), "model/data/model.pth")
        self.logged_model_id = self.logged_model(experiment_id, run_id, start, mlmodel)

    def logged_model(self, experiment_id: str, run_id: str, start: int, mlmodel: dict[str, object]) -> str:
        """An MLflow 3 LoggedModel under <exp>/models/m-<hex>/, linked from the run's outputs/."""
        model_id = f"m-{uuid.UUID(int=self.rng.getrandbits(128)).hex}"
        exp_dir = self.client.writer.experiment_dir(experiment_id)
        model_dir = exp_dir / "models" / model_id
        meta = {
            "artifact_location": f"{exp_dir.resolve().as_uri()}/models/{model_id}/artifacts", "creation_timestamp": start + 60_000,
            "experiment_id": experiment_id, "last_updated_timestamp": start + 65_000, "lifecycle_stage": "active", "model_id": model_id,
            "model_type": None, "name": "cifar-classifier", "source_run_id": run_id, "status": 2, "status_message": None,
        }  # fmt: skip
        for sub in ("params", "metrics", "tags"):
            (model_dir / sub).mkdir(parents=True, exist_ok=True)
        atomic_write(model_dir / "artifacts" / "MLmodel", dump_yaml({**mlmodel, "model_id": model_id, "artifact_path": f"{exp_dir.resolve().as_uri()}/models/{model_id}/artifacts"}))
        atomic_write(model_dir / "artifacts" / "requirements.txt", b"mlflow==3.17.2\ntorch==2.5.1\n")
        atomic_write(model_dir / "artifacts" / "python_env.yaml", b"python: 3.11.7\ndependencies:\n- -r requirements.txt\n")
        atomic_write(model_dir / "params" / "lr", b"0.1")
        atomic_write(model_dir / "tags" / "mlflow.user", b"ada")
        atomic_write(model_dir / "metrics" / "val_accuracy", f"{start + 64_000} 0.962 49 {run_id}\n".encode())
        atomic_write(model_dir / "meta.yaml", dump_yaml(meta))
        link = {"destination_id": model_id, "destination_type": "MODEL_OUTPUT", "source_id": model_id, "source_type": "RUN_OUTPUT", "step": 49, "tags": {}}
        atomic_write(self.client.writer.run_dir(run_id) / "outputs" / model_id / "meta.yaml", dump_yaml(link))
        return model_id

    def sweep(self) -> None:
        c = self.client
        exp = c.create_experiment("hyperparameter-sweep", tags={"mlflow.note.content": "Optuna sweeps over **lr** and **dropout**; one parent run per sweep."})
        base = self.now - 3 * DAY_MS
        for s, model in enumerate(("mlp", "cnn", "gru")):
            start = base + s * 4 * 3600_000
            parent = self.run(exp, f"sweep-{model}", start, self.tags("sweep.py", **{"mlflow.note.content": f"Sweep of `{model}`: 8 trials."}))
            c.log_batch(parent, params={"model": model, "n_trials": 8, "sampler": "tpe"})
            best = 0.0
            for t in range(8):
                lr, dropout = 10 ** self.rng.uniform(-4, -1), round(self.rng.uniform(0, 0.5), 2)
                t_start = start + t * 20 * 60_000
                child = self.run(exp, f"{model}-trial-{t}", t_start, self.tags("sweep.py", **{"mlflow.parentRunId": parent}))
                c.log_batch(child, params={"lr": f"{lr:.5f}", "dropout": dropout, "model": model, "trial": t})
                end = self.curves(child, 20, lr, t_start)
                score = max(0.0, min(1.0, 0.9 - abs(math.log10(lr) + 2.5) * 0.08 - dropout * 0.1 + self.rng.gauss(0, 0.01)))
                c.log_metric(child, "score", score, timestamp=end, step=0)
                best = max(best, score)
                self.finish(child, end, "KILLED" if (s, t) == (2, 7) else "FINISHED")
            c.log_metric(parent, "best_score", best, timestamp=start + 8 * 20 * 60_000, step=0)
            self.finish(parent, start + 8 * 20 * 60_000 + 1000)

    def tabular(self) -> None:
        c = self.client
        exp = c.create_experiment("churn-prediction", tags={"team": "growth"})
        base = self.now - DAY_MS
        for i, (algo, depth) in enumerate((("xgboost", 4), ("xgboost", 6), ("xgboost", 8), ("random_forest", 12), ("logistic_regression", 0), ("lightgbm", 6))):
            start = base + i * 30 * 60_000
            run_id = self.run(exp, None if i % 2 else f"{algo}-d{depth}", start, self.tags("churn.ipynb"))
            c.log_batch(run_id, params={"algorithm": algo, "max_depth": depth, "n_estimators": 200 if depth else 0, "features": "v3"})
            auc = 0.78 + 0.02 * min(depth, 6) / 2 + self.rng.gauss(0, 0.01)
            metrics = [("auc", auc, start + 60_000, 0), ("f1", auc - 0.12, start + 60_000, 0), ("precision", auc - 0.08, start + 60_000, 0), ("recall", auc - 0.15, start + 60_000, 0)]
            metrics += [("train_auc", 0.7 + 0.25 * (1 - math.exp(-k / 40)), start + k * 500, k) for k in range(200)]
            c.log_batch(run_id, metrics=metrics)
            c.log_text(run_id, "feature,importance\n" + "".join(f"f{k},{self.rng.random():.3f}\n" for k in range(12)), "feature_importance.csv")
            if i in (0, 1, 5):
                self.model_folder(run_id, SKLEARN_FLAVOR, CHURN_SIGNATURE, CHURN_EXAMPLE)
                self.churn_runs.append(run_id)
            self.finish(run_id, start + 120_000)
            if i == 4:
                c.delete_run(run_id)

    # --------------------------------------------------------------- registry

    def model_folder(self, run_id: str, flavor: dict[str, object], signature: dict[str, str], example: str | None = None) -> None:
        """A run's model/ folder as an MLflow flavor writes it: MLmodel (signature, input example), env, weights."""
        mlmodel: dict[str, object] = {"artifact_path": "model", "flavors": flavor, "mlflow_version": "3.17.2",
                                      "model_uuid": uuid.UUID(int=self.rng.getrandbits(128)).hex, "run_id": run_id,
                                      "utc_time_created": "2026-11-30 09:15:00.000000", "signature": signature}  # fmt: skip
        if example is not None:
            mlmodel["saved_input_example_info"] = {"artifact_path": "input_example.json", "type": "dataframe", "pandas_orient": "split"}
            self.client.log_text(run_id, example, "model/input_example.json")
        self.client.log_bytes(run_id, dump_yaml(mlmodel), "model/MLmodel")
        self.client.log_text(run_id, "python: 3.11.7\nbuild_dependencies:\n- pip==24.0\ndependencies:\n- -r requirements.txt\n", "model/python_env.yaml")
        self.client.log_text(run_id, "mlflow==3.17.2\nscikit-learn==1.5.2\n", "model/requirements.txt")
        self.client.log_bytes(run_id, bytes(self.rng.getrandbits(8) for _ in range(1024)), "model/model.pkl")

    def registry(self) -> None:
        """Two registered models with several versions, aliases, legacy stages and tags, and one still empty."""
        c = self.client
        c.create_registered_model("cifar-classifier", tags={"team": "vision", "task": "image-classification"},
                                  description="# CIFAR-10 classifier\n\nResNet-50 and ViT-small candidates from the "
                                              "**image-classification** experiment.\n\n- `@champion`: serving\n- `@challenger`: shadow traffic")  # fmt: skip
        for run_id in self.image_runs[::3]:  # the runs with a model/ folder
            c.register_model(f"runs:/{run_id}/model", "cifar-classifier", tags={"framework": "pytorch"})
        logged = c.register_model(f"models:/{self.logged_model_id}", "cifar-classifier")  # also tags the logged model
        c.update_model_version("cifar-classifier", logged.version, "The MLflow 3 logged model of the first run.")
        c.transition_model_version_stage("cifar-classifier", 1, "Archived")
        c.transition_model_version_stage("cifar-classifier", 3, "Production")
        c.transition_model_version_stage("cifar-classifier", 4, "Staging")
        c.set_registered_model_alias("cifar-classifier", "champion", 3)
        c.set_registered_model_alias("cifar-classifier", "challenger", logged.version)
        c.update_model_version("cifar-classifier", 3, "Best **val/accuracy** so far; promoted after a week of shadow traffic.")
        c.set_model_version_tag("cifar-classifier", 3, "validated", "yes")
        c.create_registered_model("churn-model", tags={"team": "growth"}, description="Predicts churn in the next 30 days.")
        for run_id in self.churn_runs:
            c.register_model(f"runs:/{run_id}/model", "churn-model")
        c.set_registered_model_alias("churn-model", "champion", 2)
        c.set_registered_model_alias("churn-model", "candidate", 3)
        c.set_model_version_tag("churn-model", 2, "auc", "0.84")
        c.create_registered_model("ticket-router", tags={"team": "support"}, description="Not trained yet.")


TORCH_FLAVOR: dict[str, object] = {"python_function": {"loader_module": "mlflow.pytorch", "python_version": "3.11.7", "env": {"virtualenv": "python_env.yaml"}},
                                   "pytorch": {"pytorch_version": "2.5.1", "model_data": "data"}}  # fmt: skip
TENSOR_SIGNATURE = {"inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 32, 32]}}]',
                    "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10]}}]'}  # fmt: skip
SKLEARN_FLAVOR: dict[str, object] = {"python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl", "python_version": "3.11.7",
                                                         "env": {"virtualenv": "python_env.yaml"}},
                                     "sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle", "sklearn_version": "1.5.2"}}  # fmt: skip
CHURN_SIGNATURE = {"inputs": '[{"type": "long", "name": "tenure_months", "required": true}, {"type": "double", "name": "monthly_spend", '
                             '"required": true}, {"type": "string", "name": "plan", "required": true}, {"type": "boolean", "name": "support_tickets_30d", "required": false}]',
                   "outputs": '[{"type": "double", "name": "churn_probability", "required": true}]'}  # fmt: skip
CHURN_EXAMPLE = '{"columns": ["tenure_months", "monthly_spend", "plan", "support_tickets_30d"], "data": [[14, 59.9, "pro", false], [3, 19.0, "basic", true]]}'


def write_demo(root: str | Path, seed: int = 7) -> DemoSummary:
    """Write the demo tree into root (created if missing); returns counts and the time it took."""
    started = time.perf_counter()
    demo = _Demo(Path(root), seed)
    demo.image_classification()
    demo.sweep()
    demo.tabular()
    demo.registry()
    return DemoSummary(Path(root), 3, demo.runs, time.perf_counter() - started)

"""Write a realistic synthetic mlruns tree, file for file as MLflow 3.17.2's FileStore writes it.

Benchmarks need trees of 1,000-10,000+ runs; logging them through MLflow's
client would take hours, so this writes the files directly: the same folder
layout, the same meta.yaml (dumped with the same YAML dumper and options as
MLflow's ``write_yaml``), params and tags without trailing newlines, metric
lines ``<ts> <str(value)> <step>``, nested keys as subfolders, dataset inputs
under ``inputs/<md5>``. Content looks like real training: sweeps with nested
child runs, mixed statuses (some RUNNING, FAILED runs that diverged to NaN),
loss curves that depend on the hyper-parameters. Same seed, same tree.

    python -m bench.generate OUT --runs 10000 [--experiments 5] [--steps 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlscope.names import generate_run_name

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # what MLflow's write_yaml uses

T0 = 1_780_000_000_000  # epoch ms of the first run: fixed, so a seed always gives the same tree
SPAN_MS = 90 * 24 * 3600 * 1000  # runs are spread over ~90 days
STATUS = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
# Share of runs by final status; RUNNING includes crashed runs never terminated, as in real trees.
STATUS_WEIGHTS = {"FINISHED": 0.86, "FAILED": 0.07, "KILLED": 0.03, "RUNNING": 0.03, "SCHEDULED": 0.01}
DELETED_SHARE = 0.02
SWEEP_SHARE = 0.06  # chance that a group is a sweep (parent + 3-8 nested children)
DATASET_SHARE = 0.5

EXPERIMENT_NAMES = (
    "resnet50-imagenet", "bert-base-finetune", "gpt2-small-pretrain", "xgboost-churn", "unet-segmentation",
    "whisper-asr", "vit-cifar10", "lstm-forecast", "t5-summarize", "yolo-detection",
)
MODELS = (
    ("resnet18", "resnet34", "resnet50"), ("bert-base", "bert-large", "distilbert"), ("gpt2", "gpt2-medium"),
    ("xgb-hist", "xgb-approx"), ("unet-s", "unet-m", "unet-l"), ("whisper-tiny", "whisper-base"),
    ("vit-s16", "vit-b16"), ("lstm-2x256", "lstm-3x512"), ("t5-small", "t5-base"), ("yolov8n", "yolov8s", "yolov8m"),
)
USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
SOURCES = ("train.py", "scripts/train.py", "sweep.py", "notebooks/explore.ipynb")
PARAM_CHOICES: dict[str, tuple[Any, ...]] = {
    "lr": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2),
    "batch_size": (16, 32, 64, 128, 256),
    "optimizer": ("adam", "adamw", "sgd", "rmsprop"),
    "dropout": (0.0, 0.1, 0.2, 0.3, 0.5),
    "weight_decay": (0.0, 1e-5, 1e-4, 0.01),
    "warmup_steps": (0, 100, 500, 1000),
    "scheduler": ("cosine", "linear", "constant", "step"),
    "data/augmentation": ("none", "light", "heavy"),
}
STEP_METRICS = ("loss", "accuracy", "train/loss", "train/grad_norm")
VAL_METRICS = ("val_loss", "val_accuracy")
SYSTEM_METRICS = ("system/cpu_utilization_percentage", "system/gpu_utilization_percentage")
VAL_EVERY = 5


@dataclass
class RunPlan:
    """Everything about one run that is decided before its files are written."""

    run_id: str
    name: str
    start: int
    status: str
    user: str
    params: dict[str, str]
    tags: dict[str, str]
    steps: int
    step_ms: int
    quality: float  # 0 (bad) .. 1 (good): shapes the curves
    deleted: bool = False
    diverged: bool = False
    children: list[RunPlan] = field(default_factory=list)


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML text exactly as MLflow's ``write_yaml`` produces it."""
    return yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=_Dumper)


def experiment_meta(experiment_id: str, name: str, artifact_location: str, created: int) -> dict[str, Any]:
    """An experiment's meta.yaml fields (``dict(Experiment)`` minus tags, MLflow 3.x)."""
    return {
        "artifact_location": artifact_location,
        "creation_time": created,
        "effective_trace_archival_retention": None,
        "experiment_id": experiment_id,
        "last_update_time": created,
        "lifecycle_stage": "active",
        "name": name,
        "trace_location": None,
        "workspace": "default",
    }


def run_meta(
    run_id: str, experiment_id: str, artifact_uri: str, name: str, user: str, status: str,
    start: int, end: int | None, deleted_time: int | None = None,
) -> dict[str, Any]:
    """A run's meta.yaml fields (FileStore's ``_make_persisted_run_info_dict``)."""
    meta: dict[str, Any] = {
        "artifact_uri": artifact_uri,
        "end_time": end,
        "entry_point_name": "",
        "experiment_id": experiment_id,
        "lifecycle_stage": "deleted" if deleted_time is not None else "active",
        "run_id": run_id,
        "run_name": name,
        "source_name": "",
        "source_type": 4,
        "source_version": "",
        "start_time": start,
        "status": STATUS[status],
        "tags": [],
        "user_id": user,
    }
    if deleted_time is not None:
        meta["deleted_time"] = deleted_time
    return meta


def experiment_id_from(rng: random.Random) -> str:
    """An 18-digit id like MLflow's ``_generate_unique_integer_id`` makes (never a leading zero)."""
    return str(rng.randrange(10**17, 10**18))


def run_id_from(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def fmt(value: Any) -> str:
    """A param value as MLflow stores it: ``str(value)``."""
    return str(value)


class TreeWriter:
    """Writes one tree; all randomness comes from one seeded generator."""

    def __init__(self, root: Path, runs: int, experiments: int, steps: int, seed: int) -> None:
        self.root = root.resolve()
        self.uri = self.root.as_uri()
        self.total, self.n_experiments, self.steps = runs, experiments, steps
        self.rng = random.Random(seed)
        self.files = 0

    # ------------------------------------------------------------ files

    def write(self, path: str, text: str) -> None:
        """Create a file with text (raw os calls: a third faster than open() for ~300k small files)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        self.files += 1

    def write_key_values(self, folder: str, values: dict[str, str]) -> None:
        """One file per key, '/' in keys as subfolders, no trailing newline (FileStore's ``write_to``)."""
        os.makedirs(folder, exist_ok=True)
        for key, value in values.items():
            path = os.path.join(folder, key)
            if "/" in key:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            self.write(path, value)

    # ------------------------------------------------------------ plan

    def plan_run(self, start: int, params: dict[str, str], tags: dict[str, str], user: str) -> RunPlan:
        rng = self.rng
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        steps = rng.randint(max(2, self.steps // 2), max(2, self.steps * 2))
        lr = float(params["lr"])
        # Good runs: mid learning rate, adam-ish optimizer, some dropout; plus luck.
        quality = 1.0 - abs(math.log10(lr) + 3.0) / 2.0 + (0.1 if params["optimizer"] in ("adam", "adamw") else 0.0)
        quality = min(1.0, max(0.0, 0.55 * quality + 0.1 * float(params["dropout"]) + rng.gauss(0.2, 0.12)))
        if status in ("FAILED", "KILLED"):
            steps = max(1, int(steps * rng.uniform(0.05, 0.8)))
        elif status == "RUNNING":
            steps = max(1, int(steps * rng.uniform(0.1, 0.9)))
        elif status == "SCHEDULED":
            steps = 0
        name = generate_run_name(rng)
        run_tags = {
            "mlflow.runName": name,
            "mlflow.user": user,
            "mlflow.source.name": rng.choice(SOURCES),
            "mlflow.source.type": "LOCAL",
            **tags,
        }
        if rng.random() < 0.2:
            run_tags["stage"] = rng.choice(("dev", "staging", "prod"))
        if rng.random() < 0.02:
            run_tags["mlflow.note.content"] = f"Baseline for **{params['model']}**; compare with the previous sweep."
        return RunPlan(
            run_id=run_id_from(rng), name=name, start=start, status=status, user=user, params=params,
            tags=run_tags, steps=steps, step_ms=rng.randint(200, 3000), quality=quality,
            deleted=rng.random() < DELETED_SHARE, diverged=status == "FAILED" and rng.random() < 0.4,
        )

    def draw_params(self, models: tuple[str, ...]) -> dict[str, str]:
        rng = self.rng
        params = {key: fmt(rng.choice(choices)) for key, choices in PARAM_CHOICES.items()}
        params["model"] = rng.choice(models)
        params["epochs"] = fmt(rng.choice((5, 10, 20, 50)))
        params["seed"] = fmt(rng.randrange(10_000))
        return params

    def plan_experiment(self, count: int, models: tuple[str, ...], commits: list[str], window: tuple[int, int]) -> list[RunPlan]:
        """Groups of runs in time order: mostly single runs, sometimes a sweep parent with nested children."""
        rng = self.rng
        plans: list[RunPlan] = []
        left = count
        begin, end = window
        gap = max(1, (end - begin) // max(1, count))
        clock = begin
        while left > 0:
            user = rng.choice(USERS)
            git = {
                "mlflow.source.git.commit": rng.choice(commits),
                "mlflow.source.git.branch": rng.choice(("main", "main", "dev", f"{user}/experiments")),
                "mlflow.source.git.repoURL": "git@github.com:acme/ml-training.git",
            }
            clock += rng.randint(gap // 2, gap * 3 // 2)
            if left >= 4 and rng.random() < SWEEP_SHARE:
                parent = self.plan_run(clock, self.draw_params(models), git, user)
                for _ in range(min(left - 1, rng.randint(3, 8))):
                    clock += rng.randint(1000, 60_000)
                    child_params = dict(parent.params, lr=fmt(rng.choice(PARAM_CHOICES["lr"])),
                                        batch_size=fmt(rng.choice(PARAM_CHOICES["batch_size"])), seed=fmt(rng.randrange(10_000)))
                    child = self.plan_run(clock, child_params, {**git, "mlflow.parentRunId": parent.run_id}, user)
                    parent.children.append(child)
                plans.append(parent)
                plans.extend(parent.children)
                left -= 1 + len(parent.children)
            else:
                plans.append(self.plan_run(clock, self.draw_params(models), git, user))
                left -= 1
        return plans

    # ------------------------------------------------------------ metrics

    def metric_files(self, plan: RunPlan) -> dict[str, str]:
        """Histories of every metric key: one line per point, ``<ts> <value> <step>``."""
        rng = self.rng
        q, n = plan.quality, plan.steps
        if n == 0:
            return {}
        floor = 0.05 + 0.6 * (1.0 - q)
        tau = max(3.0, n / rng.uniform(3.0, 6.0))
        ts = [plan.start + (s + 1) * plan.step_ms + rng.randrange(50) for s in range(n)]
        noise = [rng.gauss(0.0, 0.03) for _ in range(n)]
        loss = [floor + (2.3 - floor) * math.exp(-s / tau) + noise[s] * (1.0 + floor) for s in range(n)]
        if plan.diverged and n >= 2:
            blow = rng.randrange(max(1, n // 2), n)
            # Diverged: the loss explodes for up to 3 steps, then is NaN until the run died.
            tail = n - blow
            loss = loss[:blow] + [loss[blow - 1] * 10 ** (k + 1) if k < min(3, tail - 1) else math.nan for k in range(tail)]
        ceiling = 0.55 + 0.44 * q
        accuracy = [min(0.9999, ceiling * (1.0 - math.exp(-s / tau)) + noise[s] / 3) for s in range(n)]
        out: dict[str, list[str]] = {}
        out["loss"] = [f"{ts[s]} {loss[s]!r} {s}\n" for s in range(n)]
        out["accuracy"] = [f"{ts[s]} {accuracy[s]!r} {s}\n" for s in range(n)]
        out["train/loss"] = [f"{ts[s]} {loss[s] * 0.97 + rng.gauss(0.0, 0.02)!r} {s}\n" for s in range(n)]
        out["train/grad_norm"] = [f"{ts[s]} {abs(rng.gauss(1.0 / (1 + s / tau), 0.2))!r} {s}\n" for s in range(n)]
        val_steps = [s for s in range(VAL_EVERY - 1, n, VAL_EVERY)] or [n - 1]
        out["val_loss"] = [f"{ts[s] + 7} {loss[s] * 1.08 + abs(rng.gauss(0.0, 0.02))!r} {s}\n" for s in val_steps]
        out["val_accuracy"] = [f"{ts[s] + 7} {max(0.0, accuracy[s] - abs(rng.gauss(0.02, 0.01)))!r} {s}\n" for s in val_steps]
        # System metrics: sampled every ~10 s by MLflow's monitor, steps 0..k.
        samples = max(1, (n * plan.step_ms) // 10_000)
        cpu_base, gpu_base = rng.uniform(20, 90), rng.uniform(40, 99)
        out["system/cpu_utilization_percentage"] = [
            f"{plan.start + 10_000 * (k + 1)} {min(100.0, max(0.0, rng.gauss(cpu_base, 5.0)))!r} {k}\n" for k in range(samples)
        ]
        out["system/gpu_utilization_percentage"] = [
            f"{plan.start + 10_000 * (k + 1)} {min(100.0, max(0.0, rng.gauss(gpu_base, 3.0)))!r} {k}\n" for k in range(samples)
        ]
        return {key: "".join(lines) for key, lines in out.items()}

    # ------------------------------------------------------------ writing

    def write_experiment(self, experiment_id: str, name: str, created: int) -> str:
        exp_dir = os.path.join(self.root, experiment_id)
        os.makedirs(exp_dir, exist_ok=True)
        self.write(os.path.join(exp_dir, "meta.yaml"), dump_yaml(experiment_meta(experiment_id, name, f"{self.uri}/{experiment_id}", created)))
        return exp_dir

    def write_dataset(self, exp_dir: str, name: str, digest: str) -> str:
        """An experiment-level dataset record; returns its id (md5 of name + digest)."""
        dataset_id = hashlib.md5((name + digest).encode()).hexdigest()
        folder = os.path.join(exp_dir, "datasets", dataset_id)
        os.makedirs(folder, exist_ok=True)
        record = {"digest": digest, "name": name, "profile": '{"num_rows": 50000, "num_elements": 1600000}',
                  "schema": None, "source": f'{{"uri": "s3://acme-data/{name}.parquet"}}', "source_type": "s3"}
        self.write(os.path.join(folder, "meta.yaml"), dump_yaml(record))
        return dataset_id

    def write_run(self, exp_dir: str, experiment_id: str, plan: RunPlan, dataset_id: str | None) -> None:
        run_dir = os.path.join(exp_dir, plan.run_id)
        for sub in ("metrics", "params", "tags", "artifacts"):
            os.makedirs(os.path.join(run_dir, sub))
        metrics = self.metric_files(plan)
        last = plan.start + (plan.steps + 1) * plan.step_ms
        end = None if plan.status in ("RUNNING", "SCHEDULED") else last + self.rng.randrange(100, 5000)
        deleted_time = (end or last) + self.rng.randrange(3600_000, 7 * 86400_000) if plan.deleted else None
        meta = run_meta(plan.run_id, experiment_id, f"{self.uri}/{experiment_id}/{plan.run_id}/artifacts",
                        plan.name, plan.user, plan.status, plan.start, end, deleted_time)
        self.write(os.path.join(run_dir, "meta.yaml"), dump_yaml(meta))
        self.write_key_values(os.path.join(run_dir, "params"), plan.params)
        self.write_key_values(os.path.join(run_dir, "tags"), plan.tags)
        self.write_key_values(os.path.join(run_dir, "metrics"), metrics)
        if dataset_id is not None:
            link_id = hashlib.md5((dataset_id + plan.run_id).encode()).hexdigest()
            link_dir = os.path.join(run_dir, "inputs", link_id)
            os.makedirs(link_dir)
            link = {"destination_id": dataset_id, "destination_type": "RUN", "source_id": dataset_id,
                    "source_type": "DATASET", "tags": {"mlflow.data.context": "training"}}
            self.write(os.path.join(link_dir, "meta.yaml"), dump_yaml(link))

    def generate(self) -> dict[str, Any]:
        """Write the whole tree; returns a summary (experiment ids and names, run and file counts)."""
        rng = self.rng
        self.root.mkdir(parents=True, exist_ok=True)
        os.makedirs(os.path.join(self.root, ".trash"), exist_ok=True)
        self.write_experiment("0", "Default", T0 - 86400_000)
        n = max(1, self.n_experiments)
        weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
        counts = [int(self.total * w / sum(weights)) for w in weights]
        counts[0] += self.total - sum(counts)
        summary: dict[str, Any] = {"experiments": {}, "runs": 0}
        for i, count in enumerate(counts):
            experiment_id = experiment_id_from(rng)
            name = EXPERIMENT_NAMES[i % len(EXPERIMENT_NAMES)] + (f"-{i // len(EXPERIMENT_NAMES) + 1}" if i >= len(EXPERIMENT_NAMES) else "")
            offset = rng.randrange(SPAN_MS // 4)
            exp_dir = self.write_experiment(experiment_id, name, T0 + offset - 3600_000)
            self.write_key_values(os.path.join(exp_dir, "tags"), {"mlflow.note.content": f"Runs of **{name}**.", "team": rng.choice(("vision", "nlp", "tabular"))})
            datasets = [self.write_dataset(exp_dir, f"{name}-{split}", f"{rng.getrandbits(32):08x}") for split in ("v1", "v2")]
            commits = [f"{rng.getrandbits(160):040x}" for _ in range(6)]
            plans = self.plan_experiment(count, MODELS[i % len(MODELS)], commits, (T0 + offset, T0 + SPAN_MS))
            for plan in plans:
                dataset = rng.choice(datasets) if rng.random() < DATASET_SHARE else None
                self.write_run(exp_dir, experiment_id, plan, dataset)
            summary["experiments"][experiment_id] = name
            summary["runs"] += len(plans)
        summary["files"] = self.files
        return summary


def generate(root: Path, runs: int, experiments: int = 5, steps: int = 100, seed: int = 0) -> dict[str, Any]:
    """Write a tree of `runs` runs under root (which should not exist yet or be empty)."""
    return TreeWriter(root, runs, experiments, steps, seed).generate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to create (the mlruns root)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--experiments", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100, help="typical steps per run (each run draws steps/2 .. 2*steps)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.experiments < 1 or args.steps < 1:
        parser.error("--runs, --experiments and --steps must be at least 1")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    started = time.perf_counter()
    summary = generate(args.out, args.runs, args.experiments, args.steps, args.seed)
    print(f"wrote {summary['runs']} runs in {len(summary['experiments'])} experiments ({summary['files']} files) "
          f"to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

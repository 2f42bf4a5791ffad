"""A small sweep for the experiment chart view: 12 runs over lr x seed, histories, a param that is noise.

Written directly in MLflow's FileStore layout (tests/ui/synthetic.py's writer), so
tests can recompute every statistic from the same numbers the files hold:
``histories[run_id][key]`` is the list of (step, timestamp, value) written.

- params: ``lr`` in {0.1, 0.01, 0.001} (it determines ``final_score``), ``seed`` 0..3,
  ``noise`` (a random number: it determines nothing), ``optimizer`` adam/sgd alternating.
- tags: ``model`` "small" for seeds 0-1, "large" for 2-3.
- metrics: ``train/loss`` every step 0..59 (run "spiky" has one spike of 50.0 at step 31), ``train/acc``,
  ``val/loss`` every 5 steps, ``system/cpu`` 10 points 10 s apart, ``final_score`` one point,
  except the run "no-score" (lr 0.01, seed 3) which has no ``final_score``.
- one NaN in ``train/loss`` of the lr 0.001 seed 0 run at step 7 (left out of statistics).
"""

from __future__ import annotations

import math
import random
import uuid
from pathlib import Path
from typing import Any

from tests.ui.synthetic import write_experiment, write_run

T0 = 1_790_000_000_000
LRS = ("0.1", "0.01", "0.001")
SEEDS = 4
STEPS = 60
SPIKE = (31, 50.0)


def _loss(lr: float, seed: int, step: int) -> float:
    return round((1.0 + 5 * lr) * math.exp(-step / (20 + 100 * lr)) + 0.03 * seed + 0.001 * (step % 3), 6)


def _write_metric(run_dir: Path, key: str, points: list[tuple[int, int, float]]) -> None:
    path = run_dir / "metrics" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{ts} {value} {step}\n" for step, ts, value in points), encoding="utf-8")


def write_chart_tree(root: Path, experiment_id: str = "1") -> dict[str, Any]:
    """Write the sweep; returns {"experiment", "run_ids" (newest first), "runs": {name: id}, "params", "tags", "histories"}."""
    rng = random.Random(11)
    root.mkdir(parents=True, exist_ok=True)
    exp_dir = write_experiment(root, experiment_id, "sweep")
    runs: dict[str, str] = {}
    params_of: dict[str, dict[str, str]] = {}
    tags_of: dict[str, dict[str, str]] = {}
    histories: dict[str, dict[str, list[tuple[int, int, float]]]] = {}
    order: list[tuple[int, str]] = []
    index = 0
    for lr_text in LRS:
        lr = float(lr_text)
        for seed in range(SEEDS):
            run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
            name = f"lr{lr_text}-s{seed}"
            if lr_text == "0.1" and seed == 1:
                name = "spiky"
            if lr_text == "0.01" and seed == 3:
                name = "no-score"
            start = T0 + index * 600_000
            params = {"lr": lr_text, "seed": str(seed), "noise": repr(round(rng.random(), 6)),
                      "optimizer": "adam" if index % 2 == 0 else "sgd"}
            tags = {"model": "small" if seed < 2 else "large"}
            write_run(exp_dir, run_id, name, start, 3, params, {}, tags)
            run_dir = exp_dir / run_id
            train = []
            for step in range(STEPS):
                value = _loss(lr, seed, step)
                if name == "spiky" and step == SPIKE[0]:
                    value = SPIKE[1]
                if lr_text == "0.001" and seed == 0 and step == 7:
                    value = math.nan
                train.append((step, start + 1000 * step + seed * 37, value))
            series = {
                "train/loss": train,
                "train/acc": [(s, ts, round(1 - min(v, 1.0) / 2, 6)) for s, ts, v in train if v == v],
                "val/loss": [(s, start + 1000 * s + 500, round(_loss(lr, seed, s) + 0.05, 6)) for s in range(0, STEPS, 5)],
                "system/cpu": [(0, start + 10_000 * i, round(40 + 5 * seed + i, 3)) for i in range(10)],
            }
            if name != "no-score":
                # lr alone decides the score (up to a tiny seed-dependent wobble); noise decides nothing.
                series["final_score"] = [(STEPS, start + 60_000, round(-math.log10(lr) + 0.001 * seed, 6))]
            for key, points in series.items():
                _write_metric(run_dir, key, points)
            runs[name] = run_id
            params_of[run_id] = params
            tags_of[run_id] = tags
            histories[run_id] = series
            order.append((start, run_id))
            index += 1
    run_ids = [rid for _, rid in sorted(order, key=lambda t: -t[0])]
    return {"experiment": experiment_id, "run_ids": run_ids, "runs": runs, "params": params_of, "tags": tags_of,
            "histories": histories}


def values_at(histories: dict[str, Any], run_ids: list[str], key: str, step: int) -> list[float]:
    """The finite values the runs logged for ``key`` at ``step``."""
    out = []
    for run_id in run_ids:
        for s, _, value in histories[run_id].get(key, []):
            if s == step and math.isfinite(value):
                out.append(value)
    return out

"""Param importance: the param that determines a metric ranks first, noise stays near 0, missing runs are counted."""

from __future__ import annotations

import math
import random
from pathlib import Path

from mlscope.analysis import param_importance
from mlscope.analysis.importance import epsilon_squared, pearson
from mlscope.store.model import Metric, Run, RunInfo


def run(i: int, params: dict[str, str], score: float | None) -> Run:
    info = RunInfo(f"r{i}", "1", f"r{i}", "u", "FINISHED", 0, 1, "active", "")
    metrics = {} if score is None else {"score": Metric("score", score, 0, 0)}
    return Run(info, params, {}, metrics, path=Path(f"r{i}"))


def sweep(n: int = 40, seed: int = 3) -> list[Run]:
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        lr = rng.choice([0.1, 0.01, 0.001])
        runs.append(run(i, {"lr": str(lr), "noise": str(rng.random()), "opt": rng.choice(["adam", "sgd"])},
                        -math.log10(lr) + rng.gauss(0, 0.05)))
    return runs


def test_the_param_that_determines_the_metric_ranks_first() -> None:
    result = param_importance(sweep(), "score")
    assert result.params[0].key == "lr"
    # On ranks, three groups that never overlap explain all but the ranks' spread inside each group.
    assert result.params[0].importance > 0.75


def test_a_noise_param_explains_almost_nothing() -> None:
    ranked = {p.key: p for p in param_importance(sweep(), "score").params}
    assert ranked["noise"].importance < 0.1
    assert ranked["opt"].importance < 0.1


def test_a_noise_param_with_a_new_value_in_every_run_is_not_rewarded_for_it() -> None:
    runs = [run(i, {"id": str(i)}, random.Random(i).random()) for i in range(30)]
    assert param_importance(runs, "score").params[0].importance == 0.0


def test_numeric_params_get_a_correlation_with_its_sign_and_categorical_ones_none() -> None:
    ranked = {p.key: p for p in param_importance(sweep(), "score").params}
    assert ranked["lr"].kind == "numeric" and ranked["lr"].correlation is not None and ranked["lr"].correlation < -0.8
    assert ranked["opt"].kind == "categorical" and ranked["opt"].correlation is None


def test_a_categorical_param_that_determines_the_metric_ranks_first() -> None:
    runs = [run(i, {"model": "big" if i % 2 else "small", "seed": str(i)}, 1.0 + (i % 2) + 0.01 * (i % 5)) for i in range(20)]
    assert param_importance(runs, "score").params[0].key == "model"


def test_runs_without_the_metric_are_left_out_and_counted() -> None:
    runs = [*sweep(10), run(99, {"lr": "0.1"}, None), run(100, {"lr": "0.1"}, math.nan)]
    result = param_importance(runs, "score")
    assert (result.used, result.missing) == (10, 2)


def test_too_few_runs_with_the_metric_say_so_instead_of_ranking() -> None:
    result = param_importance(sweep(2), "score")
    assert result.params == [] and result.note is not None and "at least 3" in result.note


def test_a_missing_param_value_is_a_value_of_its_own() -> None:
    runs = [run(i, {"warmup": "100"} if i % 2 else {}, float(i % 2)) for i in range(10)]
    (warmup,) = param_importance(runs, "score").params
    assert warmup.present == 5 and warmup.distinct == 2 and warmup.importance == 1.0


def test_epsilon_squared_is_zero_when_groups_do_not_differ() -> None:
    ys = [1.0, 2.0, 1.0, 2.0]
    assert epsilon_squared(["a", "a", "b", "b"], ys, 1.0) == 0.0


def test_pearson_is_none_without_variance() -> None:
    assert pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None
    assert pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == 1.0


def test_one_diverged_run_does_not_make_its_odd_param_the_most_important() -> None:
    runs = [run(i, {"opt": "adam" if i % 2 else "sgd", "warmup": "no"}, 1.0 + (i % 2) + 0.01 * (i % 7)) for i in range(20)]
    runs.append(run(20, {"opt": "adam", "warmup": "yes"}, 1e12))  # diverged: its loss dwarfs every other
    ranked = param_importance(runs, "score").params
    assert ranked[0].key == "opt"
    assert next(p for p in ranked if p.key == "warmup").importance < 0.1


def test_correlation_is_spearmans_so_a_monotonic_curve_is_plus_or_minus_one() -> None:
    runs = [run(i, {"x": str(i)}, math.exp(i)) for i in range(12)]
    (x,) = param_importance(runs, "score").params
    assert x.correlation == 1.0

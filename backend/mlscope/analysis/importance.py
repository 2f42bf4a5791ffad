"""Which params matter for a metric: variance explained (importance) and rank correlation, per param.

Importance is the share of the spread of the metric across runs that a param
explains on its own, adjusted for how many values it takes (epsilon squared
of a one-way analysis of variance): runs are split by the param's value (a
numeric param with many distinct values into quantile bins), and

    importance = (SS_between - (k - 1) * SS_within / (n - k)) / SS_total,  clamped to [0, 1]

for n runs in k groups. It is computed on the metric's ranks, not its values
(the Kruskal-Wallis form), so a few diverged runs with a loss of 1e6 do not
decide it. The adjustment keeps a noise param, such as a random seed with a
different value in every run, near 0, where the plain ratio would grow with
the number of values. It needs no model fit (no randomness, no optional
dependency) and reads as "this param alone explains x % of how runs rank on
the metric". Correlation is Spearman's rho (Pearson's r of the ranks) between
a numeric param and the metric, None for categorical params. Runs without a
finite value of the metric are left out and counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..store.model import Run

MIN_RUNS = 3
MISSING_VALUE = "\u0000"


@dataclass(frozen=True, slots=True)
class ParamImportance:
    key: str
    kind: Literal["numeric", "categorical"]
    importance: float  # in [0, 1]
    correlation: float | None  # Pearson's r (numeric params with variance), else None
    distinct: int  # distinct values among the runs used (a missing value counts as one)
    present: int  # runs used that have the param


@dataclass(frozen=True, slots=True)
class ImportanceResult:
    metric: str
    used: int  # runs with a finite value of the metric
    missing: int  # runs left out: no finite value of the metric
    params: list[ParamImportance]
    note: str | None = None  # why nothing could be ranked, when so


def param_importance(runs: Sequence[Run], metric: str, params: Iterable[str] | None = None) -> ImportanceResult:
    """Every param of the runs (or those named) ranked by importance for ``metric``, then by |correlation|."""
    used = [run for run in runs if metric in run.metrics and math.isfinite(run.metrics[metric].value)]
    missing = len(runs) - len(used)
    keys = sorted(set(params) if params is not None else {k for run in used for k in run.params})
    note: str | None
    if len(used) < MIN_RUNS:
        note = f"Needs at least {MIN_RUNS} runs with a value of {metric}; {len(used)} of the runs in view have one."
        return ImportanceResult(metric, len(used), missing, [], note)
    ys = ranks([run.metrics[metric].value for run in used])
    mean = math.fsum(ys) / len(ys)
    total = math.fsum((y - mean) ** 2 for y in ys)
    ranked = [_rank_param(key, [run.params.get(key) for run in used], ys, total) for key in keys]
    ranked.sort(key=lambda p: (-p.importance, -abs(p.correlation or 0.0), p.key))
    note = f"{metric} has the same value in every run: no param can explain it." if total == 0 else None
    return ImportanceResult(metric, len(used), missing, ranked, note)


def _rank_param(key: str, values: list[str | None], ys: list[float], total: float) -> ParamImportance:
    numbers = _as_numbers(values)
    present = sum(v is not None for v in values)
    distinct = len({MISSING_VALUE if v is None else v for v in values})
    if numbers is None:
        labels = [MISSING_VALUE if v is None else v for v in values]
        return ParamImportance(key, "categorical", epsilon_squared(labels, ys, total), None, distinct, present)
    labels = _bins(numbers)
    pairs = [(x, y) for x, y in zip(numbers, ys, strict=True) if x is not None]
    correlation = pearson(ranks([x for x, _ in pairs]), ranks([y for _, y in pairs]))
    return ParamImportance(key, "numeric", epsilon_squared(labels, ys, total), correlation, distinct, present)


def _as_numbers(values: list[str | None]) -> list[float | None] | None:
    """The values as finite floats (None where missing), or None when any present value is not a number."""
    out: list[float | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        try:
            number = float(value)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        out.append(number)
    return out if any(v is not None for v in out) else None


def _bins(numbers: list[float | None]) -> list[str]:
    """Group labels for a numeric param: its value when it takes few, else one of ~sqrt(n) quantile bins."""
    present = sorted(x for x in numbers if x is not None)
    bins = max(2, math.isqrt(len(numbers)))
    if len(set(present)) <= bins:
        return [MISSING_VALUE if x is None else repr(x) for x in numbers]
    cuts = [present[(len(present) * i) // bins] for i in range(1, bins)]
    labels = []
    for x in numbers:
        if x is None:
            labels.append(MISSING_VALUE)
        else:
            labels.append(str(sum(x >= cut for cut in cuts)))
    return labels


def epsilon_squared(labels: Sequence[str], ys: Sequence[float], total: float) -> float:
    """Variance of ys explained by the grouping ``labels``, adjusted for the number of groups, in [0, 1]."""
    n = len(ys)
    groups: dict[str, list[float]] = defaultdict(list)
    for label, y in zip(labels, ys, strict=True):
        groups[label].append(y)
    k = len(groups)
    if total <= 0 or k < 2 or n - k < 1:
        return 0.0
    grand = math.fsum(ys) / n
    between = math.fsum(len(g) * (math.fsum(g) / len(g) - grand) ** 2 for g in groups.values())
    within = max(0.0, total - between)
    value = (between - (k - 1) * within / (n - k)) / total
    return min(1.0, max(0.0, value))


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n of the values, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when either side has no variance (or fewer than 3 pairs)."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))

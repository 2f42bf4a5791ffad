"""Grouping runs by params or tags, and statistics of their latest metric values per group.

The experiment page groups "the runs in view" by one or more fields
(``params.lr``, ``tags.model``): runs with equal values form one group, a run
without the field is in the group of "no value" for it. Groups keep the runs'
order (the table's), and are ordered by their values (numbers numerically,
missing values last) so the same grouping always lists groups the same way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..store.model import Run

FieldKind = Literal["params", "tags", "attributes"]
GROUPABLE_ATTRIBUTES = ("status", "user_id", "run_name", "experiment_id")
_PREFIXES: dict[str, FieldKind] = {
    "params": "params", "param": "params", "parameters": "params",
    "tags": "tags", "tag": "tags",
    "attributes": "attributes", "attribute": "attributes", "attr": "attributes",
}


class GroupFieldError(ValueError):
    """A group-by field that cannot be parsed; the message says why."""


@dataclass(frozen=True, slots=True)
class GroupField:
    kind: FieldKind
    key: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.key}"

    def value_of(self, run: Run) -> str | None:
        if self.kind == "params":
            return run.params.get(self.key)
        if self.kind == "tags":
            return run.tags.get(self.key)
        value = getattr(run.info, self.key)
        return None if value is None else str(value)


def parse_group_field(text: str) -> GroupField:
    """``params.lr``, ``tags.model``, ``tags.`mlflow.user``` or ``attributes.status`` (MLflow's key prefixes)."""
    text = text.strip()
    prefix, dot, key = text.partition(".")
    kind = _PREFIXES.get(prefix.lower())
    if not dot or kind is None:
        raise GroupFieldError(
            f"Cannot group by {text!r}: expected params.<key>, tags.<key> or attributes.<name>, e.g. 'params.lr'."
        )
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "`\"'":
        key = key[1:-1]
    if not key:
        raise GroupFieldError(f"Cannot group by {text!r}: the key is empty.")
    if kind == "attributes" and key not in GROUPABLE_ATTRIBUTES:
        raise GroupFieldError(
            f"Cannot group by attribute {key!r}: expected one of {', '.join(GROUPABLE_ATTRIBUTES)}."
        )
    return GroupField(kind, key)


@dataclass(slots=True)
class RunGroup:
    values: tuple[str | None, ...]
    runs: list[Run] = field(default_factory=list)

    @property
    def group_id(self) -> str:
        """A stable id for the group: its values, "\\u0000" for a missing one."""
        return "\u001f".join("\u0000" if v is None else v for v in self.values)


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _value_order(value: str | None) -> tuple[int, float, str]:
    if value is None:
        return (2, 0.0, "")
    if _NUMBER.match(value):
        return (0, float(value), value)
    return (1, 0.0, value.lower())


def group_runs(runs: Sequence[Run], fields: Sequence[GroupField]) -> list[RunGroup]:
    """Runs partitioned by their values of ``fields``; each group keeps the runs' order."""
    groups: dict[tuple[str | None, ...], RunGroup] = {}
    for run in runs:
        values = tuple(f.value_of(run) for f in fields)
        group = groups.get(values)
        if group is None:
            group = groups[values] = RunGroup(values)
        group.runs.append(run)
    return sorted(groups.values(), key=lambda g: tuple(_value_order(v) for v in g.values))


@dataclass(frozen=True, slots=True)
class ValueStats:
    """mean/min/max of the finite latest values of a metric over a group's runs (None when it has none)."""

    mean: float | None
    low: float | None
    high: float | None
    count: int  # runs with a finite latest value


def latest_stats(runs: Sequence[Run], key: str) -> ValueStats:
    values = [run.metrics[key].value for run in runs if key in run.metrics]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ValueStats(None, None, None, 0)
    return ValueStats(math.fsum(finite) / len(finite), min(finite), max(finite), len(finite))

"""Analyses over the runs in view: grouping by params/tags, latest-value statistics, param importance."""

from .groups import GroupField, GroupFieldError, RunGroup, group_runs, latest_stats, parse_group_field
from .importance import ImportanceResult, ParamImportance, param_importance

__all__ = [
    "GroupField",
    "GroupFieldError",
    "ImportanceResult",
    "ParamImportance",
    "RunGroup",
    "group_runs",
    "latest_stats",
    "param_importance",
    "parse_group_field",
]

"""MLflow's step-uniform sampling of several runs' histories (get-history-bulk-interval), kept for API parity.

mlscope's own charts use the min/max-preserving downsampler instead.
"""

from __future__ import annotations

import bisect

from ..store.model import Metric


def sample_bulk_interval(
    histories: dict[str, list[Metric]], max_results: int, start_step: int | None, end_step: int | None
) -> list[tuple[str, Metric]]:
    """(run_id, point) rows at evenly spaced steps, each run's min and max step kept (AbstractStore's rule)."""
    all_runs = [[m.step for m in points] for points in histories.values()]
    mins_and_maxes = {step for steps in all_runs if steps for step in (min(steps), max(steps))}
    all_steps = sorted({step for steps in all_runs for step in steps})
    if start_step is None or end_step is None:
        start_step, end_step = 0, (all_steps[-1] if all_steps else 0)
    mins_and_maxes = {s for s in mins_and_maxes if start_step <= s <= end_step}
    start_idx = bisect.bisect_left(all_steps, start_step)
    end_idx = bisect.bisect_right(all_steps, end_step)
    if end_idx - start_idx <= max_results:
        sampled = set(all_steps[start_idx:end_idx])
    else:
        interval = (end_idx - start_idx) / max_results
        sampled = {all_steps[start_idx + int(i * interval)] for i in range(max_results) if start_idx + int(i * interval) < end_idx}
        sampled.add(all_steps[end_idx - 1])
    steps = sorted(sampled | mins_and_maxes)
    per_run = max(max_results, len(steps))
    step_set = set(steps)
    result: list[tuple[str, Metric]] = []
    for run_id, points in histories.items():
        rows = sorted((m for m in points if m.step in step_set), key=lambda m: (m.step, m.timestamp))
        result.extend((run_id, rows[i]) for i in _evenly_spaced_indices(len(rows), per_run))
    return result


def _evenly_spaced_indices(total: int, count: int) -> list[int]:
    if total <= 0:
        return []
    if total <= count:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})

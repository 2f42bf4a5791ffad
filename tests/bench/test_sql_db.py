"""bench.sql_db fills MLflow's schema with the bench's runs; MLflow's own store reads them back consistently."""

from __future__ import annotations

from pathlib import Path

from mlflow.entities import ViewType
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from bench.sql_db import generate_database


def test_generated_runs_read_back_through_mlflow_with_latest_metrics_from_their_histories(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'bench.db'}"
    summary = generate_database(uri, runs=60, experiments=2, steps=6, seed=3)
    store = SqlAlchemyStore(uri, str(tmp_path))
    experiments = [e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL)]
    runs = store.search_runs(experiments, "", ViewType.ALL, max_results=1000)
    assert len(runs) == summary["runs"] == 60
    assert {len(run.data.params) for run in runs} == {11}
    checked = 0
    for run in runs[:10]:
        for key, value in run.data.metrics.items():
            history = store.get_metric_history(run.info.run_id, key)
            latest = max(history, key=lambda m: (m.step, m.timestamp, 0.0 if m.value != m.value else m.value))
            assert value == latest.value or (value != value and latest.value != latest.value)
            checked += 1
    assert checked > 0


def test_the_same_seed_gives_the_same_runs(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    generate_database(first, runs=20, experiments=1, steps=4, seed=7)
    generate_database(second, runs=20, experiments=1, steps=4, seed=7)

    def runs(uri: str) -> list[tuple[str, str, dict[str, str]]]:
        store = SqlAlchemyStore(uri, str(tmp_path))
        found = store.search_runs([e.experiment_id for e in store.search_experiments()], "", ViewType.ALL, max_results=100)
        return sorted((r.info.run_id, r.info.status, r.data.params) for r in found)

    assert runs(first) == runs(second)

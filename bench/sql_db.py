"""The bench's synthetic runs as rows of MLflow's SQL schema (SQLite or PostgreSQL), written in bulk.

The same plans as ``bench.generate`` (experiments, sweeps, params, tags,
statuses, curves, dataset inputs), drawn from the same seeded generator, but
stored as MLflow's SqlAlchemyStore stores them: ``metrics`` rows with
``latest_metrics`` kept as MLflow's max by (step, timestamp, value), NaN as 0
with ``is_nan``, integer experiment ids. Logging 100,000 runs through MLflow
would take hours; this takes a minute or two.

    python -m bench.sql_db sqlite:///bench.db --runs 100000 [--steps 10] [--experiments 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.generate import TreeWriter
from mlscope.store.sql import tables as t
from mlscope.store.sql.bulk import Rows
from mlscope.store.sql.engine import write_transaction
from mlscope.store.sql.points import stored_value
from mlscope.store.sql.store import SqlStore

FLUSH_ROWS = 200_000  # rows buffered before a bulk insert


class SqlDatabaseWriter(TreeWriter):
    """bench.generate's TreeWriter, writing rows instead of files (its plans and random draws are reused as they are)."""

    def __init__(self, uri: str, runs: int, experiments: int, steps: int, seed: int) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="mlscope-sqlgen-")  # TreeWriter makes .trash under its root
        super().__init__(Path(self._scratch.name), runs, experiments, steps, seed)
        self.store = SqlStore(uri, "mlflow-artifacts:/")
        self.engine = self.store.engine
        self.rows = Rows(None)  # type: ignore[arg-type]  # bound to a connection at each flush

    # ---------------------------------------------------------- overrides

    def write_experiment(self, experiment_id: str, name: str, created: int) -> str:
        if experiment_id == "0":
            return "0"  # the store made MLflow's Default experiment
        with write_transaction(self.engine) as conn:
            number = conn.execute(
                sa.insert(t.experiments)
                .values(name=name, artifact_location=None, lifecycle_stage="active", creation_time=created, last_update_time=created, workspace="default")
                .returning(t.experiments.c.experiment_id)
            ).scalar_one()
            conn.execute(sa.update(t.experiments).where(t.experiments.c.experiment_id == number).values(artifact_location=f"mlflow-artifacts:/{number}"))
        return str(number)

    def write_key_values(self, folder: str, values: dict[str, str]) -> None:
        experiment_id = int(Path(folder).parent.name)  # only experiment tags come here: "<experiment id>/tags"
        for key, value in values.items():
            self.rows.add("experiment_tags", (key, value, experiment_id))

    def write_dataset(self, exp_dir: str, name: str, digest: str) -> str:
        dataset_uuid = uuid.UUID(int=self.rng.getrandbits(128), version=4).hex
        self.rows.add("datasets", (dataset_uuid, int(exp_dir), name, digest, "s3", f'{{"uri": "s3://acme-data/{name}.parquet"}}',
                                   None, '{"num_rows": 50000, "num_elements": 1600000}'))
        return dataset_uuid

    def write_run(self, exp_dir: str, experiment_id: str, plan: Any, dataset_id: str | None) -> None:
        run_id = plan.run_id
        metrics = self.metric_files(plan)
        last = plan.start + (plan.steps + 1) * plan.step_ms
        end = None if plan.status in ("RUNNING", "SCHEDULED") else last + self.rng.randrange(100, 5000)
        deleted_time = (end or last) + self.rng.randrange(3600_000, 7 * 86400_000) if plan.deleted else None
        rows = self.rows
        rows.add("runs", (run_id, plan.name, "UNKNOWN", "", "", plan.user, plan.status, plan.start, end, "",
                          "deleted" if plan.deleted else "active", f"mlflow-artifacts:/{exp_dir}/{run_id}/artifacts", int(exp_dir), deleted_time))
        for key, value in plan.params.items():
            rows.add("params", (key, value, run_id))
        for key, value in plan.tags.items():
            rows.add("tags", (key, value, run_id))
        for key, text in metrics.items():
            best: tuple[Any, ...] | None = None
            for line in text.splitlines():
                ts, raw, step = line.split()
                value, is_nan = stored_value(float(raw))
                row = (key, value, int(ts), run_id, int(step), is_nan)  # metrics' column order
                rows.add("metrics", row)
                if best is None or (row[4], row[2], value) > (best[4], best[2], best[1]):
                    best = row
            if best is not None:
                rows.add("latest_metrics", (key, best[1], best[2], best[4], best[5], run_id))
        if dataset_id is not None:
            input_uuid = uuid.UUID(int=self.rng.getrandbits(128), version=4).hex
            rows.add("inputs", (input_uuid, "DATASET", dataset_id, "RUN", run_id, 0))
            rows.add("input_tags", (input_uuid, "mlflow.data.context", "training"))
        if rows.size >= FLUSH_ROWS:
            self.flush()

    # ---------------------------------------------------------- writing

    def flush(self) -> None:
        """Insert the buffered rows in one transaction, by the driver's bulk path (parents first: foreign keys are on)."""
        with write_transaction(self.engine) as conn:
            self.rows.conn = conn
            self.rows.flush()

    def generate(self) -> dict[str, Any]:
        summary = super().generate()
        self.flush()
        self.store.close()
        self._scratch.cleanup()
        return summary


def generate_database(uri: str, runs: int, experiments: int = 5, steps: int = 10, seed: int = 0) -> dict[str, Any]:
    """Fill an empty database (created with MLflow's schema if needed) with `runs` synthetic runs."""
    return SqlDatabaseWriter(uri, runs, experiments, steps, seed).generate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("uri")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--experiments", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate_database(args.uri, args.runs, args.experiments, args.steps, args.seed)
    print(f"{summary['runs']} runs in {len(summary['experiments'])} experiments written to {args.uri} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())


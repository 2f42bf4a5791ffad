"""Rows written in bulk inside one transaction: buffered per table, flushed parents first, by the driver's fastest path.

For the copies that write hundreds of thousands of rows (``mlscope migrate``,
the bench's databases): sqlite3's ``executemany`` and PostgreSQL's ``COPY``,
with tuples in each table's column order (``tables.py``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import tables as t

FLUSH_ROWS = 100_000


class Rows:
    """Rows buffered per table and written in bulk (parents first: the schema's foreign keys are enforced)."""

    ORDER = ("experiments", "experiment_tags", "datasets", "runs", "params", "tags", "metrics", "latest_metrics",
             "inputs", "input_tags", "logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics",
             "registered_models", "registered_model_tags", "model_versions", "model_version_tags", "registered_model_aliases")  # fmt: skip

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.ORDER}
        self.counts: Counter[str] = Counter()
        self.size = 0

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.pending[table].append(row)
        self.size += 1

    def flush(self) -> None:
        for name in self.ORDER:
            rows = self.pending[name]
            if rows:
                bulk_insert(self.conn, t.metadata.tables[name], rows)
                self.counts[name] += len(rows)
                self.pending[name] = []
        self.size = 0

    def maybe_flush(self) -> None:
        if self.size >= FLUSH_ROWS:
            self.flush()


def bulk_insert(conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """Rows (tuples in the table's column order) by the driver's fastest path inside the current transaction."""
    columns = [c.name for c in table.columns]
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    driver.executemany(f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({marks})', rows)  # type: ignore[union-attr]

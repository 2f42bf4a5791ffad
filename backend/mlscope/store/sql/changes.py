"""What changed in the database since the last look, at a cost that follows the changes, not the table sizes.

Three sources, cheapest first:

* Writes through mlscope name what they changed: in this process directly
  (the writer's callback), in other mlscope processes on PostgreSQL through
  ``NOTIFY mlscope_changes`` sent inside the writing transaction, so every
  replica hears of a commit at once and never of a rollback. A waiting
  connection per replica wakes its index as soon as another process's
  notice arrives, instead of at its next timed refresh.
* A gate that says whether anyone else wrote at all: SQLite's
  ``PRAGMA data_version`` (moves when another connection commits),
  PostgreSQL's WAL position. Nothing moved: the poll costs one tiny query.
* When the gate moved: rows added since the last look. SQLite tables keep a
  rowid that grows with inserts, so ``rowid > watermark`` finds new runs,
  params, tags, metric points and inputs through the primary key; PostgreSQL
  has no such column, so new runs are found by start time (a run created
  with an old start time, as an import does, is found by the index's
  rotating check of every run row instead).

Values rewritten in place by other programs (a tag overwritten, a run
deleted by MLflow's own server) are left to the index's hot set and rotating
checks, as the file index does for files rewritten in place.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("mlscope")

CHANNEL = "mlscope_changes"
NOTIFY_LIMIT = 7000  # bytes per NOTIFY payload (PostgreSQL's limit is 8000)
START_TIME_SLACK_MS = 120_000  # PostgreSQL: runs are found by start_time >= newest seen minus this
WAIT_SECONDS = 0.5  # how long the waiting connection blocks before it checks whether the index closed
# SQLite tables whose new rows point at a run (column naming it) or an experiment.
RUN_TABLES = {"runs": "run_uuid", "params": "run_uuid", "tags": "run_uuid", "metrics": "run_uuid", "inputs": "destination_id"}
EXPERIMENT_TABLES = {"experiments": "experiment_id", "experiment_tags": "experiment_id"}


@dataclass
class Changes:
    run_ids: set[str] = field(default_factory=set)
    experiment_ids: set[str] = field(default_factory=set)
    others_wrote: bool = False  # the gate moved: something not named above may have changed too

    def __bool__(self) -> bool:
        return bool(self.run_ids or self.experiment_ids or self.others_wrote)

    def add(self, other: Changes) -> None:
        self.run_ids |= other.run_ids
        self.experiment_ids |= other.experiment_ids
        self.others_wrote |= other.others_wrote


def notice_payloads(run_ids: Iterable[str], experiment_ids: Iterable[str], sender: str = "") -> list[str]:
    """JSON payloads naming what a transaction wrote (and which writer: its own index re-read it already), each under PostgreSQL's size limit."""
    runs, exps = list(run_ids), [str(e) for e in experiment_ids]
    payloads: list[str] = []
    batch: dict[str, Any] = {"s": sender, "r": [], "e": exps}
    for run_id in runs:
        batch["r"].append(run_id)
        if len(batch["r"]) * 35 + len(exps) * 12 > NOTIFY_LIMIT:
            payloads.append(json.dumps(batch))
            batch = {"s": sender, "r": [], "e": []}
    if batch["r"] or batch["e"]:
        payloads.append(json.dumps(batch))
    return payloads


def send_notices(conn: Connection, run_ids: Iterable[str], experiment_ids: Iterable[str], sender: str = "") -> None:
    """Inside a writing transaction on PostgreSQL: tell every listening replica, delivered only if it commits."""
    for payload in notice_payloads(run_ids, experiment_ids, sender):
        conn.execute(sa.text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


class ChangeWatch:
    """Per dialect: ``mark(conn)`` takes the watermarks inside the index's build snapshot; ``poll()`` returns what moved since."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self.on_notice: Callable[[], object] | None = None  # called (in the watch's thread) when another writer committed
        self.own_sender = ""  # the notices of this index's own writer need no wake-up (it re-read its writes already)

    @staticmethod
    def for_engine(engine: Engine) -> ChangeWatch:
        return PostgresWatch(engine) if engine.dialect.name == "postgresql" else SqliteWatch(engine)

    def start(self) -> None:
        """Before the build snapshot: start listening, so nothing committed after it goes unheard."""

    def mark(self, conn: Connection, runs: Iterable[Any]) -> None:
        raise NotImplementedError

    def poll(self) -> Changes:
        raise NotImplementedError

    def poll_notices(self) -> Changes:
        """Only what other mlscope processes announced (no gate, no table reads)."""
        return Changes()

    def close(self) -> None:
        """Release the watcher's own connection."""


class SqliteWatch(ChangeWatch):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._watermarks: dict[str, int] = {}
        self._conn: Any = None  # one driver connection: data_version moves when *other* connections commit
        self._data_version: int | None = None

    def start(self) -> None:
        self._conn = self.engine.raw_connection()
        self._data_version = self._read_data_version()

    def _read_data_version(self) -> int:
        cursor = self._conn.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def mark(self, conn: Connection, runs: Iterable[Any] = ()) -> None:
        for table in (*RUN_TABLES, *EXPERIMENT_TABLES):
            self._watermarks[table] = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table}").scalar_one()

    def poll(self) -> Changes:
        with self._lock:
            if self._conn is None:
                return Changes()
            version = self._read_data_version()
            if version == self._data_version:
                return Changes()
            self._data_version = version
        changes = Changes(others_wrote=True)
        with self.engine.connect() as conn:
            for table, column in (*RUN_TABLES.items(), *EXPERIMENT_TABLES.items()):
                mark = self._watermarks.get(table, 0)
                rows = conn.exec_driver_sql(f"SELECT rowid, {column} FROM {table} WHERE rowid > ?", (mark,)).all()
                if rows:
                    self._watermarks[table] = max(rowid for rowid, _ in rows)
                    target = changes.run_ids if table in RUN_TABLES else changes.experiment_ids
                    target.update(str(value) for _, value in rows)
        return changes

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresWatch(ChangeWatch):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._listener: Any = None
        self._lsn: str | None = None
        self._lsn_works = True
        self._newest_start = 0
        self._heard: list[str] = []
        self._waiter: Any = None
        self._closed = threading.Event()

    def _connect(self) -> Any:
        import psycopg

        url = self.engine.url
        options: dict[str, Any] = dict(url.query)  # libpq options given in the URI (sslmode=...), passed as they are
        return psycopg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database, autocommit=True, **options,
        )  # fmt: skip

    def start(self) -> None:
        self._listener = self._connect()
        self._listener.add_notify_handler(lambda notice: self._heard.append(notice.payload))
        self._listener.execute(f"LISTEN {CHANNEL}")
        self._lsn = self._read_lsn()
        if self.on_notice is not None:
            self._waiter = self._connect()
            self._waiter.execute(f"LISTEN {CHANNEL}")
            threading.Thread(target=self._wait_for_notices, name="mlscope-sql-notices", daemon=True).start()

    def _wait_for_notices(self) -> None:
        """Block on the waiting connection; a notice from another process wakes the index (which then polls as usual)."""
        while not self._closed.is_set():
            try:
                notices = list(self._waiter.notifies(timeout=WAIT_SECONDS))
            except Exception:  # the connection broke or was closed: timed refreshes still poll
                if not self._closed.is_set():
                    log.warning("mlscope: the connection waiting for other replicas' notices broke; polling every refresh instead")
                return
            if any(_sender(notice.payload) != self.own_sender for notice in notices) and self.on_notice is not None:
                try:
                    self.on_notice()
                except Exception:
                    log.exception("refresh after a notice failed")

    def _read_lsn(self) -> str | None:
        if not self._lsn_works or self._listener is None:
            return None
        try:
            # The insert position: it moves with every commit (the write position lags with synchronous_commit=off).
            return str(self._listener.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0])
        except Exception:  # e.g. a standby, or a role without the right: then every poll looks
            self._lsn_works = False
            log.info("mlscope: cannot read the WAL position; polling PostgreSQL without a change gate")
            return None

    def mark(self, conn: Connection, runs: Iterable[Any] = ()) -> None:
        self._newest_start = max((r.start_time or 0 for r in runs), default=0)

    def poll_notices(self) -> Changes:
        changes = Changes()
        with self._lock:
            if self._listener is not None:
                self._add_notices(changes)
        return changes

    def _add_notices(self, changes: Changes) -> None:
        for notice in self._drain():
            try:
                payload = json.loads(notice)
            except ValueError:
                continue
            changes.run_ids.update(payload.get("r", ()))
            changes.experiment_ids.update(str(e) for e in payload.get("e", ()))

    def poll(self) -> Changes:
        changes = Changes()
        with self._lock:
            if self._listener is None:
                return changes
            self._add_notices(changes)
            lsn = self._read_lsn()
            if lsn is not None and lsn == self._lsn:
                return changes
            self._lsn = lsn
        changes.others_wrote = True
        with self.engine.connect() as conn:
            r = sa.table("runs", sa.column("run_uuid"), sa.column("start_time"))
            since = self._newest_start - START_TIME_SLACK_MS
            for run_id, start in conn.execute(sa.select(r.c.run_uuid, r.c.start_time).where(r.c.start_time >= since)):
                changes.run_ids.add(run_id)
                self._newest_start = max(self._newest_start, start or 0)
        return changes

    def _drain(self) -> list[str]:
        """Notifications received so far, without waiting (a round trip makes psycopg read and dispatch them)."""
        self._listener.execute("SELECT 1")
        found, self._heard = self._heard, []
        return found

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        if self._waiter is not None:
            self._waiter.close()
            self._waiter = None


def _sender(payload: str) -> str | None:
    try:
        return json.loads(payload).get("s")
    except (ValueError, AttributeError):
        return None

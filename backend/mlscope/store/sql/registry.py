"""MLflow's model registry in a SQL store: the file registry's interface (index.registry.Registry), MLflow's tables.

Reads build the same RegisteredModel / ModelVersion records the file registry
serves (so registry search, the REST shapes and the pages are shared), from
one snapshot of the registry tables, re-read after a write through this
process and at most once a second otherwise. Writes follow MLflow's
SqlAlchemyStore for the registry: renames cascade through the schema's
``ON UPDATE CASCADE`` keys, a deleted version keeps its number (stage
``Deleted_Internal``, its fields redacted, its aliases removed), tags on a
model do not touch its last-updated time. Every write is one transaction.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ...index.registry import Registry
from ...index.registry_index import RegistrySnapshot
from ..errors import StoreError
from ..model import LoggedModel
from ..registry_model import (
    ACTIVE_STAGES,
    MODEL_VERSIONS_TAG,
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    ModelVersion,
    RegisteredModel,
    canonical_stage,
    parse_version,
    validate_alias,
    validate_model_name,
    validate_tag,
)
from ..registry_sources import SourceResolver, _must_identify
from . import reads
from . import tables as t
from .engine import read_transaction, write_transaction
from .store import SqlStore
from .writes import now_ms

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
WS = t.DEFAULT_WORKSPACE
CHECK_SECONDS = 1.0


# ------------------------------------------------------------------- reads


def read_models(conn: Connection) -> list[RegisteredModel]:
    """Every registered model with its tags, aliases and versions (deleted versions included), by name."""
    rm, rmt, rma, mv, mvt = (t.registered_models.c, t.registered_model_tags.c, t.registered_model_aliases.c,
                             t.model_versions.c, t.model_version_tags.c)  # fmt: skip
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for name, key, value in conn.execute(sa.select(rmt.name, rmt.key, rmt.value).where(rmt.workspace == WS)):
        tags[name][key] = value or ""
    aliases: dict[str, dict[str, str]] = defaultdict(dict)
    for name, alias, version in conn.execute(sa.select(rma.name, rma.alias, rma.version).where(rma.workspace == WS)):
        aliases[name][alias] = str(version)
    version_tags: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for name, version, key, value in conn.execute(sa.select(mvt.name, mvt.version, mvt.key, mvt.value).where(mvt.workspace == WS)):
        version_tags[(name, version)][key] = value or ""
    versions: dict[str, list[ModelVersion]] = defaultdict(list)
    for row in conn.execute(sa.select(t.model_versions).where(mv.workspace == WS).order_by(mv.name, mv.version)):
        named = aliases.get(row.name, {})
        versions[row.name].append(ModelVersion(
            name=row.name, version=row.version, creation_timestamp=row.creation_time, last_updated_timestamp=row.last_updated_time,
            description=row.description, user_id=row.user_id, current_stage=row.current_stage or STAGE_NONE, source=row.source,
            run_id=row.run_id, run_link=row.run_link, status=row.status or "READY", status_message=row.status_message,
            storage_location=row.storage_location, model_id=None, tags=version_tags.get((row.name, row.version), {}),
            aliases=tuple(sorted(a for a, v in named.items() if v == str(row.version))), path=reads.NO_PATH,
        ))  # fmt: skip
    return [
        RegisteredModel(
            name=row.name, creation_timestamp=row.creation_time, last_updated_timestamp=row.last_updated_time,
            description=row.description, tags=tags.get(row.name, {}), aliases=aliases.get(row.name, {}),
            versions=tuple(versions.get(row.name, ())), path=reads.NO_PATH,
        )  # fmt: skip
        for row in conn.execute(sa.select(t.registered_models).where(rm.workspace == WS).order_by(rm.name))
    ]


def snapshot_of(models: list[RegisteredModel], generation: int) -> RegistrySnapshot:
    versions = tuple(v for m in models for v in m.versions)
    by_run: dict[str, list[ModelVersion]] = defaultdict(list)
    for version in versions:
        if version.run_id and not version.deleted:
            by_run[version.run_id].append(version)
    return RegistrySnapshot(
        models=tuple(models), by_name={m.name: m for m in models}, versions=versions,
        by_run={run_id: tuple(found) for run_id, found in by_run.items()}, generation=generation,
    )  # fmt: skip


class SqlRegistryIndex:
    """The registry tables as one snapshot: re-read after this process writes, else at most every CHECK_SECONDS."""

    def __init__(self, engine: Engine, check_interval: float = CHECK_SECONDS) -> None:
        self.engine = engine
        self.check_interval = check_interval
        self._snapshot = RegistrySnapshot()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def snapshot(self) -> RegistrySnapshot:
        if time.monotonic() - self._read_at >= self.check_interval:
            with self._lock:
                if time.monotonic() - self._read_at >= self.check_interval:
                    with read_transaction(self.engine) as conn:
                        models = read_models(conn)
                    if models != list(self._snapshot.models):
                        self._snapshot = snapshot_of(models, self._snapshot.generation + 1)
                    self._read_at = time.monotonic()
        return self._snapshot

    def invalidate(self, *names: str) -> None:
        self._read_at = float("-inf")

    def model(self, name: str) -> RegisteredModel | None:
        self.invalidate()  # never stale for a single model (another replica may have written it)
        return self.snapshot().by_name.get(name)

    def refresh(self) -> RegistrySnapshot:
        self.invalidate()
        return self.snapshot()


# ------------------------------------------------------------------ writes


class SqlRegistryWriter:
    """RegistryWriter's methods over MLflow's registry tables."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.engine = store.engine

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(table)

    def _model_row(self, conn: Connection, name: object) -> sa.Row:
        name = validate_model_name(name)
        rm = t.registered_models.c
        row = conn.execute(sa.select(t.registered_models).where(rm.workspace == WS, rm.name == name)).first()
        if row is None:
            raise StoreError(f"Registered Model with name={name} not found", NOT_FOUND)
        return row

    def _version_row(self, conn: Connection, name: object, version: object) -> sa.Row:
        number = parse_version(version)
        self._model_row(conn, name)
        mv = t.model_versions.c
        row = conn.execute(
            sa.select(t.model_versions).where(mv.workspace == WS, mv.name == name, mv.version == number, mv.current_stage != STAGE_DELETED_INTERNAL)
        ).first()
        if row is None:
            raise StoreError(f"Model Version (name={name}, version={number}) not found", NOT_FOUND)
        return row

    def get_registered_model(self, name: object) -> RegisteredModel:
        name = validate_model_name(name)
        with read_transaction(self.engine) as conn:
            self._model_row(conn, name)
            return next(m for m in read_models(conn) if m.name == name)

    def get_model_version(self, name: object, version: object) -> ModelVersion:
        number = parse_version(version)
        found = self.get_registered_model(name).version(number)
        if found is None:
            raise StoreError(f"Model Version (name={name}, version={number}) not found", NOT_FOUND)
        return found

    def _touch(self, conn: Connection, name: str, when: int) -> None:
        rm = t.registered_models.c
        conn.execute(sa.update(t.registered_models).where(rm.workspace == WS, rm.name == name).values(last_updated_time=when))

    # ------------------------------------------------------ registered models

    def create_registered_model(self, name: object, tags: dict[str, str] | None = None, description: str | None = None) -> RegisteredModel:
        name = validate_model_name(name)
        checked = dict(validate_tag(k, v) for k, v in (tags or {}).items())
        created = now_ms()
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(sa.insert(t.registered_models).values(workspace=WS, name=name, creation_time=created,
                                                                    last_updated_time=created, description=description))  # fmt: skip
                if checked:
                    conn.execute(sa.insert(t.registered_model_tags), [{"workspace": WS, "name": name, "key": k, "value": v} for k, v in checked.items()])
        except sa.exc.IntegrityError:
            raise StoreError(f"Registered Model (name={name}) already exists.", ALREADY_EXISTS) from None
        return self.get_registered_model(name)

    def update_registered_model(self, name: object, description: str | None) -> RegisteredModel:
        with write_transaction(self.engine) as conn:
            row = self._model_row(conn, name)
            rm = t.registered_models.c
            conn.execute(sa.update(t.registered_models).where(rm.workspace == WS, rm.name == row.name).values(description=description, last_updated_time=now_ms()))
        return self.get_registered_model(name)

    def rename_registered_model(self, name: object, new_name: object) -> RegisteredModel:
        new_name = validate_model_name(new_name, "new_name")
        updated = now_ms()
        try:
            with write_transaction(self.engine) as conn:
                row = self._model_row(conn, name)
                rm, mv = t.registered_models.c, t.model_versions.c
                # The schema's ON UPDATE CASCADE keys carry versions, tags, aliases and version tags along.
                conn.execute(sa.update(t.registered_models).where(rm.workspace == WS, rm.name == row.name).values(name=new_name, last_updated_time=updated))
                conn.execute(sa.update(t.model_versions).where(mv.workspace == WS, mv.name == new_name).values(last_updated_time=updated))
        except sa.exc.IntegrityError:
            raise StoreError(f"Registered Model (name={new_name}) already exists.", ALREADY_EXISTS) from None
        return self.get_registered_model(new_name)

    def delete_registered_model(self, name: object) -> None:
        with write_transaction(self.engine) as conn:
            row = self._model_row(conn, name)
            for table in (t.model_version_tags, t.model_versions, t.registered_model_tags, t.registered_model_aliases, t.registered_models):
                conn.execute(sa.delete(table).where(table.c.workspace == WS, table.c.name == row.name))

    def set_registered_model_tag(self, name: object, key: object, value: object) -> None:
        key, text = validate_tag(key, value)
        with write_transaction(self.engine) as conn:
            row = self._model_row(conn, name)
            statement = self._insert(t.registered_model_tags).values(workspace=WS, name=row.name, key=key, value=text)
            conn.execute(statement.on_conflict_do_update(index_elements=["workspace", "key", "name"], set_={"value": text}))

    def delete_registered_model_tag(self, name: object, key: object) -> None:
        key, _ = validate_tag(key, "")
        with write_transaction(self.engine) as conn:
            row = self._model_row(conn, name)
            c = t.registered_model_tags.c
            conn.execute(sa.delete(t.registered_model_tags).where(c.workspace == WS, c.name == row.name, c.key == key))

    # ---------------------------------------------------------------- aliases

    def set_registered_model_alias(self, name: object, alias: object, version: object) -> None:
        alias = validate_alias(alias, for_write=False)
        validate_alias(alias, for_write=True)
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            statement = self._insert(t.registered_model_aliases).values(workspace=WS, name=row.name, alias=alias, version=row.version)
            conn.execute(statement.on_conflict_do_update(index_elements=["workspace", "alias", "name"], set_={"version": row.version}))

    def delete_registered_model_alias(self, name: object, alias: object) -> None:
        alias = validate_alias(alias, for_write=False)
        with write_transaction(self.engine) as conn:
            row = self._model_row(conn, name)
            c = t.registered_model_aliases.c
            conn.execute(sa.delete(t.registered_model_aliases).where(c.workspace == WS, c.name == row.name, c.alias == alias))

    # ---------------------------------------------------------- model versions

    def create_model_version(
        self, name: object, source: str, run_id: str | None = None, tags: dict[str, str] | None = None,
        run_link: str | None = None, description: str | None = None, model_id: str | None = None, storage_location: str | None = None,
    ) -> ModelVersion:  # fmt: skip
        """The next version (max existing + 1, deleted ones counted); a racing writer makes this one retry."""
        checked = dict(validate_tag(k, v) for k, v in (tags or {}).items())
        mv = t.model_versions.c
        for _attempt in range(20):
            created = now_ms()
            try:
                with write_transaction(self.engine) as conn:
                    row = self._model_row(conn, name)
                    number = (conn.execute(sa.select(sa.func.max(mv.version)).where(mv.workspace == WS, mv.name == row.name)).scalar() or 0) + 1
                    conn.execute(sa.insert(t.model_versions).values(
                        workspace=WS, name=row.name, version=number, creation_time=created, last_updated_time=created,
                        description=description, user_id=None, current_stage=STAGE_NONE, source=source, run_id=run_id,
                        status="READY", status_message=None, run_link=run_link, storage_location=storage_location or source,
                    ))  # fmt: skip
                    if checked:
                        conn.execute(sa.insert(t.model_version_tags),
                                     [{"workspace": WS, "name": row.name, "version": number, "key": k, "value": v} for k, v in checked.items()])
                    self._touch(conn, row.name, created)
            except sa.exc.IntegrityError:
                continue
            return self.get_model_version(name, number)
        raise StoreError(f"Model Version creation error (name={name}): too many concurrent writers", "INTERNAL_ERROR")

    def update_model_version(self, name: object, version: object, description: str | None) -> ModelVersion:
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            self._update_version(conn, row, description=description, last_updated_time=now_ms())
        return self.get_model_version(name, version)

    @staticmethod
    def _update_version(conn: Connection, row: sa.Row, **values: Any) -> None:
        mv = t.model_versions.c
        conn.execute(sa.update(t.model_versions).where(mv.workspace == WS, mv.name == row.name, mv.version == row.version).values(**values))

    def transition_model_version_stage(self, name: object, version: object, stage: object, archive_existing_versions: bool = False) -> ModelVersion:
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ACTIVE_STAGES:
            raise StoreError(f"Model version transition cannot archive existing model versions because '{stage}' is "
                             f"not an Active stage. Valid stages are {list(ACTIVE_STAGES)}")  # fmt: skip
        updated = now_ms()
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            if archive_existing_versions:
                mv = t.model_versions.c
                conn.execute(
                    sa.update(t.model_versions)
                    .where(mv.workspace == WS, mv.name == row.name, mv.version != row.version, mv.current_stage == target)
                    .values(current_stage=STAGE_ARCHIVED, last_updated_time=updated)
                )
            self._update_version(conn, row, current_stage=target, last_updated_time=updated)
            self._touch(conn, row.name, updated)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: object, version: object) -> None:
        """MLflow's soft delete: the number stays taken, the fields are redacted, its aliases go."""
        updated = now_ms()
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            a = t.registered_model_aliases.c
            conn.execute(sa.delete(t.registered_model_aliases).where(a.workspace == WS, a.name == row.name, a.version == row.version))
            self._update_version(
                conn, row, current_stage=STAGE_DELETED_INTERNAL, last_updated_time=updated, description=None, user_id=None,
                source="REDACTED-SOURCE-PATH", run_id="REDACTED-RUN-ID", run_link="REDACTED-RUN-LINK", status_message=None,
            )  # fmt: skip
            self._touch(conn, row.name, updated)

    def set_model_version_tag(self, name: object, version: object, key: object, value: object) -> None:
        key, text = validate_tag(key, value)
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            statement = self._insert(t.model_version_tags).values(workspace=WS, name=row.name, version=row.version, key=key, value=text)
            conn.execute(statement.on_conflict_do_update(index_elements=["workspace", "key", "name", "version"], set_={"value": text}))

    def delete_model_version_tag(self, name: object, version: object, key: object) -> None:
        key, _ = validate_tag(key, "")
        with write_transaction(self.engine) as conn:
            row = self._version_row(conn, name, version)
            c = t.model_version_tags.c
            conn.execute(sa.delete(t.model_version_tags).where(c.workspace == WS, c.name == row.name, c.version == row.version, c.key == key))

    # ------------------------------------------------------------ logged models

    def link_logged_model(self, model_id: str, name: str, version: int) -> None:
        """Record the new version on its logged model (tag mlflow.modelVersions), as MLflow's server does."""
        with write_transaction(self.engine) as conn:
            lm, tags = t.logged_models.c, t.logged_model_tags.c
            experiment_id = conn.execute(sa.select(lm.experiment_id).where(lm.model_id == model_id)).scalar()
            if experiment_id is None:
                return
            current = conn.execute(sa.select(tags.tag_value).where(tags.model_id == model_id, tags.tag_key == MODEL_VERSIONS_TAG)).scalar()
            try:
                entries = json.loads(current) if current else []
            except ValueError:
                entries = []
            entries = entries if isinstance(entries, list) else []
            entry = {"name": name, "version": version}
            if entry not in entries:
                entries.append(entry)
            value = json.dumps(entries)
            statement = self._insert(t.logged_model_tags).values(model_id=model_id, experiment_id=experiment_id, tag_key=MODEL_VERSIONS_TAG, tag_value=value)
            conn.execute(statement.on_conflict_do_update(index_elements=["model_id", "tag_key"], set_={"tag_value": value}))


class SqlSourceResolver(SourceResolver):
    """MLflow's create-version source checks, with runs and logged models looked up in the database."""

    def __init__(self, store: SqlStore, registry: SqlRegistryWriter) -> None:
        super().__init__(reads.NO_PATH, registry)  # type: ignore[arg-type]
        self.store = store

    def run_artifact_uri(self, run_id: str, source: str) -> str:
        runs = self.store.runs([run_id]) if run_id else []
        if not runs:
            raise _must_identify(source, "run_id")
        return runs[0].info.artifact_uri

    def logged_model(self, model_id: str, source: str) -> dict[str, object]:
        found: list[LoggedModel] = [m for m in self.store.logged_models() if m.model_id == model_id]
        if not found:
            raise _must_identify(source, "model_id")
        return {"artifact_location": found[0].artifact_location, "source_run_id": found[0].source_run_id}


class SqlRegistry(Registry):
    """index.registry.Registry's reads and writes over a SQL store's registry tables."""

    def __init__(self, store: SqlStore, check_interval: float = CHECK_SECONDS) -> None:  # noqa: D107 - no file registry to set up
        self.root = Path(reads.NO_PATH)
        self.index = SqlRegistryIndex(store.engine, check_interval)  # type: ignore[assignment]
        writer = SqlRegistryWriter(store)
        self.writer = writer  # type: ignore[assignment]
        self.sources = SqlSourceResolver(store, writer)

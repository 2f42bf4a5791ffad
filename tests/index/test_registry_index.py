"""The cached registry view: sees every change MLflow or mlscope makes, re-reads only what moved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlscope.index import registry_index
from mlscope.index.registry_index import RegistryIndex
from mlscope.store.registry_writer import RegistryWriter
from tests.registry_trees import registry_store


@pytest.fixture
def writer(tmp_path: Path) -> RegistryWriter:
    writer = RegistryWriter(tmp_path)
    for name in ("a", "b", "c"):
        writer.create_registered_model(name)
        writer.create_model_version(name, f"s3://bucket/{name}", run_id=f"run-{name}")
    return writer


def test_the_snapshot_holds_every_model_by_name(writer: RegistryWriter, tmp_path: Path) -> None:
    snapshot = RegistryIndex(tmp_path).snapshot()
    assert [m.name for m in snapshot.models] == ["a", "b", "c"]
    assert sorted(snapshot.by_name) == ["a", "b", "c"]
    assert [v.name for v in snapshot.by_run["run-b"]] == ["b"]


def test_a_write_by_mlflow_is_seen_by_the_next_check(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    before = index.snapshot()
    registry_store(tmp_path).update_model_version("b", "1", "changed by MLflow")
    assert index.snapshot() is before  # within the check interval nothing is re-checked
    after = index.refresh()
    assert after.by_name["b"].version(1).description == "changed by MLflow"
    assert after.generation == before.generation + 1


def test_a_stale_snapshot_is_served_while_a_background_check_runs(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=0.05)
    index.snapshot()
    writer.set_registered_model_tag("a", "k", "v")
    deadline = time.monotonic() + 5
    while index.snapshot().by_name["a"].tags != {"k": "v"}:
        assert time.monotonic() < deadline, "the background check never noticed the new tag"
        time.sleep(0.02)


def test_an_invalidated_model_is_read_before_the_next_answer(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    index.snapshot()
    writer.update_model_version("a", "1", "new words")
    index.invalidate("a")
    assert index.snapshot().by_name["a"].version(1).description == "new words"


def test_a_version_description_change_alone_is_noticed(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    index.snapshot()
    writer.update_model_version("a", "1", "new words")
    assert index.refresh().by_name["a"].version(1).description == "new words"


def test_only_the_changed_model_is_read_again(writer: RegistryWriter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    index.snapshot()
    writer.set_registered_model_tag("c", "k", "v")
    reads: list[str] = []
    real = registry_index.read_registered_model
    monkeypatch.setattr(registry_index, "read_registered_model", lambda d, p: reads.append(d.name) or real(d, p))
    assert index.refresh().by_name["c"].tags == {"k": "v"}
    assert reads == ["c"]


def test_an_unchanged_tree_keeps_the_same_snapshot(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    assert index.snapshot() is index.refresh()


def test_deleted_and_renamed_models_leave_the_snapshot(writer: RegistryWriter, tmp_path: Path) -> None:
    index = RegistryIndex(tmp_path, check_interval=3600)
    index.snapshot()
    writer.delete_registered_model("a")
    writer.rename_registered_model("b", "bee")
    index.invalidate("a", "b", "bee")
    assert sorted(index.snapshot().by_name) == ["bee", "c"]


def test_a_broken_model_is_a_problem_not_a_failure(writer: RegistryWriter, tmp_path: Path) -> None:
    (tmp_path / "models" / "broken").mkdir()
    snapshot = RegistryIndex(tmp_path).snapshot()
    assert [m.name for m in snapshot.models] == ["a", "b", "c"]
    assert [Path(p.path).name for p in snapshot.problems] == ["broken"]


def test_deleted_versions_are_not_listed_under_their_run(writer: RegistryWriter, tmp_path: Path) -> None:
    writer.delete_model_version("a", "1")
    assert "run-a" not in RegistryIndex(tmp_path).snapshot().by_run

"""The writer makes the same files MLflow's FileStore makes, and never a torn one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mlscope.names import NOUNS, PREDICATES, generate_experiment_id, generate_run_name
from mlscope.store import meta_yaml
from mlscope.store.writer import StoreError, TreeWriter, append_whole, atomic_write, create_exclusive

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def _normalise(text: str, root: Path, names: dict[str, str]) -> str:
    text = text.replace(root.resolve().as_uri(), "ROOT")
    for real, placeholder in names.items():
        text = text.replace(real, placeholder)
    text = re.sub(r"\b[0-9a-f]{32}\b", "RUNID", text)
    return re.sub(r"\b\d{13}\b", "TIME", text)


def _tree(root: Path, names: dict[str, str]) -> dict[str, str]:
    names = dict(names)
    for meta in root.rglob("meta.yaml"):
        data = meta_yaml.read_yaml(meta)
        if "run_id" in data:
            names[data["run_id"]] = f"RUN-{data['run_name']}"
    files = {}
    for path in sorted(root.rglob("*")):
        rel = _normalise(path.relative_to(root).as_posix(), root, names)
        files[rel] = "<dir>" if path.is_dir() else _normalise(path.read_text(), root, names)
    return files


def _mlflow_tree(root: Path) -> dict[str, str]:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.store.tracking.file_store import FileStore

    store = FileStore(str(root))
    exp = store.create_experiment("exp", tags=[])
    run = store.create_run(exp, "ann", 1795786970274, [RunTag("mlflow.runName", "my-run"), RunTag("t", "v")], "my-run")
    rid = run.info.run_id
    store.log_batch(rid, [Metric("train/loss", 0.5, 1795786970282, 3), Metric("acc", 1.0, 1795786970283, 0)], [Param("lr", "0.1")], [])
    store.update_run_info(rid, 3, 1795786970309, None)
    run2 = store.create_run(exp, "ann", 1795786970274, [RunTag("mlflow.runName", "other")], "other")
    store.delete_run(run2.info.run_id)
    exp2 = store.create_experiment("gone", tags=[])
    store.create_run(exp2, "ann", 1795786970274, [RunTag("mlflow.runName", "r3")], "r3")
    store.delete_experiment(exp2)
    return _tree(root, {exp: "EXP1", exp2: "EXP2"})


def _mlscope_tree(root: Path) -> dict[str, str]:
    writer = TreeWriter(root)
    writer.ensure_root()
    exp = writer.create_experiment("exp")
    rid = writer.create_run(exp, "ann", 1795786970274, "my-run", {"t": "v"})
    writer.log_param(rid, "lr", "0.1")
    writer.log_metrics(rid, [("train/loss", 0.5, 1795786970282, 3), ("acc", 1.0, 1795786970283, 0)])
    writer.update_run_info(rid, "FINISHED", 1795786970309)
    rid2 = writer.create_run(exp, "ann", 1795786970274, "other")
    writer.delete_run(rid2)
    exp2 = writer.create_experiment("gone")
    writer.create_run(exp2, "ann", 1795786970274, "r3")
    writer.delete_experiment(exp2)
    return _tree(root, {exp: "EXP1", exp2: "EXP2"})


def _without_run_uuid(files: dict[str, str]) -> dict[str, str]:
    """Our one deliberate extra line: run_uuid, which MLflow 1.x-2.x need to read a run (MLflow 3 ignores it)."""
    return {path: re.sub(r"^run_uuid: .*\n", "", text, flags=re.M) for path, text in files.items()}


def test_files_match_mlflow_filestore_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    assert _without_run_uuid(_mlscope_tree(tmp_path / "ours")) == _mlflow_tree(tmp_path / "theirs")


def test_run_meta_carries_run_uuid_for_older_mlflow_readers(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path)
    run_id = writer.create_run(writer.create_experiment("e"), "u", None, "r")
    writer.update_run_info(run_id, "FINISHED", 1)
    assert meta_yaml.read_yaml(writer.run_dir(run_id) / "meta.yaml")["run_uuid"] == run_id


def test_restored_experiment_matches_mlflow_filestore(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.store.tracking.file_store import FileStore

    store = FileStore(str(tmp_path / "theirs"))
    theirs = store.create_experiment("e", tags=[])
    store.create_run(theirs, "u", 1795786970274, [], "r")
    store.delete_experiment(theirs)
    store.restore_experiment(theirs)
    store.rename_experiment(theirs, "e2")
    writer = TreeWriter(tmp_path / "ours")
    ours = writer.create_experiment("e")
    writer.create_run(ours, "u", 1795786970274, "r")
    writer.delete_experiment(ours)
    writer.restore_experiment(ours)
    writer.rename_experiment(ours, "e2")
    assert _without_run_uuid(_tree(tmp_path / "ours", {ours: "E"})) == _tree(tmp_path / "theirs", {theirs: "E"})


def test_deleted_experiment_moves_to_trash_with_runs_marked_deleted(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path)
    exp = writer.create_experiment("e")
    rid = writer.create_run(exp, "u", None, "r")
    writer.delete_experiment(exp)
    assert not (tmp_path / exp).exists()
    meta = meta_yaml.read_yaml(tmp_path / ".trash" / exp / rid / "meta.yaml")
    assert meta["lifecycle_stage"] == "deleted" and isinstance(meta["deleted_time"], int)


def test_default_experiment_cannot_be_deleted(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path / "m")
    writer.ensure_root()
    with pytest.raises(StoreError, match="default experiment"):
        writer.delete_experiment("0")


def test_duplicate_experiment_name_is_refused(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path)
    writer.create_experiment("e")
    with pytest.raises(StoreError, match="already exists"):
        writer.create_experiment("e")


def test_param_value_is_immutable_and_the_error_names_the_key(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path)
    rid = writer.create_run(writer.create_experiment("e"), "u", None, "r")
    writer.log_param(rid, "lr", "0.1")
    writer.log_param(rid, "lr", "0.1")
    with pytest.raises(StoreError, match="key='lr'"):
        writer.log_param(rid, "lr", "0.2")


def test_keys_that_leave_their_folder_are_refused(tmp_path: Path) -> None:
    writer = TreeWriter(tmp_path)
    rid = writer.create_run(writer.create_experiment("e"), "u", None, "r")
    for key in ("../x", "/abs", "a/../../b", ""):
        with pytest.raises(StoreError):
            writer.set_tag(rid, key, "v")


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    atomic_write(tmp_path / "meta.yaml", b"a: 1\n")
    atomic_write(tmp_path / "meta.yaml", b"a: 2\n")
    assert os.listdir(tmp_path) == ["meta.yaml"] and (tmp_path / "meta.yaml").read_bytes() == b"a: 2\n"


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    assert create_exclusive(tmp_path / "p", b"1")
    assert not create_exclusive(tmp_path / "p", b"2")
    assert (tmp_path / "p").read_bytes() == b"1" and os.listdir(tmp_path) == ["p"]


def test_append_whole_adds_complete_lines(tmp_path: Path) -> None:
    append_whole(tmp_path / "m", b"1 0.5 0\n")
    append_whole(tmp_path / "m", b"2 0.25 1\n3 0.125 2\n")
    assert (tmp_path / "m").read_bytes() == b"1 0.5 0\n2 0.25 1\n3 0.125 2\n"


def test_run_names_follow_mlflows_pattern_and_length() -> None:
    for _ in range(2000):
        name = generate_run_name()
        predicate, noun, number = name.rsplit("-", 2) if len(name) < 20 else (None, None, None)
        assert len(name) <= 20
        if predicate is not None:
            assert predicate in PREDICATES and noun in NOUNS and 0 <= int(number) <= 1000


def test_word_lists_match_mlflow_exactly() -> None:
    name_utils = pytest.importorskip("mlflow.utils.name_utils")
    assert list(NOUNS) == name_utils._GENERATOR_NOUNS and list(PREDICATES) == name_utils._GENERATOR_PREDICATES


def test_experiment_ids_are_18_digit_integers() -> None:
    for _ in range(200):
        experiment_id = generate_experiment_id()
        assert experiment_id.isdigit() and len(experiment_id) == 18 and experiment_id[0] != "0"

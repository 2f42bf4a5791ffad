"""The persistent index: a restart re-reads only what changed, and never answers from a cache that is wrong."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlscope.index import RunIndex
from mlscope.index import cache_file as cache_module
from mlscope.index.cache_file import CacheFile, default_cache_dir
from tests.handmade import write_experiment, write_run

A, B, C = "a" * 32, "b" * 32, "c" * 32


def age(root: Path, seconds: float = 120.0) -> None:
    """Date every file and folder back, as in a tree written long before the server starts.

    Files written in the last two seconds are never trusted from the cache
    (their mtime may not move on a second write in the same clock tick).
    """
    stamp = time.time() - seconds
    for folder, dirs, files in os.walk(root):
        for name in files + dirs:
            os.utime(os.path.join(folder, name), (stamp, stamp))
    os.utime(root, (stamp, stamp))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    exp = write_experiment(root, "1", "exp")
    write_run(exp, A, start=1000, name="alpha", metrics={"loss": "1 0.5 0\n2 0.4 1\n", "train/acc": "1 0.7 0\n"},
              params={"lr": "0.1", "data/aug": "flip"}, tags={"team": "red", "mlflow.user": "ann"})
    write_run(exp, B, start=2000, status=1, name="beta", metrics={"loss": "1 0.9 0\n"}, params={"lr": "0.2"})
    age(root)
    return root


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def start(root: Path, cache_dir: Path, **kwargs: Any) -> RunIndex:
    index = RunIndex(root, cache=CacheFile(root, cache_dir), **kwargs)
    index.build()
    return index


def picture(index: RunIndex) -> list[tuple[Any, ...]]:
    """Everything a query can see, in a comparable form."""
    return sorted(
        (
            (r.info.run_id, repr(r.info), sorted(r.params.items()), sorted(r.tags.items()), sorted((k, repr(m)) for k, m in r.metrics.items()),
             repr((r.dataset_inputs, r.model_inputs, r.model_outputs)))
            for r in index.runs()
        ),
        key=lambda item: item[0],
    )


def fresh_picture(root: Path) -> list[tuple[Any, ...]]:
    index = RunIndex(root)
    index.build()
    return picture(index)


# ------------------------------------------------------------------ restart


def test_restart_takes_unchanged_runs_from_the_cache(tree, cache_dir):
    first = start(tree, cache_dir)
    second = start(tree, cache_dir)
    assert second.cache_status.startswith("restored: 2 runs from the cache, 0 read from the tree")
    assert picture(second) == picture(first) == fresh_picture(tree)


def test_a_snapshot_saved_in_many_slices_restores_every_run(tree, cache_dir, monkeypatch):
    from mlscope.index import snapshot

    monkeypatch.setattr(snapshot, "SLICE", 1)  # one run record per marshalled slice
    first = start(tree, cache_dir)
    second = start(tree, cache_dir)
    assert second.cache_status.startswith("restored: 2 runs from the cache, 0 read from the tree")
    assert picture(second) == picture(first)


def test_first_start_writes_the_cache_outside_the_tree(tree, cache_dir):
    index = start(tree, cache_dir)
    assert index.cache is not None and index.cache.path.parent == cache_dir
    assert index.cache.path.is_file() and not str(index.cache.path).startswith(str(tree))
    assert (index.cache.path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in cache_dir.iterdir()] == [index.cache.path.name]  # no temp file left behind


def test_cache_file_is_named_by_the_tree_so_two_trees_do_not_share_one(tmp_path, cache_dir):
    assert CacheFile(tmp_path / "one", cache_dir).path != CacheFile(tmp_path / "two", cache_dir).path


def test_default_cache_directory_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "mlscope" / "index"


def test_a_restart_with_nothing_changed_does_not_rewrite_the_cache(tree, cache_dir):
    index = start(tree, cache_dir)
    assert index.cache is not None
    written = index.cache.path.stat().st_mtime_ns
    time.sleep(0.01)
    start(tree, cache_dir)
    assert index.cache.path.stat().st_mtime_ns == written


def test_without_a_cache_nothing_is_written(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    index = RunIndex(tree)
    index.build()
    assert index.cache_status == "off"
    assert not (tmp_path / "xdg").exists()


# ------------------------------------------------------------- bad caches


def test_cache_from_another_version_is_not_used(tree, cache_dir, monkeypatch):
    start(tree, cache_dir)
    monkeypatch.setattr(cache_module, "__version__", "0.0.0-other")
    index = start(tree, cache_dir)
    assert "another mlscope" in index.cache_status
    assert picture(index) == fresh_picture(tree)


def test_cache_made_by_other_reading_code_is_not_used(tree, cache_dir, monkeypatch):
    start(tree, cache_dir)
    monkeypatch.setattr(cache_module, "reader_digest", lambda: "0123456789abcdef")
    index = start(tree, cache_dir)
    assert "another reader" in index.cache_status


def test_cache_of_another_format_is_not_used(tree, cache_dir, monkeypatch):
    start(tree, cache_dir)
    monkeypatch.setattr(cache_module, "FORMAT", cache_module.FORMAT + 1)
    assert "another format" in start(tree, cache_dir).cache_status


def test_corrupt_cache_is_not_used(tree, cache_dir):
    path = start(tree, cache_dir).cache.path  # type: ignore[union-attr]
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF
    path.write_bytes(bytes(data))
    index = start(tree, cache_dir)
    assert "corrupt" in index.cache_status
    assert picture(index) == fresh_picture(tree)


def test_truncated_cache_is_not_used(tree, cache_dir):
    path = start(tree, cache_dir).cache.path  # type: ignore[union-attr]
    path.write_bytes(path.read_bytes()[:-100])
    index = start(tree, cache_dir)
    assert "truncated" in index.cache_status
    assert picture(index) == fresh_picture(tree)


@pytest.mark.parametrize("content", [b"", b"garbage", cache_module.MAGIC, cache_module.MAGIC + b"{not json\n"])
def test_a_file_that_is_not_a_cache_is_not_used(tree, cache_dir, content):
    path = CacheFile(tree, cache_dir).path
    cache_dir.mkdir()
    path.write_bytes(content)
    index = start(tree, cache_dir)
    assert index.cache_status.startswith("built from the tree")
    assert picture(index) == fresh_picture(tree)


def test_cache_with_a_valid_checksum_but_wrong_content_is_not_used(tree, cache_dir):
    """A cache whose records have the wrong shape (written by a buggy or hostile writer) is refused, not half-used."""
    cache = CacheFile(tree, cache_dir)
    cache.save({"root": str(tree), "experiments": [], "layouts": [], "runs": [(0, ("x",), (1, 2), "no", None)]})
    index = start(tree, cache_dir)
    assert "unusable" in index.cache_status
    assert picture(index) == fresh_picture(tree)


def test_a_failed_write_leaves_the_previous_cache_intact(tree, cache_dir, monkeypatch):
    index = start(tree, cache_dir)
    assert index.cache is not None
    before = index.cache.path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", broken_replace)
    write_run(tree / "1", C, name="gamma")
    index.refresh()
    index.save_cache()
    assert index.cache.path.read_bytes() == before
    assert [p.name for p in cache_dir.iterdir()] == [index.cache.path.name]


# ----------------------------------------------- tree changed while down


def changed_while_down(tree: Path, cache_dir: Path, change: Any) -> RunIndex:
    start(tree, cache_dir)
    change()
    index = start(tree, cache_dir)
    assert picture(index) == fresh_picture(tree)
    return index


def test_metric_appended_while_down_is_seen(tree, cache_dir):
    def change() -> None:
        with open(tree / "1" / B / "metrics" / "loss", "a") as handle:
            handle.write("3 0.1 1\n")

    index = changed_while_down(tree, cache_dir, change)
    assert index.run(B).metrics["loss"].value == 0.1  # type: ignore[union-attr]
    assert "1 read from the tree" in index.cache_status


def test_tag_rewritten_in_place_with_the_same_size_is_seen(tree, cache_dir):
    """MLflow's set_tag rewrites a tag's file in place: only that file's own signature moves."""
    path = tree / "1" / A / "tags" / "team"

    def change() -> None:
        path.write_text("blu")  # same length as "red"; the folder's signature does not move
        later = time.time()
        os.utime(path, (later, later))

    index = changed_while_down(tree, cache_dir, change)
    assert index.run(A).tags["team"] == "blu"  # type: ignore[union-attr]


def test_status_rewritten_while_down_is_seen(tree, cache_dir):
    def change() -> None:
        meta_path = tree / "1" / B / "meta.yaml"
        meta = yaml.safe_load(meta_path.read_text())
        meta.update(status=3, end_time=5000)
        meta_path.write_text(yaml.safe_dump(meta))

    index = changed_while_down(tree, cache_dir, change)
    assert index.run(B).info.status == "FINISHED"  # type: ignore[union-attr]


def test_run_added_while_down_is_seen(tree, cache_dir):
    index = changed_while_down(tree, cache_dir, lambda: write_run(tree / "1", C, name="gamma", params={"lr": "0.3"}))
    assert index.run(C).params == {"lr": "0.3"}  # type: ignore[union-attr]


def test_run_removed_while_down_is_gone(tree, cache_dir):
    index = changed_while_down(tree, cache_dir, lambda: shutil.rmtree(tree / "1" / B))
    assert index.run(B) is None


def test_param_and_nested_metric_added_while_down_are_seen(tree, cache_dir):
    def change() -> None:
        (tree / "1" / A / "params" / "data" / "crop").write_text("yes")
        (tree / "1" / A / "metrics" / "train" / "f1").write_text("1 0.3 0\n")

    index = changed_while_down(tree, cache_dir, change)
    run = index.run(A)
    assert run is not None and run.params["data/crop"] == "yes" and run.metrics["train/f1"].value == 0.3


def test_experiment_renamed_while_down_is_seen(tree, cache_dir):
    def change() -> None:
        meta_path = tree / "1" / "meta.yaml"
        meta = yaml.safe_load(meta_path.read_text())
        meta["name"] = "renamed"
        meta_path.write_text(yaml.safe_dump(meta))

    index = changed_while_down(tree, cache_dir, change)
    assert index.experiment("1").name == "renamed"  # type: ignore[union-attr]


def test_experiment_deleted_while_down_moves_with_its_runs(tree, cache_dir):
    def change() -> None:
        (tree / ".trash").mkdir(exist_ok=True)
        (tree / "1").rename(tree / ".trash" / "1")
        meta_path = tree / ".trash" / "1" / "meta.yaml"
        meta = yaml.safe_load(meta_path.read_text())
        meta["lifecycle_stage"] = "deleted"
        meta_path.write_text(yaml.safe_dump(meta))

    index = changed_while_down(tree, cache_dir, change)
    assert index.experiment("1").lifecycle_stage == "deleted"  # type: ignore[union-attr]
    assert index.run(A).path == tree / ".trash" / "1" / A  # type: ignore[union-attr]


def test_run_broken_while_down_is_reported_not_served(tree, cache_dir):
    index = changed_while_down(tree, cache_dir, lambda: (tree / "1" / B / "meta.yaml").write_text("run_id: [unclosed\n"))
    assert index.run(B) is None
    assert any(B in p.path for p in index.problems())


def test_run_with_a_garbage_metric_stays_reported_after_a_restart(tree, cache_dir):
    (tree / "1" / B / "metrics" / "loss").write_text("this is not a metric\n")
    age(tree)
    start(tree, cache_dir)
    index = start(tree, cache_dir)
    assert any(B in p.path and p.reason for p in index.problems())


def test_run_written_just_before_the_snapshot_is_read_again(tmp_path, cache_dir):
    """Within the racy window a second same-size write may not move an mtime: such runs are not trusted."""
    root = tmp_path / "mlruns"
    write_run(write_experiment(root, "1"), A, name="alpha", tags={"team": "red"})
    start(root, cache_dir)
    (root / "1" / A / "tags" / "team").write_text("blu")  # may land in the same mtime tick as the first write
    index = start(root, cache_dir)
    assert index.run(A).tags["team"] == "blu"  # type: ignore[union-attr]
    assert "0 read from the tree" not in index.cache_status


def test_changes_seen_while_running_are_in_the_next_snapshot(tree, cache_dir):
    index = start(tree, cache_dir)
    with open(tree / "1" / B / "metrics" / "loss", "a") as handle:
        handle.write("3 0.1 1\n")
    index.refresh()
    index.save_cache()
    restarted = start(tree, cache_dir)
    assert restarted.run(B).metrics["loss"].value == 0.1  # type: ignore[union-attr]
    # B changed a moment ago, so it is read again; A is taken from the cache.
    assert restarted.cache_status.startswith("restored: 1 runs from the cache, 1 read")


def test_runs_quiet_since_they_changed_are_read_again_before_saving_so_a_restart_trusts_them(tree, cache_dir, monkeypatch):
    from mlscope.index import snapshot

    monkeypatch.setattr(snapshot, "RACY_NS", 200_000_000)
    index = start(tree, cache_dir)
    with open(tree / "1" / B / "metrics" / "loss", "a") as handle:
        handle.write("3 0.1 1\n")
    index.refresh()
    time.sleep(0.3)
    index.save_cache()
    restarted = start(tree, cache_dir)
    assert restarted.run(B).metrics["loss"].value == 0.1  # type: ignore[union-attr]
    assert restarted.cache_status.startswith("restored: 2 runs from the cache, 0 read")


# ------------------------------------------------------------ reader pool


def pooled(tree: Path, cache_dir: Path) -> RunIndex:
    index = RunIndex(tree, cache=CacheFile(tree, cache_dir), workers=2)
    index.pool.min_tasks = 1  # use worker processes even for this small tree
    index.build()
    return index


@pytest.fixture
def wider_tree(tree: Path) -> Path:
    for i in range(30):
        write_run(tree / "1", f"{i:032x}", start=3000 + i, name=f"r{i}", metrics={"loss": f"1 {i} 0\n"}, params={"i": str(i)})
    age(tree)
    return tree


def test_build_over_worker_processes_gives_the_same_picture_as_one_process(wider_tree, cache_dir):
    index = pooled(wider_tree, cache_dir)
    assert index.pool.tasks_in_workers == 64  # 32 run folders in each pass
    assert picture(index) == fresh_picture(wider_tree)


def test_restart_over_worker_processes_gives_the_same_picture(wider_tree, cache_dir):
    pooled(wider_tree, cache_dir)
    (wider_tree / "1" / B / "params" / "lr").unlink()
    restarted = pooled(wider_tree, cache_dir)
    assert restarted.pool.tasks_in_workers == 33  # every run's signatures checked, one run read again
    assert picture(restarted) == fresh_picture(wider_tree)
    assert restarted.cache_status.startswith("restored: 31 runs from the cache, 1 read")


def dying_reader(tasks: list[Any]) -> list[Any]:
    """A reader that kills the worker process it runs in (but works in the parent)."""
    from mlscope.index.run_reads import read_many_details

    if os.getpid() != PARENT:
        os._exit(1)
    return read_many_details(tasks)


PARENT = os.getpid()


def test_a_worker_that_dies_leaves_the_reading_to_this_process(wider_tree, cache_dir, monkeypatch):
    from mlscope.index import startup

    monkeypatch.setattr(startup, "read_many_details", dying_reader)
    index = pooled(wider_tree, cache_dir)
    assert index.ready and picture(index) == fresh_picture(wider_tree)


def test_header_names_what_the_cache_was_made_with(tree, cache_dir):
    path = start(tree, cache_dir).cache.path  # type: ignore[union-attr]
    raw = path.read_bytes()
    header = json.loads(raw[len(cache_module.MAGIC) : raw.index(b"\n", len(cache_module.MAGIC))])
    assert header["root"] == str(tree) and header["format"] == cache_module.FORMAT and len(header["blake2b"]) == 64

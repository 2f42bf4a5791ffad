"""The index builds once, then notices every kind of change without rescanning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from mlscope.index import RunIndex
from tests.handmade import write_experiment, write_run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    exp = write_experiment(tmp_path, "1", "exp")
    write_run(exp, "a" * 32, start=1000, name="alpha", metrics={"loss": "1 0.5 0\n2 0.4 1\n"}, params={"lr": "0.1"})
    write_run(exp, "b" * 32, start=2000, status=1, name="beta", metrics={"loss": "1 0.9 0\n"})
    return tmp_path


def built(root: Path) -> RunIndex:
    index = RunIndex(root)
    index.build()
    return index


def test_build_reads_every_run(tree):
    index = built(tree)
    assert sorted(r.info.run_name for r in index.runs()) == ["alpha", "beta"]
    assert index.progress.phase == "ready"


def test_new_run_appears_after_refresh(tree):
    index = built(tree)
    write_run(tree / "1", "c" * 32, name="gamma")
    index.refresh()
    assert index.run("c" * 32).info.run_name == "gamma"


def _as_if_the_clock_had_not_ticked(folder: Path, before: os.stat_result) -> None:
    """Give a folder back the mtime it had before a change: what a coarse filesystem clock does within one tick."""
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_run_folder_made_in_the_same_clock_tick_as_the_listing_appears_after_refresh(tree):
    index = built(tree)
    before = os.stat(tree / "1")
    write_run(tree / "1", "c" * 32, name="gamma")
    _as_if_the_clock_had_not_ticked(tree / "1", before)
    index.refresh()
    assert index.run("c" * 32).info.run_name == "gamma"


def test_an_experiment_made_in_the_same_clock_tick_as_the_scan_appears_after_refresh(tree):
    index = built(tree)
    before = os.stat(tree)
    write_experiment(tree, "7", "late")
    _as_if_the_clock_had_not_ticked(tree, before)
    index.refresh()
    assert index.experiment("7").name == "late"


def test_appended_metric_line_updates_latest(tree):
    index = built(tree)
    with open(tree / "1" / ("b" * 32) / "metrics" / "loss", "a") as f:
        f.write("3 0.1 1\n")
    index.refresh()
    assert index.run("b" * 32).metrics["loss"].value == 0.1


def test_status_change_in_meta_yaml_is_seen(tree):
    index = built(tree)
    meta_path = tree / "1" / ("b" * 32) / "meta.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    meta.update(status=3, end_time=5000)
    meta_path.write_text(yaml.safe_dump(meta))
    index.refresh()
    assert index.run("b" * 32).info.status == "FINISHED"


def test_changed_runs_are_reported_since_a_version(tree):
    index = built(tree)
    version = index.version
    with open(tree / "1" / ("b" * 32) / "metrics" / "loss", "a") as f:
        f.write("3 0.1 1\n")
    index.refresh()
    assert index.changed_since(version) == ["b" * 32]


def test_unchanged_refresh_keeps_the_version(tree):
    index = built(tree)
    version = index.version
    index.refresh()
    assert index.version == version


def test_torn_metric_line_is_read_once_complete(tree):
    index = built(tree)
    path = tree / "1" / ("b" * 32) / "metrics" / "loss"
    with open(path, "a") as f:
        f.write("3 0.0")
    index.refresh()
    assert index.run("b" * 32).metrics["loss"].value == 0.9
    with open(path, "a") as f:
        f.write("5 2\n")
    index.refresh()
    assert index.run("b" * 32).metrics["loss"].value == 0.05


def test_half_written_meta_yaml_keeps_last_good_info_and_is_retried(tree):
    index = built(tree)
    meta_path = tree / "1" / ("a" * 32) / "meta.yaml"
    good = meta_path.read_text()
    meta_path.write_text("")
    index.refresh()
    assert index.run("a" * 32).info.run_name == "alpha"
    assert any("a" * 32 in p.path for p in index.problems())
    meta_path.write_text(good.replace("alpha", "renamed"))
    index.refresh()
    assert index.run("a" * 32).info.run_name == "renamed"
    assert not index.problems()


def test_removed_run_folder_disappears(tree):
    import shutil

    index = built(tree)
    shutil.rmtree(tree / "1" / ("a" * 32))
    index.refresh()
    assert index.run("a" * 32) is None


def test_deleted_experiment_moves_to_trash(tree):
    index = built(tree)
    (tree / ".trash").mkdir()
    meta_path = tree / "1" / "meta.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    meta["lifecycle_stage"] = "deleted"
    meta_path.write_text(yaml.safe_dump(meta))
    (tree / "1").rename(tree / ".trash" / "1")
    index.refresh()
    assert index.experiment("1").lifecycle_stage == "deleted"
    assert index.run("a" * 32) is not None


def test_new_param_and_tag_are_seen(tree):
    index = built(tree)
    run_dir = tree / "1" / ("b" * 32)
    (run_dir / "params" / "batch").write_text("64")
    (run_dir / "tags" / "note").write_text("hi")
    index.refresh()
    run = index.run("b" * 32)
    assert run.params["batch"] == "64" and run.tags["note"] == "hi"


def test_a_change_outside_the_hot_set_is_seen_within_one_lap(tree, monkeypatch):
    from mlscope.index import refresh_policy

    monkeypatch.setattr(refresh_policy, "QUICK_SLICE", 1)
    monkeypatch.setattr(refresh_policy, "DEEP_SLICE", 0)
    index = built(tree)
    with open(tree / "1" / ("a" * 32) / "metrics" / "loss", "a") as f:
        f.write("9 0.01 5\n")
    for _ in range(len(index.runs())):
        index.refresh()
    assert index.run("a" * 32).metrics["loss"].value == 0.01


def test_a_running_run_idle_for_long_is_not_in_the_hot_set(tree, monkeypatch):
    import os

    from mlscope.index import refresh_policy

    monkeypatch.setattr(refresh_policy, "QUICK_SLICE", 0)
    monkeypatch.setattr(refresh_policy, "DEEP_SLICE", 0)
    monkeypatch.setattr(refresh_policy, "RUNNING_SLICE", 0)
    run_dir = tree / "1" / ("b" * 32)
    for path in [run_dir / "meta.yaml", run_dir / "metrics" / "loss"]:
        os.utime(path, (1_000_000, 1_000_000))  # written in 1970: a crashed run left RUNNING
    index = built(tree)
    with open(run_dir / "metrics" / "loss", "a") as f:
        f.write("3 0.1 1\n")
    index.refresh()
    assert index.run("b" * 32).metrics["loss"].value == 0.9


def test_running_runs_idle_for_long_are_checked_in_their_own_rotation(tmp_path, monkeypatch):
    import os

    from mlscope.index import refresh_policy

    monkeypatch.setattr(refresh_policy, "QUICK_SLICE", 0)  # the general lap never comes round
    monkeypatch.setattr(refresh_policy, "DEEP_SLICE", 0)
    monkeypatch.setattr(refresh_policy, "RUNNING_SLICE", 1)
    exp = write_experiment(tmp_path, "1")
    run_ids = ["c" * 32, "d" * 32]
    for run_id in run_ids:
        run_dir = write_run(exp, run_id, status=1, metrics={"loss": "1 0.5 0\n"})
        for path in [run_dir / "meta.yaml", run_dir / "metrics" / "loss"]:
            os.utime(path, (1_000_000, 1_000_000))  # quiet for decades: not hot
    index = built(tmp_path)
    for run_id in run_ids:
        with open(exp / run_id / "metrics" / "loss", "a") as f:
            f.write("9 0.001 50\n")
    index.refresh()
    assert sorted(index.run(r).metrics["loss"].value for r in run_ids) == [0.001, 0.5]  # one run per refresh
    index.refresh()
    assert [index.run(r).metrics["loss"].value for r in run_ids] == [0.001, 0.001]


def test_new_nested_metric_key_of_a_running_run_is_seen_on_the_next_refresh(tmp_path, monkeypatch):
    from mlscope.index import refresh_policy

    monkeypatch.setattr(refresh_policy, "QUICK_SLICE", 0)
    monkeypatch.setattr(refresh_policy, "DEEP_SLICE", 0)
    run_dir = write_run(write_experiment(tmp_path, "1"), "c" * 32, status=1, metrics={"train/loss": "1 0.5 0\n"})
    index = built(tmp_path)
    (run_dir / "metrics" / "train" / "acc").write_text("2 0.7 0\n")
    index.refresh()
    assert index.run("c" * 32).metrics["train/acc"].value == 0.7


def test_the_quick_check_rotation_wraps_around_to_every_run(tmp_path, monkeypatch):
    from mlscope.index import refresh_policy

    monkeypatch.setattr(refresh_policy, "QUICK_SLICE", 2)  # does not divide the number of runs
    monkeypatch.setattr(refresh_policy, "DEEP_SLICE", 0)
    exp = write_experiment(tmp_path, "1")
    run_ids = [c * 32 for c in "abc"]
    for run_id in run_ids:
        write_run(exp, run_id, metrics={"loss": "1 0.5 0\n"})
    index = built(tmp_path)
    for run_id in run_ids:
        with open(exp / run_id / "metrics" / "loss", "a") as f:
            f.write("9 0.001 50\n")
        for _ in range(3):  # one lap
            index.refresh()
        assert index.run(run_id).metrics["loss"].value == 0.001, run_id


def test_logged_models_are_reread_when_a_model_status_is_rewritten(tmp_path):
    from mlscope.index.logged_models import logged_models_of

    model_dir = tmp_path / "1" / "models" / ("m-" + "a" * 32)
    model_dir.mkdir(parents=True)
    meta = "experiment_id: '1'\nmodel_id: m-{0}\nname: net\nstatus: {1}\n"
    (model_dir / "meta.yaml").write_text(meta.format("a" * 32, 1))
    assert logged_models_of(tmp_path / "1")["m-" + "a" * 32].status == "LOGGED_MODEL_PENDING"
    (model_dir / "meta.yaml").write_text(meta.format("a" * 32, 2) + "source_run_id: null\n")
    assert logged_models_of(tmp_path / "1")["m-" + "a" * 32].status == "LOGGED_MODEL_READY"

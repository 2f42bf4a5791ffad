"""Malformed or half-written run folders are skipped and reported; the rest is served."""

from __future__ import annotations

from pathlib import Path

from mlscope.index import RunIndex
from tests.handmade import write_experiment, write_run


def build(root: Path) -> RunIndex:
    index = RunIndex(root)
    index.build()
    return index


def reasons(index: RunIndex) -> dict[str, str]:
    return {Path(p.path).name: p.reason for p in index.problems()}


def test_unparsable_meta_yaml_is_skipped_and_reported(tmp_path):
    exp = write_experiment(tmp_path)
    write_run(exp, "a" * 32, name="good")
    bad = write_run(exp, "b" * 32)
    (bad / "meta.yaml").write_text("run_id: [unclosed\n")
    index = build(tmp_path)
    assert [r.info.run_name for r in index.runs()] == ["good"]
    assert "not valid YAML" in reasons(index)["b" * 32]


def test_run_folder_without_subfolders_is_reported(tmp_path):
    exp = write_experiment(tmp_path)
    (exp / ("c" * 32)).mkdir()
    index = build(tmp_path)
    assert index.runs() == []
    assert "no metrics" in reasons(index)["c" * 32]


def test_garbage_metric_line_skips_only_that_run(tmp_path):
    exp = write_experiment(tmp_path)
    write_run(exp, "a" * 32, name="good", metrics={"loss": "1 0.5 0\n"})
    write_run(exp, "b" * 32, name="bad", metrics={"loss": "this is not a metric\n"})
    index = build(tmp_path)
    assert "good" in [r.info.run_name for r in index.runs()]
    assert "unreadable line" in reasons(index)["b" * 32]


def test_legacy_meta_fields_are_understood(tmp_path):
    exp = write_experiment(tmp_path)
    write_run(exp, "d" * 32, legacy=True, name="", status=None, tags={"mlflow.runName": "old-name"})
    run = build(tmp_path).run("d" * 32)
    assert (run.info.run_name, run.info.status) == ("old-name", "RUNNING")


def test_meta_yaml_with_wrong_run_id_is_reported(tmp_path):
    exp = write_experiment(tmp_path)
    run_dir = write_run(exp, "e" * 32)
    (run_dir / "meta.yaml").write_text((run_dir / "meta.yaml").read_text().replace("run_id: " + "e" * 32, "run_id: " + "f" * 32))
    index = build(tmp_path)
    assert "but the folder is" in reasons(index)["e" * 32]


def test_experiment_without_meta_yaml_is_reported(tmp_path):
    (tmp_path / "7").mkdir()
    write_run(write_experiment(tmp_path), "a" * 32)
    index = build(tmp_path)
    assert len(index.runs()) == 1
    assert "no meta.yaml" in reasons(index)["7"]


def test_reading_never_writes_to_the_tree(tmp_path):
    exp = write_experiment(tmp_path)
    write_run(exp, "a" * 32, metrics={"loss": "1 0.5 0\n"})
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    index = build(tmp_path)
    index.refresh()
    after = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    assert before == after

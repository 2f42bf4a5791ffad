"""Damaged or crafted run folders: the index reads only regular files inside the tree (issue 18)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from mlscope.index import RunIndex
from tests.handmade import write_experiment, write_run

RUN = "a" * 32
SECRET = "root:x:0:0:secret"


def build(root: Path, seconds: float = 30) -> RunIndex:
    """Build the index in a thread: a FIFO opened by mistake would block forever."""
    index = RunIndex(root)
    worker = threading.Thread(target=index.build, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the index never finished building"
    return index


def the_run(tmp_path: Path, **values: dict[str, str]) -> tuple[Path, Path]:
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    root = tmp_path / "mlruns"
    run_dir = write_run(write_experiment(root), RUN, name="r", **values)  # type: ignore[arg-type]
    return root, run_dir


def test_a_param_symlinked_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    root, run_dir = the_run(tmp_path, params={"lr": "0.1"})
    (run_dir / "params" / "x").symlink_to(tmp_path / "etc" / "passwd")
    (run_dir / "tags" / "x").symlink_to(tmp_path / "etc" / "passwd")
    run = build(root).run(RUN)
    assert run is not None
    assert run.params == {"lr": "0.1"}
    assert SECRET not in run.tags.values()


def test_a_params_folder_symlinked_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    root, run_dir = the_run(tmp_path)
    (run_dir / "params").rmdir()
    (run_dir / "params").symlink_to(tmp_path / "etc")
    run = build(root).run(RUN)
    assert run is not None and run.params == {}


def test_a_fifo_in_metrics_is_never_opened(tmp_path: Path) -> None:
    root, run_dir = the_run(tmp_path, metrics={"loss": "1 0.5 0\n"})
    os.mkfifo(run_dir / "metrics" / "pipe")
    run = build(root).run(RUN)
    assert run is not None and set(run.metrics) == {"loss"}


def test_a_symlink_loop_in_metrics_invents_no_keys(tmp_path: Path) -> None:
    root, run_dir = the_run(tmp_path, metrics={"acc": "1 0.9 0\n"})
    (run_dir / "metrics" / "loop").symlink_to(run_dir / "metrics")
    run = build(root).run(RUN)
    assert run is not None and set(run.metrics) == {"acc"}


def test_a_yaml_alias_bomb_in_meta_yaml_is_refused_and_reported(tmp_path: Path) -> None:
    root, run_dir = the_run(tmp_path)
    good = (run_dir / "meta.yaml").read_text()
    levels = ['a0: &a0 ["' + "x" * 10 + '"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (run_dir / "meta.yaml").write_text(good + "\n".join(levels) + "\nrun_name: *a8\n")
    index = build(root)
    assert index.run(RUN) is None
    assert any("aliases" in p.reason for p in index.problems())

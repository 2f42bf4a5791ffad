"""`mlscope migrate SRC DST` from the command line: the copy, its report, one-line refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlscope.cli.main import main
from tests.reference_trees import write_reference_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree") / "mlruns"
    write_reference_tree(root)
    return root


def test_migrate_copies_a_tree_into_sqlite_and_reports_verified_counts(tree: Path, tmp_path: Path, capsys) -> None:
    from mlflow.entities import ViewType
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    database = tmp_path / "mlflow.db"
    assert main(["migrate", str(tree), f"sqlite:///{database}"]) == 0
    out = capsys.readouterr().out
    copied = re.search(r"copied (\d+) experiments, (\d+) runs, .* row counts verified", out)
    assert copied is not None, out
    store = SqlAlchemyStore(f"sqlite:///{database}", str(tmp_path))
    experiments = [e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL)]
    assert len(experiments) == int(copied.group(1)) + 1  # and MLflow's Default, which the tree does not have
    assert len(store.search_runs(experiments, "", ViewType.ALL)) == int(copied.group(2))


def test_migrate_into_a_database_that_holds_runs_is_refused_in_one_line(tree: Path, tmp_path: Path, capsys) -> None:
    database = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["migrate", str(tree), database]) == 0
    capsys.readouterr()
    assert main(["migrate", str(tree), database]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mlscope: the destination database already holds runs: mlscope migrate copies into an empty database only"]


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("{tree}", "{tmp}/out", "is not a database URI"),
        ("{tmp}/nowhere", "sqlite:///{tmp}/x.db", "is not an mlruns folder"),
        ("{tree}", "mysql://u@h/db", "sqlite:///path/mlflow.db or postgresql://"),
    ],
)
def test_migrate_refuses_what_it_cannot_copy_in_one_line(tree: Path, tmp_path: Path, capsys, source: str, destination: str, message: str) -> None:
    argv = ["migrate", source.format(tree=tree, tmp=tmp_path), destination.format(tree=tree, tmp=tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_migrate_a_database_back_into_a_new_folder_mlflow_reads(tree: Path, tmp_path: Path, capsys) -> None:
    from mlflow.entities import ViewType

    from tests.reference_trees import file_store

    database = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert main(["migrate", str(tree), database]) == 0
    assert main(["migrate", database, str(tmp_path / "back")]) == 0
    out = capsys.readouterr().out
    assert f"into {tmp_path / 'back'}" in out
    original, back = file_store(tree), file_store(tmp_path / "back")
    ids = [e.experiment_id for e in original.search_experiments(view_type=ViewType.ALL)]
    runs = {r.info.run_id: r for r in back.search_runs(ids, "", ViewType.ALL, max_results=1000)}
    for run in original.search_runs(ids, "", ViewType.ALL, max_results=1000):
        assert (runs[run.info.run_id].data.params, runs[run.info.run_id].data.tags) == (run.data.params, run.data.tags)

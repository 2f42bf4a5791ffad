"""``mlscope.data.from_pandas`` / ``from_numpy`` make the dataset MLflow makes: name, digest, source, schema, profile."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import pytest

import mlscope

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")
mlflow = pytest.importorskip("mlflow")


def theirs(make: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dict(make(*args, **kwargs).to_dict())


FRAMES = {
    "numbers": lambda: pd.DataFrame({"i": [1, 2, 3], "f": [0.5, 1.5, 2.5], "f32": np.array([1, 2, 3], dtype=np.float32)}),
    "missing values": lambda: pd.DataFrame({"f": [1.0, None, 3.0], "s": ["a", None, "c"], "i": [1, 2, 3]}),
    "small ints and bools": lambda: pd.DataFrame({"b": [True, False], "i8": np.array([1, 2], dtype=np.int8), "u64": np.array([1, 2], dtype=np.uint64)}),
    "strings": lambda: pd.DataFrame({"name": ["tom", "nick", "july"], "age": [10, 15, 14]}),
    "datetimes": lambda: pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-06-01"]), "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]}),
    "lists and dicts": lambda: pd.DataFrame({"ids": [["a", "b"], ["c"]], "meta": [{"k": 1}, {"k": 2, "extra": "x"}]}),
    "bytes": lambda: pd.DataFrame({"blob": [b"ab", b"cd"]}),
    "mixed objects": lambda: pd.DataFrame({"mixed": [1, "two"]}),
    "nullable ints and categories": lambda: pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "c": pd.Categorical(["x", "y"])}),
    "many rows": lambda: pd.DataFrame({"x": np.arange(25_000), "y": np.arange(25_000) % 7 == 0}),
    "empty": lambda: pd.DataFrame({"a": pd.Series([], dtype=float)}),
}


@pytest.mark.parametrize("case", FRAMES)
def test_from_pandas_matches_mlflow(case: str) -> None:
    frame = FRAMES[case]()
    ours = mlscope.data.from_pandas(frame, source="data/train.csv", name="train", targets=frame.columns[0]).to_dict()
    assert ours == theirs(mlflow.data.from_pandas, frame, source="data/train.csv", name="train", targets=frame.columns[0])


ARRAYS = {
    "float matrix": lambda: (np.arange(12, dtype=np.float64).reshape(3, 4), None),
    "with targets": lambda: (np.random.default_rng(0).uniform(size=(5, 2, 3)).astype(np.float32), np.array([0, 1, 1, 0, 1])),
    "strings": lambda: (np.array(["a", "bb", "ccc"]), None),
    "bytes": lambda: (np.array([b"a", b"bb"]), None),
    "dict of arrays": lambda: ({"x": np.ones((2, 3)), "ids": np.array([1, 2], dtype=np.int32)}, {"y": np.zeros(2)}),
    "object array": lambda: (np.array([{"a": 1}, None], dtype=object), None),
    "long": lambda: (np.arange(30_000, dtype=np.int64), None),
}


@pytest.mark.parametrize("case", ARRAYS)
def test_from_numpy_matches_mlflow(case: str) -> None:
    features, targets = ARRAYS[case]()
    assert mlscope.data.from_numpy(features, source="s3://bucket/x.npy", targets=targets).to_dict() == theirs(
        mlflow.data.from_numpy, features, source="s3://bucket/x.npy", targets=targets)  # fmt: skip


@pytest.mark.parametrize("source", ["relative/data.csv", "/abs/data.csv", "file:///abs/data.csv", "https://example.com/d.csv", "s3://b/k", "gs://b/k"])
def test_sources_resolve_as_mlflows_registry_does(source: str) -> None:
    frame = pd.DataFrame({"a": [1]})
    ours = mlscope.data.from_pandas(frame, source=source).to_dict()
    expected = theirs(mlflow.data.from_pandas, frame, source=source)
    assert (ours["source_type"], ours["source"]) == (expected["source_type"], expected["source"])


def test_a_path_object_is_a_local_source(tmp_path: Path) -> None:
    dataset = mlscope.data.from_pandas(pd.DataFrame({"a": [1]}), source=tmp_path / "d.csv")
    assert (dataset.source._get_source_type(), dataset.source.to_dict()) == ("local", {"uri": str(tmp_path / "d.csv")})


def test_an_unknown_source_scheme_is_an_error_as_in_mlflow() -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="Could not find a source information resolver"):
        mlscope.data.from_pandas(pd.DataFrame({"a": [1]}), source="foo://bar")


def test_without_a_source_the_running_code_is_the_source() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    assert mlscope.data.from_pandas(frame).to_dict() == theirs(mlflow.data.from_pandas, frame)


def test_a_given_digest_and_name_are_kept() -> None:
    dataset = mlscope.data.from_numpy(np.ones(3), digest="abc", name="mine")
    assert (dataset.digest, dataset.name) == ("abc", "mine")


def test_a_missing_targets_column_is_an_error() -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="does not contain the specified targets column 'y'"):
        mlscope.data.from_pandas(pd.DataFrame({"x": [1]}), targets="y")


def test_an_mlflow_dataset_can_be_logged_with_mlscope(root: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with mlscope.start_run() as run:
        mlscope.log_input(mlflow.data.from_pandas(frame, source="x.csv", name="from-mlflow"), context="eval")
    (logged,) = mlscope.get_run(run.info.run_id).inputs.dataset_inputs
    assert (logged.dataset.name, logged.dataset.digest) == ("from-mlflow", mlscope.data.from_pandas(frame).digest)
    assert [(t.key, t.value) for t in logged.tags] == [("mlflow.data.context", "eval")]


def test_get_source_reads_a_logged_dataset_back(root: Path) -> None:
    with mlscope.start_run() as run:
        mlscope.log_input(mlscope.data.from_numpy(np.ones(2), source="https://example.com/a.npy"))
    (logged,) = mlscope.get_run(run.info.run_id).inputs.dataset_inputs
    source = mlscope.data.get_source(logged)
    assert (source._get_source_type(), source.to_dict()) == ("http", {"url": "https://example.com/a.npy"})


def test_context_or_tags_without_a_dataset_is_an_error(root: Path) -> None:
    with pytest.raises(mlscope.exceptions.MlflowException, match="`dataset` must be specified"):
        mlscope.log_input(context="training")


def test_a_metric_logged_with_a_dataset_links_the_dataset_to_the_run(root: Path, mlflow_client: Any) -> None:
    dataset = mlscope.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="eval-set")
    with mlscope.start_run() as run:
        mlscope.log_metric("acc", 0.9, dataset=dataset)
        mlscope.log_metric("acc", 0.95, step=1, dataset=dataset)
    theirs_run = mlflow_client(root).get_run(run.info.run_id)
    assert [(d.dataset.name, d.dataset.digest) for d in theirs_run.inputs.dataset_inputs] == [("eval-set", dataset.digest)]
    history = mlflow_client(root).get_metric_history(run.info.run_id, "acc")
    assert {(m.dataset_name, m.dataset_digest) for m in history} == {("eval-set", dataset.digest)}

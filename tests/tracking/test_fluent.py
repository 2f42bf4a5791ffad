"""The module-level API behaves as MLflow's fluent API does."""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

import pytest

import mlscope
from mlscope import MlscopeClient
from mlscope.store import reader
from mlscope.tracking import fluent


def test_logging_outside_a_run_starts_one_in_the_default_experiment(root: Path) -> None:
    mlscope.log_param("p", 1)
    run = mlscope.active_run()
    assert run is not None and run.info.experiment_id == "0"
    assert (root / "0" / run.info.run_id / "params" / "p").read_text() == "1"


def test_context_manager_ends_the_run_finished(root: Path) -> None:
    with mlscope.start_run() as run:
        mlscope.log_metric("m", 1.0)
    assert mlscope.active_run() is None
    assert mlscope.get_run(run.info.run_id).info.status == "FINISHED"
    assert mlscope.get_run(run.info.run_id).info.end_time is not None


def test_context_manager_marks_the_run_failed_on_exception(root: Path) -> None:
    with pytest.raises(ZeroDivisionError), mlscope.start_run() as run:
        1 / 0  # noqa: B018
    assert mlscope.get_run(run.info.run_id).info.status == "FAILED"


def test_starting_a_second_run_without_nested_is_an_error(root: Path) -> None:
    with mlscope.start_run(), pytest.raises(mlscope.MlscopeException, match="already active"):
        mlscope.start_run()


def test_nested_run_records_its_parent(root: Path) -> None:
    with mlscope.start_run() as parent, mlscope.start_run(nested=True) as child:
        pass
    assert mlscope.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id


def test_resuming_a_run_by_id_sets_it_running_again(root: Path) -> None:
    with mlscope.start_run() as run:
        mlscope.log_param("a", 1)
    with mlscope.start_run(run_id=run.info.run_id) as resumed:
        assert mlscope.get_run(run.info.run_id).info.status == "RUNNING"
        mlscope.log_param("b", 2)
    assert resumed.info.run_id == run.info.run_id
    final = mlscope.get_run(run.info.run_id)
    assert final.data.params == {"a": "1", "b": "2"} and final.info.status == "FINISHED"


def test_end_run_records_the_given_status(root: Path) -> None:
    run = mlscope.start_run()
    mlscope.end_run("KILLED")
    assert mlscope.get_run(run.info.run_id).info.status == "KILLED"


def test_last_active_run_shows_the_ended_run_final_state(root: Path) -> None:
    with mlscope.start_run() as run:
        mlscope.log_metric("m", 2.0)
    last = mlscope.last_active_run()
    assert last is not None and last.info.run_id == run.info.run_id and last.data.metrics == {"m": 2.0}


def test_set_experiment_creates_a_missing_experiment_and_runs_go_there(root: Path) -> None:
    experiment = mlscope.set_experiment("new-exp")
    with mlscope.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    assert mlscope.get_experiment_by_name("new-exp").experiment_id == experiment.experiment_id


def test_set_experiment_refuses_a_deleted_experiment(root: Path) -> None:
    experiment_id = mlscope.create_experiment("old")
    MlscopeClient(str(root)).delete_experiment(experiment_id)
    with pytest.raises(mlscope.MlscopeException, match="deleted"):
        mlscope.set_experiment("old")


def test_system_tags_are_set_on_new_runs(root: Path) -> None:
    with mlscope.start_run(description="# notes") as run:
        pass
    tags = mlscope.get_run(run.info.run_id).data.tags
    for key in ("mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.runName"):
        assert key in tags
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.note.content"] == "# notes"


def test_git_commit_tag_is_read_from_the_scripts_repository(tmp_path: Path) -> None:
    from mlscope.tracking.context import git_tags

    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    (git / "config").write_text('[remote "origin"]\n\turl = https://example.com/r.git\n')
    (tmp_path / "repo" / "train.py").write_text("")
    tags = git_tags(tmp_path / "repo" / "train.py")
    assert tags == {"mlflow.source.git.commit": "a" * 40, "mlflow.source.git.branch": "main", "mlflow.source.git.repoURL": "https://example.com/r.git"}


def test_generated_run_name_is_used_only_when_no_name_is_given(root: Path) -> None:
    with mlscope.start_run() as unnamed:
        pass
    with mlscope.start_run(run_name="given") as named:
        pass
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,4}", unnamed.info.run_name) or len(unnamed.info.run_name) == 20
    assert named.info.run_name == "given"
    assert mlscope.get_run(named.info.run_id).data.tags["mlflow.runName"] == "given"


def test_changing_a_param_value_is_an_error_naming_the_key(root: Path) -> None:
    mlscope.log_param("depth", 3)
    with pytest.raises(mlscope.MlscopeException, match="depth"):
        mlscope.log_param("depth", 5)


@pytest.mark.parametrize("key", ["a/../b", "/lead", "..", "bad\nkey", "semi;colon"])
def test_invalid_keys_are_rejected(root: Path, key: str) -> None:
    with pytest.raises(mlscope.MlscopeException):
        mlscope.log_metric(key, 1.0)


def test_over_long_param_values_are_truncated_like_mlflow(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlscope.log_param("long", "x" * 7000)
    assert len(mlscope.last_active_run().data.params["long"]) == 6000
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(mlscope.MlscopeException, match="6000"):
        mlscope.log_param("long2", "x" * 7000)


def _mlflow_fluent_log_metric(folder: Path, *args: Any) -> Any:
    """What MLflow's own fluent log_metric makes of the arguments on a FileStore: the value read back, or the error type."""
    import mlflow

    mlflow.set_tracking_uri(folder.as_uri())
    try:
        with mlflow.start_run() as run:
            mlflow.log_metric("m", *args)
        return mlflow.MlflowClient().get_run(run.info.run_id).data.metrics["m"]
    except Exception as exc:
        return type(exc)
    finally:
        mlflow.set_tracking_uri(None)


@pytest.mark.parametrize("value", ["1.5", True, 3, -2, "nan"], ids=repr)
def test_metric_values_are_converted_as_mlflow_converts_them(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    theirs = _mlflow_fluent_log_metric(tmp_path / "mlflow", value)
    mlscope.log_metric("m", value)
    ours = mlscope.get_run(mlscope.active_run().info.run_id).data.metrics["m"]
    assert isinstance(theirs, float)
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


@pytest.mark.parametrize("value", ["high", [1], 10**400, None], ids=lambda v: repr(v)[:12])
def test_metric_values_mlflow_cannot_convert_are_refused(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert isinstance(_mlflow_fluent_log_metric(tmp_path / "mlflow", value), type)  # MLflow raises (some as bare TypeError/OverflowError)
    with pytest.raises(mlscope.MlscopeException, match="value"):
        mlscope.log_metric("m", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("step", [2**63, -(2**63) - 1, 10**400, float("inf"), "x"], ids=lambda v: repr(v)[:12])
def test_steps_outside_int64_are_refused_as_mlflows_rest_client_refuses_them(root: Path, step: Any) -> None:
    with pytest.raises(mlscope.MlscopeException, match="step"):
        mlscope.log_metric("m", 1.0, step=step)


def test_log_metrics_writes_one_line_per_point_with_step_and_timestamp(root: Path) -> None:
    mlscope.log_metrics({"a": 1, "b": 2.5}, step=7, timestamp=123)
    run_dir = root / "0" / mlscope.active_run().info.run_id
    assert (run_dir / "metrics" / "a").read_text() == "123 1.0 7\n"
    assert (run_dir / "metrics" / "b").read_text() == "123 2.5 7\n"


def test_tags_can_be_set_and_deleted(root: Path) -> None:
    mlscope.set_tags({"x": 1, "y": "two"})
    mlscope.delete_tag("x")
    tags = mlscope.last_active_run().data.tags
    assert "x" not in tags and tags["y"] == "two"


def test_artifacts_text_dict_and_image_land_in_the_artifact_folder(root: Path, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("hi")
    mlscope.log_artifact(tmp_path / "f.txt", "docs")
    mlscope.log_text("log line\n", "logs/train.log")
    mlscope.log_dict({"a": 1}, "cfg.json")
    mlscope.log_dict({"a": 1}, "cfg.yaml")
    mlscope.log_image([[0, 128], [255, 64]], "img.png")
    art = Path(mlscope.get_artifact_uri().removeprefix("file://"))
    assert (art / "docs" / "f.txt").read_text() == "hi"
    assert (art / "logs" / "train.log").read_text() == "log line\n"
    assert (art / "cfg.json").read_text() == '{\n  "a": 1\n}' and (art / "cfg.yaml").read_text() == "a: 1\n"
    assert (art / "img.png").read_bytes().startswith(b"\x89PNG")


def test_image_series_uses_mlflows_file_names_and_tag(root: Path) -> None:
    mlscope.log_image([[1, 2], [3, 4]], key="samples/pred", step=3, timestamp=99)
    art = Path(mlscope.get_artifact_uri("images").removeprefix("file://"))
    names = sorted(p.name for p in art.iterdir())
    assert re.fullmatch(r"samples~pred\+step\+3\+timestamp\+99\+[0-9a-f-]{36}\.png", names[1])
    assert names[0] == names[1].removesuffix(".png") + "+compressed.webp"
    assert mlscope.last_active_run().data.tags["mlflow.loggedImages"] == "True"


def test_log_table_is_listed_in_the_logged_artifacts_tag(root: Path) -> None:
    mlscope.log_table({"a": [1, 2], "b": ["x", "y"]}, "t.json")
    tag = mlscope.last_active_run().data.tags["mlflow.loggedArtifacts"]
    assert tag == '[{"path": "t.json", "type": "table"}]'


def test_search_runs_filters_and_orders_like_mlflow(root: Path) -> None:
    for i in range(4):
        with mlscope.start_run(run_name=f"r{i}"):
            mlscope.log_metric("acc", i / 10)
            mlscope.log_param("opt", "adam" if i % 2 else "sgd")
    runs = mlscope.search_runs(filter_string="metrics.acc > 0.05 and params.opt = 'adam'", order_by=["metrics.acc DESC"], output_format="list")
    assert [r.info.run_name for r in runs] == ["r3", "r1"]


def test_a_database_tracking_uri_gives_a_clear_error(root: Path) -> None:
    mlscope.set_tracking_uri("sqlite:///mlflow.db")
    with pytest.raises(mlscope.MlscopeException, match="not a local path, file: URI or http"):
        mlscope.log_param("p", 1)


def test_an_unreachable_server_is_an_error_naming_its_address(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tracking_servers import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    url = f"http://127.0.0.1:{free_port()}"
    mlscope.set_tracking_uri(url)
    with pytest.raises(mlscope.MlscopeException, match=f"API request to {url}/api/2.0/mlflow/runs/create failed with exception .*Connection refused"):
        mlscope.log_param("p", 1)


def test_tracking_uri_defaults_to_env_or_mlruns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fluent._reset_for_tests()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert mlscope.get_tracking_uri() == "./mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "x").as_uri())
    assert mlscope.get_tracking_uri() == (tmp_path / "x").as_uri()


def test_each_thread_has_its_own_active_run(root: Path) -> None:
    ids: dict[int, str] = {}

    def work(n: int) -> None:
        with mlscope.start_run() as run:
            mlscope.log_metric("n", n)
            ids[n] = run.info.run_id

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids.values())) == 4
    for n, run_id in ids.items():
        assert mlscope.get_run(run_id).data.metrics == {"n": float(n)}


def test_client_offers_the_same_operations_by_id(root: Path) -> None:
    client = MlscopeClient(str(root))
    experiment_id = client.create_experiment("by-id", tags={"team": "x"})
    run = client.create_run(experiment_id, run_name="r")
    client.log_batch(run.info.run_id, metrics=[("m", 1.0, 5, 0), ("m", 2.0, 6, 1)], params={"p": 1}, tags={"t": "v"})
    client.set_terminated(run.info.run_id)
    history = client.get_metric_history(run.info.run_id, "m")
    assert [(m.value, m.step) for m in history] == [(1.0, 0), (2.0, 1)]
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.data.params == {"p": "1"} and got.data.tags["t"] == "v"
    assert client.get_experiment(experiment_id).tags == {"team": "x"}
    assert reader.read_experiment(root / experiment_id).name == "by-id"

"""`mlscope experiments|runs|doctor|demo` through manage.register, as the main CLI wires it."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

import mlscope
from mlscope import MlscopeClient
from mlscope.cli import manage


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mlscope")
    manage.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_experiments_create_list_rename_delete_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = str(tmp_path / "mlruns")
    assert cli("experiments", "create", "-n", "first", "--tracking-uri", uri) == 0
    capsys.readouterr()
    assert cli("experiments", "list", "--json", "--tracking-uri", uri) == 0
    (experiment_id,) = [e["experiment_id"] for e in json.loads(capsys.readouterr().out) if e["name"] == "first"]
    assert cli("experiments", "rename", "-x", experiment_id, "--new-name", "second", "--tracking-uri", uri) == 0
    assert cli("experiments", "delete", "-x", experiment_id, "--tracking-uri", uri) == 0
    assert (tmp_path / "mlruns" / ".trash" / experiment_id).is_dir()
    assert cli("experiments", "restore", "-x", experiment_id, "--tracking-uri", uri) == 0
    capsys.readouterr()
    assert cli("experiments", "list", "--tracking-uri", uri) == 0
    out = capsys.readouterr().out
    assert "Experiment Id" in out and "second" in out


def test_runs_list_describe_delete_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = str(tmp_path / "mlruns")
    client = MlscopeClient(uri)
    run_id = client.create_run("0", run_name="the-run").info.run_id
    client.log_batch(run_id, metrics=[("acc", 0.9, 1, 0)], params={"lr": 0.1})
    assert cli("runs", "list", "-x", "0", "--tracking-uri", uri) == 0
    assert "the-run" in capsys.readouterr().out
    assert cli("runs", "describe", "--run-id", run_id, "--json", "--tracking-uri", uri) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["data"]["params"] == {"lr": "0.1"} and described["data"]["metrics"]["acc"]["value"] == 0.9
    assert cli("runs", "delete", "--run-id", run_id, "--tracking-uri", uri) == 0
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert cli("runs", "restore", "--run-id", run_id, "--tracking-uri", uri) == 0
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_errors_are_one_line_on_stderr_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("runs", "describe", "--run-id", "nope", "--tracking-uri", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlscope: error:") and err.count("\n") == 1 and "Traceback" not in err


def test_runs_list_reports_malformed_runs_without_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = str(tmp_path / "mlruns")
    MlscopeClient(uri).create_run("0")
    (tmp_path / "mlruns" / "0" / "broken").mkdir()
    assert cli("runs", "list", "-x", "0", "--tracking-uri", uri) == 0
    assert "broken" in capsys.readouterr().err


def test_demo_writes_a_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("demo", str(tmp_path / "demo")) == 0
    assert "Wrote" in capsys.readouterr().out
    assert len(MlscopeClient(str(tmp_path / "demo")).search_experiments()) == 4


def test_doctor_prints_versions_uris_active_run_and_dependencies(root: Path) -> None:
    with mlscope.start_run() as run:
        out = io.StringIO()
        mlscope.doctor(file=out)
    text = out.getvalue()
    for expected in ("Python version", "mlscope version", f"Tracking URI: {root}", "Registry URI", f"Active run ID: {run.info.run_id}", "pyyaml"):
        assert expected in text


def test_doctor_warns_about_malformed_runs(root: Path) -> None:
    mlscope.log_param("p", 1)
    mlscope.end_run()
    (root / "0" / "deadbeef").mkdir()
    (root / "0" / "deadbeef" / "meta.yaml").write_text("run_id: other\n")
    out = io.StringIO()
    mlscope.doctor(file=out)
    assert "WARNING: 1 malformed" in out.getvalue() and "deadbeef" in out.getvalue()


def test_doctor_warns_about_a_remote_tracking_uri(root: Path) -> None:
    mlscope.set_tracking_uri("databricks")
    out = io.StringIO()
    mlscope.doctor(file=out)
    assert "WARNING" in out.getvalue() and "not a local path" in out.getvalue()


def test_doctor_says_whether_a_tracking_server_answers(root: Path, mlscope_server_process) -> None:
    mlscope.set_tracking_uri(mlscope_server_process.url)
    out = io.StringIO()
    mlscope.doctor(file=out)
    assert f"Tracking server: {mlscope_server_process.url} (answers /health)" in out.getvalue() and "WARNING" not in out.getvalue()


def test_doctor_warns_when_the_tracking_server_does_not_answer(root: Path) -> None:
    from tests.tracking_servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    mlscope.set_tracking_uri(url)
    out = io.StringIO()
    mlscope.doctor(file=out)
    assert f"WARNING: the tracking server at {url} does not answer" in out.getvalue()

"""The damage matrix (issue 18): every kind of damage, each on its own copy of an MLflow-written run, one server.

The tree: one experiment per kind, each holding two copies of the reference
tree's richest run (params with nested keys, NaN-free metrics, tags, a dataset
input, text/JSON/YAML artifacts): the run ``D`` the damage is applied to (or
the experiment itself, for experiment-level kinds) and its untouched sibling
``S``. Beside the tree, a folder holds a secret that symlinks and artifact
URIs point at. For each kind the main endpoints (MLflow's REST, the
dashboard's API, downloads and the zip) are asked about ``D`` and ``S``; then:

* no answer is a 5xx, and every answer comes (nothing hangs on a FIFO);
* every run the damage did not make unreadable is served, its sibling first of all;
* damage that makes a run or an experiment unreadable (or that mlscope serves with defaults) is at /api/mlscope/problems;
* nothing outside the tree is in any answer;
* the tree is byte-identical afterwards: reading never writes.

Tests run as root here, so ``chmod 000`` does not stop a read: the
"unreadable" kinds still run (the files must be served or reported, never a
5xx) but only an unprivileged run exercises EACCES itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import LiveServer
from tests.handmade import remove_deep

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
SECRET = "do-not-serve-8c1f2e"
PASSWD = b"root:x:0:0"
MAX_KEYS = 2000  # the per-folder bound (100,000 in production) lowered so one run can pass it cheaply
BAD_NAME = b"bad\xff\xfename"


@dataclass
class Spot:
    """Where one kind's damage lands."""

    root: Path
    exp: Path
    run: Path  # D: the run the damage is applied to
    sibling: Path  # S: never touched
    outside: Path  # a folder beside the tree holding the secret

    def raw(self, folder: Path, name: bytes, content: bytes = b"v") -> None:
        """Write a file whose name is raw bytes (not valid UTF-8)."""
        with open(os.fsencode(folder) + b"/" + name, "wb") as out:
            out.write(content)

    def meta(self, **fields: object) -> None:
        path = self.run / "meta.yaml"
        meta = yaml.safe_load(path.read_text())
        meta.update(fields)
        path.write_text(yaml.safe_dump(meta))

    def exp_meta(self, **fields: object) -> None:
        path = self.exp / "meta.yaml"
        meta = yaml.safe_load(path.read_text())
        meta.update(fields)
        path.write_text(yaml.safe_dump(meta))


@dataclass(frozen=True)
class Damage:
    apply: Callable[[Spot], None]
    unreadable: str | None = None  # "run" or "experiment": what the damage takes away (it must be reported)
    reported: bool = False  # served, but with defaults or without the damaged part: reported all the same


def _replace_with_file(path: Path, content: bytes = b"not a folder") -> None:
    shutil.rmtree(path)
    path.write_bytes(content)


def _alias_bomb() -> str:
    levels = ['a0: &a0 ["' + "x" * 10 + '"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(levels) + "\n"


def _deep_artifacts(spot: Spot) -> None:
    fd = os.open(spot.run / "artifacts", os.O_RDONLY)
    try:
        for _ in range(1000):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as leaf:
            leaf.write(b"bottom")
    finally:
        os.close(fd)


def _many_params(count: int) -> Callable[[Spot], None]:
    def apply(spot: Spot) -> None:
        for i in range(count):
            (spot.run / "params" / f"p{i}").write_text(str(i))
    return apply


def _chmod_000(relative: str) -> Callable[[Spot], None]:
    def apply(spot: Spot) -> None:
        os.chmod(spot.run / relative, 0)
    return apply


def _fifo(relative: str) -> Callable[[Spot], None]:
    return lambda spot: os.mkfifo(spot.run / relative)


def _symlink_out(relative: str, target: str = "passwd", replace: bool = False) -> Callable[[Spot], None]:
    def apply(spot: Spot) -> None:
        path = spot.run / relative
        if replace:
            shutil.rmtree(path)
        path.symlink_to(spot.outside / target if target else spot.outside)
    return apply


def _sparse_metric(spot: Spot) -> None:
    with open(spot.run / "metrics" / "huge", "wb") as sparse:
        sparse.truncate(2 << 30)  # 2 GB of holes: no disk used, every byte readable


def _rmtree(relative: str) -> Callable[[Spot], None]:
    return lambda spot: shutil.rmtree(spot.run / relative)


def _write(relative: str, content: bytes, experiment: bool = False) -> Callable[[Spot], None]:
    return lambda spot: ((spot.exp if experiment else spot.run) / relative).write_bytes(content)


def _append(relative: str, content: bytes) -> Callable[[Spot], None]:
    def apply(spot: Spot) -> None:
        with open(spot.run / relative, "ab") as out:
            out.write(content)
    return apply


KINDS: dict[str, Damage] = {
    # ---- the run's meta.yaml
    "meta-missing": Damage(lambda s: (s.run / "meta.yaml").unlink(), unreadable="run"),
    "meta-empty": Damage(_write("meta.yaml", b""), unreadable="run"),
    "meta-broken-yaml": Damage(_write("meta.yaml", b"run_id: [unclosed\nstatus: {\n"), unreadable="run"),
    "meta-binary": Damage(_write("meta.yaml", bytes(range(256)) * 8), unreadable="run"),
    "meta-huge": Damage(lambda s: os.truncate(s.run / "meta.yaml", 64 << 20), unreadable="run"),
    "meta-sparse-2gb": Damage(lambda s: os.truncate(s.run / "meta.yaml", 2 << 30), unreadable="run"),
    "meta-alias-bomb": Damage(_append("meta.yaml", _alias_bomb().encode() + b"run_name: *a8\n"), unreadable="run"),
    "meta-a-list": Damage(_write("meta.yaml", b"- run_id\n- status\n"), unreadable="run"),
    "meta-a-folder": Damage(lambda s: ((s.run / "meta.yaml").unlink(), (s.run / "meta.yaml").mkdir()), unreadable="run"),
    "meta-a-fifo": Damage(lambda s: ((s.run / "meta.yaml").unlink(), os.mkfifo(s.run / "meta.yaml")), unreadable="run"),
    "meta-symlinked-out": Damage(lambda s: ((s.run / "meta.yaml").unlink(), (s.run / "meta.yaml").symlink_to(s.outside / "meta.yaml")),
                                 unreadable="run"),
    "meta-invalid-utf8": Damage(_append("meta.yaml", b"description: caf\xe9\xff\n"), unreadable="run"),
    "meta-wrong-run-id": Damage(lambda s: s.meta(run_id="f" * 32, run_uuid="f" * 32), unreadable="run"),
    "status-out-of-range": Damage(lambda s: s.meta(status=99), reported=True),
    "status-a-string": Damage(lambda s: s.meta(status="broken"), reported=True),
    "status-a-list": Damage(lambda s: s.meta(status=[1, 2]), reported=True),
    "lifecycle-stage-an-object": Damage(lambda s: s.meta(lifecycle_stage={"x": 1}), reported=True),
    "start-time-a-string": Damage(lambda s: s.meta(start_time="yesterday"), reported=True),
    "start-time-a-list": Damage(lambda s: s.meta(start_time=[1, 2], end_time={"a": 1}), reported=True),
    "start-time-huge": Damage(lambda s: s.meta(start_time=10**30, end_time=-(10**30)), reported=True),
    "run-name-an-object": Damage(lambda s: s.meta(run_name={"a": [1]}, user_id=[1])),
    "artifact-uri-etc": Damage(lambda s: s.meta(artifact_uri="file:///etc")),
    "artifact-uri-outside": Damage(lambda s: s.meta(artifact_uri=s.outside.as_uri())),
    "artifact-uri-relative": Damage(lambda s: s.meta(artifact_uri="../../../outside")),
    "artifact-uri-not-a-string": Damage(lambda s: s.meta(artifact_uri=[1, 2])),
    "artifact-uri-remote": Damage(lambda s: s.meta(artifact_uri="s3://bucket/path")),
    # ---- the run folder
    "run-folder-a-file": Damage(lambda s: _replace_with_file(s.run), reported=True),
    "run-folder-symlinked-out": Damage(lambda s: (shutil.rmtree(s.run), s.run.symlink_to(s.outside / "run")), unreadable="run"),
    "no-metrics-params-tags-folders": Damage(lambda s: [shutil.rmtree(s.run / f) for f in ("metrics", "params", "tags")], unreadable="run"),
    "no-params-folder": Damage(_rmtree("params"), unreadable="run"),
    "no-tags-folder": Damage(_rmtree("tags")),
    "metrics-folder-a-file": Damage(lambda s: _replace_with_file(s.run / "metrics"), unreadable="run"),
    "params-folder-a-file": Damage(lambda s: _replace_with_file(s.run / "params"), unreadable="run"),
    "self-parent": Damage(lambda s: (s.run / "tags" / "mlflow.parentRunId").write_text(s.run.name)),
    "leftover-temp-files": Damage(lambda s: [(s.run / f / ".mlscope-tmp-123-x").write_text("half") for f in ("metrics", "params", "tags", "artifacts")]),
    # ---- metrics
    "metric-garbage-line": Damage(_append("metrics/loss", b"this is not a metric\n"), unreadable="run"),
    "metric-binary": Damage(_write("metrics/binary", bytes(range(256)) * 4), unreadable="run"),
    "metric-nan-inf": Damage(_write("metrics/odd", b"1 nan 0\n2 inf 1\n3 -inf 2\n4 NaN 3\n5 1e999 4\n")),
    "metric-empty-file": Damage(_write("metrics/empty", b"")),
    "metric-torn-last-line": Damage(_append("metrics/loss", b"1790000009999 0.1")),
    "metric-huge-values": Damage(_write("metrics/big", b"1 1e308 99999999999999999999\n-5 -1e-320 -3\n")),
    "metric-sparse-2gb": Damage(_sparse_metric, reported=True),
    "metric-fifo": Damage(_fifo("metrics/pipe")),
    "metric-symlink-loop": Damage(lambda s: (s.run / "metrics" / "loop").symlink_to(s.run / "metrics")),
    "metric-symlinked-out": Damage(_symlink_out("metrics/secret", "metric")),
    "metric-invalid-utf8-name": Damage(lambda s: s.raw(s.run / "metrics", BAD_NAME, b"1 0.5 0\n")),
    "metric-unreadable": Damage(_chmod_000("metrics/loss")),
    # ---- params and tags
    "param-fifo": Damage(_fifo("params/pipe")),
    "tag-fifo": Damage(_fifo("tags/pipe")),
    "param-symlinked-out": Damage(_symlink_out("params/secret")),
    "tag-symlinked-out": Damage(_symlink_out("tags/secret")),
    "params-folder-symlinked-out": Damage(_symlink_out("params", "", replace=True)),
    "param-symlink-loop": Damage(lambda s: (s.run / "params" / "loop").symlink_to(s.run / "params")),
    "param-invalid-utf8-name": Damage(lambda s: s.raw(s.run / "params", BAD_NAME)),
    "tag-invalid-utf8-name": Damage(lambda s: s.raw(s.run / "tags", BAD_NAME)),
    "param-invalid-utf8-value": Damage(_write("params/lr", b"0.\xff\xfe1")),
    "param-huge-value": Damage(_write("params/huge", b"x" * (8 << 20))),
    "params-many": Damage(_many_params(MAX_KEYS // 2)),
    "params-past-the-bound": Damage(_many_params(MAX_KEYS + 1), reported=True),
    "param-unreadable": Damage(_chmod_000("params/lr")),
    "params-folder-unreadable": Damage(_chmod_000("params")),
    # ---- artifacts
    "artifact-fifo": Damage(_fifo("artifacts/pipe")),
    "artifacts-folder-symlinked-out": Damage(_symlink_out("artifacts", "", replace=True)),
    "artifact-symlinked-out": Damage(_symlink_out("artifacts/secret.txt")),
    "artifact-symlink-loop": Damage(lambda s: (s.run / "artifacts" / "loop").symlink_to(s.run / "artifacts")),
    "artifact-invalid-utf8-name": Damage(lambda s: s.raw(s.run / "artifacts", BAD_NAME + b".txt", b"inside")),
    "artifacts-1000-deep": Damage(_deep_artifacts),
    "artifact-unreadable": Damage(_chmod_000("artifacts/config.json")),
    "inputs-garbage": Damage(lambda s: [p.write_bytes(b"\xff: [") for p in (s.run / "inputs").rglob("meta.yaml")]),
    # ---- the experiment
    "experiment-folder-a-file": Damage(lambda s: _replace_with_file(s.exp), unreadable="experiment"),
    "experiment-meta-missing": Damage(lambda s: (s.exp / "meta.yaml").unlink(), unreadable="experiment"),
    "experiment-meta-broken": Damage(_write("meta.yaml", b"name: [\n", experiment=True), unreadable="experiment"),
    "experiment-meta-alias-bomb": Damage(lambda s: (s.exp / "meta.yaml").write_text(
        (s.exp / "meta.yaml").read_text() + _alias_bomb() + "tags: *a8\n"), unreadable="experiment"),
    "experiment-meta-a-fifo": Damage(lambda s: ((s.exp / "meta.yaml").unlink(), os.mkfifo(s.exp / "meta.yaml")), unreadable="experiment"),
    "experiment-artifact-location-etc": Damage(lambda s: s.exp_meta(artifact_location="file:///etc")),
    "experiment-name-an-object": Damage(lambda s: s.exp_meta(name={"a": 1}, creation_time="x")),
}


def _copy_run(template: Path, exp: Path, run_id: str, name: str) -> Path:
    run = exp / run_id
    shutil.copytree(template, run, symlinks=True)
    meta = yaml.safe_load((run / "meta.yaml").read_text())
    meta.update(run_id=run_id, run_uuid=run_id, experiment_id=exp.name, run_name=name, artifact_uri=(run / "artifacts").as_uri())
    (run / "meta.yaml").write_text(yaml.safe_dump(meta))
    (run / "tags" / "mlflow.runName").write_text(name)
    return run


@dataclass
class Matrix:
    root: Path
    spots: dict[str, Spot]
    ids: dict[str, tuple[str, str, str]]  # kind -> (experiment id, D, S)
    server: LiveServer
    http: httpx.Client
    before: dict[bytes, tuple[Any, ...]]
    answers: dict[str, list[tuple[str, int, bytes]]]


def snapshot(root: Path) -> dict[bytes, tuple[Any, ...]]:
    """Every entry below root (symlinks not followed): type, mode, size, mtime, and the content's hash or link target."""
    found: dict[bytes, tuple[Any, ...]] = {}
    stack = [os.fsencode(root)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                st = entry.stat(follow_symlinks=False)
                detail: Any = None
                if stat.S_ISLNK(st.st_mode):
                    detail = os.readlink(entry.path)
                elif stat.S_ISREG(st.st_mode) and st.st_size <= 64 << 20:
                    with open(entry.path, "rb") as f:
                        detail = hashlib.sha1(f.read()).hexdigest()
                elif stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
                found[entry.path] = (st.st_mode, st.st_size if not stat.S_ISDIR(st.st_mode) else 0, st.st_mtime_ns, detail)
    return found


@pytest.fixture(scope="module")
def matrix(reference_tree: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    from mlscope.index import run_reads

    ref_root, ref_ids = reference_tree
    ref_exp = ref_root / ref_ids["experiment"]
    template = ref_exp / ref_ids["runs"]["parent"]
    base = tmp_path_factory.mktemp("damage-matrix")
    root, outside = base / "mlruns", base / "outside"
    (outside / "run" / "metrics").mkdir(parents=True)
    (outside / "passwd").write_text(SECRET)
    (outside / "metric").write_text(f"1 0.5 0\n{SECRET}\n")
    (outside / "meta.yaml").write_text(f"run_id: {SECRET}\n")
    (outside / "run" / "metrics" / "loss").write_text(f"1 0.5 0\n{SECRET}\n")
    root.mkdir()
    spots: dict[str, Spot] = {}
    ids: dict[str, tuple[str, str, str]] = {}
    for n, kind in enumerate(KINDS, start=1):
        exp_id = str(100 + n)
        exp = root / exp_id
        exp.mkdir()
        meta = yaml.safe_load((ref_exp / "meta.yaml").read_text())
        meta.update(experiment_id=exp_id, name=f"damage-{kind}", artifact_location=exp.as_uri())
        (exp / "meta.yaml").write_text(yaml.safe_dump(meta))
        shutil.copytree(ref_exp / "datasets", exp / "datasets")
        damaged, sibling = f"{n:04x}" + "d" * 28, f"{n:04x}" + "5" * 28
        spot = Spot(root, exp, _copy_run(template, exp, damaged, "damaged"), _copy_run(template, exp, sibling, "sibling"), outside)
        spots[kind], ids[kind] = spot, (exp_id, damaged, sibling)
    for kind, damage in KINDS.items():
        damage.apply(spots[kind])
    before = snapshot(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_reads, "MAX_KEYS_PER_FOLDER", MAX_KEYS)
        server = LiveServer(root).start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                yield Matrix(root, spots, ids, server, http, before, {})
        finally:
            server.stop()
            deep = spots["artifacts-1000-deep"].run / "artifacts" / "d"
            if deep.exists():
                remove_deep(os.fsencode(deep))
            for spot in spots.values():  # chmod 000 folders must be listable for the temp-folder cleanup
                for path in (spot.run / "params",):
                    if path.is_dir() and not path.is_symlink():
                        os.chmod(path, 0o755)


def _ask(matrix: Matrix, answers: list[tuple[str, int, bytes]], method: str, path: str, **kwargs: Any) -> httpx.Response | None:
    label = f"{method} {path} {json.dumps(kwargs.get('params') or kwargs.get('json'))}"
    try:
        response = matrix.http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        answers.append((label, 599, repr(exc).encode()))
        return None
    answers.append((label, response.status_code, response.content))
    return response


def _artifact_files(matrix: Matrix, answers: list[tuple[str, int, bytes]], run_id: str) -> list[str]:
    """Files of a run's artifacts, walked through MLflow's artifacts/list (at most 6 levels, 40 files)."""
    files: list[str] = []
    pending = [""]
    depth = 0
    while pending and depth < 6 and len(files) < 40:
        next_level = []
        for folder in pending:
            listing = _ask(matrix, answers, "GET", API + "/artifacts/list", params={"run_id": run_id, "path": folder})
            if listing is None or listing.status_code != 200:
                continue
            for item in listing.json().get("files", []):
                (next_level if item.get("is_dir") else files).append(item["path"])
        pending, depth = next_level[:10], depth + 1
    return files[:40]


def answers_of(matrix: Matrix, kind: str) -> list[tuple[str, int, bytes]]:
    """(request, status, body) of every main endpoint asked about this kind's runs and experiment (asked once)."""
    if kind in matrix.answers:
        return matrix.answers[kind]
    answers: list[tuple[str, int, bytes]] = []
    exp_id, damaged, sibling = matrix.ids[kind]
    ask: Callable[..., httpx.Response | None] = lambda method, path, **kw: _ask(matrix, answers, method, path, **kw)  # noqa: E731
    ask("POST", API + "/runs/search", json={"experiment_ids": [exp_id], "run_view_type": "ALL"})
    ask("POST", API + "/runs/search", json={"experiment_ids": [exp_id], "filter": "params.lr LIKE '%0%' and metrics.loss < 10",
                                           "order_by": ["metrics.loss DESC", "params.lr"]})
    ask("POST", API + "/experiments/search", json={"view_type": "ALL"})
    ask("GET", API + "/experiments/get", params={"experiment_id": exp_id})
    keys = {"loss", "acc", "train/loss", "out_of_order", "huge", "odd", "binary", "empty", "pipe", "loop/acc", "secret", "bad\\xff\\xfename"}
    for run_id in (damaged, sibling):
        got = ask("GET", API + "/runs/get", params={"run_id": run_id})
        if got is not None and got.status_code == 200:
            keys.update(m["key"] for m in got.json()["run"]["data"].get("metrics", []))
        ask("GET", "/api/mlscope/run", params={"run_id": run_id})
        for path in _artifact_files(matrix, answers, run_id):
            ask("GET", "/get-artifact", params={"run_uuid": run_id, "path": path})
        ask("GET", "/api/mlscope/artifacts/list", params={"run_id": run_id})
        ask("GET", "/api/mlscope/artifacts/zip", params={"run_id": run_id})
    for key in sorted(keys):
        ask("GET", API + "/metrics/get-history", params={"run_id": damaged, "metric_key": key})
    ask("GET", AJAX + "/metrics/get-history-bulk-interval", params={"run_ids": [damaged, sibling], "metric_key": "loss", "max_results": 100})
    ask("POST", "/api/mlscope/metrics/histories", json={"run_ids": [damaged, sibling], "metric_key": "loss"})
    ask("POST", "/api/mlscope/runs/search", json={"experiment_ids": [exp_id]})
    ask("GET", "/api/mlscope/keys", params={"experiment_ids": exp_id})
    ask("POST", "/api/mlscope/compare", json={"run_ids": [damaged, sibling]})
    ask("GET", "/api/mlscope/runs/export.csv", params={"experiment_ids": exp_id})
    ask("GET", "/api/mlscope/experiments")
    matrix.answers[kind] = answers
    return answers


def _served_runs(matrix: Matrix) -> set[str]:
    """Run ids MLflow's runs/search serves across every experiment (active and deleted), page by page."""
    experiments = matrix.http.post(API + "/experiments/search", json={"view_type": "ALL", "max_results": 1000}).json()["experiments"]
    served: set[str] = set()
    token = None
    while True:
        body: dict[str, Any] = {"experiment_ids": [e["experiment_id"] for e in experiments], "run_view_type": "ALL", "max_results": 1000}
        if token:
            body["page_token"] = token
        page = matrix.http.post(API + "/runs/search", json=body).json()
        served.update(r["info"]["run_id"] for r in page.get("runs", []))
        token = page.get("next_page_token")
        if not token:
            return served


def _problem_paths(matrix: Matrix) -> list[str]:
    return [p["path"] for p in matrix.http.get("/api/mlscope/problems").json()["problems"]]


@pytest.mark.parametrize("kind", KINDS)
def test_no_main_endpoint_answers_5xx_or_hangs_on_damage(matrix: Matrix, kind: str) -> None:
    failed = [(label, status, body[:200]) for label, status, body in answers_of(matrix, kind) if status >= 500]
    assert failed == []


# Damage to an experiment takes its runs with it (reported with the experiment); the other experiments' runs stay.
RUN_LEVEL = [kind for kind, damage in KINDS.items() if damage.unreadable != "experiment"]
REPORTED = [kind for kind, damage in KINDS.items() if damage.unreadable or damage.reported]


@pytest.mark.parametrize("kind", RUN_LEVEL)
def test_the_sibling_of_a_damaged_run_is_served(matrix: Matrix, kind: str) -> None:
    exp_id, damaged, sibling = matrix.ids[kind]
    searched = matrix.http.post(API + "/runs/search", json={"experiment_ids": [exp_id]}).json().get("runs", [])
    assert sibling in {r["info"]["run_id"] for r in searched}
    assert matrix.http.get(API + "/runs/get", params={"run_id": sibling}).status_code == 200


@pytest.mark.parametrize("kind", REPORTED)
def test_damage_that_takes_a_run_away_or_is_read_as_defaults_is_reported(matrix: Matrix, kind: str) -> None:
    damage = KINDS[kind]
    spot = matrix.spots[kind]
    where = spot.exp if damage.unreadable == "experiment" else spot.run
    assert any(p == str(where) or p.startswith(str(where) + os.sep) for p in _problem_paths(matrix)), where


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_outside_the_tree_is_served(matrix: Matrix, kind: str) -> None:
    leaked = [label for label, _, body in answers_of(matrix, kind) if SECRET.encode() in body or PASSWD in body]
    assert leaked == []


def test_every_run_the_damage_did_not_take_away_is_served(matrix: Matrix) -> None:
    expected = set()
    for kind, damage in KINDS.items():
        _, damaged, sibling = matrix.ids[kind]
        if damage.unreadable != "experiment":
            expected.add(sibling)
        if damage.unreadable is None and kind not in ("run-folder-a-file", "run-folder-symlinked-out"):
            expected.add(damaged)
    hidden = expected - _served_runs(matrix)
    assert sorted(hidden) == []


def test_reading_the_damaged_tree_left_it_byte_identical(matrix: Matrix) -> None:
    for kind in KINDS:
        answers_of(matrix, kind)
    assert snapshot(matrix.root) == matrix.before

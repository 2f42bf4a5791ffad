"""Runs are encoded to JSON once per change, and big pages splice the cached bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlscope.index import RunIndex
from mlscope.index.run_json import RunJsonCache, json_list
from mlscope.server.mlflow.proto import run_json
from tests.handmade import write_experiment, write_run


@pytest.fixture
def index(tmp_path: Path) -> RunIndex:
    exp = write_experiment(tmp_path, "1", "exp")
    for i in range(5):
        write_run(exp, f"{i:032x}", start=1000 + i, name=f"r{i}", metrics={"loss": f"1 {i / 10} 0\n"}, params={"lr": "0.1"})
    built = RunIndex(tmp_path)
    built.build()
    return built


def test_encoding_is_the_json_of_the_shape(index):
    run = index.runs()[0]
    assert json.loads(RunJsonCache(run_json).encoded(run)) == run_json(run)


def test_a_page_is_a_json_list_of_the_runs(index):
    runs = index.runs()
    assert json.loads(json_list(RunJsonCache(run_json).encoded_many(runs))) == [run_json(r) for r in runs]


def test_unchanged_runs_are_not_encoded_again(index):
    cache = RunJsonCache(run_json)
    cache.encoded_many(index.runs())
    cache.encoded_many(index.runs())
    assert cache.encodes == 5


def test_a_run_that_changed_is_encoded_again(index, tmp_path):
    cache = RunJsonCache(run_json)
    run_id = f"{3:032x}"
    cache.encoded_many(index.runs())
    with open(tmp_path / "1" / run_id / "metrics" / "loss", "a") as handle:
        handle.write("2 9.5 1\n")
    index.note_writes(run_ids=[run_id], deep=False)
    encoded = {json.loads(data)["info"]["run_id"]: json.loads(data) for data in cache.encoded_many(index.runs())}
    assert encoded[run_id]["data"]["metrics"][0]["value"] == 9.5
    assert cache.encodes == 6


def test_memory_is_bounded_least_recently_used_first(index):
    runs = index.runs()
    one = len(RunJsonCache(run_json).encoded(runs[0]))
    cache = RunJsonCache(run_json, max_bytes=int(one * 2.5))
    cache.encoded_many(runs)
    assert cache.size <= one * 2.5
    cache.encoded(runs[-1])
    assert cache.encodes == 5  # the most recent runs are still there

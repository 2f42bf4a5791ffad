"""Random keys, values and steps survive client -> mlscope's reader -> MLflow unchanged."""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlscope import MlscopeClient
from mlscope.store import metric_files, reader

_segment = st.text(alphabet=string.ascii_letters + string.digits + "_-. :", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..") and s.strip() == s and not s.startswith("..") and s.strip(".") != ""
)
keys = st.lists(_segment, min_size=1, max_size=3).map("/".join).filter(lambda k: len(k) <= 250)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
floats = st.floats(allow_nan=True, allow_infinity=True)
steps = st.integers(min_value=-(2**40), max_value=2**40)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(keys, values, max_size=4),
    metrics=st.lists(st.tuples(keys, floats, st.integers(min_value=0, max_value=2**42), steps), max_size=8),
    tags=st.dictionaries(keys.filter(lambda k: not k.startswith("mlflow.")), values, max_size=3),
)
def test_random_data_round_trips_through_reader_and_mlflow(tmp_path_factory: pytest.TempPathFactory, mlflow_client, params, metrics, tags) -> None:
    # Keys that differ only as a file path prefix ('a' vs 'a/b') cannot both exist on disk, as in MLflow.
    all_keys = list(params) + [m[0] for m in metrics] + list(tags)
    if any(k != o and o.startswith(k + "/") for k in all_keys for o in all_keys):
        return
    root = tmp_path_factory.mktemp("prop") / "mlruns"
    client = MlscopeClient(str(root))
    run_id = client.create_run("0").info.run_id
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run_dir = root / "0" / run_id
    ours = reader.read_run(run_dir, reader.read_experiment(root / "0"))
    theirs = mlflow_client(root).get_run(run_id)
    assert ours.params == params == theirs.data.params
    for key, value in tags.items():
        assert ours.tags[key] == value == theirs.data.tags[key]
    for key in {m[0] for m in metrics}:
        expected = [(ts, step, v) for k, v, ts, step in metrics if k == key]
        mine = [(m.timestamp, m.step, m.value) for m in metric_files.read_metric_history(run_dir, key)]
        history = [(m.timestamp, m.step, m.value) for m in mlflow_client(root).get_metric_history(run_id, key)]
        for got in (mine, history):
            assert len(got) == len(expected)
            assert all(g[:2] == e[:2] and _same(g[2], e[2]) for g, e in zip(got, expected, strict=True))

"""The meta.yaml fast path reads exactly what PyYAML reads, or leaves the file to PyYAML."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlscope.store.meta_yaml import flat_yaml

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
nested_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15), st.floats(allow_nan=False),
    st.text(max_size=30), st.from_regex(r"[0-9a-f:/.+\- _#]{1,20}", fullmatch=True),
)
documents = st.dictionaries(keys, st.one_of(scalars, st.dictionaries(nested_keys, scalars, max_size=3)), min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_flat_yaml_agrees_with_pyyaml_on_what_mlflow_dumps(document):
    raw = yaml.safe_dump(document, default_flow_style=False, allow_unicode=True).encode()
    for _ in range(3):  # the third read takes repeated lines from the memo
        fast = flat_yaml(raw)
        assert fast is None or fast == yaml.safe_load(raw)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(keys, st.text(alphabet=st.characters(codec="utf-8"), max_size=20)), min_size=1, max_size=6))
def test_flat_yaml_agrees_with_pyyaml_on_hand_written_lines(pairs):
    raw = "".join(f"{key}: {value}\n" for key, value in pairs).encode()
    for _ in range(3):  # the third read takes repeated lines from the memo
        fast = flat_yaml(raw)
        if fast is None:
            return
        assert fast == yaml.safe_load(raw)


def test_flat_yaml_reads_mlflow_run_meta_with_digit_first_ids():
    raw = b"run_id: 556df6081ca949c5bfc3c345b1476cfb\nexperiment_id: '459595369037483970'\nstatus: 3\ntags: []\n"
    assert flat_yaml(raw) == yaml.safe_load(raw)


def test_remembered_lines_give_each_read_its_own_empty_collections():
    raw = b"status: 3\ntags: []\nextra: {}\n"
    reads = [flat_yaml(raw) for _ in range(4)]
    reads[-1]["tags"].append("changed")
    reads[-1]["extra"]["changed"] = 1
    assert flat_yaml(raw) == {"status": 3, "tags": [], "extra": {}}
    assert all(read["tags"] is not reads[-1]["tags"] for read in reads[:-1])


def test_a_line_remembered_in_one_file_still_refuses_a_duplicate_key_in_another():
    for _ in range(3):
        assert flat_yaml(b"status: 3\n") == {"status": 3}
    assert flat_yaml(b"status: 3\nstatus: 3\n") is None

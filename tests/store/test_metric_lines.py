"""Metric lines are parsed leniently, and never as FileStore's buggy 5-field reader does."""

from __future__ import annotations

import math

import pytest

from mlscope.store.metric_files import (
    MalformedError,
    latest_in_lines,
    latest_of,
    metric_columns,
    parse_metric_line,
    whole_lines,
)


def test_two_fields_mean_step_zero():
    m = parse_metric_line("k", "1700000000000 0.5")
    assert (m.timestamp, m.value, m.step) == (1700000000000, 0.5, 0)


def test_three_fields_carry_the_step():
    assert parse_metric_line("k", "1 2.5 7").step == 7


def test_five_fields_keep_the_step_and_dataset():
    m = parse_metric_line("k", "1 0.8 5 toy cd5cd803")
    assert (m.step, m.dataset_name, m.dataset_digest) == (5, "toy", "cd5cd803")


def test_dataset_name_may_contain_spaces():
    m = parse_metric_line("k", "1 0.8 3 my data set a581ccc7")
    assert (m.step, m.dataset_name, m.dataset_digest) == (3, "my data set", "a581ccc7")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_values_parse(text):
    value = parse_metric_line("k", f"1 {text} 0").value
    assert str(value) == str(float(text)) or (math.isnan(value) and text == "nan")


@pytest.mark.parametrize("line", ["garbage", "1 notanumber 0", "x 1 0", "1.5.5 2 3"])
def test_garbage_lines_are_malformed(line):
    with pytest.raises(MalformedError):
        parse_metric_line("k", line)


def test_torn_last_line_is_left_for_later():
    assert whole_lines(b"1 0.5 0\n2 0.6 1\n3 0.") == b"1 0.5 0\n2 0.6 1\n"


def test_single_line_without_newline_counts_as_complete():
    assert whole_lines(b"1 0.5 0") == b"1 0.5 0"


def test_columns_parse_plain_three_field_files():
    assert metric_columns(b"1 0.5 0\n2 nan 1\n")[2] == [0, 1]


def test_columns_refuse_mixed_field_counts():
    assert metric_columns(b"1 0.5 0\n2 0.6 1 toy abc\n") is None


def test_latest_of_a_file_with_dataset_lines_uses_the_line_parser():
    assert latest_in_lines("k", b"1 0.5 0\n2 0.6 4 toy abc\n").step == 4


def test_latest_prefers_higher_step_then_timestamp():
    points = [parse_metric_line("k", line) for line in ["5 1.0 3", "9 2.0 1", "6 0.5 3"]]
    assert latest_of(points).timestamp == 6


def test_latest_of_a_file_with_a_word_among_its_values_is_malformed():
    with pytest.raises(MalformedError):
        latest_in_lines("k", b"1 0.5 0\n2 nan 1\n3 tiny 2\n")


def test_latest_of_plain_decimal_lines_is_the_highest_step_with_its_own_value():
    assert latest_in_lines("k", b"1 0.5 0\n2 -1.5e-05 7\n3 +2. 3\n") == latest_of(
        [parse_metric_line("k", line) for line in ["1 0.5 0", "2 -1.5e-05 7", "3 +2. 3"]])


def test_a_value_of_decimal_characters_that_is_no_number_is_left_to_the_history_read():
    # Documented: the index's latest-point pass checks decimal-only values in one C pass; the history parse reports it.
    assert latest_in_lines("k", b"1 1.2.3 0\n2 0.5 1\n").value == 0.5
    assert metric_columns(b"1 1.2.3 0\n2 0.5 1\n") is None
    with pytest.raises(MalformedError):
        parse_metric_line("k", "1 1.2.3 0")


def test_flat_yaml_reads_mlflow_meta_like_pyyaml():
    import yaml

    from mlscope.store.meta_yaml import flat_yaml

    text = b"artifact_uri: file:///tmp/x/artifacts\nend_time: null\nexperiment_id: '12'\nrun_name: it''s-fine\nstatus: 3\ntags: []\n"
    assert flat_yaml(text) == yaml.safe_load(text)


def test_flat_yaml_reads_a_dataset_input_link_like_pyyaml():
    import yaml

    from mlscope.store.meta_yaml import flat_yaml

    text = b"destination_id: 870b9b90\nsource_type: DATASET\ntags:\n  mlflow.data.context: training\n"
    assert flat_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", [b"name: 1.5\n", b"name: yes\n", b"tags:\n    a: b\n", b'name: "quoted"\n', b"name: 2026-01-01\n",
                                  b"name: 0x1F\n", b"name: 012\n", b"name: 1:20\n", b"tags:\n- a\n", b"true: 1\n", b"name: a #b\n"])
def test_flat_yaml_leaves_anything_else_to_pyyaml(text):
    from mlscope.store.meta_yaml import flat_yaml

    assert flat_yaml(text) is None

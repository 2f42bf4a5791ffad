"""The run filter language, one behaviour per test."""

from __future__ import annotations

import math

import pytest

from mlscope.search import SearchError, parse_run_filter
from mlscope.store.model import DatasetInput, Metric, Run, RunInfo


def make_run(run_id: str = "r1", *, params: dict[str, str] | None = None, tags: dict[str, str] | None = None,
             metrics: dict[str, float] | None = None, status: str = "FINISHED", start_time: int | None = 100,
             end_time: int | None = 200, run_name: str = "my-run", datasets: tuple[DatasetInput, ...] = (),
             stage: str = "active") -> Run:
    info = RunInfo(run_id, "0", run_name, "alice", status, start_time, end_time, stage, "file:///a/artifacts")
    points = {key: Metric(key, value, 1, 0) for key, value in (metrics or {}).items()}
    return Run(info, params or {}, tags or {}, points, datasets)


def matches(filter_string: str, run: Run, extended: bool = False) -> bool:
    return parse_run_filter(filter_string, extended).matches(run)


def test_empty_filter_matches_every_run() -> None:
    assert matches("", make_run())


def test_metric_compares_the_latest_value_as_a_float() -> None:
    assert matches("metrics.acc > 0.5", make_run(metrics={"acc": 0.9}))
    assert not matches("metrics.acc > 0.5", make_run(metrics={"acc": 0.1}))


def test_run_without_the_metric_never_matches() -> None:
    assert not matches("metrics.acc != 1", make_run())


def test_nan_metric_matches_only_not_equal() -> None:
    run = make_run(metrics={"loss": math.nan})
    assert matches("metrics.loss != 1", run)
    assert not matches("metrics.loss < 1", run) and not matches("metrics.loss >= 1", run)


def test_metric_needs_a_numeric_literal() -> None:
    with pytest.raises(SearchError, match="Expected numeric value type for metric"):
        parse_run_filter("metrics.acc > '0.5'")


def test_param_equality_is_exact_string_comparison() -> None:
    assert matches("params.lr = '0.01'", make_run(params={"lr": "0.01"}))
    assert not matches("params.lr = '0.010'", make_run(params={"lr": "0.01"}))


def test_param_value_must_be_quoted() -> None:
    with pytest.raises(SearchError, match="Expected a quoted string value for parameter"):
        parse_run_filter("params.lr = 0.01")


def test_double_quoted_strings_are_values() -> None:
    assert matches('params.lr = "0.01"', make_run(params={"lr": "0.01"}))


def test_missing_param_does_not_match_not_equal() -> None:
    assert not matches("params.lr != 'x'", make_run())


def test_like_is_case_sensitive() -> None:
    assert matches("tags.stage LIKE 'Pro%'", make_run(tags={"stage": "Prod"}))
    assert not matches("tags.stage LIKE 'pro%'", make_run(tags={"stage": "Prod"}))


def test_ilike_is_case_insensitive() -> None:
    assert matches("tags.stage ILIKE 'pro%'", make_run(tags={"stage": "Prod"}))


def test_like_underscore_matches_one_character() -> None:
    assert matches("params.x LIKE 'a_c'", make_run(params={"x": "abc"}))
    assert not matches("params.x LIKE 'a_c'", make_run(params={"x": "abbc"}))


def test_like_without_percent_is_anchored() -> None:
    assert not matches("params.x LIKE 'b'", make_run(params={"x": "abc"}))
    assert matches("params.x LIKE '%b%'", make_run(params={"x": "abc"}))


def test_like_treats_regex_characters_literally() -> None:
    assert not matches("params.x LIKE 'a.c'", make_run(params={"x": "abc"}))


def test_is_null_matches_runs_without_the_param() -> None:
    assert matches("params.opt IS NULL", make_run())
    assert matches("params.opt IS NOT NULL", make_run(params={"opt": "adam"}))


def test_is_null_is_only_for_params_and_tags() -> None:
    with pytest.raises(SearchError, match="only supported for tags and params"):
        parse_run_filter("metrics.acc IS NULL")


def test_keywords_are_case_insensitive() -> None:
    assert matches("params.a = 'x' and params.b like 'y' AnD tags.t is not null",
                   make_run(params={"a": "x", "b": "y"}, tags={"t": ""}))


def test_backticks_and_double_quotes_quote_keys() -> None:
    run = make_run(metrics={"train/loss": 1.0}, params={"a b": "1"}, tags={"mlflow.user": "bob"})
    assert matches("metrics.`train/loss` = 1 AND params.\"a b\" = '1' AND tags.`mlflow.user` = 'bob'", run)


def test_every_entity_alias_is_accepted() -> None:
    run = make_run(metrics={"m": 1.0}, params={"p": "1"}, tags={"t": "1"})
    for alias, clause in [("metric", "m = 1"), ("metrics", "m = 1"), ("param", "p = '1'"), ("params", "p = '1'"),
                          ("parameter", "p = '1'"), ("parameters", "p = '1'"), ("tag", "t = '1'"),
                          ("tags", "t = '1'"), ("attribute", "run_id = 'r1'"), ("attributes", "run_id = 'r1'"),
                          ("attr", "run_id = 'r1'"), ("run", "run_id = 'r1'")]:
        assert matches(f"{alias}.{clause}", run), alias


def test_created_is_an_alias_of_start_time() -> None:
    assert matches("created = 100", make_run()) and matches("Created > 99", make_run())


def test_run_name_aliases_need_quoting() -> None:
    assert matches("`run name` = 'my-run'", make_run()) and matches('"Run Name" LIKE \'my%\'', make_run())


def test_status_is_compared_by_name() -> None:
    assert matches("status = 'FINISHED'", make_run()) and not matches("status = 'finished'", make_run())


def test_missing_end_time_never_matches() -> None:
    assert not matches("end_time != 5", make_run(end_time=None))


def test_in_is_only_for_run_id_among_attributes() -> None:
    assert matches("run_id IN ('r1', 'r2')", make_run()) and matches("run_id NOT IN ('r2')", make_run())
    with pytest.raises(SearchError, match=r"Only \['run_id'\] attributes"):
        parse_run_filter("status IN ('FINISHED')")


def test_datasets_match_any_input() -> None:
    data = (DatasetInput("train", "d1", "local", "{}", "", "", {"mlflow.data.context": "training"}),
            DatasetInput("eval", "d2", "local", "{}", "", "", {}))
    run = make_run(datasets=data)
    assert matches("datasets.name = 'eval' AND datasets.context = 'training'", run)
    assert matches("datasets.digest IN ('d2')", run) and not matches("datasets.context = 'eval'", run)


def test_unknown_entity_type_is_rejected_with_position() -> None:
    with pytest.raises(SearchError) as info:
        parse_run_filter("metrics.a > 1 AND foo.b = 'x'")
    assert info.value.position == 18 and "Invalid entity type 'foo'" in info.value.message


def test_or_is_rejected_without_extended() -> None:
    with pytest.raises(SearchError) as info:
        parse_run_filter("params.lr = '0.1' OR params.lr = '0.2'")
    assert info.value.message == "Invalid filter at position 18 ('OR'): expected AND or end of filter"


def test_parentheses_are_rejected_without_extended() -> None:
    with pytest.raises(SearchError, match="position 0"):
        parse_run_filter("(params.lr = '0.1')")


def test_rlike_is_rejected_without_extended() -> None:
    with pytest.raises(SearchError, match="Invalid comparator 'RLIKE'"):
        parse_run_filter("params.lr RLIKE '^0'")


def test_extended_or_and_parentheses() -> None:
    flt = "(params.lr = '0.1' OR params.lr = '0.2') AND metrics.acc > 0.5"
    assert matches(flt, make_run(params={"lr": "0.2"}, metrics={"acc": 0.9}), extended=True)
    assert not matches(flt, make_run(params={"lr": "0.3"}, metrics={"acc": 0.9}), extended=True)


def test_extended_and_binds_tighter_than_or() -> None:
    flt = "params.a = '1' OR params.b = '1' AND params.c = '1'"
    assert matches(flt, make_run(params={"a": "1"}), extended=True)
    assert not matches(flt, make_run(params={"b": "1"}), extended=True)


def test_extended_rlike_is_an_unanchored_regex_search() -> None:
    assert matches("run_name RLIKE 'y-r' AND tags.t RLIKE '^v[0-9]+$'", make_run(tags={"t": "v12"}), extended=True)


def test_extended_rlike_rejects_a_bad_regex() -> None:
    with pytest.raises(SearchError, match="invalid regular expression"):
        parse_run_filter("params.x RLIKE '('", extended=True)


def test_extended_keeps_mlflow_meaning_of_valid_strings() -> None:
    flt = "metrics.a > 1 AND AND params.p LIKE 'x%'"
    run = make_run(metrics={"a": 2.0}, params={"p": "xy"})
    assert matches(flt, run) == matches(flt, run, extended=True) is True


def test_unbalanced_parenthesis_points_at_the_end() -> None:
    with pytest.raises(SearchError, match=r"position 33 \(end of input\): expected AND, OR or '\)'"):
        parse_run_filter("(params.a = '1' OR params.b = '2'", extended=True)


def test_attribute_only_filter_does_not_need_details() -> None:
    assert parse_run_filter("status = 'FINISHED' AND start_time > 5 AND run_id IN ('a')").needs_details is False
    assert parse_run_filter("status = 'FINISHED' AND params.lr = '1'").needs_details is True
    assert parse_run_filter("datasets.name = 'x'").needs_details is True


def test_compiled_filters_are_cached() -> None:
    assert parse_run_filter("metrics.a > 1") is parse_run_filter("metrics.a > 1")


def test_unterminated_string_reports_its_position() -> None:
    with pytest.raises(SearchError) as info:
        parse_run_filter("params.a = 'abc")
    assert info.value.position == 11 and "closing" in info.value.message


def test_missing_and_between_clauses_is_rejected() -> None:
    with pytest.raises(SearchError, match="expected AND"):
        parse_run_filter("metrics.a > 1 metrics.b > 2")

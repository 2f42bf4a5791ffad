"""mlscope's search returns what MLflow's FileStore returns on the same tree, page by page."""

from __future__ import annotations

import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException
from mlflow.utils.search_utils import SearchExperimentsUtils, SearchUtils

from mlscope.search import SearchError, parse_order_by, parse_run_filter, search_experiments, search_runs
from mlscope.search.columns import RunColumns
from mlscope.search.paging import stages_for
from mlscope.search.runs import indexed_search_runs

from .conftest import ReferenceTree

PAGE = 7

# (filter, order_by): every comparator and identifier form of MLflow's run grammar.
CASES: list[tuple[str, list[str]]] = [
    ("", []),
    ("", ["metrics.acc DESC"]),
    ("", ["metrics.acc"]),
    ("", ["metrics.loss DESC"]),  # NaN, inf, -inf, negatives
    ("", ["metrics.loss ASC"]),
    ("", ["metrics.f1 DESC", "params.lr"]),  # missing and NaN values last, tie-breaks
    ("", ["metrics.f1"]),
    ("", ["params.lr DESC"]),
    ("", ["params.`batch size`"]),
    ("", ["params.`opt.name` DESC", "metrics.acc"]),
    ("", ["tags.stage", "attributes.start_time"]),
    ("", ["tags.note DESC"]),
    ("", ["start_time"]),
    ("", ["attributes.end_time DESC"]),
    ("", ["created"]),
    ("", ["run_name"]),
    ("", ["attribute.status DESC", "user_id"]),
    ("", ["metrics.`train/loss` DESC"]),
    ("", ["metric.`val acc`", "param.lr DESC", "tag.stage"]),
    ("", ["run_id DESC"]),
    ("", ["artifact_uri"]),
    ("metrics.acc > 0.7", ["metrics.acc DESC"]),
    ("metrics.acc >= 0.7", []),
    ("metrics.acc < 0.7", ["params.lr"]),
    ("metrics.acc <= 0.76", []),
    ("metrics.acc = 0.5", []),
    ("metrics.acc != 0.5", []),
    ("metrics.loss > -1", ["metrics.loss"]),  # inf matches, NaN never does
    ("metrics.loss != 0.25", []),  # NaN != x is true
    ("metrics.loss < -1e3", []),
    ("metrics.loss >= -2.0 AND metrics.loss <= 1.5", []),
    ("metrics.`train/loss` = 0", []),  # latest value (step 5), not the last line (99)
    ("metrics.`train/loss` >= 99", []),
    ('metrics."val acc" > .45', []),
    ("metric.f1 > 0", ["metric.f1 DESC"]),
    ("metrics.f1 != 0", []),
    ("params.lr = '0.01'", []),
    ('params.lr = "0.1"', ["metrics.acc"]),
    ("params.lr != '0.1'", []),
    ("params.lr LIKE '0.0%'", []),
    ("params.lr LIKE '%e%'", []),
    ("params.lr like '0._1'", []),
    ("params.`opt.name` LIKE 'adam'", []),
    ("params.`opt.name` ILIKE 'ADAM%'", []),
    ("params.`opt.name` IS NULL", []),
    ("params.`opt.name` IS NOT NULL", []),
    ("param.`batch size` = '64'", []),
    ("parameter.`model/depth` != '3'", []),
    ("parameters.lr = '1e-3'", []),
    ("tags.stage = 'dev'", []),
    ("tags.stage ILIKE 'dev'", []),
    ("tags.stage LIKE 'D%'", []),
    ("tags.note IS NULL", []),
    ("tag.note is not null AND tags.stage != 'prod'", []),
    ("tags.`mlflow.user` = 'bob'", []),
    ('tags."mlflow.runName" LIKE \'run-1%\'', []),
    ("tags.mlflow.user = 'alice'", []),
    ("attributes.status = 'FINISHED'", []),
    ("status != 'RUNNING'", ["status"]),
    ("attr.status LIKE '%ED'", []),
    ("run.status ILIKE 'killed'", []),
    ("run_name = 'Special Run'", []),
    ("`Run Name` ILIKE 'special%'", []),
    ('"run name" LIKE \'special_run\'', []),
    ("attributes.run_name LIKE 'run-0%'", ["run_name DESC"]),
    ("user_id = 'Carol'", []),
    ("user_id ILIKE 'carol'", []),
    ("attributes.artifact_uri LIKE '%artifacts'", []),
    ("start_time > 1700000001000", ["start_time"]),
    ("attributes.start_time = 1700000000500", []),
    ("created >= 1700000002000", []),
    ("Created < 1700000003000.5", []),
    ("end_time > 0", []),
    ("attributes.end_time != 0", []),
    ("datasets.name = 'train-set'", []),
    ("datasets.name != 'train-set'", []),
    ("dataset.digest IN ('d1g35t02', 'nope')", []),
    ("datasets.digest NOT IN ('d1g35t01')", []),
    ("datasets.context = 'training'", []),
    ("datasets.context LIKE 'ev%'", []),
    ("datasets.name ILIKE 'EVAL%'", []),
    ("datasets.context NOT IN ('eval')", []),
    ("datasets.name IN ('eval set')", []),
    ("metrics.acc > 0.6 AND params.lr = '0.01' and tags.stage != 'prod'", ["metrics.acc DESC"]),
    ("params.lr = '0.1' AND metrics.`train/loss` < 2 AND status = 'FINISHED'", ["start_time DESC"]),
    ("metrics.acc > 0.5 AND AND", ["params.lr", "metrics.acc DESC"]),
]


_MLFLOW_PAGES: dict[tuple[int, str, tuple[str, ...], int], list[list[str]]] = {}  # each case asked once per engine


def _mlflow_pages(tree: ReferenceTree, filter_string: str, order_by: list[str], view: int) -> list[list[str]]:
    key = (id(tree.store), filter_string, tuple(order_by), view)
    if key not in _MLFLOW_PAGES:
        _MLFLOW_PAGES[key] = _read_mlflow_pages(tree, filter_string, order_by, view)
    return _MLFLOW_PAGES[key]


def _read_mlflow_pages(tree: ReferenceTree, filter_string: str, order_by: list[str], view: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = tree.store.search_runs(tree.experiment_ids, filter_string, view, PAGE, order_by, token)
        pages.append([run.info.run_id for run in page])
        token = page.token
        if not token:
            return pages


# How mlscope answers: the scan over every run, and RunColumns taking each of its paths: order not built yet (sorted
# like the scan), order built and the filter tested run by run along it, then the lookup structures taking over
# (walked, or sorted by rank when very few).
# Structures are built once scans at this version have cost as much as building them (eager: at once).
ENGINES = ["scan", "columns-first-query", "columns-eager-first-query", "columns-rank-sort", "columns-walk",
           "columns-walk-then-lookups", "columns-lookups-walk"]
_SETTINGS = {  # very_few, walk_step, walk_limit
    "columns-rank-sort": (1, 1, 0), "columns-walk": (10**9, 1, 10**9),
    "columns-walk-then-lookups": (10**9, 2, 3), "columns-lookups-walk": (10**9, 1, 0),
}


def _columns(tree: ReferenceTree, engine: str, order_by: list[str], view: str) -> RunColumns:
    if engine in ("columns-first-query", "columns-eager-first-query"):
        return RunColumns(tree.runs, eager=engine == "columns-eager-first-query")
    very_few, walk_step, walk_limit = _SETTINGS[engine]
    columns = RunColumns(tree.runs, very_few, walk_step, eager=True, walk_limit=walk_limit)
    columns.ordered(parse_run_filter(""), parse_order_by(order_by), stages_for(view))  # builds the order
    return columns


def _mlscope_pages(tree: ReferenceTree, filter_string: str, order_by: list[str], view: str,
                   engine: str = "scan") -> list[list[str]]:
    columns = None if engine == "scan" else _columns(tree, engine, order_by, view)
    pages, token = [], None
    while True:
        if columns is None:
            page, token = search_runs(tree.runs, filter_string, order_by, PAGE, token, view)
        else:
            page, token = indexed_search_runs(columns, filter_string, order_by, PAGE, token, view)
        pages.append([run.run_id for run in page])
        if not token:
            return pages


def test_there_are_at_least_60_parity_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("filter_string", "order_by"), CASES, ids=[f"{f!s}|{','.join(o)}" for f, o in CASES])
def test_runs_search_matches_mlflow_page_by_page(search_tree: ReferenceTree, filter_string: str,
                                                 order_by: list[str], engine: str) -> None:
    expected = _mlflow_pages(search_tree, filter_string, order_by, ViewType.ACTIVE_ONLY)
    assert _mlscope_pages(search_tree, filter_string, order_by, "ACTIVE_ONLY", engine) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("view", [("ALL", ViewType.ALL), ("DELETED_ONLY", ViewType.DELETED_ONLY)])
@pytest.mark.parametrize(("filter_string", "order_by"), [("", []), ("metrics.acc > 0.6", ["params.lr DESC"]),
                                                         ("params.lr != '0.1'", ["metrics.loss"])])
def test_run_view_types_match_mlflow(search_tree: ReferenceTree, view: tuple[str, int], filter_string: str,
                                     order_by: list[str], engine: str) -> None:
    expected = _mlflow_pages(search_tree, filter_string, order_by, view[1])
    assert _mlscope_pages(search_tree, filter_string, order_by, view[0], engine) == expected


def test_page_tokens_are_the_same_as_mlflows(search_tree: ReferenceTree) -> None:
    page = search_tree.store.search_runs(search_tree.experiment_ids, "", ViewType.ALL, PAGE, [], None)
    _, token = search_runs(search_tree.runs, "", None, PAGE, None, "ALL")
    assert token is not None and token.encode() == page.token


def test_search_tree_has_the_promised_variety(search_tree: ReferenceTree) -> None:
    statuses = {run.info.status for run in search_tree.runs}
    assert {"RUNNING", "FINISHED", "FAILED", "KILLED"} <= statuses
    assert any(run.info.lifecycle_stage == "deleted" for run in search_tree.runs)
    assert any(run.dataset_inputs for run in search_tree.runs)
    assert len({run.info.start_time for run in search_tree.runs}) < len(search_tree.runs)


EXPERIMENT_CASES: list[tuple[str, list[str], int]] = [
    ("", [], ViewType.ACTIVE_ONLY),
    ("", [], ViewType.ALL),
    ("", ["name"], ViewType.ALL),
    ("", ["name DESC"], ViewType.DELETED_ONLY),
    ("", ["last_update_time DESC"], ViewType.ALL),
    ("name LIKE '%a'", [], ViewType.ALL),
    ("name ILIKE 'BETA%'", ["creation_time"], ViewType.ACTIVE_ONLY),
    ("name != 'alpha'", [], ViewType.ACTIVE_ONLY),
    ("tags.team = 'nlp'", [], ViewType.ACTIVE_ONLY),
    ("tag.team IS NOT NULL", ["experiment_id DESC"], ViewType.ALL),
    ("tags.team IS NULL", [], ViewType.ALL),
    ("tags.`mlflow.note.content` LIKE 'h%'", [], ViewType.ALL),
    ("creation_time > 0 AND attribute.name != 'gamma'", [], ViewType.ALL),
    ("experiment_id IN ('0')", [], ViewType.ALL),
]


@pytest.mark.parametrize(("filter_string", "order_by", "view"), EXPERIMENT_CASES)
def test_experiments_search_matches_mlflow(search_tree: ReferenceTree, filter_string: str, order_by: list[str],
                                           view: int) -> None:
    expected, token = [], None
    while True:
        page = search_tree.store.search_experiments(view, 2, filter_string, order_by, token)
        expected.append([e.experiment_id for e in page])
        token = page.token
        if not token:
            break
    got, mine = [], None
    view_name = {ViewType.ACTIVE_ONLY: "ACTIVE_ONLY", ViewType.DELETED_ONLY: "DELETED_ONLY", ViewType.ALL: "ALL"}[view]
    while True:
        page, mine = search_experiments(search_tree.experiments, filter_string, order_by, 2, mine, view_name)
        got.append([e.experiment_id for e in page])
        if not mine:
            break
    assert got == expected


# Strings MLflow rejects: each must be a SearchError here (never another exception).
REJECTED = [
    "metrics.acc > 1 OR metrics.acc < 0", "(metrics.acc > 1)", "metrics.acc > 'x'", "params.lr = 1", "params.lr = abc",
    "foo.acc > 1", "lifecycle_stage = 'active'", "metrics.acc IS NULL", "status IS NOT NULL", "metrics.acc == 1",
    "metrics.acc <> 1", "params.lr RLIKE 'a'", "params.lr NOT LIKE 'a'", "status IN ('FINISHED')", "run_id IN ()",
    "run_id IN (1)", "params.lr IN ('a')", "metrics.acc IN (1)", "start_time > '1'", "start_time LIKE 1",
    "metrics.acc > 1;", "metrics.acc", "metrics.acc >", "> 1", "params.lr = 'a", "metrics.acc > 1 -- c",
    "metrics.acc >= 1and params.lr = 'x'", "metrics.acc > 0x10", "metrics.acc > 1_000", "metrics.in > 1",
    "metrics.as > 1", "metrics.1 > 1", "METRICS.acc > 1", "Status = 'FINISHED'", "datasets.foo = 'x'",
    "datasets.Name = 'x'", "tags.t IS  NOT   NULL", "tags.t IS 'a'", "params.lr = NULL", "metrics.acc > - 1",
    "metrics.acc > +1", "metrics.acc > 1e+3", "params.lr = 'a' AND NOT params.lr = 'b'", "  ", "run_id = ", ";",
    '"attributes".run_id = \'x\'', "metrics .acc > 1", "experiment_id = '0'", "run_name IN ('a')",
]
# Strings MLflow accepts: each must parse here too.
ACCEPTED = [
    "", "AND", "metrics.acc > 1 AND", "and metrics.acc > 1", "metrics.acc>-1", "metrics.acc > .5", "metrics.acc > 1.",
    "metrics.acc > 1E-3", "metrics.a.b > 1", "metrics.`a.b` > 1", 'metrics."a.b" > 1', "metrics.'a' > 1",
    "`metrics`.a > 1", "metrics.count > 1", "metrics.1a > 1", "metrics.é > 1", "params.p = \"1\"", "params.p like '%'",
    "params.p ilike 'X'", "params.p is not null", "run_id IN ('a', 'b',)", 'run_id in ("a")', "run_id NOT IN('a')",
    "run_id not  in ('a')", '"run name" = \'n\'', "`Run Name` = 'n'", "Created > 0", "attr.created > 0",
    "run.status = 'FINISHED'", "start_time > 0.5", "params.p = 'it''s'", "tags.t LIKE \"%v%\"", "params.p = ''",
    "tags.mlflow.runName = 'n'", "`attributes`.`run_id` = 'abc'", "run.\"Run name\" = 'n'", "dataset.digest != 'x'",
    "datasets.context IN ('a')", "tags.t   IS    NULL", "params.p = 'x'AND metrics.a > 1", "metrics.a\t>\t0",
]


def _mlflow_rejects(filter_string: str) -> bool:
    try:
        for clause in SearchUtils.parse_search_filter(filter_string):
            SearchUtils._does_run_match_clause(_probe_run(), clause)
    except (MlflowException, ValueError):
        return True
    return False


def _probe_run():  # noqa: ANN202 - an mlflow entity, only used here
    from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunInputs, RunTag

    info = RunInfo(run_id="abc", experiment_id="0", user_id="u", status="FINISHED", start_time=1, end_time=2,
                   lifecycle_stage="active", artifact_uri="x", run_name="n")
    return Run(info, RunData([Metric("a", 1.0, 1, 0)], [Param("p", "1")], [RunTag("t", "v")]), RunInputs([]))


@pytest.mark.parametrize("filter_string", REJECTED)
def test_what_mlflow_rejects_is_a_search_error(filter_string: str) -> None:
    assert _mlflow_rejects(filter_string), "the case list is wrong: MLflow accepts this"
    with pytest.raises(SearchError):
        parse_run_filter(filter_string)


@pytest.mark.parametrize("filter_string", ACCEPTED)
def test_what_mlflow_accepts_parses(filter_string: str) -> None:
    assert not _mlflow_rejects(filter_string), "the case list is wrong: MLflow rejects this"
    parse_run_filter(filter_string)


@pytest.mark.parametrize("order_by", ["metrics.acc DESC", "params.`a b` asc", "tags.t", "created", "start_time DESC",
                                      "attribute.run_id", "metrics.`train/loss` DESC"])
def test_order_by_mlflow_accepts_parses(order_by: str) -> None:
    SearchUtils.parse_order_by_for_search_runs(order_by)
    search_runs([], order_by=[order_by])


@pytest.mark.parametrize("order_by", ["metrics.acc DESCENDING", "metrics.acc DESC ASC", "foo.bar", "run name",
                                      "lifecycle_stage", "metrics.acc > 1", "", "datasets.foo", "metrics.acc, params.x"])
def test_order_by_mlflow_rejects_is_a_search_error(order_by: str) -> None:
    with pytest.raises(MlflowException):
        SearchUtils.parse_order_by_for_search_runs(order_by)
    with pytest.raises(SearchError):
        search_runs([], order_by=[order_by])


@pytest.mark.parametrize("filter_string", ["name = 'a' OR name = 'b'", "tags.t IS NULL AND name IS NULL",
                                           "metrics.a > 1", "attributes.name = 'x'", "creation_time > 'x'",
                                           "name IN ('a')", "params.x = 'y'", "last_update_time LIKE 1"])
def test_experiment_filters_mlflow_rejects_are_search_errors(filter_string: str) -> None:
    from mlflow.entities import Experiment as MlflowExperiment
    from mlflow.entities import ExperimentTag

    probe = MlflowExperiment("1", "a", "x", "active", [ExperimentTag("t", "v")], 1, 2)
    with pytest.raises(MlflowException):
        SearchExperimentsUtils.filter([probe], filter_string)
    with pytest.raises(SearchError):
        search_experiments([], filter_string)

// The experiment page: a "Table | Charts" switch over the runs table (MLflow's compareRunsMode=CHART
// opens the charts), run grouping for both, and the state they share, all in the URL:
//   compareRunsMode=CHART   the chart view (the table stays on the left, charts on the right)
//   chart_n=10              how many of the table's first rows the charts show (1-100)
//   pinned=[ids] hidden=[ids]   runs always charted / hidden from every chart (the eye in the table)
//   groupBy=["params.lr"] groupAgg=mean|median groupBand=std|minmax|none   grouping
//   importance=<metric>     the param-importance panel for that metric
// The chart view itself (uPlot, ECharts) and the grouped table load on first use; the chart view's modules are
// prefetched while the table is idle.
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { fetchChartRuns, fetchKeys } from "../lib/api.js";
import { hrefFor, listParam, setQueryParams } from "../lib/router.js";
import { runColors } from "../lib/run_colors.js";
import { highlightRun } from "../lib/run_highlight.js";
import { EYE, EYE_OFF, PIN } from "../lib/icons.js";
import { subscribe } from "../lib/live.js";
import { LazyView, usePrefetch } from "./lazy_view.js";
import { RunsTable } from "./runs_table.js";
import { ExperimentHeader } from "./edit_experiment.js";
import { combinedFilter, runsViewState } from "./runs_url.js";

export const CHART_MODE = "CHART";
export const RUN_LIMITS = [5, 10, 20, 50, 100];
const BANDS = [["std", "± std"], ["minmax", "min–max"], ["none", "no band"]];
const loadCharts = () => import("./experiment_charts.js");
const loadGroups = () => import("./experiment_groups.js");

/** The chart view's and grouping's URL state, with defaults. */
export function experimentViewState(query) {
  const limit = Math.round(Number(query.get("chart_n")));
  const band = query.get("groupBand");
  return {
    charts: (query.get("compareRunsMode") || "").toUpperCase() === CHART_MODE,
    limit: Number.isFinite(limit) && limit >= 1 ? Math.min(100, limit) : 10,
    pinned: listParam(query, "pinned"),
    hidden: listParam(query, "hidden"),
    groupBy: listParam(query, "groupBy"),
    aggregate: query.get("groupAgg") === "median" ? "median" : "mean",
    band: BANDS.some(([b]) => b === band) ? band : "std",
    importance: query.get("importance") || "",
  };
}

/** The runs table's query (filter with time range and datasets, order, lifecycle), as the table sends it. */
export function useTableQuery(query, experimentIds) {
  const view = runsViewState(query);
  // The time range's start, to the minute: a stable query (the table's own request uses the same range).
  const since = useMemo(() => (view.span ? Math.floor((Date.now() - view.span) / 60000) * 60000 : 0), [view.timeRange]);
  const filter = combinedFilter(view.userFilter, since, view.datasets);
  const order = `${view.sortKey} ${view.sortAsc ? "ASC" : "DESC"}`;
  return useMemo(
    () => ({ experiment_ids: experimentIds, filter, order_by: [order], run_view_type: view.viewType, extended: true }),
    [experimentIds.join(","), filter, order, view.viewType],
  );
}

/** The runs the charts show: first `limit` rows of the table's query plus pinned runs (refetched on live changes). */
function useChartRuns(query, limit, pinned, enabled) {
  const [state, setState] = useState({ runs: null, metricKeys: [], total: null, error: null });
  const [version, setVersion] = useState(0);
  const key = JSON.stringify([query, limit, pinned]);
  useEffect(() => {
    if (!enabled) return undefined;
    const controller = new AbortController();
    fetchChartRuns({ ...query, limit, pinned }, { signal: controller.signal })
      .then((body) => setState({ runs: body.runs, metricKeys: body.metric_keys, total: body.total, error: null }))
      .catch((err) => err.name !== "AbortError" && setState((s) => ({ ...s, runs: s.runs || [], error: err.message })));
    return () => controller.abort();
  }, [key, enabled, version]);
  useEffect(() => {
    if (!enabled) return undefined;
    // A run in view that changed (new metric keys, new latest values) or a reset: ask again.
    return subscribe((event) => {
      const ids = new Set((state.runs || []).map((r) => r.run_id));
      if (event.reset || event.changed.some((id) => ids.has(id))) setVersion((v) => v + 1);
    });
  }, [enabled, state.runs]);
  return state;
}

function toggled(list, id) {
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
}

/** Pin, eye and colour swatch in front of a run's name (chart view). */
function RunLead({ row, color, pinned, hidden, inView, onPin, onHide }) {
  const name = row.run_name || row.run_id;
  return html`<span class="run-lead">
    <button class=${`lead-btn pin-btn${pinned ? " on" : ""}`} aria-pressed=${pinned} onClick=${() => onPin(row.run_id)}
      title=${pinned ? "Unpin: chart it only while among the first rows" : "Pin: always chart this run"} aria-label=${`Pin ${name}`}>${PIN}</button>
    <button class=${`lead-btn eye-btn${hidden ? " off" : ""}${inView ? "" : " out"}`} aria-pressed=${!hidden} onClick=${() => onHide(row.run_id)}
      title=${hidden ? "Show in charts" : inView ? "Hide from charts" : "Not among the charted runs (pin it to chart it)"}
      aria-label=${`${hidden ? "Show" : "Hide"} ${name} in charts`}>${hidden ? EYE_OFF : EYE}</button>
    ${color
      ? html`<span class="run-swatch" style=${`background:${color}`} data-color=${color} aria-hidden="true"></span>`
      : html`<span class="run-swatch none" aria-hidden="true"></span>`}
  </span>`;
}

function GroupByPicker({ experimentIds, groupBy }) {
  const [keys, setKeys] = useState(null);
  useEffect(() => {
    const controller = new AbortController();
    fetchKeys(experimentIds, { signal: controller.signal })
      .then(setKeys)
      .catch(() => {});
    return () => controller.abort();
  }, [experimentIds.join(",")]);
  const options = keys ? [...keys.params.map((k) => `params.${k}`), ...keys.tags.filter((k) => !k.startsWith("mlflow.")).map((k) => `tags.${k}`)] : [];
  const add = (field) => field && setQueryParams({ groupBy: [...groupBy.filter((g) => g !== field), field] });
  return html`<span class="group-by" role="group" aria-label="Group runs by">
    <span class="muted">Group by</span>
    ${groupBy.map(
      (field) => html`<span class="chip" key=${field}>${field}
        <button class="chip-x" aria-label=${`Stop grouping by ${field}`} onClick=${() => setQueryParams({ groupBy: groupBy.filter((g) => g !== field) })}>✕</button></span>`,
    )}
    <select class="input select-input" aria-label="Add a grouping field" value="" onChange=${(e) => add(e.currentTarget.value)}>
      <option value="">${groupBy.length ? "+ field…" : "param or tag…"}</option>
      ${options.filter((o) => !groupBy.includes(o)).map((o) => html`<option value=${o}>${o}</option>`)}
    </select>
  </span>`;
}

function ViewBar({ experimentIds, state, shown }) {
  const setMode = (charts) => setQueryParams({ compareRunsMode: charts ? CHART_MODE : undefined });
  return html`<div class="exp-viewbar">
    <span class="segmented" role="group" aria-label="View">
      <button class=${state.charts ? "" : "on"} aria-pressed=${!state.charts} onClick=${() => setMode(false)}>Table</button>
      <button class=${state.charts ? "on" : ""} aria-pressed=${state.charts} onClick=${() => setMode(true)}>Charts</button>
    </span>
    ${experimentIds.length === 1 && html`<a class="btn btn-small" href=${hrefFor(["experiments", experimentIds[0], "models"])}
      title="The experiment's MLflow 3 logged models">Logged models</a>`}
    ${state.charts &&
    !state.groupBy.length &&
    html`<label class="muted">Runs in view
      <select class="input select-input" aria-label="Runs in view" value=${String(state.limit)}
        onChange=${(e) => setQueryParams({ chart_n: e.currentTarget.value === "10" ? undefined : e.currentTarget.value })}>
        ${[...new Set([...RUN_LIMITS, state.limit])].sort((a, b) => a - b).map((n) => html`<option value=${String(n)}>first ${n}</option>`)}
      </select></label>`}
    ${state.charts && shown !== null && html`<span class="muted small" aria-live="polite">${shown}</span>`}
    <span class="spacer"></span>
    <${GroupByPicker} experimentIds=${experimentIds} groupBy=${state.groupBy} />
    ${state.charts &&
    state.groupBy.length > 0 &&
    html`<select class="input select-input" aria-label="Group line" value=${state.aggregate}
        onChange=${(e) => setQueryParams({ groupAgg: e.currentTarget.value === "mean" ? undefined : e.currentTarget.value })}>
        <option value="mean">mean</option><option value="median">median</option>
      </select>
      <select class="input select-input" aria-label="Group band" value=${state.band}
        onChange=${(e) => setQueryParams({ groupBand: e.currentTarget.value === "std" ? undefined : e.currentTarget.value })}>
        ${BANDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>`}
  </div>`;
}

/** Hovering a table row highlights its run in every chart (the charts highlight table rows back). */
function hoverHandlers() {
  return {
    onMouseOver: (e) => {
      const row = e.target.closest && e.target.closest(".table-scroll [data-run-id], .groups-table [data-run-id]");
      highlightRun(row ? row.dataset.runId : null);
    },
    onMouseLeave: () => highlightRun(null),
  };
}

export function ExperimentView({ experimentIds, route }) {
  const state = experimentViewState(route.query);
  const query = useTableQuery(route.query, experimentIds);
  const grouped = state.groupBy.length > 0;
  const chartRuns = useChartRuns(query, state.limit, state.pinned, state.charts && !grouped);
  usePrefetch(loadCharts, !state.charts); // the switch to Charts then waits only for data
  const inView = useMemo(() => new Set((chartRuns.runs || []).map((r) => r.run_id)), [chartRuns.runs]);
  // Colours are given to the runs in view together, so runs charted side by side do not share one.
  const colors = useMemo(() => runColors([...inView]), [inView]);
  const setPinned = (id) => setQueryParams({ pinned: toggled(state.pinned, id) });
  const setHidden = (id) => setQueryParams({ hidden: toggled(state.hidden, id) });

  const decorate = {};
  if (state.charts) {
    decorate.lead = (row) => html`<${RunLead} row=${row} color=${colors.get(row.run_id)}
      pinned=${state.pinned.includes(row.run_id)} hidden=${state.hidden.includes(row.run_id)} inView=${grouped || inView.has(row.run_id)}
      onPin=${setPinned} onHide=${setHidden} />`;
  }
  if (grouped) {
    decorate.body = ({ columns }) => html`<${LazyView} load=${loadGroups} name="GroupsTable"
      props=${{ query, state, metricKeys: columns.filter((c) => c.kind === "metrics").map((c) => c.key), onHide: setHidden }} />`;
  }
  let shown = null;
  if (state.charts && !grouped && chartRuns.runs) {
    const visible = chartRuns.runs.filter((r) => !state.hidden.includes(r.run_id)).length;
    shown = `${visible} of ${chartRuns.total ?? 0} runs charted`;
  }
  return html`<div class=${`exp-view${state.charts ? " charts-mode" : ""}`}>
    ${experimentIds.length === 1 && html`<${ExperimentHeader} experimentId=${experimentIds[0]} />`}
    <${ViewBar} experimentIds=${experimentIds} state=${state} shown=${shown} />
    <div class="exp-panes">
      <div class="exp-table-pane" ...${state.charts ? hoverHandlers() : {}}><${RunsTable} experimentIds=${experimentIds} route=${route} decorate=${decorate} /></div>
      ${state.charts &&
      html`<div class="exp-charts-pane">
        <${LazyView} load=${loadCharts} name="ExperimentCharts"
          props=${{ experimentIds, query, state, chartRuns, onHide: setHidden }} />
      </div>`}
    </div>
  </div>`;
}

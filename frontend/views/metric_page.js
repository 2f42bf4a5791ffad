// MLflow's metric page (#/metric/<key>?runs=[...]&experiments=[...], or MLflow 3's #/metric?metric="key"&...):
// the metric's history charts for those runs. MLflow's chart parameters (x_axis, y_axis_scale,
// line_smoothness) are translated once into mlscope's (chart_x, chart_log, chart_smooth).
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { compareRuns } from "../lib/api.js";
import { shortId } from "../lib/format.js";
import { usePageTitle } from "../lib/page_title.js";
import { hrefFor, listParam, setQueryParams } from "../lib/router.js";
import { MetricCharts } from "./metric_charts.js";

const MLFLOW_CHART_PARAMS = ["x_axis", "y_axis_scale", "line_smoothness", "show_point", "plot_layout", "deselected_curves", "last_linear_y_axis_range"];

function jsonString(raw) {
  if (!raw) return "";
  try {
    const value = JSON.parse(raw);
    return typeof value === "string" ? value : String(value);
  } catch {
    return raw;
  }
}

/** The metric keys a metric-page URL names: the path's key, `metric`, and `plot_metric_keys`. */
export function metricKeysOf(route) {
  const keys = [];
  const fromPath = route.segments.slice(1).join("/");
  if (fromPath) keys.push(fromPath);
  const fromParam = jsonString(route.query.get("metric"));
  if (fromParam) keys.push(fromParam);
  keys.push(...listParam(route.query, "plot_metric_keys"));
  return [...new Set(keys.filter(Boolean))];
}

/** mlscope's chart settings for MLflow's metric-page parameters (null when the URL has none). */
export function chartParamsFrom(query) {
  if (!MLFLOW_CHART_PARAMS.some((k) => query.has(k))) return null;
  const updates = Object.fromEntries(MLFLOW_CHART_PARAMS.map((k) => [k, undefined]));
  const x = query.get("x_axis");
  if (x === "wall" || x === "relative") updates.chart_x = x;
  if (query.get("y_axis_scale") === "log") updates.chart_log = "1";
  const smoothness = Number(query.get("line_smoothness"));
  if (Number.isFinite(smoothness) && smoothness > 1) updates.chart_smooth = String(Math.min(0.99, smoothness / 100));
  return updates;
}

export function MetricPage({ route }) {
  const runIds = useMemo(() => [...new Set(listParam(route.query, "runs"))], [route.query.get("runs")]);
  const keys = metricKeysOf(route);
  const [state, setState] = useState({ runs: null, error: null });

  useEffect(() => {
    const updates = chartParamsFrom(route.query);
    if (updates) setQueryParams(updates);
  }, []);

  useEffect(() => {
    if (!runIds.length) return undefined;
    const controller = new AbortController();
    compareRuns(runIds, { signal: controller.signal })
      .then((body) => setState({ runs: body.runs, error: null }))
      .catch((err) => err.name !== "AbortError" && setState({ runs: null, error: err.message }));
    return () => controller.abort();
  }, [runIds.join(",")]);

  usePageTitle(keys.join(", "), runIds.length > 1 ? `${runIds.length} runs` : "");
  if (!keys.length || !runIds.length) {
    return html`<div class="page-message"><h2>Nothing to chart</h2>
      <p>This metric link names no ${keys.length ? "runs" : "metric"}.</p><p><a href=${hrefFor(["experiments"])}>Go to experiments</a></p></div>`;
  }
  const found = (state.runs || []).filter((r) => !r.error_code);
  const missing = (state.runs || []).filter((r) => r.error_code);
  const chartRuns = found.map((r) => ({ run_id: r.run_id, run_name: r.info.run_name || shortId(r.run_id) }));
  const experiments = [...new Set(found.map((r) => r.info.experiment_id))];
  const back =
    found.length === 1
      ? hrefFor(["experiments", found[0].info.experiment_id, "runs", found[0].run_id])
      : hrefFor(["compare-runs"], { runs: runIds, experiments });
  return html`<div class="metric-page">
    <header class="metric-page-head">
      <a href=${back}>← ${found.length === 1 ? found[0].info.run_name || "Run" : "Compare these runs"}</a>
      <h1>${keys.join(", ")}</h1>
      <span class="muted">${runIds.length} run${runIds.length === 1 ? "" : "s"}</span>
    </header>
    ${state.error && html`<div class="error-box">Could not load the runs: ${state.error}</div>`}
    ${missing.length > 0 && html`<div class="notice" role="status">Not found: ${missing.map((r) => html` <code>${shortId(r.run_id)}</code>`)}</div>`}
    ${state.runs === null && !state.error && html`<div class="muted pad">Loading runs…</div>`}
    ${chartRuns.length > 0 && html`<${MetricCharts} runs=${chartRuns} metricKeys=${keys} />`}
  </div>`;
}

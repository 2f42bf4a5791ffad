// An experiment's logged models (MLflow 3; #/experiments/<id>/models, MLflow's route): each model with its
// status, source run (linked), creation time, registered versions (from its mlflow.modelVersions tag, linked
// to their pages), params and metrics (one column per metric key), newest first, 100 per page.
import { html, useEffect, useState } from "../lib/html.js";
import { mlflowSearchRuns, offsetPageToken, searchLoggedModels } from "../lib/api.js";
import { formatNumber, formatRelative, formatTime } from "../lib/format.js";
import { hrefFor, setQueryParams } from "../lib/router.js";
import { usePageTitle } from "../lib/page_title.js";

export const PAGE_SIZE = 100;
const MAX_METRIC_COLUMNS = 6;
const STATUS_NAMES = { 0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED" };

/** MLflow's LoggedModelStatus as a word: READY, PENDING, FAILED (enum name, prefixed name or number). */
export function statusName(status) {
  const text = STATUS_NAMES[status] || String(status ?? "UNSPECIFIED");
  return text.replace(/^LOGGED_MODEL_(STATUS_)?/, "");
}

/** The versions a logged model was registered as: its mlflow.modelVersions tag, a JSON list of {name, version}. */
export function registeredVersions(model) {
  const tag = (model.info.tags || []).find((t) => t.key === "mlflow.modelVersions");
  if (!tag) return [];
  try {
    const list = JSON.parse(tag.value);
    return Array.isArray(list) ? list.filter((v) => v && v.name && v.version !== undefined) : [];
  } catch {
    return [];
  }
}

/** One page of the experiment's logged models plus the names of their source runs (one runs/search). */
function useLoggedModels(experimentId, page) {
  const [state, setState] = useState({ data: null, runs: new Map(), error: null, loading: true });
  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    setState((s) => ({ ...s, loading: true }));
    (async () => {
      const data = await searchLoggedModels({ experiment_ids: [experimentId], max_results: PAGE_SIZE, page_token: offsetPageToken((page - 1) * PAGE_SIZE) }, { signal });
      const ids = [...new Set((data.models || []).map((m) => m.info.source_run_id).filter(Boolean))];
      const runs = new Map();
      if (ids.length) {
        const found = await mlflowSearchRuns({ experiment_ids: [experimentId], filter: `attributes.run_id IN (${ids.map((id) => `'${id}'`).join(", ")})`,
          max_results: ids.length, run_view_type: "ALL" }, { signal });
        for (const run of found.runs || []) runs.set(run.info.run_id, run.info);
      }
      setState({ data, runs, error: null, loading: false });
    })().catch((err) => {
      if (err.name !== "AbortError") setState({ data: null, runs: new Map(), error: err, loading: false });
    });
    return () => controller.abort();
  }, [experimentId, page]);
  return state;
}

function RunCell({ runId, runs, experimentId }) {
  if (!runId) return html`<span class="muted">—</span>`;
  const info = runs.get(runId);
  return html`<a href=${hrefFor(["experiments", info ? info.experiment_id : experimentId, "runs", runId])} title=${runId}>
    ${info ? info.run_name || runId : runId.slice(0, 8)}</a>`;
}

function Chips({ items }) {
  if (!items.length) return html`<span class="muted">—</span>`;
  const shown = items.slice(0, 4);
  return html`<span class="reg-chips">${shown.map((p) => html`<span class="reg-tag" title=${`${p.key}=${p.value}`}>${p.key}=${p.value}</span>`)}${items.length > shown.length && html`<span class="muted small">+${items.length - shown.length}</span>`}</span>`;
}

/** A model's latest value of each metric key (the highest step, then the newest). */
function latestMetrics(model) {
  const best = new Map();
  for (const m of model.data.metrics || []) {
    const seen = best.get(m.key);
    if (!seen || m.step > seen.step || (m.step === seen.step && m.timestamp >= seen.timestamp)) best.set(m.key, m);
  }
  return best;
}

export function LoggedModelsTab({ experimentId, experimentName, route }) {
  const page = Math.max(1, parseInt(route.query.get("page") || "1", 10) || 1);
  const { data, runs, error, loading } = useLoggedModels(experimentId, page);
  usePageTitle("Logged models", experimentName || "");
  const models = (data && data.models) || [];
  const metrics = models.map(latestMetrics);
  const metricKeys = [...new Set(metrics.flatMap((m) => [...m.keys()]))].sort().slice(0, MAX_METRIC_COLUMNS);
  return html`<div class="reg-logged" aria-busy=${loading}>
    <div class="reg-head">
      <h2>${experimentName ? html`${experimentName} · ` : ""}Logged models</h2>
      <span class="spacer"></span>
      <a class="btn" href=${hrefFor(["experiments", experimentId])}>Runs</a>
    </div>
    ${error && html`<div class="error-box" role="alert">${error.message}</div>`}
    <div class="reg-table-wrap">
      <table class="kv-table reg-table" data-table="logged-models">
        <thead><tr>
          <th>Model</th><th>Status</th><th>Source run</th><th>Created</th><th>Registered versions</th><th>Params</th>
          ${metricKeys.map((k) => html`<th class="num" title=${k}>${k}</th>`)}
        </tr></thead>
        <tbody>${models.map((m, i) => {
          const info = m.info;
          const status = statusName(info.status);
          return html`<tr key=${info.model_id} data-model-id=${info.model_id}>
            <td>${info.source_run_id
              ? html`<a href=${hrefFor(["experiments", info.experiment_id || experimentId, "runs", info.source_run_id, "artifacts", info.model_id])}
                  title="The model's files in its run's artifact browser">${info.name || info.model_id}</a>`
              : html`<span>${info.name || info.model_id}</span>`}<div class="muted small mono">${info.model_id}</div></td>
            <td><span class=${`badge reg-status-${status.toLowerCase()}`}>${status}</span></td>
            <td><${RunCell} runId=${info.source_run_id} runs=${runs} experimentId=${experimentId} /></td>
            <td title=${formatTime(info.creation_timestamp_ms)}>${formatRelative(info.creation_timestamp_ms)}</td>
            <td>${registeredVersions(m).length
              ? html`<span class="reg-chips">${registeredVersions(m).map((v) => html`<a class="reg-chip reg-chip-link" href=${hrefFor(["models", v.name, "versions", v.version])}>${v.name} v${v.version}</a>`)}</span>`
              : html`<span class="muted">—</span>`}</td>
            <td><${Chips} items=${m.data.params || []} /></td>
            ${metricKeys.map((k) => html`<td class="num" title=${metrics[i].has(k) ? String(metrics[i].get(k).value) : ""}>${metrics[i].has(k) ? formatNumber(metrics[i].get(k).value) : html`<span class="muted">—</span>`}</td>`)}
          </tr>`;
        })}</tbody>
      </table>
      ${!loading && !error && !models.length &&
      html`<div class="page-message"><h2>No logged models</h2>
        <p>MLflow 3 records a logged model for each <code>mlflow.&lt;flavor&gt;.log_model(…, name="model")</code> call.</p></div>`}
    </div>
    ${(page > 1 || (data && data.next_page_token)) &&
    html`<nav class="reg-pager" aria-label="Pages">
      <button class="btn" disabled=${page <= 1} onClick=${() => setQueryParams({ page: page - 1 > 1 ? page - 1 : undefined })}>‹ Previous</button>
      <span class="muted">page ${page}</span>
      <button class="btn" disabled=${!(data && data.next_page_token)} onClick=${() => setQueryParams({ page: page + 1 })}>Next ›</button>
    </nav>`}
  </div>`;
}

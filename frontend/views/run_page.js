// The run page (#/experiments/<id>/runs/<run_id>[/<tab>]): overview, metric charts, artifacts.
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { fetchRun } from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { formatDuration, formatNumber, formatRelative, formatTime, STATUS_ICONS } from "../lib/format.js";
import { LongValue } from "../lib/long_value.js";
import { Markdown } from "../lib/markdown.js";
import { usePageTitle } from "../lib/page_title.js";
import { LazyView } from "./lazy_view.js";
import { useLive } from "./use_live.js";
import { RunModelVersions } from "./models_run.js";
import { RunActions } from "./edit_run.js";

const NOTE_TAG = "mlflow.note.content";
const loadCharts = () => import("./metric_charts.js");
const loadArtifacts = () => import("./artifacts.js");

function useRun(runId) {
  const [state, setState] = useState({ data: null, error: null });
  const load = () =>
    fetchRun(runId)
      .then((data) => setState({ data, error: null }))
      .catch((err) => setState((s) => ({ data: err.status === 404 ? null : s.data, error: err })));
  useEffect(() => {
    setState({ data: null, error: null });
    load();
  }, [runId]);
  useLive((event) => {
    if (event && (event.reset || (Array.isArray(event.changed) && event.changed.includes(runId)))) load();
  });
  return state;
}

function runHref(experimentId, runId, ...rest) {
  return hrefFor(["experiments", experimentId, "runs", runId, ...rest]);
}

function CopyButton({ text }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1200);
    } catch {
      setDone(false);
    }
  };
  return html`<button class="btn-icon copy" onClick=${copy} aria-label="Copy run id" title="Copy run id">${done ? "Copied" : "Copy"}</button>`;
}

function Status({ status }) {
  return html`<span class=${`status-pill status-${status}`}><span class="status">${STATUS_ICONS[status] || "?"}</span> ${status}</span>`;
}

function Section({ title, count, children, actions }) {
  return html`<section class="card">
    <div class="card-head">
      <h3>${title}${count !== undefined ? html` <span class="muted">${count}</span>` : ""}</h3>
      <span class="spacer"></span>
      ${actions}
    </div>
    <div class="card-body">${children}</div>
  </section>`;
}

/** A searchable table; rows are { key, text (what search matches), cells }. */
function KeyValueTable({ name, rows, columns }) {
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const shown = q ? rows.filter((r) => r.key.toLowerCase().includes(q) || r.text.toLowerCase().includes(q)) : rows;
  return html`<${Section}
    title=${name}
    count=${rows.length}
    actions=${rows.length > 0 &&
    html`<input class="input input-sm" type="search" placeholder=${`Search ${name.toLowerCase()}`} aria-label=${`Search ${name.toLowerCase()}`} value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} />`}
  >
    ${rows.length === 0
      ? html`<div class="muted">No ${name.toLowerCase()}.</div>`
      : html`<table class="kv-table" data-table=${name.toLowerCase()}>
          <thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead>
          <tbody>
            ${shown.map((r) => html`<tr key=${r.key}><td class="key wrap">${r.key}</td>${r.cells.map((v) => html`<td>${v}</td>`)}</tr>`)}
          </tbody>
        </table>
        ${shown.length === 0 && html`<div class="muted">Nothing matches “${query}”.</div>`}`}
  </${Section}>`;
}

function Details({ data }) {
  const { run, experiment, parent } = data;
  const info = run.info;
  const tags = run.tags;
  const source = tags["mlflow.source.name"];
  const rows = [
    ["Run ID", html`<span class="mono">${info.run_id}</span> <${CopyButton} text=${info.run_id} />`],
    ["Status", html`<${Status} status=${info.status} />`],
    ["Start time", info.start_time ? html`${formatTime(info.start_time)} <span class="muted">(${formatRelative(info.start_time)})</span>` : "—"],
    ["End time", info.end_time ? formatTime(info.end_time) : "—"],
    ["Duration", formatDuration(info.start_time, info.end_time ?? (info.status === "RUNNING" ? Date.now() : null)) || "—"],
    ["User", tags["mlflow.user"] || info.user_id || "—"],
    ["Source", source ? html`<${LongValue} value=${`${tags["mlflow.source.type"] ? `${tags["mlflow.source.type"]}: ` : ""}${source}`} />` : "—"],
    ["Git commit", tags["mlflow.source.git.commit"] ? html`<span class="mono">${tags["mlflow.source.git.commit"]}</span>` : "—"],
    ["Experiment", html`<a href=${hrefFor(["experiments", experiment.experiment_id])}>${experiment.name || experiment.experiment_id}</a>`],
    [
      "Parent run",
      parent
        ? parent.missing
          ? html`<span class="mono">${parent.run_id}</span> <span class="muted">(not found)</span>`
          : html`<a href=${runHref(parent.experiment_id, parent.run_id)}>${parent.run_name || parent.run_id}</a>`
        : "—",
    ],
    ["Artifact URI", html`<span class="mono wrap">${info.artifact_uri}</span>`],
  ];
  if (info.lifecycle_stage === "deleted") rows.push(["Lifecycle", html`<span class="badge">deleted</span>${info.deleted_time ? ` ${formatTime(info.deleted_time)}` : ""}`]);
  return html`<${Section} title="Details">
    <table class="kv-table details-table"><tbody>
      ${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}
    </tbody></table>
  </${Section}>`;
}

function Datasets({ datasets }) {
  if (!datasets.length) return null;
  return html`<${Section} title="Datasets" count=${datasets.length}>
    <table class="kv-table"><thead><tr><th>Name</th><th>Digest</th><th>Context</th><th>Source</th></tr></thead><tbody>
      ${datasets.map(
        (d) => html`<tr><td>${d.name}</td><td class="mono">${d.digest}</td><td>${d.context || ""}</td><td><${LongValue} value=${`${d.source_type}${d.source ? `: ${d.source}` : ""}`} /></td></tr>`,
      )}
    </tbody></table>
  </${Section}>`;
}

function Models({ run }) {
  const models = run.logged_models;
  const unnamed = run.model_outputs.filter((m) => !models.some((lm) => lm.model_id === m.model_id));
  const inputs = run.model_inputs;
  if (!models.length && !unnamed.length && !inputs.length) return null;
  return html`<${Section} title="Logged models" count=${models.length + unnamed.length}>
    <table class="kv-table"><thead><tr><th>Name</th><th>Model ID</th><th>Status</th><th>Type</th><th>Params</th></tr></thead><tbody>
      ${models.map(
        (m) => html`<tr>
          <td>${m.name}</td><td class="mono">${m.model_id}</td><td>${m.status}</td><td>${m.model_type || ""}</td>
          <td><${LongValue} value=${Object.entries(m.params).map(([k, v]) => `${k}=${v}`).join(", ")} /></td>
        </tr>`,
      )}
      ${unnamed.map((m) => html`<tr><td class="muted">(not found)</td><td class="mono">${m.model_id}</td><td></td><td></td><td></td></tr>`)}
    </tbody></table>
    ${inputs.length > 0 && html`<div class="muted small">Input models: ${inputs.map((m) => m.name || m.model_id).join(", ")}</div>`}
  </${Section}>`;
}

function Children({ children }) {
  if (!children.length) return null;
  return html`<${Section} title="Child runs" count=${children.length}>
    <ul class="link-list">
      ${children.map(
        (c) => html`<li><span class=${`status status-${c.status}`}>${STATUS_ICONS[c.status]}</span> <a href=${runHref(c.experiment_id, c.run_id)}>${c.run_name || c.run_id}</a> <span class="muted">${formatRelative(c.start_time)}</span></li>`,
      )}
    </ul>
  </${Section}>`;
}

function Tags({ tags }) {
  const entries = Object.entries(tags);
  const user = entries.filter(([k]) => !k.startsWith("mlflow."));
  const system = entries.filter(([k]) => k.startsWith("mlflow.") && k !== NOTE_TAG);
  return html`<${Section} title="Tags" count=${user.length}>
    ${user.length === 0
      ? html`<div class="muted">No tags.</div>`
      : html`<table class="kv-table" data-table="tags"><tbody>${user.map(([k, v]) => html`<tr><td class="key wrap">${k}</td><td><${LongValue} value=${v} /></td></tr>`)}</tbody></table>`}
    ${system.length > 0 &&
    html`<details class="system-tags">
      <summary>System tags (${system.length})</summary>
      <table class="kv-table"><tbody>${system.map(([k, v]) => html`<tr><td class="key wrap">${k}</td><td><${LongValue} value=${v} /></td></tr>`)}</tbody></table>
    </details>`}
  </${Section}>`;
}

function Overview({ data }) {
  const { run } = data;
  const note = run.tags[NOTE_TAG];
  const paramRows = Object.entries(run.params).map(([k, v]) => ({ key: k, text: v, cells: [html`<${LongValue} value=${v} />`] }));
  const metricRows = run.metrics.map((m) => ({
    key: m.key,
    text: String(m.value),
    cells: [
      html`<span class="num" title=${String(m.value)}>${formatNumber(m.value)}</span>`,
      m.step,
      html`<span title=${formatTime(m.timestamp)}>${formatRelative(m.timestamp)}</span>`,
    ],
  }));
  return html`<div class="overview">
    <div class="overview-col">
      <${Details} data=${data} />
      ${note && html`<${Section} title="Description"><${Markdown} text=${note} /></${Section}>`}
      <${Datasets} datasets=${run.datasets} />
      <${Models} run=${run} />
      <${RunModelVersions} run=${run} />
      <${Children} children=${data.children} />
    </div>
    <div class="overview-col">
      <${KeyValueTable} name="Parameters" rows=${paramRows} columns=${["Name", "Value"]} />
      <${KeyValueTable} name="Metrics" rows=${metricRows} columns=${["Name", "Latest", "Step", "Logged"]} />
      <${Tags} tags=${run.tags} />
    </div>
  </div>`;
}

export function RunPage({ experimentId, runId, tab, artifactPath }) {
  const { data, error } = useRun(runId);
  const metricKeys = useMemo(() => (data ? data.run.metrics.map((m) => m.key) : []), [data]);
  const modelKeys = metricKeys.filter((k) => !k.startsWith("system/"));
  const systemKeys = metricKeys.filter((k) => k.startsWith("system/"));
  usePageTitle(data ? data.run.info.run_name || data.run.info.run_id : error && error.status === 404 ? "Run not found" : "", data && data.experiment ? data.experiment.name : "");
  const back = html`<a href=${hrefFor(experimentId ? ["experiments", experimentId] : ["experiments"])}>${experimentId ? "Back to the experiment" : "Go to experiments"}</a>`;
  if (error && error.status === 404) {
    return html`<div class="page-message"><h2>Run not found</h2><p>${error.message}</p><p>${back}</p></div>`;
  }
  if (error && !data) {
    return html`<div class="page-message" role="alert"><h2>Could not load the run</h2><p>${error.message}</p><p>${back}</p></div>`;
  }
  if (!data) return html`<div class="muted pad">Loading run…</div>`;
  const info = data.run.info;
  const expId = info.experiment_id;
  const tabs = [
    ["overview", "Overview"],
    ["model-metrics", `Metric charts (${modelKeys.length})`],
    ...(systemKeys.length ? [["system-metrics", `System metrics (${systemKeys.length})`]] : []),
    ["artifacts", "Artifacts"],
  ];
  const current = tabs.some((t) => t[0] === tab) ? tab : "overview";
  const chartRuns = [{ run_id: info.run_id, run_name: info.run_name }];
  return html`<div class="run-page">
    <div class="run-header">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href=${hrefFor(["experiments"])}>Experiments</a>
        <span class="sep">›</span>
        <a href=${hrefFor(["experiments", expId])}>${data.experiment.name || expId}</a>
      </nav>
      <h1><span class=${`status status-${info.status}`} title=${info.status}>${STATUS_ICONS[info.status]}</span> ${info.run_name || info.run_id}</h1>
      <${RunActions} run=${data.run} />
      ${experimentId && expId !== experimentId && html`<div class="muted small">This run belongs to experiment ${expId}.</div>`}
      <nav class="tabs" role="tablist">
        ${tabs.map(
          ([id, label]) => html`<a role="tab" aria-selected=${id === current} class=${`tab${id === current ? " active" : ""}`} href=${runHref(expId, info.run_id, ...(id === "overview" ? [] : [id]))}>${label}</a>`,
        )}
      </nav>
    </div>
    <div class="run-body">
      ${current === "overview" && html`<${Overview} data=${data} />`}
      ${current === "model-metrics" && html`<${LazyView} load=${loadCharts} name="MetricCharts" props=${{ runs: chartRuns, metricKeys: modelKeys }} />`}
      ${current === "system-metrics" && html`<${LazyView} load=${loadCharts} name="MetricCharts" props=${{ runs: chartRuns, metricKeys: systemKeys }} />`}
      ${current === "artifacts" && html`<${LazyView} load=${loadArtifacts} name="ArtifactsTab" props=${{ runId: info.run_id, experimentId: expId, path: artifactPath }} />`}
    </div>
  </div>`;
}

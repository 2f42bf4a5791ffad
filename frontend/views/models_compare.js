// Compare versions of one registered model side by side (#/compare-model-versions, MLflow's route):
// details (stage, aliases, source run, registered), the MLmodel signature of each version, and the
// source runs' parameters and metrics, with rows that differ marked. The URL takes MLflow's shape,
// ?name="<encoded name>"&runs={"<run_id>":"<version>"}, and mlscope's ?versions=[..] (several versions
// may come from one run, which MLflow's runs map cannot say); versions wins when both are present.
import { html, useEffect, useState } from "../lib/html.js";
import { fetchArtifactJSON } from "./artifact_previews/common.js";
import { fetchModelVersionPage } from "../lib/api.js";
import { formatNumber, formatRelative, formatTime } from "../lib/format.js";
import { hrefFor, listParam, setQueryParams } from "../lib/router.js";
import { usePageTitle } from "../lib/page_title.js";
import { RunLink } from "./models_detail.js";
import { Card, StageBadge } from "./models_editors.js";

export const MAX_COMPARED = 10;

/** MLflow's name param is JSON.stringify(encodeURIComponent(name)); a plain name works too. */
export function parseModelName(raw) {
  if (!raw) return "";
  let text = raw;
  try {
    const parsed = JSON.parse(raw);
    if (typeof parsed === "string") text = parsed;
  } catch {
    /* a plain name */
  }
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The versions a URL names: ?versions=[..], else the values of MLflow's ?runs={run_id: version}; numeric order. */
export function versionsFromQuery(query) {
  let versions = listParam(query, "versions");
  if (!versions.length && query.get("runs")) {
    try {
      versions = Object.values(JSON.parse(query.get("runs")) || {}).map(String);
    } catch {
      versions = [];
    }
  }
  return [...new Set(versions.filter((v) => /^\d+$/.test(v)))].sort((a, b) => Number(a) - Number(b));
}

/** The link to this page for some versions of a model, in MLflow's shape plus the explicit versions list. */
export function compareVersionsHref(name, versions) {
  const runs = {};
  for (const v of versions) if (v.run_id && !(v.run_id in runs)) runs[v.run_id] = String(v.version);
  return hrefFor(["compare-model-versions"], {
    name: JSON.stringify(encodeURIComponent(name)),
    runs: JSON.stringify(runs),
    versions: versions.map((v) => String(v.version)),
  });
}

/** Each version's page data and parsed MLmodel, loaded together; stale loads are aborted. */
function useVersions(name, versions) {
  const [state, setState] = useState({ items: null, error: null });
  const key = JSON.stringify([name, versions]);
  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    setState({ items: null, error: null });
    const loadOne = async (version) => {
      try {
        const page = await fetchModelVersionPage(name, version, { signal });
        let mlmodel = null;
        let mlmodelError = page.files ? null : page.files_unavailable;
        if (page.files) {
          try {
            mlmodel = await fetchArtifactJSON("mlmodel", { runId: page.files.run_id, modelId: page.files.model_id }, page.files.path, {}, signal);
          } catch (err) {
            if (err.name === "AbortError") throw err;
            mlmodelError = err.message || String(err);
          }
        }
        return { version, page, mlmodel, mlmodelError };
      } catch (err) {
        if (err.name === "AbortError") throw err;
        return { version, error: err.message || String(err) };
      }
    };
    Promise.all(versions.map(loadOne))
      .then((items) => setState({ items, error: null }))
      .catch((err) => {
        if (err.name !== "AbortError") setState({ items: null, error: err.message || String(err) });
      });
    return () => controller.abort();
  }, [key]);
  return state;
}

const same = (values) => values.every((v) => v === values[0]);

/** One table: a header row of versions, then one row per key; rows whose values differ are marked. */
function CompareTable({ label, table, items, rows, onlyDiffs }) {
  const shown = onlyDiffs ? rows.filter((r) => !same(r.values.map((v) => v.text))) : rows;
  if (!rows.length) return html`<div class="muted small">None of these versions has any.</div>`;
  return html`<table class="kv-table reg-compare-table" data-table=${table}>
    <thead><tr><th>${label}</th>${items.map((it) => html`<th>Version ${it.version}</th>`)}</tr></thead>
    <tbody>${shown.map(
      (r) => html`<tr key=${r.key} class=${same(r.values.map((v) => v.text)) ? "" : "reg-diff"} data-key=${r.key}>
        <th class="wrap">${r.label || r.key}</th>
        ${r.values.map((v) => html`<td class="wrap" title=${v.title || ""}>${v.node ?? (v.text === undefined ? html`<span class="muted">—</span>` : v.text)}</td>`)}
      </tr>`,
    )}</tbody>
  </table>
  ${onlyDiffs && shown.length < rows.length && html`<div class="muted small">${rows.length - shown.length} identical ${rows.length - shown.length === 1 ? "row" : "rows"} hidden.</div>`}`;
}

function detailRows(items) {
  const v = (it) => it.page && it.page.model_version;
  const cell = (it, text, node, title) => (it.page ? { text, node, title } : { text: it.error, node: html`<span class="error-text">${it.error}</span>` });
  return [
    { key: "stage", label: "Stage", values: items.map((it) => cell(it, v(it)?.current_stage || "None", it.page && html`<${StageBadge} stage=${v(it).current_stage || "None"} />`)) },
    { key: "aliases", label: "Aliases", values: items.map((it) => cell(it, (v(it)?.aliases || []).join(" "), it.page && html`<span class="reg-chips">${(v(it).aliases || []).map((a) => html`<span class="reg-chip"><span class="reg-alias">@${a}</span></span>`)}</span>`)) },
    { key: "registered", label: "Registered", values: items.map((it) => cell(it, String(v(it)?.creation_timestamp), it.page && formatRelative(v(it).creation_timestamp), it.page && formatTime(v(it).creation_timestamp))) },
    { key: "run", label: "Source run", values: items.map((it) => cell(it, it.page?.run?.run_id, it.page && html`<${RunLink} run=${it.page.run} />`)) },
    { key: "source", label: "Source", values: items.map((it) => cell(it, v(it)?.source, it.page && html`<span class="mono small">${v(it).source}</span>`)) },
    { key: "status", label: "Status", values: items.map((it) => cell(it, v(it)?.status)) },
    { key: "description", label: "Description", values: items.map((it) => cell(it, v(it)?.description || undefined)) },
    { key: "tags", label: "Tags", values: items.map((it) => cell(it, (v(it)?.tags || []).map((t) => `${t.key}=${t.value}`).join(" ") || undefined)) },
  ];
}

function columnText(c) {
  return `${c.type}${c.shape ? ` ${JSON.stringify(c.shape)}` : ""}${c.required === false ? " (optional)" : ""}`;
}

function schemaRows(items, part) {
  const keys = [];
  const byVersion = items.map((it) => {
    const columns = (it.mlmodel && it.mlmodel.signature && it.mlmodel.signature[part]) || [];
    const map = new Map(columns.map((c, i) => [c.name ?? `(${i})`, c]));
    for (const k of map.keys()) if (!keys.includes(k)) keys.push(k);
    return map;
  });
  return keys.map((k) => ({ key: `${part}:${k}`, label: k, values: byVersion.map((m) => ({ text: m.has(k) ? columnText(m.get(k)) : undefined })) }));
}

function runRows(items, what) {
  const keys = new Set();
  const maps = items.map((it) => {
    const run = it.page && it.page.run;
    const entries = !run || run.missing ? [] : what === "params" ? Object.entries(run.params || {}) : (run.metrics || []).map((m) => [m.key, m.value]);
    for (const [k] of entries) keys.add(k);
    return new Map(entries);
  });
  return [...keys].sort().map((k) => ({
    key: k,
    values: maps.map((m) => (m.has(k) ? { text: String(m.get(k)), node: what === "metrics" ? formatNumber(m.get(k)) : undefined, title: String(m.get(k)) } : { text: undefined })),
  }));
}

function SchemaSection({ items, onlyDiffs }) {
  const problems = items.filter((it) => it.page && !it.mlmodel);
  return html`<${Card} title="Signature">
    ${problems.map((it) => html`<div class="muted small">Version ${it.version}: ${it.mlmodelError || "no MLmodel"}</div>`)}
    <div class="af-section-title">Inputs</div>
    <${CompareTable} label="Input" table="schema-inputs" items=${items} rows=${schemaRows(items, "inputs")} onlyDiffs=${onlyDiffs} />
    <div class="af-section-title">Outputs</div>
    <${CompareTable} label="Output" table="schema-outputs" items=${items} rows=${schemaRows(items, "outputs")} onlyDiffs=${onlyDiffs} />
  </${Card}>`;
}

export function CompareModelVersionsPage({ route }) {
  const name = parseModelName(route.query.get("name"));
  const versions = versionsFromQuery(route.query).slice(0, MAX_COMPARED);
  const onlyDiffs = route.query.get("diffs") === "1"; // in the URL, so a shared link shows the same rows
  const { items, error } = useVersions(name, versions);
  usePageTitle(`Compare ${name} versions`, "Registered models");
  if (!name || versions.length < 1) {
    return html`<div class="page-message"><h2>Nothing to compare</h2>
      <p>This link names no model or no versions. Pick versions on a model's page and press “Compare versions”.</p>
      <p><a href=${hrefFor(["models"])}>All registered models</a></p></div>`;
  }
  if (error) return html`<div class="page-message" role="alert"><h2>Could not load the versions</h2><p>${error}</p></div>`;
  if (!items) return html`<div class="muted pad">Loading ${versions.length} versions of ${name}…</div>`;
  const runs = items.filter((it) => it.page && it.page.run && !it.page.run.missing).map((it) => it.page.run);
  const runsHref = hrefFor(["compare-runs"], { runs: [...new Set(runs.map((r) => r.run_id))], experiments: [...new Set(runs.map((r) => r.experiment_id))] });
  return html`<div class="run-page reg-compare-page">
    <div class="run-header">
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <a href=${hrefFor(["models"])}>Registered models</a><span class="sep">›</span>
        <a href=${hrefFor(["models", name])}>${name}</a><span class="sep">›</span><span>Compare versions</span>
      </nav>
      <h1>Comparing ${items.length} versions of <a href=${hrefFor(["models", name])}>${name}</a></h1>
      <div class="reg-row">
        ${items.map((it) => html`<a class="reg-chip reg-chip-link" href=${hrefFor(["models", name, "versions", it.version])}>Version ${it.version}</a>`)}
        <span class="spacer"></span>
        <label class="reg-row small"><input type="checkbox" checked=${onlyDiffs} onChange=${(e) => setQueryParams({ diffs: e.currentTarget.checked ? "1" : undefined })} /> Show only differences</label>
        ${runs.length > 0 && html`<a class="btn" href=${runsHref} title="The source runs in the runs compare view: charts, parallel coordinates">Compare source runs</a>`}
      </div>
    </div>
    <div class="run-body reg-body">
      <${Card} title="Details"><${CompareTable} label="" table="compare-details" items=${items} rows=${detailRows(items)} onlyDiffs=${onlyDiffs} /></${Card}>
      <${SchemaSection} items=${items} onlyDiffs=${onlyDiffs} />
      <${Card} title="Parameters of the source runs"><${CompareTable} label="Parameter" table="compare-params" items=${items} rows=${runRows(items, "params")} onlyDiffs=${onlyDiffs} /></${Card}>
      <${Card} title="Metrics of the source runs"><${CompareTable} label="Metric" table="compare-metrics" items=${items} rows=${runRows(items, "metrics")} onlyDiffs=${onlyDiffs} /></${Card}>
    </div>
  </div>`;
}

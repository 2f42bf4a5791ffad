// A registered model's page (#/models/<name>, MLflow's route): description, aliases and tags (all editable),
// and its versions with their source runs; comparing selected versions opens the runs compare view.
import { html, useEffect, useState } from "../lib/html.js";
import {
  deleteModelAlias,
  deleteRegisteredModelTag,
  fetchModelPage,
  setModelAlias,
  setRegisteredModelTag,
  updateRegisteredModel,
} from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { formatRelative, formatTime, STATUS_ICONS } from "../lib/format.js";
import { usePageTitle } from "../lib/page_title.js";
import { AliasesEditor, Card, DescriptionEditor, StageBadge, TagsEditor } from "./models_editors.js";
import { compareVersionsHref } from "./models_compare.js";

const tagMap = (tags) => Object.fromEntries((tags || []).map((t) => [t.key, t.value]));

/** Load a page's JSON, aborting stale requests; `reload` fetches again after an edit. */
export function usePageData(fetcher, deps) {
  const [state, setState] = useState({ data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    fetcher({ signal: controller.signal })
      .then((data) => setState({ data, error: null }))
      .catch((err) => {
        if (err.name !== "AbortError") setState((s) => ({ data: err.status === 404 ? null : s.data, error: err }));
      });
    return () => controller.abort();
  }, [...deps, tick]);
  useEffect(() => setState({ data: null, error: null }), deps);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function runHref(run) {
  return hrefFor(["experiments", run.experiment_id, "runs", run.run_id]);
}

export function RunLink({ run }) {
  if (!run) return html`<span class="muted">—</span>`;
  if (run.missing) return html`<span class="mono muted" title="This run is not in the tree">${run.run_id.slice(0, 8)} (not found)</span>`;
  return html`<a href=${runHref(run)} title=${`${run.experiment_name || run.experiment_id} / ${run.run_id}`}>
    <span class=${`status status-${run.status}`}>${STATUS_ICONS[run.status] || ""}</span> ${run.run_name || run.run_id}</a>`;
}

export function Breadcrumb({ name, version }) {
  return html`<nav class="breadcrumb" aria-label="Breadcrumb">
    <a href=${hrefFor(["models"])}>Registered models</a>
    ${name && html`<span class="sep">›</span>${version ? html`<a href=${hrefFor(["models", name])}>${name}</a>` : html`<span>${name}</span>`}`}
    ${version && html`<span class="sep">›</span><span>Version ${version}</span>`}
  </nav>`;
}

function VersionsTable({ name, versions, selected, setSelected }) {
  const toggle = (v) => {
    const next = new Set(selected);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    setSelected(next);
  };
  if (!versions.length) return html`<div class="muted">No versions yet. Register one with <code>mlflow.register_model(…, "${name}")</code>.</div>`;
  return html`<table class="kv-table reg-table" data-table="versions">
    <thead><tr>
      <th class="reg-check"><span class="sr-only">Select</span></th><th>Version</th><th>Registered</th><th>Source run</th>
      <th>Status</th><th>Aliases</th><th>Stage</th><th>Tags</th>
    </tr></thead>
    <tbody>${versions.map(
      (v) => html`<tr key=${v.version}>
        <td class="reg-check"><input type="checkbox" aria-label=${`Select version ${v.version}`} checked=${selected.has(v.version)} onChange=${() => toggle(v.version)} /></td>
        <td><a href=${hrefFor(["models", name, "versions", v.version])}>Version ${v.version}</a></td>
        <td title=${formatTime(v.creation_timestamp)}>${formatRelative(v.creation_timestamp)}</td>
        <td><${RunLink} run=${v.run} /></td>
        <td>${v.status === "READY" ? html`<span class="muted">Ready</span>` : v.status}</td>
        <td>${(v.aliases || []).map((a) => html`<span class="reg-chip"><span class="reg-alias">@${a}</span></span>`)}</td>
        <td><${StageBadge} stage=${v.current_stage} /></td>
        <td>${(v.tags || []).map((t) => html`<span class="reg-tag">${t.key}=${t.value}</span>`)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function compareHref(versions, selected) {
  const runs = versions.filter((v) => selected.has(v.version) && v.run && !v.run.missing).map((v) => v.run);
  const runIds = [...new Set(runs.map((r) => r.run_id))];
  const experimentIds = [...new Set(runs.map((r) => r.experiment_id))];
  return { href: hrefFor(["compare-runs"], { runs: runIds, experiments: experimentIds }), count: runIds.length };
}

export function ModelDetailPage({ name }) {
  const { data, error, reload } = usePageData((opts) => fetchModelPage(name, opts), [name]);
  const [selected, setSelected] = useState(new Set());
  usePageTitle(name, "Registered models");
  useEffect(() => setSelected(new Set()), [name]);
  if (error && error.status === 404) {
    return html`<div class="page-message"><h2>Model not found</h2><p>${error.message}</p><p><a href=${hrefFor(["models"])}>All registered models</a></p></div>`;
  }
  if (error && !data) return html`<div class="page-message" role="alert"><h2>Could not load the model</h2><p>${error.message}</p></div>`;
  if (!data) return html`<div class="muted pad">Loading model…</div>`;
  const model = data.registered_model;
  const versions = data.versions;
  const after = (write) => async (...args) => {
    await write(...args);
    reload();
  };
  const compare = compareHref(versions, selected);
  return html`<div class="run-page reg-model-page">
    <div class="run-header">
      <${Breadcrumb} name=${model.name} />
      <h1>${model.name}</h1>
      <div class="muted small reg-meta">
        Created ${formatTime(model.creation_timestamp)} · last modified${" "}
        <span title=${formatTime(model.last_updated_timestamp)}>${formatRelative(model.last_updated_timestamp)}</span>${" "}
        · ${versions.length} ${versions.length === 1 ? "version" : "versions"}
      </div>
    </div>
    <div class="run-body reg-body">
      <div class="overview">
        <div class="overview-col">
          <${DescriptionEditor} what="model" text=${model.description || ""} onSave=${after((text) => updateRegisteredModel(model.name, text))} />
        </div>
        <div class="overview-col">
          <${Card} title="Aliases" count=${(model.aliases || []).length}>
            <${AliasesEditor} aliases=${model.aliases || []} versions=${versions.map((v) => v.version)}
              onSet=${after((alias, version) => setModelAlias(model.name, alias, version))}
              onDelete=${after((alias) => deleteModelAlias(model.name, alias))} />
          </${Card}>
          <${TagsEditor} what="model" tags=${tagMap(model.tags)}
            onSet=${after((key, value) => setRegisteredModelTag(model.name, key, value))}
            onDelete=${after((key) => deleteRegisteredModelTag(model.name, key))} />
        </div>
      </div>
      <${Card} title="Versions" count=${versions.length} actions=${html`
        <a class=${`btn${selected.size ? "" : " disabled"}`} href=${selected.size ? compareVersionsHref(model.name, versions.filter((v) => selected.has(v.version))) : undefined}
          aria-disabled=${!selected.size} title="The selected versions side by side: details, signatures, their runs' params and metrics">
          Compare ${selected.size ? `${selected.size} ${selected.size === 1 ? "version" : "versions"}` : "versions"}</a>
        <a class=${`btn${compare.count ? "" : " disabled"}`} href=${compare.count ? compare.href : undefined}
          aria-disabled=${!compare.count} title="The source runs of the selected versions in the runs compare view (charts, parallel coordinates)">
          Compare their runs</a>`}>
        <${VersionsTable} name=${model.name} versions=${versions} selected=${selected} setSelected=${setSelected} />
      </${Card}>
    </div>
  </div>`;
}

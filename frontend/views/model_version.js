// A model version's page (#/models/<name>/versions/<v>, MLflow's route): details with stage and aliases,
// description and tags (editable), the source run and its metrics, the MLmodel summary (flavors, signature,
// requirements) and the version's files with the artifact browser's previews and downloads.
import { html } from "../lib/html.js";
import {
  deleteModelAlias,
  deleteModelVersionTag,
  fetchModelVersionPage,
  setModelAlias,
  setModelVersionTag,
  transitionModelVersionStage,
  updateModelVersion,
} from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { formatNumber, formatRelative, formatTime } from "../lib/format.js";
import { usePageTitle } from "../lib/page_title.js";
import { MlmodelSummary } from "./artifact_previews/mlmodel.js";
import { downloadUrl, ErrorBox, formatBytes, Loading, useArtifactJSON, zipUrl } from "./artifact_previews/common.js";
import { AliasesEditor, Card, DescriptionEditor, StageEditor, TagsEditor } from "./models_editors.js";
import { Breadcrumb, RunLink, usePageData } from "./models_detail.js";

const tagMap = (tags) => Object.fromEntries((tags || []).map((t) => [t.key, t.value]));

function Details({ data, onTransition, onSetAlias, onDeleteAlias }) {
  const v = data.model_version;
  const rows = [
    ["Registered", html`${formatTime(v.creation_timestamp)} <span class="muted">(${formatRelative(v.creation_timestamp)})</span>`],
    ["Last modified", formatTime(v.last_updated_timestamp)],
    ["Source run", html`<${RunLink} run=${data.run} />${data.run && data.run.experiment_name ? html` <span class="muted">in ${data.run.experiment_name}</span>` : ""}`],
    ["Status", v.status_message ? `${v.status}: ${v.status_message}` : v.status],
    ["Stage", html`<${StageEditor} stage=${v.current_stage || "None"} onTransition=${onTransition} />`],
    ["Aliases", html`<${AliasesEditor} aliases=${data.registered_model.aliases} versions=${[]} fixedVersion=${v.version}
      onSet=${onSetAlias} onDelete=${onDeleteAlias} />`],
    ["Source", html`<span class="mono wrap">${v.source || "—"}</span>`],
    ...(data.download_uri && data.download_uri !== v.source ? [["Files at", html`<span class="mono wrap">${data.download_uri}</span>`]] : []),
    ...(data.model_id ? [["Logged model", html`<span class="mono">${data.model_id}</span>`]] : []),
  ];
  return html`<${Card} title="Details">
    <table class="kv-table details-table reg-details"><tbody>${rows.map(([k, value]) => html`<tr><th>${k}</th><td>${value}</td></tr>`)}</tbody></table>
  </${Card}>`;
}

function RunMetrics({ run }) {
  if (!run || run.missing || !run.metrics) return null;
  return html`<${Card} title="Source run metrics" count=${run.metrics.length}>
    ${run.metrics.length
      ? html`<table class="kv-table" data-table="run-metrics"><thead><tr><th>Metric</th><th>Latest</th><th>Step</th></tr></thead><tbody>
          ${run.metrics.map((m) => html`<tr><td class="key wrap">${m.key}</td><td title=${String(m.value)}>${formatNumber(m.value)}</td><td>${m.step}</td></tr>`)}
        </tbody></table>`
      : html`<div class="muted">The source run logged no metrics.</div>`}
  </${Card}>`;
}

function filesHref(files, run, relative) {
  const prefix = files.model_id ? [files.model_id] : [];
  const path = [...prefix, ...(files.path ? files.path.split("/") : []), ...(relative ? relative.split("/") : [])];
  return hrefFor(["experiments", run.experiment_id, "runs", run.run_id, "artifacts", ...path]);
}

function Files({ data }) {
  if (!data.files) {
    return html`<${Card} title="Files"><div class="error-box" role="alert"><b>Files unavailable</b><div>${data.files_unavailable}</div></div></${Card}>`;
  }
  return html`<${FilesListing} files=${data.files} run=${data.run && !data.run.missing ? data.run : null} />`;
}

const EXAMPLE_FILES = ["input_example.json", "serving_input_example.json"];
const EXAMPLE_PREVIEW_BYTES = 20000;

/** The input example logged with the model (input_example.json), shown as text. */
function InputExample({ source, path }) {
  const { data, error } = useArtifactJSON("text", source, path, { length: EXAMPLE_PREVIEW_BYTES });
  return html`<div class="af-section-title">Input example <span class="muted small">${path.split("/").pop()}</span></div>
    ${error ? html`<${ErrorBox} message=${error} />` : !data ? html`<${Loading} />`
      : html`<pre class="af-reqs reg-example">${data.text}${data.eof ? "" : "\n…"}</pre>`}`;
}

function FilesListing({ files, run }) {
  const source = { runId: files.run_id, modelId: files.model_id };
  const listing = useArtifactJSON("list", source, files.path);
  const entries = (listing.data && listing.data.files) || [];
  const example = EXAMPLE_FILES.map((n) => entries.find((e) => e.name === n)).find(Boolean);
  const relOf = (entry) => (files.path ? entry.path.slice(files.path.length + 1) : entry.path);
  return html`<${Card} title="Files" actions=${html`
      ${run && html`<a class="btn" href=${filesHref(files, run, "")}>Open in the artifact browser</a>`}
      <a class="btn" href=${zipUrl(source, files.path)} download>Download all (zip)</a>`}>
    <${MlmodelSummary} source=${source} path=${files.path} />
    ${example && html`<${InputExample} source=${source} path=${example.path} />`}
    <div class="af-section-title">Contents</div>
    ${listing.error && html`<${ErrorBox} message=${listing.error} />`}
    ${!listing.data && !listing.error && html`<${Loading} />`}
    ${listing.data &&
    html`<table class="kv-table" data-table="version-files"><thead><tr><th>Name</th><th class="num">Size</th><th></th></tr></thead><tbody>
      ${entries.map(
        (e) => html`<tr key=${e.path}>
          <td>${run ? html`<a href=${filesHref(files, run, relOf(e))}>${e.name}${e.is_dir ? "/" : ""}</a>` : html`${e.name}${e.is_dir ? "/" : ""}`}</td>
          <td class="num">${e.is_dir ? "" : formatBytes(e.size)}</td>
          <td>${!e.is_dir && html`<a href=${downloadUrl(source, e.path)} download aria-label=${`Download ${e.name}`}>Download</a>`}</td>
        </tr>`,
      )}
    </tbody></table>`}
  </${Card}>`;
}

export function ModelVersionPage({ name, version }) {
  const { data, error, reload } = usePageData((opts) => fetchModelVersionPage(name, version, opts), [name, version]);
  usePageTitle(`${name} v${version}`, "Registered models");
  if (error && error.status === 404) {
    return html`<div class="page-message"><h2>Model version not found</h2><p>${error.message}</p><p><a href=${hrefFor(["models", name])}>Back to ${name}</a></p></div>`;
  }
  if (error && !data) return html`<div class="page-message" role="alert"><h2>Could not load the model version</h2><p>${error.message}</p></div>`;
  if (!data) return html`<div class="muted pad">Loading model version…</div>`;
  const v = data.model_version;
  const after = (write) => async (...args) => {
    await write(...args);
    reload();
  };
  return html`<div class="run-page reg-version-page">
    <div class="run-header">
      <${Breadcrumb} name=${v.name} version=${v.version} />
      <h1>${v.name} <span class="muted">Version ${v.version}</span></h1>
      <div class="muted small reg-meta">Registered ${formatTime(v.creation_timestamp)}${(v.aliases || []).map((a) => html` <span class="reg-chip"><span class="reg-alias">@${a}</span></span>`)}</div>
    </div>
    <div class="run-body reg-body">
      <div class="overview">
        <div class="overview-col">
          <${Details} data=${data}
            onTransition=${after((stage, archive) => transitionModelVersionStage(v.name, v.version, stage, archive))}
            onSetAlias=${after((alias, target) => setModelAlias(v.name, alias, target))}
            onDeleteAlias=${after((alias) => deleteModelAlias(v.name, alias))} />
          <${DescriptionEditor} what="version" text=${v.description || ""} onSave=${after((text) => updateModelVersion(v.name, v.version, text))} />
        </div>
        <div class="overview-col">
          <${TagsEditor} what="version" tags=${tagMap(v.tags)}
            onSet=${after((key, value) => setModelVersionTag(v.name, v.version, key, value))}
            onDelete=${after((key) => deleteModelVersionTag(v.name, v.version, key))} />
          <${RunMetrics} run=${data.run} />
        </div>
      </div>
      <${Files} data=${data} />
    </div>
  </div>`;
}

// The run page's artifacts tab: a lazily loaded folder tree (the run's artifacts, plus its MLflow 3
// logged models as virtual top-level folders) and a preview of the selected file or folder.
// The selection lives in the URL: #/experiments/<id>/runs/<run_id>/artifactPath/<path>.
import { html, useCallback, useEffect, useRef, useState } from "../lib/html.js";
import { hrefFor } from "../lib/router.js";
import { formatTime } from "../lib/format.js";
import { artifactUrl, fetchArtifactJSON, formatBytes, downloadUrl, zipUrl, ErrorBox, Loading } from "./artifact_previews/common.js";
import { TextPreview } from "./artifact_previews/text.js";
import { TreePreview } from "./artifact_previews/tree.js";
import { CsvPreview } from "./artifact_previews/csv.js";
import { LoggedTablePreview } from "./artifact_previews/logged_table.js";
import { MarkdownPreview } from "./artifact_previews/markdown.js";
import { ImagePreview } from "./artifact_previews/image.js";
import { ImageSeriesGallery } from "./artifact_previews/image_series.js";
import { HtmlPreview } from "./artifact_previews/html_frame.js";
import { PdfPreview } from "./artifact_previews/pdf.js";
import { MlmodelSummary } from "./artifact_previews/mlmodel.js";
import { RegisterFolderAction } from "./models_run.js";
import { BinaryPreview } from "./artifact_previews/binary.js";

const ICONS = { folder: "▤", model: "◆", image: "▨", pdf: "▤", html: "◇", table: "▦", csv: "▦", binary: "▪" };

function splitPath(path) {
  return String(path || "").split("/").filter(Boolean);
}

/** The URL of a path in this tab; `virtual` is the path as the tree shows it (model id first for models). */
function tabHref(experimentId, runId, virtual) {
  const segments = splitPath(virtual);
  return hrefFor(["experiments", experimentId, "runs", runId, ...(segments.length ? ["artifactPath", ...segments] : ["artifacts"])]);
}

/** Listings cache: key "<modelId>:<path>" -> { data } | { error, status } | { loading }. */
function useListings(runId) {
  const [listings, setListings] = useState({});
  const requested = useRef(new Set());
  const ensure = useCallback(
    (modelId, path, force = false) => {
      const key = `${modelId || ""}:${path}`;
      if (!force && requested.current.has(key)) return;
      requested.current.add(key);
      setListings((c) => ({ ...c, [key]: { loading: true, data: c[key] && c[key].data } }));
      fetchArtifactJSON("list", { runId, modelId }, path)
        .then((data) => setListings((c) => ({ ...c, [key]: { data } })))
        .catch((err) => setListings((c) => ({ ...c, [key]: { error: err.message, status: err.status } })));
    },
    [runId],
  );
  const reset = useCallback(() => {
    requested.current.clear();
    setListings({});
  }, []);
  return [listings, ensure, reset];
}

function TreeEntry({ ctx, entry, modelId, virtual, depth, label, sub }) {
  const key = `${modelId || ""}:${entry.path}`;
  const open = ctx.expanded.has(key);
  const selected = ctx.selected === virtual;
  const toggle = (e) => {
    e.preventDefault();
    ctx.toggle(key, modelId, entry.path);
  };
  // Keyboard (a tree's keys): → opens a folder, ← closes it; Enter selects the row (and opens a folder).
  const onKeyDown = (e) => {
    if (!entry.is_dir || e.altKey || e.ctrlKey || e.metaKey) return;
    if ((e.key === "ArrowRight" && !open) || (e.key === "ArrowLeft" && open)) toggle(e);
  };
  return html`<li>
    <a class=${`af-tree-row${selected ? " selected" : ""}`} href=${tabHref(ctx.experimentId, ctx.runId, virtual)} style=${`padding-left:${8 + depth * 14}px`}
      aria-current=${selected ? "page" : undefined} aria-expanded=${entry.is_dir ? open : undefined} title=${virtual} onKeyDown=${onKeyDown}>
      ${entry.is_dir ? html`<span class="af-caret" onClick=${toggle} aria-hidden="true" title=${open ? "Collapse (←)" : "Expand (→)"}>${open ? "▾" : "▸"}</span>` : html`<span class="af-caret"></span>`}
      <span class=${`af-icon af-kind-${entry.kind}`}>${ICONS[entry.kind] || "▫"}</span>
      <span class="af-name">${label || entry.name}</span>
      ${sub && html`<span class="af-sub">${sub}</span>`}
      ${!entry.is_dir && html`<span class="af-size">${formatBytes(entry.size)}</span>`}
    </a>
    ${entry.is_dir && open && html`<${TreeLevel} ctx=${ctx} modelId=${modelId} path=${entry.path} depth=${depth + 1} />`}
  </li>`;
}

function TreeLevel({ ctx, modelId, path, depth }) {
  const state = ctx.listings[`${modelId || ""}:${path}`];
  if (!state || (state.loading && !state.data)) return html`<div class="af-tree-msg muted" style=${`padding-left:${22 + depth * 14}px`}>Loading…</div>`;
  if (state.error) return html`<div class="af-tree-msg af-err" style=${`padding-left:${22 + depth * 14}px`}>${state.error}</div>`;
  const { files, truncated, models = [] } = state.data;
  const prefix = modelId ? `${modelId}/` : "";
  if (!files.length && !models.length && depth > 0) return html`<div class="af-tree-msg muted" style=${`padding-left:${22 + depth * 14}px`}>empty</div>`;
  return html`<ul class="af-tree-list">
    ${files.map((e) => html`<${TreeEntry} key=${e.path} ctx=${ctx} entry=${e} modelId=${modelId} virtual=${prefix + e.path} depth=${depth} />`)}
    ${truncated && html`<li class="af-tree-msg muted">… more entries not shown</li>`}
    ${models.map(
      (m) => html`<${TreeEntry} key=${m.model_id} ctx=${ctx} modelId=${m.model_id} virtual=${m.model_id} depth=${depth}
        entry=${{ path: "", name: m.model_id, is_dir: true, kind: "model" }} label=${m.name || m.model_id} sub="logged model" />`,
    )}
  </ul>`;
}

/** Resolve the URL path to { modelId, rel } using the run root's list of logged models. */
function locate(path, models) {
  const segments = splitPath(path);
  if (segments.length && models.some((m) => m.model_id === segments[0])) return { modelId: segments[0], rel: segments.slice(1).join("/") };
  return { modelId: null, rel: segments.join("/") };
}

function FilePreview({ source, entry }) {
  const [binary, setBinary] = useState(false);
  useEffect(() => setBinary(false), [entry.path, source.modelId]);
  const props = { source, entry, language: entry.language, onBinary: () => setBinary(true) };
  if (binary) return html`<${BinaryPreview} ...${props} reason="This file looks binary: no preview." />`;
  if (entry.size === 0) return html`<div class="af-empty muted">This file is empty.</div>`;
  switch (entry.kind) {
    case "image": return html`<${ImagePreview} ...${props} />`;
    case "pdf": return html`<${PdfPreview} ...${props} />`;
    case "html": return html`<${HtmlPreview} ...${props} />`;
    case "markdown": return html`<${MarkdownPreview} ...${props} />`;
    case "json": return html`<${TreePreview} ...${props} format="json" />`;
    case "yaml": return html`<${TreePreview} ...${props} format="yaml" />`;
    case "csv": return html`<${CsvPreview} ...${props} />`;
    case "table": return html`<${LoggedTablePreview} ...${props} />`;
    case "mlmodel": return html`<div><${MlmodelSummary} source=${source} path=${entry.path} /><div class="af-section-title">MLmodel</div><${TextPreview} ...${props} language="yaml" /></div>`;
    case "binary": return html`<${BinaryPreview} ...${props} />`;
    default: return html`<${TextPreview} ...${props} />`;
  }
}

function FolderView({ ctx, source, rel, listing, virtualPrefix }) {
  return html`<div class="af-folder">
    ${listing.is_model_dir && html`<${MlmodelSummary} source=${source} path=${rel} />`}
    ${listing.is_model_dir && html`<${RegisterFolderAction} runId=${ctx.runId} modelId=${source.modelId} path=${rel} />`}
    ${listing.image_series.length > 0 && html`<${ImageSeriesGallery} source=${source} path=${rel} />`}
    <div class="af-section-title">Contents</div>
    <table class="kv-table af-folder-table">
      <thead><tr><th>Name</th><th class="num">Size</th><th>Modified</th></tr></thead>
      <tbody>${listing.files.map(
        (e) => html`<tr><td><a href=${tabHref(ctx.experimentId, ctx.runId, virtualPrefix + e.path)}>${e.name}${e.is_dir ? "/" : ""}</a></td>
          <td class="num">${e.is_dir ? "" : formatBytes(e.size)}</td><td class="muted">${formatTime(e.mtime)}</td></tr>`,
      )}</tbody>
    </table>
    ${!listing.files.length && html`<div class="muted small af-empty">No artifacts here.</div>`}
  </div>`;
}

function Breadcrumbs({ ctx, path, models }) {
  const segments = splitPath(path);
  const model = segments.length ? models.find((m) => m.model_id === segments[0]) : null;
  return html`<nav class="af-crumbs" aria-label="Artifact path">
    <a href=${tabHref(ctx.experimentId, ctx.runId, "")}>artifacts</a>
    ${segments.map((s, i) => html`<span class="af-sep">/</span><a href=${tabHref(ctx.experimentId, ctx.runId, segments.slice(0, i + 1).join("/"))}>${i === 0 && model ? model.name || s : s}</a>`)}
  </nav>`;
}

function PreviewPane({ ctx, path, models }) {
  const { modelId, rel } = locate(path, models);
  const source = { runId: ctx.runId, modelId };
  const segments = splitPath(rel);
  const parentRel = segments.slice(0, -1).join("/");
  const self = ctx.listings[`${modelId || ""}:${rel}`];
  const parent = segments.length ? ctx.listings[`${modelId || ""}:${parentRel}`] : null;
  const entry = parent && parent.data ? parent.data.files.find((f) => f.path === rel) : null;
  const isFolder = !segments.length || Boolean(entry && entry.is_dir);
  useEffect(() => {
    if (isFolder) ctx.ensure(modelId, rel);
  }, [isFolder, modelId, rel]);
  const prefix = modelId ? `${modelId}/` : "";
  let body;
  if (parent && parent.error) body = html`<${ErrorBox} message=${parent.error} />`;
  else if (segments.length && !(parent && parent.data)) body = html`<${Loading} />`;
  else if (segments.length && !entry) body = html`<${ErrorBox} message=${`No artifact '${rel}' in this ${modelId ? "model" : "run"}.`} />`;
  else if (isFolder) {
    body = self && self.data ? html`<${FolderView} ctx=${ctx} source=${source} rel=${rel} listing=${self.data} virtualPrefix=${prefix} />` : self && self.error ? html`<${ErrorBox} message=${self.error} />` : html`<${Loading} />`;
  } else body = html`<${FilePreview} source=${source} entry=${entry} />`;
  const model = modelId ? models.find((m) => m.model_id === modelId) : null;
  const name = segments.length ? segments[segments.length - 1] : model ? model.name || model.model_id : "artifacts";
  return html`<section class="af-preview-pane" aria-label="Preview">
    <header class="af-preview-head">
      <${Breadcrumbs} ctx=${ctx} path=${path} models=${models} />
      <span class="spacer"></span>
      ${entry && !entry.is_dir && html`<span class="muted small">${formatBytes(entry.size)} · ${formatTime(entry.mtime)}</span>
        <a class="btn btn-primary af-download" href=${downloadUrl(source, rel)} download>Download</a>`}
      ${isFolder && (segments.length || modelId) && html`<a class="btn af-download-zip" href=${zipUrl(source, rel)} download>Download ${name} (zip)</a>`}
    </header>
    <div class="af-preview-body">${body}</div>
  </section>`;
}

export function ArtifactsTab({ runId, experimentId, path = "" }) {
  const [listings, ensure, reset] = useListings(runId);
  const [expanded, setExpanded] = useState(new Set());
  const root = listings[":"];
  const models = (root && root.data && root.data.models) || [];

  useEffect(() => {
    reset();
    setExpanded(new Set());
    ensure(null, "");
  }, [runId]);

  // Open (and load) every folder on the way to the selected path, and the path itself when a folder.
  useEffect(() => {
    if (!root || !root.data) return;
    const { modelId, rel } = locate(path, models);
    const segments = splitPath(rel);
    const keys = [];
    if (modelId) {
      ensure(modelId, "");
      keys.push(`${modelId}:`);
    }
    for (let i = 0; i < segments.length; i += 1) {
      const sub = segments.slice(0, i).join("/");
      ensure(modelId, sub);
      if (sub) keys.push(`${modelId || ""}:${sub}`);
    }
    if (segments.length) keys.push(`${modelId || ""}:${rel}`); // a selected folder shows open
    setExpanded((current) => new Set([...current, ...keys]));
  }, [path, root && root.data]);

  const toggle = (key, modelId, sub) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (next.has(key)) next.delete(key);
      else {
        next.add(key);
        ensure(modelId, sub);
      }
      return next;
    });
  };
  const refresh = () => {
    reset();
    ensure(null, "", true);
  };

  if (root && root.error) {
    const unavailable = root.status === 404 && /cannot read|not local|stored at/i.test(root.error);
    return html`<div class="af-unavailable"><div class="error-box" role="alert"><b>${unavailable ? "Artifacts unavailable" : "Could not list artifacts"}</b><div>${root.error}</div></div></div>`;
  }
  if (!root || !root.data) return html`<${Loading} what="Listing artifacts…" />`;
  const ctx = { listings, expanded, toggle, ensure, selected: splitPath(path).join("/"), runId, experimentId };
  const empty = !root.data.files.length && !models.length;
  return html`<div class="af-root">
    <aside class="af-tree-pane" aria-label="Artifact tree">
      <div class="af-tree-head">
        <span class="af-tree-title">Artifacts</span>
        <span class="spacer"></span>
        <button class="btn-icon" onClick=${refresh} title="Reload the listing" aria-label="Reload the listing">↻</button>
        ${(root.data.files.length > 0 || models.length > 0) &&
        html`<a class="btn af-download-all" href=${artifactUrl("zip", { runId }, "", models.length ? { models: 1 } : {})} download
          title=${models.length ? `The run's artifacts and its ${models.length} logged model${models.length === 1 ? "" : "s"} (under logged_models/), as one zip` : "All of the run's artifacts as one zip"}>
          Download all${models.length ? ` (+ ${models.length} logged model${models.length === 1 ? "" : "s"})` : ""}</a>`}
      </div>
      ${empty ? html`<div class="af-tree-msg muted">No artifacts recorded for this run.</div>` : html`<${TreeLevel} ctx=${ctx} modelId=${null} path="" depth=${0} />`}
    </aside>
    <${PreviewPane} ctx=${ctx} path=${path} models=${models} />
  </div>`;
}

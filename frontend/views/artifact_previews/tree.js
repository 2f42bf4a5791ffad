// JSON and YAML as a collapsible tree; invalid files fall back to text with the parse error.
import { html, useState } from "../../lib/html.js";
import { useArtifactJSON, ErrorBox, Loading } from "./common.js";
import { TextPreview } from "./text.js";

const OPEN_DEPTH = 2; // levels expanded at first
const MAX_CHILDREN = 1000; // children rendered per node before "show more"

function Scalar({ value }) {
  if (value === null) return html`<span class="af-null">null</span>`;
  if (typeof value === "string") return html`<span class="af-string">${JSON.stringify(value)}</span>`;
  if (typeof value === "boolean") return html`<span class="af-bool">${String(value)}</span>`;
  return html`<span class="af-number">${String(value)}</span>`;
}

function Node({ name, value, depth }) {
  const isArray = Array.isArray(value);
  const composite = value !== null && typeof value === "object";
  const [open, setOpen] = useState(depth < OPEN_DEPTH);
  const [limit, setLimit] = useState(MAX_CHILDREN);
  const label = name !== undefined && html`<span class="af-key">${name}</span><span class="af-colon">: </span>`;
  if (!composite) return html`<div class="af-node">${label}<${Scalar} value=${value} /></div>`;
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const summary = isArray ? `[${entries.length}]` : `{${entries.length}}`;
  return html`<div class="af-node">
    <button class="af-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>${open ? "▾" : "▸"}</button>
    ${label}<span class="af-summary">${summary}</span>
    ${open && html`<div class="af-children">
      ${entries.slice(0, limit).map(([k, v]) => html`<${Node} key=${k} name=${k} value=${v} depth=${depth + 1} />`)}
      ${entries.length > limit && html`<button class="link-btn" onClick=${() => setLimit(limit + MAX_CHILDREN)}>show ${Math.min(MAX_CHILDREN, entries.length - limit)} more of ${entries.length - limit}</button>`}
    </div>`}
  </div>`;
}

export function TreePreview({ source, entry, format, language, onBinary }) {
  const { data, error } = useArtifactJSON("parsed", source, entry.path, { format });
  const [asText, setAsText] = useState(false);
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} what="Parsing…" />`;
  const text = html`<${TextPreview} source=${source} entry=${entry} language=${language} onBinary=${onBinary} />`;
  if (data.error) {
    return html`<div><div class="error-box af-parse-error" role="alert">Not valid ${format.toUpperCase()}: ${data.error}</div>${text}</div>`;
  }
  if (data.too_large) return html`<div><div class="muted small af-note">Too large for a tree view; shown as text.</div>${text}</div>`;
  return html`<div class="af-tree-preview">
    <div class="af-toolbar">
      <div class="af-segmented">
        <button class=${`btn${asText ? "" : " active"}`} onClick=${() => setAsText(false)}>Tree</button>
        <button class=${`btn${asText ? " active" : ""}`} onClick=${() => setAsText(true)}>Text</button>
      </div>
      <span class="spacer"></span>
    </div>
    ${asText ? text : html`<div class="af-tree af-scroll"><${Node} value=${data.value} depth=${0} /></div>`}
  </div>`;
}

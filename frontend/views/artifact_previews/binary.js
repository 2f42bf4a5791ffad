// Binary or unknown files: what it is and how big, and a download; no attempt to render.
import { html } from "../../lib/html.js";
import { formatTime } from "../../lib/format.js";
import { formatBytes, DownloadLink } from "./common.js";

export function BinaryPreview({ source, entry, reason }) {
  return html`<div class="af-binary">
    <div class="af-binary-icon" aria-hidden="true">⬚</div>
    <div class="af-binary-name">${entry.name}</div>
    <div class="muted small">${formatBytes(entry.size)}${entry.mtime ? ` · modified ${formatTime(entry.mtime)}` : ""}</div>
    <div class="muted small">${reason || "No preview for this file type."}</div>
    <${DownloadLink} source=${source} path=${entry.path} primary=${true} />
  </div>`;
}

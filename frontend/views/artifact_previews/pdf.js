// PDF in the browser's own viewer. Chromium refuses PDFs in frames with a sandbox *attribute*, so the
// sandbox comes from the response instead (`Content-Security-Policy: sandbox`: opaque origin, no scripts).
import { html } from "../../lib/html.js";
import { inlineUrl } from "./common.js";

export function PdfPreview({ source, entry }) {
  return html`<div class="af-frame-preview">
    <div class="af-toolbar">
      <span class="muted small">PDF · shown with the browser's viewer</span>
      <span class="spacer"></span>
    </div>
    <iframe class="af-frame af-pdf" referrerpolicy="no-referrer" src=${inlineUrl(source, entry.path)} title=${entry.name}></iframe>
  </div>`;
}

// HTML artifacts render in an <iframe sandbox> (no scripts, no same-origin) fed by a URL that is
// itself served with `Content-Security-Policy: sandbox`: the page can never act in the app's origin.
import { html } from "../../lib/html.js";
import { inlineUrl } from "./common.js";

export function HtmlPreview({ source, entry }) {
  return html`<div class="af-frame-preview">
    <div class="af-toolbar">
      <span class="muted small">Rendered in a sandbox: scripts in this page do not run.</span>
      <span class="spacer"></span>
    </div>
    <iframe class="af-frame" sandbox="" referrerpolicy="no-referrer" src=${inlineUrl(source, entry.path)} title=${entry.name}></iframe>
  </div>`;
}

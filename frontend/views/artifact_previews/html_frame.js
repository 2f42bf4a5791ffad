// HTML artifacts render in an <iframe sandbox> (no scripts, no same-origin) fed by a URL that is
// itself served with `Content-Security-Policy: sandbox`: the page can never act in the app's origin.
// "Run scripts in this report" (per preview, for interactive plotly/bokeh reports the user trusts) reloads it
// with sandbox="allow-scripts" and a CSP that lets its scripts run: still an opaque origin, never same-origin.
import { html, useEffect, useState } from "../../lib/html.js";
import { artifactUrl } from "./common.js";

export function HtmlPreview({ source, entry }) {
  const [scripts, setScripts] = useState(false);
  useEffect(() => setScripts(false), [source.runId, source.modelId, entry.path]);
  const src = artifactUrl("file", source, entry.path, scripts ? { inline: 1, scripts: 1 } : { inline: 1 });
  return html`<div class="af-frame-preview">
    <div class="af-toolbar">
      <span class="muted small">${scripts
        ? "Scripts run in a sandbox: the report cannot reach mlscope, your cookies or the network."
        : "Rendered in a sandbox: scripts in this page do not run."}</span>
      <span class="spacer"></span>
      <button class="btn" aria-pressed=${scripts} onClick=${() => setScripts(!scripts)}
        title=${scripts ? "Show the report without running its scripts" : "For interactive reports you trust (plotly, bokeh)"}>
        ${scripts ? "Stop scripts" : "Run scripts in this report"}</button>
    </div>
    <iframe key=${scripts ? "scripts" : "static"} class="af-frame" sandbox=${scripts ? "allow-scripts" : ""}
      referrerpolicy="no-referrer" src=${src} title=${entry.name}></iframe>
  </div>`;
}

// Markdown artifacts: rendered with the shared marked + DOMPurify helper (scripts and handlers removed).
import { html, useState } from "../../lib/html.js";
import { Markdown } from "../../lib/markdown.js";
import { useArtifactJSON, ErrorBox, Loading } from "./common.js";
import { TextPreview } from "./text.js";

const LIMIT = 2 * 1024 * 1024;

export function MarkdownPreview({ source, entry }) {
  const { data, error } = useArtifactJSON("text", source, entry.path, { length: LIMIT });
  const [showSource, setSource] = useState(false);
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} />`;
  return html`<div class="af-markdown-preview">
    <div class="af-toolbar">
      <div class="af-segmented">
        <button class=${`btn${showSource ? "" : " active"}`} onClick=${() => setSource(false)}>Rendered</button>
        <button class=${`btn${showSource ? " active" : ""}`} onClick=${() => setSource(true)}>Source</button>
      </div>
      ${!data.eof && html`<span class="muted small">Rendering the first 2 MB only.</span>`}
      <span class="spacer"></span>
    </div>
    ${showSource ? html`<${TextPreview} source=${source} entry=${entry} language="markdown" />` : html`<div class="af-scroll af-md"><${Markdown} text=${data.text} /></div>`}
  </div>`;
}

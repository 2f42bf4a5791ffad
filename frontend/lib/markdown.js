// Markdown for user-written text (run and experiment descriptions, .md artifacts): rendered with
// marked, then sanitized with DOMPurify, because descriptions come from whoever wrote the tree.
import { Marked } from "marked";
import DOMPurify from "dompurify";
import { html } from "./html.js";

const parser = new Marked({ gfm: true, breaks: false, async: false });

// Links open in a new tab without handing over window.opener.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** Markdown text -> sanitized HTML string (scripts, event handlers, javascript: URLs removed). */
export function renderMarkdown(text) {
  const raw = parser.parse(String(text ?? ""));
  return DOMPurify.sanitize(raw, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input"] });
}

/** A block showing sanitized markdown. */
export function Markdown({ text, className = "" }) {
  return html`<div class=${`markdown ${className}`} dangerouslySetInnerHTML=${{ __html: renderMarkdown(text) }}></div>`;
}

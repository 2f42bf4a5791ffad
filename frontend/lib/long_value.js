// Long values (params, tags, sources, logged-model params) are cut to a readable length with a
// "show all" toggle, so one 5,000-character value cannot push a page apart.
import { html, useState } from "./html.js";

export const LONG_VALUE = 160;

/** A value that may be long: clipped with a "show all (N chars)" button, wrapped when expanded. */
export function LongValue({ value, limit = LONG_VALUE }) {
  const [open, setOpen] = useState(false);
  const text = String(value ?? "");
  if (text.length <= limit) return html`<span class="wrap">${text}</span>`;
  return html`<span class="wrap long-value">
    ${open ? text : text.slice(0, limit) + "…"}
    <button class="link-btn" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      ${open ? "show less" : `show all (${text.length.toLocaleString()} chars)`}
    </button>
  </span>`;
}

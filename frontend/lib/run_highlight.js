// The run under the pointer, shared by every chart and the runs table: hovering a line (or a row)
// highlights that run everywhere. Elements carrying data-run-id="<id>" (table rows, legend rows, bars)
// are highlighted by one generated style rule, so no view has to re-render for a hover.

let current = null;
const listeners = new Set();
let styleNode = null;

function paint() {
  if (!styleNode) {
    styleNode = document.createElement("style");
    styleNode.id = "mlscope-run-highlight";
    document.head.append(styleNode);
  }
  if (current === null) {
    styleNode.textContent = "";
    return;
  }
  const id = CSS.escape(current);
  styleNode.textContent =
    `.trow[data-run-id="${id}"] .cell, .trow[data-run-id="${id}"] .cell.pin, .run-hl-target[data-run-id="${id}"]` +
    ` { background: color-mix(in srgb, #facc15 28%, var(--bg, #fff)) !important; }`; // reads in light and dark themes
}

/** Highlight one run everywhere (null: none). */
export function highlightRun(runId) {
  const next = runId ?? null;
  if (next === current) return;
  current = next;
  paint();
  for (const listener of listeners) listener(current);
}

export function highlightedRun() {
  return current;
}

/** Call listener(runId | null) on every change; returns the unsubscribe function. */
export function onRunHighlight(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

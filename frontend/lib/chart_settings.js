// Chart settings shared by every page with metric charts (run page, compare, experiment chart view):
// x axis, log y, smoothing and the chart-name search live in the URL (chart_x, chart_log, chart_smooth,
// chart_q, chart_re), one control bar sets them, and the same helpers filter and section chart keys.
import { html, useEffect, useState } from "./html.js";
import { setQueryParams, useRoute } from "./router.js";

export const X_MODES = [
  ["step", "Step"],
  ["wall", "Wall time"],
  ["relative", "Relative time"],
];
/** The histories endpoints' name for each x mode. */
export const SERVER_X = { step: "step", wall: "time", relative: "relative" };

/** The shared chart settings from the URL. */
export function useChartSettings() {
  const { query } = useRoute();
  const x = query.get("chart_x");
  return {
    xMode: X_MODES.some(([m]) => m === x) ? x : "step",
    logY: query.get("chart_log") === "1",
    smoothing: Math.min(0.99, Math.max(0, Number(query.get("chart_smooth")) || 0)),
    search: query.get("chart_q") || "",
    regex: query.get("chart_re") === "1",
  };
}

/**
 * Keys whose name matches the search: a case-insensitive substring, or a regular expression when
 * `regex` is on. Returns { keys, error } (an invalid pattern filters nothing and says why).
 */
export function filterChartKeys(keys, search, regex = false) {
  const needle = search.trim();
  if (!needle) return { keys, error: null };
  if (regex) {
    let pattern;
    try {
      pattern = new RegExp(needle, "i");
    } catch (err) {
      return { keys, error: `Not a valid regular expression: ${err.message}` };
    }
    return { keys: keys.filter((k) => pattern.test(k)), error: null };
  }
  const lower = needle.toLowerCase();
  return { keys: keys.filter((k) => k.toLowerCase().includes(lower)), error: null };
}

/** Group keys by their prefix before the first "/" (ungrouped keys first, under ""), sorted. */
export function groupKeys(keys) {
  const groups = new Map();
  for (const key of [...keys].sort((a, b) => a.localeCompare(b))) {
    const slash = key.indexOf("/");
    const group = slash > 0 ? key.slice(0, slash) : "";
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(key);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
}

/** The control bar: chart search (substring or regex), x axis, log y, smoothing; `children` adds page-specific controls. */
export function ChartControls({ settings, error, children }) {
  const [smooth, setSmooth] = useState(settings.smoothing);
  useEffect(() => setSmooth(settings.smoothing), [settings.smoothing]);
  return html`<div class="mc-controls">
    <span class="mc-search-box">
      <input class=${`mc-search${error ? " invalid" : ""}`} type="search" placeholder=${settings.regex ? "Filter charts (regex)…" : "Filter charts…"}
        value=${settings.search} onInput=${(e) => setQueryParams({ chart_q: e.target.value })} aria-label="Filter charts"
        aria-invalid=${error ? "true" : "false"} title=${error || ""} />
      <button class=${`mc-regex${settings.regex ? " on" : ""}`} aria-pressed=${settings.regex} title="Match chart names with a regular expression"
        aria-label="Regular expression" onClick=${() => setQueryParams({ chart_re: settings.regex ? "" : "1" })}>.*</button>
    </span>
    <label class="mc-control">X axis
      <select value=${settings.xMode} onChange=${(e) => setQueryParams({ chart_x: e.target.value === "step" ? "" : e.target.value })}>
        ${X_MODES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
    </label>
    <label class="mc-control"><input type="checkbox" checked=${settings.logY}
      onChange=${(e) => setQueryParams({ chart_log: e.target.checked ? "1" : "" })} /> Log y</label>
    <label class="mc-control">Smoothing
      <input type="range" min="0" max="0.99" step="0.01" value=${smooth}
        onInput=${(e) => setSmooth(Number(e.target.value))}
        onChange=${(e) => setQueryParams({ chart_smooth: Number(e.target.value) ? e.target.value : "" })} />
      <span class="mc-smooth-value">${smooth.toFixed(2)}</span>
    </label>
    ${children}
  </div>`;
}

// Grouped runs (groupBy in the URL): the groups of the runs table's matches (every match, children too,
// up to 1,000), shared by the grouped table (collapsible group rows with mean, min and max of the chosen
// metric columns) and the chart view (one line and band per group). Expanding a group, in either, shows
// its runs in both.
import { html, useEffect, useState } from "../lib/html.js";
import { fetchRunGroups } from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { formatNumber, STATUS_ICONS } from "../lib/format.js";
import { groupColor } from "../lib/run_colors.js";
import { subscribe } from "../lib/live.js";
import { EYE, EYE_OFF } from "../lib/icons.js";

export const GROUP_LIMIT = 1000;

// ---- expanded groups, shared by the table and the charts on the page

let expanded = new Set();
const listeners = new Set();

export function toggleGroup(id) {
  expanded = new Set(expanded);
  if (expanded.has(id)) expanded.delete(id);
  else expanded.add(id);
  for (const listener of listeners) listener(expanded);
}

/** The ids of expanded groups (re-renders on change). */
export function useExpandedGroups() {
  const [value, setValue] = useState(expanded);
  useEffect(() => {
    listeners.add(setValue);
    return () => listeners.delete(setValue);
  }, []);
  return value;
}

/** "lr=0.01, model=large" for a group's values under fields like params.lr, tags.model. */
export function groupLabel(fields, values) {
  return values
    .map((v, i) => `${fields[i].replace(/^(params|tags|attributes)\./, "")}=${v === null ? "(none)" : v}`)
    .join(", ");
}

/** The id a group has in the page-wide highlight (shared with run ids, so it is prefixed). */
export function groupHighlightId(id) {
  return `group:${id}`;
}

/**
 * Groups of the table's query by state.groupBy, with hidden runs flagged and left out of the statistics.
 * Returns { groups: [{id, values, label, color, runs, metrics}], metricKeys, total, grouped, truncated, error }.
 */
export function useRunGroups(query, state, metricKeys = []) {
  const [result, setResult] = useState({ groups: null, metricKeys: [], total: null, grouped: 0, truncated: false, error: null });
  const [version, setVersion] = useState(0);
  const key = JSON.stringify([query, state.groupBy, state.pinned, state.hidden, metricKeys]);
  useEffect(() => {
    const controller = new AbortController();
    const body = { ...query, group_by: state.groupBy, limit: GROUP_LIMIT, pinned: state.pinned, hidden: state.hidden, metrics: metricKeys };
    fetchRunGroups(body, { signal: controller.signal })
      .then((res) =>
        setResult({
          groups: res.groups.map((g, i) => ({ ...g, label: groupLabel(res.group_by, g.values), color: groupColor(i) })),
          metricKeys: res.metric_keys,
          total: res.total,
          grouped: res.grouped,
          truncated: res.truncated,
          error: null,
        }),
      )
      .catch((err) => err.name !== "AbortError" && setResult((r) => ({ ...r, groups: r.groups || [], error: err.message })));
    return () => controller.abort();
  }, [key, version]);
  // Any change may move a run into, out of or between groups (or change a statistic): group again.
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  return result;
}

function Stats({ stats }) {
  if (!stats || stats.count === 0) return html`<span class="muted">—</span>`;
  return html`<span class="group-stat" title=${`mean ${stats.mean} · min ${stats.min} · max ${stats.max} · ${stats.count} runs`}>
    <span class="num">${formatNumber(stats.mean)}</span>
    <span class="muted small"> ${formatNumber(stats.min)} – ${formatNumber(stats.max)}</span>
  </span>`;
}

/** The runs table's body while grouping: a row per group (mean and min–max per metric column), expandable. */
export function GroupsTable({ query, state, metricKeys, onHide }) {
  const result = useRunGroups(query, state, metricKeys);
  const open = useExpandedGroups();
  if (result.error) return html`<div class="empty" role="alert">Could not group the runs: ${result.error}</div>`;
  if (!result.groups) return html`<div class="muted pad">Grouping runs…</div>`;
  if (!result.groups.length) return html`<div class="empty" role="status">No runs to group.</div>`;
  const hidden = new Set(state.hidden);
  return html`<div class="groups-table-wrap">
    <div class="muted small groups-note" role="status">
      ${result.groups.length} groups of ${result.grouped.toLocaleString()} runs${result.truncated ? ` (the first ${result.grouped.toLocaleString()} of ${result.total.toLocaleString()} matching)` : ""}
    </div>
    <table class="groups-table">
      <thead><tr>
        <th class="g-name">Group</th><th class="g-count">Runs</th>
        ${metricKeys.map((k) => html`<th class="g-metric" title=${`metrics.${k}: mean, then min – max of the latest values`}>${k}</th>`)}
      </tr></thead>
      <tbody>
        ${result.groups.map((g) => {
          const isOpen = open.has(g.id);
          const shown = g.runs.filter((r) => !hidden.has(r.run_id)).length;
          return html`
            <tr class="group-row run-hl-target" key=${g.id} data-run-id=${groupHighlightId(g.id)} data-group=${g.label}>
              <td class="g-name"><span class="g-cell">
                <button class="expander" aria-expanded=${isOpen} aria-label=${`${isOpen ? "Collapse" : "Expand"} group ${g.label}`}
                  onClick=${() => toggleGroup(g.id)}>${isOpen ? "▾" : "▸"}</button>
                <span class="run-swatch" style=${`background:${g.color}`} data-color=${g.color}></span>
                <span class="group-label" title=${g.label}>${g.label}</span>
              </span></td>
              <td class="g-count num">${shown === g.runs.length ? shown : `${shown} of ${g.runs.length}`}</td>
              ${metricKeys.map((k) => html`<td class="g-metric"><${Stats} stats=${g.metrics[k]} /></td>`)}
            </tr>
            ${isOpen &&
            g.runs.map(
              (r) => html`<tr class=${`member-row${hidden.has(r.run_id) ? " hidden-run" : ""}`} key=${`${g.id}:${r.run_id}`} data-run-id=${r.run_id}>
                <td class="g-name" colspan="2"><span class="g-cell">
                  <button class=${`lead-btn eye-btn${hidden.has(r.run_id) ? " off" : ""}`} aria-pressed=${!hidden.has(r.run_id)}
                    aria-label=${`${hidden.has(r.run_id) ? "Show" : "Hide"} ${r.run_name || r.run_id} in charts`} onClick=${() => onHide(r.run_id)}>
                    ${hidden.has(r.run_id) ? EYE_OFF : EYE}</button>
                  <span class=${`status status-${r.status}`} title=${r.status}>${STATUS_ICONS[r.status] || "?"}</span>
                  <a class="run-link" href=${hrefFor(["experiments", r.experiment_id, "runs", r.run_id])}>${r.run_name || r.run_id}</a>
                </span></td>
                ${metricKeys.map((k) => html`<td class="g-metric num">${r.metrics && k in r.metrics ? formatNumber(r.metrics[k]) : ""}</td>`)}
              </tr>`,
            )}`;
        })}
      </tbody>
    </table>
  </div>`;
}

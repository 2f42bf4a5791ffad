// The side-by-side table of the compare page: one column per run; run info, params, metrics (latest plus
// history min/max/last) and tags as rows; "only differences", highlight of differing values, best metric
// value per row (min or max, switchable), expandable long values, row search, and the CSV of what is shown.
import { Component, html, useState } from "../lib/html.js";
import { formatDuration, formatNumber, formatTime, shortId, STATUS_ICONS, toNumber } from "../lib/format.js";
import { hrefFor } from "../lib/router.js";

export const SECTIONS = ["Run", "Parameters", "Metrics", "Tags"];
const STATS = ["min", "max", "last"];
const LONG_VALUE = 48; // characters shown before a value is cut (click the row to expand)

// Metric names whose best value is the smallest; anything else defaults to "max". The user can switch per metric.
const LOWER_IS_BETTER = /(loss|err|error|mse|mae|rmse|mape|perplexity|ppl|wer|cer|latency|regret|cost|distance|time)/i;

export function defaultBest(key) {
  return LOWER_IS_BETTER.test(key) ? "min" : "max";
}

/** "key:min" overrides from the URL as a Map key -> "min"|"max". */
export function parseBest(list) {
  const out = new Map();
  for (const item of list) {
    const at = item.lastIndexOf(":");
    const dir = item.slice(at + 1);
    if (at > 0 && (dir === "min" || dir === "max")) out.set(item.slice(0, at), dir);
  }
  return out;
}

function cell(raw, display = raw) {
  if (raw === null || raw === undefined || raw === "") return { raw: "", display: "", missing: true };
  return { raw: String(raw), display: String(display), missing: false };
}

function numberCell(value) {
  if (value === null || value === undefined) return cell(null);
  return { ...cell(String(value), formatNumber(value)), num: toNumber(value) };
}

function infoRows(runs) {
  const i = (r) => r.info;
  const rows = [
    { key: "Run ID", label: "Run ID", mono: true, get: (r) => cell(r.run_id) },
    { key: "Experiment", label: "Experiment", get: (r) => cell(i(r).experiment_name || i(r).experiment_id) },
    { key: "Status", label: "Status", get: (r) => ({ ...cell(i(r).status), icon: STATUS_ICONS[i(r).status] }) },
    { key: "Started", label: "Started", get: (r) => cell(formatTime(i(r).start_time)) },
    { key: "Duration", label: "Duration", get: (r) => cell(formatDuration(i(r).start_time, i(r).end_time)) },
    { key: "User", label: "User", get: (r) => cell(i(r).user) },
    { key: "Source", label: "Source", get: (r) => cell(i(r).source) },
    { key: "Commit", label: "Commit", mono: true, get: (r) => cell(i(r).commit) },
  ];
  if (runs.some((r) => i(r).lifecycle_stage !== "active")) {
    rows.push({ key: "Lifecycle", label: "Lifecycle", get: (r) => cell(i(r).lifecycle_stage) });
  }
  return rows.map(({ get, ...row }) => ({ ...row, section: "Run", cells: runs.map(get) }));
}

function unionKeys(runs, field) {
  const keys = new Set();
  for (const run of runs) for (const key of Object.keys(run[field])) keys.add(key);
  return [...keys].sort((a, b) => a.localeCompare(b));
}

/** Whether a row's values are not all the same, and which cells to highlight as differing.
 *  A cell is highlighted when it differs from the row's majority value; with no majority, every value is. */
function markDifferences(row) {
  const counts = new Map();
  for (const c of row.cells) counts.set(c.raw, (counts.get(c.raw) || 0) + 1);
  row.differs = counts.size > 1;
  if (!row.differs) return row;
  let top = null;
  let topCount = 0;
  let tied = false;
  for (const [raw, count] of counts) {
    if (count > topCount) [top, topCount, tied] = [raw, count, false];
    else if (count === topCount) tied = true;
  }
  const majority = !tied && topCount > 1 ? top : undefined;
  for (const c of row.cells) c.diff = !c.missing && c.raw !== majority;
  return row;
}

/** Mark the best finite value(s) of a metric row, in the row's direction, when the row's values differ. */
function markBest(row) {
  const nums = row.cells.map((c) => (Number.isFinite(c.num) ? c.num : null)).filter((n) => n !== null);
  if (nums.length < 2 || !row.differs) return row;
  const best = row.best === "min" ? Math.min(...nums) : Math.max(...nums);
  for (const c of row.cells) c.best = Number.isFinite(c.num) && c.num === best;
  return row;
}

/** Every row the table can show, in section order; each cell has raw (CSV) and display text. */
export function buildRows(runs, bestOverrides = new Map()) {
  const rows = infoRows(runs);
  for (const key of unionKeys(runs, "params")) {
    rows.push({ key: `params.${key}`, label: key, section: "Parameters", cells: runs.map((r) => cell(r.params[key])) });
  }
  for (const key of unionKeys(runs, "metrics")) {
    const best = bestOverrides.get(key) || defaultBest(key);
    rows.push({
      key: `metrics.${key}`,
      label: key,
      metric: key,
      best,
      section: "Metrics",
      cells: runs.map((r) => {
        const m = r.metrics[key];
        const c = numberCell(m ? m.latest : null);
        if (m) c.title = `latest (step ${m.step}) of ${m.count} point${m.count === 1 ? "" : "s"}`;
        return c;
      }),
    });
    // min/max/last say something only about a history: a metric logged once per run has just its value.
    const hasHistory = runs.some((r) => r.metrics[key] && r.metrics[key].count > 1);
    for (const stat of hasHistory ? STATS : []) {
      rows.push({
        key: `metrics.${key} (${stat})`,
        label: stat,
        parent: key,
        metric: key,
        best,
        sub: true,
        section: "Metrics",
        cells: runs.map((r) => numberCell(r.metrics[key] ? r.metrics[key][stat] : null)),
      });
    }
  }
  for (const key of unionKeys(runs, "tags")) {
    rows.push({ key: `tags.${key}`, label: key, section: "Tags", cells: runs.map((r) => cell(r.tags[key])) });
  }
  for (const row of rows) {
    markDifferences(row);
    if (row.metric) markBest(row);
  }
  return rows;
}

/** The rows shown for the current toggles: stats sub-rows, "only differences", the row search. */
export function visibleRows(rows, { diffOnly, stats, query }) {
  const q = (query || "").trim().toLowerCase();
  return rows.filter((row) => {
    if (row.sub && !stats) return false;
    if (diffOnly && !row.differs) return false;
    if (q && !`${row.section} ${row.parent || row.label} ${row.key}`.toLowerCase().includes(q)) return false;
    return true;
  });
}

function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV of exactly the rows shown: a header of run names, then one line per row keyed like the table's data-key. */
export function toCSV(runs, rows) {
  const lines = [["field", ...runs.map((r) => r.info.run_name || r.run_id)]];
  for (const row of rows) lines.push([row.key, ...row.cells.map((c) => c.raw)]);
  return lines.map((line) => line.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export function downloadCSV(runs, rows, filename = "compare-runs.csv") {
  const blob = new Blob([toCSV(runs, rows)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function RunHeader({ run, color, dim, onRemove }) {
  const info = run.info;
  const href = hrefFor(["experiments", info.experiment_id, "runs", run.run_id]);
  return html`<th class=${`cmp-run${dim ? " dim" : ""}`} data-run=${run.run_id} scope="col">
    <div class="cmp-run-head">
      <span class="cmp-swatch" style=${`background:${color}`}></span>
      <a class="cmp-run-name" href=${href} title=${`${info.run_name} (${run.run_id})`}>${info.run_name || shortId(run.run_id)}</a>
      <button class="cmp-remove" title="Remove from comparison" aria-label=${`Remove ${info.run_name}`} onClick=${() => onRemove(run.run_id)}>×</button>
    </div>
    <div class="cmp-run-exp" title=${info.experiment_name}>${info.experiment_name || info.experiment_id}</div>
  </th>`;
}

function BestToggle({ row, onBest }) {
  const label = row.best === "min" ? "↓ min" : "↑ max";
  const next = row.best === "min" ? "max" : "min";
  return html`<button class="cmp-best-toggle" title=${`Best value is the ${row.best}imum; click for ${next}imum`}
    aria-label=${`Best ${row.label}: ${row.best}`} onClick=${(e) => { e.stopPropagation(); onBest(row.metric, next); }}>${label}</button>`;
}

function cellClass(c, mono, i) {
  let cls = `cmp-cell c${i}`; // c<i>: the column, for dimRule
  if (c.diff) cls += " diff";
  if (c.best) cls += " best";
  if (c.missing) cls += " missing";
  if (mono) cls += " mono";
  return cls;
}

function cellContent(c) {
  if (c.missing) return "—";
  return html`${c.icon && html`<span class=${`status status-${c.raw}`}>${c.icon}</span> `}${c.best && html`<span class="cmp-star" aria-label="best">★</span>`}${c.display}`;
}

/** One row; re-rendered only when its data or expansion changes, so toggles and brushes touch few rows. */
class Row extends Component {
  shouldComponentUpdate(next) {
    return next.row !== this.props.row || next.expanded !== this.props.expanded;
  }

  render({ row, expanded, onToggle, onBest }) {
    const long = row.cells.some((c) => c.raw.length > LONG_VALUE);
    let cls = "cmp-row";
    if (row.sub) cls += " sub";
    if (row.differs) cls += " differs";
    if (expanded) cls += " expanded";
    if (long) cls += " long";
    return html`<tr class=${cls} data-key=${row.key} onClick=${long ? () => onToggle(row.key) : undefined}>
      <th class="cmp-label" scope="row" title=${row.key}>
        <div class="cmp-label-in">
          <span class="cmp-label-text">${row.label}</span>
          ${long && html`<button class="cmp-expand" aria-expanded=${expanded} aria-label=${`${expanded ? "Show less of" : "Show all of"} ${row.label}`}
            onClick=${(e) => { e.stopPropagation(); onToggle(row.key); }}>${expanded ? "▾ less" : "▸ all"}</button>`}
          ${row.metric && !row.sub && html`<${BestToggle} row=${row} onBest=${onBest} />`}
        </div>
      </th>
      ${row.cells.map(
        (c, i) => html`<td class=${cellClass(c, row.mono, i)} data-value=${c.raw}
          title=${c.title || (c.raw.length > LONG_VALUE ? c.raw : undefined)}>${cellContent(c)}</td>`,
      )}
    </tr>`;
  }
}

/** Dimming runs outside a plot brush is one style rule over their column classes: no cell re-renders,
 *  and class selectors keep the style recalculation cheap even for 200 columns x 100 rows. */
function dimRule(dimmed) {
  const cols = [];
  dimmed.forEach((dim, i) => dim && cols.push(`.cmp-table td.c${i}`));
  return cols.length ? `${cols.join(",")} { color: var(--faint); }` : "";
}

/** The table itself. `rows` are already filtered by visibleRows; `brushed` (Set|null) dims runs outside a plot brush. */
export function CompareTable({ runs, rows, colors, brushed, onRemove, onBest }) {
  const [expanded, setExpanded] = useState(() => new Set());
  const toggle = (key) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  const dimmed = runs.map((r) => Boolean(brushed && !brushed.has(r.run_id)));
  const body = [];
  for (const section of SECTIONS) {
    const inSection = rows.filter((r) => r.section === section);
    if (!inSection.length) continue;
    body.push(html`<tr class="cmp-section"><th scope="rowgroup">${section} <span class="cmp-count">${inSection.filter((r) => !r.sub).length}</span></th><td colspan=${runs.length}></td></tr>`);
    for (const row of inSection) {
      body.push(html`<${Row} key=${row.key} row=${row} expanded=${expanded.has(row.key)} onToggle=${toggle} onBest=${onBest} />`);
    }
  }
  return html`<div class="cmp-table-wrap">
    <style>${dimRule(dimmed)}</style>
    <table class="cmp-table">
      <thead>
        <tr>
          <th class="cmp-corner" scope="col">${runs.length} run${runs.length === 1 ? "" : "s"}</th>
          ${runs.map((run, i) => html`<${RunHeader} key=${run.run_id} run=${run} color=${colors[i]} dim=${dimmed[i]} onRemove=${onRemove} />`)}
        </tr>
      </thead>
      <tbody>
        ${body.length ? body : html`<tr><td class="cmp-empty" colspan=${runs.length + 1}>No rows match: every shown value is the same for all runs, or the row search matches nothing.</td></tr>`}
      </tbody>
    </table>
  </div>`;
}

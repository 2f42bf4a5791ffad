// Metric charts for one or many runs: a chart per metric (grouped by the key's prefix before "/"),
// filterable, with shared controls (x axis, log y, smoothing, combine metrics) kept in the URL.
// Charts are created only when scrolled near the viewport and destroyed when they leave it, so a
// page with hundreds of metrics stays responsive; data comes downsampled from
// /api/mlscope/metrics/histories, zooming re-requests the visible range in detail, and live
// changes (lib/live.js) re-request just the changed runs' series of the charts on screen.
// The machinery (lib/history_chart.js) and controls (lib/chart_settings.js) are shared with the
// experiment page's chart view.
import { html, useMemo, useRef, useState } from "../lib/html.js";
import { BarChart } from "../lib/bar_chart.js";
import { toNumber } from "../lib/format.js";
import { listParam, setQueryParams, useRoute } from "../lib/router.js";
import { ChartControls, filterChartKeys, groupKeys, useChartSettings } from "../lib/chart_settings.js";
import { canRedrawAs, fetchSeries, toChartSeries, useLazyChart } from "../lib/history_chart.js";

export { groupKeys };

/**
 * A metric logged once per run has no line to draw: its values are compared as bars (as MLflow's run page
 * does), each labelled with its value; NaN and ±∞ are named, never dropped.
 */
function singleValues(raw, series, runs) {
  const runOf = new Map(runs.map((r) => [r.run_id, r]));
  const bars = raw
    .map((s, i) => ({ s, line: series[i] }))
    .filter(({ s }) => s.values.length)
    .map(({ s, line }) => ({
      id: s.run_id,
      label: line.label,
      value: toNumber(s.values[0]),
      color: line.color,
      href: runOf.has(s.run_id) && runOf.get(s.run_id).experiment_id ? `#/experiments/${runOf.get(s.run_id).experiment_id}/runs/${s.run_id}` : undefined,
    }));
  return { bars, note: bars.length === 1 ? "a single value" : `one value per ${runs.length > 1 ? "run" : "metric"}` };
}

/** "All values are NaN" (or ∞, −∞): what a chart of only non-finite values says instead of empty axes. */
function nothingToDraw(bars) {
  const names = [...new Set(bars.map((b) => (Number.isNaN(b.value) ? "NaN" : b.value > 0 ? "∞" : "−∞")))];
  return `All values are ${names.join(" or ")}: nothing to draw.`;
}

function ChartCard({ title, keys, runs, settings, selected, onSelect, colors }) {
  const cardRef = useRef(null);
  const plotRef = useRef(null);
  const runIds = useMemo(() => runs.map((r) => r.run_id), [runs]);
  const { xMode } = settings;
  const load = async ({ zoom, width, signal, onlyRuns }) => {
    const ids = onlyRuns ? runIds.filter((id) => onlyRuns.has(id)) : runIds;
    if (!ids.length) return null;
    const raw = await fetchSeries({ runIds: ids, keys, xMode, zoom, width, signal });
    const colorOf = colors && keys.length === 1 ? (id) => colors.get(id) : null;
    const series = toChartSeries(raw, xMode, runs, keys, colorOf);
    if (!zoom && !onlyRuns && raw.length && raw.every((s) => s.total <= 1)) return singleValues(raw, series, runs);
    const redrawAs = (mode) => (canRedrawAs(raw, xMode, mode) ? toChartSeries(raw, mode, runs, keys, colorOf) : null);
    return { series, partial: !!onlyRuns, redrawAs };
  };
  const chart = useLazyChart({
    cardRef,
    plotRef,
    settings,
    dataKey: `${runIds.join(",")}|${keys.join("\u0000")}`,
    load,
    liveRunIds: runIds,
  });

  return html`<section class="mc-card" ref=${cardRef} data-keys=${keys.join(",")}>
    <header class="mc-card-head">
      ${onSelect &&
      html`<input type="checkbox" class="mc-select" checked=${selected} onChange=${onSelect}
        title="Select to combine into one chart" aria-label=${`Select ${title}`} />`}
      <span class="mc-title" title=${title}>${title}</span>
      <span class="mc-spacer"></span>
      ${chart.zoomed && html`<button class="mc-link" onClick=${chart.resetZoom} title="Double-click the chart to reset too">Reset zoom</button>`}
    </header>
    <div class="mc-plot" ref=${plotRef} style=${chart.bars ? "display:none" : ""}></div>
    ${chart.bars && (chart.bars.some((b) => Number.isFinite(b.value))
      ? html`<div class="mc-bars"><${BarChart} bars=${chart.bars} /></div>`
      : html`<div class="mc-nothing" role="status">${nothingToDraw(chart.bars)}</div>`)}
    <footer class="mc-card-foot">
      ${chart.error ? html`<span class="mc-error">${chart.error}</span>` : html`<span class="mc-note">${chart.near ? chart.note : ""}</span>`}
    </footer>
  </section>`;
}

/** Charts of `metricKeys` for `runs` ([{run_id, run_name}], 1 to 200); `colors` (Map run_id -> colour) when runs have their own. */
export function MetricCharts({ runs, metricKeys, title, colors = null }) {
  const settings = useChartSettings();
  const { query } = useRoute();
  const [selected, setSelected] = useState(() => new Set());
  const [collapsed, setCollapsed] = useState(() => new Set());
  const filtered = useMemo(() => filterChartKeys(metricKeys, settings.search, settings.regex), [metricKeys, settings.search, settings.regex]);
  const keys = filtered.keys;
  const groups = useMemo(() => groupKeys(keys), [keys]);
  const combined = listParam(query, "chart_combine").filter((k) => metricKeys.includes(k));
  const shared = { xMode: settings.xMode, logY: settings.logY, smoothing: settings.smoothing };

  const toggle = (key) => {
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setSelected(next);
  };
  const combine = () => {
    setQueryParams({ chart_combine: [...selected].sort() });
    setSelected(new Set());
  };
  const toggleGroup = (group) => {
    const next = new Set(collapsed);
    if (next.has(group)) next.delete(group);
    else next.add(group);
    setCollapsed(next);
  };

  if (!metricKeys.length) return html`<div class="mc-empty">No metrics logged${runs.length > 1 ? " by these runs" : ""}.</div>`;

  return html`<div class="metric-charts">
    ${title && html`<h3 class="mc-heading">${title}</h3>`}
    <${ChartControls} settings=${settings} error=${filtered.error}>
      <button class="mc-button" disabled=${selected.size < 2} onClick=${combine}
        title="Draw the selected metrics in one chart">Combine selected${selected.size ? ` (${selected.size})` : ""}</button>
    <//>
    ${combined.length > 1 &&
    html`<div class="mc-group">
      <div class="mc-group-head static">Combined <span class="mc-count">${combined.length} metrics</span>
        <button class="mc-link" onClick=${() => setQueryParams({ chart_combine: [] })}>Split</button></div>
      <div class="mc-grid mc-grid-wide">
        <${ChartCard} title=${combined.join(" + ")} keys=${combined} runs=${runs} settings=${shared} colors=${colors} />
      </div>
    </div>`}
    ${!keys.length && html`<div class="mc-empty">No chart matches “${settings.search}”.</div>`}
    ${groups.map(
      ([group, groupKeys]) => html`<div class="mc-group" key=${group}>
        <button class="mc-group-head" aria-expanded=${!collapsed.has(group)} onClick=${() => toggleGroup(group)}>
          <span class="mc-caret">${collapsed.has(group) ? "▸" : "▾"}</span>${group || "Metrics"}
          <span class="mc-count">${groupKeys.length}</span>
        </button>
        ${!collapsed.has(group) &&
        html`<div class="mc-grid">
          ${groupKeys.map(
            (key) => html`<${ChartCard} key=${key} title=${key} keys=${[key]} runs=${runs} settings=${shared}
              selected=${selected.has(key)} onSelect=${() => toggle(key)} colors=${colors} />`,
          )}
        </div>`}
      </div>`,
    )}
  </div>`;
}

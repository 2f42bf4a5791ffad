// Metric charts for one or many runs: a chart per metric (grouped by the key's prefix before "/"),
// filterable, with shared controls (x axis, log y, smoothing, combine metrics) kept in the URL.
// Charts are created only when scrolled near the viewport and destroyed when they leave it, so a
// page with hundreds of metrics stays responsive; data comes downsampled from
// /api/mlscope/metrics/histories, zooming re-requests the visible range in detail, and live
// changes (lib/live.js) re-request just the changed runs' series of the charts on screen.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { fetchHistories } from "../lib/api.js";
import { createChart, seriesColor } from "../lib/charts.js";
import { shortId, toNumber } from "../lib/format.js";
import { listParam, setQueryParams, useRoute } from "../lib/router.js";
import { subscribe } from "../lib/live.js";

const RUNS_PER_REQUEST = 100;
const X_MODES = [
  ["step", "Step"],
  ["wall", "Wall time"],
  ["relative", "Relative time"],
];
const SERVER_X = { step: "step", wall: "time", relative: "relative" };
const NEAR_VIEWPORT = "400px 0px"; // charts this close to the screen are drawn; farther ones are freed

/** Group keys by their prefix before the first "/" (ungrouped keys first, under "Metrics"). */
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

function useChartSettings() {
  const { query } = useRoute();
  const x = query.get("chart_x");
  const smoothing = Math.min(0.99, Math.max(0, Number(query.get("chart_smooth")) || 0));
  return {
    xMode: X_MODES.some(([m]) => m === x) ? x : "step",
    logY: query.get("chart_log") === "1",
    smoothing,
    search: query.get("chart_q") || "",
    combined: listParam(query, "chart_combine"),
  };
}

/** Points to ask for per series: about two per pixel column, fewer when many runs share a chart. */
function pointsFor(width, runCount) {
  return Math.max(100, Math.min(5000, Math.round(width * 2), Math.floor(200000 / Math.max(1, runCount))));
}

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Fetch (run, key) series for a chart, in requests of at most 100 runs. */
async function fetchSeries({ runIds, keys, xMode, zoom, width, signal }) {
  const body = { keys, x: SERVER_X[xMode], points: pointsFor(width, runIds.length) };
  if (zoom) {
    const scale = xMode === "step" ? 1 : 1000;
    body.x_min = xMode === "step" ? Math.floor(zoom.min) : Math.floor(zoom.min * scale);
    body.x_max = xMode === "step" ? Math.ceil(zoom.max) : Math.ceil(zoom.max * scale);
  }
  const answers = await Promise.all(
    chunks(runIds, RUNS_PER_REQUEST).map((ids) => fetchHistories({ ...body, run_ids: ids }, { signal })),
  );
  return answers.flatMap((a) => a.series);
}

/** Server series → chart series (x in the chart's unit, non-finite values as gaps). */
function toChartSeries(raw, xMode, runs, keys) {
  const runIndex = new Map(runs.map((r, i) => [r.run_id, i]));
  const runName = (id) => {
    const run = runs[runIndex.get(id)];
    return (run && run.run_name) || shortId(id);
  };
  return raw.map((s) => {
    let xs;
    if (xMode === "step") xs = s.steps;
    else if (xMode === "wall") xs = s.timestamps.map((t) => t / 1000);
    else xs = s.timestamps.map((t) => (t - s.start_timestamp) / 1000);
    const ys = s.values.map((v) => {
      const n = toNumber(v);
      return Number.isFinite(n) ? n : null;
    });
    const i = runIndex.get(s.run_id) ?? 0;
    const k = keys.indexOf(s.key);
    let label = runName(s.run_id);
    if (keys.length > 1) label = runs.length > 1 ? `${label} · ${s.key}` : s.key;
    const color = keys.length > 1 && runs.length === 1 ? seriesColor(k) : seriesColor(i + Math.max(0, k) * 7);
    return { id: `${s.run_id}\u0000${s.key}`, label, color, xs, ys, total: s.total, shown: s.shown };
  });
}

function pointsNote(series) {
  const shown = series.reduce((n, s) => n + s.shown, 0);
  const total = series.reduce((n, s) => n + s.total, 0);
  if (!total) return "no points";
  return `${shown.toLocaleString()} of ${total.toLocaleString()} points shown`;
}

/** Whether the element is near the viewport (IntersectionObserver; charts are built only then). */
function useNearViewport(ref) {
  const [near, setNear] = useState(false);
  useEffect(() => {
    const observer = new IntersectionObserver((entries) => setNear(entries[entries.length - 1].isIntersecting), {
      rootMargin: NEAR_VIEWPORT,
    });
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, []);
  return near;
}

function ChartCard({ title, keys, runs, settings, selected, onSelect }) {
  const cardRef = useRef(null);
  const plotRef = useRef(null);
  const chartRef = useRef(null);
  const seriesRef = useRef([]);
  const zoomRef = useRef(null);
  const near = useNearViewport(cardRef);
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  const [zoomed, setZoomed] = useState(false);
  const runIds = useMemo(() => runs.map((r) => r.run_id), [runs]);
  const { xMode, logY, smoothing } = settings;

  useEffect(() => {
    // Another x axis is another unit: the zoom range no longer applies (declared first: runs first).
    zoomRef.current = null;
    setZoomed(false);
  }, [xMode]);

  useEffect(() => {
    if (!near) return undefined;
    const controller = new AbortController();
    let alive = true;

    const load = async (onlyRuns) => {
      const ids = onlyRuns ? runIds.filter((id) => onlyRuns.has(id)) : runIds;
      if (!ids.length) return;
      try {
        const width = plotRef.current ? plotRef.current.clientWidth : 600;
        const raw = await fetchSeries({ runIds: ids, keys, xMode, zoom: zoomRef.current, width, signal: controller.signal });
        if (!alive) return;
        const fresh = toChartSeries(raw, xMode, runs, keys);
        let next = fresh;
        if (onlyRuns) {
          const byId = new Map(fresh.map((s) => [s.id, s]));
          next = seriesRef.current.map((s) => byId.get(s.id) || s);
          for (const s of fresh) if (!seriesRef.current.some((o) => o.id === s.id)) next.push(s);
        }
        seriesRef.current = next;
        chartRef.current.setData(next);
        setNote(pointsNote(next));
        setError(null);
      } catch (err) {
        if (alive && err.name !== "AbortError") setError(err.message);
      }
    };

    chartRef.current = createChart(plotRef.current, {
      xMode,
      logY,
      smoothing,
      onZoom: (range) => {
        zoomRef.current = range;
        setZoomed(true);
        load(null);
      },
      onResetZoom: () => {
        zoomRef.current = null;
        setZoomed(false);
        load(null);
      },
    });
    if (zoomRef.current) chartRef.current.setZoom(zoomRef.current);
    load(null);
    const unsubscribe = subscribe((event) => {
      if (event.reset) return load(null);
      const changed = new Set(event.changed.filter((id) => runIds.includes(id)));
      if (changed.size) load(changed);
    });
    return () => {
      alive = false;
      controller.abort();
      unsubscribe();
      chartRef.current.destroy();
      chartRef.current = null;
      seriesRef.current = []; // off screen: free the data too; it is re-requested on the way back
    };
  }, [near, xMode, runIds.join(","), keys.join("\u0000")]);

  useEffect(() => {
    if (chartRef.current) chartRef.current.setOptions({ logY, smoothing });
  }, [logY, smoothing]);

  const resetZoom = () => {
    if (!chartRef.current) return;
    chartRef.current.setZoom(null);
    zoomRef.current = null;
    setZoomed(false);
    chartRef.current.setData(seriesRef.current);
  };

  return html`<section class="mc-card" ref=${cardRef} data-keys=${keys.join(",")}>
    <header class="mc-card-head">
      ${onSelect &&
      html`<input type="checkbox" class="mc-select" checked=${selected} onChange=${onSelect}
        title="Select to combine into one chart" aria-label=${`Select ${title}`} />`}
      <span class="mc-title" title=${title}>${title}</span>
      <span class="mc-spacer"></span>
      ${zoomed && html`<button class="mc-link" onClick=${resetZoom} title="Double-click the chart to reset too">Reset zoom</button>`}
    </header>
    <div class="mc-plot" ref=${plotRef}></div>
    <footer class="mc-card-foot">
      ${error ? html`<span class="mc-error">${error}</span>` : html`<span class="mc-note">${near ? note : ""}</span>`}
    </footer>
  </section>`;
}

function Controls({ settings, selectedCount, onCombine }) {
  const [smooth, setSmooth] = useState(settings.smoothing);
  useEffect(() => setSmooth(settings.smoothing), [settings.smoothing]);
  return html`<div class="mc-controls">
    <input class="mc-search" type="search" placeholder="Filter charts…" value=${settings.search}
      onInput=${(e) => setQueryParams({ chart_q: e.target.value })} aria-label="Filter charts" />
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
    <button class="mc-button" disabled=${selectedCount < 2} onClick=${onCombine}
      title="Draw the selected metrics in one chart">Combine selected${selectedCount ? ` (${selectedCount})` : ""}</button>
  </div>`;
}

/** Charts of `metricKeys` for `runs` ([{run_id, run_name}], 1 to 200). */
export function MetricCharts({ runs, metricKeys, title }) {
  const settings = useChartSettings();
  const [selected, setSelected] = useState(() => new Set());
  const [collapsed, setCollapsed] = useState(() => new Set());
  const needle = settings.search.trim().toLowerCase();
  const keys = useMemo(() => metricKeys.filter((k) => !needle || k.toLowerCase().includes(needle)), [metricKeys, needle]);
  const groups = useMemo(() => groupKeys(keys), [keys]);
  const combined = settings.combined.filter((k) => metricKeys.includes(k));
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
    <${Controls} settings=${settings} selectedCount=${selected.size} onCombine=${combine} />
    ${combined.length > 1 &&
    html`<div class="mc-group">
      <div class="mc-group-head static">Combined <span class="mc-count">${combined.length} metrics</span>
        <button class="mc-link" onClick=${() => setQueryParams({ chart_combine: [] })}>Split</button></div>
      <div class="mc-grid mc-grid-wide">
        <${ChartCard} title=${combined.join(" + ")} keys=${combined} runs=${runs} settings=${shared} />
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
              selected=${selected.has(key)} onSelect=${() => toggle(key)} />`,
          )}
        </div>`}
      </div>`,
    )}
  </div>`;
}

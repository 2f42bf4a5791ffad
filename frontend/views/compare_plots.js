// Compare page plots: parallel coordinates over chosen params/metrics (numeric and categorical axes, brushing
// filters runs, colour by a metric) and a scatter of any two params/metrics. ECharts is imported here only,
// dynamically, so no other page loads it.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { useDismiss } from "../lib/use_dismiss.js";
import { formatNumber, toNumber } from "../lib/format.js";
import { useTheme } from "../lib/theme.js";

let echartsModule = null;
function loadECharts() {
  echartsModule = echartsModule || import("echarts");
  return echartsModule;
}
loadECharts(); // start fetching the library with this view, in parallel with the comparison request

const MISSING = "—";
const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#b5de2b"];
/** The plots' colours in the current theme (CSS variables of styles/base.css). */
function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { text: read("--muted", "#6b7280"), strong: read("--text-soft", "#374151"), grid: read("--border", "#e5e7eb"),
    line: read("--muted", "#9ca3af"), accent: read("--accent", "#2563eb") };
}

/** Every param and metric as a plottable dimension: { id: "params.lr", kind, key, label }. */
export function dimensionsOf(runs) {
  const params = new Set();
  const metrics = new Set();
  for (const run of runs) {
    for (const key of Object.keys(run.params)) params.add(key);
    for (const key of Object.keys(run.metrics)) metrics.add(key);
  }
  const byName = (a, b) => a.localeCompare(b);
  return [
    ...[...params].sort(byName).map((key) => ({ id: `params.${key}`, kind: "params", key, label: key })),
    ...[...metrics].sort(byName).map((key) => ({ id: `metrics.${key}`, kind: "metrics", key, label: key })),
  ];
}

/** A run's value on a dimension: the param string or the metric's latest value; null when absent. */
export function valueOf(run, dimId) {
  const dot = dimId.indexOf(".");
  const kind = dimId.slice(0, dot);
  const key = dimId.slice(dot + 1);
  if (kind === "params") return key in run.params ? run.params[key] : null;
  if (kind === "metrics") return run.metrics[key] ? run.metrics[key].latest : null;
  return null;
}

/** How an axis shows a dimension: numeric ("value", or "log" for wide positive ranges) or categorical. */
export function axisOf(runs, dimId) {
  const values = runs.map((r) => valueOf(r, dimId)).filter((v) => v !== null && v !== "");
  const numeric = values.length > 0 && values.every((v) => v === "NaN" || !Number.isNaN(toNumber(v)));
  if (numeric) {
    const finite = values.map(toNumber).filter(Number.isFinite);
    const min = finite.length ? Math.min(...finite) : 0;
    const max = finite.length ? Math.max(...finite) : 0;
    const log = finite.length > 2 && min > 0 && max / min >= 1000;
    return { type: log ? "log" : "value", min, max };
  }
  const categories = [...new Set(values.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (values.length < runs.length) categories.push(MISSING);
  return { type: "category", categories };
}

function axisValue(run, dimId, axis) {
  const v = valueOf(run, dimId);
  if (axis.type === "category") return v === null || v === "" ? MISSING : String(v);
  const n = v === null || v === "" ? NaN : toNumber(v);
  return Number.isFinite(n) ? n : null;
}

function mix(a, b, t) {
  const pa = parseInt(a.slice(1), 16);
  const pb = parseInt(b.slice(1), 16);
  const ch = (shift) => Math.round(((pa >> shift) & 255) * (1 - t) + ((pb >> shift) & 255) * t);
  return `rgb(${ch(16)},${ch(8)},${ch(0)})`;
}

/** Colour for t in [0, 1] on a viridis-like ramp. */
export function rampColor(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  return mix(VIRIDIS[i], VIRIDIS[i + 1], x - i);
}

/** Line colours: by the colour metric's latest value when chosen (grey when a run lacks it), else the run colours. */
export function lineColors(runs, colorMetric, runColors) {
  if (!colorMetric) return { colors: runColors, range: null };
  const nums = runs.map((r) => (r.metrics[colorMetric] ? toNumber(r.metrics[colorMetric].latest) : NaN));
  const finite = nums.filter(Number.isFinite);
  if (!finite.length) return { colors: runs.map(() => "#9ca3af"), range: null };
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const colors = nums.map((n) => (Number.isFinite(n) ? rampColor(max === min ? 0.5 : (n - min) / (max - min)) : "#9ca3af"));
  return { colors, range: [min, max] };
}

/** An ECharts instance in a div, created after the library loads, resized with its box, disposed on unmount. */
function useChart(onReady) {
  const ref = useRef(null);
  const [chart, setChart] = useState(null);
  useEffect(() => {
    let instance = null;
    let observer = null;
    let live = true;
    loadECharts().then((echarts) => {
      if (!live || !ref.current) return;
      instance = echarts.init(ref.current, null, { renderer: "canvas" });
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(ref.current);
      if (onReady) onReady(instance);
      setChart(instance);
    });
    return () => {
      live = false;
      if (observer) observer.disconnect();
      if (instance) instance.dispose();
    };
  }, []);
  return [ref, chart];
}

function parallelOption(runs, shown, specs, colors) {
  const theme = themeColors();
  const PARAM_NAME = { color: theme.strong, fontSize: 12, fontWeight: 500 };
  const METRIC_NAME = { color: theme.accent, fontSize: 12, fontWeight: 600 };
  return {
    animation: false,
    parallel: { left: 48, right: 72, top: 36, bottom: 28, parallelAxisDefault: parallelAxisDefault(theme) },
    parallelAxis: shown.map((d, i) => {
      const spec = specs[i];
      const base = { dim: i, name: d.key, nameTextStyle: d.kind === "metrics" ? METRIC_NAME : PARAM_NAME, realtime: true };
      if (spec.type === "category") return { ...base, type: "category", data: spec.categories };
      return { ...base, type: spec.type, scale: true };
    }),
    tooltip: { show: false },
    series: [
      {
        type: "parallel",
        smooth: false,
        inactiveOpacity: 0.06,
        activeOpacity: 1,
        lineStyle: { width: 1.5, opacity: 0.75 },
        emphasis: { disabled: true },
        data: runs.map((run, i) => ({
          name: run.info.run_name || run.run_id,
          value: shown.map((d, j) => axisValue(run, d.id, specs[j])),
          lineStyle: { color: colors[i] },
        })),
      },
    ],
  };
}

/** Parallel coordinates: one line per run; brushing an axis reports the runs still inside every brush. */
export function ParallelCoordinates({ runs, dims, axes, colorMetric, runColors, brushed, onBrush }) {
  const [ref, chart] = useChart();
  // Keyed by content: a re-render with equal axes must not rebuild the chart (that would drop the brushes).
  const axesKey = axes.join("\u0000");
  const idsKey = runs.map((r) => r.run_id).join(",");
  const shown = useMemo(() => axes.map((id) => dims.find((d) => d.id === id)).filter(Boolean), [axesKey, dims]);
  const specs = useMemo(() => shown.map((d) => axisOf(runs, d.id)), [runs, shown]);
  const { colors, range } = useMemo(() => lineColors(runs, colorMetric, runColors), [runs, colorMetric, runColors]);
  const theme = useTheme();
  const latest = useRef({});
  latest.current = { runs, shown, specs, colors, onBrush };

  /** Tell the page which runs are inside every brushed range (null when nothing is brushed). */
  const report = () => {
    const { runs: now, shown: axesNow, onBrush: notify } = latest.current;
    const model = chart.getModel();
    const series = model.getSeries()[0];
    if (!series) return;
    const brushedAny = axesNow.some((_, i) => model.getComponent("parallelAxis", i).activeIntervals.length);
    if (!brushedAny) return notify(null);
    notify(new Set(series.getRawIndicesByActiveState("active").map((i) => now[i].run_id)));
  };

  // Other axes or other runs: rebuild the chart (brushes reset with it).
  useEffect(() => {
    if (!chart) return undefined;
    chart.setOption(parallelOption(runs, shown, specs, colors), { notMerge: true });
    latest.current.onBrush(null);
    chart.on("axisareaselected", report);
    return () => chart.off("axisareaselected", report);
  }, [chart, axesKey, idsKey]);

  // New values (a live run moved on) or another colouring: update in place, keeping the brushes.
  useEffect(() => {
    if (!chart) return;
    chart.setOption(parallelOption(runs, shown, specs, colors));
    report();
  }, [specs, colors, theme]);

  const active = brushed ? runs.filter((r) => brushed.has(r.run_id)).length : runs.length;
  return html`<div class="cmp-plot">
    <div class="cmp-plot-status" role="status">
      <span>${brushed ? html`<strong>${active}</strong> of ${runs.length} runs inside the brushed ranges` : "Drag along an axis to brush; click the axis outside the brush to clear it."}</span>
      ${range && html`<span class="cmp-ramp" title=${`Colour: ${colorMetric}`}>
        <span>${formatNumber(range[0])}</span><span class="cmp-ramp-bar"></span><span>${formatNumber(range[1])}</span>
      </span>`}
    </div>
    <div class="cmp-chart cmp-parcoords" ref=${ref} data-lines=${runs.length} data-active=${active} data-axes=${shown.length}></div>
  </div>`;
}

function parallelAxisDefault(theme) {
  return {
    nameLocation: "end",
    nameGap: 14,
    axisLine: { lineStyle: { color: theme.line } },
    axisTick: { lineStyle: { color: theme.line } },
    axisLabel: { color: theme.text, fontSize: 11, hideOverlap: true },
    areaSelectStyle: { width: 16, borderWidth: 1, color: "rgba(37,99,235,0.15)", borderColor: "#2563eb", opacity: 1 },
  };
}

function scatterAxis(spec, dim) {
  const theme = themeColors();
  const common = {
    name: dim ? dim.label : "",
    nameLocation: "middle",
    nameTextStyle: { color: theme.strong, fontSize: 12 },
    axisLabel: { color: theme.text, fontSize: 11, hideOverlap: true },
    axisLine: { lineStyle: { color: theme.line } },
    splitLine: { lineStyle: { color: theme.grid } },
  };
  if (!spec) return { ...common, type: "value" };
  if (spec.type === "category") return { ...common, type: "category", data: spec.categories, nameGap: 28 };
  return { ...common, type: spec.type, scale: true, nameGap: 28 };
}

/** Scatter of one point per run over two dimensions; hover shows the run's name and both values. */
export function ScatterPlot({ runs, dims, x, y, runColors, brushed }) {
  const [ref, chart] = useChart();
  const dx = dims.find((d) => d.id === x);
  const dy = dims.find((d) => d.id === y);
  const theme = useTheme();
  useEffect(() => {
    if (!chart) return;
    const sx = dx ? axisOf(runs, dx.id) : null;
    const sy = dy ? axisOf(runs, dy.id) : null;
    const points = [];
    runs.forEach((run, i) => {
      if (!dx || !dy) return;
      const vx = axisValue(run, dx.id, sx);
      const vy = axisValue(run, dy.id, sy);
      if (vx === null || vy === null) return;
      const faded = brushed && !brushed.has(run.run_id);
      points.push({
        name: run.info.run_name || run.run_id,
        value: [vx, vy],
        itemStyle: { color: runColors[i], opacity: faded ? 0.12 : 0.9 },
      });
    });
    chart.setOption(
      {
        animation: false,
        grid: { left: 64, right: 24, top: 16, bottom: 48 },
        xAxis: scatterAxis(sx, dx),
        yAxis: { ...scatterAxis(sy, dy), nameGap: 48, nameRotate: 90 },
        tooltip: {
          trigger: "item",
          formatter: (p) => `<b>${escapeHtml(p.name)}</b><br>${escapeHtml(dx.label)}: ${escapeHtml(show(p.value[0]))}<br>${escapeHtml(dy.label)}: ${escapeHtml(show(p.value[1]))}`,
        },
        series: [{ type: "scatter", symbolSize: 9, data: points, emphasis: { scale: 1.6 } }],
      },
      { notMerge: true },
    );
    ref.current.dataset.points = String(points.length);
  }, [chart, runs, dx, dy, runColors, brushed, theme]);
  return html`<div class="cmp-chart cmp-scatter" ref=${ref}></div>`;
}

function show(v) {
  return typeof v === "number" ? formatNumber(v) : String(v);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A compact multi-select of keys (a button that opens a searchable checklist), for axes and chart metrics. */
export function KeyPicker({ label, options, selected, onChange, max = 50 }) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState("");
  const box = useDismiss(open, () => setOpen(false));
  const q = filter.trim().toLowerCase();
  const shown = options.filter((o) => !q || o.id.toLowerCase().includes(q));
  const toggle = (id) => {
    if (selected.includes(id)) onChange(selected.filter((s) => s !== id));
    else if (selected.length < max) onChange([...selected, id]);
  };
  return html`<div class="cmp-picker" ref=${box}>
    <button class="btn" aria-expanded=${open} onClick=${() => setOpen(!open)}>${label} (${selected.length}) ▾</button>
    ${open &&
    html`<div class="cmp-picker-menu" role="listbox" aria-label=${label}>
      <input class="input" placeholder="Filter…" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} autofocus />
      <div class="cmp-picker-list">
        ${shown.map(
          (o) => html`<label class="cmp-picker-item" key=${o.id}>
            <input type="checkbox" checked=${selected.includes(o.id)} onChange=${() => toggle(o.id)} />
            <span class="cmp-kind">${o.kind === "params" ? "param" : o.kind === "metrics" ? "metric" : ""}</span>
            <span class="cmp-picker-key" title=${o.key}>${o.key}</span>
          </label>`,
        )}
        ${!shown.length && html`<div class="muted pad">Nothing matches.</div>`}
      </div>
    </div>`}
  </div>`;
}

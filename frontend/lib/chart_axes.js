// The metric charts' axes: ranges that always show something (a single x, a flat line, values near ±1e308),
// labels that never overlap (a log scale labels its decades, crowded labels are thinned), room for the
// two-line labels of a wall-time axis, and colours from the page's theme (light or dark).
import uPlot from "uplot";
import { formatNumber } from "./format.js";

const FONT = "11px system-ui, sans-serif";
const LABEL_GAP = 14; // CSS px between two y labels' centres (11px text)
const WALL_AXIS_SIZE = 46; // a time axis labels ticks with a time line and a date line

// Tick increments from 1e-300 to 1e300 (uPlot's own stop at 1e±16: a history of ±1e300 would get no ticks).
const WIDE_INCRS = [];
for (let e = -300; e <= 300; e++) for (const m of [1, 2, 2.5, 5]) WIDE_INCRS.push(Number(`${m}e${e}`));

let measurer = null;
function textWidth(text) {
  if (!measurer) {
    measurer = document.createElement("canvas").getContext("2d");
    measurer.font = FONT;
  }
  return measurer.measureText(text).width;
}

/** The axis colours of the current theme (CSS variables set by styles/base.css). */
export function axisColors() {
  const css = getComputedStyle(document.documentElement);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { text: read("--chart-axis", "#6b7280"), grid: read("--chart-grid", "#eef0f3"), tick: read("--chart-tick", "#e5e7eb") };
}

export function formatSeconds(s) {
  const sign = s < 0 ? "-" : "";
  s = Math.abs(s);
  if (s < 60) return `${sign}${Number(s.toFixed(s < 10 ? 1 : 0))}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  if (h) return `${sign}${h}h${m ? ` ${m}m` : ""}`;
  return `${sign}${m}m${sec ? ` ${sec}s` : ""}`;
}

/** Whether v is a power of ten (1, 10, 0.01, …). */
export function isDecade(v) {
  if (!(v > 0)) return false;
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
}

/**
 * Y tick labels: on a log scale spanning two decades or more only the decades are labelled (1, 10, 100;
 * the other splits keep their grid lines), and any label closer than LABEL_GAP px to the previous one
 * is left out, so labels never stack into an unreadable column.
 */
export function yLabels(u, splits, logY) {
  const decades = logY && splits.filter(isDecade).length >= 2;
  // uPlot passes null for the splits its own filter hides.
  const labels = splits.map((v) => (v === null || v === undefined || (decades && !isDecade(v)) ? "" : formatNumber(v)));
  let last = null;
  splits.forEach((v, i) => {
    if (!labels[i]) return;
    const pos = u.valToPos(v, "y");
    if (last !== null && Math.abs(pos - last) < LABEL_GAP) labels[i] = "";
    else last = pos;
  });
  u.root.dataset.yLabels = JSON.stringify(labels.filter(Boolean));
  return labels;
}

/** Grid lines and ticks of a log scale spanning two decades or more: at the decades only (the rest is noise). */
function decadesOnly(u, splits) {
  return splits.filter(isDecade).length >= 2 ? splits.map((v) => (isDecade(v) ? v : null)) : splits;
}

/** An x range that is never empty: a single x gets a unit on either side, never below 0 for steps and relative time. */
export function xRange(xMode) {
  return (u, min, max) => {
    if (min === null || max === null) return [0, 1];
    if (min !== max) return [min, max];
    const low = xMode !== "wall" && min >= 0 ? Math.max(0, min - 1) : min - 1;
    return [low, max + 1];
  };
}

/** A linear y range: uPlot's padded one, unless the data is flat or so wide that padding would overflow. */
export function yRange(u, min, max) {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const span = max - min;
  if (!Number.isFinite(span) || Math.abs(min) > 1e15 || Math.abs(max) > 1e15) {
    const pad = Number.isFinite(span) ? span * 0.05 : 0;
    const low = min - pad;
    const high = max + pad;
    return [Number.isFinite(low) ? low : min, Number.isFinite(high) ? high : max];
  }
  return uPlot.rangeNum(min, max, 0.1, true);
}

/** The width a y axis needs for its labels (ticks, gap and the widest label). */
function ySize(u, values) {
  if (!values) return 40;
  const widest = Math.max(0, ...values.map((v) => (v ? textWidth(String(v)) : 0)));
  return Math.ceil(widest) + 14;
}

/** uPlot axes [x, y] for these options ({ xMode, logY }). */
export function chartAxes({ xMode, logY }) {
  const colors = axisColors();
  const base = {
    stroke: colors.text,
    font: FONT,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.tick, width: 1, size: 4 },
  };
  const x = { ...base, space: 70, size: xMode === "wall" ? WALL_AXIS_SIZE : 30 };
  if (xMode === "relative") x.values = (u, splits) => record(u, "xLabels", splits.map((v) => formatSeconds(v)));
  const y = { ...base, size: ySize, values: (u, splits) => yLabels(u, splits, logY) };
  if (logY) {
    y.grid = { ...base.grid, filter: decadesOnly };
    y.ticks = { ...base.ticks, filter: decadesOnly };
  } else {
    y.incrs = WIDE_INCRS;
  }
  return [x, y];
}

function record(u, name, labels) {
  u.root.dataset[name] = JSON.stringify(labels);
  return labels;
}

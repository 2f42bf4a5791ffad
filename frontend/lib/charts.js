// Line charts over uPlot for metric histories: one chart, many series (runs), each with its own x values.
//
// createChart(container, options) → { setData, setOptions, setZoom, highlight, destroy }.
// Series: [{ id, label, color, xs: number[], ys: (number|null)[] }] where xs are steps, epoch seconds
// (xMode "wall") or seconds since the series started (xMode "relative"). Non-finite values must be null.
// Optional per series: runId (highlight(runId) matches every series of that run), width (line width),
// faint (drawn thin and translucent: a group's member runs), band: { lower, upper } (a filled band
// under the line, e.g. a group's ± std or min–max; arrays parallel to xs); nan, posInf, negInf (counts of
// the values that are gaps: a chart of nothing but those says so).
// Features: log y, debiased EMA smoothing with the raw line faint behind, hover readout in an HTML
// legend (run names, values at the cursor), legend hover highlights a series, drag-to-zoom reported
// through onZoom({min, max}) and double-click reported through onResetZoom(), resize observer.
// Keyboard: the plot is focusable; + and − zoom in and out around the middle, ← → move a zoomed view,
// 0 (or Home) resets; the same onZoom / onResetZoom are reported.
// onHoverSeries(runId | id | null) reports the line nearest the pointer, onClickSeries(runId | id) a click on it.
import uPlot from "uplot";
import { formatNumber } from "./format.js";
import { chartAxes, formatSeconds, xRange, yRange } from "./chart_axes.js";
import { THEME_EVENT } from "./theme.js";

export { formatSeconds };

const PALETTE = [
  "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#4f46e5", "#059669", "#b91c1c", "#0d9488", "#9333ea", "#ca8a04", "#475569",
];

/** A stable colour for the i-th run of a page (shared by the charts and the compare view's tables). */
export function seriesColor(i) {
  return PALETTE[i % PALETTE.length];
}

/** Debiased exponential moving average (TensorBoard's): weight in [0, 1); nulls stay gaps. */
export function ema(ys, weight) {
  if (!weight) return ys;
  const out = new Array(ys.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

/** Index of the point nearest to x in sorted xs (-1 when empty). */
export function nearestIndex(xs, x) {
  let lo = 0;
  let hi = xs.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(xs[lo - 1] - x) <= Math.abs(xs[lo] - x)) return lo - 1;
  return lo;
}

function formatX(xMode, x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "";
  if (xMode === "wall") return new Date(x * 1000).toLocaleString();
  if (xMode === "relative") return formatSeconds(x);
  return `step ${Math.round(x).toLocaleString()}`;
}

function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SPARSE_POINTS = 40;
const HOVER_PX = 8; // a line this close to the pointer (CSS px) is the hovered one

export function createChart(container, initial = {}) {
  let options = {
    xMode: "step", logY: false, smoothing: 0, height: 220, onZoom: null, onResetZoom: null,
    onHoverSeries: null, onClickSeries: null, ...initial,
  };
  let series = [];
  let zoom = null; // {min, max} in x units while zoomed
  let plot = null;
  let highlighted = null;
  let frame = 0;
  let drawnRuns = []; // prepared series of the current plot (for hover hit-testing)
  let hovered = null;
  let pressedAt = null;

  const root = el("div", "mchart");
  const canvasBox = el("div", "mchart-plot");
  canvasBox.tabIndex = 0;
  canvasBox.setAttribute("role", "group");
  canvasBox.setAttribute("aria-label", "Chart: + and − zoom, ← and → move, 0 resets");
  canvasBox.addEventListener("keydown", onKey);
  let fullRange = null; // the x extent before the first zoom (zoomed data covers only the zoomed range)
  const legend = el("div", "mchart-legend");
  const legendHead = el("div", "mchart-legend-head");
  const legendRows = el("div", "mchart-legend-rows");
  const omittedNote = el("div", "mchart-omitted"); // values a log scale cannot show
  const emptyNote = el("div", "mchart-nothing"); // every value NaN or ±∞
  legend.append(legendHead, legendRows, omittedNote);
  root.append(canvasBox, emptyNote, legend);
  container.append(root);
  let rows = [];

  /** Per run: the drawn arrays (log-safe), the smoothed line, the band's edges, and the uPlot series indices. */
  function prepared() {
    const logSafe = (values) => (options.logY ? values.map((v) => (v !== null && v > 0 ? v : null)) : values);
    const smoothed = (values) => (options.smoothing ? ema(values, options.smoothing) : values);
    return series.map((s) => {
      const ys = logSafe(s.ys);
      const band = s.band ? { lower: smoothed(logSafe(s.band.lower)), upper: smoothed(logSafe(s.band.upper)) } : null;
      return { ...s, drawn: ys, smooth: options.smoothing ? ema(ys, options.smoothing) : null, bandDrawn: band };
    });
  }

  function uplotData(runs) {
    const data = [null];
    for (const r of runs) {
      if (r.smooth) data.push([r.xs, r.drawn], [r.xs, r.smooth]);
      else data.push([r.xs, r.drawn]);
    }
    return data;
  }

  function uplotSeries(runs) {
    const facets = [{ scale: "x", auto: true }, { scale: "y", auto: true }];
    const line = uPlot.paths.linear();
    const out = [{}];
    for (const r of runs) {
      // Sparse series get dots: a lone point has no line to draw.
      const points = { show: r.xs.length <= SPARSE_POINTS, size: 5, width: 1 };
      const base = { label: r.label, facets, paths: line, points, spanGaps: false };
      const stroke = r.faint ? withAlpha(r.color, 0.45) : r.color;
      const width = r.width || (r.faint ? 0.75 : 1);
      if (r.smooth) out.push({ ...base, stroke: withAlpha(r.color, 0.22), width: 1 }, { ...base, stroke, width: Math.max(width, 1.5) });
      else out.push({ ...base, stroke, width });
    }
    return out;
  }

  function build() {
    if (plot) plot.destroy();
    canvasBox.textContent = "";
    const runs = prepared();
    drawnRuns = runs;
    const width = Math.max(200, Math.floor(canvasBox.clientWidth || container.clientWidth || 600));
    const [xAxis, yAxis] = chartAxes(options);
    plot = new uPlot(
      {
        mode: 2,
        width,
        height: options.height,
        legend: { show: false },
        scales: {
          x: {
            time: options.xMode === "wall",
            auto: !zoom,
            range: xRange(options.xMode), // one x: still a visible axis
            ...(zoom ? { min: zoom.min, max: zoom.max } : {}),
          },
          y: options.logY ? { auto: true, distr: 3 } : { auto: true, distr: 1, range: yRange },
        },
        axes: [xAxis, yAxis],
        series: uplotSeries(runs),
        cursor: { y: false, drag: { x: true, y: false, setScale: false }, points: { show: false }, focus: { prox: -1 } },
        hooks: {
          setSelect: [onSelect],
          setCursor: [() => scheduleReadout()],
          drawAxes: [(u) => drawBands(u, drawnRuns)],
        },
      },
      uplotData(runs),
      canvasBox,
    );
    plot.over.addEventListener("dblclick", onDoubleClick);
    plot.over.addEventListener("mouseleave", () => {
      scheduleReadout();
      reportHover(null);
    });
    if (options.onHoverSeries || options.onClickSeries) {
      plot.over.addEventListener("mousemove", onPointerMove);
      plot.over.addEventListener("mousedown", (e) => (pressedAt = [e.clientX, e.clientY]));
      plot.over.addEventListener("click", onPointerClick);
    }
    buildLegend(runs);
    describeGaps(runs);
    if (highlighted !== null) applyHighlight();
    readout();
  }

  /**
   * Say what cannot be drawn instead of drawing nothing: values ≤ 0 left out by a log scale are
   * counted, and a chart whose every value is NaN or ±∞ says so.
   */
  function describeGaps(runs) {
    let omitted = 0;
    let points = 0;
    let finite = 0;
    const kinds = new Set();
    runs.forEach((r, i) => {
      const raw = series[i].ys;
      for (let k = 0; k < raw.length; k++) {
        points++;
        if (raw[k] === null) continue;
        finite++;
        if (r.drawn[k] === null) omitted++;
      }
      for (const kind of ["nan", "posInf", "negInf"]) if (series[i][kind]) kinds.add(kind);
    });
    omittedNote.textContent = omitted ? `${omitted.toLocaleString()} value${omitted === 1 ? "" : "s"} ≤ 0 left out (log scale)` : "";
    let nothing = "";
    if (points && !finite) {
      const names = { nan: "NaN", posInf: "∞", negInf: "−∞" };
      nothing = `All values are ${[...kinds].map((k) => names[k]).join(" or ") || "NaN or ±∞"}: nothing to draw.`;
    } else if (finite && omitted === finite) {
      nothing = "Every value is ≤ 0: a log scale cannot show them.";
    }
    emptyNote.textContent = nothing;
    root.classList.toggle("mchart-empty", Boolean(nothing));
  }

  /** Filled bands under the lines (drawn after the grid, before the series), split at gaps. */
  function drawBands(u, runs) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const r of runs) {
      if (!r.bandDrawn) continue;
      const dim = highlighted !== null && highlighted !== r.id && highlighted !== r.runId;
      ctx.fillStyle = withAlpha(r.color, dim ? 0.03 : 0.11);
      const { lower, upper } = r.bandDrawn;
      let i = 0;
      while (i < r.xs.length) {
        while (i < r.xs.length && (lower[i] === null || upper[i] === null)) i++;
        let j = i;
        while (j < r.xs.length && lower[j] !== null && upper[j] !== null) j++;
        if (j > i) {
          ctx.beginPath();
          for (let k = i; k < j; k++) {
            const x = u.valToPos(r.xs[k], "x", true);
            const y = u.valToPos(upper[k], "y", true);
            if (k === i) ctx.moveTo(x, y);
            else ctx.lineTo(x, y);
          }
          if (j - i === 1) ctx.lineTo(u.valToPos(r.xs[i], "x", true) + 1, u.valToPos(upper[i], "y", true));
          for (let k = j - 1; k >= i; k--) ctx.lineTo(u.valToPos(r.xs[k], "x", true), u.valToPos(lower[k], "y", true));
          ctx.closePath();
          ctx.fill();
        }
        i = j;
      }
    }
    ctx.restore();
  }

  /** The y of series r at x (linear between its neighbouring points), or null outside its x range. */
  function valueAt(r, x) {
    const ys = r.smooth || r.drawn;
    const xs = r.xs;
    if (!xs.length || x < xs[0] || x > xs[xs.length - 1]) return null;
    let lo = 0;
    let hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    const b = ys[lo];
    if (lo === 0 || xs[lo] === x) return b;
    const a = ys[lo - 1];
    if (a === null || b === null) return a ?? b;
    const t = (x - xs[lo - 1]) / (xs[lo] - xs[lo - 1]);
    return a + (b - a) * t;
  }

  /** The line nearest the pointer (within HOVER_PX), reported as its run id (or series id). */
  function onPointerMove(e) {
    if (!plot || plot.select.width > 0) return;
    const rect = plot.over.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const x = plot.posToVal(px, "x");
    let best = null;
    let bestDist = HOVER_PX;
    for (const r of drawnRuns) {
      const y = valueAt(r, x);
      if (y === null || y === undefined) continue;
      const dist = Math.abs(plot.valToPos(y, "y") - py);
      if (dist < bestDist) {
        bestDist = dist;
        best = r;
      }
    }
    reportHover(best ? best.runId ?? best.id : null);
  }

  function reportHover(id) {
    if (id === hovered) return;
    hovered = id;
    plot?.over.classList.toggle("mchart-pointing", id !== null && !!options.onClickSeries);
    if (options.onHoverSeries) options.onHoverSeries(id);
  }

  function onPointerClick(e) {
    const moved = pressedAt && Math.hypot(e.clientX - pressedAt[0], e.clientY - pressedAt[1]) > 3;
    pressedAt = null;
    if (!moved && hovered !== null && options.onClickSeries) options.onClickSeries(hovered);
  }

  function onSelect(u) {
    if (u.select.width < 3) return;
    const min = u.posToVal(u.select.left, "x");
    const max = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    setZoom({ min, max });
    if (options.onZoom) options.onZoom({ min, max });
  }

  function onDoubleClick() {
    if (!zoom) return;
    setZoom(null);
    if (options.onResetZoom) options.onResetZoom();
  }

  /** The x extent of the data shown before any zoom. */
  function dataRange() {
    if (fullRange) return fullRange;
    let min = Infinity;
    let max = -Infinity;
    for (const s of series) {
      for (const x of s.xs) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    return min < max ? { min, max } : null;
  }

  function zoomTo(range) {
    setZoom(range);
    if (options.onZoom) options.onZoom(range);
  }

  function onKey(e) {
    if (!plot || e.altKey || e.ctrlKey || e.metaKey) return;
    const full = dataRange();
    if (!full) return;
    const current = zoom || full;
    const span = current.max - current.min;
    const middle = (current.min + current.max) / 2;
    if (e.key === "+" || e.key === "=") {
      zoomTo({ min: middle - span / 4, max: middle + span / 4 });
    } else if (e.key === "-" || e.key === "_") {
      if (!zoom) return;
      const min = Math.max(full.min, middle - span);
      const max = Math.min(full.max, middle + span);
      if (min <= full.min && max >= full.max) onDoubleClick();
      else zoomTo({ min, max });
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && zoom) {
      const shift = Math.max(full.min - current.min, Math.min(full.max - current.max, ((e.key === "ArrowLeft" ? -1 : 1) * span) / 4));
      if (!shift) return;
      zoomTo({ min: current.min + shift, max: current.max + shift });
    } else if ((e.key === "0" || e.key === "Home") && zoom) {
      onDoubleClick();
    } else {
      return;
    }
    e.preventDefault();
  }

  function setZoom(range) {
    if (range && !zoom) fullRange = dataRange();
    if (!range) fullRange = null;
    zoom = range;
    if (!plot) return;
    if (range) plot.setScale("x", { min: range.min, max: range.max });
    else build();
  }

  function buildLegend(runs) {
    legendRows.textContent = "";
    rows = runs.map((r) => {
      const row = el("div", "mchart-legend-row");
      row.dataset.id = r.id;
      if (r.runId) {
        row.dataset.runId = r.runId;
        row.classList.add("run-hl-target");
      }
      const swatch = el("span", "mchart-swatch");
      swatch.style.background = r.color;
      const name = el("span", "mchart-name", r.label);
      name.title = r.label;
      const value = el("span", "mchart-value");
      row.append(swatch, name, value);
      row.addEventListener("mouseenter", () => highlight(r.id));
      row.addEventListener("mouseleave", () => highlight(null));
      legendRows.append(row);
      return { run: r, value };
    });
  }

  function scheduleReadout() {
    if (!frame) frame = requestAnimationFrame(readout);
  }

  /** The legend shows values at the cursor, or the last values when the cursor is away. */
  function readout() {
    frame = 0;
    if (!plot) return;
    const left = plot.cursor.left;
    const hovering = left !== null && left !== undefined && left >= 0;
    const x = hovering ? plot.posToVal(left, "x") : null;
    legendHead.textContent = hovering ? formatX(options.xMode, x) : "";
    for (const { run, value } of rows) {
      const ys = run.smooth || run.drawn;
      let i = hovering ? nearestIndex(run.xs, x) : lastIndex(ys);
      if (i < 0) {
        value.textContent = "—";
        continue;
      }
      const raw = series.find((s) => s.id === run.id);
      const v = ys[i] !== null ? ys[i] : raw ? raw.ys[i] : null;
      value.textContent = v === null || v === undefined ? "—" : formatNumber(v);
      value.title = `${formatX(options.xMode, run.xs[i])}${run.smooth ? " (smoothed)" : ""}`;
    }
  }

  function lastIndex(ys) {
    for (let i = ys.length - 1; i >= 0; i--) if (ys[i] !== null) return i;
    return ys.length - 1;
  }

  function applyHighlight() {
    if (!plot) return;
    const perRun = options.smoothing ? 2 : 1; // the raw line and its smoothed twin dim together
    const lit = (r) => highlighted === null || highlighted === r.id || (r.runId !== undefined && highlighted === r.runId);
    series.forEach((r, i) => {
      const alpha = lit(r) ? 1 : 0.15;
      for (let j = 1; j <= perRun; j++) plot.series[i * perRun + j].alpha = alpha;
    });
    for (const { run, value } of rows) value.parentElement.classList.toggle("dim", !lit(run));
    plot.redraw(false);
  }

  /** Emphasise one series (by id, or every series of a run by runId), dimming the others; null restores all. */
  function highlight(id) {
    if (id === highlighted) return;
    highlighted = id;
    applyHighlight();
  }

  function setData(next) {
    const sameShape =
      plot && next.length === series.length && next.every((s, i) => s.id === series[i].id && s.label === series[i].label);
    series = next;
    if (!sameShape) {
      build();
      return;
    }
    const runs = prepared();
    drawnRuns = runs;
    plot.setData(uplotData(runs), !zoom);
    if (zoom) plot.setScale("x", { min: zoom.min, max: zoom.max });
    rows.forEach((row, i) => (row.run = runs[i]));
    describeGaps(runs);
    readout();
  }

  function setOptions(next) {
    const rebuild = ["xMode", "logY", "smoothing", "height"].some((k) => k in next && next[k] !== options[k]);
    if ("xMode" in next && next.xMode !== options.xMode) zoom = null;
    options = { ...options, ...next };
    if (rebuild) build();
  }

  // Another theme: the canvas is redrawn in its colours (the axes read them when built).
  const onTheme = () => plot && build();
  window.addEventListener(THEME_EVENT, onTheme);

  const resizer = new ResizeObserver(() => {
    if (!plot) return;
    const width = Math.max(200, Math.floor(canvasBox.clientWidth));
    if (width !== plot.width) plot.setSize({ width, height: options.height });
  });
  resizer.observe(canvasBox);

  function destroy() {
    resizer.disconnect();
    window.removeEventListener(THEME_EVENT, onTheme);
    cancelAnimationFrame(frame);
    if (plot) plot.destroy();
    plot = null;
    root.remove();
  }

  return {
    setData,
    setOptions,
    setZoom,
    highlight,
    destroy,
    get zoom() {
      return zoom;
    },
    get plot() {
      return plot;
    },
  };
}

// One card of the experiment chart grid: the frame (drag to reorder, resize handle; both also from the
// keyboard) and the metric chart inside — a line per run through the shared history-chart machinery
// (lib/history_chart.js: lazy drawing, spike-preserving downsampling, zoom with detail, live follow), a
// line and band per group when grouping, or bars of latest values when the runs have no histories.
import { html, useEffect, useRef } from "../lib/html.js";
import { fetchGroupHistories } from "../lib/api.js";
import { navigate } from "../lib/router.js";
import { highlightRun } from "../lib/run_highlight.js";
import { SERVER_X } from "../lib/chart_settings.js";
import { canRedrawAs, chartNumbers, fetchSeries, serverRange, toChartSeries, useLazyChart } from "../lib/history_chart.js";
import { BarChart } from "../lib/bar_chart.js";
import { MAX_HEIGHT, MIN_HEIGHT } from "../lib/chart_layout.js";
import { toNumber } from "../lib/format.js";
import { groupHighlightId, toggleGroup } from "./experiment_groups.js";

const HEIGHT_STEP = 40;
const MEMBER_LIMIT = 100; // runs of expanded groups drawn as thin lines, at most

/**
 * The card frame. `move(delta)` reorders it within its section (the handle is draggable, and arrow keys
 * on it move it); `resize({w, h})` sets its size (drag the corner, or arrow keys on the corner).
 */
export function CardFrame({ id, title, size, columns, move, onDragStart, onDropOn, resize, actions, children, cardRef, extraClass = "" }) {
  const ownRef = useRef(null);
  const frameRef = cardRef || ownRef;
  const onHandleKey = (e) => {
    const delta = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[e.key];
    if (delta) {
      e.preventDefault();
      move(delta);
    }
  };
  const onResizeKey = (e) => {
    const step = {
      ArrowLeft: { w: -1, h: 0 }, ArrowRight: { w: 1, h: 0 }, ArrowUp: { w: 0, h: -HEIGHT_STEP }, ArrowDown: { w: 0, h: HEIGHT_STEP },
    }[e.key];
    if (!step) return;
    e.preventDefault();
    resize({ w: Math.max(1, Math.min(3, size.w + step.w)), h: Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, size.h + step.h)) });
  };
  const onResizePointer = (e) => {
    e.preventDefault();
    const frame = frameRef.current;
    const grid = frame.parentElement;
    const colWidth = grid.clientWidth / Math.max(1, columns);
    const start = { x: e.clientX, y: e.clientY, width: frame.clientWidth, h: size.h };
    const onMove = (ev) => {
      const w = Math.max(1, Math.min(3, Math.round((start.width + ev.clientX - start.x) / colWidth)));
      const h = Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, Math.round((start.h + ev.clientY - start.y) / 10) * 10));
      frame.style.setProperty("--preview-h", `${h}px`);
      resize({ w, h });
    };
    const onUp = () => {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
    };
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
  };
  return html`<section class=${`ec-card ${extraClass}`} ref=${frameRef} data-card=${id}
      style=${`grid-column: span ${Math.min(size.w, columns)}`} data-w=${size.w} data-h=${size.h}
      onDragOver=${(e) => e.preventDefault()} onDrop=${(e) => { e.preventDefault(); onDropOn(e); }}>
    <header class="ec-card-head">
      <button class="ec-handle" draggable="true" onDragStart=${onDragStart} onKeyDown=${onHandleKey}
        title="Drag to move (or focus and use the arrow keys)" aria-label=${`Move chart ${title}`}>⠿</button>
      <span class="mc-title" title=${title}>${title}</span>
      <span class="mc-spacer"></span>
      ${actions}
    </header>
    ${children}
    <button class="ec-resize" onPointerDown=${onResizePointer} onKeyDown=${onResizeKey}
      title="Drag to resize (or focus and use the arrow keys)" aria-label=${`Resize chart ${title}: ${size.w} columns, ${size.h} px high`}></button>
  </section>`;
}

function xsOf(xMode, xs) {
  return xMode === "step" ? xs : xs.map((x) => x / 1000); // time and relative come in ms; the chart uses s
}

/** Runs' series of one key; bars when no run has more than one point. */
async function loadRuns({ key, runs, xMode, zoom, width, signal, onlyRuns, colors }) {
  const ids = runs.map((r) => r.run_id).filter((id) => !onlyRuns || onlyRuns.has(id));
  if (!ids.length) return { series: [], note: "no runs to chart" };
  const raw = await fetchSeries({ runIds: ids, keys: [key], xMode, zoom, width, signal });
  const named = runs.map((r) => ({ run_id: r.run_id, run_name: r.info.run_name }));
  const series = toChartSeries(raw, xMode, named, [key], (id) => colors.get(id));
  const single = raw.length > 0 && raw.every((s) => s.total <= 1) && !zoom && !onlyRuns;
  if (single) {
    const byId = new Map(raw.map((s) => [s.run_id, s]));
    const bars = runs
      .filter((r) => byId.has(r.run_id) && byId.get(r.run_id).values.length)
      .map((r) => ({
        id: r.run_id,
        label: r.info.run_name || r.run_id,
        value: toNumber(byId.get(r.run_id).values[0]),
        color: colors.get(r.run_id),
        href: `#/experiments/${r.info.experiment_id}/runs/${r.run_id}`,
      }));
    return { bars, note: `latest value of ${bars.length} runs` };
  }
  const redrawAs = (mode) => (canRedrawAs(raw, xMode, mode) ? toChartSeries(raw, mode, named, [key], (id) => colors.get(id)) : null);
  return { series, partial: !!onlyRuns, redrawAs };
}

/** Groups' lines and bands of one key, plus thin lines for the runs of expanded groups. */
async function loadGroups({ key, groups, expanded, xMode, zoom, width, signal, aggregate, band, runNames }) {
  const shown = groups.filter((g) => g.runIds.length);
  if (!shown.length) return { series: [], note: "no runs to chart" };
  const body = {
    groups: shown.map((g) => ({ id: g.id, run_ids: g.runIds })),
    keys: [key],
    x: SERVER_X[xMode],
    buckets: Math.max(20, Math.min(1000, Math.round(width / 3))),
    aggregate,
    ...serverRange(xMode, zoom),
  };
  const members = shown.filter((g) => expanded.has(g.id)).flatMap((g) => g.runIds.map((id) => [id, g]));
  const [answer, raw] = await Promise.all([
    fetchGroupHistories(body, { signal }),
    members.length
      ? fetchSeries({ runIds: members.slice(0, MEMBER_LIMIT).map(([id]) => id), keys: [key], xMode, zoom, width, signal })
      : Promise.resolve([]),
  ]);
  const byId = new Map(shown.map((g) => [g.id, g]));
  const groupOf = new Map(members);
  const memberSeries = toChartSeries(raw, xMode, runNames, [key], (id) => groupOf.get(id).color).map((s) => ({ ...s, faint: true }));
  const series = [...memberSeries];
  let runsWith = 0;
  for (const s of answer.series) {
    const g = byId.get(s.group);
    if (!g || !s.x.length) continue;
    runsWith += s.runs;
    const center = s.center;
    const bands = {
      std: { lower: chartNumbers(center.map((c, i) => c - s.std[i])), upper: chartNumbers(center.map((c, i) => c + s.std[i])) },
      minmax: { lower: chartNumbers(s.min), upper: chartNumbers(s.max) },
    };
    series.push({
      id: groupHighlightId(g.id),
      runId: groupHighlightId(g.id),
      label: `${g.label} (${s.runs})`,
      color: g.color,
      width: 2,
      xs: xsOf(xMode, s.x),
      ys: chartNumbers(center),
      bands,
      band: bands[band],
      total: s.points,
      shown: s.x.length,
      counts: s.count,
    });
  }
  // Bars when no run of any group has more than one point (a metric logged once per run).
  const single = answer.series.length > 0 && answer.series.every((s) => s.points <= s.runs && s.x.length <= 1) && !zoom;
  if (single) {
    const bars = answer.series
      .filter((s) => s.x.length && byId.has(s.group))
      .map((s) => {
        const g = byId.get(s.group);
        return { id: groupHighlightId(g.id), label: `${g.label} (${s.runs})`, value: s.center[0], color: g.color, low: s.min[0], high: s.max[0] };
      });
    return { bars, note: `${aggregate} of the latest values, whiskers min–max` };
  }
  return { series, note: `${series.length - memberSeries.length} groups: ${aggregate} of ${runsWith} runs` };
}

/** A metric's chart card for the runs in view (runs), or the groups (groups, when grouping). */
export function MetricCard({ metric, runs, colors, groups, expanded, settings, aggregate, band, size, columns, frame, runExperiment }) {
  const cardRef = useRef(null);
  const plotRef = useRef(null);
  const grouped = !!groups;
  const runNames = grouped ? groups.flatMap((g) => g.runs.map((r) => ({ run_id: r.run_id, run_name: r.run_name }))) : [];
  const dataKey = grouped
    ? JSON.stringify([metric, groups.map((g) => [g.id, g.runIds]), [...expanded].sort(), aggregate])
    : JSON.stringify([metric, runs.map((r) => r.run_id)]);
  const load = ({ zoom, width, signal, onlyRuns }) =>
    grouped
      ? loadGroups({ key: metric, groups, expanded, xMode: settings.xMode, zoom, width, signal, aggregate, band, runNames })
      : loadRuns({ key: metric, runs, xMode: settings.xMode, zoom, width, signal, onlyRuns, colors });
  const openRun = (id) => {
    if (id.startsWith("group:")) {
      toggleGroup(id.slice("group:".length));
      return;
    }
    const experimentId = runExperiment.get(id);
    if (experimentId) navigate(["experiments", experimentId, "runs", id]);
  };
  const chart = useLazyChart({
    cardRef,
    plotRef,
    settings,
    dataKey,
    load,
    liveRunIds: grouped ? groups.flatMap((g) => g.runIds) : runs.map((r) => r.run_id),
    followHighlight: true,
    chartOptions: { height: size.h, onHoverSeries: highlightRun, onClickSeries: openRun },
  });
  const bandRef = useRef(band);
  useEffect(() => {
    // Another band is drawn from the numbers on screen (both bands came with them): no request.
    if (bandRef.current === band) return;
    bandRef.current = band;
    chart.restyle((s) => (s.bands ? { ...s, band: s.bands[band] } : s));
  }, [band]);
  const bandNote = !grouped || chart.bars ? "" : band === "std" ? " ± std" : band === "minmax" ? ", min–max band" : "";
  const actions = chart.zoomed && html`<button class="mc-link" onClick=${chart.resetZoom} title="Double-click the chart to reset too">Reset zoom</button>`;
  return html`<${CardFrame} ...${frame} id=${`metric:${metric}`} title=${metric} size=${size} columns=${columns} actions=${actions}
      cardRef=${cardRef} extraClass=${chart.bars ? "ec-bars" : ""}>
    <div class="mc-plot" ref=${plotRef} data-keys=${metric} style=${chart.bars ? "display:none" : `min-height:${size.h}px`}></div>
    ${chart.bars && html`<div class="ec-bar-box" style=${`max-height:${size.h + 60}px`}>
      <${BarChart} bars=${chart.bars} onHover=${highlightRun} onActivate=${openRun} />
    </div>`}
    <footer class="mc-card-foot">
      ${chart.error ? html`<span class="mc-error">${chart.error}</span>` : html`<span class="mc-note">${chart.near && chart.note ? chart.note + bandNote : ""}</span>`}
    </footer>
  <//>`;
}

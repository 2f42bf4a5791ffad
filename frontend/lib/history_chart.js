// A metric-history chart card's machinery, shared by the run page, compare and the experiment chart view:
// downsampled series from /api/mlscope/metrics/histories, a uPlot chart (lib/charts.js) created only when
// the card is near the viewport and freed when it leaves, zoom that re-requests the visible range in
// detail, live changes (lib/live.js) that re-request just the changed runs, and the shared run highlight.
import { useEffect, useRef, useState } from "./html.js";
import { fetchHistories } from "./api.js";
import { createChart, seriesColor } from "./charts.js";
import { shortId, toNumber } from "./format.js";
import { subscribe } from "./live.js";
import { highlightedRun, onRunHighlight } from "./run_highlight.js";
import { SERVER_X } from "./chart_settings.js";

const RUNS_PER_REQUEST = 100;
const NEAR_VIEWPORT = "400px 0px"; // charts this close to the screen are drawn; farther ones are freed

const POINTS_PER_CHART = 40000; // what many runs' lines share: more cannot be told apart on a card

/**
 * Points to ask for per series: two per pixel column (a first/min/max/last bucket per two columns), down
 * to one per column when many runs share a chart (a bucket per four columns: every spike is still there,
 * only its place inside those columns is approximate). Rounded to 20 so equal cards ask alike (the server
 * keeps what it reduced per request shape).
 */
export function pointsFor(width, runCount) {
  const shared = Math.floor(POINTS_PER_CHART / Math.max(1, runCount));
  const points = Math.min(5000, Math.round(width * 2), Math.max(Math.round(width), shared));
  return Math.max(100, Math.round(points / 20) * 20);
}

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A zoom range ({min, max} in chart units: steps or seconds) as the server's x_min/x_max (steps or ms). */
export function serverRange(xMode, zoom) {
  if (!zoom) return {};
  if (xMode === "step") return { x_min: Math.floor(zoom.min), x_max: Math.ceil(zoom.max) };
  return { x_min: Math.floor(zoom.min * 1000), x_max: Math.ceil(zoom.max * 1000) };
}

/** Fetch (run, key) series for a chart, in requests of at most 100 runs. */
export async function fetchSeries({ runIds, keys, xMode, zoom, width, signal }) {
  const body = { keys, x: SERVER_X[xMode], points: pointsFor(width, runIds.length), ...serverRange(xMode, zoom) };
  const answers = await Promise.all(
    chunks(runIds, RUNS_PER_REQUEST).map((ids) => fetchHistories({ ...body, run_ids: ids }, { signal })),
  );
  return answers.flatMap((a) => a.series);
}

/**
 * Whether whole-range series fetched for x axis `from` can be drawn against `to` without asking again:
 * wall and relative time are the same points; step and time are when every series' steps and timestamps
 * both never decrease (the server says so: `monotonic`). The points were reduced along the other axis,
 * so each bucket's first, min, max and last are still there (spikes survive).
 */
export function canRedrawAs(raw, from, to) {
  return (from === "step") === (to === "step") || raw.every((s) => s.monotonic);
}

/** How many of a server value list are NaN, +∞ and −∞ (they are gaps in a chart; a chart of only those says so). */
export function nonFiniteCounts(values) {
  const counts = { nan: 0, posInf: 0, negInf: 0 };
  for (const v of values) {
    const n = toNumber(v);
    if (Number.isNaN(n)) counts.nan++;
    else if (n === Infinity) counts.posInf++;
    else if (n === -Infinity) counts.negInf++;
  }
  return counts;
}

/** A server value list as chart numbers (non-finite values as gaps). */
export function chartNumbers(values) {
  return values.map((v) => {
    const n = toNumber(v);
    return Number.isFinite(n) ? n : null;
  });
}

/**
 * Server series → chart series (x in the chart's unit, non-finite values as gaps). Colours come from
 * colorOf(run_id, runIndex, keyIndex) when given, else from the page's palette by position.
 */
export function toChartSeries(raw, xMode, runs, keys, colorOf = null) {
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
    const i = runIndex.get(s.run_id) ?? 0;
    const k = keys.indexOf(s.key);
    let label = runName(s.run_id);
    if (keys.length > 1) label = runs.length > 1 ? `${label} · ${s.key}` : s.key;
    let color;
    if (colorOf) color = colorOf(s.run_id, i, Math.max(0, k));
    else color = keys.length > 1 && runs.length === 1 ? seriesColor(k) : seriesColor(i + Math.max(0, k) * 7);
    const ys = chartNumbers(s.values);
    const gaps = ys.includes(null) ? nonFiniteCounts(s.values) : {};
    return { id: `${s.run_id}\u0000${s.key}`, runId: s.run_id, label, color, xs, ys, total: s.total, shown: s.shown, ...gaps };
  });
}

export function pointsNote(series) {
  const shown = series.reduce((n, s) => n + (s.shown || 0), 0);
  const total = series.reduce((n, s) => n + (s.total || 0), 0);
  if (!total) return "no points";
  return `${shown.toLocaleString()} of ${total.toLocaleString()} points shown`;
}

/** Whether the element is near the viewport (IntersectionObserver; charts are built only then). */
export function useNearViewport(ref) {
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

/**
 * The lazily drawn chart of a card. `load({ zoom, width, signal, onlyRuns })` resolves to
 * { series, partial, note?, redrawAs? } (lines; `partial`: only the onlyRuns runs' series, merged by id;
 * the note defaults to the points shown of points in range; `redrawAs(xMode)`: the same data as series
 * for another x axis, or null when they must be fetched again) or { bars, note } (the card draws bars
 * instead of lines). `dataKey` names what is charted: a change reloads. Another x axis redraws from
 * redrawAs when it can (no request), else reloads. `liveRunIds` are re-requested when the server
 * reports them changed. With `followHighlight`, the chart highlights the run highlighted anywhere on the
 * page; chartOptions go to createChart (hover, click, height).
 */
export function useLazyChart({ cardRef, plotRef, settings, dataKey, load, liveRunIds = [], followHighlight = false, chartOptions = {} }) {
  const chartRef = useRef(null);
  const seriesRef = useRef([]);
  const zoomRef = useRef(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reloadRef = useRef(null);
  const redrawRef = useRef(null); // the last whole load's redrawAs (null after a zoom or a live merge)
  const drawRef = useRef(null); // (series, xMode) => draws them (set while the card is near the screen)
  const liveRef = useRef(liveRunIds);
  liveRef.current = liveRunIds;
  const { xMode, logY, smoothing } = settings;
  const modeRef = useRef(xMode);
  modeRef.current = xMode;
  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const near = useNearViewport(cardRef);
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  const [zoomed, setZoomed] = useState(false);
  const [bars, setBars] = useState(null);

  useEffect(() => {
    if (!near) return undefined;
    const controller = new AbortController();
    let alive = true;
    let drawnMode = null; // the x axis of the chart as built

    const ensureChart = (mode) => {
      if (chartRef.current && drawnMode === mode) return chartRef.current;
      if (chartRef.current) chartRef.current.destroy();
      drawnMode = mode;
      chartRef.current = createChart(plotRef.current, {
        ...chartOptions,
        xMode: mode,
        logY: settingsRef.current.logY,
        smoothing: settingsRef.current.smoothing,
        onZoom: (range) => {
          zoomRef.current = range;
          setZoomed(true);
          run(null);
        },
        onResetZoom: () => {
          zoomRef.current = null;
          setZoomed(false);
          run(null);
        },
      });
      if (zoomRef.current) chartRef.current.setZoom(zoomRef.current);
      if (followHighlight) chartRef.current.highlight(highlightedRun());
      return chartRef.current;
    };

    const draw = (next, mode) => {
      seriesRef.current = next;
      setBars(null);
      ensureChart(mode).setData(next);
    };

    const run = async (onlyRuns) => {
      try {
        const mode = modeRef.current;
        const width = plotRef.current ? plotRef.current.clientWidth || 600 : 600;
        const result = await loadRef.current({ zoom: zoomRef.current, width, signal: controller.signal, onlyRuns });
        if (!alive || !result || mode !== modeRef.current) return; // another x axis was chosen meanwhile
        let note = result.note;
        if (result.bars) {
          redrawRef.current = null;
          setBars(result.bars);
        } else {
          let next = result.series;
          if (onlyRuns && result.partial) {
            const byId = new Map(next.map((s) => [s.id, s]));
            next = seriesRef.current.map((s) => byId.get(s.id) || s);
            for (const s of result.series) if (!seriesRef.current.some((o) => o.id === s.id)) next.push(s);
          }
          redrawRef.current = onlyRuns || zoomRef.current ? null : result.redrawAs || null;
          draw(next, mode);
          if (note === undefined) note = pointsNote(next);
        }
        setNote(note ?? "");
        setError(null);
      } catch (err) {
        if (alive && err.name !== "AbortError") setError(err.message);
      }
    };

    reloadRef.current = run;
    drawRef.current = draw;
    run(null);
    const unsubscribe = subscribe((event) => {
      if (event.reset) return run(null);
      const changed = new Set(event.changed.filter((id) => liveRef.current.includes(id)));
      if (changed.size) run(changed);
    });
    const unfollow = followHighlight ? onRunHighlight((id) => chartRef.current && chartRef.current.highlight(id)) : () => {};
    return () => {
      alive = false;
      reloadRef.current = null;
      drawRef.current = null;
      redrawRef.current = null;
      controller.abort();
      unsubscribe();
      unfollow();
      if (chartRef.current) chartRef.current.destroy();
      chartRef.current = null;
      seriesRef.current = []; // off screen: free the data too; it is re-requested on the way back
    };
  }, [near, dataKey]);

  const firstMode = useRef(true);
  useEffect(() => {
    // Another x axis is another unit: the zoom range no longer applies. The points on screen are drawn
    // against the new axis when they can be (no request), else fetched again for it.
    if (firstMode.current) {
      firstMode.current = false;
      return;
    }
    const wasZoomed = zoomRef.current !== null;
    zoomRef.current = null;
    setZoomed(false);
    if (!drawRef.current || !reloadRef.current) return; // not drawn: the next draw fetches for the new axis
    const redraw = () => {
      if (!drawRef.current || modeRef.current !== xMode) return; // left the screen, or yet another axis
      const redrawn = !wasZoomed && redrawRef.current ? redrawRef.current(xMode) : null;
      if (redrawn) {
        drawRef.current(redrawn, xMode);
        setNote(pointsNote(redrawn));
      } else if (reloadRef.current) {
        reloadRef.current(null);
      }
    };
    // Cards on screen first; those only near it (drawn ahead of scrolling) right after the screen is painted.
    const box = cardRef.current ? cardRef.current.getBoundingClientRect() : null;
    if (!box || (box.bottom > 0 && box.top < window.innerHeight)) redraw();
    else setTimeout(redraw, 0);
  }, [xMode]);

  useEffect(() => {
    if (chartRef.current) chartRef.current.setOptions({ logY, smoothing });
  }, [logY, smoothing]);

  useEffect(() => {
    if (chartRef.current && chartOptions.height) chartRef.current.setOptions({ height: chartOptions.height });
  }, [chartOptions.height]);

  const resetZoom = () => {
    if (!chartRef.current) return;
    chartRef.current.setZoom(null);
    zoomRef.current = null;
    setZoomed(false);
    if (reloadRef.current) reloadRef.current(null);
  };

  /** Redraw the series on screen changed by `change` (e.g. another band), without a request. */
  const restyle = (change) => {
    if (!drawRef.current || !seriesRef.current.length) return false;
    drawRef.current(seriesRef.current.map(change), modeRef.current);
    return true;
  };

  return { near, note, error, zoomed, resetZoom, restyle, bars, chart: chartRef };
}

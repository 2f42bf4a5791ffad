// The compare page's box plot: a metric's latest values grouped by a param's value (one box per value:
// min, lower quartile, median, upper quartile, max), with each run as a point over its box, as MLflow's
// compare page shows it. Runs lacking the param or the metric are counted, not drawn.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { formatNumber, toNumber } from "../lib/format.js";
import { useTheme } from "../lib/theme.js";

const MISSING = "(not set)";

/** The q-quantile of sorted numbers (linear interpolation between closest ranks, as numpy's default). */
export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/**
 * Groups of runs by the param's value: [{ value, runs: [{run, y}], box: [min, q1, median, q3, max] }] in
 * natural order of the values, and how many runs were left out (no finite metric value).
 */
export function boxGroups(runs, param, metric) {
  const groups = new Map();
  let left = 0;
  for (const run of runs) {
    const y = run.metrics[metric] ? toNumber(run.metrics[metric].latest) : NaN;
    if (!Number.isFinite(y)) {
      left++;
      continue;
    }
    const value = param in run.params ? String(run.params[param]) : MISSING;
    if (!groups.has(value)) groups.set(value, []);
    groups.get(value).push({ run, y });
  }
  // Numbers in numeric order (1e-4 before 0.001), other values in natural order; "(not set)" last.
  const numeric = [...groups.keys()].every((v) => v === MISSING || Number.isFinite(Number(v)));
  const compare = numeric ? (a, b) => Number(a) - Number(b) : (a, b) => a.localeCompare(b, undefined, { numeric: true });
  const ordered = [...groups.entries()].sort(([a], [b]) => (a === MISSING) - (b === MISSING) || compare(a, b));
  return {
    left,
    groups: ordered.map(([value, members]) => {
      const ys = members.map((m) => m.y).sort((a, b) => a - b);
      return { value, runs: members, box: [ys[0], quantile(ys, 0.25), quantile(ys, 0.5), quantile(ys, 0.75), ys[ys.length - 1]] };
    }),
  };
}

function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { text: read("--muted", "#6b7280"), strong: read("--text-soft", "#374151"), grid: read("--border", "#e5e7eb"),
    accent: read("--accent", "#2563eb"), soft: read("--accent-soft", "#eff4ff") };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Box plot of `metric` per value of `param`; runColors[i] colours run i's point. */
export function BoxPlot({ runs, param, metric, runColors }) {
  const ref = useRef(null);
  const [chart, setChart] = useState(null);
  const theme = useTheme();
  const { groups, left } = useMemo(() => boxGroups(runs, param, metric), [runs, param, metric]);

  useEffect(() => {
    let instance = null;
    let observer = null;
    let live = true;
    import("echarts").then((echarts) => {
      if (!live || !ref.current) return;
      instance = echarts.init(ref.current, null, { renderer: "canvas" });
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(ref.current);
      setChart(instance);
    });
    return () => {
      live = false;
      if (observer) observer.disconnect();
      if (instance) instance.dispose();
    };
  }, []);

  useEffect(() => {
    if (!chart) return;
    const colors = themeColors();
    const colorOf = new Map(runs.map((r, i) => [r.run_id, runColors[i]]));
    const axisText = { color: colors.text, fontSize: 11, hideOverlap: true };
    chart.setOption(
      {
        animation: false,
        grid: { left: 64, right: 24, top: 16, bottom: 56 },
        xAxis: { type: "category", data: groups.map((g) => g.value), name: param, nameLocation: "middle", nameGap: 32,
          nameTextStyle: { color: colors.strong, fontSize: 12 }, axisLabel: axisText, axisLine: { lineStyle: { color: colors.text } } },
        yAxis: { type: "value", scale: true, name: metric, nameLocation: "middle", nameGap: 48, nameRotate: 90,
          nameTextStyle: { color: colors.strong, fontSize: 12 }, axisLabel: { ...axisText, formatter: (v) => formatNumber(v) },
          splitLine: { lineStyle: { color: colors.grid } } },
        tooltip: {
          trigger: "item",
          formatter: (p) =>
            p.seriesType === "boxplot"
              ? `<b>${escapeHtml(param)} = ${escapeHtml(p.name)}</b> (${groups[p.dataIndex].runs.length} runs)<br>` +
                ["min", "lower quartile", "median", "upper quartile", "max"]
                  .map((label, i) => `${label}: ${formatNumber(groups[p.dataIndex].box[i])}`).reverse().join("<br>")
              : `<b>${escapeHtml(p.data.name)}</b><br>${escapeHtml(metric)}: ${formatNumber(p.value[1])}`,
        },
        series: [
          { type: "boxplot", data: groups.map((g) => g.box),
            itemStyle: { color: colors.soft, borderColor: colors.accent }, boxWidth: ["20%", "50%"] },
          { type: "scatter", symbolSize: 7, z: 3,
            data: groups.flatMap((g, i) => g.runs.map(({ run, y }) => ({
              name: run.info.run_name || run.run_id, value: [i, y], itemStyle: { color: colorOf.get(run.run_id), opacity: 0.85 } }))) },
        ],
      },
      { notMerge: true },
    );
    ref.current.dataset.boxes = String(groups.length);
    ref.current.dataset.medians = JSON.stringify(groups.map((g) => g.box[2]));
  }, [chart, groups, runColors, theme]);

  return html`<div class="cmp-plot">
    <div class="cmp-plot-status" role="status">
      ${groups.length} value${groups.length === 1 ? "" : "s"} of ${param}${left ? ` · ${left} run${left === 1 ? "" : "s"} without a finite ${metric} left out` : ""}
    </div>
    <div class="cmp-chart cmp-box" ref=${ref}></div>
  </div>`;
}

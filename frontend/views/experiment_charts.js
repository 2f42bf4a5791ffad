// The experiment page's chart view: one chart per metric key of the runs in view (the runs table's first
// rows plus pinned runs, minus hidden ones) or of the groups when grouping, in sections by key prefix
// ("train/", "val/"), filtered by name (substring or regex), with the run page's controls (shared code:
// lib/chart_settings.js, lib/history_chart.js). Cards can be reordered and resized, sections collapsed,
// and parallel-coordinates or scatter charts added; the layout is remembered per experiment.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { setQueryParams } from "../lib/router.js";
import { ChartControls, filterChartKeys, groupKeys, useChartSettings } from "../lib/chart_settings.js";
import { inLayoutOrder, moveTo, sizeOf, useChartLayout } from "../lib/chart_layout.js";
import { runColors } from "../lib/run_colors.js";
import { MetricCard } from "./experiment_chart_card.js";
import { useExpandedGroups, useRunGroups } from "./experiment_groups.js";
import { ImportancePanel } from "./experiment_importance.js";
import { ParallelCard, ScatterCard } from "./experiment_plots.js";

const MIN_COLUMN_PX = 340;
const CUSTOM = "*custom"; // the section of added charts (metric sections are key prefixes)

/** How many grid columns fit the grid's width (1-3), kept current with a ResizeObserver. */
function useColumns(ref) {
  const [columns, setColumns] = useState(2);
  useEffect(() => {
    const observer = new ResizeObserver(() => {
      const width = ref.current ? ref.current.clientWidth : 0;
      setColumns(Math.max(1, Math.min(3, Math.floor(width / MIN_COLUMN_PX) || 1)));
    });
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, []);
  return columns;
}

/** Drag-and-drop and keyboard moves within one section, written to the layout's order. */
function frameProps(layout, update, sectionIds, id, dragRef) {
  const moveToIndex = (index) => update((l) => ({ ...l, order: moveTo(l.order, sectionIds, id, index) }));
  return {
    move: (delta) => moveToIndex(sectionIds.indexOf(id) + delta),
    onDragStart: (e) => {
      dragRef.current = { id, sectionIds };
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", id);
    },
    onDropOn: (e) => {
      const dragged = dragRef.current;
      dragRef.current = null;
      if (!dragged || dragged.id === id || !sectionIds.includes(dragged.id)) return;
      const rect = e.currentTarget.getBoundingClientRect();
      const after = e.clientX > rect.left + rect.width / 2;
      const target = sectionIds.filter((x) => x !== dragged.id).indexOf(id) + (after ? 1 : 0);
      update((l) => ({ ...l, order: moveTo(l.order, sectionIds, dragged.id, target) }));
    },
    resize: (size) => update((l) => ({ ...l, sizes: { ...l.sizes, [id]: size } })),
  };
}

function Section({ id, title, count, collapsed, onToggle, children }) {
  return html`<div class="mc-group ec-section" data-section=${id}>
    <button class="mc-group-head" aria-expanded=${!collapsed} onClick=${onToggle}>
      <span class="mc-caret">${collapsed ? "▸" : "▾"}</span>${title}
      <span class="mc-count">${count}</span>
    </button>
    ${!collapsed && children}
  </div>`;
}

function ChartGrid({ experimentIds, settings, state, metricKeys, runs, colors, groups, importanceRunIds, runExperiment, summary }) {
  const [layout, update] = useChartLayout(experimentIds);
  const gridRef = useRef(null);
  const dragRef = useRef(null);
  const columns = useColumns(gridRef);
  const expanded = useExpandedGroups();
  const filtered = useMemo(() => filterChartKeys(metricKeys, settings.search, settings.regex), [metricKeys, settings.search, settings.regex]);
  const sections = useMemo(() => groupKeys(filtered.keys), [filtered.keys]);
  const chartSettings = { xMode: settings.xMode, logY: settings.logY, smoothing: settings.smoothing };
  const collapsed = new Set(layout.collapsed);
  const toggleSection = (name) =>
    update((l) => ({ ...l, collapsed: l.collapsed.includes(name) ? l.collapsed.filter((c) => c !== name) : [...l.collapsed, name] }));
  const addChart = (item) => update((l) => ({ ...l, extra: [...l.extra, item] }));
  const changeChart = (item) => update((l) => ({ ...l, extra: l.extra.map((x) => (x.id === item.id ? item : x)) }));
  const removeChart = (id) => update((l) => ({ ...l, extra: l.extra.filter((x) => x.id !== id) }));
  const newId = (type) => `${type}:${Date.now().toString(36)}`;
  const importanceOpen = !!state.importance;
  const importanceMetric = metricKeys.includes(state.importance) ? state.importance : metricKeys[0];

  const customIds = inLayoutOrder(layout.extra.map((x) => x.id), layout.order);
  const extraById = new Map(layout.extra.map((x) => [x.id, x]));
  const plotRuns = groups ? [] : runs;

  return html`<div class="metric-charts ec-charts" ref=${gridRef}>
    <${ChartControls} settings=${settings} error=${filtered.error}>
      <span class="ec-add" role="group" aria-label="Add a chart">
        <button class="mc-button" disabled=${!!groups} title=${groups ? "Shows runs, not groups: turn grouping off" : "Add a parallel-coordinates chart of params and metrics"}
          onClick=${() => addChart({ id: newId("parallel"), type: "parallel", axes: [] })}>+ Parallel coordinates</button>
        <button class="mc-button" disabled=${!!groups} title=${groups ? "Shows runs, not groups: turn grouping off" : "Add a scatter chart of two params or metrics"}
          onClick=${() => addChart({ id: newId("scatter"), type: "scatter" })}>+ Scatter</button>
        <button class=${`mc-button${importanceOpen ? " on" : ""}`} aria-pressed=${importanceOpen} disabled=${!metricKeys.length}
          onClick=${() => setQueryParams({ importance: importanceOpen ? undefined : importanceMetric })}>Param importance</button>
      </span>
    <//>
    ${summary && html`<div class="muted small ec-summary" role="status">${summary}</div>`}
    ${importanceOpen && importanceMetric &&
    html`<${ImportancePanel} metric=${importanceMetric} metricKeys=${metricKeys} runIds=${importanceRunIds}
      onAddScatter=${(x, y) => addChart({ id: newId("scatter"), type: "scatter", x, y })} />`}
    ${customIds.length > 0 &&
    html`<${Section} id=${CUSTOM} title="Custom charts" count=${customIds.length} collapsed=${collapsed.has(CUSTOM)} onToggle=${() => toggleSection(CUSTOM)}>
      <div class="ec-grid" style=${`--cols:${columns}`}>
        ${customIds.map((id) => {
          const item = extraById.get(id);
          const props = {
            key: id, item, runs: plotRuns, colors, size: sizeOf(layout, id), columns,
            frame: frameProps(layout, update, customIds, id, dragRef), onChange: changeChart, onRemove: () => removeChart(id),
          };
          return item.type === "parallel" ? html`<${ParallelCard} ...${props} />` : html`<${ScatterCard} ...${props} />`;
        })}
      </div>
    <//>`}
    ${!metricKeys.length && html`<div class="mc-empty">${groups ? "The grouped runs" : "The runs in view"} have no metrics.</div>`}
    ${metricKeys.length > 0 && !filtered.keys.length && html`<div class="mc-empty">No chart matches “${settings.search}”.</div>`}
    ${sections.map(([prefix, keys]) => {
      const ids = inLayoutOrder(keys.map((k) => `metric:${k}`), layout.order);
      return html`<${Section} key=${prefix} id=${prefix} title=${prefix || "Metrics"} count=${keys.length}
          collapsed=${collapsed.has(prefix)} onToggle=${() => toggleSection(prefix)}>
        <div class="ec-grid" style=${`--cols:${columns}`}>
          ${ids.map((id) => {
            const metric = id.slice("metric:".length);
            return html`<${MetricCard} key=${id} metric=${metric} runs=${runs} colors=${colors} groups=${groups} expanded=${expanded}
              settings=${chartSettings} aggregate=${state.aggregate} band=${state.band} size=${sizeOf(layout, id)} columns=${columns}
              frame=${frameProps(layout, update, ids, id, dragRef)} runExperiment=${runExperiment} />`;
          })}
        </div>
      <//>`;
    })}
  </div>`;
}

/** Charts of the runs in view (chartRuns: the first rows of the table's query plus pinned runs). */
function RunCharts({ experimentIds, state, chartRuns, settings }) {
  const hidden = new Set(state.hidden);
  const runs = useMemo(() => (chartRuns.runs || []).filter((r) => !hidden.has(r.run_id)), [chartRuns.runs, state.hidden.join(",")]);
  const colors = runColors(runs.map((r) => r.run_id));
  const runExperiment = new Map(runs.map((r) => [r.run_id, r.info.experiment_id]));
  if (chartRuns.error) return html`<div class="error-box" role="alert">Could not load the runs to chart: ${chartRuns.error}</div>`;
  if (!chartRuns.runs) return html`<div class="muted pad">Loading charts…</div>`;
  if (!chartRuns.runs.length) return html`<div class="mc-empty">No runs match the table's filter.</div>`;
  const metricKeys = chartRuns.metricKeys.filter((k) => runs.some((r) => k in r.metrics));
  return html`<${ChartGrid} experimentIds=${experimentIds} settings=${settings} state=${state} metricKeys=${metricKeys}
    runs=${runs} colors=${colors} groups=${null} importanceRunIds=${runs.map((r) => r.run_id)} runExperiment=${runExperiment} />`;
}

/** Charts of the groups (a line and band per group) when grouping. */
function GroupCharts({ experimentIds, query, state, settings }) {
  const result = useRunGroups(query, state);
  const groups = useMemo(
    () =>
      (result.groups || []).map((g) => ({
        ...g,
        runIds: g.runs.filter((r) => !r.hidden).map((r) => r.run_id),
      })),
    [result.groups],
  );
  if (result.error) return html`<div class="error-box" role="alert">Could not group the runs: ${result.error}</div>`;
  if (!result.groups) return html`<div class="muted pad">Grouping runs…</div>`;
  if (!groups.length) return html`<div class="mc-empty">No runs to group.</div>`;
  const runExperiment = new Map(groups.flatMap((g) => g.runs.map((r) => [r.run_id, r.experiment_id])));
  const memberIds = groups.flatMap((g) => g.runIds);
  const summary = `${groups.length} groups of ${result.grouped.toLocaleString()} runs${result.truncated ? ` (the first ${result.grouped.toLocaleString()} of ${result.total.toLocaleString()} matching)` : ""}; click a group's line to show its runs.`;
  return html`<${ChartGrid} experimentIds=${experimentIds} settings=${settings} state=${state} metricKeys=${result.metricKeys}
    runs=${[]} colors=${new Map()} groups=${groups} importanceRunIds=${memberIds} runExperiment=${runExperiment} summary=${summary} />`;
}

export function ExperimentCharts({ experimentIds, query, state, chartRuns }) {
  const settings = useChartSettings();
  if (state.groupBy.length) return html`<${GroupCharts} experimentIds=${experimentIds} query=${query} state=${state} settings=${settings} />`;
  return html`<${RunCharts} experimentIds=${experimentIds} state=${state} chartRuns=${chartRuns} settings=${settings} />`;
}

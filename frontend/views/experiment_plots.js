// Parallel-coordinates and scatter cards the user adds to the experiment chart grid: the compare page's
// components (views/compare_plots.js) over the runs in view, with their axes kept in the grid's layout.
import { html, useMemo, useState } from "../lib/html.js";
import { dimensionsOf, KeyPicker, ParallelCoordinates, ScatterPlot } from "./compare_plots.js";
import { CardFrame } from "./experiment_chart_card.js";

/** Default parallel axes: params that differ between the runs (up to 5), then the first metric. */
export function defaultAxes(runs, dims) {
  const differs = (d) => new Set(runs.map((r) => (d.kind === "params" ? r.params[d.key] : r.metrics[d.key]?.latest))).size > 1;
  const params = dims.filter((d) => d.kind === "params" && differs(d)).slice(0, 5);
  const metric = dims.find((d) => d.kind === "metrics");
  return [...params, ...(metric ? [metric] : [])].map((d) => d.id);
}

export function ParallelCard({ item, runs, colors, size, columns, frame, onChange, onRemove }) {
  const dims = useMemo(() => dimensionsOf(runs), [runs]);
  const axes = (item.axes && item.axes.length ? item.axes : defaultAxes(runs, dims)).filter((id) => dims.some((d) => d.id === id));
  const [brushed, setBrushed] = useState(null);
  const runColors = runs.map((r) => colors.get(r.run_id));
  const actions = html`
    <${KeyPicker} label="Axes" options=${dims} selected=${axes} onChange=${(next) => onChange({ ...item, axes: next })} max=${30} />
    <button class="mc-link" onClick=${onRemove} aria-label="Remove this chart">Remove</button>`;
  return html`<${CardFrame} ...${frame} id=${item.id} title="Parallel coordinates" size=${size} columns=${columns} actions=${actions} extraClass="ec-plot">
    <div class="ec-plot-box" style=${`height:${size.h + 60}px`}>
      ${runs.length && axes.length
        ? html`<${ParallelCoordinates} runs=${runs} dims=${dims} axes=${axes} colorMetric=${null} runColors=${runColors}
            brushed=${brushed} onBrush=${setBrushed} />`
        : html`<div class="muted pad">No params or metrics to draw.</div>`}
    </div>
  <//>`;
}

function DimSelect({ label, dims, value, onChange }) {
  return html`<label class="mc-control">${label}
    <select value=${value || ""} onChange=${(e) => onChange(e.currentTarget.value)} aria-label=${`Scatter ${label}`}>
      ${dims.map((d) => html`<option value=${d.id}>${d.kind === "params" ? "param" : "metric"} ${d.key}</option>`)}
    </select>
  </label>`;
}

export function ScatterCard({ item, runs, colors, size, columns, frame, onChange, onRemove }) {
  const dims = useMemo(() => dimensionsOf(runs), [runs]);
  const has = (id) => dims.some((d) => d.id === id);
  const x = has(item.x) ? item.x : (dims.find((d) => d.kind === "params") || dims[0] || {}).id;
  const y = has(item.y) ? item.y : (dims.find((d) => d.kind === "metrics") || dims[1] || {}).id;
  const runColors = runs.map((r) => colors.get(r.run_id));
  const actions = html`
    <${DimSelect} label="x" dims=${dims} value=${x} onChange=${(v) => onChange({ ...item, x: v, y })} />
    <${DimSelect} label="y" dims=${dims} value=${y} onChange=${(v) => onChange({ ...item, x, y: v })} />
    <button class="mc-link" onClick=${onRemove} aria-label="Remove this chart">Remove</button>`;
  return html`<${CardFrame} ...${frame} id=${item.id} title="Scatter" size=${size} columns=${columns} actions=${actions} extraClass="ec-plot">
    <div class="ec-plot-box" style=${`height:${size.h + 60}px`}>
      ${x && y ? html`<${ScatterPlot} runs=${runs} dims=${dims} x=${x} y=${y} runColors=${runColors} brushed=${null} />`
        : html`<div class="muted pad">No params or metrics to plot.</div>`}
    </div>
  <//>`;
}

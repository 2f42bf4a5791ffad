// Compare runs side by side (#/compare-runs?runs=[...]&experiments=[...], MLflow's URL shape): the diff table,
// overlaid metric histories, parallel coordinates, a scatter and a box plot. Every choice the user would want
// to share (runs, diff toggle, row search, best direction, charted metrics, axes, colour, scatter axes, box
// plot param and metric) is in the URL.
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { useDismiss } from "../lib/use_dismiss.js";
import { compareRuns, mlflowSearchRuns } from "../lib/api.js";
import { runColors } from "../lib/run_colors.js";
import { shortId } from "../lib/format.js";
import { usePageTitle } from "../lib/page_title.js";
import { hrefFor, listParam, setQueryParams } from "../lib/router.js";
import { buildRows, CompareTable, defaultBest, downloadCSV, parseBest, visibleRows } from "./compare_table.js";
import { dimensionsOf, KeyPicker, ParallelCoordinates, ScatterPlot } from "./compare_plots.js";
import { BoxPlot } from "./compare_box.js";
import { MetricCharts } from "./metric_charts.js";
import { useLive } from "./use_live.js";

const MAX_RUNS = 500;
const NO_COLOR = "-";
const NONE = "-"; // an explicit empty choice in a URL list (an absent list means "the defaults")

/** Comparison entries by run id, fetching only ids not fetched yet (adding a run costs one small request),
 *  and re-fetching the compared runs the server reports as changed (live runs keep their columns current). */
function useComparison(runIds) {
  const [state, setState] = useState({ entries: new Map(), error: null, loading: false });
  const key = runIds.join(",");
  const fetchRuns = (ids, signal) => {
    setState((s) => ({ ...s, loading: true, error: null }));
    return compareRuns(ids, { signal })
      .then((body) =>
        setState((s) => {
          const entries = new Map(s.entries);
          for (const entry of body.runs) entries.set(entry.run_id, entry);
          return { entries, error: null, loading: false };
        }),
      )
      .catch((err) => err.name !== "AbortError" && setState((s) => ({ ...s, loading: false, error: err.message })));
  };
  useEffect(() => {
    const missing = runIds.filter((id) => !state.entries.has(id));
    if (!missing.length) return undefined;
    const controller = new AbortController();
    fetchRuns(missing, controller.signal);
    return () => controller.abort();
  }, [key]);
  useLive((event) => {
    const changed = event.reset ? runIds : runIds.filter((id) => event.changed.includes(id));
    if (changed.length) fetchRuns(changed);
  });
  return state;
}

/** The URL's view state, with defaults (diff on for more than two runs). */
function viewState(query, runCount) {
  const diff = query.get("diff");
  return {
    diffOnly: diff === null ? runCount > 2 : diff === "1",
    stats: query.get("stats") !== "0",
    q: query.get("q") || "",
    best: parseBest(listParam(query, "best")),
    metrics: query.has("metrics") ? listParam(query, "metrics") : null,
    axes: query.has("axes") ? listParam(query, "axes") : null,
    color: query.get("color"),
    x: query.get("x"),
    y: query.get("y"),
    boxParam: query.get("box_param"),
    boxMetric: query.get("box_metric"),
  };
}

/** Sensible first choices when the URL has none: params that differ, then metrics. */
function defaults(runs, dims) {
  const differs = (dim) => new Set(runs.map((r) => JSON.stringify(dim.kind === "params" ? r.params[dim.key] : r.metrics[dim.key]?.latest))).size > 1;
  const params = dims.filter((d) => d.kind === "params" && differs(d));
  const metrics = dims.filter((d) => d.kind === "metrics");
  const metricKeys = metrics.map((d) => d.key);
  const stepped = metricKeys.filter((k) => runs.some((r) => r.metrics[k] && r.metrics[k].count > 1));
  const color = metricKeys.find((k) => defaultBest(k) === "min") || metricKeys[0] || null;
  return {
    metrics: (stepped.length ? stepped : metricKeys).slice(0, 3),
    axes: [...params.slice(0, 5), ...metrics.filter((d) => d.key === color), ...metrics.filter((d) => d.key !== color).slice(0, 1)].map((d) => d.id),
    color,
    x: (params[0] || dims[0] || {}).id || null,
    y: color ? `metrics.${color}` : (dims[1] || {}).id || null,
    boxParam: (params[0] || dims.find((d) => d.kind === "params") || {}).key || null,
    boxMetric: color,
  };
}

/** A string literal for MLflow's filter grammar (quoted with whichever quote the text does not use). */
function quoted(text) {
  if (!text.includes("'")) return `'${text}'`;
  return `"${text.replace(/"/g, "")}"`;
}

function AddRun({ runIds, experimentIds, onAdd }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [found, setFound] = useState({ runs: [], error: null });
  const box = useDismiss(open, () => setOpen(false));
  useEffect(() => {
    if (!open || !experimentIds.length) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const body = { experiment_ids: experimentIds, max_results: 30, order_by: ["attributes.start_time DESC"] };
      const needle = text.trim();
      if (needle) body.filter = `attributes.run_name ILIKE ${quoted(`%${needle}%`)}`;
      mlflowSearchRuns(body, { signal: controller.signal })
        .then((res) => setFound({ runs: (res.runs || []).map((r) => r.info), error: null }))
        .catch((err) => err.name !== "AbortError" && setFound({ runs: [], error: err.message }));
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [open, text, experimentIds.join(",")]);
  const candidates = found.runs.filter((r) => !runIds.includes(r.run_id));
  const pasted = /^[0-9a-f]{32}$/i.test(text.trim()) && !runIds.includes(text.trim().toLowerCase());
  return html`<div class="cmp-add" ref=${box}>
    <button class="btn" onClick=${() => setOpen(!open)} aria-expanded=${open} disabled=${runIds.length >= MAX_RUNS}>+ Add run</button>
    ${open &&
    html`<div class="cmp-add-menu" role="dialog" aria-label="Add a run">
      <input class="input" placeholder="Run name, or paste a run id" value=${text} autofocus
        onInput=${(e) => setText(e.currentTarget.value)} aria-label="Find a run to add" />
      ${pasted && html`<button class="cmp-add-item" onClick=${() => onAdd(text.trim().toLowerCase(), null)}>Add run id <code>${shortId(text.trim())}</code></button>`}
      ${found.error && html`<div class="error-box">${found.error}</div>`}
      <div class="cmp-add-list">
        ${candidates.map(
          (r) => html`<button class="cmp-add-item" key=${r.run_id} onClick=${() => onAdd(r.run_id, r.experiment_id)}>
            <span class="cmp-add-name">${r.run_name || shortId(r.run_id)}</span><span class="muted mono">${shortId(r.run_id)}</span>
          </button>`,
        )}
        ${!candidates.length && !found.error && html`<div class="muted pad">No other runs${text.trim() ? " match" : ""}.</div>`}
      </div>
    </div>`}
  </div>`;
}

function Missing({ entries, onRemove }) {
  if (!entries.length) return null;
  return html`<div class="cmp-missing" role="alert">
    ${entries.length} run${entries.length === 1 ? "" : "s"} could not be loaded:
    ${entries.map((e) => html` <code title=${e.message}>${shortId(e.run_id)}</code>`)}
    <button class="link-btn" onClick=${() => onRemove(entries.map((e) => e.run_id))}>Remove from the comparison</button>
  </div>`;
}

function Section({ id, title, actions, children }) {
  return html`<section class="cmp-section-block" id=${id}>
    <header class="cmp-section-head"><h2>${title}</h2><div class="cmp-actions">${actions}</div></header>
    ${children}
  </section>`;
}

function DimSelect({ label, dims, value, onChange, allowNone }) {
  return html`<label class="cmp-control">${label}
    <select class="input" value=${value || ""} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${allowNone && html`<option value=${NO_COLOR}>run colours</option>`}
      ${dims.map((d) => html`<option value=${d.id}>${d.kind === "params" ? "param" : "metric"} · ${d.key}</option>`)}
    </select>
  </label>`;
}

export function CompareView({ route }) {
  const runIds = useMemo(() => [...new Set(listParam(route.query, "runs"))], [route.query.get("runs")]);
  const urlExperiments = listParam(route.query, "experiments");
  const { entries, error, loading } = useComparison(runIds);
  usePageTitle(`Compare ${runIds.length} run${runIds.length === 1 ? "" : "s"}`);
  const [brushed, setBrushed] = useState(null);

  const runs = useMemo(
    () => runIds.map((id) => entries.get(id)).filter((e) => e && !e.error_code),
    [runIds.join(","), entries],
  );
  const failed = runIds.map((id) => entries.get(id)).filter((e) => e && e.error_code);
  const view = viewState(route.query, runIds.length);
  // Each run's one colour (the experiment page's table and charts use the same).
  const colorMap = useMemo(() => runColors(runs.map((r) => r.run_id)), [runs.map((r) => r.run_id).join(",")]);
  const colors = useMemo(() => runs.map((r) => colorMap.get(r.run_id)), [colorMap]);
  const dims = useMemo(() => dimensionsOf(runs), [runs]);
  const fallback = useMemo(() => defaults(runs, dims), [runs, dims]);
  const allRows = useMemo(() => buildRows(runs, view.best), [runs, route.query.get("best")]);
  const rows = useMemo(() => visibleRows(allRows, { diffOnly: view.diffOnly, stats: view.stats, query: view.q }), [allRows, view.diffOnly, view.stats, view.q]);
  const chartRuns = useMemo(() => runs.map((r) => ({ run_id: r.run_id, run_name: r.info.run_name })), [runs]);
  const experimentIds = useMemo(
    () => [...new Set([...urlExperiments, ...runs.map((r) => r.info.experiment_id)])],
    [route.query.get("experiments"), runs],
  );

  const metricKeys = dims.filter((d) => d.kind === "metrics").map((d) => d.key);
  const chartKeys = (view.metrics ?? fallback.metrics).filter((k) => metricKeys.includes(k));
  const axes = (view.axes ?? fallback.axes).filter((id) => dims.some((d) => d.id === id));
  const colorMetric = view.color === NO_COLOR ? null : view.color && metricKeys.includes(view.color) ? view.color : fallback.color;
  const x = view.x && dims.some((d) => d.id === view.x) ? view.x : fallback.x;
  const y = view.y && dims.some((d) => d.id === view.y) ? view.y : fallback.y;
  const paramKeys = dims.filter((d) => d.kind === "params").map((d) => d.key);
  const boxParam = view.boxParam && paramKeys.includes(view.boxParam) ? view.boxParam : fallback.boxParam;
  const boxMetric = view.boxMetric && metricKeys.includes(view.boxMetric) ? view.boxMetric : fallback.boxMetric;

  const setRuns = (ids, extraExperiment) => {
    const kept = new Set(ids);
    const exps = runs.filter((r) => kept.has(r.run_id)).map((r) => r.info.experiment_id);
    if (extraExperiment) exps.push(extraExperiment);
    setBrushed(null);
    setQueryParams({ runs: ids, experiments: [...new Set(exps.length ? exps : urlExperiments)] });
  };
  const remove = (idOrIds) => {
    const drop = new Set(Array.isArray(idOrIds) ? idOrIds : [idOrIds]);
    setRuns(runIds.filter((id) => !drop.has(id)));
  };
  const add = (id, experimentId) => setRuns([...runIds, id], experimentId);
  const setBest = (key, dir) => {
    const next = new Map(view.best);
    if (dir === defaultBest(key)) next.delete(key);
    else next.set(key, dir);
    setQueryParams({ best: [...next].map(([k, d]) => `${k}:${d}`) });
  };

  if (!runIds.length) {
    return html`<div class="page-message"><h2>No runs to compare</h2>
      <p>Select runs in a runs table and press <strong>Compare</strong>.</p><p><a href=${hrefFor(["experiments"])}>Go to experiments</a></p></div>`;
  }
  if (runIds.length > MAX_RUNS) {
    return html`<div class="page-message"><h2>Too many runs</h2><p>mlscope compares at most ${MAX_RUNS} runs at once; this link has ${runIds.length}.</p></div>`;
  }
  const backHref =
    experimentIds.length === 1 ? hrefFor(["experiments", experimentIds[0]]) : hrefFor(["compare-experiments"], { experiments: experimentIds });
  const experimentCount = new Set(runs.map((r) => r.info.experiment_id)).size;

  return html`<div class="compare" data-loading=${loading ? "1" : "0"}>
    <header class="cmp-top">
      <a class="cmp-back" href=${backHref}>← Runs</a>
      <h1>Comparing ${runs.length} run${runs.length === 1 ? "" : "s"}${experimentCount > 1 ? ` from ${experimentCount} experiments` : ""}</h1>
      ${loading && html`<span class="muted">Loading…</span>`}
      <span class="spacer"></span>
      <nav class="cmp-jump">
        <a href="#/compare-runs" onClick=${jump("cmp-table")}>Table</a>
        <a href="#/compare-runs" onClick=${jump("cmp-charts")}>Charts</a>
        <a href="#/compare-runs" onClick=${jump("cmp-parallel")}>Parallel coordinates</a>
        <a href="#/compare-runs" onClick=${jump("cmp-scatter")}>Scatter</a>
        <a href="#/compare-runs" onClick=${jump("cmp-box")}>Box plot</a>
      </nav>
      <${AddRun} runIds=${runIds} experimentIds=${experimentIds} onAdd=${add} />
    </header>
    ${error && html`<div class="error-box">Could not load the comparison: ${error}</div>`}
    <${Missing} entries=${failed} onRemove=${remove} />
    ${runs.length > 0 &&
    html`
      <${Section} id="cmp-table" title="Side by side" actions=${html`
        <input class="input cmp-search" type="search" placeholder="Search rows…" value=${view.q} aria-label="Search rows"
          onInput=${(e) => setQueryParams({ q: e.currentTarget.value })} />
        <label class="cmp-control"><input type="checkbox" checked=${view.diffOnly} aria-label="Only differences"
          onChange=${(e) => setQueryParams({ diff: e.currentTarget.checked ? "1" : "0" })} /> Only differences</label>
        <label class="cmp-control"><input type="checkbox" checked=${view.stats} aria-label="History min, max, last"
          onChange=${(e) => setQueryParams({ stats: e.currentTarget.checked ? undefined : "0" })} /> History min/max/last</label>
        <button class="btn" onClick=${() => downloadCSV(runs, rows)}>Export CSV</button>`}>
        <${CompareTable} runs=${runs} rows=${rows} colors=${colors} brushed=${brushed} onRemove=${remove} onBest=${setBest} />
        <div class="cmp-legend muted">
          <span class="cmp-key diff">differs</span> values that differ from the row's majority (all values when there is none) ·
          <span class="cmp-key best">★ best</span> of each metric row (switch ↓ min / ↑ max per metric) · click a row with long values to expand it
        </div>
      <//>
      <${Section} id="cmp-charts" title="Metric histories" actions=${html`
        <${KeyPicker} label="Metrics" options=${dims.filter((d) => d.kind === "metrics")} selected=${chartKeys.map((k) => `metrics.${k}`)}
          onChange=${(ids) => setQueryParams({ metrics: ids.length ? ids.map((id) => id.slice("metrics.".length)) : [NONE] })} max=${24} />`}>
        ${chartKeys.length
          ? html`<${MetricCharts} runs=${chartRuns} metricKeys=${chartKeys} colors=${colorMap} />`
          : html`<div class="muted pad">${metricKeys.length ? "Pick metrics to chart." : "These runs logged no metrics."}</div>`}
      <//>
      <${Section} id="cmp-parallel" title="Parallel coordinates" actions=${html`
        <${KeyPicker} label="Axes" options=${dims} selected=${axes} onChange=${(ids) => setQueryParams({ axes: ids.length ? ids : [NONE] })} max=${30} />
        <${DimSelect} label="Colour by" dims=${dims.filter((d) => d.kind === "metrics")} value=${colorMetric ? colorMetric && `metrics.${colorMetric}` : NO_COLOR}
          allowNone=${true} onChange=${(v) => setQueryParams({ color: v === NO_COLOR ? NO_COLOR : v.slice("metrics.".length) })} />
        ${brushed && html`<button class="btn" onClick=${() => setRuns(runIds.filter((id) => brushed.has(id)))}>Compare only these ${brushed.size}</button>`}`}>
        ${axes.length
          ? html`<${ParallelCoordinates} runs=${runs} dims=${dims} axes=${axes} colorMetric=${colorMetric} runColors=${colors} brushed=${brushed} onBrush=${setBrushed} />`
          : html`<div class="muted pad">Pick axes (params and metrics) to draw.</div>`}
      <//>
      <${Section} id="cmp-scatter" title="Scatter" actions=${html`
        <${DimSelect} label="X" dims=${dims} value=${x} onChange=${(v) => setQueryParams({ x: v })} />
        <${DimSelect} label="Y" dims=${dims} value=${y} onChange=${(v) => setQueryParams({ y: v })} />`}>
        ${x && y ? html`<${ScatterPlot} runs=${runs} dims=${dims} x=${x} y=${y} runColors=${colors} brushed=${brushed} />` : html`<div class="muted pad">These runs have no params or metrics to plot.</div>`}
      <//>
      <${Section} id="cmp-box" title="Box plot" actions=${html`
        <${DimSelect} label="Param" dims=${dims.filter((d) => d.kind === "params")} value=${boxParam && `params.${boxParam}`}
          onChange=${(v) => setQueryParams({ box_param: v.slice("params.".length) })} />
        <${DimSelect} label="Metric" dims=${dims.filter((d) => d.kind === "metrics")} value=${boxMetric && `metrics.${boxMetric}`}
          onChange=${(v) => setQueryParams({ box_metric: v.slice("metrics.".length) })} />`}>
        ${boxParam && boxMetric
          ? html`<${BoxPlot} runs=${runs} param=${boxParam} metric=${boxMetric} runColors=${colors} />`
          : html`<div class="muted pad">A box plot needs a param and a metric; these runs lack ${boxParam ? "metrics" : "params"}.</div>`}
      <//>
    `}
  </div>`;
}

function jump(id) {
  return (e) => {
    e.preventDefault();
    const el = document.getElementById(id);
    if (el) el.scrollIntoView({ behavior: "smooth", block: "start" });
  };
}

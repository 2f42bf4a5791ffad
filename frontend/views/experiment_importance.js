// Param importance for one metric over the runs in view (importance=<metric> in the URL): params ranked by
// the share of the runs' ranking on the metric they explain on their own (server: analysis/importance.py),
// with Spearman's rank correlation for numeric params; runs without the metric are left out and counted.
import { html, useEffect, useState } from "../lib/html.js";
import { fetchParamImportance } from "../lib/api.js";
import { setQueryParams } from "../lib/router.js";

function Bar({ value, signed = false }) {
  if (value === null || value === undefined) return html`<span class="muted">—</span>`;
  const pct = Math.round(Math.abs(value) * 100);
  const cls = signed ? (value < 0 ? "neg" : "pos") : "imp";
  return html`<span class="imp-cell">
    <span class=${`imp-bar ${cls}`} style=${`width:${Math.max(1, pct)}%`}></span>
    <span class="imp-num">${signed && value > 0 ? "+" : ""}${value.toFixed(2)}</span>
  </span>`;
}

export function ImportancePanel({ metric, metricKeys, runIds, onAddScatter }) {
  const [state, setState] = useState({ result: null, error: null, loading: true });
  const idsKey = runIds.join(",");
  useEffect(() => {
    if (!metric || !runIds.length) return undefined;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fetchParamImportance({ run_ids: runIds, metric }, { signal: controller.signal })
      .then((result) => setState({ result, error: null, loading: false }))
      .catch((err) => err.name !== "AbortError" && setState({ result: null, error: err.message, loading: false }));
    return () => controller.abort();
  }, [metric, idsKey]);
  const { result } = state;
  return html`<section class="importance" aria-label="Parameter importance">
    <header class="importance-head">
      <strong>Parameter importance</strong>
      <label class="mc-control">for
        <select value=${metric} aria-label="Importance metric" onChange=${(e) => setQueryParams({ importance: e.currentTarget.value })}>
          ${metricKeys.map((k) => html`<option value=${k}>${k}</option>`)}
        </select>
      </label>
      <span class="mc-spacer"></span>
      ${result && html`<span class="muted small" role="status">${result.used} runs used${result.missing ? `, ${result.missing} left out (no value of ${result.metric})` : ""}</span>`}
      <button class="btn-icon" aria-label="Close parameter importance" onClick=${() => setQueryParams({ importance: undefined })}>✕</button>
    </header>
    ${state.error && html`<div class="error-box">${state.error}</div>`}
    ${result && result.note && html`<div class="notice" role="status">${result.note}</div>`}
    ${result && result.params.length > 0 &&
    html`<table class="importance-table">
      <thead><tr>
        <th>Param</th>
        <th title="Share of how the runs rank on the metric that this param explains on its own (epsilon squared on ranks, adjusted for its number of values)">Importance</th>
        <th title="Spearman's rank correlation with the metric (numeric params)">Correlation</th>
        <th title="Distinct values among the runs used">Values</th>
      </tr></thead>
      <tbody>
        ${result.params.map(
          (p) => html`<tr key=${p.key} data-param=${p.key}>
            <td class="imp-key"><button class="link-btn" title=${`Add a scatter of ${p.key} against ${result.metric}`}
              onClick=${() => onAddScatter(`params.${p.key}`, `metrics.${result.metric}`)}>${p.key}</button>
              ${p.kind === "categorical" && html`<span class="muted small"> categorical</span>`}</td>
            <td><${Bar} value=${p.importance} /></td>
            <td><${Bar} value=${p.correlation} signed=${true} /></td>
            <td class="num">${p.distinct}${p.present < result.used ? html`<span class="muted small"> (${result.used - p.present} without)</span>` : ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
    ${state.loading && !result && html`<div class="muted pad">Ranking params…</div>`}
  </section>`;
}

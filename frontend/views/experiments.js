// Experiments sidebar: search by name, run counts, deleted experiments behind a toggle, multi-select.
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { fetchExperiments } from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { useLive } from "./use_live.js";
import { NewExperimentButton, RestoreExperimentButton } from "./edit_experiment.js";

/** The URL that shows the runs of `ids`: MLflow's experiment page for one, compare-experiments for several. */
export function experimentsHref(ids) {
  if (ids.length === 1) return hrefFor(["experiments", ids[0]]);
  if (ids.length === 0) return hrefFor(["experiments"]);
  return hrefFor(["compare-experiments", "s"], { experiments: ids });
}

const reloaders = new Set();

/** Re-read the experiments list everywhere (after an edit: a new, renamed, deleted or restored experiment). */
export function reloadExperiments() {
  return Promise.all([...reloaders].map((load) => load()));
}

export function useExperiments() {
  const [state, setState] = useState({ experiments: null, error: null });
  const load = () =>
    fetchExperiments()
      .then((body) => setState({ experiments: body.experiments, error: null }))
      .catch((err) => setState((s) => ({ ...s, error: err.message })));
  useEffect(() => {
    load();
    reloaders.add(load);
    return () => reloaders.delete(load);
  }, []);
  useLive(() => load());
  return state;
}

/** The sidebar; `state` is useExperiments() of the screen (it also tells unknown experiment ids apart). */
export function ExperimentsSidebar({ selected, state }) {
  const { experiments, error } = state;
  const [query, setQuery] = useState("");
  const [showDeleted, setShowDeleted] = useState(false);
  const selectedSet = useMemo(() => new Set(selected), [selected.join(",")]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (experiments || []).filter(
      (e) => (showDeleted || !e.deleted || selectedSet.has(e.experiment_id)) && (!q || e.name.toLowerCase().includes(q)),
    );
  }, [experiments, query, showDeleted, selectedSet]);
  const deletedCount = (experiments || []).filter((e) => e.deleted).length;

  const toggle = (id) => {
    const next = selectedSet.has(id) ? selected.filter((x) => x !== id) : [...selected, id];
    window.location.hash = experimentsHref(next).slice(1);
  };
  const onRowClick = (event, id) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey) {
      event.preventDefault();
      toggle(id);
    }
  };

  return html`<aside class="sidebar" aria-label="Experiments">
    <div class="sidebar-head">
      <div class="sidebar-actions"><h2>Experiments</h2><span class="spacer"></span><${NewExperimentButton} /></div>
      <input
        class="input"
        type="search"
        placeholder="Search experiments"
        aria-label="Search experiments"
        value=${query}
        onInput=${(e) => setQuery(e.currentTarget.value)}
      />
      <label class="toggle">
        <input type="checkbox" checked=${showDeleted} onChange=${(e) => setShowDeleted(e.currentTarget.checked)} />
        Show deleted${deletedCount ? ` (${deletedCount})` : ""}
      </label>
    </div>
    ${error && html`<div class="error-box">${error}</div>`}
    ${experiments === null && !error && html`<div class="muted pad">Loading…</div>`}
    <ul class="exp-list">
      ${shown.map(
        (e) => html`<li
          key=${e.experiment_id}
          class=${`exp-item${selectedSet.has(e.experiment_id) ? " selected" : ""}${e.deleted ? " deleted" : ""}`}
          data-experiment-id=${e.experiment_id}
        >
          <input
            type="checkbox"
            aria-label=${`Select ${e.name}`}
            checked=${selectedSet.has(e.experiment_id)}
            onChange=${() => toggle(e.experiment_id)}
          />
          <a class="exp-name" href=${hrefFor(["experiments", e.experiment_id])} onClick=${(ev) => onRowClick(ev, e.experiment_id)} title=${e.name}>
            ${e.name}
          </a>
          ${e.deleted && html`<span class="badge">deleted</span><${RestoreExperimentButton} experiment=${e} />`}
          <span class="count" title=${`${e.runs} runs${e.deleted_runs ? `, ${e.deleted_runs} deleted` : ""}`}>${e.runs.toLocaleString()}</span>
        </li>`,
      )}
    </ul>
    ${experiments && !shown.length && html`<div class="muted pad">No experiment matches.</div>`}
  </aside>`;
}

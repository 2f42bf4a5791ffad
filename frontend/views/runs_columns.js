// Runs-table columns: the fixed summary columns, key columns the user picks, the chooser, and
// the per-experiment memory of the choice (localStorage: it is a preference, not shareable state).
import { html, useEffect, useMemo, useState } from "../lib/html.js";
import { useDismiss } from "../lib/use_dismiss.js";

export const ROW_HEIGHT = 28;
export const HEADER_HEIGHT = 30;
export const SELECT_WIDTH = 32;

/** Summary columns, with MLflow's server-side sort keys (ATTRIBUTE_COLUMN_SORT_KEY). */
export const BASE_COLUMNS = [
  { id: "name", label: "Run Name", width: 240, sort: "attributes.run_name" },
  { id: "created", label: "Created", width: 110, sort: "attributes.start_time" },
  { id: "duration", label: "Duration", width: 80 },
  { id: "user", label: "User", width: 90, sort: "tags.`mlflow.user`" },
  { id: "source", label: "Source", width: 120, sort: "tags.`mlflow.source.name`" },
  { id: "version", label: "Version", width: 70, sort: "tags.`mlflow.source.git.commit`" },
  { id: "models", label: "Models", width: 110 },
  { id: "dataset", label: "Dataset", width: 130 },
];

const KIND_PREFIX = { metrics: "metrics", params: "params", tags: "tags" };

/** A key as MLflow's filter grammar accepts it: bare when a plain word, else in backticks. */
export function quoteKey(key) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : "`" + key.replace(/`/g, "``") + "`";
}

export function keyColumns(chosen) {
  const cols = [];
  for (const kind of ["metrics", "params", "tags"]) {
    for (const key of chosen[kind] || []) {
      cols.push({
        id: `${kind}:${key}`,
        kind,
        key,
        label: key,
        width: kind === "metrics" ? 100 : 120,
        sort: `${KIND_PREFIX[kind]}.${quoteKey(key)}`,
      });
    }
  }
  return cols;
}

const EMPTY = { params: [], metrics: [], tags: [] };

function storageKey(experimentIds) {
  return "mlscope.columns." + [...experimentIds].sort().join(",");
}

/** The keys most active runs have, commonest first (ties by name); keys only deleted runs have are left out. */
export function commonestKeys(keys, counts, limit) {
  if (!counts) return keys.slice(0, limit);
  return keys
    .filter((k) => counts[k] > 0)
    .sort((a, b) => counts[b] - counts[a] || a.localeCompare(b))
    .slice(0, limit);
}

/** Default: the six metrics and params most runs have, as a wide experiment must not open with 1,000 columns. */
export function defaultColumns(keys) {
  const counts = keys.counts || {};
  return { metrics: commonestKeys(keys.metrics, counts.metrics, 6), params: commonestKeys(keys.params, counts.params, 6), tags: [] };
}

/** Chosen key columns for these experiments, remembered per experiment set; null until known. */
export function useChosenColumns(experimentIds, keys) {
  const storeKey = storageKey(experimentIds);
  const [chosen, setChosen] = useState(() => readChoice(storeKey));
  useEffect(() => setChosen(readChoice(storeKey)), [storeKey]);
  const effective = chosen || (keys ? defaultColumns(keys) : null);
  const update = (next) => {
    setChosen(next);
    try {
      localStorage.setItem(storeKey, JSON.stringify(next));
    } catch {
      // storage full or disabled: the choice lasts for this page only
    }
  };
  return [effective, update];
}

function readChoice(storeKey) {
  try {
    const raw = localStorage.getItem(storeKey);
    if (!raw) return null;
    const value = JSON.parse(raw);
    return { ...EMPTY, ...value };
  } catch {
    return null;
  }
}

/** "Columns" button with a searchable checklist of params, metrics and tags. */
export function ColumnChooser({ keys, chosen, onChange }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const box = useDismiss(open, () => setOpen(false));
  const total = keys ? keys.metrics.length + keys.params.length + keys.tags.length : 0;
  const visible = chosen ? chosen.metrics.length + chosen.params.length + chosen.tags.length : 0;
  const groups = useMemo(() => {
    if (!keys) return [];
    const q = query.trim().toLowerCase();
    return [
      ["metrics", "Metrics"],
      ["params", "Parameters"],
      ["tags", "Tags"],
    ].map(([kind, label]) => ({ kind, label, keys: keys[kind].filter((k) => !q || k.toLowerCase().includes(q)) }));
  }, [keys, query]);
  const toggle = (kind, key) => {
    const current = chosen[kind];
    const next = current.includes(key) ? current.filter((k) => k !== key) : [...current, key];
    onChange({ ...chosen, [kind]: next });
  };
  const setKind = (kind, list) => onChange({ ...chosen, [kind]: list });
  return html`<div class="chooser" ref=${box}>
    <button class="btn" onClick=${() => setOpen(!open)} aria-expanded=${open} disabled=${!keys}>
      Columns (${visible}/${total})
    </button>
    ${open &&
    html`<div class="chooser-panel" role="dialog" aria-label="Choose columns">
      <input
        class="input"
        type="search"
        placeholder="Search keys"
        aria-label="Search columns"
        value=${query}
        onInput=${(e) => setQuery(e.currentTarget.value)}
        autofocus
      />
      <div class="chooser-groups">
        ${groups.map(
          (g) => html`<div class="chooser-group" key=${g.kind}>
            <div class="chooser-group-head">
              <span>${g.label}</span>
              <span class="spacer"></span>
              <button class="link-btn" onClick=${() => setKind(g.kind, [...new Set([...chosen[g.kind], ...g.keys])])}>all</button>
              <button class="link-btn" onClick=${() => setKind(g.kind, chosen[g.kind].filter((k) => !g.keys.includes(k)))}>none</button>
            </div>
            ${g.keys.length === 0 && html`<div class="muted small">none</div>`}
            ${g.keys.slice(0, 300).map(
              (k) => html`<label class="chooser-item" key=${k} title=${k}>
                <input type="checkbox" checked=${chosen[g.kind].includes(k)} onChange=${() => toggle(g.kind, k)} />
                <span>${k}</span>
              </label>`,
            )}
            ${g.keys.length > 300 && html`<div class="muted small">${g.keys.length - 300} more: refine the search</div>`}
          </div>`,
        )}
      </div>
    </div>`}
  </div>`;
}

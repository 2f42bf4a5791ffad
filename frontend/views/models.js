// The Models page (#/models, MLflow's route): registered models with search, latest version, aliases, tags,
// last modified; sorted and paged on the server (MLflow's registered-models/search). Search text, order and
// page live in the URL (?q=&order=&page=), so a view can be shared and survives a reload.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { offsetPageToken, searchRegisteredModels } from "../lib/api.js";
import { hrefFor, setQueryParams } from "../lib/router.js";
import { formatRelative, formatTime } from "../lib/format.js";
import { usePageTitle } from "../lib/page_title.js";
import { StageBadge } from "./models_editors.js";

export const PAGE_SIZE = 100;
const ORDERS = {
  name: "name ASC",
  "-name": "name DESC",
  updated: "last_updated_timestamp ASC",
  "-updated": "last_updated_timestamp DESC",
  created: "creation_timestamp ASC",
  "-created": "creation_timestamp DESC",
};
// Text that already reads as a filter (name = …, tags.x LIKE …) goes to the server as it is.
const FILTER_SYNTAX = /(=|!=|\bI?LIKE\b|\bIN\b|^\s*(tags?|attribute)\.)/i;

/** What the search box means in MLflow's grammar: a filter as typed, or a case-insensitive name match. */
export function filterFor(text) {
  const q = (text || "").trim();
  if (!q) return undefined;
  if (FILTER_SYNTAX.test(q)) return q;
  return `name ILIKE '%${q.replace(/'/g, "''")}%'`;
}

function useModelsPage(q, order, page) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const params = {
      filter: filterFor(q),
      order_by: [ORDERS[order] || ORDERS.name],
      max_results: PAGE_SIZE,
      page_token: offsetPageToken((page - 1) * PAGE_SIZE),
    };
    searchRegisteredModels(params, { signal: controller.signal })
      .then((data) => setState({ data, error: null, loading: false }))
      .catch((err) => {
        if (err.name !== "AbortError") setState({ data: null, error: err, loading: false });
      });
    return () => controller.abort();
  }, [q, order, page]);
  return state;
}

function SortHeader({ label, field, order }) {
  const active = order === field || order === `-${field}`;
  const descending = order === `-${field}`;
  const firstClick = field === "name" ? field : `-${field}`; // names A→Z, times newest first
  const next = !active ? firstClick : descending ? field : `-${field}`;
  return html`<th aria-sort=${active ? (descending ? "descending" : "ascending") : "none"}>
    <button class="reg-sort" onClick=${() => setQueryParams({ order: next === "name" ? undefined : next, page: undefined })}>
      ${label}${active ? (descending ? " ↓" : " ↑") : ""}
    </button>
  </th>`;
}

function Aliases({ model }) {
  const aliases = model.aliases || [];
  if (!aliases.length) return html`<span class="muted">—</span>`;
  return html`<span class="reg-chips">${aliases.map(
    (a) => html`<a class="reg-chip reg-chip-link" href=${hrefFor(["models", model.name, "versions", a.version])}>
      <span class="reg-alias">@${a.alias}</span><span class="muted"> v${a.version}</span></a>`,
  )}</span>`;
}

function Tags({ tags }) {
  if (!tags || !tags.length) return html`<span class="muted">—</span>`;
  const shown = tags.slice(0, 4);
  return html`<span class="reg-chips">${shown.map((t) => html`<span class="reg-tag" title=${`${t.key}=${t.value}`}>${t.key}=${t.value}</span>`)}${tags.length > shown.length && html`<span class="muted small">+${tags.length - shown.length}</span>`}</span>`;
}

function LatestVersion({ model }) {
  const versions = model.latest_versions || [];
  if (!versions.length) return html`<span class="muted">—</span>`;
  const latest = versions.reduce((a, b) => (Number(b.version) > Number(a.version) ? b : a));
  const staged = versions.filter((v) => v.current_stage && v.current_stage !== "None" && v.current_stage !== "Archived");
  return html`<span class="reg-latest">
    <a href=${hrefFor(["models", model.name, "versions", latest.version])}>Version ${latest.version}</a>
    ${staged.map((v) => html` <${StageBadge} stage=${v.current_stage} /><span class="muted small"> v${v.version}</span>`)}
  </span>`;
}

function SearchBox({ q }) {
  const [text, setText] = useState(q);
  const timer = useRef(null);
  useEffect(() => setText(q), [q]);
  const commit = (value) => setQueryParams({ q: value.trim() || undefined, page: undefined });
  const onInput = (e) => {
    const value = e.currentTarget.value;
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => commit(value), 300);
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter") {
      clearTimeout(timer.current);
      commit(text);
    }
  };
  return html`<input class="input reg-search" type="search" value=${text} onInput=${onInput} onKeyDown=${onKeyDown}
    placeholder="Search by name, or a filter: tags.team = 'risk'" aria-label="Search registered models" />`;
}

export function ModelsPage({ route }) {
  const q = route.query.get("q") || "";
  const order = route.query.get("order") || "name";
  const page = Math.max(1, parseInt(route.query.get("page") || "1", 10) || 1);
  const { data, error, loading } = useModelsPage(q, order, page);
  usePageTitle("Registered models");
  const models = (data && data.registered_models) || [];
  const hasNext = Boolean(data && data.next_page_token);
  const first = (page - 1) * PAGE_SIZE + 1;
  return html`<main class="main reg-page" aria-busy=${loading}>
    <div class="reg-head">
      <h1>Registered models</h1>
      <span class="spacer"></span>
      <${SearchBox} q=${q} />
    </div>
    ${error && html`<div class="error-box" role="alert">${error.message}</div>`}
    <div class="reg-table-wrap">
      <table class="kv-table reg-table" data-table="models">
        <thead><tr>
          <${SortHeader} label="Name" field="name" order=${order} />
          <th>Latest version</th>
          <th>Aliases</th>
          <th>Tags</th>
          <${SortHeader} label="Last modified" field="updated" order=${order} />
        </tr></thead>
        <tbody>
          ${models.map(
            (m) => html`<tr key=${m.name}>
              <td class="reg-name"><a href=${hrefFor(["models", m.name])}>${m.name}</a></td>
              <td><${LatestVersion} model=${m} /></td>
              <td><${Aliases} model=${m} /></td>
              <td><${Tags} tags=${m.tags} /></td>
              <td title=${formatTime(m.last_updated_timestamp)}>${formatRelative(m.last_updated_timestamp)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${!loading && !error && !models.length &&
      html`<div class="page-message">${q ? html`<h2>No model matches “${q}”</h2>` : html`<h2>No registered models</h2>
        <p>Register one with <code>mlflow.register_model("runs:/&lt;run_id&gt;/model", "name")</code> against this server.</p>`}</div>`}
    </div>
    <nav class="reg-pager" aria-label="Pages">
      <button class="btn" disabled=${page <= 1} onClick=${() => setQueryParams({ page: page - 1 > 1 ? page - 1 : undefined })}>‹ Previous</button>
      <span class="muted">${models.length ? `${first.toLocaleString()}–${(first + models.length - 1).toLocaleString()}` : ""} · page ${page}</span>
      <button class="btn" disabled=${!hasNext} onClick=${() => setQueryParams({ page: page + 1 })}>Next ›</button>
    </nav>
  </main>`;
}

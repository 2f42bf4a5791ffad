// The runs table: filter, time and lifecycle filters, server-side sort, chosen key columns,
// nested runs, selection for compare, CSV export; virtualized so 10,000 runs scroll smoothly.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { fetchKeys, runsCsvUrl } from "../lib/api.js";
import { hrefFor, setQueryParams } from "../lib/router.js";
import { useVirtualRows } from "../lib/virtual_list.js";
import { BASE_COLUMNS, ColumnChooser, HEADER_HEIGHT, keyColumns, ROW_HEIGHT, SELECT_WIDTH, useChosenColumns } from "./runs_columns.js";
import { firstDirectionAsc, HeaderRow, Row } from "./runs_cells.js";
import { combinedFilter, DEFAULT_SORT, LIFECYCLES, MODEL_VERSION_FILTERS, runsViewState, TIME_RANGES } from "./runs_url.js";
import { SearchBox } from "./search_box.js";
import { useRunRows } from "./runs_data.js";
import { useLive } from "./use_live.js";
import { BulkRunActions } from "./edit_runs_bulk.js";

/** Flatten top-level rows and expanded children into display items (index = position on screen). */
function displayItems(data, expanded) {
  const items = [];
  const count = data.count || 0;
  const pushChildren = (parentId, depth) => {
    const entry = data.childrenOf(parentId);
    if (!entry) {
      items.push({ index: items.length, row: null, depth });
      return;
    }
    for (const child of entry.rows) {
      items.push({ index: items.length, row: child, depth });
      if (expanded.has(child.run_id) && child.child_count > 0) pushChildren(child.run_id, depth + 1);
    }
  };
  for (let i = 0; i < count; i++) {
    const row = data.rowAt(i);
    items.push({ index: items.length, row, depth: 0, top: i });
    if (row && row.child_count > 0 && expanded.has(row.run_id)) pushChildren(row.run_id, 1);
  }
  return items;
}

function useKeys(experimentIds) {
  const [keys, setKeys] = useState(null);
  const idsKey = experimentIds.join(",");
  useEffect(() => {
    const controller = new AbortController();
    fetchKeys(experimentIds, { signal: controller.signal })
      .then(setKeys)
      .catch((err) => err.name !== "AbortError" && setKeys({ params: [], metrics: [], tags: [] }));
    return () => controller.abort();
  }, [idsKey]);
  return keys;
}

/** What the table area says when it has no rows: loading, a failed query, or which kind of empty. */
function TableMessage({ data, view, experimentIds, onRetry }) {
  if (data.error && data.error.status === 400) {
    return html`<div class="empty" role="status"><strong>0 runs — fix the filter.</strong> <span class="muted">The message under the filter box says what is wrong.</span></div>`;
  }
  if (data.error) {
    return html`<div class="empty" role="alert">
      <strong>Could not load runs:</strong> ${data.error.message} <button class="btn" onClick=${onRetry}>Retry</button>
    </div>`;
  }
  if (data.count !== 0) return null;
  if (view.userFilter || view.datasets.length || view.modelVersionsQuery) {
    return html`<div class="empty" role="status"><strong>No runs match this filter.</strong>
      <button class="link-btn" onClick=${() => setQueryParams({ searchFilter: undefined, datasetsFilter: undefined })}>Clear the filter</button></div>`;
  }
  if (view.span) {
    const label = TIME_RANGES.find((t) => t[0] === view.timeRange)[1].toLowerCase();
    return html`<div class="empty" role="status"><strong>No runs started in the ${label}.</strong> <span class="muted">Choose a longer time range.</span></div>`;
  }
  if (view.viewType === "DELETED_ONLY") return html`<div class="empty" role="status"><strong>No deleted runs.</strong></div>`;
  const one = experimentIds.length === 1;
  return html`<div class="empty" role="status">
    <strong>No runs in ${one ? "this experiment" : "these experiments"} yet.</strong>
    <div class="muted">Log one with MLflow, pointing it at this server:</div>
    <pre class="snippet">${`import mlflow
mlflow.set_tracking_uri("${window.location.origin}")
mlflow.set_experiment(experiment_id="${experimentIds[0]}")
with mlflow.start_run():
    mlflow.log_metric("accuracy", 0.9)`}</pre>
  </div>`;
}

/**
 * The runs table. `decorate` lets the experiment page add to it: lead(row) renders controls before a
 * run's name; body({ columns }) replaces the rows (the grouped table), keeping the toolbar.
 */
export function RunsTable({ experimentIds, route, decorate = {} }) {
  const view = runsViewState(route.query);
  const { userFilter, sortKey, sortAsc, viewType, timeRange } = view;
  const since = useMemo(() => (view.span ? Math.floor(Date.now() - view.span) : 0), [timeRange]);

  const keys = useKeys(experimentIds);
  const [chosen, setChosen] = useChosenColumns(experimentIds, keys);
  const columns = useMemo(() => [...BASE_COLUMNS, ...keyColumns(chosen || { params: [], metrics: [], tags: [] })], [chosen]);
  const request = {
    experiment_ids: experimentIds,
    filter: combinedFilter(userFilter, since, view.datasets),
    order_by: [`${sortKey} ${sortAsc ? "ASC" : "DESC"}`],
    run_view_type: viewType,
    model_versions: view.modelVersionsQuery,
    extended: true,
    params: chosen ? chosen.params : [],
    metrics: chosen ? chosen.metrics : [],
    tags: chosen ? chosen.tags : [],
  };
  const data = useRunRows(request, chosen !== null);
  const [expanded, setExpanded] = useState(() => new Set());
  const [selected, setSelected] = useState(() => new Map()); // run_id -> experiment_id
  useEffect(() => setExpanded(new Set()), [data.store.resetKey]);

  useLive((event) => {
    if (event && event.reset) data.reload();
    else if (event && Array.isArray(event.changed) && event.changed.length) data.applyChanges(event.changed);
  });

  const items = displayItems(data, expanded);
  const scroller = useRef(null);
  const { start, end, totalHeight } = useVirtualRows(scroller, items.length, ROW_HEIGHT, { offset: HEADER_HEIGHT });
  const visible = items.slice(start, end);

  useEffect(() => {
    const tops = visible.filter((it) => it.top !== undefined).map((it) => it.top);
    if (tops.length) data.ensure(Math.min(...tops), Math.max(...tops) + 1);
    else if (data.count) data.ensure(0, 1);
    for (const id of expanded) data.ensureChildren(id);
  });

  const onSort = (col) => {
    const asc = col.sort === sortKey ? !sortAsc : firstDirectionAsc(col);
    setQueryParams({ orderByKey: col.sort === DEFAULT_SORT && !asc ? undefined : col.sort, orderByAsc: asc ? "true" : undefined });
  };
  const toggleExpanded = (id) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const toggleSelected = (row) =>
    setSelected((prev) => {
      const next = new Map(prev);
      if (next.has(row.run_id)) next.delete(row.run_id);
      else next.set(row.run_id, row.experiment_id);
      return next;
    });
  const loadedRows = items.filter((it) => it.row).map((it) => it.row);
  const allSelected = loadedRows.length > 0 && loadedRows.every((r) => selected.has(r.run_id));
  const selectAll = () =>
    setSelected(allSelected ? new Map() : new Map(loadedRows.map((r) => [r.run_id, r.experiment_id])));

  const compareHref = hrefFor(["compare-runs"], {
    runs: [...selected.keys()],
    experiments: [...new Set(selected.values())],
  });
  const exportHref = runsCsvUrl({
    experiment_ids: experimentIds,
    filter: request.filter,
    order_by: request.order_by,
    run_view_type: viewType,
    model_versions: view.modelVersionsQuery,
    extended: "true",
    params: request.params,
    metrics: request.metrics,
    tags: request.tags,
  });
  const width = SELECT_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);
  let countText;
  if (data.error) countText = data.error.status === 400 ? "0 runs — fix the filter" : "Runs could not be loaded";
  else if (data.total === null) countText = "Loading runs…";
  else countText = `${data.total.toLocaleString()} ${data.total === 1 ? "run" : "runs"}`;

  return html`<section class="runs" aria-label="Runs">
    <div class="runs-toolbar">
      <${SearchBox} value=${userFilter} keys=${keys} error=${data.error && data.error.status === 400 ? data.error.message : null}
        onSubmit=${(text) => setQueryParams({ searchFilter: text })} />
      <select class="input select-input" aria-label="Time range" value=${timeRange} onChange=${(e) => setQueryParams({ startTime: e.currentTarget.value === "ALL" ? undefined : e.currentTarget.value })}>
        ${TIME_RANGES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      <select class="input select-input" aria-label="Run lifecycle" value=${view.lifecycleValue} onChange=${(e) => setQueryParams({ lifecycleFilter: e.currentTarget.value === "Active" ? undefined : e.currentTarget.value })}>
        ${LIFECYCLES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      <select class="input select-input" aria-label="Model versions" value=${view.modelVersions} onChange=${(e) => setQueryParams({ modelVersionFilter: e.currentTarget.value === "All Runs" ? undefined : e.currentTarget.value })}>
        ${MODEL_VERSION_FILTERS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      <${ColumnChooser} keys=${keys} chosen=${chosen} onChange=${setChosen} />
    </div>
    ${view.notes.map((note) => html`<div class="notice" role="status">${note}</div>`)}
    ${view.datasets.length > 0 &&
    html`<div class="notice" role="status">Only runs that used ${view.datasets.map((d, i) => html`${i ? ", " : ""}<strong>${d.name}</strong>${d.digest ? ` (${d.digest})` : ""}`)}
      <button class="link-btn" onClick=${() => setQueryParams({ datasetsFilter: undefined })}>Show all runs</button></div>`}
    <div class="runs-actions">
      <span class="run-count" aria-live="polite">
        ${countText}
        ${!data.error && data.total !== null && data.count !== data.total ? html` <span class="muted">(${data.count.toLocaleString()} top-level)</span>` : ""}
      </span>
      <span class="spacer"></span>
      <${BulkRunActions} selected=${selected} viewType=${viewType} onDone=${() => { setSelected(new Map()); data.reload(); }} />
      ${selected.size > 0 && html`<button class="link-btn" onClick=${() => setSelected(new Map())}>Clear selection</button>`}
      <a class=${`btn${selected.size >= 2 ? " btn-primary" : " disabled"}`} href=${selected.size >= 2 ? compareHref : undefined} aria-disabled=${selected.size < 2}>
        Compare${selected.size ? ` (${selected.size})` : ""}
      </a>
      <a class="btn" href=${exportHref} download="runs.csv">Export CSV</a>
    </div>
    ${decorate.body ? decorate.body({ columns }) : html`<div class="table-wrap">
      <div class="table-scroll" ref=${scroller} role="table" aria-rowcount=${items.length}>
        <div class="table-inner" style=${`width:${width}px;height:${totalHeight + HEADER_HEIGHT}px`}>
          <${HeaderRow} columns=${columns} sortKey=${sortKey} sortAsc=${sortAsc} onSort=${onSort} allSelected=${allSelected} onSelectAll=${selectAll} />
          ${visible.map(
            (item) => html`<${Row}
              key=${item.row ? `${item.row.run_id}:${item.depth}` : `empty:${item.index}`}
              item=${item}
              columns=${columns}
              selected=${item.row ? selected.has(item.row.run_id) : false}
              onSelect=${toggleSelected}
              expanded=${item.row ? expanded.has(item.row.run_id) : false}
              onToggle=${toggleExpanded}
              lead=${decorate.lead}
            />`,
          )}
        </div>
      </div>
      <${TableMessage} data=${data} view=${view} experimentIds=${experimentIds} onRetry=${data.reload} />
    </div>`}
  </section>`;
}

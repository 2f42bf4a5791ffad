// The runs table: filter, time and lifecycle filters, server-side sort, chosen key columns,
// nested runs, selection for compare, CSV export; virtualized so 10,000 runs scroll smoothly.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { getJSON, urlFor } from "../lib/api.js";
import { hrefFor, setQueryParams } from "../lib/router.js";
import { formatDuration, formatNumber, formatRelative, formatTime, STATUS_ICONS } from "../lib/format.js";
import { useVirtualRows } from "../lib/virtual_list.js";
import { BASE_COLUMNS, ColumnChooser, HEADER_HEIGHT, keyColumns, ROW_HEIGHT, SELECT_WIDTH, useChosenColumns } from "./runs_columns.js";
import { SearchBox } from "./search_box.js";
import { useRunRows } from "./runs_data.js";
import { useLive } from "./use_live.js";

const TIME_RANGES = [
  ["ALL", "All time", 0],
  ["LAST_HOUR", "Last hour", 3600e3],
  ["LAST_24_HOURS", "Last day", 86400e3],
  ["LAST_7_DAYS", "Last week", 7 * 86400e3],
  ["LAST_30_DAYS", "Last month", 30 * 86400e3],
];
const LIFECYCLES = [
  ["ACTIVE_ONLY", "Active"],
  ["DELETED_ONLY", "Deleted"],
  ["ALL", "Active + deleted"],
];
const DEFAULT_SORT = "attributes.start_time";

/** The filter sent to the server: the user's filter plus the quick time range. */
function combinedFilter(filter, since) {
  if (!since) return filter;
  const clause = `attributes.start_time >= ${since}`;
  if (!filter) return clause;
  return /\bor\b/i.test(filter) ? `(${filter}) AND ${clause}` : `${filter} AND ${clause}`;
}

function useKeys(experimentIds) {
  const [keys, setKeys] = useState(null);
  const idsKey = experimentIds.join(",");
  useEffect(() => {
    let live = true;
    getJSON("/api/mlscope/keys", { experiment_ids: experimentIds })
      .then((body) => live && setKeys(body))
      .catch(() => live && setKeys({ params: [], metrics: [], tags: [] }));
    return () => {
      live = false;
    };
  }, [idsKey]);
  return keys;
}

function runHref(row) {
  return hrefFor(["experiments", row.experiment_id, "runs", row.run_id]);
}

function baseCell(col, row) {
  switch (col.id) {
    case "created":
      return html`<span title=${formatTime(row.start_time)}>${formatRelative(row.start_time)}</span>`;
    case "duration":
      return formatDuration(row.start_time, row.end_time ?? (row.status === "RUNNING" ? Date.now() : null));
    case "user":
      return html`<span title=${row.user}>${row.user}</span>`;
    case "source": {
      const name = row.source ? row.source.split(/[\\/]/).pop() : "";
      return html`<span title=${row.source_type ? `${row.source_type}: ${row.source}` : row.source}>${name}</span>`;
    }
    case "version":
      return html`<span class="mono" title=${row.commit}>${row.commit ? row.commit.slice(0, 7) : ""}</span>`;
    case "models":
      return html`<span title=${row.models.map((m) => m.name).join(", ")}>${row.models.map((m) => m.name).join(", ")}</span>`;
    case "dataset": {
      const text = row.datasets.map((d) => `${d.name} (${d.digest})`).join(", ");
      return html`<span title=${row.datasets.map((d) => `${d.name} (${d.digest})${d.context ? " " + d.context : ""}`).join("\n")}>${text}</span>`;
    }
    default:
      return "";
  }
}

function keyCell(col, row) {
  const value = row[col.kind] ? row[col.kind][col.key] : undefined;
  if (value === undefined) return "";
  if (col.kind === "metrics") return html`<span class="num" title=${String(value)}>${formatNumber(value)}</span>`;
  return html`<span title=${value}>${value}</span>`;
}

function NameCell({ row, depth, expanded, onToggle }) {
  return html`<span class="name-cell" style=${`padding-left:${depth * 18}px`}>
    ${row.child_count > 0
      ? html`<button
          class="expander"
          aria-label=${`${expanded ? "Collapse" : "Expand"} ${row.child_count} child runs`}
          aria-expanded=${expanded}
          onClick=${() => onToggle(row.run_id)}
        >${expanded ? "▾" : "▸"}</button>`
      : html`<span class="expander-space"></span>`}
    <span class=${`status status-${row.status}`} title=${row.status}>${STATUS_ICONS[row.status] || "?"}</span>
    <a class="run-link" href=${runHref(row)} title=${row.run_name}>${row.run_name || row.run_id}</a>
    ${row.child_count > 0 && html`<span class="child-count" title="child runs">${row.child_count}</span>`}
  </span>`;
}

function Row({ item, columns, selected, onSelect, expanded, onToggle }) {
  const { row, depth } = item;
  const style = `top:${item.index * ROW_HEIGHT + HEADER_HEIGHT}px`;
  if (!row) {
    return html`<div class="trow placeholder" style=${style}>
      <div class="cell" style=${`width:${SELECT_WIDTH}px`}></div>
      <div class="cell"><span class="skeleton"></span></div>
    </div>`;
  }
  const classes = `trow${selected ? " selected" : ""}${row.lifecycle_stage === "deleted" ? " deleted" : ""}${depth ? " child" : ""}`;
  return html`<div class=${classes} style=${style} data-run-id=${row.run_id} role="row">
    <div class="cell select" style=${`width:${SELECT_WIDTH}px`}>
      <input type="checkbox" aria-label=${`Select ${row.run_name}`} checked=${selected} onChange=${() => onSelect(row)} />
    </div>
    ${columns.map(
      (col) => html`<div class=${`cell col-${col.kind || col.id}`} style=${`width:${col.width}px`} role="cell">
        ${col.id === "name"
          ? html`<${NameCell} row=${row} depth=${depth} expanded=${expanded} onToggle=${onToggle} />`
          : col.kind
            ? keyCell(col, row)
            : baseCell(col, row)}
      </div>`,
    )}
  </div>`;
}

function HeaderRow({ columns, sortKey, sortAsc, onSort, allSelected, onSelectAll }) {
  return html`<div class="thead" role="row" style=${`height:${HEADER_HEIGHT}px`}>
    <div class="cell select" style=${`width:${SELECT_WIDTH}px`}>
      <input type="checkbox" aria-label="Select loaded runs" checked=${allSelected} onChange=${onSelectAll} />
    </div>
    ${columns.map((col) => {
      const active = col.sort && col.sort === sortKey;
      return html`<div
        class=${`cell th${col.sort ? " sortable" : ""}${active ? " sorted" : ""}${col.kind ? ` th-${col.kind}` : ""}`}
        style=${`width:${col.width}px`}
        role="columnheader"
        aria-sort=${active ? (sortAsc ? "ascending" : "descending") : "none"}
        title=${col.kind ? `${col.kind}.${col.key}` : col.label}
        onClick=${col.sort ? () => onSort(col.sort) : undefined}
      >
        ${col.kind && html`<span class="kind">${col.kind === "metrics" ? "m" : col.kind === "params" ? "p" : "t"}</span>`}
        <span class="th-label">${col.label}</span>
        ${active && html`<span class="arrow">${sortAsc ? "↑" : "↓"}</span>`}
      </div>`;
    })}
  </div>`;
}

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

export function RunsTable({ experimentIds, route }) {
  const q = route.query;
  const userFilter = q.get("searchFilter") || "";
  const sortKey = q.get("orderByKey") || DEFAULT_SORT;
  const sortAsc = q.get("orderByAsc") === "true";
  const lifecycle = q.get("lifecycleFilter") || "ACTIVE_ONLY";
  const timeRange = q.get("startTime") || "ALL";
  const since = useMemo(() => {
    const span = (TIME_RANGES.find((t) => t[0] === timeRange) || TIME_RANGES[0])[2];
    return span ? Math.floor(Date.now() - span) : 0;
  }, [timeRange]);

  const keys = useKeys(experimentIds);
  const [chosen, setChosen] = useChosenColumns(experimentIds, keys);
  const columns = useMemo(() => [...BASE_COLUMNS, ...keyColumns(chosen || { params: [], metrics: [], tags: [] })], [chosen]);
  const request = {
    experiment_ids: experimentIds,
    filter: combinedFilter(userFilter, since),
    order_by: [`${sortKey} ${sortAsc ? "ASC" : "DESC"}`],
    run_view_type: lifecycle,
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
    if (event && Array.isArray(event.changed) && event.changed.length) data.applyChanges(event.changed);
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

  const onSort = (key) => {
    const asc = key === sortKey ? !sortAsc : false;
    setQueryParams({ orderByKey: key === DEFAULT_SORT && !asc ? undefined : key, orderByAsc: asc ? "true" : undefined });
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
  const exportHref = urlFor("/api/mlscope/runs/export.csv", {
    experiment_ids: experimentIds,
    filter: request.filter,
    order_by: request.order_by,
    run_view_type: lifecycle,
    extended: "true",
    params: request.params,
    metrics: request.metrics,
    tags: request.tags,
  });
  const width = SELECT_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);

  return html`<section class="runs" aria-label="Runs">
    <div class="runs-toolbar">
      <${SearchBox} value=${userFilter} keys=${keys} error=${data.error} onSubmit=${(text) => setQueryParams({ searchFilter: text })} />
      <select class="input select-input" aria-label="Time range" value=${timeRange} onChange=${(e) => setQueryParams({ startTime: e.currentTarget.value === "ALL" ? undefined : e.currentTarget.value })}>
        ${TIME_RANGES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      <select class="input select-input" aria-label="Run lifecycle" value=${lifecycle} onChange=${(e) => setQueryParams({ lifecycleFilter: e.currentTarget.value === "ACTIVE_ONLY" ? undefined : e.currentTarget.value })}>
        ${LIFECYCLES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      <${ColumnChooser} keys=${keys} chosen=${chosen} onChange=${setChosen} />
    </div>
    <div class="runs-actions">
      <span class="run-count" aria-live="polite">
        ${data.total === null ? "Loading runs…" : `${data.total.toLocaleString()} ${data.total === 1 ? "run" : "runs"}`}
        ${data.total !== null && data.count !== data.total ? html` <span class="muted">(${data.count.toLocaleString()} top-level)</span>` : ""}
      </span>
      <span class="spacer"></span>
      ${selected.size > 0 && html`<button class="link-btn" onClick=${() => setSelected(new Map())}>Clear selection</button>`}
      <a class=${`btn${selected.size >= 2 ? " btn-primary" : " disabled"}`} href=${selected.size >= 2 ? compareHref : undefined} aria-disabled=${selected.size < 2}>
        Compare${selected.size ? ` (${selected.size})` : ""}
      </a>
      <a class="btn" href=${exportHref} download="runs.csv">Export CSV</a>
    </div>
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
          />`,
        )}
      </div>
      ${data.count === 0 && !data.error && html`<div class="empty">No runs match.</div>`}
    </div>
  </section>`;
}

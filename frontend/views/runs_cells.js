// The runs table's header and rows: summary cells, key (param/metric/tag) cells, the name cell with
// nesting, and sortable headers as buttons. The checkbox and Run Name columns stay pinned on the left
// when the table scrolls sideways (CSS: .pin).
import { html } from "../lib/html.js";
import { hrefFor } from "../lib/router.js";
import { formatDuration, formatNumber, formatRelative, formatTime, STATUS_ICONS } from "../lib/format.js";
import { HEADER_HEIGHT, ROW_HEIGHT, SELECT_WIDTH } from "./runs_columns.js";

function runHref(row) {
  return hrefFor(["experiments", row.experiment_id, "runs", row.run_id]);
}

/** "iris-classifier v1" for a registered version, the model's name for a logged model. */
export function modelLabel(model) {
  return model.version !== undefined && model.version !== null ? `${model.name} v${model.version}` : model.name;
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
    case "models": {
      // Registered versions first (linked to their pages, as MLflow's column shows them), then logged models.
      const registered = row.registered_models || [];
      const logged = row.models.filter((m) => !registered.some((r) => r.model_id && r.model_id === m.model_id));
      const labels = [...registered.map(modelLabel), ...logged.map(modelLabel)];
      return html`<span class="models-cell" title=${labels.join("\n")}>
        ${registered.map((v, i) => html`${i ? ", " : ""}<a href=${hrefFor(["models", v.name, "versions", v.version])}>${modelLabel(v)}</a>`)}
        ${logged.length > 0 && html`${registered.length ? ", " : ""}${logged.map(modelLabel).join(", ")}`}
      </span>`;
    }
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

function NameCell({ row, depth, expanded, onToggle, lead }) {
  return html`<span class="name-cell" style=${`padding-left:${depth * 18}px`}>
    ${row.child_count > 0
      ? html`<button
          class="expander"
          aria-label=${`${expanded ? "Collapse" : "Expand"} ${row.child_count} child runs`}
          aria-expanded=${expanded}
          onClick=${() => onToggle(row.run_id)}
        >${expanded ? "▾" : "▸"}</button>`
      : html`<span class="expander-space"></span>`}
    ${lead}
    <span class=${`status status-${row.status}`} title=${row.status}>${STATUS_ICONS[row.status] || "?"}</span>
    <a class="run-link" href=${runHref(row)} title=${row.run_name}>${row.run_name || row.run_id}</a>
    ${row.child_count > 0 && html`<span class="child-count" title="child runs">${row.child_count}</span>`}
  </span>`;
}

function cellClass(col) {
  return `cell col-${col.kind || col.id}${col.id === "name" ? " pin pin-name" : ""}`;
}

/** One run's row; `lead(row)`, when given, renders controls in front of the run's name (the chart view's pin, eye, colour). */
export function Row({ item, columns, selected, onSelect, expanded, onToggle, lead }) {
  const { row, depth } = item;
  const style = `top:${item.index * ROW_HEIGHT + HEADER_HEIGHT}px`;
  if (!row) {
    return html`<div class="trow placeholder" style=${style}>
      <div class="cell select pin" style=${`width:${SELECT_WIDTH}px`}></div>
      <div class="cell pin pin-name"><span class="skeleton"></span></div>
    </div>`;
  }
  const classes = `trow${selected ? " selected" : ""}${row.lifecycle_stage === "deleted" ? " deleted" : ""}${depth ? " child" : ""}`;
  return html`<div class=${classes} style=${style} data-run-id=${row.run_id} role="row">
    <div class="cell select pin" style=${`width:${SELECT_WIDTH}px`}>
      <input type="checkbox" aria-label=${`Select ${row.run_name}`} checked=${selected} onChange=${() => onSelect(row)} />
    </div>
    ${columns.map(
      (col) => html`<div class=${cellClass(col)} style=${`width:${col.width}px`} role="cell">
        ${col.id === "name"
          ? html`<${NameCell} row=${row} depth=${depth} expanded=${expanded} onToggle=${onToggle} lead=${lead ? lead(row) : null} />`
          : col.kind
            ? keyCell(col, row)
            : baseCell(col, row)}
      </div>`,
    )}
  </div>`;
}

/** The first direction of a sort: names and other text A→Z, times and metrics newest/highest first. */
export function firstDirectionAsc(col) {
  return !(col.id === "created" || col.kind === "metrics");
}

export function HeaderRow({ columns, sortKey, sortAsc, onSort, allSelected, onSelectAll }) {
  return html`<div class="thead" role="row" style=${`height:${HEADER_HEIGHT}px`}>
    <div class="cell select pin" style=${`width:${SELECT_WIDTH}px`}>
      <input type="checkbox" aria-label="Select loaded runs" checked=${allSelected} onChange=${onSelectAll} />
    </div>
    ${columns.map((col) => {
      const active = col.sort && col.sort === sortKey;
      const label = html`
        ${col.kind && html`<span class="kind" aria-hidden="true">${col.kind === "metrics" ? "m" : col.kind === "params" ? "p" : "t"}</span>`}
        <span class="th-label">${col.label}</span>
        ${active && html`<span class="arrow" aria-hidden="true">${sortAsc ? "↑" : "↓"}</span>`}`;
      return html`<div
        class=${`${cellClass(col)} th${col.sort ? " sortable" : ""}${active ? " sorted" : ""}${col.kind ? ` th-${col.kind}` : ""}`}
        style=${`width:${col.width}px`}
        role="columnheader"
        aria-sort=${active ? (sortAsc ? "ascending" : "descending") : "none"}
        title=${col.kind ? `${col.kind}.${col.key}` : col.label}
      >
        ${col.sort ? html`<button class="th-button" onClick=${() => onSort(col)}>${label}</button>` : label}
      </div>`;
    })}
  </div>`;
}

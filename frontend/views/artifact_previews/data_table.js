// A sortable table for previews (CSV rows, log_table data): sorting is numeric-aware and client-side.
import { html, useMemo, useState } from "../../lib/html.js";

function compare(a, b) {
  const x = Number(a);
  const y = Number(b);
  const numeric = a !== "" && b !== "" && a !== null && b !== null && !Number.isNaN(x) && !Number.isNaN(y);
  if (numeric) return x - y;
  return String(a ?? "").localeCompare(String(b ?? ""), undefined, { numeric: true });
}

function cellText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function DataTable({ columns, rows }) {
  const [sort, setSort] = useState({ column: -1, desc: false });
  const sorted = useMemo(() => {
    if (sort.column < 0) return rows;
    const out = rows.slice().sort((r1, r2) => compare(r1[sort.column], r2[sort.column]));
    return sort.desc ? out.reverse() : out;
  }, [rows, sort]);
  const toggle = (i) => setSort((s) => (s.column === i ? (s.desc ? { column: -1, desc: false } : { column: i, desc: true }) : { column: i, desc: false }));
  return html`<div class="af-table-wrap">
    <table class="af-table">
      <thead><tr>
        <th class="af-rownum">#</th>
        ${columns.map(
          (name, i) => html`<th aria-sort=${sort.column === i ? (sort.desc ? "descending" : "ascending") : "none"}>
            <button class="af-sort" onClick=${() => toggle(i)} title="Sort">${name}<span class="af-arrow">${sort.column === i ? (sort.desc ? "▼" : "▲") : ""}</span></button>
          </th>`,
        )}
      </tr></thead>
      <tbody>
        ${sorted.map((row, r) => html`<tr><td class="af-rownum">${rows === sorted ? r + 1 : rows.indexOf(row) + 1}</td>${columns.map((_, c) => html`<td>${cellText(row[c])}</td>`)}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

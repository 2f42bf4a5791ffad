// CSV / TSV: the header and first rows, parsed server-side as a stream, with the file's row count.
import { html } from "../../lib/html.js";
import { useArtifactJSON, formatBytes, ErrorBox, Loading } from "./common.js";
import { DataTable } from "./data_table.js";

const ROWS = 500;

export function CsvPreview({ source, entry }) {
  const { data, error } = useArtifactJSON("table", source, entry.path, { limit: ROWS });
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} what="Reading table…" />`;
  const count = data.row_count_exact ? data.row_count.toLocaleString() : `≈ ${data.row_count.toLocaleString()} (estimated)`;
  const partial = data.rows.length < data.row_count || !data.row_count_exact;
  return html`<div class="af-csv">
    <div class="af-toolbar">
      <span class="small af-rowcount">${count} rows · ${data.columns.length} columns · ${formatBytes(data.size)}</span>
      ${partial && html`<span class="muted small">Previewing the first ${data.rows.length.toLocaleString()} rows; sorting applies to them.</span>`}
      <span class="spacer"></span>
    </div>
    ${data.error && html`<${ErrorBox} message=${`Stopped reading at ${data.error}`} />`}
    <${DataTable} columns=${data.columns} rows=${data.rows} />
  </div>`;
}

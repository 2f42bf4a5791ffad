// Tables logged with mlflow.log_table (JSON {"columns": [...], "data": [[...]]}) shown as tables.
import { html } from "../../lib/html.js";
import { useArtifactJSON, ErrorBox, Loading } from "./common.js";
import { DataTable } from "./data_table.js";
import { TreePreview } from "./tree.js";

export function LoggedTablePreview({ source, entry }) {
  const { data, error } = useArtifactJSON("parsed", source, entry.path, { format: "json" });
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} what="Reading table…" />`;
  const value = data.value;
  if (!value || !Array.isArray(value.columns) || !Array.isArray(value.data)) return html`<${TreePreview} source=${source} entry=${entry} format="json" />`;
  return html`<div class="af-logged-table">
    <div class="af-toolbar">
      <span class="small">Logged table · ${value.data.length.toLocaleString()} rows · ${value.columns.length} columns</span>
      <span class="spacer"></span>
    </div>
    <${DataTable} columns=${value.columns.map(String)} rows=${value.data} />
  </div>`;
}

// MLmodel / model folders: flavors, signature (inputs, outputs, params), python version, requirements.
import { html } from "../../lib/html.js";
import { useArtifactJSON, formatBytes, ErrorBox, Loading } from "./common.js";

function Columns({ title, columns }) {
  if (!columns) return null;
  return html`<div class="af-sig">
    <div class="af-sig-title">${title}</div>
    <table class="kv-table af-sig-table">
      <thead><tr><th>Name</th><th>Type</th><th>Required</th></tr></thead>
      <tbody>${columns.map(
        (c, i) => html`<tr><td class="mono">${c.name ?? html`<span class="muted">(${i})</span>`}</td><td class="mono">${c.type}${c.shape ? ` ${JSON.stringify(c.shape)}` : ""}</td><td>${c.required === false ? "optional" : "yes"}</td></tr>`,
      )}</tbody>
    </table>
  </div>`;
}

export function MlmodelSummary({ source, path }) {
  const { data, error } = useArtifactJSON("mlmodel", source, path);
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} what="Reading MLmodel…" />`;
  const flavors = Object.entries(data.flavors);
  const facts = [
    ["Python", data.python_version],
    ["MLflow", data.mlflow_version],
    ["Created", data.utc_time_created && `${data.utc_time_created} UTC`],
    ["Size", data.model_size_bytes && formatBytes(data.model_size_bytes)],
    ["Model UUID", data.model_uuid],
    ["Run", data.run_id],
  ].filter(([, v]) => v);
  return html`<div class="af-mlmodel">
    <div class="af-section-title">Model</div>
    <div class="af-flavors">${flavors.map(([name, f]) => html`<span class="badge af-flavor" title=${Object.entries(f).map(([k, v]) => `${k}: ${v}`).join("\n")}>${name}${f[`${name}_version`] ? ` ${f[`${name}_version`]}` : ""}</span>`)}</div>
    <table class="kv-table af-facts"><tbody>${facts.map(([k, v]) => html`<tr><th>${k}</th><td class="mono">${v}</td></tr>`)}</tbody></table>
    <div class="af-section-title">Signature</div>
    ${data.signature
      ? html`<div class="af-sigs"><${Columns} title="Inputs" columns=${data.signature.inputs} /><${Columns} title="Outputs" columns=${data.signature.outputs} /><${Columns} title="Params" columns=${data.signature.params} /></div>`
      : html`<div class="muted small">No signature was logged with this model.</div>`}
    <div class="af-section-title">Requirements ${data.requirements_source && html`<span class="muted small">from ${data.requirements_source}</span>`}</div>
    ${data.requirements.length
      ? html`<pre class="af-reqs">${data.requirements.join("\n")}</pre>`
      : html`<div class="muted small">No requirements file in this model folder.</div>`}
  </div>`;
}

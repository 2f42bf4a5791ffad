// Editors shared by the model and model-version pages: description (markdown), tags, aliases, stage.
// Each one calls an async `onSave`-style function and shows the server's refusal in place.
import { html, useState } from "../lib/html.js";
import { useReadOnly, useWrite } from "../lib/writes.js";
import { Markdown } from "../lib/markdown.js";

export const STAGES = ["None", "Staging", "Production", "Archived"];

function WriteError({ error }) {
  return error ? html`<div class="error-box reg-error" role="alert">${error}</div>` : null;
}

export function Card({ title, count, actions, children, label }) {
  return html`<section class="card" aria-label=${label || title}>
    <div class="card-head">
      <h3>${title}${count !== undefined ? html` <span class="muted">${count}</span>` : ""}</h3>
      <span class="spacer"></span>
      ${actions}
    </div>
    <div class="card-body">${children}</div>
  </section>`;
}

/** Markdown description with Edit / Save / Cancel (Ctrl+Enter saves, Escape cancels). */
export function DescriptionEditor({ text, onSave, what }) {
  const [draft, setDraft] = useState(null);
  const write = useWrite();
  const readOnly = useReadOnly();
  const save = async () => {
    if (await write.run(() => onSave(draft))) setDraft(null);
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) save();
    if (e.key === "Escape") setDraft(null);
  };
  const editing = draft !== null;
  return html`<${Card}
    title="Description"
    actions=${!editing && !readOnly && html`<button class="btn" onClick=${() => setDraft(text || "")} aria-label=${`Edit the description of this ${what}`}>Edit</button>`}
  >
    ${editing
      ? html`<div class="reg-editor">
          <textarea class="input reg-textarea" aria-label="Description (markdown)" value=${draft} rows="6"
            onInput=${(e) => setDraft(e.currentTarget.value)} onKeyDown=${onKeyDown} autofocus></textarea>
          <div class="reg-row">
            <button class="btn btn-primary" onClick=${save} disabled=${write.busy}>Save</button>
            <button class="btn" onClick=${() => setDraft(null)} disabled=${write.busy}>Cancel</button>
            <span class="muted small">Markdown · Ctrl+Enter saves · Esc cancels</span>
          </div>
          <${WriteError} error=${write.error} />
        </div>`
      : text
        ? html`<${Markdown} text=${text} />`
        : html`<div class="muted">No description.${!readOnly && html` <button class="link-btn" onClick=${() => setDraft("")}>Add one</button>`}</div>`}
  </${Card}>`;
}

/** A tag table with delete buttons and an add/overwrite form. */
export function TagsEditor({ tags, onSet, onDelete, what }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const write = useWrite();
  const readOnly = useReadOnly();
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  const add = async (e) => {
    e.preventDefault();
    if (!key.trim()) return;
    if (await write.run(() => onSet(key.trim(), value))) {
      setKey("");
      setValue("");
    }
  };
  return html`<${Card} title="Tags" count=${entries.length} label=${`Tags of this ${what}`}>
    ${entries.length
      ? html`<table class="kv-table reg-tags" data-table="tags"><tbody>
          ${entries.map(
            ([k, v]) => html`<tr key=${k}>
              <td class="key wrap">${k}</td><td class="wrap">${v}</td>
              <td class="reg-actions">${!readOnly && html`<button class="btn-icon" aria-label=${`Delete tag ${k}`} title="Delete this tag"
                onClick=${() => write.run(() => onDelete(k))} disabled=${write.busy}>✕</button>`}</td>
            </tr>`,
          )}
        </tbody></table>`
      : html`<div class="muted">No tags.</div>`}
    ${!readOnly && html`<form class="reg-row reg-add" onSubmit=${add}>
      <input class="input input-sm" placeholder="Key" aria-label="New tag key" value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />
      <input class="input input-sm reg-grow" placeholder="Value" aria-label="New tag value" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />
      <button class="btn" type="submit" disabled=${write.busy || !key.trim()}>${tags[key.trim()] !== undefined ? "Update tag" : "Add tag"}</button>
    </form>`}
    <${WriteError} error=${write.error} />
  </${Card}>`;
}

/** Alias chips (alias → version) with remove buttons, and a form that sets or moves an alias. */
export function AliasesEditor({ aliases, versions, fixedVersion, onSet, onDelete }) {
  const [alias, setAlias] = useState("");
  const [version, setVersion] = useState("");
  const write = useWrite();
  const readOnly = useReadOnly();
  const target = fixedVersion ?? (version || (versions.length ? String(versions[0]) : ""));
  const shown = fixedVersion === undefined ? aliases : aliases.filter((a) => String(a.version) === String(fixedVersion));
  const add = async (e) => {
    e.preventDefault();
    if (!alias.trim() || !target) return;
    if (await write.run(() => onSet(alias.trim(), target))) setAlias("");
  };
  const moving = aliases.find((a) => a.alias === alias.trim() && String(a.version) !== String(target));
  return html`<div class="reg-aliases">
    <div class="reg-chips">
      ${shown.length === 0 && html`<span class="muted">No aliases.</span>`}
      ${shown.map(
        (a) => html`<span class="reg-chip" key=${a.alias}>
          <span class="reg-alias">@${a.alias}</span>${fixedVersion === undefined && html`<span class="muted"> → v${a.version}</span>`}
          ${!readOnly && html`<button class="btn-icon reg-chip-x" aria-label=${`Remove alias ${a.alias}`} title="Remove this alias"
            onClick=${() => write.run(() => onDelete(a.alias))} disabled=${write.busy}>✕</button>`}
        </span>`,
      )}
    </div>
    ${!readOnly && html`<form class="reg-row reg-add" onSubmit=${add}>
      <input class="input input-sm" placeholder="alias" aria-label="Alias name" value=${alias} onInput=${(e) => setAlias(e.currentTarget.value)} />
      ${fixedVersion === undefined &&
      html`<select class="input input-sm select-input" aria-label="Version the alias points to" value=${target} onChange=${(e) => setVersion(e.currentTarget.value)}>
        ${versions.map((v) => html`<option value=${String(v)}>Version ${v}</option>`)}
      </select>`}
      <button class="btn" type="submit" disabled=${write.busy || !alias.trim() || !target}>${moving ? `Move from v${moving.version}` : "Set alias"}</button>
    </form>`}
    <${WriteError} error=${write.error} />
  </div>`;
}

/** The legacy stage with a select to transition it (archiving the others when moving into Staging/Production). */
export function StageEditor({ stage, onTransition }) {
  const [archive, setArchive] = useState(false);
  const write = useWrite();
  const readOnly = useReadOnly();
  if (readOnly) return html`<${StageBadge} stage=${stage} />`;
  const change = (e) => {
    const next = e.currentTarget.value;
    if (next !== stage) write.run(() => onTransition(next, archive && (next === "Staging" || next === "Production")));
  };
  return html`<div class="reg-stage">
    <select class="input input-sm select-input" aria-label="Stage" value=${stage} onChange=${change} disabled=${write.busy}>
      ${STAGES.map((s) => html`<option value=${s}>${s}</option>`)}
    </select>
    <label class="toggle"><input type="checkbox" checked=${archive} onChange=${(e) => setArchive(e.currentTarget.checked)} />
      archive the versions now in the new stage</label>
    <${WriteError} error=${write.error} />
  </div>`;
}

/** A stage as a small coloured label (MLflow marks stages as deprecated; they still appear in old trees). */
export function StageBadge({ stage }) {
  if (!stage || stage === "None") return html`<span class="muted">—</span>`;
  return html`<span class=${`badge reg-stage-${stage.toLowerCase()}`}>${stage}</span>`;
}

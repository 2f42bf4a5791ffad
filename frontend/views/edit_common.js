// Editing pieces shared by the experiment header and the run page: a modal dialog, a markdown
// description editor with preview, and a tags editor (system tags `mlflow.*` read-only).
// Every write is an async function given by the caller; a refusal shows the server's message in place.
import { html, useLayoutEffect, useRef, useState } from "../lib/html.js";
import { Markdown } from "../lib/markdown.js";
import { showToast } from "../lib/toast.js";
import { useWrite } from "../lib/writes.js";

export const NOTE_TAG = "mlflow.note.content";
export const isSystemTag = (key) => key.startsWith("mlflow.");

export function WriteError({ error }) {
  return error ? html`<div class="error-box edit-error" role="alert">${error}</div>` : null;
}

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])";

/** Tab and Shift+Tab wrap around inside `box`: a modal dialog keeps the keyboard focus in itself. */
function trapTab(e, box) {
  const items = [...box.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** A modal dialog: Escape or Cancel closes it and focus goes back to what opened it; Tab stays inside it. */
export function Dialog({ title, onClose, children }) {
  const box = useRef(null);
  // Focus moves in as the dialog renders (a layout effect): an Escape pressed the moment it appears reaches it.
  useLayoutEffect(() => {
    const opener = document.activeElement;
    const first = box.current && box.current.querySelector("input, textarea, button");
    if (first) first.focus();
    return () => opener && opener.isConnected && opener.focus();
  }, []);
  const onKeyDown = (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
    if (e.key === "Tab" && box.current) trapTab(e, box.current);
  };
  return html`<div class="edit-backdrop" onMouseDown=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="edit-dialog" role="dialog" aria-modal="true" aria-label=${title} ref=${box} onKeyDown=${onKeyDown}>
      <h2>${title}</h2>
      ${children}
    </div>
  </div>`;
}

/** A dialog asking for one text value (rename). */
export function TextDialog({ title, label, value, onSave, onClose }) {
  const [draft, setDraft] = useState(value || "");
  const write = useWrite();
  const submit = async (e) => {
    e.preventDefault();
    if (await write.run(() => onSave(draft.trim()))) onClose();
  };
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <form onSubmit=${submit}>
      <label class="edit-field">${label}
        <input class="input" value=${draft} onInput=${(e) => setDraft(e.currentTarget.value)} aria-label=${label} />
      </label>
      <${WriteError} error=${write.error} />
      <div class="edit-row">
        <button class="btn btn-primary" type="submit" disabled=${write.busy}>Save</button>
        <button class="btn" type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  </${Dialog}>`;
}

/** Markdown description: Edit opens a textarea with Write/Preview; Ctrl+Enter saves, Escape cancels. */
export function DescriptionEditor({ text, onSave, readOnly, what }) {
  const [draft, setDraft] = useState(null);
  const [preview, setPreview] = useState(false);
  const write = useWrite();
  const save = async () => {
    if (await write.run(() => onSave(draft))) setDraft(null);
  };
  const onKeyDown = (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) save();
    if (e.key === "Escape") {
      e.stopPropagation(); // cancels the edit only, not a dialog around it
      setDraft(null);
    }
  };
  if (draft === null) {
    return html`<div class="edit-description">
      ${text ? html`<${Markdown} text=${text} />` : html`<div class="muted">No description.</div>`}
      ${!readOnly &&
      html`<button class="btn btn-small" onClick=${() => { setPreview(false); setDraft(text || ""); }}
        aria-label=${`Edit the description of this ${what}`}>Edit description</button>`}
    </div>`;
  }
  return html`<div class="edit-description editing">
    <div class="edit-row" role="tablist">
      <button class=${`btn btn-small${preview ? "" : " active"}`} role="tab" aria-selected=${!preview} onClick=${() => setPreview(false)}>Write</button>
      <button class=${`btn btn-small${preview ? " active" : ""}`} role="tab" aria-selected=${preview} onClick=${() => setPreview(true)}>Preview</button>
    </div>
    ${preview
      ? html`<div class="edit-preview" aria-label="Description preview"><${Markdown} text=${draft} /></div>`
      : html`<textarea class="input edit-textarea" aria-label="Description (markdown)" rows="6" value=${draft}
          onInput=${(e) => setDraft(e.currentTarget.value)} onKeyDown=${onKeyDown} autofocus></textarea>`}
    <${WriteError} error=${write.error} />
    <div class="edit-row">
      <button class="btn btn-primary" onClick=${save} disabled=${write.busy}>Save</button>
      <button class="btn" onClick=${() => setDraft(null)} disabled=${write.busy}>Cancel</button>
    </div>
  </div>`;
}

/** Tags as key/value rows: user tags editable and removable, `mlflow.*` ones read-only, a form to add one. */
export function TagsEditor({ tags, onSet, onDelete, readOnly, hide = [] }) {
  const entries = Object.entries(tags || {}).filter(([k]) => !hide.includes(k)).sort(([a], [b]) => a.localeCompare(b));
  const [editing, setEditing] = useState(null); // { key, value }
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const write = useWrite();
  const add = async (e) => {
    e.preventDefault();
    if (await write.run(() => onSet(key.trim(), value))) {
      setKey("");
      setValue("");
    }
  };
  const box = useRef(null);
  // Removing is destructive: the toast offers Undo (the tag set again), and focus stays in the editor.
  const remove = async (k, v) => {
    if (!(await write.run(() => onDelete(k)))) return;
    showToast(`Removed tag ${k}`, { undo: () => onSet(k, v) });
    const next = box.current && box.current.querySelector("input");
    if (next) next.focus();
  };
  const saveEdit = async () => {
    if (await write.run(() => onSet(editing.key, editing.value))) setEditing(null);
  };
  const row = ([k, v]) => {
    const system = isSystemTag(k);
    if (editing && editing.key === k) {
      return html`<tr data-tag=${k}><td class="key wrap">${k}</td><td>
        <input class="input input-sm" aria-label=${`Value of tag ${k}`} value=${editing.value} autofocus
          onInput=${(e) => setEditing({ key: k, value: e.currentTarget.value })}
          onKeyDown=${(e) => {
            if (e.key === "Enter") saveEdit();
            if (e.key === "Escape") {
              e.stopPropagation();
              setEditing(null);
            }
          }} />
        <button class="btn btn-small" onClick=${saveEdit} disabled=${write.busy}>Save</button>
        <button class="btn btn-small" onClick=${() => setEditing(null)}>Cancel</button>
      </td><td></td></tr>`;
    }
    return html`<tr data-tag=${k} class=${system ? "system" : ""}><td class="key wrap">${k}</td><td class="wrap">${v}</td>
      <td class="edit-actions">${!readOnly && !system &&
        html`<button class="btn-icon" aria-label=${`Edit tag ${k}`} onClick=${() => setEditing({ key: k, value: v })}>Edit</button>
          <button class="btn-icon" aria-label=${`Remove tag ${k}`} onClick=${() => remove(k, v)}>Remove</button>`}
        ${system && html`<span class="muted" title="System tags are set by MLflow">read-only</span>`}</td></tr>`;
  };
  return html`<div class="edit-tags" ref=${box}>
    ${entries.length ? html`<table class="kv-table" data-table="edit-tags"><tbody>${entries.map(row)}</tbody></table>` : html`<div class="muted">No tags.</div>`}
    <${WriteError} error=${write.error} />
    ${!readOnly &&
    html`<form class="edit-row" onSubmit=${add} aria-label="Add a tag">
      <input class="input input-sm" placeholder="key" aria-label="New tag key" value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />
      <input class="input input-sm" placeholder="value" aria-label="New tag value" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />
      <button class="btn btn-small" type="submit" disabled=${write.busy || !key.trim()}>Add tag</button>
    </form>`}
  </div>`;
}

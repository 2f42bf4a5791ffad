// Bulk edits of the runs table's selection: delete (soft, with undo), restore, add a tag to every run.
// Each run is one MLflow request (runs/delete, runs/restore, runs/set-tag), as MLflow's client does.
import { html, useState } from "../lib/html.js";
import { setRunTag } from "../lib/api.js";
import { showToast } from "../lib/toast.js";
import { Dialog, WriteError } from "./edit_common.js";
import { useReadOnly, useWrite } from "../lib/writes.js";
import { deleteRunsWithUndo, restoreRuns } from "./edit_run.js";
import { reloadExperiments } from "./experiments.js";

const runsLabel = (n) => `${n} ${n === 1 ? "run" : "runs"}`;

/** Delete / Restore / Add tag for the selected runs (a Map run_id -> experiment_id); `onDone` after each write. */
export function BulkRunActions({ selected, viewType, onDone: reloadTable }) {
  // The sidebar's run counts change with deletes and restores too.
  const onDone = () => {
    reloadTable();
    reloadExperiments();
  };
  const readOnly = useReadOnly();
  const [tagging, setTagging] = useState(false);
  const [busy, setBusy] = useState(false);
  if (readOnly || selected.size === 0) return null;
  const ids = [...selected.keys()];
  const label = runsLabel(ids.length);
  const act = async (fn) => {
    setBusy(true);
    try {
      await fn();
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="bulk-actions" role="group" aria-label="Selected runs">
    ${viewType !== "DELETED_ONLY" &&
    html`<button class="btn btn-warn" disabled=${busy} onClick=${() => act(() => deleteRunsWithUndo(ids, label, onDone))}>Delete (${ids.length})</button>`}
    ${viewType !== "ACTIVE_ONLY" &&
    html`<button class="btn" disabled=${busy} onClick=${() => act(() => restoreRuns(ids, label, onDone))}>Restore (${ids.length})</button>`}
    <button class="btn" disabled=${busy} onClick=${() => setTagging(true)}>Add tag (${ids.length})</button>
    ${tagging && html`<${BulkTagDialog} ids=${ids} onClose=${() => setTagging(false)} onDone=${onDone} />`}
  </span>`;
}

function BulkTagDialog({ ids, onClose, onDone }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const write = useWrite();
  const submit = async (e) => {
    e.preventDefault();
    const ok = await write.run(async () => {
      for (const id of ids) await setRunTag(id, key.trim(), value);
    });
    onDone();
    if (ok) {
      showToast(`Tagged ${runsLabel(ids.length)} with ${key.trim()}=${value}`);
      onClose();
    }
  };
  return html`<${Dialog} title=${`Add a tag to ${runsLabel(ids.length)}`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <label class="edit-field">Key<input class="input" aria-label="Tag key" value=${key} onInput=${(e) => setKey(e.currentTarget.value)} /></label>
      <label class="edit-field">Value<input class="input" aria-label="Tag value" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} /></label>
      <${WriteError} error=${write.error} />
      <div class="edit-row">
        <button class="btn btn-primary" type="submit" disabled=${write.busy || !key.trim()}>Add tag</button>
        <button class="btn" type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  </${Dialog}>`;
}

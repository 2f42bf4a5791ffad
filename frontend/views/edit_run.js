// Run editing on the run page: rename (MLflow's runs/update run_name, which also sets mlflow.runName),
// description (mlflow.note.content) and tags, delete / restore with undo. The page re-reads the run
// through the live channel after each write (the index has it at once: read-your-writes).
import { html, useState } from "../lib/html.js";
import { deleteRun, deleteRunTag, renameRun, restoreRun, setRunTag } from "../lib/api.js";
import { showToast } from "../lib/toast.js";
import { DescriptionEditor, Dialog, NOTE_TAG, TagsEditor, TextDialog } from "./edit_common.js";
import { useReadOnly } from "../lib/writes.js";

/** Soft-delete runs with an undo toast (restore); errors show the server's message. `after` runs after each change. */
export async function deleteRunsWithUndo(runIds, label, after = () => {}) {
  try {
    for (const id of runIds) await deleteRun(id);
  } catch (err) {
    showToast(err.message, { error: true });
    after();
    return false;
  }
  after();
  showToast(`Deleted ${label}`, {
    undo: async () => {
      for (const id of runIds) await restoreRun(id);
      after();
    },
  });
  return true;
}

/** Restore runs (deleted ones); errors show the server's message. */
export async function restoreRuns(runIds, label, after = () => {}) {
  try {
    for (const id of runIds) await restoreRun(id);
    showToast(`Restored ${label}`);
    return true;
  } catch (err) {
    showToast(err.message, { error: true });
    return false;
  } finally {
    after();
  }
}

/** Rename / Description & tags / Delete or Restore, under the run's title; nothing when the server is read-only. */
export function RunActions({ run }) {
  const readOnly = useReadOnly();
  const [dialog, setDialog] = useState(null); // "rename" | "details"
  if (readOnly) return null;
  const info = run.info;
  const deleted = info.lifecycle_stage === "deleted";
  const name = info.run_name || info.run_id;
  return html`<div class="edit-row run-actions" role="toolbar" aria-label="Run actions">
    ${deleted && html`<span class="badge">deleted</span>`}
    ${!deleted && html`<button class="btn btn-small" onClick=${() => setDialog("rename")}>Rename</button>
      <button class="btn btn-small" onClick=${() => setDialog("details")}>Edit description & tags</button>
      <button class="btn btn-small btn-warn" onClick=${() => deleteRunsWithUndo([info.run_id], `run "${name}"`)}>Delete run</button>`}
    ${deleted && html`<button class="btn btn-small" onClick=${() => restoreRuns([info.run_id], `run "${name}"`)}>Restore run</button>`}
    ${dialog === "rename" && html`<${TextDialog} title="Rename run" label="Run name" value=${info.run_name || ""}
      onSave=${(value) => renameRun(info.run_id, value)} onClose=${() => setDialog(null)} />`}
    ${dialog === "details" && html`<${Dialog} title="Description & tags" onClose=${() => setDialog(null)}>
      <h3>Description</h3>
      <${DescriptionEditor} what="run" text=${run.tags[NOTE_TAG]} onSave=${(text) => setRunTag(info.run_id, NOTE_TAG, text)} />
      <h3>Tags</h3>
      <${TagsEditor} tags=${run.tags} hide=${[NOTE_TAG]} onSet=${(k, v) => setRunTag(info.run_id, k, v)} onDelete=${(k) => deleteRunTag(info.run_id, k)} />
      <div class="edit-row"><span class="spacer"></span><button class="btn" onClick=${() => setDialog(null)}>Close</button></div>
    </${Dialog}>`}
  </div>`;
}

// Experiment editing: "New experiment" in the sidebar, and the experiment header (rename, description,
// tags, delete / restore with undo). All writes are MLflow's REST endpoints; the index reads them back.
import { html, useEffect, useState } from "../lib/html.js";
import {
  createExperiment, deleteExperiment, deleteExperimentTag, getExperiment, renameExperiment, restoreExperiment, setExperimentTag,
} from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { showToast } from "../lib/toast.js";
import { useLive } from "./use_live.js";
import { reloadExperiments } from "./experiments.js";
import { DescriptionEditor, Dialog, NOTE_TAG, TagsEditor, TextDialog, WriteError } from "./edit_common.js";
import { useReadOnly, useWritable, useWrite } from "../lib/writes.js";

/** The sidebar's "New experiment" button and its dialog (name, artifact location, tags). */
export function NewExperimentButton() {
  const readOnly = useReadOnly();
  const [open, setOpen] = useState(false);
  if (readOnly) return null;
  return html`<button class="btn btn-small" onClick=${() => setOpen(true)}>New experiment</button>
    ${open && html`<${NewExperimentDialog} onClose=${() => setOpen(false)} />`}`;
}

function NewExperimentDialog({ onClose }) {
  const [name, setName] = useState("");
  const [location, setLocation] = useState("");
  const [tags, setTags] = useState([{ key: "", value: "" }]);
  const write = useWrite();
  const setTag = (i, field, value) => setTags(tags.map((t, j) => (j === i ? { ...t, [field]: value } : t)));
  const submit = async (e) => {
    e.preventDefault();
    let created = null;
    const body = { name: name.trim(), tags: tags.filter((t) => t.key.trim()).map((t) => ({ key: t.key.trim(), value: t.value })) };
    if (location.trim()) body.artifact_location = location.trim();
    if (await write.run(async () => { created = await createExperiment(body); await reloadExperiments(); })) {
      onClose();
      window.location.hash = hrefFor(["experiments", created.experiment_id]).slice(1);
    }
  };
  return html`<${Dialog} title="New experiment" onClose=${onClose}>
    <form onSubmit=${submit}>
      <label class="edit-field">Name
        <input class="input" aria-label="Experiment name" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="edit-field">Artifact location (optional)
        <input class="input" aria-label="Artifact location" placeholder="default" value=${location} onInput=${(e) => setLocation(e.currentTarget.value)} />
      </label>
      <fieldset class="edit-field"><legend>Tags</legend>
        ${tags.map((t, i) => html`<div class="edit-row">
          <input class="input input-sm" aria-label=${`Tag ${i + 1} key`} placeholder="key" value=${t.key} onInput=${(e) => setTag(i, "key", e.currentTarget.value)} />
          <input class="input input-sm" aria-label=${`Tag ${i + 1} value`} placeholder="value" value=${t.value} onInput=${(e) => setTag(i, "value", e.currentTarget.value)} />
        </div>`)}
        <button class="btn btn-small" type="button" onClick=${() => setTags([...tags, { key: "", value: "" }])}>Add another tag</button>
      </fieldset>
      <${WriteError} error=${write.error} />
      <div class="edit-row">
        <button class="btn btn-primary" type="submit" disabled=${write.busy}>Create</button>
        <button class="btn" type="button" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  </${Dialog}>`;
}

function useMlflowExperiment(experimentId) {
  const [state, setState] = useState({ experiment: null, error: null });
  const load = (signal) =>
    getExperiment(experimentId, { signal })
      .then((body) => setState({ experiment: body.experiment, error: null }))
      .catch((err) => err.name !== "AbortError" && setState({ experiment: null, error: err.message }));
  useEffect(() => {
    const ctrl = new AbortController();
    load(ctrl.signal);
    return () => ctrl.abort();
  }, [experimentId]);
  useLive(() => load());
  return { ...state, reload: () => load() };
}

const tagMap = (experiment) => Object.fromEntries((experiment.tags || []).map((t) => [t.key, t.value]));

/** Above one experiment's runs: its name with Rename / Delete (or Restore), its description and tags. */
export function ExperimentHeader({ experimentId }) {
  const { experiment, error, reload } = useMlflowExperiment(experimentId);
  const writable = useWritable();
  const readOnly = writable !== true;
  const [renaming, setRenaming] = useState(false);
  const [open, setOpen] = useState(false);
  if (error) return html`<div class="error-box">${error}</div>`;
  if (!experiment) return null;
  const tags = tagMap(experiment);
  const deleted = experiment.lifecycle_stage === "deleted";
  const after = (fn) => async (...args) => { await fn(...args); await Promise.all([reload(), reloadExperiments()]); };
  const onDelete = async () => {
    try {
      await deleteExperiment(experimentId);
      await Promise.all([reload(), reloadExperiments()]);
      showToast(`Deleted experiment "${experiment.name}"`, { undo: after(() => restoreExperiment(experimentId)) });
    } catch (err) {
      showToast(err.message, { error: true });
    }
  };
  const onRestore = async () => {
    try {
      await restoreExperiment(experimentId);
      await Promise.all([reload(), reloadExperiments()]);
      showToast(`Restored experiment "${experiment.name}"`);
    } catch (err) {
      showToast(err.message, { error: true });
    }
  };
  const userTags = Object.keys(tags).filter((k) => !k.startsWith("mlflow.")).length;
  return html`<section class="exp-header" aria-label="Experiment" data-writable=${String(writable)}>
    <div class="edit-row">
      <h1 class="exp-title">${experiment.name}</h1>
      ${deleted && html`<span class="badge">deleted</span>`}
      <button class="btn btn-small" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        ${open ? "Hide details" : `Description & tags${userTags ? ` (${userTags})` : ""}`}</button>
      <span class="spacer"></span>
      ${!readOnly && !deleted && html`<button class="btn btn-small" onClick=${() => setRenaming(true)}>Rename</button>
        <button class="btn btn-small btn-warn" onClick=${onDelete}>Delete experiment</button>`}
      ${!readOnly && deleted && html`<button class="btn btn-small" onClick=${onRestore}>Restore experiment</button>`}
    </div>
    ${open && html`<div class="exp-header-details">
      <${DescriptionEditor} what="experiment" text=${tags[NOTE_TAG]} readOnly=${readOnly || deleted}
        onSave=${after((text) => setExperimentTag(experimentId, NOTE_TAG, text))} />
      <${TagsEditor} tags=${tags} hide=${[NOTE_TAG]} readOnly=${readOnly || deleted}
        onSet=${after((k, v) => setExperimentTag(experimentId, k, v))} onDelete=${after((k) => deleteExperimentTag(experimentId, k))} />
    </div>`}
    ${renaming && html`<${TextDialog} title="Rename experiment" label="New name" value=${experiment.name}
      onSave=${after((name) => renameExperiment(experimentId, name))} onClose=${() => setRenaming(false)} />`}
  </section>`;
}

/** "Restore" next to a deleted experiment in the sidebar's "show deleted" list. */
export function RestoreExperimentButton({ experiment }) {
  const readOnly = useReadOnly();
  if (readOnly) return null;
  const onClick = async () => {
    try {
      await restoreExperiment(experiment.experiment_id);
      await reloadExperiments();
      showToast(`Restored experiment "${experiment.name}"`);
    } catch (err) {
      showToast(err.message, { error: true });
    }
  };
  return html`<button class="btn btn-small" aria-label=${`Restore ${experiment.name}`} onClick=${onClick}>Restore</button>`;
}

// The run page's "Registered models" card: the model versions registered from this run, linked to their pages,
// and "Register model" for the run's models (MLflow 3 logged models, and MLmodel folders named in the run's
// mlflow.log-model.history tag): pick an existing registered model or type a new name; the version appears at once.
import { html, useEffect, useState } from "../lib/html.js";
import { createModelVersion, createRegisteredModel, fetchRun, fetchRunModelVersions, searchRegisteredModels } from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { StageBadge } from "./models_editors.js";
import { useReadOnly, useWrite } from "../lib/writes.js";

const HISTORY_TAG = "mlflow.log-model.history";

/** What a run can register: its logged models, and artifact folders its model history names. */
export function registrableModels(run) {
  const choices = (run.logged_models || []).map((m) => ({
    key: `model:${m.model_id}`,
    label: `${m.name || m.model_id} (logged model)`,
    name: m.name,
    request: { source: `models:/${m.model_id}`, model_id: m.model_id, run_id: run.info.run_id },
  }));
  let history = [];
  try {
    history = JSON.parse(run.tags[HISTORY_TAG] || "[]");
  } catch {
    history = [];
  }
  const base = (run.info.artifact_uri || "").replace(/\/+$/, "");
  for (const path of new Set(history.map((h) => h && h.artifact_path).filter(Boolean))) {
    choices.push({ key: `path:${path}`, label: `${path}/ (run artifacts)`, name: path, request: { source: `${base}/${path}`, run_id: run.info.run_id } });
  }
  return choices;
}

function useModelNames() {
  const [names, setNames] = useState([]);
  useEffect(() => {
    const controller = new AbortController();
    searchRegisteredModels({ max_results: 1000, order_by: ["name ASC"] }, { signal: controller.signal })
      .then((body) => setNames((body.registered_models || []).map((m) => m.name)))
      .catch(() => {});
    return () => controller.abort();
  }, []);
  return names;
}

function RegisterForm({ choices, onRegistered }) {
  const [choice, setChoice] = useState(choices[0].key);
  const [name, setName] = useState("");
  const [done, setDone] = useState(null);
  const names = useModelNames();
  const write = useWrite();
  const picked = choices.find((c) => c.key === choice) || choices[0];
  const submit = async (e) => {
    e.preventDefault();
    const target = name.trim();
    if (!target) return;
    let created = null;
    const ok = await write.run(async () => {
      if (!names.includes(target)) {
        try {
          await createRegisteredModel(target);
        } catch (err) {
          if (err.code !== "RESOURCE_ALREADY_EXISTS") throw err;
        }
      }
      created = (await createModelVersion({ name: target, ...picked.request })).model_version;
    });
    if (ok && created) {
      setDone(created);
      onRegistered();
    }
  };
  return html`<form class="reg-register" onSubmit=${submit} aria-label="Register model">
    <div class="reg-row">
      <select class="input input-sm select-input" aria-label="Model to register" value=${choice} onChange=${(e) => setChoice(e.currentTarget.value)}>
        ${choices.map((c) => html`<option value=${c.key}>${c.label}</option>`)}
      </select>
      <span class="muted">as</span>
      <input class="input input-sm reg-grow" list="reg-model-names" placeholder="new or existing model name" aria-label="Registered model name"
        value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
      <datalist id="reg-model-names">${names.map((n) => html`<option value=${n} />`)}</datalist>
      <button class="btn btn-primary" type="submit" disabled=${write.busy || !name.trim()}>Register model</button>
    </div>
    ${done && html`<div class="small reg-done" role="status">Registered <a href=${hrefFor(["models", done.name, "versions", done.version])}>${done.name} version ${done.version}</a>.</div>`}
    ${write.error && html`<div class="error-box reg-error" role="alert">${write.error}</div>`}
  </form>`;
}

export function RunModelVersions({ run }) {
  const runId = run.info.run_id;
  const [versions, setVersions] = useState([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    fetchRunModelVersions(runId, { signal: controller.signal })
      .then((body) => setVersions(body.model_versions || []))
      .catch(() => {}); // the card is an extra: a failure leaves it empty rather than breaking the run page
    return () => controller.abort();
  }, [runId, tick]);
  useEffect(() => setVersions([]), [runId]);
  const readOnly = useReadOnly();
  const choices = readOnly ? [] : registrableModels(run);
  if (!versions.length && !choices.length) return null;
  return html`<section class="card" aria-label="Registered models">
    <div class="card-head"><h3>Registered models <span class="muted">${versions.length}</span></h3></div>
    <div class="card-body">
      ${versions.length > 0 &&
      html`<ul class="link-list" data-list="registered-versions">
        ${versions.map(
          (v) => html`<li key=${`${v.name}/${v.version}`}>
            <a href=${hrefFor(["models", v.name, "versions", v.version])}>${v.name} <span class="muted">v${v.version}</span></a>
            ${(v.aliases || []).map((a) => html` <span class="reg-chip"><span class="reg-alias">@${a}</span></span>`)}
            ${v.current_stage && v.current_stage !== "None" && html` <${StageBadge} stage=${v.current_stage} />`}
          </li>`,
        )}
      </ul>`}
      ${choices.length > 0 && html`<${RegisterForm} key=${runId} choices=${choices} onRegistered=${() => setTick((t) => t + 1)} />`}
    </div>
  </section>`;
}

/**
 * "Register model" for the folder the artifact browser shows, when it holds an MLmodel: a logged model's own
 * folder registers as models:/<model_id>, a run folder as <artifact_uri>/<path>. Hidden on a read-only server.
 */
export function RegisterFolderAction({ runId, modelId, path }) {
  const readOnly = useReadOnly();
  const [artifactUri, setArtifactUri] = useState(null);
  useEffect(() => {
    if (modelId && !path) return undefined;
    const controller = new AbortController();
    fetchRun(runId, { signal: controller.signal })
      .then((data) => setArtifactUri((data.run.info.artifact_uri || "").replace(/\/+$/, "")))
      .catch(() => {});
    return () => controller.abort();
  }, [runId, modelId, path]);
  if (readOnly || (modelId && path)) return null; // files inside a logged model are registered through the model itself
  let choice;
  if (modelId) {
    choice = { key: `model:${modelId}`, label: `${modelId} (logged model)`, request: { source: `models:/${modelId}`, model_id: modelId, run_id: runId } };
  } else {
    if (artifactUri === null) return null;
    choice = { key: `path:${path}`, label: `${path || "artifact root"}/ (run artifacts)`, request: { source: path ? `${artifactUri}/${path}` : artifactUri, run_id: runId } };
  }
  return html`<div class="reg-folder-register">
    <div class="af-section-title">Register this model</div>
    <${RegisterForm} key=${choice.key} choices=${[choice]} onRegistered=${() => {}} />
  </div>`;
}

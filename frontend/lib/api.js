// The one API client: JSON in, JSON out, errors as ApiError carrying the server's message.
// Requests go through lib/connection.js, which notices when the server stops answering.
import { send } from "./connection.js";

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function toQuery(params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = (body && body.message) || text || response.statusText;
    throw new ApiError(message, response.status, body && body.error_code);
  }
  return body;
}

/** GET path with query params (arrays repeat the key). */
export async function getJSON(path, params, { signal } = {}) {
  return parse(await send(path + toQuery(params), { signal, headers: { Accept: "application/json" } }));
}

/** POST a JSON body. */
export async function postJSON(path, body, { signal } = {}) {
  return parse(
    await send(path, {
      method: "POST",
      signal,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

/** A URL for a GET (downloads, links) with the same query encoding. */
export function urlFor(path, params) {
  return path + toQuery(params);
}

// ---- mlscope's endpoints: every URL the views use is named here, once.

const UI = "/api/mlscope";

/** Index progress ({phase, done, total, ready, version}). */
export const fetchStatus = (opts) => getJSON(`${UI}/status`, undefined, opts);
/** Folders and files the index skipped. */
export const fetchProblems = (opts) => getJSON(`${UI}/problems`, undefined, opts);
/** Every experiment with run counts. */
export const fetchExperiments = (opts) => getJSON(`${UI}/experiments`, undefined, opts);
/** Param, metric and tag keys of these experiments (with how many active runs have each). */
export const fetchKeys = (experimentIds, opts) => getJSON(`${UI}/keys`, { experiment_ids: experimentIds }, opts);
/** One run with everything its page shows. */
export const fetchRun = (runId, opts) => getJSON(`${UI}/run`, { run_id: runId }, opts);
/** Compare entries (info, params, metric summaries, tags) of these runs. */
export const compareRuns = (runIds, opts) => postJSON(`${UI}/compare`, { run_ids: runIds }, opts);
/** A page of runs-table rows. */
export const searchRunRows = (body, opts) => postJSON(`${UI}/runs/search`, body, opts);
/** The CSV of every run a runs-table query matches. */
export const runsCsvUrl = (params) => urlFor(`${UI}/runs/export.csv`, params);
/** Downsampled metric histories of (run, key) pairs. */
export const fetchHistories = (body, opts) => postJSON(`${UI}/metrics/histories`, body, opts);
/** An artifacts endpoint (list, preview, …) as JSON, and the URL of one (file, zip) for links. */
export const fetchArtifacts = (endpoint, params, opts) => getJSON(`${UI}/artifacts/${endpoint}`, params, opts);
export const artifactsUrl = (endpoint, params) => urlFor(`${UI}/artifacts/${endpoint}`, params);
/** The chart view's runs (first N of the runs table's query, plus pinned runs) with params, latest metrics, metric keys. */
export const fetchChartRuns = (body, opts) => postJSON(`${UI}/charts/runs`, body, opts);
/** The runs table's matches grouped by params/tags, with mean/min/max of latest metrics per group. */
export const fetchRunGroups = (body, opts) => postJSON(`${UI}/charts/groups`, body, opts);
/** Per group and metric: mean or median per aligned x, with std and min–max bands. */
export const fetchGroupHistories = (body, opts) => postJSON(`${UI}/charts/group-histories`, body, opts);
/** Params of these runs ranked by importance and correlation for one metric. */
export const fetchParamImportance = (body, opts) => postJSON(`${UI}/charts/importance`, body, opts);
/** MLflow's own runs/search (the compare page's "add run" box uses its filter grammar as MLflow does). */
export const mlflowSearchRuns = (body, opts) => postJSON("/ajax-api/2.0/mlflow/runs/search", body, opts);
/** The server-sent events stream of index changes. */
export const EVENTS_URL = `${UI}/events`;

// ---- The model registry: MLflow's own API (as MLflow's UI calls it) and mlscope's two page endpoints.

const REGISTRY = "/ajax-api/2.0/mlflow";

/** A JSON request with any method (MLflow's registry edits use PATCH and DELETE with a JSON body). */
async function sendJSON(method, path, body, { signal } = {}) {
  return parse(
    await send(path, {
      method,
      signal,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body ?? {}),
    }),
  );
}

/** MLflow's page token for an offset (base64 of {"offset": N}), so a page number can live in the URL. */
export const offsetPageToken = (offset) => (offset > 0 ? btoa(JSON.stringify({ offset })) : undefined);
/** A page of registered models: { filter, order_by, max_results, page_token } as MLflow's search takes them. */
export const searchRegisteredModels = (params, opts) => getJSON(`${REGISTRY}/registered-models/search`, params, opts);
/** A model with all its live versions (newest first), each with its source run's name and experiment. */
export const fetchModelPage = (name, opts) => getJSON(`${UI}/registry/model`, { name }, opts);
/** A version with its source run (metrics, params) and where its files are among runs and logged models. */
export const fetchModelVersionPage = (name, version, opts) => getJSON(`${UI}/registry/version`, { name, version }, opts);
/** The live model versions registered from one run. */
export const fetchRunModelVersions = (runId, opts) => getJSON(`${UI}/registry/run-versions`, { run_id: runId }, opts);
export const updateRegisteredModel = (name, description) => sendJSON("PATCH", `${REGISTRY}/registered-models/update`, { name, description });
export const setRegisteredModelTag = (name, key, value) => postJSON(`${REGISTRY}/registered-models/set-tag`, { name, key, value });
export const deleteRegisteredModelTag = (name, key) => sendJSON("DELETE", `${REGISTRY}/registered-models/delete-tag`, { name, key });
export const setModelAlias = (name, alias, version) => postJSON(`${REGISTRY}/registered-models/alias`, { name, alias, version: String(version) });
export const deleteModelAlias = (name, alias) => sendJSON("DELETE", `${REGISTRY}/registered-models/alias`, { name, alias });
export const updateModelVersion = (name, version, description) => sendJSON("PATCH", `${REGISTRY}/model-versions/update`, { name, version: String(version), description });
export const setModelVersionTag = (name, version, key, value) => postJSON(`${REGISTRY}/model-versions/set-tag`, { name, version: String(version), key, value });
export const deleteModelVersionTag = (name, version, key) => sendJSON("DELETE", `${REGISTRY}/model-versions/delete-tag`, { name, version: String(version), key });
export const transitionModelVersionStage = (name, version, stage, archiveExisting) =>
  postJSON(`${REGISTRY}/model-versions/transition-stage`, { name, version: String(version), stage, archive_existing_versions: Boolean(archiveExisting) });
/** The URL of one file of a model version (served as a download). */
export const modelVersionFileUrl = (name, version, path) => urlFor("/model-versions/get-artifact", { name, version, path });
export const createRegisteredModel = (name) => postJSON(`${REGISTRY}/registered-models/create`, { name });
/** A new version: { name, source, run_id?, model_id? }, checked by the server as MLflow's does. */
export const createModelVersion = (body) => postJSON(`${REGISTRY}/model-versions/create`, body);
/** A page of an experiment's MLflow 3 logged models: { experiment_ids, max_results, page_token } -> { models, next_page_token }. */
export const searchLoggedModels = (body, opts) => postJSON(`${REGISTRY}/logged-models/search`, body, opts);

// ---- Tracking edits: MLflow's own REST write API, as MLflow's client calls it.

const TRACKING = "/ajax-api/2.0/mlflow";

/** A new experiment: { name, artifact_location?, tags?: [{key, value}] } -> { experiment_id }. */
export const createExperiment = (body) => postJSON(`${TRACKING}/experiments/create`, body);
export const renameExperiment = (experimentId, newName) => postJSON(`${TRACKING}/experiments/update`, { experiment_id: experimentId, new_name: newName });
export const deleteExperiment = (experimentId) => postJSON(`${TRACKING}/experiments/delete`, { experiment_id: experimentId });
export const restoreExperiment = (experimentId) => postJSON(`${TRACKING}/experiments/restore`, { experiment_id: experimentId });
export const getExperiment = (experimentId, opts) => getJSON(`${TRACKING}/experiments/get`, { experiment_id: experimentId }, opts);
export const setExperimentTag = (experimentId, key, value) => postJSON(`${TRACKING}/experiments/set-experiment-tag`, { experiment_id: experimentId, key, value });
export const deleteExperimentTag = (experimentId, key) => postJSON(`${TRACKING}/experiments/delete-experiment-tag`, { experiment_id: experimentId, key });
/** Rename a run: MLflow sets run_name in meta.yaml and the mlflow.runName tag. */
export const renameRun = (runId, runName) => postJSON(`${TRACKING}/runs/update`, { run_id: runId, run_name: runName });
export const deleteRun = (runId) => postJSON(`${TRACKING}/runs/delete`, { run_id: runId });
export const restoreRun = (runId) => postJSON(`${TRACKING}/runs/restore`, { run_id: runId });
export const setRunTag = (runId, key, value) => postJSON(`${TRACKING}/runs/set-tag`, { run_id: runId, key, value });
export const deleteRunTag = (runId, key) => postJSON(`${TRACKING}/runs/delete-tag`, { run_id: runId, key });

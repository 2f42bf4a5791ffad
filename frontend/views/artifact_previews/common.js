// Shared by the artifact previews: endpoint URLs for a source (run or logged model), fetching, sizes.
import { html, useEffect, useState } from "../../lib/html.js";
import { artifactsUrl, fetchArtifacts } from "../../lib/api.js";

/** Query params naming a file of a source: { runId, modelId } + a path relative to its root. */
export function sourceParams(source, path, extra = {}) {
  return { run_id: source.runId, model_id: source.modelId || undefined, path: path || undefined, ...extra };
}

export function artifactUrl(endpoint, source, path, extra) {
  return artifactsUrl(endpoint, sourceParams(source, path, extra));
}

/** URL to show a file inline (images, PDF, HTML): served sandboxed, never in the app's origin. */
export const inlineUrl = (source, path) => artifactUrl("file", source, path, { inline: 1 });
export const downloadUrl = (source, path) => artifactUrl("file", source, path);
export const zipUrl = (source, path) => artifactUrl("zip", source, path);

/** GET an artifacts endpoint as JSON: { data, error, loading }; refetches when the key changes. */
export function useArtifactJSON(endpoint, source, path, extra = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const key = JSON.stringify([endpoint, source.runId, source.modelId, path, extra]);
  useEffect(() => {
    const controller = new AbortController();
    setState({ data: null, error: null, loading: true });
    fetchArtifacts(endpoint, sourceParams(source, path, extra), { signal: controller.signal })
      .then((data) => setState({ data, error: null, loading: false }))
      .catch((err) => {
        if (err.name !== "AbortError") setState({ data: null, error: err.message || String(err), loading: false });
      });
    return () => controller.abort();
  }, [key]);
  return state;
}

export function fetchArtifactJSON(endpoint, source, path, extra, signal) {
  return fetchArtifacts(endpoint, sourceParams(source, path, extra), { signal });
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function Loading({ what = "Loading…" }) {
  return html`<div class="af-loading muted">${what}</div>`;
}

export function ErrorBox({ message }) {
  return html`<div class="error-box af-error" role="alert">${message}</div>`;
}

export function DownloadLink({ source, path, label = "Download", primary = false }) {
  return html`<a class=${`btn${primary ? " btn-primary" : ""}`} href=${downloadUrl(source, path)} download>${label}</a>`;
}

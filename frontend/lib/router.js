// Hash routing with MLflow's URL shapes, and URL-held state (shareable, reload-proof).
import { useEffect, useState } from "./html.js";

/**
 * Parse location.hash ("#/path?query") into { path, segments, query: URLSearchParams, error }.
 * A segment that is not valid percent-encoding (a mangled link) sets `error` instead of throwing,
 * so the shell can say what is wrong with the address rather than go blank.
 */
export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const at = raw.indexOf("?");
  const path = at < 0 ? raw : raw.slice(0, at);
  const search = at < 0 ? "" : raw.slice(at + 1);
  const query = new URLSearchParams(search);
  try {
    const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    return { path, segments, query, error: null };
  } catch {
    return { path, segments: [], query, error: `The address contains a malformed %-escape: #${path}` };
  }
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const onChange = () => setRoute(parseHash());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** Build "#/a/b?x=1" from segments and a params object (arrays kept as MLflow's JSON lists). */
export function hrefFor(segments, params = {}) {
  const path = "/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) continue;
    query.set(key, Array.isArray(value) ? JSON.stringify(value) : String(value));
  }
  const text = query.toString();
  return "#" + path + (text ? `?${text}` : "");
}

export function navigate(segments, params, { replace = false } = {}) {
  const href = hrefFor(segments, params);
  if (replace) history.replaceState(null, "", href);
  else window.location.hash = href.slice(1);
  if (replace) window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** Update some query params of the current route in place (replaceState: no history spam). */
export function setQueryParams(updates) {
  const { segments, query } = parseHash();
  const params = Object.fromEntries(query.entries());
  for (const [key, value] of Object.entries(updates)) {
    if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) delete params[key];
    else params[key] = Array.isArray(value) ? JSON.stringify(value) : String(value);
  }
  navigate(segments, params, { replace: true });
}

/** Read a JSON-list query param such as runs=["a","b"] (MLflow's compare-runs shape). */
export function listParam(query, name) {
  const raw = query.get(name);
  if (!raw) return [];
  try {
    const value = JSON.parse(raw);
    return Array.isArray(value) ? value.map(String) : [String(value)];
  } catch {
    return raw.split(",").filter(Boolean);
  }
}

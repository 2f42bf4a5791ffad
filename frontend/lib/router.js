// Hash routing with MLflow's URL shapes, and URL-held state (shareable, reload-proof).
import { useEffect, useState } from "./html.js";

/** Parse location.hash ("#/path?query") into { path, segments, query: URLSearchParams }. */
export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { path, segments, query: new URLSearchParams(search) };
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

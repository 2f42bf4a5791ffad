// A view loaded with import() on first use; a missing or broken module shows its error, not a blank page.
import { html, useEffect, useState } from "../lib/html.js";

// Modules already loaded, by loader: a view shown before renders at once, with no "Loading…" flash.
const loaded = new Map();

/**
 * Loads a lazy view's module once the browser is idle (while `when`), so showing it later does not wait
 * for its scripts: the experiment table prefetches the chart view this way.
 */
export function usePrefetch(load, when = true) {
  useEffect(() => {
    if (!when || loaded.has(load)) return undefined;
    const fetchModule = () => load().then((m) => loaded.set(load, m)).catch(() => {});
    if (window.requestIdleCallback) {
      const handle = window.requestIdleCallback(fetchModule);
      return () => window.cancelIdleCallback(handle);
    }
    const timer = setTimeout(fetchModule, 300);
    return () => clearTimeout(timer);
  }, [load, when]);
}

/**
 * Loads an ES module view lazily and renders its export `name` with `props`.
 * What is rendered always belongs to the current `load`/`name`: when they change (another route or
 * tab), the previous module's component is never given the new props, not even for one render.
 */
export function LazyView({ load, name, props }) {
  const [failure, setFailure] = useState(null); // { load, message }
  const [, setTick] = useState(0);
  const mod = loaded.get(load);
  useEffect(() => {
    if (loaded.has(load)) return undefined;
    let live = true;
    load()
      .then((m) => {
        loaded.set(load, m);
        if (live) setTick((t) => t + 1);
      })
      .catch((err) => live && setFailure({ load, message: String(err.message || err) }));
    return () => {
      live = false;
    };
  }, [load]);
  if (failure && failure.load === load) return html`<div class="error-box">This section could not be loaded: ${failure.message}</div>`;
  if (!mod) return html`<div class="muted pad">Loading…</div>`;
  const View = mod[name];
  if (!View) return html`<div class="error-box">This section could not be loaded: ${name} is not exported</div>`;
  return html`<${View} ...${props} />`;
}

// A view loaded with import() on first use; a missing or broken module shows its error, not a blank page.
import { html, useEffect, useState } from "../lib/html.js";

/** Loads an ES module view lazily; if the module is missing or fails, shows why instead of crashing. */
export function LazyView({ load, name, props }) {
  const [state, setState] = useState({ component: null, error: null });
  useEffect(() => {
    let live = true;
    load()
      .then((mod) => live && setState({ component: mod[name], error: mod[name] ? null : `${name} is not exported` }))
      .catch((err) => live && setState({ component: null, error: String(err.message || err) }));
    return () => {
      live = false;
    };
  }, [load, name]);
  if (state.error) return html`<div class="error-box">This section could not be loaded: ${state.error}</div>`;
  if (!state.component) return html`<div class="muted pad">Loading…</div>`;
  const View = state.component;
  return html`<${View} ...${props} />`;
}

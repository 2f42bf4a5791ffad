// The run page's "Registered models" card: the model versions registered from this run, linked to their pages.
import { html, useEffect, useState } from "../lib/html.js";
import { fetchRunModelVersions } from "../lib/api.js";
import { hrefFor } from "../lib/router.js";
import { StageBadge } from "./models_editors.js";

export function RunModelVersions({ runId }) {
  const [versions, setVersions] = useState([]);
  useEffect(() => {
    const controller = new AbortController();
    setVersions([]);
    fetchRunModelVersions(runId, { signal: controller.signal })
      .then((body) => setVersions(body.model_versions || []))
      .catch(() => {}); // the card is an extra: a failure leaves it out rather than breaking the run page
    return () => controller.abort();
  }, [runId]);
  if (!versions.length) return null;
  return html`<section class="card" aria-label="Registered models">
    <div class="card-head"><h3>Registered models <span class="muted">${versions.length}</span></h3></div>
    <div class="card-body">
      <ul class="link-list" data-list="registered-versions">
        ${versions.map(
          (v) => html`<li key=${`${v.name}/${v.version}`}>
            <a href=${hrefFor(["models", v.name, "versions", v.version])}>${v.name} <span class="muted">v${v.version}</span></a>
            ${(v.aliases || []).map((a) => html` <span class="reg-chip"><span class="reg-alias">@${a}</span></span>`)}
            ${v.current_stage && v.current_stage !== "None" && html` <${StageBadge} stage=${v.current_stage} />`}
          </li>`,
        )}
      </ul>
    </div>
  </section>`;
}

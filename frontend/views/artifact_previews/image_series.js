// MLflow's logged image series (log_image(key=..., step=...)): one card per key with a step slider.
import { html, useState } from "../../lib/html.js";
import { formatTime } from "../../lib/format.js";
import { inlineUrl, useArtifactJSON, ErrorBox, Loading } from "./common.js";
import { ZoomableImage } from "./image.js";

function SeriesCard({ source, series, expanded, onExpand }) {
  const [index, setIndex] = useState(series.images.length - 1);
  const image = series.images[Math.min(index, series.images.length - 1)];
  const src = inlineUrl(source, expanded ? image.path : image.thumbnail || image.path);
  return html`<div class=${`af-series-card${expanded ? " expanded" : ""}`}>
    <div class="af-series-head">
      <span class="af-series-key">${series.key}</span>
      <span class="muted small">step <b class="af-step">${image.step}</b> · ${series.images.length} images</span>
      <span class="spacer"></span>
      <button class="btn-icon" onClick=${onExpand} title=${expanded ? "Back to the gallery" : "Open large with zoom"}>${expanded ? "✕" : "⤢"}</button>
    </div>
    ${expanded
      ? html`<${ZoomableImage} src=${src} alt=${`${series.key} step ${image.step}`} />`
      : html`<button class="af-series-thumb" onClick=${onExpand}><img src=${src} alt=${`${series.key} step ${image.step}`} /></button>`}
    <div class="af-series-slider">
      <input type="range" min="0" max=${series.images.length - 1} value=${index} aria-label=${`Step of ${series.key}`}
        onInput=${(e) => setIndex(Number(e.target.value))} disabled=${series.images.length < 2} />
      <span class="muted small">${formatTime(image.timestamp)}</span>
    </div>
  </div>`;
}

export function ImageSeriesGallery({ source, path }) {
  const { data, error } = useArtifactJSON("images", source, path);
  const [expanded, setExpanded] = useState(null);
  if (error) return html`<${ErrorBox} message=${error} />`;
  if (!data) return html`<${Loading} what="Loading image series…" />`;
  if (!data.series.length) return null;
  const shown = expanded === null ? data.series : data.series.filter((s) => s.key === expanded);
  return html`<div class="af-gallery">
    <div class="af-section-title">Image series <span class="muted">(${data.series.length})</span></div>
    <div class=${`af-series-grid${expanded === null ? "" : " single"}`}>
      ${shown.map((s) => html`<${SeriesCard} key=${s.key} source=${source} series=${s} expanded=${expanded === s.key} onExpand=${() => setExpanded(expanded === s.key ? null : s.key)} />`)}
    </div>
  </div>`;
}

// Images (png, jpg, gif, webp, bmp, and svg as an <img> only, so its scripts never run) with zoom.
import { html, useState } from "../../lib/html.js";
import { inlineUrl } from "./common.js";

const STEPS = [0.25, 0.5, 1, 1.5, 2, 3, 4, 8];

export function ZoomableImage({ src, alt }) {
  const [zoom, setZoom] = useState(null); // null = fit to the pane
  const [natural, setNatural] = useState(null);
  const [failed, setFailed] = useState(false);
  const current = zoom ?? 1;
  const step = (dir) => {
    const i = STEPS.findIndex((s) => s >= current - 1e-9);
    const next = dir > 0 ? STEPS.find((s) => s > current + 1e-9) : [...STEPS].reverse().find((s) => s < current - 1e-9);
    setZoom(next ?? STEPS[Math.max(0, i)]);
  };
  const style = zoom === null || !natural ? "" : `width:${natural.w * zoom}px;height:${natural.h * zoom}px;max-width:none;max-height:none`;
  return html`<div class="af-image">
    <div class="af-toolbar af-zoom">
      <button class=${`btn${zoom === null ? " active" : ""}`} onClick=${() => setZoom(null)}>Fit</button>
      <button class="btn" aria-label="Zoom out" onClick=${() => step(-1)}>−</button>
      <span class="small af-zoom-level">${zoom === null ? "fit" : `${Math.round(zoom * 100)}%`}</span>
      <button class="btn" aria-label="Zoom in" onClick=${() => step(1)}>+</button>
      <button class=${`btn${zoom === 1 ? " active" : ""}`} onClick=${() => setZoom(1)}>100%</button>
      ${natural && html`<span class="muted small">${natural.w} × ${natural.h}px</span>`}
    </div>
    <div class=${`af-image-stage${zoom === null ? " fit" : ""}`}>
      ${failed
        ? html`<div class="muted">This image could not be decoded by the browser.</div>`
        : html`<img src=${src} alt=${alt} style=${style} onLoad=${(e) => setNatural({ w: e.target.naturalWidth, h: e.target.naturalHeight })} onError=${() => setFailed(true)} />`}
    </div>
  </div>`;
}

export function ImagePreview({ source, entry }) {
  return html`<div class="af-image-preview">
    <${ZoomableImage} src=${inlineUrl(source, entry.path)} alt=${entry.name} />
  </div>`;
}

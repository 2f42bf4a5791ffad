// Small inline SVG icons (emoji are missing from many system fonts): eye, eye crossed out, pin.
import { html } from "./html.js";

const icon = (path) => html`<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" fill="none" stroke="currentColor"
  stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round">${path}</svg>`;

export const EYE = icon(html`<path d="M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8s-2.4 4.5-6.5 4.5S1.5 8 1.5 8z" /><circle cx="8" cy="8" r="2" />`);
export const EYE_OFF = icon(html`<path d="M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8s-2.4 4.5-6.5 4.5S1.5 8 1.5 8z" /><path d="M2.5 13.5l11-11" />`);
export const PIN = icon(html`<path d="M6 2.5h4l-.5 4 2 2v1h-7v-1l2-2zM8 9.5v4" />`);

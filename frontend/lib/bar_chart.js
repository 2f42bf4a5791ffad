// A horizontal bar chart of one value per run (or group), in HTML: a metric logged once per run has no
// history to draw, so its latest values are compared as bars. Bars carry data-run-id, so the page-wide
// run highlight reaches them; each bar links to its run (or toggles its group) and works from the keyboard.
import { html } from "./html.js";
import { formatNumber } from "./format.js";

/** bars: [{ id, label, value, color, href?, low?, high? }] (low/high: a whisker, e.g. a group's min–max). */
export function BarChart({ bars, onHover, onActivate }) {
  const values = bars.flatMap((b) => [b.value, b.low, b.high]).filter((v) => Number.isFinite(v));
  // Scaled by the largest magnitude first, so a span like -1e308 … 1e308 does not overflow to ∞.
  const scale = Math.max(...values.map(Math.abs), Number.MIN_VALUE);
  const min = Math.min(0, ...values) / scale;
  const max = Math.max(0, ...values) / scale;
  const span = max - min || 1;
  const pos = (v) => ((v / scale - min) / span) * 100;
  const zero = pos(0);
  return html`<div class="bar-chart" role="list" onMouseLeave=${() => onHover && onHover(null)}>
    ${bars.map((b) => {
      const finite = Number.isFinite(b.value);
      const left = finite ? Math.min(zero, pos(b.value)) : zero;
      const width = finite ? Math.abs(pos(b.value) - zero) : 0;
      const label = html`<span class="bar-label" title=${b.label}>${b.label}</span>`;
      return html`<div class="bar-row run-hl-target" role="listitem" data-run-id=${b.id} key=${b.id}
          onMouseEnter=${() => onHover && onHover(b.id)}>
        ${b.href ? html`<a class="bar-name" href=${b.href}>${label}</a>` : html`<button class="bar-name" onClick=${() => onActivate && onActivate(b.id)}>${label}</button>`}
        <span class="bar-track">
          <span class="bar-zero" style=${`left:${zero}%`}></span>
          <span class="bar" style=${`left:${left}%;width:${Math.max(width, finite ? 0.5 : 0)}%;background:${b.color}`}></span>
          ${Number.isFinite(b.low) && Number.isFinite(b.high) &&
          html`<span class="bar-whisker" style=${`left:${pos(b.low)}%;width:${Math.max(0.3, pos(b.high) - pos(b.low))}%`}></span>`}
        </span>
        <span class="bar-value" title=${String(b.value)}>${b.value === null || b.value === undefined ? "—" : formatNumber(b.value)}</span>
      </div>`;
    })}
  </div>`;
}

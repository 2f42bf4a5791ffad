// A chart grid's layout, remembered per experiment (localStorage: a preference, not shareable state):
// the order of the cards, each card's size (columns spanned, plot height), collapsed sections, and the
// charts the user added (parallel coordinates, scatter) with their settings.
import { useEffect, useState } from "./html.js";

export const MIN_HEIGHT = 140;
export const MAX_HEIGHT = 720;
export const DEFAULT_SIZE = { w: 1, h: 220 };
const EMPTY = { order: [], sizes: {}, collapsed: [], extra: [] };

function storageKey(experimentIds) {
  return "mlscope.chartLayout." + [...experimentIds].sort().join(",");
}

function read(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || "null");
    if (!value || typeof value !== "object") return EMPTY;
    return {
      order: Array.isArray(value.order) ? value.order.filter((x) => typeof x === "string") : [],
      sizes: value.sizes && typeof value.sizes === "object" ? value.sizes : {},
      collapsed: Array.isArray(value.collapsed) ? value.collapsed : [],
      extra: Array.isArray(value.extra) ? value.extra.filter((x) => x && typeof x.id === "string") : [],
    };
  } catch {
    return EMPTY;
  }
}

/** [layout, update(fn: layout -> layout)] for these experiments; every update is saved. */
export function useChartLayout(experimentIds) {
  const key = storageKey(experimentIds);
  const [layout, setLayout] = useState(() => read(key));
  useEffect(() => setLayout(read(key)), [key]);
  const update = (fn) =>
    setLayout((current) => {
      const next = fn(current);
      try {
        localStorage.setItem(key, JSON.stringify(next));
      } catch {
        // storage full or disabled: the layout lasts for this page only
      }
      return next;
    });
  return [layout, update];
}

/** ids in the layout's order (ids it does not know keep their given order, after the known ones). */
export function inLayoutOrder(ids, order) {
  const rank = new Map(order.map((id, i) => [id, i]));
  return ids
    .map((id, i) => [id, rank.has(id) ? rank.get(id) : order.length + i])
    .sort((a, b) => a[1] - b[1])
    .map(([id]) => id);
}

/** The order after moving `id` to `index` among `sectionIds` (the section as currently shown). */
export function moveTo(order, sectionIds, id, index) {
  const rest = sectionIds.filter((x) => x !== id);
  const at = Math.max(0, Math.min(rest.length, index));
  const section = [...rest.slice(0, at), id, ...rest.slice(at)];
  const others = order.filter((x) => !section.includes(x));
  return [...others, ...section];
}

/** A card's size: w columns (1-3), plot height h in px. */
export function sizeOf(layout, id) {
  const size = layout.sizes[id] || {};
  const w = Number.isInteger(size.w) ? Math.max(1, Math.min(3, size.w)) : DEFAULT_SIZE.w;
  const h = Number.isFinite(size.h) ? Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, size.h)) : DEFAULT_SIZE.h;
  return { w, h };
}

// One colour per run, everywhere (runs table swatch, chart lines, compare page): assigned the first time a
// run is shown, then remembered in localStorage so it never changes. A new run takes its hash's colour,
// or the next colour no other run on screen has, so runs shown together rarely share one.

const PALETTE = [
  "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#4f46e5", "#059669", "#b91c1c", "#0d9488", "#9333ea", "#ca8a04", "#475569",
  "#92400e", "#a21caf", "#1e3a8a", "#3f6212", "#9f1239", "#57534e", "#f59e0b", "#06b6d4",
];
const STORAGE_KEY = "mlscope.runColors";
const MAX_REMEMBERED = 20000;

let remembered = null; // Map run_id -> palette index, oldest first

function load() {
  if (remembered) return remembered;
  remembered = new Map();
  try {
    const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    if (Array.isArray(raw)) for (const [id, i] of raw) if (typeof id === "string" && Number.isInteger(i)) remembered.set(id, i % PALETTE.length);
  } catch {
    // unreadable or disabled storage: colours last for this page only
  }
  return remembered;
}

function save() {
  try {
    while (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value);
    localStorage.setItem(STORAGE_KEY, JSON.stringify([...remembered]));
  } catch {
    // storage full or disabled
  }
}

function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Colours of these runs (Map run_id -> "#rrggbb"), assigning and remembering any run seen for the first time. */
export function runColors(runIds) {
  const known = load();
  const used = new Set(runIds.filter((id) => known.has(id)).map((id) => known.get(id)));
  let added = false;
  for (const id of runIds) {
    if (known.has(id)) continue;
    let i = hash(id) % PALETTE.length;
    for (let probe = 0; probe < PALETTE.length && used.has(i); probe++) i = (i + 1) % PALETTE.length;
    known.set(id, i);
    used.add(i);
    added = true;
  }
  if (added) save();
  return new Map(runIds.map((id) => [id, PALETTE[known.get(id)]]));
}

/** The colour of one run (assigned on first use). */
export function runColor(runId) {
  return runColors([runId]).get(runId);
}

/** Colour of the i-th group of a grouping (groups are not runs: they use the palette in order). */
export function groupColor(i) {
  return PALETTE[i % PALETTE.length];
}

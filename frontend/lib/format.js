// Formatting shared by every view: times, durations, numbers, statuses.

export function formatTime(ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(Number(ms));
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatRelative(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return "";
  const seconds = Math.round((now - Number(ms)) / 1000);
  const abs = Math.abs(seconds);
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      return seconds >= 0 ? `${n} ${unit}${n > 1 ? "s" : ""} ago` : `in ${n} ${unit}${n > 1 ? "s" : ""}`;
    }
  }
  return seconds >= 0 ? "just now" : "in a moment";
}

/** A run's duration as MLflow shows it below a minute ("61ms", "35.2s"), then "4m 10s", "2h 5m", "3d 4h". */
export function formatDuration(start, end) {
  if (start === null || start === undefined) return "";
  if (end === null || end === undefined) return "";
  const ms = Math.max(0, Number(end) - Number(start));
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  s = s % 60;
  if (h >= 24) return `${Math.floor(h / 24)}d ${h % 24}h`;
  return h ? `${h}h ${m}m` : `${m}m ${s}s`;
}

/** Metric values arrive as numbers or as "NaN" / "Infinity" / "-Infinity" strings. */
export function toNumber(value) {
  if (typeof value === "number") return value;
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  const n = Number(value);
  return Number.isNaN(n) ? NaN : n;
}

export function formatNumber(value) {
  const n = toNumber(value);
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "∞" : "-∞";
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return n.toExponential(4);
  return String(Number(n.toPrecision(6)));
}

export const STATUS_ICONS = { RUNNING: "◐", SCHEDULED: "◷", FINISHED: "✓", FAILED: "✕", KILLED: "■" };

export function shortId(id) {
  return id ? String(id).slice(0, 8) : "";
}

// The runs table's state in the URL, in MLflow's own parameters (searchFilter, orderByKey, orderByAsc,
// startTime, lifecycleFilter, modelVersionFilter, datasetsFilter), so a link MLflow's UI wrote opens the
// same runs here and the other way round. Values MLflow writes are mapped; unknown ones are said, not fatal.

export const DEFAULT_SORT = "attributes.start_time";

/** MLflow's startTime values: [value, label, span in ms]. */
export const TIME_RANGES = [
  ["ALL", "All time", 0],
  ["LAST_HOUR", "Last hour", 3600e3],
  ["LAST_24_HOURS", "Last day", 86400e3],
  ["LAST_7_DAYS", "Last week", 7 * 86400e3],
  ["LAST_30_DAYS", "Last month", 30 * 86400e3],
  ["LAST_YEAR", "Last year", 360 * 86400e3], // MLflow's LAST_YEAR is 360 days
];

/** MLflow's modelVersionFilter values: [value, label, what the table asks the server for]. */
export const MODEL_VERSION_FILTERS = [
  ["All Runs", "All runs", undefined],
  ["With Model Versions", "With model versions", "with"],
  ["Without Model Versions", "Without model versions", "without"],
];

/** Lifecycle choices: [value written to the URL (MLflow's where it has one), label, run_view_type]. */
export const LIFECYCLES = [
  ["Active", "Active", "ACTIVE_ONLY"],
  ["Deleted", "Deleted", "DELETED_ONLY"],
  ["ALL", "Active + deleted", "ALL"],
];

const VIEW_TYPES = {
  active: "ACTIVE_ONLY", active_only: "ACTIVE_ONLY",
  deleted: "DELETED_ONLY", deleted_only: "DELETED_ONLY",
  all: "ALL",
};

/** run_view_type for a lifecycleFilter value: MLflow's "Active"/"Deleted", or the API's own names. */
export function viewTypeOf(value) {
  if (!value) return { viewType: "ACTIVE_ONLY", unknown: null };
  const viewType = VIEW_TYPES[value.trim().toLowerCase()];
  return viewType ? { viewType, unknown: null } : { viewType: "ACTIVE_ONLY", unknown: value };
}

/** MLflow's datasetsFilter: base64 of UTF-8 JSON [{name, digest, context}] (plain JSON accepted too). */
export function datasetsOf(value) {
  if (!value) return [];
  const parse = (text) => {
    const list = JSON.parse(text);
    return Array.isArray(list) ? list.filter((d) => d && typeof d.name === "string") : [];
  };
  try {
    return parse(value);
  } catch {
    try {
      const bytes = Uint8Array.from(atob(value.replace(/[^A-Za-z0-9+/=]/g, "")), (c) => c.charCodeAt(0));
      return parse(new TextDecoder().decode(bytes));
    } catch {
      return [];
    }
  }
}

/** A string literal for MLflow's filter grammar (quoted with whichever quote the text does not use). */
function literal(text) {
  const value = String(text);
  return value.includes("'") ? `"${value.replace(/"/g, "")}"` : `'${value}'`;
}

/** A filter clause keeping runs that used one of these datasets (by name and digest, as MLflow's UI matches). */
export function datasetsClause(datasets) {
  if (!datasets.length) return "";
  const names = [...new Set(datasets.map((d) => d.name))];
  const digests = [...new Set(datasets.map((d) => d.digest).filter(Boolean))];
  const clauses = [`datasets.name IN (${names.map(literal).join(", ")})`];
  if (digests.length) clauses.push(`datasets.digest IN (${digests.map(literal).join(", ")})`);
  return clauses.join(" AND ");
}

/** The filter sent to the server: the user's filter, the quick time range and the datasets filter. */
export function combinedFilter(filter, since, datasets = []) {
  const extra = [];
  if (since) extra.push(`attributes.start_time >= ${since}`);
  const ds = datasetsClause(datasets);
  if (ds) extra.push(ds);
  if (!extra.length) return filter;
  if (!filter) return extra.join(" AND ");
  return [/\bor\b/i.test(filter) ? `(${filter})` : filter, ...extra].join(" AND ");
}

/** Everything the table reads from the URL, with notes on what it could not apply. */
export function runsViewState(query) {
  const lifecycle = viewTypeOf(query.get("lifecycleFilter"));
  const startTime = query.get("startTime") || "ALL";
  const range = TIME_RANGES.find((t) => t[0] === startTime);
  const versionsParam = (query.get("modelVersionFilter") || "").trim();
  const versions = MODEL_VERSION_FILTERS.find((f) => f[0].toLowerCase() === versionsParam.toLowerCase().replace(/_/g, " "));
  const notes = [];
  if (lifecycle.unknown) notes.push(`Unknown lifecycle filter "${lifecycle.unknown}": showing active runs.`);
  if (!range) notes.push(`Unknown time range "${startTime}": showing all times.`);
  if (versionsParam && !versions) notes.push(`Unknown model-version filter "${versionsParam}": showing all runs.`);
  const orderByKey = query.get("orderByKey") || DEFAULT_SORT;
  return {
    userFilter: query.get("searchFilter") || "",
    sortKey: orderByKey,
    sortAsc: query.get("orderByAsc") === "true",
    viewType: lifecycle.viewType,
    lifecycleValue: LIFECYCLES.find((l) => l[2] === lifecycle.viewType)[0],
    timeRange: range ? range[0] : "ALL",
    span: range ? range[2] : 0,
    datasets: datasetsOf(query.get("datasetsFilter")),
    modelVersions: versions ? versions[0] : MODEL_VERSION_FILTERS[0][0],
    modelVersionsQuery: versions ? versions[2] : undefined,
    notes,
  };
}

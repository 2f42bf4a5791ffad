// Loading runs-table rows page by page as the user scrolls, children on expand, and live patches.
// Only visible pages are fetched; a filter/sort change starts over, a column change refetches
// in place (old rows stay on screen until the new ones arrive).
import { useEffect, useRef, useState } from "../lib/html.js";
import { searchRunRows } from "../lib/api.js";

export const PAGE_SIZE = 200;

function pageToken(offset) {
  return offset ? btoa(JSON.stringify({ offset })) : undefined;
}

function freshStore(resetKey, colKey) {
  return {
    resetKey,
    colKey,
    count: null, // top-level rows matching (the virtual list's length)
    total: null, // every matching run, children included
    error: null, // { message, status } of the last failed page request (status 400: the filter is invalid)
    pages: new Map(), // page number -> { rows, stale }
    inflight: new Set(),
    children: new Map(), // parent run id -> { rows, stale }
  };
}

/**
 * The table's rows for `request` (experiment_ids, filter, order_by, run_view_type, model_versions, extended, params,
 * metrics, tags).
 * Nothing is fetched until `ready` (the columns are known), so the first page is asked for once, with its columns.
 */
export function useRunRows(request, ready = true) {
  const resetKey = JSON.stringify([request.experiment_ids, request.filter, request.order_by, request.run_view_type, request.model_versions, request.extended]);
  const colKey = JSON.stringify([request.params, request.metrics, request.tags]);
  const [, setTick] = useState(0);
  const bump = () => setTick((t) => t + 1);
  const requestRef = useRef(request);
  requestRef.current = request;
  const store = useRef(null);
  if (!store.current || store.current.resetKey !== resetKey) store.current = freshStore(resetKey, colKey);
  const s = store.current;

  const post = (extra) => searchRunRows({ ...requestRef.current, ...extra });

  const fetchPage = async (page) => {
    const st = store.current;
    const asked = st.colKey;
    const flight = `p${page}:${asked}`;
    if (st.inflight.has(flight)) return;
    st.inflight.add(flight);
    try {
      const body = await post({ max_results: PAGE_SIZE, page_token: pageToken(page * PAGE_SIZE) });
      if (store.current !== st) return;
      // A reply for columns changed meanwhile is shown but stays stale, so it is fetched again.
      st.pages.set(page, { rows: body.runs, stale: st.colKey !== asked });
      st.count = body.count;
      st.total = body.total;
      st.error = null;
    } catch (err) {
      if (store.current !== st) return;
      st.error = { message: err.message, status: err.status };
    } finally {
      st.inflight.delete(flight);
      if (store.current === st) bump();
    }
  };

  const fetchChildren = async (parentId) => {
    const st = store.current;
    const asked = st.colKey;
    const flight = `c${parentId}:${asked}`;
    if (st.inflight.has(flight)) return;
    st.inflight.add(flight);
    try {
      const body = await post({ parent_run_id: parentId, max_results: 1000 });
      if (store.current === st) st.children.set(parentId, { rows: body.runs, stale: st.colKey !== asked });
    } catch (err) {
      if (store.current === st) st.children.set(parentId, { rows: [], stale: false, error: err.message });
    } finally {
      st.inflight.delete(flight);
      if (store.current === st) bump();
    }
  };

  useEffect(() => {
    const st = store.current;
    if (st.colKey === colKey) return;
    st.colKey = colKey;
    for (const entry of st.pages.values()) entry.stale = true;
    for (const entry of st.children.values()) entry.stale = true;
    bump();
  }, [colKey]);

  // After the column effect above, so the first page is asked for with the columns it will show.
  useEffect(() => {
    if (ready) fetchPage(0);
  }, [resetKey, ready]);

  /** Fetch the pages covering top-level rows [start, end) that are missing or stale. */
  const ensure = (start, end) => {
    const st = store.current;
    if (st.count === null) return;
    for (let page = Math.floor(start / PAGE_SIZE); page * PAGE_SIZE < Math.min(end, st.count); page++) {
      const entry = st.pages.get(page);
      if (!entry || entry.stale) fetchPage(page);
    }
  };

  const ensureChildren = (parentId) => {
    const entry = store.current.children.get(parentId);
    if (!entry || entry.stale) fetchChildren(parentId);
  };

  /** Live update: re-fetch only the loaded rows that changed; recount when unknown runs changed. */
  const applyChanges = async (changed) => {
    const st = store.current;
    const loaded = new Set();
    for (const entry of st.pages.values()) for (const row of entry.rows) loaded.add(row.run_id);
    for (const entry of st.children.values()) for (const row of entry.rows) loaded.add(row.run_id);
    const hits = changed.filter((id) => loaded.has(id));
    let recount = hits.length < changed.length;
    if (hits.length) {
      try {
        const body = await post({ run_ids: hits.slice(0, 1000), max_results: 1000 });
        if (store.current !== st) return;
        const fresh = new Map(body.runs.map((r) => [r.run_id, r]));
        if (fresh.size < hits.length) recount = true;
        const patch = (rows) => rows.map((r) => fresh.get(r.run_id) || r);
        for (const entry of [...st.pages.values(), ...st.children.values()]) entry.rows = patch(entry.rows);
      } catch {
        return;
      }
    }
    if (recount) {
      try {
        const body = await post({ max_results: 1 });
        if (store.current !== st) return;
        if (body.count !== st.count || body.total !== st.total) {
          st.count = body.count;
          st.total = body.total;
          for (const entry of st.pages.values()) entry.stale = true;
          for (const entry of st.children.values()) entry.stale = true;
        }
      } catch {
        return;
      }
    }
    bump();
  };

  /** Ask again for what is shown (after a failure, a reconnect, or a reset from the live channel). */
  const reload = () => {
    const st = store.current;
    st.error = null;
    for (const entry of st.pages.values()) entry.stale = true;
    for (const entry of st.children.values()) entry.stale = true;
    fetchPage(0);
    bump();
  };

  const rowAt = (index) => {
    const entry = s.pages.get(Math.floor(index / PAGE_SIZE));
    return entry ? entry.rows[index % PAGE_SIZE] || null : null;
  };
  const childrenOf = (parentId) => s.children.get(parentId) || null;
  return { count: s.count, total: s.total, error: s.error, rowAt, childrenOf, ensure, ensureChildren, applyChanges, reload, store: s };
}

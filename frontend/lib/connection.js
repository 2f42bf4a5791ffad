// Whether the server answers. A request that fails to reach it (not an HTTP error, not an abort) marks the
// page offline: one probe of /health then retries with backoff (1, 2, 4, 8, then every 10 s) instead of
// every poller retrying on its own; when it answers again, listeners hear "online" and re-run what they show.

const HEALTH_URL = "/health";
const BACKOFF_MS = [1000, 2000, 4000, 8000, 10000];

const listeners = new Set();
let online = true;
let attempt = 0;
let timer = null;
let nextAt = null;

function notify() {
  for (const listener of [...listeners]) listener(connectionState());
}

/** { online, nextAt (ms epoch of the next probe, null when online), attempt } */
export function connectionState() {
  return { online, nextAt, attempt };
}

/** Call listener(state) whenever the connection goes down, is probed, or comes back; returns the unsubscribe. */
export function onConnectionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function schedule() {
  clearTimeout(timer);
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  nextAt = Date.now() + delay;
  timer = setTimeout(probe, delay);
  notify();
}

/** Ask /health now (the banner's "Retry now", or a stream that dropped); back online when it answers. */
export async function probe() {
  clearTimeout(timer);
  timer = null;
  try {
    const response = await fetch(HEALTH_URL, { cache: "no-store" });
    if (!response.ok) throw new Error(`health ${response.status}`);
    markOnline();
  } catch {
    if (online) {
      online = false;
      attempt = 0;
    } else {
      attempt += 1;
    }
    schedule();
  }
}

function markOnline() {
  if (online) return;
  online = true;
  attempt = 0;
  nextAt = null;
  clearTimeout(timer);
  timer = null;
  notify();
}

/** fetch() that keeps track of reachability: every request of the API client goes through it. */
export async function send(url, init) {
  try {
    const response = await fetch(url, init);
    if (!online) markOnline();
    return response;
  } catch (err) {
    if (err && err.name !== "AbortError" && online && !timer) probe();
    throw err;
  }
}

/** Whether the server answered the last request or probe. */
export function isOnline() {
  return online;
}

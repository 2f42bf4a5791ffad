// Live follow: one shared Server-Sent Events connection to /api/mlscope/events for the whole page.
// Views subscribe(callback) and receive {version, changed: [run_id], statuses: {run_id: status|null}, reset?};
// `reset` means too much changed to list (or the server restarted): reload what you show.

import { EVENTS_URL } from "./api.js";

const RETRY_MS = 2000;

const subscribers = new Set();
let source = null;
let lastVersion = null;
let retryTimer = null;

function dispatch(event) {
  for (const callback of [...subscribers]) {
    try {
      callback(event);
    } catch (err) {
      console.error("live subscriber failed", err);
    }
  }
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  // The browser resends Last-Event-ID on its own reconnects; ?since= covers the reconnects we make.
  const url = lastVersion === null ? EVENTS_URL : `${EVENTS_URL}?since=${encodeURIComponent(lastVersion)}`;
  source = new EventSource(url);
  source.onmessage = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const first = lastVersion === null;
    lastVersion = event.version;
    if (first && !event.changed.length && !event.reset) return; // the greeting: nothing happened yet
    if (event.changed.length || event.reset) dispatch(event);
  };
  source.onerror = () => {
    // CONNECTING: the browser retries by itself. CLOSED: it gave up (HTTP error), so we retry.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      if (subscribers.size) retryTimer = setTimeout(connect, RETRY_MS);
    }
  };
}

function disconnect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (source) source.close();
  source = null;
}

/** Call `callback(event)` on every change the server reports; returns the unsubscribe function. */
export function subscribe(callback) {
  subscribers.add(callback);
  if (!source && !retryTimer) connect();
  return () => {
    subscribers.delete(callback);
    if (!subscribers.size) disconnect();
  };
}

/** The index version of the last event seen (null before the first one). */
export function currentVersion() {
  return lastVersion;
}

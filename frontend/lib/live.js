// Live follow: one shared Server-Sent Events connection to /api/mlscope/events for the whole page.
// Views subscribe(callback) and receive {version, changed: [run_id], statuses: {run_id: status|null}, reset?}
// whenever the index version moves (and once when the stream opens); `changed` may be empty (an experiment
// changed); `reset` means too much changed to list (or the server restarted, or the connection came back):
// reload what you show.
//
// The stream outlives view changes (a view unsubscribing and the next subscribing within LINGER_MS share
// it), so navigating does not abort and reopen it; it is closed cleanly when the page goes away. While the
// server is unreachable the stream is closed and lib/connection.js probes with backoff; when the server
// answers again the stream reopens and every subscriber gets a reset.

import { EVENTS_URL } from "./api.js";
import { isOnline, onConnectionChange, probe } from "./connection.js";

const RETRY_MS = 2000;
const LINGER_MS = 3000;

const subscribers = new Set();
let source = null;
let lastVersion = null;
let retryTimer = null;
let lingerTimer = null;

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
  if (!isOnline()) return; // reopened by the connection listener below
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
    const previous = lastVersion;
    lastVersion = event.version;
    // Every move of the version is passed on, changed runs or not (an experiment created, renamed or deleted
    // outside changes no run), and so is the greeting: what a view fetched before the stream opened may be
    // older than the version the stream starts from. Views reload what a change concerns.
    if (event.changed.length || event.reset || event.version !== previous) dispatch(event);
  };
  source.onerror = () => {
    // The stream dropped: ask whether the server is there at all (lib/connection.js takes over if not).
    // CLOSED (an HTTP error): retry ourselves; CONNECTING: the browser retries unless we close it.
    if (!source) return;
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      if (subscribers.size) retryTimer = setTimeout(connect, RETRY_MS);
    }
    probe();
  };
}

function disconnect() {
  clearTimeout(retryTimer);
  clearTimeout(lingerTimer);
  retryTimer = null;
  lingerTimer = null;
  if (source) source.close();
  source = null;
}

onConnectionChange(({ online }) => {
  if (!online) {
    disconnect(); // no reconnect attempts of our own while the server is away
    return;
  }
  if (subscribers.size && !source) {
    connect();
    dispatch({ version: lastVersion, changed: [], statuses: {}, reset: true }); // re-run what is shown
  }
});

window.addEventListener("pagehide", disconnect);

/** Call `callback(event)` on every change the server reports; returns the unsubscribe function. */
export function subscribe(callback) {
  subscribers.add(callback);
  clearTimeout(lingerTimer);
  lingerTimer = null;
  if (!source && !retryTimer) connect();
  return () => {
    subscribers.delete(callback);
    if (!subscribers.size && !lingerTimer) lingerTimer = setTimeout(disconnect, LINGER_MS);
  };
}

/** The index version of the last event seen (null before the first one). */
export function currentVersion() {
  return lastVersion;
}

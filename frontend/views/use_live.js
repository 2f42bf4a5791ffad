// Server-push updates for views, via lib/live.js when it is present (it is loaded lazily so a
// missing or failing live module degrades to "no live updates" instead of breaking the page).
import { useEffect, useRef } from "../lib/html.js";

let livePromise = null;

function loadLive() {
  if (!livePromise) livePromise = import("../lib/live.js").catch(() => null);
  return livePromise;
}

/** Calls onChange({version, changed}) whenever runs change on the server; the latest callback is used. */
export function useLive(onChange) {
  const callback = useRef(onChange);
  callback.current = onChange;
  useEffect(() => {
    let unsubscribe = null;
    let stopped = false;
    loadLive().then((mod) => {
      if (stopped || !mod || typeof mod.subscribe !== "function") return;
      unsubscribe = mod.subscribe((event) => callback.current && callback.current(event));
    });
    return () => {
      stopped = true;
      if (typeof unsubscribe === "function") unsubscribe();
    };
  }, []);
}

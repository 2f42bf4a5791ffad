// Hooks every editing view shares: whether the server takes writes, and one write at a time with its error.
import { useEffect, useState } from "./html.js";
import { fetchStatus } from "./api.js";

let writableCheck = null; // one status request for the whole page, asked again only after it failed

/** Whether the server takes writes: null until its status answers, then false for --read-only, else true. */
export function useWritable() {
  const [writable, setWritable] = useState(null);
  useEffect(() => {
    writableCheck = writableCheck || fetchStatus().then((s) => !(s && s.read_only)).catch(() => { writableCheck = null; return false; });
    let live = true;
    writableCheck.then((value) => live && setWritable(value));
    return () => {
      live = false;
    };
  }, []);
  return writable;
}

/** True unless the server is known to take writes: edit controls never flash into view on a read-only server. */
export function useReadOnly() {
  return useWritable() !== true;
}

/** Run one write at a time: { busy, error, run(fn) }; run resolves to true when the write succeeded. */
export function useWrite() {
  const [state, setState] = useState({ busy: false, error: null });
  const run = async (fn) => {
    setState({ busy: true, error: null });
    try {
      await fn();
      setState({ busy: false, error: null });
      return true;
    } catch (err) {
      setState({ busy: false, error: err.message || String(err) });
      return false;
    }
  };
  return { ...state, run };
}

// Popovers (column chooser, key pickers, "add run") close when the user clicks outside them.
import { useEffect, useRef } from "./html.js";

/** A ref for the popover's container; `close()` is called on a mousedown outside it while `open`. */
export function useDismiss(open, close) {
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => box.current && !box.current.contains(e.target) && close();
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);
  return box;
}

// Popovers (column chooser, key pickers, "add run", the problems panel) close when the user clicks
// outside them or presses Escape; after Escape, focus goes back to what opened the popover.
import { useLayoutEffect, useRef } from "./html.js";

/**
 * A ref for the popover's container; `close()` is called on a mousedown outside it, or on Escape,
 * while `open`. Escape returns focus to the element focused when the popover opened (its toggle),
 * or else to the container's first button. The listeners are attached as the popover renders (a layout
 * effect), so an Escape pressed the moment it appears is not lost.
 */
export function useDismiss(open, close) {
  const box = useRef(null);
  useLayoutEffect(() => {
    if (!open) return undefined;
    const opener = document.activeElement;
    const onDown = (e) => box.current && !box.current.contains(e.target) && close();
    const onKey = (e) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      e.preventDefault();
      close();
      const back = opener && opener !== document.body && opener.isConnected ? opener : box.current && box.current.querySelector("button");
      if (back) requestAnimationFrame(() => back.focus());
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);
  return box;
}

// Per-page document titles ("<run> · <experiment> · mlscope"): tabs and history entries say what they show.
import { useEffect } from "./html.js";

/** The title for these parts (empty ones skipped), followed by "mlscope". */
export function pageTitle(...parts) {
  return [...parts.filter((p) => p !== null && p !== undefined && p !== ""), "mlscope"].join(" · ");
}

/** Keep document.title in step with what the view shows. */
export function usePageTitle(...parts) {
  const title = pageTitle(...parts);
  useEffect(() => {
    document.title = title;
  }, [title]);
}

// Windowing for long fixed-height lists: only the rows in view (plus overscan) are rendered.
import { useLayoutEffect, useState } from "./html.js";

/**
 * Tracks a scroll container and returns the row window to render.
 * `offset` is the height of anything above the rows inside the container (a sticky header).
 */
export function useVirtualRows(ref, count, rowHeight, { overscan = 12, offset = 0 } = {}) {
  const [view, setView] = useState({ top: 0, height: 800 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    let frame = 0;
    const update = () => {
      frame = 0;
      setView((prev) =>
        prev.top === el.scrollTop && prev.height === el.clientHeight ? prev : { top: el.scrollTop, height: el.clientHeight },
      );
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    el.addEventListener("scroll", onScroll, { passive: true });
    const observer = new ResizeObserver(onScroll);
    observer.observe(el);
    return () => {
      el.removeEventListener("scroll", onScroll);
      observer.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [ref.current]);
  const top = Math.max(0, view.top - offset);
  const start = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((top + view.height) / rowHeight) + overscan);
  return { start, end, totalHeight: count * rowHeight };
}

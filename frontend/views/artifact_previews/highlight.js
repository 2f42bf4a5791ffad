// Syntax highlighting with highlight.js core and only the languages artifacts commonly use.
// Loaded lazily: the first text preview shows plain text at once and re-renders highlighted when
// the library arrives; if it cannot load, text stays plain rather than the tab failing.
import { useEffect, useState } from "../../lib/html.js";

/** Above this many characters highlighting is skipped: the browser stays responsive on big files. */
export const HIGHLIGHT_LIMIT = 200_000;

const LANGUAGES = ["python", "bash", "json", "yaml", "ini", "xml", "javascript", "typescript", "sql", "markdown", "css", "r", "diff", "dockerfile"];

let loaded = null;

function loadHighlighter() {
  if (!loaded) {
    loaded = (async () => {
      const { default: hljs } = await import("highlight.js/core.min.js");
      const modules = await Promise.all(LANGUAGES.map((name) => import(`highlight.js/languages/${name}.min.js`)));
      modules.forEach((mod, i) => hljs.registerLanguage(LANGUAGES[i], mod.default));
      return hljs;
    })().catch((err) => {
      console.warn("highlight.js unavailable, showing plain text:", err);
      return null;
    });
  }
  return loaded;
}

/** The highlighter once loaded (null before, or when it cannot load). */
export function useHighlighter(wanted) {
  const [hljs, setHljs] = useState(null);
  useEffect(() => {
    if (!wanted) return undefined;
    let live = true;
    loadHighlighter().then((h) => live && setHljs(() => h));
    return () => {
      live = false;
    };
  }, [wanted]);
  return hljs;
}

/** Highlighted HTML for text in a registered language, or null (plain text is rendered as-is). */
export function highlight(hljs, text, language) {
  if (!hljs || !language || !hljs.getLanguage(language) || text.length > HIGHLIGHT_LIMIT) return null;
  return hljs.highlight(text, { language, ignoreIllegals: true }).value;
}

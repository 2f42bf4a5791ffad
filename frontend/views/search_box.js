// The runs filter box: MLflow's filter syntax, key autocomplete, the parser's error shown inline.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { quoteKey } from "./runs_columns.js";

const ATTRIBUTES = ["run_id", "run_name", "status", "user_id", "start_time", "end_time", "artifact_uri"];
const MAX_SUGGESTIONS = 12;

/** Every identifier the filter grammar accepts for these keys, as it would be typed. */
export function filterIdentifiers(keys) {
  const ids = ATTRIBUTES.map((a) => `attributes.${a}`);
  if (!keys) return ids;
  for (const k of keys.metrics) ids.push(`metrics.${quoteKey(k)}`);
  for (const k of keys.params) ids.push(`params.${quoteKey(k)}`);
  for (const k of keys.tags) ids.push(`tags.${quoteKey(k)}`);
  ids.push("datasets.name", "datasets.digest", "datasets.context");
  return ids;
}

/** The identifier being typed just before the caret (start index and text). */
function wordAt(text, caret) {
  const before = text.slice(0, caret);
  const match = /[A-Za-z_][\w.`/-]*$|`[^`]*$/.exec(before);
  return match ? { start: match.index, word: match[0] } : null;
}

function suggest(identifiers, word) {
  const w = word.toLowerCase().replace(/`/g, "");
  const prefix = [];
  const inside = [];
  for (const id of identifiers) {
    const plain = id.toLowerCase().replace(/`/g, "");
    if (plain === w) continue;
    if (plain.startsWith(w)) prefix.push(id);
    else if (w.length >= 2 && plain.includes(w)) inside.push(id);
    if (prefix.length >= MAX_SUGGESTIONS) break;
  }
  return [...prefix, ...inside].slice(0, MAX_SUGGESTIONS);
}

export function SearchBox({ value, onSubmit, keys, error }) {
  const [text, setText] = useState(value);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(null); // null: the default highlight (the first suggestion)
  const [focused, setFocused] = useState(false);
  const input = useRef(null);
  useEffect(() => setText(value), [value]);
  const identifiers = useMemo(() => filterIdentifiers(keys), [keys]);
  const current = focused ? wordAt(text, caret) : null;
  const suggestions = current ? suggest(identifiers, current.word) : [];
  // The first suggestion is highlighted (Enter takes it) unless the word is already a complete key.
  const complete = current && identifiers.some((id) => id.toLowerCase().replace(/`/g, "") === current.word.toLowerCase().replace(/`/g, ""));
  const highlighted = !suggestions.length ? -1 : active === null ? (complete ? -1 : 0) : Math.min(active, suggestions.length - 1);

  const accept = (id) => {
    const next = text.slice(0, current.start) + id + " " + text.slice(caret);
    setText(next);
    setActive(null);
    const pos = current.start + id.length + 1;
    requestAnimationFrame(() => {
      input.current.focus();
      input.current.setSelectionRange(pos, pos);
      setCaret(pos);
    });
  };
  const onKeyDown = (e) => {
    if (suggestions.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      const next = highlighted + step;
      setActive(next < -1 ? suggestions.length - 1 : next >= suggestions.length ? -1 : next);
      return;
    }
    if ((e.key === "Enter" || e.key === "Tab") && highlighted >= 0) {
      e.preventDefault();
      accept(suggestions[highlighted]);
      return;
    }
    if (e.key === "Escape") {
      if (suggestions.length) e.preventDefault(); // the first Escape closes the suggestions only
      setActive(null);
      setFocused(false);
      return;
    }
    if (e.key === "Enter") {
      e.preventDefault();
      setFocused(false);
      onSubmit(text.trim());
    }
  };
  const track = (e) => {
    setText(e.currentTarget.value);
    setCaret(e.currentTarget.selectionStart || 0);
    setActive(null);
    setFocused(true);
  };
  return html`<div class="search-box">
    <div class=${`search-input${error ? " has-error" : ""}`}>
      <input
        ref=${input}
        class="input mono"
        type="text"
        spellcheck="false"
        autocomplete="off"
        aria-label="Filter runs"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded=${suggestions.length > 0}
        aria-controls="filter-suggestions"
        aria-activedescendant=${highlighted >= 0 ? `filter-suggestion-${highlighted}` : undefined}
        placeholder="metrics.acc > 0.9 AND params.optimizer = 'adam'"
        value=${text}
        onInput=${track}
        onClick=${(e) => setCaret(e.currentTarget.selectionStart || 0)}
        onKeyUp=${(e) => !["ArrowDown", "ArrowUp"].includes(e.key) && setCaret(e.currentTarget.selectionStart || 0)}
        onKeyDown=${onKeyDown}
        onFocus=${() => setFocused(true)}
        onBlur=${() => setTimeout(() => setFocused(false), 150)}
      />
      ${text &&
      html`<button class="btn-icon" aria-label="Clear filter" onClick=${() => {
        setText("");
        onSubmit("");
      }}>✕</button>`}
      <button class="btn btn-primary" onClick=${() => onSubmit(text.trim())}>Search</button>
    </div>
    ${suggestions.length > 0 &&
    html`<ul class="suggestions" id="filter-suggestions" role="listbox" aria-label="Filter keys">
      ${suggestions.map(
        (s, i) => html`<li
          key=${s}
          id=${`filter-suggestion-${i}`}
          role="option"
          aria-selected=${i === highlighted}
          class=${i === highlighted ? "active" : ""}
          onMouseEnter=${() => setActive(i)}
          onMouseDown=${(e) => {
            e.preventDefault();
            accept(s);
          }}
        >${s}</li>`,
      )}
    </ul>`}
    ${error && html`<div class="filter-error" role="alert">${error}</div>`}
  </div>`;
}

// Text and code: the first chunk at once, then "load more" / "show all", or follow the end of a log.
import { html, useEffect, useRef, useState } from "../../lib/html.js";
import { fetchArtifactJSON, formatBytes, ErrorBox, Loading } from "./common.js";
import { highlight, useHighlighter, HIGHLIGHT_LIMIT } from "./highlight.js";

const CHUNK = 1024 * 1024;
const SHOW_ALL_LIMIT = 32 * 1024 * 1024; // past this, the browser would struggle: download instead
const TAIL_BYTES = 256 * 1024;
const TAIL_EVERY_MS = 2000;

function CodeBlock({ text, language }) {
  const hljs = useHighlighter(Boolean(language) && text.length <= HIGHLIGHT_LIMIT);
  const highlighted = highlight(hljs, text, language);
  if (highlighted !== null) {
    return html`<pre class="af-text"><code class=${`hljs language-${language}`} dangerouslySetInnerHTML=${{ __html: highlighted }}></code></pre>`;
  }
  return html`<pre class="af-text"><code>${text}</code></pre>`;
}

/** Text preview; `onBinary` lets the caller switch to the binary card when the file sniffs as binary. */
export function TextPreview({ source, entry, language, onBinary }) {
  const [state, setState] = useState({ text: "", end: 0, eof: false, size: entry.size, loading: true, error: null });
  const [tailing, setTailing] = useState(false);
  const box = useRef(null);
  const key = `${source.runId}|${source.modelId}|${entry.path}`;

  const load = async (offset, append, untilEof = false) => {
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      let body = await fetchArtifactJSON("text", source, entry.path, { offset, length: CHUNK });
      if (body.binary && onBinary) return onBinary();
      let text = body.text;
      while (untilEof && !body.eof) {
        body = await fetchArtifactJSON("text", source, entry.path, { offset: body.end, length: CHUNK * 4 });
        text += body.text;
      }
      setState((s) => ({ text: append ? s.text + text : text, end: body.end, eof: body.eof, size: body.size, loading: false, error: null }));
    } catch (err) {
      setState((s) => ({ ...s, loading: false, error: err.message }));
    }
  };

  useEffect(() => {
    setTailing(false);
    load(0, false);
  }, [key]);

  useEffect(() => {
    if (!tailing) return undefined;
    let stopped = false;
    let timer = null;
    const tick = async () => {
      try {
        const body = await fetchArtifactJSON("text", source, entry.path, { tail: 1, length: TAIL_BYTES });
        if (stopped) return;
        setState({ text: body.text, end: body.end, eof: true, size: body.size, loading: false, error: null, tailStart: body.offset });
        requestAnimationFrame(() => box.current && (box.current.scrollTop = box.current.scrollHeight));
      } catch (err) {
        if (!stopped) setState((s) => ({ ...s, error: err.message }));
      }
      if (!stopped) timer = setTimeout(tick, TAIL_EVERY_MS);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [tailing, key]);

  if (state.loading && !state.text) return html`<${Loading} what="Loading text…" />`;
  const shown = tailing ? `last ${formatBytes(state.size - (state.tailStart || 0))}` : `${formatBytes(state.end)} of ${formatBytes(state.size)}`;
  const remaining = state.size - state.end;
  return html`<div class="af-text-preview">
    <div class="af-toolbar">
      <span class="muted small af-shown">${state.eof && !tailing ? `${formatBytes(state.size)}` : `Showing ${shown}`}</span>
      ${!state.eof && !tailing && html`
        <button class="btn" disabled=${state.loading} onClick=${() => load(state.end, true)}>Load more</button>
        <button class="btn" disabled=${state.loading || remaining > SHOW_ALL_LIMIT} title=${remaining > SHOW_ALL_LIMIT ? "Too large to show whole: download it" : ""} onClick=${() => load(state.end, true, true)}>Show all</button>`}
      <label class="af-check"><input type="checkbox" checked=${tailing} onChange=${(e) => (e.target.checked ? setTailing(true) : (setTailing(false), load(0, false)))} /> Follow end</label>
      <span class="spacer"></span>
    </div>
    ${state.error && html`<${ErrorBox} message=${state.error} />`}
    <div class="af-scroll" ref=${box}><${CodeBlock} text=${state.text} language=${language} /></div>
  </div>`;
}

// Toasts: a short message after an edit, with "Undo" for destructive ones (deletes are soft, so undo
// is a restore). They render into their own container, so any view can call showToast().
import { html, render, useEffect, useState } from "./html.js";

const UNDO_MS = 8000;
let toasts = [];
let nextId = 1;
let notify = () => {};

function update(next) {
  toasts = next;
  notify(toasts);
}

function dismiss(id) {
  update(toasts.filter((t) => t.id !== id));
}

/** Show `message`; with `undo` (async fn), an Undo button works for several seconds. Errors show the server's message. */
export function showToast(message, { undo, error = false, ms = UNDO_MS } = {}) {
  mount();
  const id = nextId++;
  update([...toasts, { id, message, undo, error }]);
  setTimeout(() => dismiss(id), ms);
  return id;
}

function Toast({ toast }) {
  const [busy, setBusy] = useState(false);
  const onUndo = async () => {
    setBusy(true);
    try {
      await toast.undo();
      dismiss(toast.id);
    } catch (err) {
      dismiss(toast.id);
      showToast(`Undo failed: ${err.message || err}`, { error: true });
    }
  };
  return html`<div class=${`toast${toast.error ? " toast-error" : ""}`} role=${toast.error ? "alert" : "status"}>
    <span class="toast-message">${toast.message}</span>
    ${toast.undo && html`<button class="btn btn-small" onClick=${onUndo} disabled=${busy}>Undo</button>`}
    <button class="btn btn-small btn-ghost" aria-label="Dismiss" onClick=${() => dismiss(toast.id)}>×</button>
  </div>`;
}

function Toasts() {
  const [shown, setShown] = useState(toasts);
  useEffect(() => {
    notify = setShown;
    setShown(toasts);
    return () => {
      notify = () => {};
    };
  }, []);
  return html`<div class="toasts" aria-live="polite">${shown.map((t) => html`<${Toast} key=${t.id} toast=${t} />`)}</div>`;
}

let mounted = false;
function mount() {
  if (mounted) return;
  mounted = true;
  const box = document.createElement("div");
  document.body.appendChild(box);
  render(html`<${Toasts} />`, box);
}

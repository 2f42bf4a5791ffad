// Toasts: a short message after an edit, with "Undo" for destructive ones (deletes are soft, so undo
// is a restore). They render into their own container, so any view can call showToast().
// Keyboard: Ctrl/⌘+Z (outside text fields) undoes the newest undoable toast, and when the action took the
// focused control away (a bulk Delete button goes with the selection), focus lands on the toast's Undo.
import { html, render, useEffect, useRef, useState } from "./html.js";

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

/** True when focus is nowhere useful (on the body, or on an element the action removed) and no dialog is open. */
function focusLost() {
  if (document.querySelector("[aria-modal=true]")) return false; // a dialog keeps the focus (and moves it itself)
  const active = document.activeElement;
  return !active || active === document.body || !active.isConnected;
}

function isTextField(el) {
  return !!el && (el.isContentEditable || el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes(el.type)));
}

function Toast({ toast }) {
  const [busy, setBusy] = useState(false);
  const undoButton = useRef(null);
  useEffect(() => {
    if (!toast.undo) return undefined;
    // The view re-renders after the action (selection cleared, Delete becomes Restore): check once it has.
    const rescue = () => focusLost() && undoButton.current && undoButton.current.focus();
    const timers = [setTimeout(rescue, 0), setTimeout(rescue, 300)];
    // Later, only when the focused control is removed (Delete run becomes Restore run), not when the user clicks away.
    const onFocusOut = (e) => {
      const gone = e.target;
      if (!e.relatedTarget) timers.push(setTimeout(() => !gone.isConnected && rescue(), 0));
    };
    document.addEventListener("focusout", onFocusOut);
    return () => {
      timers.forEach(clearTimeout);
      document.removeEventListener("focusout", onFocusOut);
    };
  }, []);
  const onUndo = async () => {
    if (busy) return;
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
    ${toast.undo && html`<button class="btn btn-small" ref=${undoButton} onClick=${onUndo} disabled=${busy}
      aria-keyshortcuts="Control+Z Meta+Z" title="Undo (Ctrl+Z)">Undo</button>`}
    <button class="btn btn-small btn-ghost" aria-label="Dismiss" onClick=${() => dismiss(toast.id)}>×</button>
  </div>`;
}

function Toasts() {
  const [shown, setShown] = useState(toasts);
  const box = useRef(null);
  useEffect(() => {
    notify = setShown;
    setShown(toasts);
    // Ctrl/⌘+Z undoes the newest undoable toast, unless the user is typing (then it is the field's own undo).
    const onKey = (e) => {
      if (e.key.toLowerCase() !== "z" || !(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey || isTextField(e.target)) return;
      const buttons = box.current ? box.current.querySelectorAll("button[aria-keyshortcuts]:not([disabled])") : [];
      if (!buttons.length) return;
      e.preventDefault();
      buttons[buttons.length - 1].click();
    };
    document.addEventListener("keydown", onKey);
    return () => {
      notify = () => {};
      document.removeEventListener("keydown", onKey);
    };
  }, []);
  return html`<div class="toasts" aria-live="polite" ref=${box}>${shown.map((t) => html`<${Toast} key=${t.id} toast=${t} />`)}</div>`;
}

let mounted = false;
function mount() {
  if (mounted) return;
  mounted = true;
  const box = document.createElement("div");
  document.body.appendChild(box);
  render(html`<${Toasts} />`, box);
}

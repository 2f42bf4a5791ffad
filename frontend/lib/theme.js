// Light and dark: the page follows prefers-color-scheme until the user flips the toggle; the choice is
// remembered per browser (localStorage). It is stored only while it differs from the system's, so flipping
// back means "follow the system" again. Canvas charts listen for THEME_EVENT to redraw in the new colours.
import { html, useEffect, useState } from "./html.js";

const KEY = "mlscope.theme";
export const THEME_EVENT = "mlscope-theme";
const system = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try {
    const value = localStorage.getItem(KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch {
    return null;
  }
}

/** "dark" or "light": the user's choice, else the system's. */
export function currentTheme() {
  return stored() || (system.matches ? "dark" : "light");
}

function apply() {
  const choice = stored();
  if (choice) document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
  window.dispatchEvent(new Event(THEME_EVENT));
}

/** Switch to the other theme (remembered; forgotten when it is the system's own). */
export function toggleTheme() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  try {
    if (next === (system.matches ? "dark" : "light")) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch {
    document.documentElement.dataset.theme = next; // storage disabled: this page only
    window.dispatchEvent(new Event(THEME_EVENT));
    return;
  }
  apply();
}

apply();
system.addEventListener("change", apply);

/** The current theme, re-rendering the component when it changes. */
export function useTheme() {
  const [theme, setTheme] = useState(currentTheme);
  useEffect(() => {
    const update = () => setTheme(document.documentElement.dataset.theme || currentTheme());
    window.addEventListener(THEME_EVENT, update);
    return () => window.removeEventListener(THEME_EVENT, update);
  }, []);
  return theme;
}

export function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return html`<button class="btn-icon theme-toggle" onClick=${toggleTheme} aria-label=${`Switch to ${next} mode`}
    title=${`Switch to ${next} mode`} aria-pressed=${theme === "dark"}>${theme === "dark" ? "☀" : "☾"}</button>`;
}

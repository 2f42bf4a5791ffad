// Every view renders inside a boundary: a crash shows what happened and a way back, never a blank app.
import { Component, html } from "./html.js";

/**
 * Catches errors thrown while rendering its children. `resetKey` (the address) clears the error
 * when the user navigates elsewhere, so Back/Forward leave a crashed page behind.
 */
export class ErrorBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { error: null };
  }

  static getDerivedStateFromError(error) {
    return { error };
  }

  componentDidCatch(error) {
    console.error("mlscope view failed", error);
  }

  componentDidUpdate(previous) {
    if (this.state.error && previous.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  render({ children }, { error }) {
    if (!error) return children;
    const message = String((error && error.message) || error);
    return html`<div class="page-message crash" role="alert">
      <h2>This page hit an error</h2>
      <p>mlscope could not show this page: <code>${message}</code></p>
      <p class="crash-actions">
        <button class="btn" onClick=${() => history.back()}>← Go back</button>
        <a class="btn" href="#/experiments">Experiments</a>
        <button class="btn" onClick=${() => location.reload()}>Reload</button>
      </p>
    </div>`;
  }
}

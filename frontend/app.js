// The shell: header (index progress, problems), and the hash router mapping MLflow's URLs to views.
import { html, render, useEffect, useState } from "./lib/html.js";
import { useRoute, hrefFor, listParam } from "./lib/router.js";
import { getJSON } from "./lib/api.js";
import { ExperimentsSidebar } from "./views/experiments.js";
import { RunsTable } from "./views/runs_table.js";
import { LazyView } from "./views/lazy_view.js";

/** Polls index progress: fast while the first build runs, slowly afterwards (to notice new problems). */
function useIndexStatus() {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const tick = async () => {
      try {
        const next = await getJSON("/api/mlscope/status");
        if (!stopped) setStatus(next);
        timer = setTimeout(tick, next.ready ? 5000 : 400);
      } catch {
        timer = setTimeout(tick, 2000);
      }
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return status;
}

function useProblems(version) {
  const [problems, setProblems] = useState([]);
  useEffect(() => {
    getJSON("/api/mlscope/problems")
      .then((body) => setProblems(body.problems))
      .catch(() => {});
  }, [version]);
  return problems;
}

function IndexProgress({ status }) {
  if (!status || status.ready) return null;
  const label = status.phase === "details" ? "Loading run details" : "Listing runs";
  const pct = status.total ? Math.round((100 * status.done) / status.total) : 0;
  return html`<div class="index-progress" role="status" title="mlscope is indexing the tree">
    <span>${label}${status.total ? ` ${status.done.toLocaleString()} / ${status.total.toLocaleString()}` : "…"}</span>
    <span class="bar"><span style=${`width:${pct}%`}></span></span>
  </div>`;
}

function ProblemsButton({ problems }) {
  const [open, setOpen] = useState(false);
  if (!problems.length) return null;
  return html`<div class="problems">
    <button class="btn btn-warn" onClick=${() => setOpen(!open)} aria-expanded=${open}>
      ⚠ ${problems.length} skipped ${problems.length === 1 ? "item" : "items"}
    </button>
    ${open &&
    html`<div class="problems-panel" role="dialog" aria-label="Skipped runs and experiments">
      <div class="problems-head">
        <strong>Skipped while reading the tree</strong>
        <button class="btn-icon" onClick=${() => setOpen(false)} aria-label="Close">✕</button>
      </div>
      <table class="kv-table problems-table">
        <thead><tr><th>Kind</th><th>Path</th><th>Reason</th></tr></thead>
        <tbody>
          ${problems.map(
            (p) => html`<tr><td>${p.kind}</td><td class="mono wrap">${p.path}</td><td class="wrap">${p.reason}</td></tr>`,
          )}
        </tbody>
      </table>
    </div>`}
  </div>`;
}

function NotFound({ path }) {
  return html`<div class="page-message">
    <h2>Page not found</h2>
    <p>mlscope has no page at <code>#${path}</code>.</p>
    <p><a href="#/experiments">Go to experiments</a></p>
  </div>`;
}

const loadCompare = () => import("./views/compare.js");
// The run page (and markdown, marked, DOMPurify) loads on first use: the runs table, the usual first screen,
// does not wait for it.
const loadRunPage = () => import("./views/run_page.js");

/** Experiments ids selected by the route: /experiments/<id>, or ?experiments=[...] (compare-experiments). */
function selectedExperiments(route) {
  const { segments, query } = route;
  const fromQuery = listParam(query, "experiments");
  if (fromQuery.length) return fromQuery;
  if (segments[0] === "experiments" && segments[1]) return [segments[1]];
  return [];
}

function ExperimentsScreen({ route }) {
  const selected = selectedExperiments(route);
  return html`<div class="layout">
    <${ExperimentsSidebar} selected=${selected} />
    <main class="main">
      ${selected.length
        ? html`<${RunsTable} experimentIds=${selected} route=${route} />`
        : html`<div class="page-message"><h2>Select an experiment</h2><p>Pick one on the left (Ctrl/⌘-click or the checkboxes to pick several).</p></div>`}
    </main>
  </div>`;
}

function Routes({ route }) {
  const s = route.segments;
  if (s.length === 0 || (s[0] === "experiments" && s.length === 1)) return html`<${ExperimentsScreen} route=${route} />`;
  if (s[0] === "compare-experiments") return html`<${ExperimentsScreen} route=${route} />`;
  if (s[0] === "experiments" && (s.length === 2 || (s.length === 3 && s[2] === "runs"))) {
    return html`<${ExperimentsScreen} route=${route} />`;
  }
  if (s[0] === "experiments" && s[2] === "runs" && s.length >= 4) {
    let tab = s[4] || "overview";
    let artifactPath = "";
    if (s[4] === "artifactPath") {
      tab = "artifacts";
      artifactPath = s.slice(5).join("/");
    } else if (s[4] === "artifacts") {
      artifactPath = s.slice(5).join("/");
    }
    return html`<${LazyView} load=${loadRunPage} name="RunPage" props=${{ experimentId: s[1], runId: s[3], tab, artifactPath }} />`;
  }
  if (s[0] === "compare-runs") return html`<${LazyView} load=${loadCompare} name="CompareView" props=${{ route }} />`;
  return html`<${NotFound} path=${route.path} />`;
}

function App() {
  const route = useRoute();
  const status = useIndexStatus();
  const problems = useProblems(status ? `${status.ready}:${status.version}` : "");
  return html`<div class="app">
    <header class="topbar">
      <a class="brand" href=${hrefFor(["experiments"])}>mlscope</a>
      <${IndexProgress} status=${status} />
      <span class="spacer"></span>
      <${ProblemsButton} problems=${problems} />
    </header>
    <${Routes} route=${route} />
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));

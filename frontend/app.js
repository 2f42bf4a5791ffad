// The shell: header (index progress, problems), and the hash router mapping MLflow's URLs to views.
import { html, render, useEffect, useState } from "./lib/html.js";
import { useRoute, hrefFor, listParam } from "./lib/router.js";
import { fetchProblems, fetchStatus } from "./lib/api.js";
import { connectionState, isOnline, onConnectionChange, probe } from "./lib/connection.js";
import { ErrorBoundary } from "./lib/error_boundary.js";
import { usePageTitle } from "./lib/page_title.js";
import { useDismiss } from "./lib/use_dismiss.js";
import { ThemeToggle } from "./lib/theme.js";
import { ExperimentsSidebar, useExperiments } from "./views/experiments.js";
import { ExperimentView } from "./views/experiment_view.js";
import { LazyView } from "./views/lazy_view.js";

/**
 * Polls index progress: fast while the first build runs, slowly afterwards (to notice new problems).
 * While the server is unreachable it waits for lib/connection.js to say it is back (no polling of its own).
 */
function useIndexStatus() {
  const [status, setStatus] = useState(null);
  useEffect(() => {
    let stopped = false;
    let timer = null;
    const tick = async () => {
      clearTimeout(timer);
      timer = null;
      try {
        const next = await fetchStatus();
        if (stopped) return;
        setStatus(next);
        timer = setTimeout(tick, next.ready ? 5000 : 400);
      } catch {
        // unreachable: the connection listener below resumes polling; an HTTP error: try again later
        if (!stopped && isOnline()) timer = setTimeout(tick, 5000);
      }
    };
    tick();
    const unlisten = onConnectionChange(({ online }) => online && !stopped && !timer && tick());
    return () => {
      stopped = true;
      clearTimeout(timer);
      unlisten();
    };
  }, []);
  return status;
}

/** Says when the server stopped answering, when the next try is, and that it came back. */
function ConnectionBanner() {
  const [state, setState] = useState(connectionState());
  const [, setNow] = useState(0);
  const [back, setBack] = useState(false);
  useEffect(() => {
    let wasOnline = state.online;
    let hide = null;
    const unlisten = onConnectionChange((next) => {
      setState(next);
      if (next.online && !wasOnline) {
        setBack(true);
        clearTimeout(hide);
        hide = setTimeout(() => setBack(false), 3000);
      }
      wasOnline = next.online;
    });
    const tick = setInterval(() => setNow(Date.now()), 1000); // the countdown
    return () => {
      unlisten();
      clearInterval(tick);
      clearTimeout(hide);
    };
  }, []);
  if (state.online) {
    return back ? html`<div class="connection-banner ok" role="status">Reconnected: the page is up to date again.</div>` : null;
  }
  const seconds = state.nextAt ? Math.max(0, Math.ceil((state.nextAt - Date.now()) / 1000)) : 0;
  return html`<div class="connection-banner" role="alert">
    <strong>Connection to the mlscope server lost.</strong>
    <span>${seconds ? `Retrying in ${seconds} s…` : "Retrying…"}</span>
    <button class="link-btn" onClick=${() => probe()}>Retry now</button>
  </div>`;
}

function useProblems(version) {
  const [problems, setProblems] = useState([]);
  useEffect(() => {
    fetchProblems()
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
  const box = useDismiss(open, () => setOpen(false));
  if (!problems.length) return null;
  return html`<div class="problems" ref=${box}>
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
  usePageTitle("Page not found");
  return html`<div class="page-message">
    <h2>Page not found</h2>
    <p>mlscope has no page at <code>#${path}</code>.</p>
    <p><a href="#/experiments">Go to experiments</a></p>
  </div>`;
}

function MalformedAddress({ error }) {
  usePageTitle("Malformed address");
  return html`<div class="page-message" role="alert">
    <h2>This address is malformed</h2>
    <p>${error}. The link was probably cut or mangled when it was copied.</p>
    <p><a href="#/experiments">Go to experiments</a></p>
  </div>`;
}

/** MLflow pages mlscope does not have (prompts, gateway, traces…): say so and point at what it has. */
function NotInMlscope({ what, experimentId }) {
  usePageTitle(what);
  return html`<div class="page-message">
    <h2>${what}: not part of mlscope</h2>
    <p>This link points at a page of MLflow's UI that mlscope does not show.</p>
    <p><a href=${hrefFor(experimentId ? ["experiments", experimentId] : ["experiments"])}>
      ${experimentId ? "Show this experiment's runs" : "Go to experiments"}</a></p>
  </div>`;
}

const loadCompare = () => import("./views/compare.js");
// The run page (and markdown, marked, DOMPurify) loads on first use: the runs table, the usual first screen,
// does not wait for it.
const loadRunPage = () => import("./views/run_page.js");
const loadMetricPage = () => import("./views/metric_page.js");
const loadModels = () => import("./views/models.js");
const loadModel = () => import("./views/models_detail.js");
const loadModelVersion = () => import("./views/model_version.js");
const loadCompareVersions = () => import("./views/models_compare.js");
const loadLoggedModels = () => import("./views/models_logged.js");

/** Experiments ids selected by the route: /experiments/<id>, or ?experiments=[...] (compare-experiments). */
function selectedExperiments(route) {
  const { segments, query } = route;
  if (segments[0] === "experiments" && segments[1]) return [segments[1]];
  return listParam(query, "experiments");
}

/** The experiments sidebar and the runs of the selected experiments; unknown ids are said to be unknown. */
function ExperimentsScreen({ route, notice, tab }) {
  const selected = selectedExperiments(route);
  const experiments = useExperiments();
  const known = experiments.experiments ? new Map(experiments.experiments.map((e) => [e.experiment_id, e])) : null;
  const missing = known ? selected.filter((id) => !known.has(id)) : [];
  const present = known ? selected.filter((id) => known.has(id)) : selected;
  usePageTitle(known ? present.map((id) => known.get(id).name).join(", ") : "");
  let body;
  if (!selected.length) {
    body = html`<div class="page-message"><h2>Select an experiment</h2><p>Pick one on the left (Ctrl/⌘-click or the checkboxes to pick several).</p></div>`;
  } else if (!present.length) {
    body = html`<div class="page-message" role="alert">
      <h2>Experiment not found</h2>
      <p>No experiment has the id ${missing.map((id, i) => html`${i ? ", " : ""}<code>${id}</code>`)}: it may have been removed from the tree, or the link is wrong.</p>
      <p><a href=${hrefFor(["experiments"])}>See all experiments</a></p>
    </div>`;
  } else {
    body = html`
      ${missing.length > 0 &&
      html`<div class="notice" role="status">Not found, left out: ${missing.map((id, i) => html`${i ? ", " : ""}<code>${id}</code>`)}</div>`}
      ${tab === "models"
        ? html`<${LazyView} load=${loadLoggedModels} name="LoggedModelsTab"
            props=${{ experimentId: present[0], experimentName: known ? known.get(present[0]).name : "", route }} />`
        : html`<${ExperimentView} experimentIds=${present} route=${route} />`}`;
  }
  return html`<div class="layout">
    <${ExperimentsSidebar} selected=${selected} state=${experiments} />
    <main class="main">
      ${notice && html`<div class="notice" role="status">${notice}</div>`}
      ${body}
    </main>
  </div>`;
}

const RUN_TABS = new Set(["runs", "evaluation-runs"]);
// MLflow's experiment tabs that mlscope shows as the runs table (with a word on what is missing).
const EXPERIMENT_TABS = { traces: "Traces", models: "Models", overview: "Overview", datasets: "Datasets",
  "chat-sessions": "Chat sessions", prompts: "Prompts", judges: "Judges", playground: "Playground", "review-queue": "Review queue" };
const MLFLOW_ONLY = { prompts: "Prompts", gateway: "AI gateway", settings: "Settings", "mcp-registry": "MCP registry",
  genai: "GenAI evaluation", account: "Account", admin: "Administration" };

function runPageProps(experimentId, runId, rest) {
  let tab = rest[0] || "overview";
  let artifactPath = "";
  if (rest[0] === "artifactPath") {
    tab = "artifacts";
    artifactPath = rest.slice(1).join("/");
  } else if (rest[0] === "artifacts") {
    artifactPath = rest.slice(1).join("/");
  }
  return { experimentId, runId, tab, artifactPath };
}

/**
 * The view for a route as { key, view }. The key names the kind of page: a different key mounts a new
 * view (and error boundary), so no state or props of the previous page leak into the next one.
 */
function matchRoute(route) {
  const s = route.segments;
  if (route.error) return { key: "malformed", view: html`<${MalformedAddress} error=${route.error} />` };
  const experiments = { key: "experiments", view: html`<${ExperimentsScreen} route=${route} />` };
  if (s.length === 0 || (s[0] === "experiments" && s.length === 1)) return experiments;
  if (s[0] === "compare-experiments") return experiments;
  if (s[0] === "experiments" && (s.length === 2 || (s.length === 3 && (RUN_TABS.has(s[2]) || s[2] === "s")))) return experiments;
  if (s[0] === "experiments" && RUN_TABS.has(s[2]) && s.length >= 4) {
    return { key: "run", view: html`<${LazyView} load=${loadRunPage} name="RunPage" props=${runPageProps(s[1], s[3], s.slice(4))} />` };
  }
  if (s[0] === "runs" && s[1]) {
    return { key: "run", view: html`<${LazyView} load=${loadRunPage} name="RunPage" props=${runPageProps(null, s[1], s.slice(2))} />` };
  }
  // MLflow 3's logged models tab of an experiment.
  if (s[0] === "experiments" && s[2] === "models" && s.length === 3) return { key: "logged-models", view: html`<${ExperimentsScreen} route=${route} tab="models" />` };
  if (s[0] === "experiments" && EXPERIMENT_TABS[s[2]]) {
    const notice = `mlscope has no "${EXPERIMENT_TABS[s[2]]}" tab (a page of MLflow's UI); here are the experiment's runs.`;
    return { key: "experiments", view: html`<${ExperimentsScreen} route=${route} notice=${notice} />` };
  }
  if (s[0] === "compare-runs") return { key: "compare", view: html`<${LazyView} load=${loadCompare} name="CompareView" props=${{ route }} />` };
  if (s[0] === "metric") return { key: "metric", view: html`<${LazyView} load=${loadMetricPage} name="MetricPage" props=${{ route }} />` };
  // Model registry routes, as MLflow's: #/models, #/models/<name>, #/models/<name>/versions/<v>.
  if (s[0] === "models" && s.length === 1) return { key: "models", view: html`<${LazyView} load=${loadModels} name="ModelsPage" props=${{ route }} />` };
  if (s[0] === "models" && s.length === 2) return { key: "model", view: html`<${LazyView} load=${loadModel} name="ModelDetailPage" props=${{ name: s[1] }} />` };
  if (s[0] === "models" && s[2] === "versions" && s.length === 4) {
    return { key: "model-version", view: html`<${LazyView} load=${loadModelVersion} name="ModelVersionPage" props=${{ name: s[1], version: s[3] }} />` };
  }
  if (s[0] === "compare-model-versions") return { key: "compare-versions", view: html`<${LazyView} load=${loadCompareVersions} name="CompareModelVersionsPage" props=${{ route }} />` };
  if (MLFLOW_ONLY[s[0]]) return { key: "mlflow-only", view: html`<${NotInMlscope} what=${MLFLOW_ONLY[s[0]]} />` };
  return { key: "not-found", view: html`<${NotFound} path=${route.path} />` };
}

function Routes({ route }) {
  const { key, view } = matchRoute(route);
  return html`<${ErrorBoundary} key=${key} resetKey=${window.location.hash}>${view}<//>`;
}

function App() {
  const route = useRoute();
  const status = useIndexStatus();
  const inModels = route.segments[0] === "models" || route.segments[0] === "compare-model-versions";
  const problems = useProblems(status ? `${status.ready}:${status.version}` : "");
  return html`<div class="app">
    <header class="topbar">
      <a class="brand" href=${hrefFor(["experiments"])}>mlscope</a>
      <nav class="topnav" aria-label="Sections">
        <a class=${inModels ? "" : "active"} href=${hrefFor(["experiments"])}>Experiments</a>
        <a class=${inModels ? "active" : ""} href=${hrefFor(["models"])}>Models</a>
      </nav>
      <${IndexProgress} status=${status} />
      <span class="spacer"></span>
      <${ProblemsButton} problems=${problems} />
      <${ThemeToggle} />
    </header>
    <${ConnectionBanner} />
    <${Routes} route=${route} />
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));

// The UI's shell: mode bar, navigation, language and key, and the hash router.

import { onUnauthorised } from "./api.js";
import { clear } from "./dom.js";
import { applyStaticLabels, t } from "./i18n.js";
import { onSessionChange, session } from "./state.js";
import * as alerts from "./pages/alerts.js";
import * as monitoring from "./pages/monitoring.js";
import * as tenant from "./pages/tenant.js";
import * as tenants from "./pages/tenants.js";
import * as wizard from "./pages/wizard.js";
import { emptyState, errorBox, openKeyDialog, toast } from "./widgets.js";

const ROUTES = [
  [/^#?\/?$/, tenants, () => ({}), "tenants"],
  [/^#\/tenants\/?$/, tenants, () => ({}), "tenants"],
  [/^#\/tenants\/new$/, wizard, () => ({}), "tenants"],
  [/^#\/tenants\/([a-z0-9-]+)$/, tenant, (m) => ({ tenantId: m[1] }), "tenants"],
  [/^#\/monitoring(?:\/([a-z0-9-]+))?$/, monitoring, (m) => ({ tenantId: m[1] }), "monitoring"],
  [/^#\/alerts(?:\/([a-z0-9-]+))?$/, alerts, (m) => ({ tenantId: m[1] }), "alerts"],
];

let cleanup = null;

function route() {
  const view = document.getElementById("view");
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page that failed to stop must not block the next */
    }
    cleanup = null;
  }
  const hash = window.location.hash || "#/";
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  for (const link of document.querySelectorAll("nav a[data-section]")) {
    link.classList.toggle("active", Boolean(found) && link.dataset.section === found[3]);
  }
  if (!found) {
    clear(view, emptyState(t("notFound.title"), t("notFound.body")));
    return;
  }
  const [pattern, page, params] = found;
  clear(view);
  try {
    cleanup = page.render(view, params(hash.match(pattern))) || null;
  } catch (error) {
    clear(view, errorBox(error));
  }
}

function renderChrome() {
  const prod = session.mode === "prod";
  document.body.classList.toggle("mode-prod", prod);
  document.body.classList.toggle("mode-demo", !prod);
  document.documentElement.lang = session.lang;
  const bar = document.getElementById("modebar");
  bar.textContent = prod ? t("mode.prodBanner") : t("mode.demoBanner");
  bar.className = `modebar ${prod ? "prod" : "demo"}`;
  document.getElementById("mode-demo").setAttribute("aria-pressed", String(!prod));
  document.getElementById("mode-prod").setAttribute("aria-pressed", String(prod));
  document.getElementById("lang-ko").setAttribute("aria-pressed", String(session.lang === "ko"));
  document.getElementById("lang-en").setAttribute("aria-pressed", String(session.lang === "en"));
  const keyButton = document.getElementById("key-button");
  keyButton.textContent = session.apiKey ? t("key.set") : t("key.none");
  keyButton.classList.toggle("warn", prod && !session.apiKey);
  applyStaticLabels(document);
  document.title = t("app.title");
}

function wire() {
  document.getElementById("mode-demo").addEventListener("click", () => (session.mode = "demo"));
  document.getElementById("mode-prod").addEventListener("click", () => {
    session.mode = "prod";
    if (!session.apiKey) openKeyDialog();
  });
  document.getElementById("lang-ko").addEventListener("click", () => (session.lang = "ko"));
  document.getElementById("lang-en").addEventListener("click", () => (session.lang = "en"));
  document.getElementById("key-button").addEventListener("click", openKeyDialog);
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    session.apiKey = document.getElementById("key-input").value;
    document.getElementById("key-dialog").close();
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    session.apiKey = "";
    document.getElementById("key-dialog").close();
  });
  document.getElementById("key-cancel").addEventListener("click", () => document.getElementById("key-dialog").close());
  onUnauthorised(() => openKeyDialog());
  onSessionChange(() => {
    renderChrome();
    route();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("unhandledrejection", (event) => {
    const error = event.reason;
    toast(error?.detail || error?.message || String(error), "error");
  });
}

wire();
renderChrome();
route();

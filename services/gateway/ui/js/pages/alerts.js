// Alerts of a tenant: rules (with inline condition errors), firing and resolved history,
// the notifications log and silences, refreshed by alert events on /ws/events.

import { api } from "../api.js";
import { clear, formatNumber, formatTime, h } from "../dom.js";
import { t } from "../i18n.js";
import { follow } from "../live.js";
import { session } from "../state.js";
import { emptyState, errorBox, liveDot, section, setLiveDot, statusBadge, toast } from "../widgets.js";
import { tenantPicker } from "./picker.js";

export function render(view, { tenantId }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, t("alerts.title")), h("span", { class: "spacer" }), tenantPicker("alerts", tenantId));
  if (!tenantId) {
    clear(view, head, emptyState(t("alerts.chooseTenant")));
    return null;
  }
  const base = `/api/v1/tenants/${tenantId}/alerts`;
  const dot = liveDot("connecting");
  const rules = h("div", { id: "alert-rules" });
  const history = h("div", { id: "alert-history" });
  const notifications = h("div", { id: "alert-notifications" });
  const silences = h("div", { id: "alert-silences" });
  let alive = true;

  clear(
    view,
    head,
    h("div", { class: "actions" }, h("a", { href: `#/tenants/${tenantId}`, class: "mono" }, tenantId), dot),
    section(t("alerts.rules"), rules),
    section(t("alerts.newRule"), ruleForm(base, () => loadRules())),
    section(t("alerts.history"), history),
    section(t("alerts.notifications"), notifications),
    section(t("alerts.silences"), silenceForm(base, () => loadSilences()), silences),
  );

  async function load(target, path, draw) {
    try {
      const data = await api.get(path);
      if (alive) clear(target, draw(data));
    } catch (error) {
      if (alive) clear(target, errorBox(error));
    }
  }
  const loadRules = () => load(rules, base, (d) => rulesTable(d.rules, base, loadRules));
  const loadHistory = () => load(history, `${base}/history`, (d) => historyTable(d.history));
  const loadNotifications = () => load(notifications, `${base}/notifications`, (d) => notificationsTable(d.notifications));
  const loadSilences = () => load(silences, `${base}/silences`, (d) => silencesTable(d.silences, base, loadSilences));

  let timer = null;
  const live = follow("/ws/events", { tenant_id: tenantId, events: "alert.*" }, {
    onState: (state) => setLiveDot(dot, state),
    onOpen: () => {
      loadRules();
      loadHistory();
      loadNotifications();
    },
    onMessage: (event) => {
      if (!event.event.startsWith("alert.")) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        loadRules();
        loadHistory();
        loadNotifications();
      }, 200);
    },
  });
  loadSilences();
  return () => {
    alive = false;
    clearTimeout(timer);
    live.stop();
  };
}

function ruleForm(base, reload) {
  const conditionError = h("div", { class: "field-error", id: "err-condition", role: "alert" });
  const errors = h("div", { id: "rule-errors" });
  const fieldErrors = {};
  const field = (name, label, input, hint, slot) => {
    fieldErrors[name] = slot || h("small", { class: "field-error", id: `err-${name}` });
    return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null, fieldErrors[name]);
  };
  const input = (name, props = {}) => h("input", { id: `rule-${name}`, name, autocomplete: "off", ...props });
  const form = h(
    "form",
    { class: "form", id: "rule-form", novalidate: true },
    h(
      "div",
      { class: "row" },
      field("alert_name", t("alerts.name"), input("alert_name", { placeholder: "high_cpu_usage" })),
      field("condition", t("alerts.condition"), input("condition", { placeholder: "cpu_usage > 80", class: "mono" }), t("alerts.conditionHint"), conditionError),
      field("duration", t("alerts.duration"), input("duration", { placeholder: "5m", value: "5m" }), t("alerts.durationHint")),
      field("severity", t("alerts.severity"), h("select", { id: "rule-severity", name: "severity" }, ["warning", "critical", "info"].map((v) => h("option", { value: v }, v)))),
    ),
    h(
      "div",
      { class: "row" },
      field("webhook", t("alerts.webhook"), input("webhook", { placeholder: "https://hooks.example.com/alerts" })),
      field("webhook_method", t("alerts.method"), h("select", { id: "rule-webhook_method", name: "webhook_method" }, ["POST", "PUT", "PATCH"].map((v) => h("option", { value: v }, v)))),
      field("email", t("alerts.email"), input("email", { placeholder: "ops@example.com, oncall@example.com" })),
    ),
    h("div", { class: "actions" }, h("button", { class: "btn primary", type: "submit", id: "rule-create" }, t("alerts.create"))),
    errors,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const slot of Object.values(fieldErrors)) clear(slot);
    clear(errors);
    const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
    const actions = [];
    if (value("webhook")) actions.push({ type: "webhook", url: value("webhook"), method: value("webhook_method") });
    if (value("email")) actions.push({ type: "email", recipients: value("email").split(/[\s,;]+/).filter(Boolean) });
    const body = { alert_name: value("alert_name"), condition: value("condition"), duration: value("duration") || "0s", severity: value("severity"), actions };
    try {
      await api.post(base, body);
      toast(t("alerts.created", { name: body.alert_name }), "ok");
      form.reset();
      reload();
    } catch (error) {
      if (error.code === "INVALID_CONDITION") {
        clear(conditionError, conditionProblem(error.detail, error.body.condition ?? body.condition, error.body.column));
        return;
      }
      const where = error.body?.field || firstLoc(error.body?.errors);
      const slot = where && (fieldErrors[where] || (where.startsWith("actions.") ? fieldErrors[where.includes("recipients") ? "email" : "webhook"] : null));
      if (slot) clear(slot, error.detail);
      else clear(errors, errorBox(error));
    }
  });
  return form;
}

function firstLoc(errors) {
  const loc = errors?.[0]?.loc;
  return Array.isArray(loc) ? loc.join(".") : null;
}

export function conditionProblem(detail, condition, column) {
  const parts = [h("span", { class: "problem-text" }, detail)];
  if (column && condition) {
    const caret = " ".repeat(Math.max(0, column - 1)) + "^";
    parts.push(h("pre", { class: "caret mono", dataset: { column } }, `${condition}\n${caret}`));
    parts.push(h("span", { class: "muted" }, t("alerts.atColumn", { column })));
  }
  return parts;
}

function rulesTable(rules, base, reload) {
  if (!rules.length) return emptyState(t("alerts.noRules"), t("alerts.noRulesHint"));
  return h(
    "table",
    { class: "grid", id: "rules-table" },
    h("thead", {}, h("tr", {}, ["alerts.name", "alerts.condition", "alerts.duration", "alerts.severity", "alerts.actions", "alerts.state", "alerts.value", ""].map((k) => h("th", {}, k ? t(k) : "")))),
    h(
      "tbody",
      {},
      rules.map((rule) =>
        h(
          "tr",
          { dataset: { rule: rule.alert_name, state: rule.state.status } },
          h("td", {}, rule.alert_name, rule.default ? h("span", { class: "badge muted-badge" }, t("alerts.default")) : null),
          h("td", { class: "mono" }, rule.condition),
          h("td", { class: "mono" }, rule.duration),
          h("td", {}, rule.severity),
          h("td", { class: "small" }, rule.actions.map((a) => (a.type === "webhook" ? `webhook ${a.method} ${a.url}` : `email ${(a.recipients || []).join(", ")}`)).join(" · ") || "—"),
          h("td", { class: "rule-state" }, statusBadge(`alert-${rule.state.status}`)),
          h("td", { class: "num" }, rule.state.value === null || rule.state.value === undefined ? "—" : formatNumber(rule.state.value)),
          h("td", {}, h("button", { class: "btn small danger", onclick: async () => {
            if (!window.confirm(t("alerts.deleteConfirm", { name: rule.alert_name }))) return;
            try {
              await api.del(`${base}/${encodeURIComponent(rule.rule_id)}`);
              reload();
            } catch (error) {
              toast(error.detail || error.message, "error");
            }
          } }, t("common.delete"))),
        ),
      ),
    ),
  );
}

function historyTable(entries) {
  if (!entries.length) return emptyState(t("alerts.noHistory"));
  const keys = ["alerts.when", "alerts.name", "alerts.state", "alerts.value", "alerts.detail"];
  return h(
    "table",
    { class: "grid", id: "history-table" },
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", {}, t(k))))),
    h(
      "tbody",
      {},
      entries.map((e) =>
        h(
          "tr",
          { dataset: { status: e.status, rule: e.alert_name } },
          h("td", {}, formatTime(e.at, session.lang)),
          h("td", {}, e.alert_name),
          h("td", {}, statusBadge(`alert-${e.status}`)),
          h("td", { class: "num" }, e.value === null || e.value === undefined ? "—" : formatNumber(e.value)),
          h("td", { class: "mono small" }, e.condition),
        ),
      ),
    ),
  );
}

function notificationsTable(entries) {
  if (!entries.length) return emptyState(t("alerts.noNotifications"));
  return h(
    "table",
    { class: "grid", id: "notifications-table" },
    h("thead", {}, h("tr", {}, ["alerts.when", "alerts.name", "alerts.channel", "alerts.target", "alerts.state", "alerts.attempts"].map((k) => h("th", {}, t(k))))),
    h(
      "tbody",
      {},
      entries.map((n) =>
        h(
          "tr",
          {},
          h("td", {}, formatTime(n.created_at || n.log?.[0]?.at, session.lang)),
          h("td", {}, n.alert_name || "—"),
          h("td", {}, n.action_type, n.method ? ` ${n.method}` : "", " · ", t(`status.alert-${n.status}`)),
          h("td", { class: "small mono" }, n.target),
          h("td", {}, statusBadge(`delivery-${n.state}`)),
          h("td", { class: "small" }, (n.log || []).map((a) => `#${a.attempt} ${a.outcome}${a.status_code ? ` ${a.status_code}` : ""}${a.error ? ` ${a.error}` : ""}`).join(" · ") || "—"),
        ),
      ),
    ),
  );
}

function silenceForm(base, reload) {
  const errors = h("div", { id: "silence-errors" });
  const form = h(
    "form",
    { class: "form", id: "silence-form", novalidate: true },
    h(
      "div",
      { class: "row" },
      h("label", { class: "field" }, h("span", {}, t("alerts.silenceMatcher")), h("input", { name: "matcher", id: "silence-matcher", placeholder: "alertname=high_cpu_usage", class: "mono" }), h("small", { class: "muted" }, t("alerts.silenceMatcherHint"))),
      h("label", { class: "field" }, h("span", {}, t("alerts.duration")), h("input", { name: "duration", id: "silence-duration", value: "1h" })),
      h("label", { class: "field" }, h("span", {}, t("alerts.comment")), h("input", { name: "comment", id: "silence-comment" })),
    ),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit", id: "silence-create" }, t("alerts.silenceCreate"))),
    errors,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(errors);
    const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
    const matchers = value("matcher")
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const m = part.match(/^([^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*)$/);
        return m ? { name: m[1], op: m[2], value: m[3] } : { name: part, op: "=", value: "" };
      });
    try {
      await api.post(`${base}/silences`, { matchers, duration: value("duration"), comment: value("comment"), created_by: "ui" });
      form.reset();
      reload();
    } catch (error) {
      clear(errors, errorBox(error));
    }
  });
  return form;
}

function silencesTable(entries, base, reload) {
  if (!entries.length) return emptyState(t("alerts.noSilences"));
  return h(
    "table",
    { class: "grid", id: "silences-table" },
    h("thead", {}, h("tr", {}, ["alerts.silenceMatcher", "alerts.from", "alerts.until", "alerts.state", "alerts.comment", ""].map((k) => h("th", {}, k ? t(k) : "")))),
    h(
      "tbody",
      {},
      entries.map((s) =>
        h(
          "tr",
          {},
          h("td", { class: "mono small" }, s.matchers.map((m) => `${m.name}${m.op || "="}${m.value}`).join(", ")),
          h("td", {}, formatTime(s.starts_at, session.lang)),
          h("td", {}, formatTime(s.ends_at, session.lang)),
          h("td", {}, statusBadge(`silence-${s.status}`)),
          h("td", {}, s.comment || ""),
          h("td", {}, s.status === "expired" ? null : h("button", { class: "btn small", onclick: async () => {
            try {
              await api.del(`${base}/silences/${encodeURIComponent(s.silence_id)}`);
              reload();
            } catch (error) {
              toast(error.detail || error.message, "error");
            }
          } }, t("alerts.expire"))),
        ),
      ),
    ),
  );
}

// Monitoring: history from GET .../monitoring and live samples from /ws/monitoring/{tenant}.

import { api } from "../api.js";
import { lineChart } from "../chart.js";
import { clear, h } from "../dom.js";
import { t } from "../i18n.js";
import { follow } from "../live.js";
import { emptyState, errorBox, liveDot, setLiveDot } from "../widgets.js";
import { tenantPicker } from "./picker.js";

// Chart family -> the names the seed uses for it (short and full), its unit and scale.
export const FAMILIES = [
  { family: "cpu", names: ["cpu_usage", "cpu"], unit: "%", max: 100 },
  { family: "memory", names: ["memory_usage", "memory"], unit: "%", max: 100 },
  { family: "gpu", names: ["gpu_usage", "gpu"], unit: "%", max: 100 },
  { family: "requests", names: ["request_count", "requests"], unit: "", max: null },
  { family: "response_time", names: ["response_time"], unit: " ms", max: null },
];
const RANGES = [1, 24, 168];

export function familyOf(name) {
  return FAMILIES.find((f) => f.names.includes(name));
}

export function render(view, { tenantId }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, t("monitoring.title")), h("span", { class: "spacer" }), tenantPicker("monitoring", tenantId));
  if (!tenantId) {
    clear(view, head, emptyState(t("monitoring.chooseTenant")));
    return null;
  }
  const dot = liveDot("connecting");
  const hoursFromHash = Number(new URLSearchParams(window.location.search).get("hours")) || 1;
  let hours = RANGES.includes(hoursFromHash) ? hoursFromHash : 1;
  const status = h("div", { id: "monitoring-status" });
  const charts = Object.fromEntries(FAMILIES.map((f) => [f.family, lineChart({ id: `chart-${f.family}`, title: t(`metric.${f.family}`), unit: f.unit, fixedMax: f.max, emptyText: t("monitoring.noData") })]));
  const rangeButtons = RANGES.map((value) => h("button", { class: "btn", "aria-pressed": String(value === hours), dataset: { hours: value }, onclick: () => { hours = value; for (const b of rangeButtons) b.setAttribute("aria-pressed", String(Number(b.dataset.hours) === hours)); loadHistory(); } }, t(`monitoring.range.${value}`)));
  clear(
    view,
    head,
    h("div", { class: "actions" }, h("a", { href: `#/tenants/${tenantId}`, class: "mono" }, tenantId), dot, h("span", { class: "spacer" }), h("span", { class: "muted" }, t("monitoring.history")), ...rangeButtons),
    status,
    h("p", { class: "muted small" }, t("monitoring.sourceNote")),
    h("div", { class: "charts" }, FAMILIES.map((f) => charts[f.family].node)),
  );
  let alive = true;

  async function loadHistory() {
    clear(status);
    // Samples drawn live while the history is read may be too new to be in it: keep the last
    // minute's live points, and `set` keeps those newer than the history's last point.
    const keepFrom = Date.now() - 60_000;
    const results = await Promise.allSettled(FAMILIES.map((f) => api.get(`/api/v1/tenants/${tenantId}/monitoring`, { metric_type: f.family, hours })));
    if (!alive) return;
    results.forEach((result, index) => {
      const chart = charts[FAMILIES[index].family];
      chart.reset(keepFrom);
      if (result.status === "rejected") {
        if (!status.childElementCount) clear(status, errorBox(result.reason));
        return;
      }
      for (const [name, points] of Object.entries(result.value.metrics || {})) {
        chart.set(name, points.map((p) => ({ t: Date.parse(p.timestamp), v: Number(p.value ?? p.avg) })));
      }
    });
  }

  const live = follow(`/ws/monitoring/${tenantId}`, {}, {
    onState: (state, reason) => {
      setLiveDot(dot, state);
      if (state === "refused") clear(status, errorBox({ message: reason || t("live.refused") }));
    },
    onMessage: (message) => {
      if (message.type && message.type !== "metrics") return;
      const when = Date.parse(message.timestamp) || Date.now();
      for (const [name, value] of Object.entries(message.metrics || {})) {
        const family = familyOf(name);
        if (family) charts[family.family].push(name, when, value);
      }
    },
  });
  loadHistory();
  return () => {
    alive = false;
    live.stop();
  };
}

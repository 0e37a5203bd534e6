// The tenant list: status, preset and limits, kept current by /ws/events.

import { api } from "../api.js";
import { clear, formatTime, h } from "../dom.js";
import { t } from "../i18n.js";
import { follow } from "../live.js";
import { session } from "../state.js";
import { emptyState, errorBox, liveDot, loading, setLiveDot, statusBadge } from "../widgets.js";

// The status an event moves a tenant to, as the gateway's read model does.
export const STATUS_OF_EVENT = {
  "deployment.started": "deploying",
  "deployment.progress": "deploying",
  "deployment.succeeded": "running",
  "deployment.failed": "failed",
  "deployment.rolled-back": "running",
  "tenant.rejected": "rejected",
  "tenant.deleted": "deleted",
};

export const PASSING = new Set(["pending", "deploying", "deleting"]);

export function render(view) {
  const dot = liveDot("connecting");
  const body = h("div", {}, loading());
  const counts = h("p", { class: "muted", id: "tenant-counts" });
  clear(
    view,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, t("tenants.title")),
      dot,
      h("span", { class: "spacer" }),
      h("a", { class: "btn primary", href: "#/tenants/new", id: "new-tenant" }, t("tenants.new")),
    ),
    counts,
    body,
  );
  let reloadTimer = null;
  let alive = true;

  async function load() {
    try {
      const list = await api.get("/api/v1/tenants/", { limit: 500 });
      if (!alive) return;
      counts.textContent = t("tenants.counts", { total: list.total_count, active: list.active_count });
      clear(body, list.tenants.length ? table(list.tenants) : emptyState(t("tenants.empty"), t("tenants.emptyHint")));
      // The read model can answer from just before the last event shown: while a tenant is in a
      // passing state, read again, so no badge stays behind.
      if (list.tenants.some((tenant) => PASSING.has(tenant.status))) {
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(load, 1000);
      }
    } catch (error) {
      if (alive) clear(body, errorBox(error));
    }
  }

  const live = follow("/ws/events", {}, {
    onState: (state) => setLiveDot(dot, state),
    onOpen: () => load(), // events sent before the socket opened are in this reading
    onMessage: (event) => {
      const status = STATUS_OF_EVENT[event.event];
      const cell = body.querySelector(`tr[data-tenant="${CSS.escape(event.tenant_id)}"] .status-cell`);
      if (status && cell) clear(cell, statusBadge(status));
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(load, 400);
    },
  });
  return () => {
    alive = false;
    clearTimeout(reloadTimer);
    live.stop();
  };
}

function table(tenants) {
  return h(
    "table",
    { class: "grid", id: "tenant-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["tenants.id", "tenants.name", "tenants.status", "tenants.preset", "tenants.services", "tenants.cpu", "tenants.memory", "tenants.gpu", "tenants.created"].map((key) => h("th", {}, t(key))),
      ),
    ),
    h("tbody", {}, tenants.map(row)),
  );
}

function row(tenant) {
  const gpu = tenant.gpu_limit === null || tenant.gpu_limit === undefined ? "—" : `${tenant.gpu_limit}${tenant.gpu_type ? ` × ${tenant.gpu_type}` : ""}`;
  return h(
    "tr",
    { dataset: { tenant: tenant.tenant_id } },
    h("td", {}, h("a", { href: `#/tenants/${tenant.tenant_id}`, class: "mono" }, tenant.tenant_id)),
    h("td", {}, tenant.name),
    h("td", { class: "status-cell" }, statusBadge(tenant.status)),
    h("td", {}, tenant.preset || "—"),
    h("td", { class: "num" }, tenant.services_count),
    h("td", { class: "num mono" }, tenant.cpu_limit || "—"),
    h("td", { class: "num mono" }, tenant.memory_limit || "—"),
    h("td", { class: "num mono" }, gpu),
    h("td", {}, formatTime(tenant.created_at, session.lang)),
  );
}

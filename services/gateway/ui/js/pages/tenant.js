// One tenant: summary, deploy and rollback with live progress, placement, manifest and diffs.

import { api } from "../api.js";
import { clear, formatNumber, formatTime, h } from "../dom.js";
import { t } from "../i18n.js";
import { follow } from "../live.js";
import { session } from "../state.js";
import { highlightYaml } from "../yaml.js";
import { emptyState, errorBox, liveDot, loading, section, setLiveDot, statusBadge, toast } from "../widgets.js";
import { PASSING, STATUS_OF_EVENT } from "./tenants.js";

export function render(view, { tenantId }) {
  const base = `/api/v1/tenants/${tenantId}`;
  const dot = liveDot("connecting");
  const badge = h("span", { id: "tenant-status" });
  const summary = h("div", {}, loading());
  const deployment = h("div", { id: "deployment" }, loading());
  const progress = h("ol", { class: "progress-log", id: "progress-log" });
  const placement = h("div", { id: "placement" });
  const manifest = h("div", { id: "manifest" });
  const diff = h("div", { id: "diff" });
  const deployButton = h("button", { class: "btn primary", id: "deploy", onclick: () => act("deploy") }, t("tenant.deploy"));
  const rollbackTarget = h("select", { id: "rollback-target" }, h("option", { value: "" }, t("tenant.rollbackPrevious")));
  const rollbackButton = h("button", { class: "btn", id: "rollback", onclick: () => act("rollback") }, t("tenant.rollback"));
  const deleteButton = h("button", { class: "btn danger", id: "delete", onclick: remove }, t("tenant.delete"));
  let alive = true;
  let revisions = [];

  clear(
    view,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, h("span", { class: "mono" }, tenantId)),
      badge,
      dot,
      h("span", { class: "spacer" }),
      h("a", { class: "btn", href: `#/monitoring/${tenantId}` }, t("nav.monitoring")),
      h("a", { class: "btn", href: `#/alerts/${tenantId}` }, t("nav.alerts")),
    ),
    summary,
    section(t("tenant.deployment"), h("div", { class: "actions" }, deployButton, rollbackTarget, rollbackButton, h("span", { class: "spacer" }), deleteButton), deployment, h("h3", {}, t("tenant.progress")), progress),
    session.demo ? section(t("tenant.placement"), placement) : null,
    section(t("tenant.manifest"), manifest),
    section(t("tenant.diff"), diff),
  );
  clear(progress, h("li", { class: "muted empty-line" }, t("tenant.noProgress")));

  // The read model applies an event a moment after the event reaches this page, and events sent
  // before the socket opened are missed: while the answer is a passing state, ask again, and an
  // answer older than the event just shown (`expected`) does not replace the badge.
  let recheck = null;
  async function loadTenant(expected = null, tries = 0) {
    try {
      const tenant = await api.get(base);
      if (!alive) return;
      const stale = expected && tenant.status !== expected && tries < 20;
      if (!stale) clear(badge, statusBadge(tenant.status));
      clear(summary, summaryCard(tenant));
      clearTimeout(recheck);
      if (stale) recheck = setTimeout(() => loadTenant(expected, tries + 1), 250);
      else if (PASSING.has(tenant.status)) recheck = setTimeout(() => loadTenant(), 1000);
    } catch (error) {
      if (!alive) return;
      clear(summary, errorBox(error));
      if (error.status === 404) {
        for (const button of [deployButton, rollbackButton, deleteButton]) button.disabled = true;
      }
    }
  }

  async function loadDeployment() {
    try {
      const state = await api.get(`${base}/deployment`);
      if (!alive) return;
      clear(deployment, deploymentCard(state));
      if (session.demo) await loadPlacement(state);
    } catch (error) {
      if (alive) clear(deployment, errorBox(error));
    }
  }

  async function loadPlacement(state) {
    try {
      const cluster = await api.get("/api/v1/cluster");
      if (alive) clear(placement, placementCard(state, cluster, tenantId));
    } catch (error) {
      if (alive) clear(placement, errorBox(error));
    }
  }

  async function loadManifest(revision) {
    try {
      const list = await api.get(`${base}/manifest/revisions`);
      revisions = list.revisions;
      if (!alive) return;
      const chosen = revision || list.latest;
      const response = await api.response(`${base}/manifest`, { revision: chosen });
      const text = await response.text();
      if (!alive) return;
      const filename = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || `${tenantId}-r${chosen}.yaml`;
      const picker = h("select", { id: "manifest-revision", onchange: (e) => loadManifest(Number(e.target.value)) }, revisions.map((r) => h("option", { value: r.revision, selected: r.revision === chosen }, t("tenant.revisionOption", { revision: r.revision, objects: r.total_objects, when: formatTime(r.created_at, session.lang) }))));
      const download = h("button", { class: "btn", id: "manifest-download", onclick: () => save(text, filename) }, t("tenant.download"));
      clear(manifest, h("div", { class: "actions" }, h("label", {}, t("tenant.revision"), " ", picker), download, h("span", { class: "muted mono small" }, response.headers.get("X-Content-Hash")?.slice(0, 12) || "")), highlightYaml(text));
      fillRollbackTargets();
      diffPicker();
    } catch (error) {
      if (!alive) return;
      clear(manifest, error.code === "MANIFEST_NOT_READY" ? emptyState(t("tenant.manifestNotReady"), error.detail) : errorBox(error));
      clear(diff, emptyState(t("tenant.noRevisions")));
    }
  }

  function fillRollbackTargets() {
    clear(rollbackTarget, h("option", { value: "" }, t("tenant.rollbackPrevious")), revisions.map((r) => h("option", { value: r.revision }, t("tenant.rollbackTo", { revision: r.revision }))));
  }

  function diffPicker() {
    if (revisions.length < 2) {
      clear(diff, emptyState(t("tenant.oneRevision"), t("tenant.oneRevisionHint")));
      return;
    }
    const options = (selected) => revisions.map((r) => h("option", { value: r.revision, selected: r.revision === selected }, `r${r.revision}`));
    const from = h("select", { id: "diff-from" }, options(revisions[1].revision));
    const to = h("select", { id: "diff-to" }, options(revisions[0].revision));
    const out = h("div", {});
    const show = async () => {
      try {
        const result = await api.get(`${base}/manifest/diff`, { from: from.value, to: to.value });
        clear(out, diffView(result));
      } catch (error) {
        clear(out, errorBox(error));
      }
    };
    clear(diff, h("div", { class: "actions" }, h("label", {}, t("tenant.diffFrom"), " ", from), h("label", {}, t("tenant.diffTo"), " ", to), h("button", { class: "btn", id: "diff-show", onclick: show }, t("tenant.diffShow"))), out);
  }

  async function act(verb) {
    const body = verb === "rollback" && rollbackTarget.value ? { to_revision: Number(rollbackTarget.value) } : {};
    deployButton.disabled = rollbackButton.disabled = true;
    // Cleared before asking: the deployment's first events can arrive before the answer does.
    clear(progress);
    try {
      const accepted = await api.post(`${base}/${verb}`, body);
      progress.prepend(h("li", { class: "muted" }, t("tenant.queued", { id: accepted.deployment_id, revision: accepted.revision })));
      toast(t("tenant.queuedToast", { verb: t(`tenant.${verb}`) }), "ok");
    } catch (error) {
      clear(progress, h("li", {}, errorBox(error)));
    } finally {
      deployButton.disabled = rollbackButton.disabled = false;
    }
  }

  async function remove() {
    if (!window.confirm(t("tenant.deleteConfirm", { id: tenantId }))) return;
    try {
      await api.del(base);
      toast(t("tenant.deleted", { id: tenantId }), "ok");
      window.location.hash = "#/tenants";
    } catch (error) {
      clear(progress, h("li", {}, errorBox(error)));
    }
  }

  const live = follow("/ws/events", { tenant_id: tenantId }, {
    onState: (state) => setLiveDot(dot, state),
    // Events sent before the socket opened are missed: read the state again once it is open.
    onOpen: () => {
      loadTenant();
      loadDeployment();
    },
    onMessage: (event) => {
      const status = STATUS_OF_EVENT[event.event];
      if (status) clear(badge, statusBadge(status));
      if (event.event.startsWith("deployment.")) {
        progress.querySelector(".empty-line")?.remove();
        progress.append(progressLine(event));
      }
      if (["deployment.succeeded", "deployment.failed", "deployment.rolled-back"].includes(event.event)) {
        loadTenant(status);
        loadDeployment();
      }
      if (event.event === "manifest.rendered" || event.event === "tenant.sized") {
        loadTenant();
        setTimeout(() => loadManifest(), 300);
      }
    },
  });

  loadManifest();
  return () => {
    alive = false;
    clearTimeout(recheck);
    live.stop();
  };
}

function summaryCard(tenant) {
  const requirements = Object.entries(tenant.service_requirements || {}).filter(([, count]) => count);
  return h(
    "section",
    { class: "card" },
    h("h2", {}, tenant.name),
    h(
      "dl",
      { class: "facts" },
      fact(t("tenants.preset"), tenant.preset || "—"),
      fact(t("tenants.cpu"), tenant.cpu_limit || "—"),
      fact(t("tenants.memory"), tenant.memory_limit || "—"),
      fact(t("tenants.gpu"), tenant.gpu_limit === null ? "—" : `${tenant.gpu_limit} × ${tenant.gpu_type || "?"}`),
      fact(t("tenant.storage"), tenant.storage_limit || "—"),
      fact(t("tenant.revision"), `${tenant.revision} (${t("tenant.sized")} ${tenant.sized_revision})`),
      fact(t("tenants.created"), formatTime(tenant.created_at, session.lang)),
      fact(t("tenant.updated"), formatTime(tenant.updated_at, session.lang)),
    ),
    h("p", {}, h("strong", {}, t("tenant.requirements")), " ", requirements.length ? requirements.map(([name, count]) => `${t(`service.${name}`)} ${count}`).join(" · ") : "—"),
    tenant.last_error ? h("p", { class: "error-inline", id: "last-error" }, t("tenant.lastError"), ": ", tenant.last_error) : null,
  );
}

function fact(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, value));
}

function deploymentCard(state) {
  if (!state.deployment) return emptyState(t("tenant.noDeployment"), t("tenant.noDeploymentHint"));
  const current = state.deployment;
  const history = state.history || [];
  return h(
    "div",
    {},
    h("p", { id: "deployment-state" }, statusBadge(current.state), " ", t("tenant.deploymentLine", { kind: current.kind, revision: current.manifest_revision ?? current.revision, step: current.step || "—", when: formatTime(current.finished_at || current.started_at, session.lang) })),
    current.error ? h("p", { class: "error-inline" }, current.error) : null,
    history.length
      ? h("details", {}, h("summary", {}, t("tenant.history", { count: history.length })), h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["tenant.deploymentId", "tenant.kind", "tenant.revision", "tenants.status", "tenant.started", "tenant.finished"].map((k) => h("th", {}, t(k))))), h("tbody", {}, history.map((d) => h("tr", {}, h("td", { class: "mono small" }, d.deployment_id), h("td", {}, d.kind), h("td", { class: "num" }, d.manifest_revision ?? d.revision), h("td", {}, statusBadge(d.state)), h("td", {}, formatTime(d.started_at, session.lang)), h("td", {}, formatTime(d.finished_at, session.lang)))))))
      : null,
  );
}

function progressLine(event) {
  const data = event.data || {};
  const label = event.event === "deployment.progress" ? `${data.step} · ${data.status}` : event.event.replace("deployment.", "");
  const tone = event.event.endsWith("failed") || data.status === "failed" ? "bad" : event.event.endsWith("succeeded") ? "good" : "";
  return h("li", { class: tone, dataset: { event: event.event } }, h("span", { class: "mono" }, new Date().toLocaleTimeString([], { hour12: false })), " ", h("strong", {}, label), data.message || data.reason ? ` — ${data.message || data.reason}` : "");
}

function placementCard(state, cluster, tenantId) {
  const pods = state.deployment?.placement?.pods || state.placement?.pods || [];
  const nodes = cluster.nodes || [];
  if (!nodes.length) return emptyState(t("tenant.noNodes"));
  return h(
    "div",
    { class: "placement" },
    pods.length ? h("p", { class: "muted" }, t("tenant.podsPlaced", { count: pods.length })) : emptyState(t("tenant.noPods")),
    h(
      "div",
      { class: "nodes" },
      nodes.map((node) => {
        const mine = pods.filter((p) => p.node === node.node);
        return h(
          "div",
          { class: `node ${mine.length ? "mine" : ""}`, dataset: { node: node.node } },
          h("div", { class: "node-head" }, h("strong", {}, node.node), h("span", { class: "muted" }, node.gpu_model || node.pool)),
          bar("CPU", node.cpu_allocated_millicores, node.cpu_capacity_millicores, (v) => `${formatNumber(v / 1000, 1)}`),
          bar(t("tenants.memory"), node.memory_allocated_bytes, node.memory_capacity_bytes, (v) => `${formatNumber(v / 2 ** 30, 0)}Gi`),
          node.gpus_capacity ? bar("GPU", node.gpus_allocated, node.gpus_capacity, (v) => String(v)) : null,
          h("ul", { class: "pods" }, mine.map((p) => h("li", { class: "mono small" }, `${p.pod}${p.gpus ? ` (${p.gpus} GPU)` : ""}`))),
          h("p", { class: "muted small" }, t("tenant.nodeTenants", { count: (node.tenants || []).length, mine: (node.tenants || []).includes(tenantId) ? "✓" : "" })),
        );
      }),
    ),
  );
}

function bar(label, used, capacity, show) {
  const share = capacity ? Math.min(100, (used / capacity) * 100) : 0;
  return h("div", { class: "bar" }, h("span", { class: "bar-label" }, label), h("span", { class: "bar-track" }, h("span", { class: `bar-fill ${share > 85 ? "high" : ""}`, style: `width:${share.toFixed(1)}%` })), h("span", { class: "bar-value mono small" }, `${show(used)}/${show(capacity)}`));
}

function diffView(result) {
  const s = result.summary;
  return h(
    "div",
    { id: "diff-result" },
    h("p", {}, t("tenant.diffSummary", { added: s.added, removed: s.removed, changed: s.changed })),
    result.changes.length
      ? result.changes.map((change) => h("details", { class: "diff-object", open: result.changes.length <= 5 }, h("summary", {}, h("span", { class: `badge change-${change.change}` }, t(`tenant.change.${change.change}`)), " ", h("span", { class: "mono" }, change.key)), change.diff ? h("pre", { class: "diff" }, change.diff.split("\n").map((line) => h("span", { class: line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "" }, line, "\n"))) : null))
      : emptyState(t("tenant.diffNone")),
  );
}

function save(text, filename) {
  const blob = new Blob([text], { type: "text/yaml" });
  const link = h("a", { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}


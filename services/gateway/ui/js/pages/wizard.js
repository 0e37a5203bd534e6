// The create wizard: requirements in, the calculator's answer shown, then the tenant created.

import { api } from "../api.js";
import { clear, cores, formatNumber, h, mebibytes } from "../dom.js";
import { t } from "../i18n.js";
import { errorBox, section, toast } from "../widgets.js";

export const SERVICES = ["callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa"];
const PRESETS = ["", "micro", "small", "medium", "large"];
const GPU_TYPES = ["auto", "T4", "V100", "L40S"];

export function render(view) {
  const result = h("div", { id: "sizing-result" });
  const problems = h("div", { id: "wizard-errors" });
  const createButton = h("button", { class: "btn primary", type: "button", id: "create-tenant", disabled: true }, t("wizard.create"));
  const field = (name, label, input, hint) =>
    h("label", { class: "field", for: `f-${name}` }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null, h("small", { class: "field-error", id: `err-${name}` }));
  const input = (name, props = {}) => h("input", { id: `f-${name}`, name, ...props });
  const select = (name, options, labelOf) => h("select", { id: `f-${name}`, name }, options.map((value) => h("option", { value }, labelOf(value))));

  const form = h(
    "form",
    { class: "card form", id: "wizard-form", novalidate: true },
    h("h2", {}, t("wizard.step1")),
    h(
      "div",
      { class: "row" },
      field("tenant_id", t("wizard.tenantId"), input("tenant_id", { required: true, pattern: "[a-z0-9]([-a-z0-9]*[a-z0-9])?", maxlength: 56, placeholder: "my-ai-service", autocomplete: "off" }), t("wizard.tenantIdHint")),
      field("name", t("wizard.name"), input("name", { required: true, maxlength: 200, placeholder: t("wizard.namePlaceholder") })),
    ),
    h("h3", {}, t("wizard.requirements")),
    h("div", { class: "row services" }, SERVICES.map((name) => field(`svc-${name}`, t(`service.${name}`), input(`svc-${name}`, { type: "number", min: 0, max: 100000, step: 1, value: 0 }), t(`service.${name}.unit`)))),
    h("h3", {}, t("wizard.options")),
    h(
      "div",
      { class: "row" },
      field("preset", t("wizard.preset"), select("preset", PRESETS, (v) => (v ? v : t("wizard.presetAuto")))),
      field("gpu_type", t("wizard.gpuType"), select("gpu_type", GPU_TYPES, (v) => (v === "auto" ? t("wizard.gpuAuto") : v))),
      field("availability", t("wizard.availability"), input("availability", { placeholder: "99.9%" })),
      field("response_time", t("wizard.responseTime"), input("response_time", { placeholder: "200ms" })),
    ),
    h("div", { class: "actions" }, h("button", { class: "btn", type: "submit", id: "calculate" }, t("wizard.calculate")), createButton),
    problems,
  );

  let sized = null; // the body the shown answer was computed for

  function body() {
    const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
    const requirements = Object.fromEntries(SERVICES.map((name) => [name, Number(value(`svc-${name}`) || 0)]));
    const sla = {};
    if (value("availability")) sla.availability = value("availability");
    if (value("response_time")) sla.response_time = value("response_time");
    const result = { tenant_id: value("tenant_id"), name: value("name"), service_requirements: requirements, sla_target: sla, gpu_type: value("gpu_type") || "auto" };
    if (value("preset")) result.preset = value("preset");
    return result;
  }

  function showProblem(error) {
    for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
    for (const item of error.body?.errors || []) {
      const loc = (item.loc || []).filter((part) => part !== "body");
      const name = loc[0] === "service_requirements" ? `svc-${loc[1]}` : loc[0] === "sla_target" ? loc[1] : loc[0];
      const slot = form.querySelector(`#err-${CSS.escape(String(name))}`);
      if (slot) slot.textContent = item.msg;
    }
    clear(problems, errorBox(error));
  }

  form.addEventListener("input", () => {
    if (sized) {
      sized = null;
      createButton.disabled = true;
      result.classList.add("stale");
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(problems);
    const request = body();
    if (!request.tenant_id) request.tenant_id = "sizing-preview";
    if (!request.name) request.name = request.tenant_id;
    clear(result, h("p", { class: "loading" }, t("wizard.calculating")));
    result.classList.remove("stale");
    try {
      const sizing = await api.post("/api/v1/tenants/calculate-resources", request);
      clear(result, answer(sizing));
      sized = JSON.stringify(body());
      createButton.disabled = false;
    } catch (error) {
      clear(result);
      showProblem(error);
    }
  });

  createButton.addEventListener("click", async () => {
    const request = body();
    if (!sized || JSON.stringify(request) !== sized) return;
    createButton.disabled = true;
    clear(problems, h("p", { class: "loading" }, t("wizard.creating")));
    try {
      const created = await api.post("/api/v1/tenants/", request);
      toast(t("wizard.created", { id: created.tenant_id }), "ok");
      window.location.hash = `#/tenants/${created.tenant_id}`;
    } catch (error) {
      createButton.disabled = false;
      showProblem(error);
    }
  });

  clear(view, h("div", { class: "page-head" }, h("h1", {}, t("wizard.title")), h("span", { class: "spacer" }), h("a", { href: "#/tenants", class: "btn" }, t("common.back"))), form, result);
}

export function answer(sizing) {
  const total = sizing.total_requests;
  const limits = sizing.total_limits;
  const cost = sizing.cost;
  return h(
    "div",
    { class: "sizing" },
    h("h2", {}, t("wizard.step2")),
    sizing.warnings.length ? h("ul", { class: "warnings" }, sizing.warnings.map((w) => h("li", {}, w))) : null,
    h(
      "div",
      { class: "tiles" },
      tile(t("sizing.preset"), sizing.preset, "sizing-preset"),
      tile(t("sizing.gpus"), `${total.gpus} × ${sizing.gpu_type}`, "sizing-gpus"),
      tile(t("sizing.cpu"), cores(total.cpu_millicores), "sizing-cpu", t("sizing.limitOf", { value: cores(limits.cpu_millicores) })),
      tile(t("sizing.memory"), mebibytes(total.memory_mib), "sizing-memory", t("sizing.limitOf", { value: mebibytes(limits.memory_mib) })),
      tile(t("sizing.cost"), `$${formatNumber(cost.total_monthly, 0)}`, "sizing-cost", t("sizing.costSplit", { gpu: formatNumber(cost.gpu_monthly, 0), cpu: formatNumber(cost.cpu_monthly, 0) })),
    ),
    h("p", { class: "muted" }, t("sizing.gpuReason"), " ", sizing.gpu_type_reason),
    section(
      t("sizing.gpuRoles"),
      h(
        "table",
        { class: "grid", id: "gpu-roles" },
        h("thead", {}, h("tr", {}, ["sizing.role", "sizing.gpuType", "sizing.gpuCount", "sizing.load", "sizing.capacity"].map((k) => h("th", {}, t(k))))),
        h("tbody", {}, sizing.gpus.map((g) => h("tr", {}, h("td", {}, g.role), h("td", {}, g.gpu_type), h("td", { class: "num" }, g.gpus), h("td", { class: "num" }, `${formatNumber(g.load)} ${g.load_unit}`), h("td", { class: "num" }, formatNumber(g.capacity_per_gpu))))),
      ),
    ),
    section(
      t("sizing.services"),
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ["sizing.service", "sizing.kind", "sizing.replicas", "sizing.podCpu", "sizing.podMemory", "sizing.podGpu"].map((k) => h("th", {}, t(k))))),
        h("tbody", {}, sizing.services.map((s) => h("tr", {}, h("td", {}, s.service), h("td", {}, s.kind), h("td", { class: "num" }, s.autoscaling ? `${s.autoscaling.min_replicas}–${s.autoscaling.max_replicas}` : s.replicas), h("td", { class: "num" }, `${s.requests.cpu_millicores}m / ${s.limits.cpu_millicores}m`), h("td", { class: "num" }, `${mebibytes(s.requests.memory_mib)} / ${mebibytes(s.limits.memory_mib)}`), h("td", { class: "num" }, s.limits.gpus || "—")))),
      ),
    ),
    h("p", { class: "muted" }, t("sizing.quota", { cpu: sizing.quota.cpu_limit, memory: sizing.quota.memory_limit, gpu: sizing.quota.gpu_limit, storage: sizing.quota.storage_limit })),
    h(
      "details",
      { class: "card", open: true, id: "explain" },
      h("summary", {}, t("sizing.explain", { count: sizing.explain.length })),
      h(
        "table",
        { class: "grid explain" },
        h("thead", {}, h("tr", {}, ["sizing.figure", "sizing.formula", "sizing.inputs", "sizing.result"].map((k) => h("th", {}, t(k))))),
        h("tbody", {}, sizing.explain.map((step) => h("tr", {}, h("td", { class: "mono" }, step.figure), h("td", {}, step.formula), h("td", { class: "mono small" }, Object.entries(step.inputs).map(([k, v]) => `${k}=${typeof v === "number" ? formatNumber(v, 4) : v}`).join(", ")), h("td", { class: "mono" }, typeof step.result === "number" ? formatNumber(step.result, 4) : step.result)))),
      ),
    ),
  );
}

function tile(label, value, id, note) {
  return h("div", { class: "tile", id }, h("span", { class: "tile-label" }, label), h("span", { class: "tile-value" }, value), note ? h("span", { class: "tile-note" }, note) : null);
}

// Pieces every page uses: empty states, error boxes, toasts, status badges, the key dialog.

import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { session } from "./state.js";

export function emptyState(title, body, ...actions) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), body ? h("p", {}, body) : null, ...actions);
}

export function errorBox(error) {
  const isApi = error instanceof ApiError;
  const status = isApi ? error.status : 0;
  const code = isApi ? error.code : "UI_ERROR";
  let title = t("error.generic");
  if (status === 0) title = t("error.network");
  else if (status === 401) title = t("error.unauthorised");
  else if (status === 403) title = t("error.forbidden");
  else if (status === 404) title = t("error.notFound");
  else if (status === 409) title = t("error.conflict");
  else if (status === 422 || status === 400) title = t("error.invalid");
  else if (status >= 500) title = t("error.server");
  return h(
    "div",
    { class: "error-box", role: "alert", dataset: { code } },
    h("strong", {}, title),
    h("p", { class: "error-detail" }, error.detail || error.message || String(error)),
    h("p", { class: "error-code" }, `${code}${status ? ` · HTTP ${status}` : ""}`),
    status === 401 ? h("button", { class: "btn", onclick: openKeyDialog }, t("key.enter")) : null,
  );
}

export function toast(message, kind = "info") {
  const area = document.getElementById("toasts");
  const item = h("div", { class: `toast toast-${kind}`, role: "status" }, message);
  area.append(item);
  setTimeout(() => item.remove(), 6000);
}

export function openKeyDialog() {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  input.value = session.apiKey;
  if (!dialog.open) dialog.showModal();
  input.focus();
}

export function loading() {
  return h("p", { class: "loading" }, t("common.loading"));
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, dataset: { status } }, t(`status.${status}`));
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function liveDot(state) {
  const dot = h("span", { class: "live-dot", title: "" });
  setLiveDot(dot, state);
  return dot;
}

export function setLiveDot(dot, state) {
  dot.dataset.state = state;
  dot.textContent = t(`live.${state}`);
}

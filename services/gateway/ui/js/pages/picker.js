// The tenant chooser of the monitoring and alerts pages.

import { api } from "../api.js";
import { clear, h } from "../dom.js";
import { t } from "../i18n.js";
import { emptyState, errorBox } from "../widgets.js";

export function tenantPicker(section, tenantId) {
  const holder = h("div", { class: "picker" });
  api
    .get("/api/v1/tenants/", { limit: 500 })
    .then((list) => {
      if (!list.tenants.length) {
        clear(holder, emptyState(t("tenants.empty"), t("tenants.emptyHint"), h("a", { class: "btn primary", href: "#/tenants/new" }, t("tenants.new"))));
        return;
      }
      const select = h(
        "select",
        { id: "tenant-picker", onchange: (e) => (window.location.hash = `#/${section}/${e.target.value}`) },
        tenantId ? null : h("option", { value: "" }, t("picker.choose")),
        list.tenants.map((tenant) => h("option", { value: tenant.tenant_id, selected: tenant.tenant_id === tenantId }, `${tenant.tenant_id} — ${tenant.name}`)),
      );
      clear(holder, h("label", {}, t("picker.tenant"), " ", select));
    })
    .catch((error) => clear(holder, errorBox(error)));
  return holder;
}

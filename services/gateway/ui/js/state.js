// What the operator chose for this browser session: the mode, the API key, the language.

const store = window.sessionStorage;
const listeners = new Set();

export const session = {
  get mode() {
    return store.getItem("ecp.mode") === "prod" ? "prod" : "demo";
  },
  set mode(value) {
    store.setItem("ecp.mode", value === "prod" ? "prod" : "demo");
    notify("mode");
  },
  get apiKey() {
    return store.getItem("ecp.apiKey") || "";
  },
  set apiKey(value) {
    if (value) store.setItem("ecp.apiKey", value.trim());
    else store.removeItem("ecp.apiKey");
    notify("apiKey");
  },
  get lang() {
    return store.getItem("ecp.lang") === "en" ? "en" : "ko";
  },
  set lang(value) {
    store.setItem("ecp.lang", value === "en" ? "en" : "ko");
    notify("lang");
  },
  get demo() {
    return this.mode === "demo";
  },
};

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(what) {
  for (const listener of [...listeners]) listener(what);
}

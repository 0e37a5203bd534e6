// The gateway's HTTP API as the UI calls it: every call carries X-Demo-Mode and the key.

import { session } from "./state.js";

export class ApiError extends Error {
  constructor(status, code, detail, body) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body || {};
  }
}

const unauthorisedListeners = new Set();
export function onUnauthorised(listener) {
  unauthorisedListeners.add(listener);
}

export function headers(extra = {}) {
  const result = { "X-Demo-Mode": session.demo ? "true" : "false", ...extra };
  if (session.apiKey) result.Authorization = `Bearer ${session.apiKey}`;
  return result;
}

export async function call(method, path, { body, as = "json", query } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const init = { method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, "NETWORK", `the gateway did not answer (${error.message})`);
  }
  if (!response.ok) throw await problemOf(response);
  if (as === "response") return response;
  if (as === "text") return response.text();
  if (response.status === 204) return null;
  return response.json();
}

async function problemOf(response) {
  let body = {};
  const text = await response.text();
  try {
    body = JSON.parse(text);
  } catch {
    body = { detail: text.slice(0, 300) };
  }
  const code = body.code || `HTTP_${response.status}`;
  const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
  if (response.status === 401) for (const listener of unauthorisedListeners) listener();
  return new ApiError(response.status, code, detail || response.statusText, body);
}

export const api = {
  get: (path, query) => call("GET", path, { query }),
  post: (path, body) => call("POST", path, { body: body ?? {} }),
  patch: (path, body) => call("PATCH", path, { body }),
  del: (path) => call("DELETE", path),
  text: (path, query) => call("GET", path, { as: "text", query }),
  response: (path, query) => call("GET", path, { as: "response", query }),
};

export function wsUrl(path, params = {}) {
  const url = new URL(path, window.location.origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("demo", session.demo ? "true" : "false");
  if (session.apiKey) url.searchParams.set("api_key", session.apiKey);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

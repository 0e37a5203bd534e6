// A small YAML highlighter: one pass per line, classes for keys, strings, numbers, comments.

import { h } from "./dom.js";

const KEY = /^(\s*(?:-\s+)*)((?:"[^"]*"|'[^']*'|[^\s:#'"][^:#]*?))(:)(?=\s|$)/;
const SCALAR_NUMBER = /^-?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+)$/;
const SCALAR_WORD = /^(?:true|false|null|~|yes|no|on|off)$/i;

export function highlightYaml(text) {
  const lines = text.replace(/\n$/, "").split("\n");
  return h("pre", { class: "yaml" }, h("code", {}, lines.map((line) => h("span", { class: "line" }, ...tokens(line), "\n"))));
}

export function tokens(line) {
  if (/^(---|\.\.\.)\s*$/.test(line)) return [h("span", { class: "y-doc" }, line)];
  const out = [];
  let rest = line;
  const key = rest.match(KEY);
  if (key) {
    out.push(key[1].replace(/-/g, "") === key[1] ? key[1] : dash(key[1]));
    out.push(h("span", { class: "y-key" }, key[2]), h("span", { class: "y-punct" }, key[3]));
    rest = rest.slice(key[0].length);
  } else {
    const item = rest.match(/^(\s*-\s+)/);
    if (item) {
      out.push(dash(item[1]));
      rest = rest.slice(item[1].length);
    }
  }
  out.push(...value(rest));
  return out;
}

function dash(text) {
  return h("span", { class: "y-dash" }, text);
}

function value(text) {
  if (!text) return [];
  const lead = text.match(/^\s*/)[0];
  let body = text.slice(lead.length);
  let comment = "";
  const hash = commentStart(body);
  if (hash >= 0) {
    comment = body.slice(hash);
    body = body.slice(0, hash);
  }
  const trimmed = body.trimEnd();
  const tail = body.slice(trimmed.length);
  const parts = [lead];
  if (trimmed) parts.push(h("span", { class: `y-${kindOf(trimmed)}` }, trimmed));
  parts.push(tail);
  if (comment) parts.push(h("span", { class: "y-comment" }, comment));
  return parts;
}

function commentStart(body) {
  if (body.startsWith("#")) return 0;
  let quote = null;
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && /\s/.test(body[i - 1] || "")) return i;
  }
  return -1;
}

export function kindOf(scalar) {
  if (/^["']/.test(scalar)) return "string";
  if (SCALAR_NUMBER.test(scalar)) return "number";
  if (SCALAR_WORD.test(scalar)) return "bool";
  if (/^[|>][-+]?$/.test(scalar)) return "punct";
  if (/^[&*!]/.test(scalar)) return "anchor";
  return "plain";
}

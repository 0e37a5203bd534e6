// A small SVG line chart: a few series over time, axes, grid, latest value, an empty state.

import { clear, formatNumber, h, svg } from "./dom.js";

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 48, right: 12, top: 12, bottom: 26 };
const COLOURS = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed"];

export function lineChart({ title, unit = "", fixedMax = null, emptyText = "", maxPoints = 600, id }) {
  const series = new Map(); // name -> [{t, v}]
  const latest = h("span", { class: "chart-latest", dataset: { role: "latest" } });
  const plot = h("div", { class: "chart-plot" });
  const legend = h("div", { class: "chart-legend" });
  const node = h("figure", { class: "chart card", id }, h("figcaption", {}, h("span", {}, title), latest), plot, legend);

  // History read while live points were being drawn: the live ones newer than it stay.
  function set(name, points) {
    const last = points.length ? points[points.length - 1].t : -Infinity;
    const newer = (series.get(name) || []).filter((p) => p.t > last);
    series.set(name, [...points, ...newer].slice(-maxPoints));
    draw();
  }

  function push(name, time, value) {
    if (value === null || value === undefined || !Number.isFinite(Number(value))) return;
    const points = series.get(name) || [];
    points.push({ t: time, v: Number(value) });
    points.sort((a, b) => a.t - b.t);
    series.set(name, points.slice(-maxPoints));
    draw();
  }

  // Forget the points older than `keepFrom` (all of them by default).
  function reset(keepFrom = Infinity) {
    for (const [name, points] of series) {
      const kept = points.filter((p) => p.t >= keepFrom);
      if (kept.length) series.set(name, kept);
      else series.delete(name);
    }
    draw();
  }

  function draw() {
    const all = [...series.values()].flat();
    node.dataset.points = String(all.length);
    if (!all.length) {
      latest.textContent = "";
      clear(plot, h("p", { class: "chart-empty" }, emptyText));
      clear(legend);
      return;
    }
    const t0 = Math.min(...all.map((p) => p.t));
    const t1 = Math.max(...all.map((p) => p.t), t0 + 1000);
    const top = fixedMax ?? niceMax(Math.max(...all.map((p) => p.v), 0));
    const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (WIDTH - PAD.left - PAD.right);
    const y = (v) => HEIGHT - PAD.bottom - (Math.max(0, Math.min(v, top)) / top) * (HEIGHT - PAD.top - PAD.bottom);
    const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const value = top * f;
      return svg("g", { class: "grid-line" }, svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value) }), svg("text", { x: PAD.left - 6, y: y(value) + 4, "text-anchor": "end" }, formatNumber(value, 1)));
    });
    const lines = [...series.entries()].map(([name, points], index) => {
      const colour = COLOURS[index % COLOURS.length];
      const path = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      const dots = points.slice(-60).map((p) => svg("circle", { cx: x(p.t), cy: y(p.v), r: 2.5, fill: colour }, svg("title", {}, `${name} ${formatNumber(p.v)} @ ${new Date(p.t).toLocaleTimeString()}`)));
      return svg("g", { class: "series", "data-series": name }, svg("polyline", { points: path, fill: "none", stroke: colour, "stroke-width": 2 }), ...dots);
    });
    const axis = svg("g", { class: "x-axis" }, svg("text", { x: PAD.left, y: HEIGHT - 6 }, timeLabel(t0, t1 - t0)), svg("text", { x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end" }, timeLabel(t1, t1 - t0)));
    clear(plot, svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": title, preserveAspectRatio: "none" }, ...grid, axis, ...lines));
    const newest = [...series.values()].map((points) => points[points.length - 1]).filter(Boolean).sort((a, b) => b.t - a.t)[0];
    latest.textContent = `${formatNumber(newest.v)}${unit}`;
    clear(legend, [...series.keys()].map((name, index) => h("span", { class: "legend-item" }, h("i", { style: `background:${COLOURS[index % COLOURS.length]}` }), name)));
  }

  draw();
  return { node, set, push, reset };
}

export function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value * 1.05) return step * power;
  return 10 * power;
}

function timeLabel(ms, span) {
  const when = new Date(ms);
  if (span > 36 * 3600 * 1000) return when.toLocaleDateString(undefined, { month: "2-digit", day: "2-digit" }) + " " + when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

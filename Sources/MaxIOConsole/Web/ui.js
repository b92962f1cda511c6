// Small DOM helpers: elements, tables with sorting and empty states, units, charts drawn as SVG.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v;
    else if (k === "style") el.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike a style attribute
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0, v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}

/** "10 GB", "1.5TiB", "500m" → bytes; plain numbers are bytes. null when it is not a size. */
export function parseSize(text) {
  const m = String(text).trim().match(/^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)b?$/i);
  if (!m) return null;
  const power = " kmgtp".indexOf(m[2].toLowerCase() || " ");
  const base = m[3] ? 1024 : (m[2] ? 1000 : 1);
  return Math.round(Number(m[1]) * Math.pow(base, Math.max(power, 0)));
}

export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString();
}

export function badge(text, kind) { return h("span", { class: "badge " + (kind || "") }, text); }

export function errorBox(message) { return h("div", { class: "error", role: "alert" }, message); }

/** A usage bar: used of limit (0 = no limit). */
export function usage(used, limit, format = bytes) {
  if (!limit) return h("span", {}, format(used), h("span", { class: "muted" }, " (no limit)"));
  const pct = Math.min(100, (used / limit) * 100);
  return h("div", {},
    h("div", { class: "bar" + (pct >= 95 ? " full" : ""), title: pct.toFixed(1) + " %" },
      h("div", { style: `width:${pct}%` })),
    h("span", { class: "muted" }, `${format(used)} of ${format(limit)}`));
}

/**
 * A table with sortable columns and an empty state.
 * columns: [{ key, label, render?(row), sort?(row) }]
 */
export function table(columns, rows, { empty = "Nothing here yet.", sortKey, desc = false } = {}) {
  const wrap = h("div", { class: "table-wrap" });
  let state = { key: sortKey, desc };
  function draw() {
    wrap.replaceChildren();
    if (!rows.length) { wrap.append(h("div", { class: "empty" }, empty)); return; }
    const col = columns.find((c) => c.key === state.key);
    const sorted = [...rows];
    if (col) {
      const f = col.sort || ((r) => r[col.key]);
      sorted.sort((a, b) => {
        const x = f(a), y = f(b);
        const cmp = typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""));
        return state.desc ? -cmp : cmp;
      });
    }
    const head = h("tr", {}, columns.map((c) => h("th", {
      class: c.key === state.key ? "sorted" + (state.desc ? " desc" : "") : "",
      onclick: () => { state = { key: c.key, desc: c.key === state.key ? !state.desc : false }; draw(); },
    }, c.label)));
    const body = sorted.map((r) => h("tr", {}, columns.map((c) => h("td", {}, c.render ? c.render(r) : (r[c.key] ?? "–")))));
    wrap.append(h("table", {}, h("thead", {}, head), h("tbody", {}, body)));
  }
  draw();
  return wrap;
}

/** A line chart of [time, value] points as SVG. */
export function lineChart(points, { title, format = (v) => v.toFixed(1) } = {}) {
  const w = 600, hgt = 160, pad = 28;
  const box = h("div", { class: "chart panel" }, h("div", { class: "muted" }, title));
  if (points.length < 2) { box.append(h("div", { class: "empty" }, "Not enough samples yet.")); return box; }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), ymax = Math.max(...ys, 1e-9);
  const X = (x) => pad + ((x - x0) / Math.max(x1 - x0, 1)) * (w - pad * 2);
  const Y = (y) => hgt - pad - (y / ymax) * (hgt - pad * 2);
  const line = points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    svg.append(e);
  };
  add("line", { class: "axis", x1: pad, y1: hgt - pad, x2: w - pad, y2: hgt - pad });
  add("polygon", { class: "area", points: `${X(x0)},${hgt - pad} ${line} ${X(x1)},${hgt - pad}` });
  add("polyline", { class: "line", points: line });
  add("text", { x: 2, y: pad - 6 }, format(ymax));
  add("text", { x: pad, y: hgt - 8 }, new Date(x0).toLocaleTimeString());
  add("text", { x: w - pad - 60, y: hgt - 8 }, new Date(x1).toLocaleTimeString());
  box.append(svg);
  return box;
}

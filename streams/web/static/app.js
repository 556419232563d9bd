// Floorwatch wallboard: renders /api/v1/board/stream (server-sent events).
// EventSource reconnects by itself; the badge says whether the data is live, stale or
// from a file. /?team=NAME or /?queue=NAME shows one floor; the server computes only it.
"use strict";

const $ = (id) => document.getElementById(id);
const tilesEl = $("tiles");
const panelsEl = $("panels");
const badge = $("connection");
const clock = $("clock");
const empty = $("empty");
const pager = $("pager");
const params = new URLSearchParams(location.search);
const ROTATE_SECONDS = 15;
const WATCHDOG_SECONDS = 10;
const STATE_NAMES = ["available", "on_contact", "after_contact_work", "away", "offline"];
const STATE_SHORT = { available: "free", on_contact: "on", after_contact_work: "acw", away: "away", offline: "off" };

let board = null;
let connected = false;
let lastMessage = 0;
let page = 0;
let pages = [];

// The one duration format (as `floorwatch board` and the API docs): m:ss under an hour,
// then 1h02, then 3d04h; an overdue time keeps its sign.
function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const sign = seconds < 0 ? "-" : "";
  const s = Math.round(Math.abs(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  if (s >= 86400) return `${sign}${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
  if (s >= 3600) return `${sign}${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}`;
  return `${sign}${Math.floor(s / 60)}:${pad(s % 60)}`;
}

function percent(ratio) {
  return ratio === null || ratio === undefined ? "–" : `${Math.round(100 * ratio)}%`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function cell(caption, field, value, cls, span, extra) {
  return el("div", { class: `cell ${span ? "span" + span : ""}` },
    el("span", { class: "cap" }, caption, extra ? el("span", { class: "opt" }, extra) : null),
    el("span", { class: `value ${cls || ""}`, "data-field": field }, value));
}

const ICONS = { green: "✔", amber: "⚠", red: "✖" };

// The status in words, with the counts of the SLA clocks the tile is judged by.
function statusText(t) {
  const kinds = t.channel === "voice" ? ["answer"]
    : t.channel === "chat" ? ["answer", "first_response"] : ["first_response", "resolution"];
  let risk = 0, late = 0;
  for (const k of kinds) if (t.sla[k]) { risk += t.sla[k][0]; late += t.sla[k][1]; }
  if (t.status === "green") return "✔ ok";
  if (late) return `✖ ${late} late`;
  if (risk && t.status === "amber") return `⚠ ${risk} risk`;
  return t.status === "red" ? "▼ SL low" : "▼ SL near";
}

function spark(s, target) {
  if (!s || !s.values || !s.values.length) return null;
  const values = s.values;
  const top = s.kind === "service_level" ? 1 : Math.max(1, ...values.filter((v) => v !== null));
  const w = 120, h = 24, step = w / Math.max(1, values.length - 1);
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) { pen = false; return; }
    const x = (i * step).toFixed(1), y = (h - 2 - (v / top) * (h - 4)).toFixed(1);
    d += `${pen ? "L" : "M"}${x} ${y} `;
    pen = true;
  });
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", s.kind === "service_level"
    ? "service level, last hour in 5-minute steps" : "contacts offered, last hour in 5-minute steps");
  if (s.kind === "service_level" && target !== null && target !== undefined) {
    const line = document.createElementNS(ns, "path");
    const y = (h - 2 - target * (h - 4)).toFixed(1);
    line.setAttribute("d", `M0 ${y} L${w} ${y}`);
    line.setAttribute("class", "target");
    svg.append(line);
  }
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d.trim());
  svg.append(path);
  return svg;
}

function agentsValue(a) {
  return el("span", { class: "agents" },
    el("i", { class: "st available" }), String(a[0]), " ",
    el("i", { class: "st on_contact" }), String(a[1]), " ",
    el("i", { class: "st after_contact_work" }), String(a[2]));
}

function tile(t) {
  const node = el("section", {
    class: `tile ${t.status}`, "data-queue": t.queue, "data-channel": t.channel,
    "data-status": t.status, "data-kind": t.live_channel ? "live" : "async",
  });
  node.append(el("h3", {},
    el("span", { class: "name" }, `${t.queue} · ${t.channel}`),
    el("span", { class: `badge ${t.status}`, "data-field": "status" }, statusText(t))));
  const grid = el("div", { class: "grid" });
  const short = t.staffed < t.required ? "bad" : "";
  if (t.live_channel) {
    const target = t.sl_target === null ? "" : ` ≥${Math.round(100 * t.sl_target)}`;
    grid.append(
      el("div", { class: "main" },
        el("span", { class: "cap" }, "waiting"),
        el("span", { class: "value big", "data-field": "waiting" }, String(t.waiting)),
        spark(t.spark, t.sl_target)),
      cell("SL 15m", "service_level_15m", percent(t.sl_recent), t.sl_recent_status),
      cell("today", "service_level_today", percent(t.sl_day), t.sl_day_status, 0, target),
      cell("longest", "longest_wait", duration(t.longest_wait)),
      cell("abandon", "abandon_ratio", percent(t.abandon_day)),
      cell("agents free · on · acw", "agents", agentsValue(t.agents), "", 2),
      cell("need/have", "staffing", `${t.required}/${t.staffed}`, short),
      cell("answer ⚠ risk · ✖ late", "sla_answer", slaPair(t.sla.answer), slaClass(t.sla.answer), 2),
      t.channel === "chat"
        ? cell("reply ⚠·✖", "sla_first_response", slaPair(t.sla.first_response), slaClass(t.sla.first_response))
        : cell("away", "agents_away", String(t.agents[3])),
    );
  } else {
    const frt = t.frt_target === null ? "" : ` ≤${duration(t.frt_target)}`;
    const ages = el("span", {}, t.backlog.map(String).join("·"));
    grid.append(
      el("div", { class: "main" },
        el("span", { class: "cap" }, "open"),
        el("span", { class: "value big", "data-field": "open" }, String(t.open)),
        spark(t.spark)),
      cell("reply ⌀", "first_response_average", duration(t.frt_average),
        t.frt_average !== null && t.frt_target !== null && t.frt_average > t.frt_target ? "red" : ""),
      cell("p90", "first_response_p90", duration(t.frt_p90),
        t.frt_p90 !== null && t.frt_target !== null && t.frt_p90 > t.frt_target ? "amber" : "", 0, frt),
      cell("oldest", "oldest_open", duration(t.oldest_open)),
      cell("resolved", "resolved_today", t.resolved_day === null ? "–" : String(t.resolved_day)),
      cell("by age <1h·<4h·<1d·older", "backlog", ages, "", 3),
      cell("reply ⚠·✖", "sla_first_response", slaPair(t.sla.first_response), slaClass(t.sla.first_response)),
      cell("res ⚠·✖", "sla_resolution", slaPair(t.sla.resolution), slaClass(t.sla.resolution)),
      cell("need/have", "staffing", `${t.required}/${t.staffed}`, short),
    );
  }
  node.append(grid);
  return node;
}

function slaPair(pair) {
  return pair ? `${pair[0]}·${pair[1]}` : "–";
}

function slaClass(pair) {
  return !pair ? "" : pair[1] ? "red" : pair[0] ? "amber" : "";
}

// ------------------------------------------------------------------ panels

function renderAgents(agents) {
  const chips = $("agent-chips");
  if (!agents) { chips.replaceChildren(); return; }
  const s = agents.by_state;
  $("agents-summary").replaceChildren(...STATE_NAMES.filter((n) => n !== "offline").map((n) =>
    el("span", { class: "count" }, el("i", { class: `st ${n}` }), `${s[n] || 0} ${STATE_SHORT[n]}`)));
  chips.replaceChildren(...agents.rows.map((a) => el("div", {
    class: `chip ${a.state} ${a.alert || ""}`, "data-agent": a.id, "data-state": a.state,
    "data-alert": a.alert || "",
  },
  el("span", { class: "who" }, a.id),
  el("span", { class: "time", "data-field": "time_in_state" },
    (a.alert === "red" ? "✖ " : a.alert === "amber" ? "⚠ " : "") + duration(a.seconds)),
  el("span", { class: "why" }, a.reason || STATE_SHORT[a.state] || a.state))));
  chips.dataset.total = String(agents.total);
}

function renderBreach(contacts) {
  const rows = $("breach-rows");
  if (!contacts) { rows.replaceChildren(); return; }
  $("breach-summary").textContent = contacts.at_risk || contacts.breached
    ? `⚠ ${contacts.at_risk} at risk · ✖ ${contacts.breached} late` : "none";
  rows.replaceChildren(...contacts.rows.map((c) => el("li", {
    class: `row ${c.state === "breached" ? "red" : "amber"}`, "data-contact": c.id,
  },
  el("span", { class: "due", "data-field": "due_in" },
    (c.state === "breached" ? "✖ " : "⚠ ") + duration(c.due_in)),
  el("span", { class: "what" }, `${c.queue} · ${c.channel} · ${c.sla.replace("_", " ")}`),
  el("span", { class: "who" }, `${c.id}${c.priority !== "normal" ? " · " + c.priority : ""}` +
    (c.agent ? ` · ${c.agent}` : c.waiting ? " · waiting" : "")))));
}

function renderMoves(moves) {
  const rows = $("move-rows");
  if (!moves) { rows.replaceChildren(); return; }
  const short = moves.still_short.map((q) => `${q.queue} −${q.short_by}`).join(", ");
  $("moves-summary").textContent = moves.rows.length ? "" : short ? `still short: ${short}` : "none needed";
  const lv = (x) => (x.service_level === null ? `${x.staffed}/${x.required}` : percent(x.service_level));
  rows.replaceChildren(...moves.rows.map((m) => el("li", { class: "row move", "data-agent": m.agent },
    el("span", { class: "what" }, `${m.agent}: ${m.from} → ${m.to}`),
    el("span", { class: "who" },
      `${m.to} ${lv(m.to_before)}→${lv(m.to_after)} · ${m.from} ${lv(m.from_before)}→${lv(m.from_after)}`))));
}

// ------------------------------------------------------------------ layout

const TILE_W = 310, TILE_H = 240, GAP = 8, SIDE = 450; // at 1080p, in CSS px

function unit() {
  return Math.min(innerHeight / 1080, innerWidth / 1920);
}

function phone() {
  return innerWidth < 760;
}

// The largest grid for n tiles in w x h: [cols, rows, scale] or null if they do not fit.
function fit(n, w, h, u) {
  const tw = TILE_W * u, th = TILE_H * u, g = GAP * u;
  const maxCols = Math.floor((w + g) / (tw + g)), maxRows = Math.floor((h + g) / (th + g));
  let best = null;
  for (let cols = 1; cols <= Math.max(1, maxCols); cols++) {
    const rows = Math.ceil(n / cols);
    if (cols > maxCols || rows > maxRows) continue;
    const scale = Math.min((w - g * (cols - 1)) / cols / tw, (h - g * (rows - 1)) / rows / th);
    if (!best || scale > best[2]) best = [cols, rows, scale];
  }
  return best;
}

function layout() {
  const body = document.body;
  const n = tilesEl.children.length;
  if (phone()) {
    body.className = "phone";
    body.style.setProperty("--u", "1px");
    pages = [];
    pager.textContent = "";
    for (const name of ["--cols", "--rows", "--s"]) tilesEl.style.removeProperty(name);
    showPage();
    return;
  }
  body.style.setProperty("--u", `${unit()}px`);
  const u = unit();
  const header = document.querySelector("header").getBoundingClientRect().height;
  const w = innerWidth - 2 * GAP * u, h = innerHeight - header - 2 * GAP * u;
  const side = fit(Math.max(n, 1), w - SIDE * u - GAP * u, h, u);
  let grid;
  if (side) {
    body.className = "side";
    pages = [];
    grid = side;
  } else {
    body.className = "rotate";
    const full = fit(1, w, h, u);
    const perPage = Math.max(1, Math.floor((w + GAP * u) / ((TILE_W + GAP) * u)) *
      Math.floor((h + GAP * u) / ((TILE_H + GAP) * u)));
    grid = fit(Math.min(n, perPage), w, h, u) || full;
    pages = [];
    for (let i = 0; i < n; i += perPage) pages.push({ tiles: [i, Math.min(n, i + perPage)] });
    pages.push({ panels: true });
    page = page % pages.length;
  }
  tilesEl.style.setProperty("--cols", grid[0]);
  tilesEl.style.setProperty("--rows", grid[1]);
  tilesEl.style.setProperty("--s", Math.min(2.2, Math.max(1, grid[2])).toFixed(3));
  showPage();
}

function showPage() {
  if (!pages.length) {
    tilesEl.hidden = false;
    panelsEl.hidden = false;
    for (const t of tilesEl.children) t.hidden = false;
    trimPanels();
    return;
  }
  const current = pages[page % pages.length];
  tilesEl.hidden = !current.tiles;
  panelsEl.hidden = !current.panels;
  if (current.tiles) {
    [...tilesEl.children].forEach((t, i) => { t.hidden = i < current.tiles[0] || i >= current.tiles[1]; });
  }
  pager.textContent = `${(page % pages.length) + 1}/${pages.length}`;
  trimPanels();
}

// Rows that do not fit their panel go (counted in "+N more"): nothing is cut in half.
function trimPanels() {
  if (panelsEl.hidden || phone()) return;
  for (const [list, total] of [
    [$("agent-chips"), () => Number($("agent-chips").dataset.total || 0)],
    [$("breach-rows"), () => null],
    [$("move-rows"), () => null],
  ]) {
    const bottom = list.getBoundingClientRect().bottom;
    let shown = 0;
    for (const child of [...list.children]) {
      if (child.getBoundingClientRect().bottom > bottom + 0.5) child.remove();
      else shown++;
    }
    const all = total();
    if (all !== null && all > shown && shown > 0) {
      list.lastElementChild.remove();
      list.append(el("div", { class: "chip more" }, el("span", { class: "time" }, `+${all - shown + 1}`),
        el("span", { class: "why" }, "more")));
    }
  }
}

setInterval(() => {
  if (pages.length > 1) {
    page = (page + 1) % pages.length;
    showPage();
  }
}, ROTATE_SECONDS * 1000);

// ------------------------------------------------------------------ status badge

function localTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "medium" }) : "–";
}

function showBadge() {
  let text, cls;
  const silent = (Date.now() - lastMessage) / 1000;
  if (!connected) {
    text = "✖ reconnecting…"; cls = "down";
  } else if (!board) {
    text = "connecting…"; cls = "down";
  } else if (board.source !== "live") {
    text = `▶ ${board.source} · data of ${localTime(board.last_event_at)}`; cls = "file";
  } else if (board.stale) {
    text = `⚠ stale since ${localTime(board.last_event_at)}`; cls = "stale";
  } else if (silent > WATCHDOG_SECONDS) {
    text = `⚠ no update for ${duration(silent)}`; cls = "stale";
  } else {
    text = "● live"; cls = "up";
  }
  badge.textContent = text;
  badge.className = `connection ${cls}`;
  badge.dataset.state = cls;
}

setInterval(showBadge, 1000);

// ------------------------------------------------------------------ render

function render(next) {
  board = next;
  lastMessage = Date.now();
  const floor = next.floor || {};
  $("floor").textContent = floor.team ? `· team ${floor.team}` : floor.queue ? `· ${floor.queue}` : "";
  tilesEl.replaceChildren(...next.tiles.map(tile));
  empty.hidden = next.tiles.length > 0;
  renderAgents(next.agents);
  renderBreach(next.contacts);
  renderMoves(next.moves);
  clock.textContent = next.now ? new Date(next.now).toLocaleTimeString() : "";
  showBadge();
  layout();
  document.body.dataset.version = String(Number(document.body.dataset.version || 0) + 1);
}

function connect() {
  const query = new URLSearchParams();
  for (const key of ["team", "queue"]) if (params.get(key)) query.set(key, params.get(key));
  const source = new EventSource(`/api/v1/board/stream${query.size ? "?" + query : ""}`);
  source.addEventListener("open", () => { connected = true; showBadge(); });
  source.addEventListener("board", (event) => render(JSON.parse(event.data)));
  source.addEventListener("error", () => { connected = false; showBadge(); });
}

if (params.has("token")) { // the server set its cookie; keep the token out of history
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.size ? "?" + params : ""));
}
addEventListener("resize", () => board && layout());
connect();

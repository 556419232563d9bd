// Floorwatch wallboard: renders /api/v1/board/stream (server-sent events).
// EventSource reconnects by itself; the badge shows whether the board is live.
"use strict";

const tiles = document.getElementById("tiles");
const badge = document.getElementById("connection");
const clock = document.getElementById("clock");
const empty = document.getElementById("empty");

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}`;
}

function percent(ratio) {
  return ratio === null || ratio === undefined ? "–" : `${(100 * ratio).toFixed(1)}%`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function stat(label, field, text, colour) {
  const value = el("span", { class: `value ${colour || ""}`, "data-field": field }, text);
  return el("div", { class: "stat" }, el("span", { class: "label" }, label), value);
}

function tile(q) {
  const today = q.windows.today || {};
  const recent = q.windows["15m"] || {};
  const target = q.targets.service_level;
  const targetText = target === null ? "" : ` · target ${percent(target)}`;
  const node = el("section", {
    class: `tile ${q.status.overall}`,
    "data-queue": q.queue, "data-channel": q.channel, "data-status": q.status.overall,
  });
  node.append(el("h2", {}, `${q.queue} · ${q.channel}`, el("span", { class: "team" }, q.team || "")));
  const big = el("div", { class: "big" });
  big.append(
    stat("Waiting", "waiting", String(q.live.waiting)),
    stat("Longest wait", "longest_wait", duration(q.live.longest_wait_seconds)),
    stat(`SL today${targetText}`, "service_level_today",
      percent(today.service_level_ratio), q.status.service_level_today),
    stat(`SL 15 min${targetText}`, "service_level_15m",
      percent(recent.service_level_ratio), q.status.service_level_15m),
  );
  node.append(big);
  const small = el("div", { class: "small-stats" });
  const at = (label, field, value, cls) => {
    const b = el("b", { "data-field": field }, value);
    return el("span", { class: cls || "" }, `${label} `, b);
  };
  small.append(
    at("Abandoned", "abandon_ratio", percent(today.abandon_ratio)),
    at("Agents free", "agents_available", String(q.agents.available)),
    at("At risk", "at_risk", String(q.sla.at_risk), q.sla.at_risk ? "warn" : ""),
    at("Breached", "breached", String(q.sla.breached), q.sla.breached ? "alert" : ""),
  );
  node.append(small);
  return node;
}

function render(board) {
  tiles.replaceChildren(...board.queues.map(tile));
  empty.hidden = board.queues.length > 0;
  clock.textContent = board.now ? new Date(board.now).toLocaleTimeString() : "";
  document.body.dataset.version = String(Number(document.body.dataset.version || 0) + 1);
}

function connect() {
  const source = new EventSource("/api/v1/board/stream");
  source.addEventListener("open", () => {
    badge.textContent = "live";
    badge.className = "connection up";
  });
  source.addEventListener("board", (event) => render(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    badge.textContent = "reconnecting…";
    badge.className = "connection down";
  });
}

connect();

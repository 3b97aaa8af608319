// Operator console: live case feed with filters, the case view, the district map and the device overview.
import { get, paths } from "./api.js";
import { renderCase } from "./caseview.js";
import { startConsole } from "./console.js";
import { formatTime, t } from "./i18n.js";
import { LiveFeed } from "./live.js";
import { drawMap } from "./map.js";
import { el, PRIORITIES, priorityBadge, stateBadge, toast } from "./ui.js";

const ALERT_TYPES = [
  "intrusion", "loitering", "illegal_parking", "crowding", "line_crossing", "presence", "fire_smoke",
  "exposed_garbage", "motion", "camera_offline", "smoke_alarm", "manhole_open", "manhole_tilt",
  "water_level_high", "gas_high", "battery_low", "tamper", "sensor_fault", "sensor_offline", "gateway_offline",
];
const STATES = ["reported", "registered", "rejected", "dispatched", "accepted", "handled", "closed"];
const OPEN = new Set(["reported", "registered", "dispatched", "accepted", "handled"]);

const cases = new Map();
let areas = [];
let workers = [];
let selected = null;

function filters() {
  const form = document.getElementById("filters");
  return { grid: form.grid.value, type: form.type.value, priority: form.priority.value, state: form.state.value };
}

function passes(item, f) {
  const area = areas.find((a) => a.id === item.area_id);
  return (!f.grid || (area && area.code === f.grid)) && (!f.type || item.alert_type === f.type)
    && (!f.priority || item.priority === f.priority) && (!f.state || item.state === f.state);
}

function fillSelect(select, values, labelOf) {
  const first = select.querySelector("option");
  select.replaceChildren(first, ...values.map((v) => el("option", { value: v, text: labelOf(v) })));
}

function fillFilters() {
  const form = document.getElementById("filters");
  const keep = filters();
  fillSelect(form.grid, areas.filter((a) => a.level === "grid").map((a) => a.code),
    (code) => areas.find((a) => a.code === code).name);
  fillSelect(form.type, ALERT_TYPES, (v) => t(`type.${v}`));
  fillSelect(form.priority, PRIORITIES, (v) => t(`priority.${v}`));
  fillSelect(form.state, STATES, (v) => t(`state.${v}`));
  Object.assign(form.grid, { value: keep.grid }); form.type.value = keep.type;
  form.priority.value = keep.priority; form.state.value = keep.state;
}

function feedItem(item, fresh) {
  const area = areas.find((a) => a.id === item.area_id);
  return el("li", {}, el("button", {
    type: "button", class: `feed-item prio-border-${item.priority}${fresh ? " new-flash" : ""}`,
    "data-case": item.case_id, "data-priority": item.priority, "aria-current": selected === item.case_id ? "true" : null,
    onclick: () => select(item.case_id),
  },
  el("div", { class: "title" }, priorityBadge(item.priority), `#${item.case_id} ${item.title}`),
  el("div", { class: "meta" }, stateBadge(item.state),
    `${t(`type.${item.alert_type}`)} · ${area ? area.name : "-"} · ${formatTime(item.updated_at)}`,
    item.occurrences > 1 ? ` · ×${item.occurrences}` : "")));
}

function renderFeed(freshId = null) {
  const f = filters();
  const shown = [...cases.values()].filter((c) => passes(c, f))
    .sort((a, b) => (b.updated_at > a.updated_at ? 1 : b.updated_at < a.updated_at ? -1 : b.case_id - a.case_id));
  document.getElementById("feed").replaceChildren(...shown.map((c) => feedItem(c, c.case_id === freshId)));
  document.getElementById("feed-count").textContent = t("operator.count", { shown: shown.length, total: cases.size });
  drawMap(document.getElementById("map"), areas, [...cases.values()].filter((c) => OPEN.has(c.state) && passes(c, f)),
    { onSelect: select, label: { map: t("map.heading"), marker: t("map.case"), empty: t("map.empty") } });
}

async function select(caseId) {
  selected = caseId;
  renderFeed();
  const view = document.getElementById("case-view");
  try {
    const item = await renderCase(view, caseId, { onChanged: () => select(caseId), workers });
    cases.set(item.case_id, item);
    renderFeed();
  } catch (exc) {
    view.replaceChildren(el("p", { class: "form-error", text: exc.message }));
  }
}

function onFeed(kind, data) {
  if (!data || data.case_id === undefined) return;
  const isNew = !cases.has(data.case_id);
  cases.set(data.case_id, { ...cases.get(data.case_id), ...data });
  renderFeed(isNew ? data.case_id : null);
  if (isNew && passes(data, filters())) toast(t("operator.new_case", { id: data.case_id, title: data.title }));
  if (selected === data.case_id) {
    if (caseViewBusy()) showStale(data.case_id);
    else select(data.case_id);
  }
}

// Someone is typing in the case view (an open action form or a filled field): never re-render under them;
// offer a refresh instead, so nothing typed is lost when the case changes meanwhile.
function caseViewBusy() {
  const view = document.getElementById("case-view");
  return Boolean(view.querySelector("form[data-action]"))
    || [...view.querySelectorAll("input, textarea")].some((input) => input.value.trim() !== "");
}

function showStale(caseId) {
  const view = document.getElementById("case-view");
  if (view.querySelector("#case-stale")) return;
  view.prepend(el("p", { id: "case-stale", class: "notice", role: "status" }, t("case.changed"), " ",
    el("button", { type: "button", text: t("case.refresh"), onclick: () => select(caseId) })));
}

function stateCell(state) {
  return el("td", { class: state, text: t(`device.${state}`) });
}

async function renderDevices() {
  const [gateways, cameras, sensors, stats] = await Promise.all([
    get(paths.gateways).catch(() => []), get(paths.cameras).catch(() => []), get(paths.sensors).catch(() => []),
    Promise.resolve(null), // the hub keeps no per-camera edge stats yet (see docs/consoles.md)
  ]);
  const all = [
    ...gateways.map((g) => ({ kind: "gateway", id: g.gateway_id, state: g.state, seen: g.last_seen_at })),
    ...cameras.map((c) => ({ kind: "camera", id: c.camera_id, state: c.state, seen: c.last_seen_at })),
    ...sensors.map((s) => ({ kind: "sensor", id: s.device_id, state: s.state, seen: s.last_seen_at })),
  ];
  const online = all.filter((d) => d.state === "online").length;
  const offline = all.filter((d) => d.state === "offline").length;
  const box = document.getElementById("devices");
  box.replaceChildren(
    el("p", { id: "device-summary", text: t("devices.summary", { online, offline, total: all.length }) }),
    el("table", {}, el("thead", {}, el("tr", {}, ["devices.kind", "devices.id", "devices.state", "devices.seen"]
      .map((k) => el("th", { text: t(k) })))),
    el("tbody", {}, all.map((d) => el("tr", {}, el("td", { text: t(`devices.kind_${d.kind}`) }), el("td", { text: d.id }),
      stateCell(d.state), el("td", { text: formatTime(d.seen) || "-" }))))),
    healthTable(stats));
}

function healthTable(stats) {
  if (!Array.isArray(stats) || !stats.length) return el("p", { class: "hint", text: t("devices.no_stats") });
  return el("table", { id: "camera-health" }, el("thead", {}, el("tr", {},
    ["devices.camera", "devices.fps", "devices.skipped", "devices.inference"].map((k) => el("th", { text: t(k) })))),
  el("tbody", {}, stats.map((s) => el("tr", {}, el("td", { text: s.camera_id }),
    el("td", { text: s.detect_fps.toFixed(1) }),
    el("td", { text: String(s.frames_skipped_budget + s.frames_skipped_motion) }),
    el("td", { text: s.inference_ms ? s.inference_ms.p50.toFixed(1) : "-" })))));
}

async function main() {
  const who = await startConsole("operator");
  if (!who) return;
  [areas, workers] = await Promise.all([get(paths.areas).catch(() => []),
    get(paths.users).then((users) => users.filter((u) => ["grid_worker", "grid_leader"].includes(u.role))).catch(() => [])]);
  fillFilters();
  for (const item of await get(paths.cases, { limit: 200 })) cases.set(item.case_id, item);
  renderFeed();
  document.getElementById("filters").addEventListener("change", () => renderFeed());
  document.addEventListener("gw:language", () => { fillFilters(); renderFeed(); renderDevices(); });
  new LiveFeed(paths.stream, onFeed).start();
  await renderDevices();
  window.setInterval(renderDevices, 15000);
  document.body.dataset.ready = "true";
}

main();

// Operator console: live case feed with filters, the case view, the district map and the device overview.
import { get, paths } from "./api.js";
import { renderCase } from "./caseview.js";
import { startConsole } from "./console.js";
import { formatTime, t } from "./i18n.js";
import { LiveFeed } from "./live.js";
import { drawMap } from "./map.js";
import { meta } from "./meta.js";
import { el, priorityBadge, stateBadge, toast } from "./ui.js";

// Edges send stats every 10 s by default; a 5 s poll shows each new window within half a period.
const HEALTH_REFRESH_MS = 5000;

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
  fillSelect(form.type, meta().alert_types, (v) => t(`type.${v}`));
  fillSelect(form.priority, meta().priorities, (v) => t(`priority.${v}`));
  fillSelect(form.state, meta().case_states, (v) => t(`state.${v}`));
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
  drawMap(document.getElementById("map"), areas, [...cases.values()].filter((c) => meta().open_states.includes(c.state) && passes(c, f)),
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
  const [gateways, cameras, sensors] = await Promise.all([
    get(paths.gateways).catch(() => []), get(paths.cameras).catch(() => []), get(paths.sensors).catch(() => []),
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
      stateCell(d.state), el("td", { text: formatTime(d.seen) || "-" }))))));
}

// [catalogue key, numeric?] per column of the gateway-health table.
const HEALTH_COLUMNS = [["health.camera", false], ["health.state", false], ["health.capture_fps", true],
  ["health.detect_fps", true], ["health.skipped", true], ["health.inference_ms", true],
  ["health.frame_age_ms", true], ["health.measured", false]];

function figure(value, digits = 1) {
  return value === null || value === undefined ? "-" : value.toFixed(digits);
}

function numberCell(text) {
  return el("td", { class: "number", text });
}

// One camera's latest edge figures (GET /health/cameras); "-" until its gateway sends the first stats.
function cameraHealthRow(c) {
  const measured = c.stats_at ? formatTime(c.stats_at) + (c.stats_stale ? ` (${t("health.stale")})` : "") : "-";
  const skipped = c.frames_captured === null ? "-"
    : t("health.skipped_value", { motion: c.frames_skipped_motion, budget: c.frames_skipped_budget,
      captured: c.frames_captured });
  const inference = c.inference_ms_p50 === null ? "-" : `${figure(c.inference_ms_p50)} / ${figure(c.inference_ms_p95)}`;
  return el("tr", { "data-camera": c.camera_id, class: c.stats_stale ? "stale" : null },
    el("td", { text: c.name ? `${c.camera_id} (${c.name})` : c.camera_id }), stateCell(c.state),
    numberCell(figure(c.capture_fps)), numberCell(figure(c.detect_fps)), numberCell(skipped), numberCell(inference),
    numberCell(figure(c.frame_age_ms_p95, 0)), el("td", { text: measured }));
}

async function renderHealth() {
  const box = document.getElementById("gateway-health");
  let report;
  try {
    report = await get(paths.cameraHealth);
  } catch {
    box.replaceChildren(el("p", { class: "hint", text: t("health.unavailable") }));
    return;
  }
  if (!report.gateways.length) {
    box.replaceChildren(el("p", { class: "hint", text: t("health.none") }));
    return;
  }
  const body = report.gateways.flatMap((g) => [
    el("tr", { class: "gateway-row", "data-gateway": g.gateway_id }, el("th", { scope: "rowgroup", colspan: "8",
      text: t("health.gateway_line", { id: g.gateway_id, state: t(`device.${g.state}`),
        seen: formatTime(g.last_seen_at) || "-" }) })),
    ...report.cameras.filter((c) => c.gateway_id === g.gateway_id).map(cameraHealthRow),
  ]);
  box.replaceChildren(el("table", { id: "camera-health" },
    el("caption", { class: "hint", text: t("health.caption") }),
    el("thead", {}, el("tr", {}, HEALTH_COLUMNS.map(([k, numeric]) =>
      el("th", { scope: "col", class: numeric ? "number" : null, text: t(k) })))),
    el("tbody", {}, body)));
}

async function main() {
  const who = await startConsole("operator");
  if (!who) return;
  [areas, workers] = await Promise.all([get(paths.areas).catch(() => []),
    get(paths.users).then((users) => users.filter((u) => meta().field_roles.includes(u.role))).catch(() => [])]);
  fillFilters();
  for (const item of await get(paths.cases, { limit: 200 })) cases.set(item.case_id, item);
  renderFeed();
  document.getElementById("filters").addEventListener("change", () => renderFeed());
  document.addEventListener("gw:language", () => { fillFilters(); renderFeed(); renderDevices(); renderHealth(); });
  new LiveFeed(paths.stream, onFeed).start();
  await Promise.all([renderDevices(), renderHealth()]);
  window.setInterval(renderDevices, 15000);
  window.setInterval(renderHealth, HEALTH_REFRESH_MS);
  document.body.dataset.ready = "true";
}

main();

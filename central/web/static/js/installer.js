// Installer console: register gateways (credentials shown once), cameras with zones, sensors; live status.
import { get, paths, request } from "./api.js";
import { CameraForm } from "./camera-form.js";
import { startConsole } from "./console.js";
import { formatTime, t } from "./i18n.js";
import { meta } from "./meta.js";
import { checkInputs, clearErrors, el, showFieldError, showFormError, toast } from "./ui.js";

let areas = [];
let gateways = [];
let cameras = [];
let cameraForm = null;
let sensorProfiles = [];

function showApiError(form, exc) {
  clearErrors(form);
  const fields = Object.entries(exc.fields || {});
  if (!fields.length && !showFieldError(form, exc.message.split(":")[0].split(" ")[0], exc.message)) {
    // Hub messages name the field first ("linked_camera_ids: ..."); otherwise the message goes on the form.
    const named = [...form.querySelectorAll("[name]")].find((i) => exc.message.includes(i.name));
    if (!named || !showFieldError(form, named.name, exc.message)) showFormError(form, exc.message);
  }
  for (const [name, message] of fields) {
    if (!showFieldError(form, name, message)) showFormError(form, `${name}: ${message}`);
  }
}

function location(form) {
  const lat = form["location.lat"].value;
  const lon = form["location.lon"].value;
  return lat !== "" && lon !== "" ? { lat: Number(lat), lon: Number(lon) } : null;
}

function bindGatewayForm() {
  const form = document.getElementById("gateway-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkInputs(form)) return;
    try {
      const answer = await request("POST", paths.gateways, { json: {
        gateway_id: form.gateway_id.value.trim(), name: form.name.value.trim(), area_code: form.area_code.value || null } });
      const box = document.getElementById("credentials");
      document.getElementById("cred-user").textContent = answer.mqtt_username;
      document.getElementById("cred-pass").textContent = answer.mqtt_password;
      box.hidden = false;
      box.focus();
      form.reset();
      toast(t("installer.saved", { id: answer.gateway.gateway_id }), "ok");
      await refreshDevices();
    } catch (exc) {
      showApiError(form, exc);
    }
  });
  // Once dismissed the password is gone from the page: the hub keeps only its hash.
  document.getElementById("cred-done").addEventListener("click", () => {
    document.getElementById("cred-pass").textContent = "";
    document.getElementById("credentials").hidden = true;
  });
}

// The vendor profiles the edge can read for the chosen kind (GET /sensor-profiles); other kinds stay hub-only.
function fillVendors() {
  const form = document.getElementById("sensor-form");
  const keep = form.vendor.value;
  const vendors = sensorProfiles.filter((p) => p.kind === form.kind.value).map((p) => p.vendor);
  form.vendor.replaceChildren(...(vendors.length
    ? vendors.map((v) => el("option", { value: v, text: v }))
    : [el("option", { value: "", text: t("installer.vendor_none") })]));
  form.vendor.value = vendors.includes(keep) ? keep : (vendors.includes("gridwatch") ? "gridwatch" : (vendors[0] || ""));
}

// The sensor kinds the hub offers (its /meta): the edge's own kinds first, then hub-only ones.
function fillSensorKinds() {
  const select = document.getElementById("sensor-form").kind;
  const keep = select.value;
  select.replaceChildren(...meta().sensor_kinds.map((k) => el("option", { value: k, text: t(`sensor.${k}`) })));
  if (keep) select.value = keep;
}

function bindSensorForm() {
  const form = document.getElementById("sensor-form");
  form.kind.addEventListener("change", fillVendors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkInputs(form)) return;
    const body = { device_id: form.device_id.value.trim(), gateway_id: form.gateway_id.value, kind: form.kind.value,
      vendor: form.vendor.value || null, area_code: form.area_code.value || null, location: location(form),
      linked_camera_ids: [...form.querySelectorAll("input[name=linked_camera_ids]:checked")].map((c) => c.value) };
    try {
      await request("POST", paths.sensors, { json: body });
      toast(t("installer.saved", { id: body.device_id }), "ok");
      form.device_id.value = "";
      await refreshDevices();
    } catch (exc) {
      showApiError(form, exc);
    }
  });
}

function fillSelects() {
  const grids = areas.filter((a) => a.level === "grid");
  for (const select of document.querySelectorAll(".grid-select")) {
    const keep = select.value;
    select.replaceChildren(el("option", { value: "", text: "-" }), ...grids.map((a) => el("option", { value: a.code, text: `${a.name} (${a.code})` })));
    select.value = keep;
  }
  for (const select of document.querySelectorAll(".gateway-select")) {
    const keep = select.value;
    select.replaceChildren(...gateways.filter((g) => !g.retired).map((g) => el("option", { value: g.gateway_id, text: g.gateway_id })));
    if (keep) select.value = keep;
  }
  const linked = document.getElementById("s-cameras");
  const checked = new Set([...linked.querySelectorAll("input:checked")].map((c) => c.value));
  linked.replaceChildren(...cameras.map((c) => el("label", {}, el("input", { type: "checkbox", name: "linked_camera_ids",
    value: c.camera_id, checked: checked.has(c.camera_id) }), c.camera_id)));
  if (!cameras.length) linked.append(el("span", { class: "hint", text: t("installer.no_cameras") }));
}

function deviceRow(kind, id, state, seen, extra) {
  return el("tr", { "data-device": id }, el("td", { text: t(`devices.kind_${kind}`) }), el("td", { text: id }),
    el("td", { class: state, text: t(`device.${state}`) }), el("td", { text: formatTime(seen) || "-" }), el("td", {}, extra));
}

// "rev 5", or "rev 5 (runs 4)" while a gateway that follows the hub has not applied the newest revision yet.
function configRevision(gateway) {
  const applied = gateway.applied_config_revision;
  const runs = applied === null || applied === undefined || applied === gateway.config_revision
    ? "" : ` (${t("installer.runs_revision", { rev: applied })})`;
  return `rev ${gateway.config_revision}${runs}`;
}

async function refreshDevices() {
  let sensors;
  [gateways, cameras, sensors] = await Promise.all([get(paths.gateways), get(paths.cameras), get(paths.sensors)]);
  fillSelects();
  const rows = [
    ...gateways.map((g) => deviceRow("gateway", g.gateway_id, g.state, g.last_seen_at, configRevision(g))),
    ...cameras.filter((c) => !c.retired).map((c) => deviceRow("camera", c.camera_id, c.state, c.last_seen_at,
      el("button", { type: "button", text: t("installer.edit_zones"), onclick: () => cameraForm.edit(c) }))),
    ...sensors.filter((s) => !s.retired).map((s) => deviceRow("sensor", s.device_id, s.state, s.last_seen_at,
      [s.kind + (s.vendor ? ` / ${s.vendor}` : ""), ...s.linked_camera_ids].join(", "))),
  ];
  document.getElementById("device-list").replaceChildren(el("table", {},
    el("thead", {}, el("tr", {}, ["devices.kind", "devices.id", "devices.state", "devices.last_message", "devices.more"]
      .map((k) => el("th", { text: t(k) })))), el("tbody", {}, rows)));
}

async function main() {
  const who = await startConsole("installer");
  if (!who) return;
  [areas, sensorProfiles] = await Promise.all([get(paths.areas), get(paths.sensorProfiles).catch(() => [])]);
  fillSensorKinds();
  fillVendors();
  bindGatewayForm();
  bindSensorForm();
  cameraForm = new CameraForm(document.getElementById("camera-form"), refreshDevices);
  await refreshDevices();
  document.addEventListener("gw:language", () => { fillSelects(); fillSensorKinds(); fillVendors(); cameraForm.fillRuleBuilder(); refreshDevices(); });
  window.setInterval(() => refreshDevices().catch(() => {}), 5000);
  document.body.dataset.ready = "true";
}

main();

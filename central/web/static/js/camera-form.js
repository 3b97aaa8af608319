// Camera form: zone editor, rule builder, the config the edge will run, server check and save.
import { ApiError, cameraSnapshotUrl, paths, request } from "./api.js";
import { t } from "./i18n.js";
import { meta } from "./meta.js";
import { clearErrors, el, checkInputs, showFieldError, showFormError, toast } from "./ui.js";
import { ZoneEditor } from "./zone-editor.js";

// Each rule kind (the hub's /meta, from edge/config/rules.py): the shape it is drawn on and its one numeric setting.
function ruleKind(name) {
  return meta().rule_kinds.find((k) => k.kind === name);
}

export class CameraForm {
  constructor(form, onSaved) {
    this.form = form;
    this.onSaved = onSaved;
    this.rules = [];
    this.editing = null; // camera id when the form edits a registered camera (PATCH)
    this.editor = new ZoneEditor(form.querySelector("#zone-canvas"), () => this.refresh(), { blank: t("installer.blank") });
    this.bind();
    this.fillRuleBuilder();
    this.refresh();
  }

  bind() {
    const f = this.form;
    f.querySelector("#draw-zone").addEventListener("click", () => this.editor.start("zone"));
    f.querySelector("#draw-line").addEventListener("click", () => this.editor.start("line"));
    f.querySelector("#finish-shape").addEventListener("click", () => this.editor.finish());
    f.querySelector("#undo-point").addEventListener("click", () => this.editor.undo());
    f.querySelector("#add-rule").addEventListener("click", () => this.addRule());
    f.querySelector("#r-kind").addEventListener("change", () => this.fillShapes());
    f.querySelector("#check-camera").addEventListener("click", () => this.submit(true));
    f.querySelector("#c-background").addEventListener("change", (event) => this.loadLocalImage(event.target.files[0]));
    f.addEventListener("submit", (event) => { event.preventDefault(); this.submit(false); });
    f.addEventListener("input", () => this.showPreview());
  }

  fillRuleBuilder() {
    const f = this.form;
    const { rule_kinds: kinds, severities, rule_classes: classes } = meta();
    f.querySelector("#r-kind").replaceChildren(...kinds.map(({ kind: k }) => el("option", { value: k, text: t(`rule.${k}`) })));
    f.querySelector("#r-severity").replaceChildren(...severities.map((s) => el("option", { value: s, text: t(`severity.${s}`) })));
    f.querySelector("#r-severity").value = "high";
    f.querySelector("#r-classes").replaceChildren(...classes.map((c) => el("label", {},
      el("input", { type: "checkbox", name: "rule.classes", value: c, checked: c === "person" }), t(`class.${c}`))));
    this.fillShapes();
  }

  fillShapes() {
    const f = this.form;
    const kind = ruleKind(f.querySelector("#r-kind").value);
    const shapes = this.editor.shapes.filter((s) => s.kind === kind.shape);
    const options = kind.shape === "zone" ? [el("option", { value: "", text: t("installer.whole_frame") })] : [];
    const select = f.querySelector("#r-shape");
    const keep = select.value;
    select.replaceChildren(...options, ...shapes.map((s) => el("option", { value: s.id, text: s.id })));
    // Default to the shape drawn last: a rule is usually added right after drawing its zone or line.
    const ids = shapes.map((s) => s.id);
    select.value = ids.includes(keep) ? keep : (ids[ids.length - 1] || "");
    f.querySelector("#r-shape").disabled = kind.shape === null;
    f.querySelector("#r-param-field").hidden = kind.param === null;
    if (kind.param) f.querySelector("#r-param-label").textContent = t(`rule.param.${kind.param}`);
  }

  addRule() {
    const f = this.form;
    const kindName = f.querySelector("#r-kind").value;
    const kind = ruleKind(kindName);
    const rule = { kind: kindName, rule_id: `${kindName.replace("_", "-")}-${this.rules.length + 1}`,
      severity: f.querySelector("#r-severity").value };
    const shape = f.querySelector("#r-shape").value;
    if (kind.shape === "line") rule.line = shape;
    else if (kind.shape === "zone" && shape) rule.zone = shape;
    if (kind.shape !== null) {
      rule.classes = [...f.querySelectorAll("input[name='rule.classes']:checked")].map((c) => c.value);
    }
    if (kind.param) {
      const raw = f.querySelector("#r-param").value;
      rule[kind.param] = raw === "" ? undefined : Number(raw);
    }
    this.rules.push(rule);
    this.refresh();
  }

  refresh() {
    const list = this.form.querySelector("#shape-list");
    list.replaceChildren(...this.editor.shapes.map((shape, i) => el("li", {},
      el("span", { class: "badge state", text: t(`installer.${shape.kind}`) }),
      el("label", { class: "visually-hidden", for: `shape-${i}`, text: t("installer.shape_id") }),
      el("input", { id: `shape-${i}`, value: shape.id, "data-shape": i,
        oninput: (event) => { shape.id = event.target.value.trim(); this.editor.draw(); this.fillShapes(); this.showPreview(); } }),
      el("span", { class: "hint", text: `${shape.points.length} ${t("installer.points")}` }),
      el("button", { type: "button", text: t("installer.remove"), onclick: () => this.editor.remove(i) }))));
    const rules = this.form.querySelector("#rule-list");
    rules.replaceChildren(...this.rules.map((rule, i) => el("li", { "data-rule": i },
      el("code", { text: `${rule.rule_id}: ${rule.kind}${rule.zone ? ` @ ${rule.zone}` : ""}${rule.line ? ` @ ${rule.line}` : ""}` }),
      el("button", { type: "button", text: t("installer.remove"), onclick: () => { this.rules.splice(i, 1); this.refresh(); } }))));
    this.fillShapes();
    this.showPreview();
  }

  config() {
    const f = this.form;
    const num = (name) => (f[name].value === "" ? undefined : Number(f[name].value));
    const config = {
      name: f.name.value.trim() || undefined,
      grid_id: f.area_code.value || undefined,
      detect: { detect_fps: num("detect.detect_fps"), conf_threshold: num("detect.conf_threshold") },
      zones: this.editor.shapes.filter((s) => s.kind === "zone").map((s) => ({ id: s.id, polygon: s.points })),
      lines: this.editor.shapes.filter((s) => s.kind === "line").map((s) => ({ id: s.id, points: s.points })),
      rules: this.rules,
    };
    const location = { lat: num("location.lat"), lon: num("location.lon"), address: f["location.address"].value.trim() || undefined };
    if (Object.values(location).some((v) => v !== undefined)) config.location = location;
    return JSON.parse(JSON.stringify(config)); // drops undefined
  }

  showPreview() {
    this.form.querySelector("#config-preview").textContent = JSON.stringify(this.config(), null, 2);
  }

  body() {
    const f = this.form;
    const config = this.config();
    const body = { camera_id: f.camera_id.value.trim(), gateway_id: f.gateway_id.value, name: f.name.value.trim(),
      area_code: f.area_code.value || null, stream_url: f.stream_url.value.trim(), config };
    if (config.location && config.location.lat !== undefined && config.location.lon !== undefined) {
      body.location = { lat: config.location.lat, lon: config.location.lon };
    }
    return body;
  }

  async submit(checkOnly) {
    const f = this.form;
    if (!checkInputs(f)) return;
    const body = this.body();
    try {
      if (checkOnly) {
        await request("POST", paths.checkCamera, { json: { camera_id: body.camera_id, gateway_id: body.gateway_id,
          stream_url: body.stream_url || "rtsp://unchanged", config: body.config } });
        toast(t("installer.check_ok"), "ok");
      } else if (this.editing) {
        const patch = { name: body.name, area_code: body.area_code, location: body.location, config: body.config };
        if (body.stream_url) patch.stream_url = body.stream_url;
        await request("PATCH", paths.camera(this.editing), { json: patch });
        toast(t("installer.saved", { id: this.editing }), "ok");
        this.onSaved();
      } else {
        await request("POST", paths.cameras, { json: body });
        toast(t("installer.saved", { id: body.camera_id }), "ok");
        this.editing = body.camera_id;
        f.camera_id.readOnly = true;
        this.onSaved();
      }
    } catch (exc) {
      this.showServerError(exc);
    }
  }

  // The hub answers "camera <id>: zones[0].polygon: <why>" lines (edge config loader) or a FastAPI 422 list;
  // each message goes next to its field, or the zone/line/rule list it belongs to. Nothing typed is reset.
  showServerError(exc) {
    clearErrors(this.form);
    if (!(exc instanceof ApiError)) throw exc;
    const problems = Object.keys(exc.fields).length ? Object.entries(exc.fields)
      : exc.message.split("\n").map((line) => {
        const parts = line.replace(/^camera [^:]+: /, "").split(": ");
        return parts.length > 1 ? [parts[0], parts.slice(1).join(": ")] : ["_", line];
      });
    let shownAny = false;
    for (const [path, message] of problems) {
      const names = [path, path.replace(/^config\./, ""), path.replace(/^config\./, "").replace(/\[\d+\].*$/, "").split(".")[0]];
      if (names.some((name) => showFieldError(this.form, name, `${path}: ${message}`))) { shownAny = true; continue; }
      showFormError(this.form, `${this.form.querySelector(".form-error").textContent} ${path}: ${message}`.trim());
      shownAny = true;
    }
    if (!shownAny) showFormError(this.form, exc.message);
    const first = this.form.querySelector("[aria-invalid]");
    if (first) first.focus();
  }

  edit(camera) {
    const f = this.form;
    const config = camera.config || {};
    this.editing = camera.camera_id;
    f.camera_id.value = camera.camera_id;
    f.camera_id.readOnly = true;
    f.gateway_id.value = camera.gateway_id;
    f.name.value = camera.name || "";
    f.stream_url.value = "";
    f.stream_url.required = false;
    f["location.lat"].value = camera.latitude ?? "";
    f["location.lon"].value = camera.longitude ?? "";
    if (config.detect) {
      f["detect.detect_fps"].value = config.detect.detect_fps ?? 5;
      f["detect.conf_threshold"].value = config.detect.conf_threshold ?? 0.25;
    }
    this.editor.load(config.zones, config.lines);
    this.rules = (config.rules || []).map((r) => ({ ...r }));
    this.refresh();
    this.loadSnapshot(camera.camera_id);
  }

  // The camera's latest snapshot; a blank frame until the camera has sent one.
  async loadSnapshot(cameraId) {
    try {
      this.loadImage(await cameraSnapshotUrl(cameraId));
    } catch {
      this.editor.setImage(null);
    }
  }

  // A reference photo taken on site is only drawn on, never uploaded.
  loadLocalImage(file) {
    if (file) this.loadImage(URL.createObjectURL(file));
  }

  loadImage(url) {
    const img = new Image();
    img.onload = () => this.editor.setImage(img);
    img.src = url;
  }
}

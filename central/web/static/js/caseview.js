// The operator's case view: facts, snapshots with boxes, sensor readings, audit trail and the actions.
import { get, imageUrl, paths, request } from "./api.js";
import { formatTime, t } from "./i18n.js";
import { meta } from "./meta.js";
import { snapshotFigure } from "./snapshot.js";
import { clearErrors, el, priorityBadge, showFieldError, stateBadge, toast } from "./ui.js";

// The fields an action's form asks for: reason (required), note (optional), score; other actions need none.
const ACTION_FORMS = { reject: ["reason"], close: ["score", "note"], send_back: ["note"] };

function assigneeName(userId, people) {
  if (userId === null) return "-";
  const person = people.find((p) => p.id === userId);
  return person ? `${person.display_name || person.username} (${person.username})` : `#${userId}`;
}

function facts(item, people) {
  const rows = [
    ["case.state", stateBadge(item.state)], ["case.priority", priorityBadge(item.priority)],
    ["case.type", t(`type.${item.alert_type}`)], ["case.source", `${item.source_kind} ${item.source_id}`],
    ["case.gateway", item.gateway_id], ["case.occurrences", String(item.occurrences)],
    ["case.created", formatTime(item.created_at)], ["case.updated", formatTime(item.updated_at)],
    ["case.assignee", assigneeName(item.assignee_id, people)],
  ];
  if (item.accept_due_at) rows.push(["case.accept_due", formatTime(item.accept_due_at)]);
  if (item.handle_due_at) rows.push(["case.handle_due", formatTime(item.handle_due_at)]);
  if (item.latitude !== null) rows.push(["case.location", `${item.latitude.toFixed(5)}, ${item.longitude.toFixed(5)}`]);
  if (item.cleared) rows.push(["case.cleared", t("common.yes")]);
  return el("dl", { class: "kv" }, rows.flatMap(([key, value]) => [el("dt", { text: t(key) }), el("dd", {}, value)]));
}

async function snapshots(alerts) {
  const box = el("div", { class: "snapshots" });
  const withImage = alerts.filter((a) => a.evidence_id !== null).slice(-3);
  for (const alert of withImage) {
    try {
      const url = await imageUrl(alert.evidence_id);
      const detections = (alert.detail && alert.detail.detections) || [];
      const frame = alert.detail && alert.detail.frame_size ? alert.detail.frame_size : alert.snapshot_size;
      box.append(snapshotFigure(url, detections, frame, `${formatTime(alert.observed_at)} - ${alert.title}`));
    } catch (exc) {
      box.append(el("p", { class: "empty", text: exc.message }));
    }
  }
  if (!withImage.length) box.append(el("p", { class: "empty", text: t("case.no_snapshot") }));
  return box;
}

function readings(alerts) {
  const sensorAlerts = alerts.filter((a) => a.detail && a.detail.kind === "sensor");
  if (!sensorAlerts.length) return null;
  const latest = sensorAlerts[sensorAlerts.length - 1];
  const rows = Object.entries(latest.detail.readings || {});
  return el("section", { class: "readings" },
    el("h3", { text: t("case.readings") }),
    el("p", { class: "hint", text: `${latest.detail.device_kind} - ${formatTime(latest.observed_at)}` }),
    el("dl", { class: "kv" }, rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })])));
}

function label(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

// A worker's feedback photo, shown in the trail so the operator can verify before closing.
function evidencePhoto(evidenceId, caption) {
  const img = el("img", { class: "evidence-photo", alt: `${t("case.photo")}: ${caption}`, "data-evidence": evidenceId });
  imageUrl(evidenceId).then((url) => { img.src = url; }).catch(() => img.remove());
  return img;
}

function audit(events) {
  return el("section", {},
    el("h3", { text: t("case.audit") }),
    el("ol", { class: "audit", id: "audit" }, events.map((e) => el("li", {},
      el("strong", { text: `${formatTime(e.at)} ${e.actor}: ${label(`action.${e.action}`, e.action)}` }),
      e.from_state && e.to_state && e.from_state !== e.to_state ? ` (${t(`state.${e.from_state}`)} → ${t(`state.${e.to_state}`)})` : "",
      e.note ? el("div", { text: e.note }) : null,
      e.evidence_id ? evidencePhoto(e.evidence_id, `${e.actor} ${formatTime(e.at)}`) : null))));
}

function actionForm(item, action, onDone) {
  const fields = ACTION_FORMS[action] || [];
  const form = el("form", { class: "action-form", novalidate: true, "data-action": action });
  const inputs = {
    reason: () => [el("label", { for: "act-reason", text: t("case.reason") }),
      el("textarea", { id: "act-reason", name: "note", required: true, maxlength: 2000, rows: 2 })],
    note: () => [el("label", { for: "act-note", text: t("case.note") }),
      el("textarea", { id: "act-note", name: "note", maxlength: 2000, rows: 2 })],
    score: () => [el("label", { for: "act-score", text: t("case.score") }),
      el("input", { id: "act-score", name: "score", type: "number", min: 1, max: 5, step: 1 })],
  };
  for (const name of fields) {
    const [label, input] = inputs[name]();
    form.append(el("div", { class: "field" }, label, input,
      el("p", { class: "field-error", "data-for": input.name, "aria-live": "polite" })));
  }
  form.append(el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", class: action === "reject" ? "danger" : "primary", text: t(`action.${action}`) }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const note = form.note ? form.note.value.trim() : "";
    if (action === "reject" && !note) { showFieldError(form, "note", t("case.reason_required")); form.note.focus(); return; }
    const body = {};
    if (note) body.note = note;
    if (form.score && form.score.value) body.score = Number(form.score.value);
    try {
      await request("POST", paths.caseAction(item.case_id, action), { json: body });
      toast(t("case.done", { action: t(`action.${action}`), id: item.case_id }), "ok");
      onDone();
    } catch (exc) {
      if (!showFieldError(form, Object.keys(exc.fields)[0] || "note", exc.message)) {
        form.querySelector(".form-error").textContent = exc.message;
      }
    }
  });
  return form;
}

function simpleForm(id, label, name, submitLabel, send) {
  const form = el("form", { class: "action-form", novalidate: true, id },
    el("div", { class: "field" }, el("label", { for: `${id}-input`, text: label }),
      el("input", { id: `${id}-input`, name, required: true, maxlength: 2000 }),
      el("p", { class: "field-error", "data-for": name, "aria-live": "polite" })),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", text: submitLabel }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const value = form[name].value.trim();
    if (!value) { showFieldError(form, name, t("error.required")); form[name].focus(); return; }
    try {
      await send(value);
      form[name].value = "";
    } catch (exc) {
      showFieldError(form, name, exc.message);
    }
  });
  return form;
}

export async function renderCase(container, caseId, { onChanged, workers }) {
  const [item, alerts, events] = await Promise.all([
    get(paths.case(caseId)), get(paths.alerts, { case_id: caseId }).then((a) => a.reverse()).catch(() => []), get(paths.caseEvents(caseId)),
  ]);
  const actionBox = el("div", { class: "actions", role: "group", "aria-label": t("case.actions") });
  const formSlot = el("div", {});
  // Field actions (accept, handle) are the assignee's, on the worker page; the operator gets the rest.
  for (const action of item.allowed_actions.filter((a) => !meta().field_actions.includes(a))) {
    actionBox.append(el("button", {
      type: "button", "data-action": action, class: action === "reject" ? "danger" : "",
      text: t(`action.${action}`),
      onclick: () => {
        formSlot.replaceChildren(actionForm(item, action, onChanged));
        const first = formSlot.querySelector("textarea, input, button");
        if (first) first.focus();
      },
    }));
  }
  const reassign = meta().reassign_states.includes(item.state)
    ? simpleForm("reassign-form", t("case.reassign_to"), "username", t("action.reassign"), async (username) => {
      await request("POST", paths.caseReassign(caseId), { json: { username } });
      toast(t("case.done", { action: t("action.reassign"), id: caseId }), "ok");
      onChanged();
    }) : null;
  if (reassign && workers.length) {
    const list = el("datalist", { id: "workers-list" }, workers.map((w) => el("option", { value: w.username })));
    reassign.append(list);
    reassign.querySelector("input").setAttribute("list", "workers-list");
  }
  const note = simpleForm("note-form", t("case.add_note"), "note", t("action.feedback"), async (text) => {
    const form = new FormData();
    form.append("note", text);
    await request("POST", paths.caseFeedback(caseId), { form });
    toast(t("case.note_added"), "ok");
    onChanged();
  });
  const parts = [el("h3", { text: `#${item.case_id} ${item.title}` }), facts(item, workers), actionBox, formSlot,
    await snapshots(alerts), readings(alerts), reassign, note, audit(events)];
  container.replaceChildren(...parts.filter(Boolean));
  container.dataset.caseId = String(caseId);
  return item;
}

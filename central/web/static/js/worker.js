// Grid worker page (phone first): my tasks by urgency with SLA countdowns; accept, navigate, feed back, handle.
import { get, paths, request } from "./api.js";
import { startConsole } from "./console.js";
import { formatDuration, formatTime, t } from "./i18n.js";
import { LiveFeed } from "./live.js";
import { meta } from "./meta.js";
import { clearErrors, el, priorityBadge, showFieldError, stateBadge, toast } from "./ui.js";

const tasks = new Map();
let me = null;

function isTask(item) {
  return meta().task_states.includes(item.state);
}

function due(item) {
  if (item.state === "dispatched") return item.accept_due_at;
  if (item.state === "accepted") return item.handle_due_at;
  return null;
}

// Most urgent first: priority colour, then the nearest deadline.
function byUrgency(a, b) {
  const { priorities } = meta();
  const rank = priorities.indexOf(a.priority) - priorities.indexOf(b.priority);
  if (rank) return rank;
  return (Date.parse(due(a) || "9999-01-01") - Date.parse(due(b) || "9999-01-01")) || a.case_id - b.case_id;
}

function countdown(item) {
  const at = due(item);
  if (!at) return el("span", { class: "countdown", text: "" });
  const node = el("span", { class: "countdown", "data-due": at });
  updateCountdown(node);
  return node;
}

function updateCountdown(node) {
  const left = (Date.parse(node.dataset.due) - Date.now()) / 1000;
  node.textContent = left >= 0 ? t("worker.left", { time: formatDuration(left) })
    : t("worker.overdue", { time: formatDuration(-left) });
  node.classList.toggle("overdue", left < 0);
}

function navigateLink(item) {
  if (item.latitude === null || item.longitude === null) return el("p", { class: "hint", text: t("worker.no_location") });
  const coords = `${item.latitude.toFixed(5)}, ${item.longitude.toFixed(5)}`;
  // geo: URIs open the phone's own map app; nothing is fetched from the internet by this page.
  return el("p", {}, `${t("worker.location")}: `,
    el("a", { href: `geo:${item.latitude},${item.longitude}`, class: "navigate", text: coords }));
}

async function act(item, action) {
  try {
    const updated = await request("POST", paths.caseAction(item.case_id, action), { json: {} });
    tasks.set(updated.case_id, updated);
    toast(t("case.done", { action: t(`action.${action}`), id: item.case_id }), "ok");
    render();
  } catch (exc) {
    toast(exc.message, "error");
  }
}

function feedbackForm(item) {
  const id = `fb-${item.case_id}`;
  const form = el("form", { class: "action-form feedback", novalidate: true },
    el("div", { class: "field" }, el("label", { for: `${id}-note`, text: t("worker.feedback_note") }),
      el("textarea", { id: `${id}-note`, name: "note", rows: 2, maxlength: 2000 }),
      el("p", { class: "field-error", "data-for": "note", "aria-live": "polite" })),
    el("div", { class: "field" }, el("label", { for: `${id}-photo`, text: t("worker.photo") }),
      el("input", { id: `${id}-photo`, name: "photo", type: "file", accept: "image/*", capture: "environment" }),
      el("p", { class: "field-error", "data-for": "photo", "aria-live": "polite" })),
    el("p", { class: "form-error", role: "alert" }),
    el("button", { type: "submit", text: t("worker.send_feedback") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const note = form.note.value.trim();
    const photo = form.photo.files[0];
    if (!note && !photo) { showFieldError(form, "note", t("worker.feedback_empty")); return; }
    if (photo && photo.type && !photo.type.startsWith("image/")) {
      showFieldError(form, "photo", t("worker.not_image")); return;
    }
    const body = new FormData();
    if (note) body.append("note", note);
    if (photo) body.append("photo", photo, photo.name);
    try {
      await request("POST", paths.caseFeedback(item.case_id), { form: body });
      form.reset();
      toast(t("worker.feedback_sent"), "ok");
    } catch (exc) {
      // The note stays as typed; only the message is added next to the field the hub refused.
      showFieldError(form, exc.status === 415 || exc.status === 413 || photo ? "photo" : "note", exc.message);
    }
  });
  return form;
}

function taskCard(item) {
  // The field actions the case allows now (accept a new task, then handle it); the hub decides which.
  const buttons = el("div", { class: "buttons" }, item.allowed_actions.filter((a) => meta().field_actions.includes(a))
    .map((action) => el("button", { type: "button", class: "primary", "data-action": action, text: t(`action.${action}`),
      onclick: () => act(item, action) })));
  return el("li", { class: `task prio-border-${item.priority}`, "data-case": item.case_id, "data-state": item.state,
    "data-priority": item.priority },
    el("h2", {}, priorityBadge(item.priority), `#${item.case_id} ${item.title}`),
    el("p", {}, stateBadge(item.state), " ", countdown(item)),
    el("p", { class: "hint", text: `${t(`type.${item.alert_type}`)} · ${formatTime(item.created_at)}` }),
    navigateLink(item), buttons,
    item.allowed_actions.includes("accept") ? null : feedbackForm(item)); // feedback once the task is accepted
}

// Re-render keeps open forms: cards whose case did not change are reused as they are.
function render() {
  const list = document.getElementById("tasks");
  const shown = [...tasks.values()].filter((c) => isTask(c) && c.assignee_id === me.userId).sort(byUrgency);
  const existing = new Map([...list.children].map((li) => [li.dataset.case, li]));
  list.replaceChildren(...shown.map((item) => {
    const old = existing.get(String(item.case_id));
    return old && old.dataset.state === item.state ? old : taskCard(item);
  }));
  document.getElementById("task-count").textContent = t("worker.count", { n: shown.length });
}

function notifyNew(item) {
  const text = t("worker.new_task", { id: item.case_id, title: item.title });
  toast(text);
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("gridwatch", { body: text, tag: `case-${item.case_id}` });
  }
}

function onFeed(kind, data) {
  if (!data || data.case_id === undefined) return;
  const wasMine = tasks.has(data.case_id) && tasks.get(data.case_id).assignee_id === me.userId
    && isTask(tasks.get(data.case_id));
  tasks.set(data.case_id, data);
  const isMine = data.assignee_id === me.userId && data.state === "dispatched";
  if (isMine && !wasMine) notifyNew(data);
  render();
}

function permissionButton() {
  const button = document.getElementById("notify-permission");
  if (!("Notification" in window) || Notification.permission !== "default") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = true;
  });
}

async function main() {
  me = await startConsole("worker");
  if (!me) return;
  for (const item of await get(paths.tasks)) tasks.set(item.case_id, item);
  render();
  permissionButton();
  document.addEventListener("gw:language", () => { document.getElementById("tasks").replaceChildren(); render(); });
  window.setInterval(() => document.querySelectorAll(".countdown[data-due]").forEach(updateCountdown), 1000);
  new LiveFeed(paths.stream, onFeed).start();
  document.body.dataset.ready = "true";
}

main();

// Small DOM helpers: element builder, toasts, the connection banner and field-level error messages.
import { t } from "./i18n.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function toast(message, kind = "info") {
  let box = document.getElementById("toasts");
  if (!box) {
    box = el("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = el("div", { class: `toast toast-${kind}`, text: message });
  box.append(item);
  window.setTimeout(() => item.remove(), 6000);
}

export function setConnectionBanner(lost) {
  const banner = document.getElementById("connection-banner");
  if (banner) banner.hidden = !lost;
}

// Field errors: every input sits in a .field with an <p class="field-error"> right after it. The form keeps
// what was typed; we only add messages and aria-invalid, never reset values.
export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  const general = form.querySelector(".form-error");
  if (general) general.textContent = "";
}

export function showFieldError(form, name, message) {
  const input = form.querySelector(`[name="${name}"]`);
  const slot = form.querySelector(`.field-error[data-for="${name}"]`);
  if (!slot) return false;
  // A list (zones, rules) has a message slot but no single input to mark.
  if (input) input.setAttribute("aria-invalid", "true");
  slot.textContent = message;
  return true;
}

export function showFormError(form, message) {
  const general = form.querySelector(".form-error");
  if (general) general.textContent = message;
}

// Client-side checks from the inputs' own constraints (required, min, max, pattern), in the user's language.
export function checkInputs(form) {
  clearErrors(form);
  let ok = true;
  form.querySelectorAll("input, select, textarea").forEach((input) => {
    if (!input.name || input.disabled || input.validity.valid) return;
    ok = false;
    let message = t("error.invalid");
    if (input.validity.valueMissing) message = t("error.required");
    else if (input.validity.rangeUnderflow) message = t("error.min", { min: input.min });
    else if (input.validity.rangeOverflow) message = t("error.max", { max: input.max });
    else if (input.validity.patternMismatch) message = t(input.dataset.patternHint || "error.pattern");
    else if (input.validity.typeMismatch || input.validity.badInput) message = t("error.type");
    showFieldError(form, input.name, message);
  });
  const first = form.querySelector("[aria-invalid]");
  if (first) first.focus();
  return ok;
}

export function priorityBadge(priority) {
  return el("span", { class: `badge prio-${priority}`, text: t(`priority.${priority}`) });
}

export function stateBadge(state) {
  return el("span", { class: "badge state", text: t(`state.${state}`) });
}

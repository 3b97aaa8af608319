// Message catalogue (en, zh): picks the language, fills [data-i18n] elements, formats times locally.
const SUPPORTED = ["en", "zh"];
let messages = {};
let lang = "en";

export function pickLanguage() {
  const saved = localStorage.getItem("gw.lang");
  if (SUPPORTED.includes(saved)) return saved;
  const wanted = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return wanted.toLowerCase().startsWith("zh") ? "zh" : "en";
}

export function currentLanguage() {
  return lang;
}

export async function loadLanguage(code) {
  const response = await fetch(`/ui/static/i18n/${code}.json`);
  messages = await response.json();
  lang = code;
  localStorage.setItem("gw.lang", code);
  document.documentElement.lang = code === "zh" ? "zh-CN" : "en";
  applyTo(document);
  document.dispatchEvent(new CustomEvent("gw:language", { detail: code }));
}

export function t(key, params = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function applyTo(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  });
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
}

function locale() {
  return lang === "zh" ? "zh-CN" : (navigator.language || "en");
}

// Times are shown in the browser's own time zone (Intl picks it up by default).
export function formatTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "medium" }).format(new Date(iso));
}

export function formatDuration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let rest = Math.abs(Math.round(seconds));
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${sign}${h}:${pad(m)}:${pad(s)}` : `${sign}${m}:${pad(s)}`;
}

export function bindLanguageSwitch(select) {
  select.value = lang;
  select.addEventListener("change", () => loadLanguage(select.value));
}

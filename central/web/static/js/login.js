// Sign-in page: get a token, then open the console that belongs to the user's role.
import { login } from "./api.js";
import { bindLanguageSwitch, loadLanguage, pickLanguage, t } from "./i18n.js";
import { loadMeta } from "./meta.js";
import { current, homeOf, saveToken } from "./session.js";
import { checkInputs, showFormError } from "./ui.js";

async function signIn(form) {
  if (!checkInputs(form)) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const session = saveToken(await login(form.username.value.trim(), form.password.value));
    const home = homeOf(session.role, (await loadMeta()).consoles);
    if (!home) {
      showFormError(form, t("login.no_console", { role: session.role }));
      return;
    }
    window.location.assign(`/ui/${home}`);
  } catch (exc) {
    showFormError(form, exc.status === 401 || exc.status === 400 ? t("login.failed") : exc.message);
    form.password.focus();
  } finally {
    button.disabled = false;
  }
}

async function main() {
  const form = document.getElementById("login-form");
  // Bound before anything is fetched: a form sent while the page still loads goes through signIn, never
  // through the browser's own submit (a GET with the password in the address).
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(form);
  });
  const [{ consoles }] = await Promise.all([loadMeta(), loadLanguage(pickLanguage())]);
  bindLanguageSwitch(document.getElementById("lang"));
  const reason = new URLSearchParams(window.location.search).get("reason");
  const notice = document.getElementById("login-notice");
  if (reason) {
    notice.dataset.i18n = `login.reason.${reason}`;
    notice.textContent = t(`login.reason.${reason}`);
    notice.hidden = false;
  } else if (current()) {
    window.location.assign(`/ui/${homeOf(current().role, consoles) || "login"}`);
  }
}

main();

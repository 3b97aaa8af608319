// What every console page does first: language, session guard, header (user, language, sign out).
import { bindLanguageSwitch, loadLanguage, pickLanguage } from "./i18n.js";
import * as session from "./session.js";

export async function startConsole(name) {
  await loadLanguage(pickLanguage());
  const who = session.require(name);
  if (!who) return null;
  bindLanguageSwitch(document.getElementById("lang"));
  document.getElementById("who").textContent = `${who.username} (${who.role})`;
  document.getElementById("logout").addEventListener("click", () => session.signOut());
  return who;
}

// What every console page does first: the hub's lists, language, session guard, header (user, language, sign out).
import { bindLanguageSwitch, loadLanguage, pickLanguage, t } from "./i18n.js";
import { loadMeta } from "./meta.js";
import * as session from "./session.js";

export async function startConsole(name) {
  const [{ consoles }] = await Promise.all([loadMeta(), loadLanguage(pickLanguage())]);
  const who = session.require(name, consoles);
  if (!who) return null;
  bindLanguageSwitch(document.getElementById("lang"));
  const header = () => { document.getElementById("who").textContent = `${who.username} (${t(`role.${who.role}`)})`; };
  header();
  document.addEventListener("gw:language", header);
  document.getElementById("logout").addEventListener("click", () => session.signOut());
  return who;
}

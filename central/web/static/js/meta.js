// The hub's closed lists (GET /api/v1/meta: alert types, states, roles, rule kinds ...), fetched once per page.
// The consoles never keep their own copy: a list changes in the hub's Python and every page follows.
import { API } from "./api.js";

let loaded = null;
let loading = null;

export function loadMeta() {
  if (!loading) {
    loading = fetch(`${API}/meta`).then(async (response) => {
      if (!response.ok) throw new Error(`${API}/meta: HTTP ${response.status}`);
      loaded = await response.json();
      return loaded;
    });
    loading.catch(() => { loading = null; }); // a failed load may be tried again
  }
  return loading;
}

// The lists, once loadMeta() resolved (every page awaits it before drawing anything).
export function meta() {
  if (!loaded) throw new Error("meta() before loadMeta() resolved");
  return loaded;
}

// The signed-in session: bearer token, role and expiry kept in sessionStorage; expiry sends you to login.
const KEY = "gw.session";

function decodeClaims(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const json = decodeURIComponent(
    atob(part).split("").map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
  );
  return JSON.parse(json);
}

export function saveToken(token) {
  const claims = decodeClaims(token);
  const session = {
    token,
    username: claims.name,
    role: claims.role,
    userId: Number(claims.sub),
    expiresAt: claims.exp * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function current() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const session = JSON.parse(raw);
  return session.expiresAt > Date.now() ? session : null;
}

export function token() {
  const session = current();
  return session ? session.token : null;
}

export function end(reason) {
  sessionStorage.removeItem(KEY);
  const query = reason ? `?reason=${encodeURIComponent(reason)}` : "";
  window.location.assign(`/ui/login${query}`);
}

// Sign out: the hub revokes the token (so a copy of it stops working too), then back to login. The page
// leaves even when the hub cannot be reached: the token is dropped here either way.
export async function signOut() {
  const bearer = token();
  if (bearer) {
    try {
      await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${bearer}` } });
    } catch {
      // offline: the token still expires on its own
    }
  }
  end("signed_out");
}

// The console a role lands on after sign-in (``consoles``: the hub's role -> pages, home first); none: null.
export function homeOf(role, consoles) {
  return (consoles[role] || [])[0] || null;
}

// Each console calls this first: no session -> login; a role that belongs elsewhere -> its own console.
export function require(consoleName, consoles) {
  const session = current();
  if (!session) {
    end(sessionStorage.getItem(KEY) ? "expired" : "");
    return null;
  }
  if (!(consoles[session.role] || []).includes(consoleName)) {
    window.location.assign(`/ui/${homeOf(session.role, consoles) || "login"}`);
    return null;
  }
  // setTimeout overflows past 2^31 ms (~24 days): clamp, a page is never open that long.
  window.setTimeout(() => end("expired"), Math.min(Math.max(session.expiresAt - Date.now(), 0), 2 ** 31 - 1));
  return session;
}

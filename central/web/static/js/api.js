// The hub's HTTP API as seen by the consoles: one place for every path, bearer token, errors by field.
import * as session from "./session.js";
import { setConnectionBanner } from "./ui.js";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, message, fields) {
    super(message);
    this.status = status;
    this.fields = fields; // {"zones.0.polygon": "message", ...} from a 422 with a list of errors
  }
}

function errorOf(status, body) {
  const detail = body && body.detail !== undefined ? body.detail : body;
  if (Array.isArray(detail)) {
    const fields = {};
    for (const item of detail) {
      const loc = (item.loc || []).filter((p) => p !== "body" && p !== "query" && p !== "path").join(".");
      fields[loc || "_"] = item.msg;
    }
    return new ApiError(status, detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; "), fields);
  }
  return new ApiError(status, typeof detail === "string" ? detail : `HTTP ${status}`, {});
}

export async function request(method, path, { json, form, query } = {}) {
  const headers = {};
  const bearer = session.token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // FormData or URLSearchParams: the browser sets the content type
  }
  const url = new URL(path.startsWith("/") ? path : `${API}/${path}`, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (exc) {
    setConnectionBanner(true);
    throw new ApiError(0, "network", {});
  }
  setConnectionBanner(false);
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  if (response.status === 401) {
    // Stale, forged or missing token: back to sign-in. The page is going away, so the caller's promise
    // is left pending rather than failing into half-drawn error messages.
    session.end("expired");
    return new Promise(() => {});
  }
  if (!response.ok) throw errorOf(response.status, parsed);
  return parsed;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json) => request("POST", path, { json });
export const put = (path, json) => request("PUT", path, { json });
export const patch = (path, json) => request("PATCH", path, { json });

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch(`${API}/auth/token`, { method: "POST", body: form });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw errorOf(response.status, body);
  return body.access_token;
}

// Images need the bearer token too, so they are fetched and shown from a blob URL.
async function blobUrl(path, what) {
  const response = await fetch(`${API}/${path}`, {
    headers: { Authorization: `Bearer ${session.token()}` },
  });
  if (!response.ok) throw new ApiError(response.status, `${what}: HTTP ${response.status}`, {});
  return URL.createObjectURL(await response.blob());
}

export function imageUrl(evidenceId) {
  return blobUrl(`evidence/${evidenceId}`, `evidence ${evidenceId}`);
}

// The newest snapshot a camera sent (operators and installers; 404 until it has sent one).
export function cameraSnapshotUrl(cameraId) {
  return blobUrl(`cameras/${encodeURIComponent(cameraId)}/snapshot`, `snapshot of ${cameraId}`);
}

// Every hub path the consoles use, relative to /api/v1 unless absolute.
export const paths = {
  cases: "cases",
  tasks: "tasks",
  case: (id) => `cases/${id}`,
  caseEvents: (id) => `cases/${id}/events`,
  alerts: "alerts",
  caseAction: (id, action) => `cases/${id}/${action}`,
  caseReassign: (id) => `cases/${id}/reassign`,
  caseFeedback: (id) => `cases/${id}/feedback`,
  areas: "areas",
  users: "users",
  gateways: "gateways",
  gateway: (id) => `gateways/${id}`,
  cameras: "cameras",
  camera: (id) => `cameras/${id}`,
  sensors: "sensors",
  sensor: (id) => `sensors/${id}`,
  sensorProfiles: "sensor-profiles",
  cameraHealth: "health/cameras",
  gatewayConfig: (id) => `gateways/${id}/config`,
  stream: "/ui/api/stream",
  checkCamera: "/ui/api/camera-config/check",
};

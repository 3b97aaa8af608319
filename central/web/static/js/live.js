// The hub's live feed over EventSource: banner while disconnected, resume from the last event id.
import * as session from "./session.js";
import { meta } from "./meta.js";
import { setConnectionBanner } from "./ui.js";

export class LiveFeed {
  constructor(path, onEvent) {
    this.path = path;
    this.onEvent = onEvent;
    this.lastEventId = null;
    this.source = null;
    this.retryMs = 1000;
    this.filters = {};
  }

  start(filters = {}) {
    this.filters = filters;
    this.stopped = false;
    window.addEventListener("pagehide", () => this.stop());
    this.connect();
  }

  url() {
    const url = new URL(this.path, window.location.origin);
    url.searchParams.set("access_token", session.token() || "");
    for (const [key, value] of Object.entries(this.filters)) if (value) url.searchParams.set(key, value);
    // EventSource sends Last-Event-ID itself when it reconnects; after we close and reopen it ourselves
    // (an HTTP error ends its own retries) the id goes in the query instead.
    if (this.lastEventId) url.searchParams.set("after_id", this.lastEventId);
    return url;
  }

  connect() {
    if (this.source) this.source.close();
    const source = new EventSource(this.url());
    this.source = source;
    source.onopen = () => {
      this.retryMs = 1000;
      setConnectionBanner(false);
      document.body.dataset.live = "open";
    };
    source.onerror = () => {
      if (this.stopped) return;
      setConnectionBanner(true);
      document.body.dataset.live = "lost";
      // Closed for good (an HTTP error, e.g. the hub restarting): reopen it ourselves with backoff. An expired
      // session is not handled here: the session timer signs the user out.
      if (source.readyState === EventSource.CLOSED && !this.stopped) {
        window.setTimeout(() => { if (this.source === source) this.connect(); }, this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 15000);
      }
    };
    // EventSource delivers a named event only to a listener for that name: one per kind the hub serves.
    for (const kind of ["message", "hello", ...meta().feed_kinds]) {
      source.addEventListener(kind, (event) => this.deliver(kind, event));
    }
  }

  deliver(kind, event) {
    if (event.lastEventId) this.lastEventId = event.lastEventId;
    let data = null;
    try { data = JSON.parse(event.data); } catch { return; }
    const name = kind === "message" && data && data.kind ? data.kind : kind;
    this.onEvent(name, data, event.lastEventId);
  }

  stop() {
    this.stopped = true;
    if (this.source) this.source.close();
    this.source = null;
  }
}

"""Camera availability alerts: a camera offline longer than its debounce raises ``camera_offline`` (START),
and its return ends the episode (END). Short blips below the debounce raise nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from kernel.contracts.messages import (
    AlertEvent,
    AlertType,
    Availability,
    HealthEventDetail,
    Phase,
    Severity,
    SourceKind,
    new_event_id,
)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class OfflineWatch:
    """Tracks one camera's availability; ``state_changed`` on every change, ``poll`` on a timer."""

    def __init__(self, gateway_id: str, camera_id: str, debounce_s: float, *, title: str | None = None,
                 severity: Severity = Severity.MEDIUM) -> None:
        self.gateway_id = gateway_id
        self.camera_id = camera_id
        self.debounce_s = debounce_s
        self.title = title or camera_id
        self.severity = severity
        self._lock = threading.Lock()
        self._offline_since_ts: float | None = None
        self._last_seen_ts: float | None = None
        self._episode_id: str | None = None
        self._reason = ""

    def state_changed(self, state: Availability, now_ts: float, reason: str = "") -> AlertEvent | None:
        """Record a change; returns the END alert when a camera with an open episode comes back."""
        with self._lock:
            if state is Availability.ONLINE:
                self._offline_since_ts = None
                self._last_seen_ts = now_ts
                if self._episode_id is None:
                    return None
                episode, self._episode_id = self._episode_id, None
                return self._alert(Phase.END, episode, now_ts, f"Camera {self.title} is back online")
            if self._offline_since_ts is None:
                self._offline_since_ts = now_ts
                self._reason = reason
            return None

    def poll(self, now_ts: float) -> AlertEvent | None:
        """The START alert once the camera has been offline for ``debounce_s``, else None."""
        with self._lock:
            since = self._offline_since_ts
            if since is None or self._episode_id is not None or now_ts - since < self.debounce_s:
                return None
            self._episode_id = new_event_id()
            title = f"Camera {self.title} offline for {now_ts - since:.0f} s"
            if self._reason:
                title = f"{title}: {self._reason}"
            return self._alert(Phase.START, self._episode_id, now_ts, title[:200])

    def _alert(self, phase: Phase, episode_id: str, now_ts: float, title: str) -> AlertEvent:
        event_id = episode_id if phase is Phase.START else new_event_id()
        return AlertEvent(
            event_id=event_id, episode_id=episode_id, phase=phase, gateway_id=self.gateway_id,
            source_kind=SourceKind.CAMERA, source_id=self.camera_id, alert_type=AlertType.CAMERA_OFFLINE,
            severity=self.severity, observed_ts=_utc(now_ts), emitted_ts=_utc(now_ts), title=title,
            detail=HealthEventDetail(
                last_seen_ts=_utc(self._last_seen_ts) if self._last_seen_ts is not None else None,
                parent_gateway_id=self.gateway_id,
            ),
        )

"""Camera offline debounce stories and the Prometheus view of camera stats."""

from __future__ import annotations

import pytest

from edge.camera_health import OfflineWatch
from edge.metrics import EdgeMetrics
from edge.stats import CameraStatsCollector
from kernel.contracts.messages import AlertType, Availability, Phase

ON, OFF = Availability.ONLINE, Availability.OFFLINE


@pytest.mark.parametrize(
    ("story", "expected"),
    [
        # (t, state or "poll") ... -> phases emitted
        ([(0, ON), (10, OFF), (15, "poll"), (20, ON), (50, "poll")], []),            # a 10 s blip: nothing
        ([(0, ON), (10, OFF), (39, "poll"), (40, "poll"), (41, "poll")], ["start"]),  # once, at 30 s
        ([(0, ON), (10, OFF), (45, "poll"), (60, ON), (61, "poll")], ["start", "end"]),
        ([(0, OFF), (30, "poll"), (31, OFF), (40, "poll")], ["start"]),               # never seen online
    ],
)
def test_offline_debounce_story(story: list[tuple[float, object]], expected: list[str]) -> None:
    watch = OfflineWatch("gw-1", "cam-1", debounce_s=30.0)
    alerts = []
    for t, what in story:
        alert = watch.poll(t) if what == "poll" else watch.state_changed(what, t, "stream lost")  # type: ignore[arg-type]
        if alert is not None:
            alerts.append(alert)
    assert [a.phase.value for a in alerts] == expected
    assert all(a.alert_type is AlertType.CAMERA_OFFLINE and a.source_id == "cam-1" for a in alerts)
    if len(alerts) == 2:
        assert alerts[1].episode_id == alerts[0].event_id and alerts[1].phase is Phase.END


def test_metrics_expose_camera_stats() -> None:
    stats = CameraStatsCollector("gw-1", "cam-1")
    stats.count("captured", 10)
    stats.count("skipped_motion", 4)
    stats.stage("inference", 12.0)
    stats.frame_age(80.0)
    metrics = EdgeMetrics("gw-1")
    metrics.observe(stats.snapshot())
    metrics.camera_state("cam-1", ON)
    text = metrics.text()
    assert 'gridwatch_edge_frames_total{camera="cam-1",outcome="skipped_motion"} 4.0' in text
    assert 'gridwatch_edge_stage_latency_ms{camera="cam-1",quantile="0.95",stage="inference"} 12.0' in text
    assert 'gridwatch_edge_frame_age_ms{camera="cam-1",quantile="0.5"} 80.0' in text
    assert 'gridwatch_edge_camera_online{camera="cam-1"} 1.0' in text

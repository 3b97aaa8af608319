"""Prometheus figures of one hub instance, on its own registry (so tests can build many hubs)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingested = Counter(
            "gridwatch_hub_events_ingested",
            "alerts stored, by outcome",
            ["outcome", "transport"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "gridwatch_hub_events_rejected",
            "alerts refused, by reason",
            ["reason", "transport"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "gridwatch_hub_dead_letters",
            "messages acknowledged without processing and kept in the dead-letter table, by reason",
            ["reason", "transport"],
            registry=self.registry,
        )
        self.ingest_failing_s = Gauge(
            "gridwatch_hub_ingest_failing_seconds",
            "how long the MQTT ingest has been failing to write (0 while it writes)",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "gridwatch_hub_ingest_batch_size",
            "events per ingest transaction",
            buckets=(1, 5, 20, 50, 100, 250, 500, 1000),
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "gridwatch_hub_ingest_queue", "MQTT messages waiting to be written", registry=self.registry
        )
        self.escalations = Counter(
            "gridwatch_hub_escalations", "cases escalated by the SLA sweep", registry=self.registry
        )
        self.http_requests = Counter(
            "gridwatch_hub_http_requests", "HTTP requests by status class", ["status"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

"""Hub ingest benchmark: alerts/s through MQTT into cases (SQLite and PostgreSQL, rows counted afterwards),
and publish -> case created and assigned -> visible on the SSE feed latency at a fixed rate.

    .venv/bin/python benchmarks/bench_ingest.py                       # both databases, writes the report
    .venv/bin/python benchmarks/bench_ingest.py --databases sqlite --events 5000 --no-report
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.launcher import BrokerSettings, start_broker  # noqa: E402
from central.app import create_app  # noqa: E402
from central.db.models import Alert, Area, Camera, Case  # noqa: E402
from central.hub import Hub  # noqa: E402
from central.schemas import AreaCreate, GatewayCreate, ShiftCreate, UserCreate  # noqa: E402
from central.settings import HubSettings, IngestSettings  # noqa: E402
from central.states import AreaLevel, Role  # noqa: E402
from kernel.contracts import topics  # noqa: E402
from kernel.contracts.messages import (  # noqa: E402
    AlertEvent,
    AlertType,
    CameraEventDetail,
    Phase,
    Severity,
    SourceKind,
    encode,
    new_event_id,
    utc_now,
)
from kernel.mqtt import MqttClient  # noqa: E402
from kernel.settings import MqttSettings  # noqa: E402

GATEWAY = "gw-bench"
REPORT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "ingest.md"


def make_event(source: int) -> AlertEvent:
    event_id = new_event_id()
    now = utc_now()
    return AlertEvent(
        event_id=event_id,
        episode_id=event_id,
        phase=Phase.START,
        gateway_id=GATEWAY,
        source_kind=SourceKind.CAMERA,
        source_id=f"cam-{source}",
        alert_type=AlertType.INTRUSION,
        severity=Severity.HIGH,
        observed_ts=now,
        emitted_ts=now,
        title="person in zone",
        detail=CameraEventDetail(rule_id="r1", zone_id="z1", frame_ts=now),
    )


def publish_process(
    mqtt: MqttSettings, sources: list[int], rate: float | None, done: Any, ingested_count: Any, sent_at: Any
) -> None:
    """Runs in its own process, like a gateway: publish one alert per source id, paced at ``rate``/s or as
    fast as the hub keeps up (backlog under 5,000, below the broker's 10,000-message session queue)."""
    publisher = MqttClient(mqtt)
    publisher.connect()
    topic = topics.events(GATEWAY, "camera")
    payloads = [(ev.event_id, encode(ev)) for ev in (make_event(source) for source in sources)]
    start = time.monotonic()
    times = {}
    for i, (event_id, payload) in enumerate(payloads):
        if rate is not None:
            target = start + i / rate
            while (now := time.monotonic()) < target:
                time.sleep(min(0.001, target - now))
        elif i % 200 == 0:
            while i - ingested_count.value > 5000:
                time.sleep(0.002)
        times[event_id] = time.monotonic()
        # Block on every 500th and the last, so the client's queue stays short and nothing is left
        # unsent when it disconnects.
        last = i == len(payloads) - 1
        if not publisher.publish(topic, payload, qos=1, wait_s=60 if last or i % 500 == 499 else None):
            raise RuntimeError(f"publish {i} failed")
    publisher.close()
    sent_at.put(times)
    done.set()


def mosquitto_pub_process(
    mqtt: MqttSettings, sources: list[int], rate: float | None, done: Any, ingested_count: Any, sent_at: Any
) -> None:
    """The throughput publisher by default: Mosquitto's C client (``mosquitto_pub -l``, one message per stdin
    line, up to 1,000 QoS 1 messages in flight) fed from this process as fast as the hub keeps up. Gateways
    publish from their own machines; here the load generator shares the hub's 2 cores, and paho costs about
    three times the CPU per message of the C client, so the pure-Python publisher (``--publisher paho``)
    measures the load generator as much as the hub."""
    assert rate is None, "the paced latency run publishes with paho (it times each publish call)"
    command = ["mosquitto_pub", "-h", mqtt.host, "-p", str(mqtt.port), "-t", topics.events(GATEWAY, "camera")]
    command += ["-q", "1", "-M", "1000", "-l", "-i", f"bench-pub-{time.time_ns()}"]
    if mqtt.username is not None:
        command += ["-u", mqtt.username]
    if mqtt.password is not None:
        command += ["-P", mqtt.password.get_secret_value()]
    lines = [encode(make_event(source)) + b"\n" for source in sources]
    assert all(line.count(b"\n") == 1 for line in lines), "an encoded event spans lines"
    process = subprocess.Popen(command, stdin=subprocess.PIPE)
    assert process.stdin is not None
    for start in range(0, len(lines), 200):
        while start - ingested_count.value > 5000:
            time.sleep(0.002)
        process.stdin.write(b"".join(lines[start : start + 200]))
        process.stdin.flush()
    process.stdin.close()
    if process.wait(timeout=120) != 0:
        raise RuntimeError(f"mosquitto_pub exited with {process.returncode}")
    sent_at.put({})
    done.set()


PUBLISHERS = {"mosquitto_pub": mosquitto_pub_process, "paho": publish_process}
PUBLISHER = {"name": "mosquitto_pub" if shutil.which("mosquitto_pub") else "paho"}  # --publisher sets it


def register_cameras(hub: Hub, sources: set[int]) -> None:
    """Bulk-register the benchmark's cameras in grid g1 (installers would do this through the API)."""
    with hub.db.session() as session:
        area_id = session.scalar(select(Area.id).where(Area.code == "g1"))
        session.add_all(
            Camera(
                camera_id=f"cam-{i}",
                gateway_id=GATEWAY,
                area_id=area_id,
                name="",
                retired=False,
                state="online",
            )
            for i in sorted(sources)
        )


BATCH_MAX = IngestSettings().batch_max  # --batch-max sets it
WORKERS = 1  # --ingest-workers sets it (PostgreSQL only)
# A group per run: the broker keeps a departed persistent member's share of a group queued for it, so a
# group reused by the next run would strand part of its alerts with the last run's (gone) hub.
GROUP = {"name": "hub"}


def build_hub(data_dir: Path, database_url: str | None, mqtt: MqttSettings) -> Hub:
    settings = HubSettings(
        data_dir=data_dir,
        database_url=database_url,
        mqtt=mqtt,
        admin_password="bench-admin",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        ingest=IngestSettings(
            auto_register=True,
            client_id=f"hub-bench-{time.time_ns()}",
            batch_max=BATCH_MAX,
            shared_group=GROUP["name"] if WORKERS > 1 and database_url else None,
        ),
    )
    hub = Hub(settings)
    people = hub.people
    people.create_area(AreaCreate(level=AreaLevel.DISTRICT, code="d1", name="D"))
    people.create_area(AreaCreate(level=AreaLevel.STREET, code="s1", name="S", parent_code="d1"))
    people.create_area(AreaCreate(level=AreaLevel.COMMUNITY, code="c1", name="C", parent_code="s1"))
    people.create_area(AreaCreate(level=AreaLevel.GRID, code="g1", name="G", parent_code="c1"))
    now = hub.clock.now()
    for i in range(5):
        user = people.create_user(
            UserCreate(username=f"w{i}", password="password-1", role=Role.GRID_WORKER, area_code="g1")
        )
        people.add_shift(user.id, ShiftCreate(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8)))
    hub.registry.create_gateway(GatewayCreate(gateway_id=GATEWAY, area_code="g1"))
    return hub


def mean_batch(hub: Hub) -> float:
    """Mean events per ingest transaction, from the hub's own histogram."""
    values = {
        sample.name: sample.value
        for metric in hub.metrics.batch_size.collect()
        for sample in metric.samples
        if sample.name.endswith(("_sum", "_count"))
    }
    count = next((v for k, v in values.items() if k.endswith("_count")), 0.0)
    total = next((v for k, v in values.items() if k.endswith("_sum")), 0.0)
    return round(total / count, 1) if count else 0.0


def ingested(hub: Hub) -> float:
    total = 0.0
    for metric in hub.metrics.ingested.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return total


def ingest_worker(data_dir: str, url: str, mqtt: MqttSettings, group: str, n: int, ready: Any, stop: Any) -> None:
    """Runs in its own process: what `gridwatch hub --ingest-only` runs, one more member of group 'hub'."""
    settings = HubSettings(
        data_dir=Path(data_dir),
        database_url=url,
        mqtt=mqtt,
        http_enabled=False,
        admin_password="bench-admin",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        ingest=IngestSettings(
            auto_register=True, client_id=f"hub-bench-worker-{n}-{time.time_ns()}", batch_max=BATCH_MAX,
            shared_group=group,
        ),
    )
    hub = Hub(settings)
    hub.start()
    assert hub.mqtt is not None and hub.mqtt.client.wait_connected(10)
    ready.set()
    stop.wait()
    hub.stop()


def stored_alerts(hub: Hub) -> int:
    with hub.db.session() as session:
        return int(session.scalar(select(func.count(Alert.id))) or 0)


def throughput(database: str, url: str | None, broker_mqtt: MqttSettings, events: int, sources: int) -> dict:
    """Publish ``events`` alerts over ``sources`` registered cameras from another process, as fast as the
    hub keeps up; time until the hub has stored every one, then count the rows."""
    GROUP["name"] = f"hub-{time.time_ns()}"
    with tempfile.TemporaryDirectory() as tmp:
        hub = build_hub(Path(tmp), url, broker_mqtt)
        register_cameras(hub, set(range(sources)))
        hub.start()
        assert hub.mqtt is not None and hub.mqtt.client.wait_connected(10)
        ctx = multiprocessing.get_context("spawn")
        workers, stop = [], ctx.Event()
        if url and WORKERS > 1:
            for n in range(1, WORKERS):
                ready = ctx.Event()
                worker = ctx.Process(
                    target=ingest_worker,
                    args=(str(Path(tmp) / f"worker-{n}"), url, broker_mqtt, GROUP["name"], n, ready, stop),
                )
                worker.start()
                assert ready.wait(60), "ingest worker did not start"
                workers.append(worker)
        stored = (lambda: stored_alerts(hub)) if workers else (lambda: ingested(hub))
        done, count, times = ctx.Event(), ctx.Value("q", 0), ctx.Queue()
        process = ctx.Process(
            target=PUBLISHERS[PUBLISHER["name"]],
            args=(broker_mqtt, [i % sources for i in range(events)], None, done, count, times),
        )
        process.start()
        started = None
        progress_at, last = time.monotonic(), -1
        while (now_stored := stored()) < events:
            count.value = int(now_stored)
            if count.value != last:
                progress_at, last = time.monotonic(), count.value
            elif time.monotonic() - progress_at > 60:
                raise RuntimeError(f"hub stored nothing for 60 s ({count.value} of {events}): see its log")
            if started is None and count.value > 0:
                started = time.perf_counter()  # from the first stored alert: excludes the child's start-up
            time.sleep(0.01)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        batch = mean_batch(hub)
        times.get(timeout=60)
        process.join(timeout=60)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        hub.stop()
        check = Hub(hub.settings.model_copy(update={"mqtt_enabled": False}))
        with check.db.session() as session:
            alerts = session.scalar(select(func.count(Alert.id)))
            cases = session.scalar(select(func.count(Case.id)))
            occurrences = session.scalar(select(func.sum(Case.occurrences)))
            assigned = session.scalar(select(func.count(Case.id)).where(Case.assignee_id.is_not(None)))
        check.db.dispose()
    return {
        "database": database if not workers else f"{database}, {WORKERS} ingest processes",
        "events": events,
        "sources": sources,
        "seconds": round(elapsed, 2),
        "alerts_per_s": round(events / elapsed),
        "mean_batch": batch,
        "alerts_rows": alerts,
        "cases_rows": cases,
        "occurrences": occurrences,
        "assigned": assigned,
    }


def latency(database: str, url: str | None, broker_mqtt: MqttSettings, rate: int, seconds: float, port: int) -> dict:
    """Publish new-case alerts at ``rate``/s; time each until its case.dispatched shows on the SSE feed."""
    with tempfile.TemporaryDirectory() as tmp:
        hub = build_hub(Path(tmp), url, broker_mqtt)
        total = int(rate * seconds)
        sources = [100_000 + i for i in range(total)]  # every alert opens and assigns a new case
        register_cameras(hub, set(sources))
        app = create_app(hub.settings, hub=hub)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        assert hub.mqtt is not None and hub.mqtt.client.wait_connected(10)
        token = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data={"username": "admin", "password": "bench-admin"},
        ).json()["access_token"]
        case_event: dict[int, str] = {}
        seen: dict[str, float] = {}

        def listen() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.stream(
                "GET",
                f"http://127.0.0.1:{port}/api/v1/stream",
                headers=headers,
                params={"after_id": 0, "max_events": 2 * total},
                timeout=None,
            ) as response:
                kind = None
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data = json.loads(line[5:])
                        if kind == "case.created":
                            case_event[data["case_id"]] = data["event_id"]
                        elif kind == "case.dispatched" and data["case_id"] in case_event:
                            seen[case_event[data["case_id"]]] = time.monotonic()
                            if len(seen) >= total:
                                return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(0.5)
        ctx = multiprocessing.get_context("spawn")
        done, count, times = ctx.Event(), ctx.Value("q", 0), ctx.Queue()
        process = ctx.Process(target=publish_process, args=(broker_mqtt, sources, rate, done, count, times))
        process.start()
        sent_at = times.get(timeout=seconds + 120)
        process.join(timeout=60)
        listener.join(timeout=60)
        server.should_exit = True
        thread.join(timeout=30)
        latencies_ms = sorted((seen[e] - sent_at[e]) * 1000 for e in seen if e in sent_at)
    quantiles = statistics.quantiles(latencies_ms, n=100) if len(latencies_ms) > 1 else [float("nan")] * 99
    return {
        "database": database,
        "rate_per_s": rate,
        "events": total,
        "seen": len(latencies_ms),
        "p50_ms": round(quantiles[49], 1),
        "p95_ms": round(quantiles[94], 1),
        "p99_ms": round(quantiles[98], 1),
        "max_ms": round(latencies_ms[-1], 1) if latencies_ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sources", type=int, default=2_000, help="distinct cameras (= cases opened)")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--latency-seconds", type=float, default=10)
    parser.add_argument("--kinds", default="throughput,latency", help="which measurements to run")
    parser.add_argument("--batch-max", type=int, default=IngestSettings().batch_max, help="hub ingest.batch_max")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the report shows the median")
    parser.add_argument(
        "--ingest-workers",
        default="1,2",
        help="PostgreSQL throughput with each of these numbers of ingest processes (shared subscription)",
    )
    parser.add_argument(
        "--publisher",
        choices=sorted(PUBLISHERS),
        default=PUBLISHER["name"],
        help="throughput load generator: Mosquitto's C client (default when installed) or paho",
    )
    parser.add_argument(
        "--pg-durable",
        action="store_true",
        help="PostgreSQL with its default durability (fsync, synchronous_commit, full_page_writes on)",
    )
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    global BATCH_MAX, WORKERS
    BATCH_MAX = args.batch_max
    PUBLISHER["name"] = args.publisher
    if args.pg_durable:
        os.environ["GRIDWATCH_PG_DURABLE"] = "1"  # read when the throwaway cluster starts
    logging.basicConfig(level=logging.WARNING)
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory() as broker_dir:
        broker = start_broker(BrokerSettings(port=free_port(), data_dir=Path(broker_dir)))
        mqtt = MqttSettings(host=broker.host, port=broker.port)
        results = []
        try:
            for database in args.databases.split(","):
                url = None
                if database == "postgres":
                    from tests.central.pg import postgres_url

                    url = postgres_url
                for kind in args.kinds.split(","):
                    counts = [int(n) for n in args.ingest_workers.split(",")]
                    for workers in counts if kind == "throughput" and url else [1]:
                        WORKERS = workers
                        runs = []
                        for _ in range(args.repeat):
                            db_url = url() if url else None
                            if kind == "throughput":
                                row = throughput(database, db_url, mqtt, args.events, args.sources)
                            else:
                                row = latency(database, db_url, mqtt, args.rate, args.latency_seconds, free_port())
                            print(json.dumps({"kind": kind, **row}), flush=True)
                            runs.append(row)
                        results.append((kind, median_run(kind, runs)))
        finally:
            broker.stop()
    if not args.no_report:
        write_report(results, args)


def median_run(kind: str, runs: list[dict]) -> dict:
    """The run with the median headline figure (alerts/s, or p95), with every run's figure listed."""
    key = "alerts_per_s" if kind == "throughput" else "p95_ms"
    ordered = sorted(runs, key=lambda r: r[key])
    return {**ordered[(len(ordered) - 1) // 2], "runs": ", ".join(str(r[key]) for r in runs)}


def kept_history() -> list[str]:
    """The report's hand-kept '## History' section (earlier figures), carried over when it is rewritten."""
    if not REPORT.exists():
        return []
    text = REPORT.read_text()
    at = text.find("\n## History")
    return ["", *text[at + 1 :].rstrip("\n").split("\n")] if at >= 0 else []


def write_report(results: list[tuple[str, dict]], args: argparse.Namespace) -> None:
    lines = [
        "# Hub ingest benchmark",
        "",
        f"`benchmarks/bench_ingest.py` (written {utc_now():%Y-%m-%d %H:%M} UTC). "
        "Broker: the development Mosquitto from `broker.launcher`; hub in-process; 2 shared CPU cores. "
        f"Command: `.venv/bin/python benchmarks/bench_ingest.py {' '.join(sys.argv[1:])}`".rstrip() + ".",
        "",
        "## Throughput: MQTT -> alerts and cases (rows counted afterwards)",
        "",
        "| database | events | cameras (cases) | seconds | alerts/s (median) | runs (alerts/s) | mean batch "
        "| alert rows | case rows | occurrences | assigned | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    targets = {"sqlite": 2000, "postgres": 5000}
    for kind, r in results:
        if kind == "throughput":
            target = targets[r["database"].split(",")[0]]
            lines.append(
                f"| {r['database']} | {r['events']} | {r['sources']} | {r['seconds']} | {r['alerts_per_s']} "
                f"| {r['runs']} | {r['mean_batch']} | {r['alerts_rows']} | {r['cases_rows']} | {r['occurrences']} "
                f"| {r['assigned']} | "
                f">= {target}/s ({r['alerts_per_s'] / target:.2f}x) |"
            )
    lines += [
        "",
        f"## Latency: publish -> case created and assigned -> on the SSE feed, at {args.rate} alerts/s",
        "",
        "| database | events | seen | p50 ms | p95 ms (median) | runs (p95 ms) | p99 ms | max ms | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in results:
        if kind == "latency":
            lines.append(
                f"| {r['database']} | {r['events']} | {r['seen']} | {r['p50_ms']} | {r['p95_ms']} | {r['runs']} | "
                f"{r['p99_ms']} | {r['max_ms']} | p95 <= 200 ms ({r['p95_ms'] / 200:.2f}x) |"
            )
    lines += [
        "",
        "## How it was measured",
        "",
        f"- Throughput: {args.events} alerts over {args.sources} registered cameras of one gateway in grid g1 (5"
        " workers on shift), published with QoS 1 from a separate process as fast as the hub keeps up (backlog"
        " kept under 5,000: the development broker queues at most 10,000 per session) by "
        + (
            "`mosquitto_pub -l` (Mosquitto's C client, up to 1,000 messages in flight, fed event lines by the"
            " process: gateways publish from their own machines, and the C client leaves the shared cores to"
            " the hub; `--publisher paho` measures with the Python client instead)"
            if args.publisher == "mosquitto_pub"
            else "paho, the Python client (`--publisher paho`; it takes about a third of a core at these rates)"
        )
        + "; timed from the first"
        " stored alert to the last; then alert and case rows counted in the database. Every case is also"
        " dispatched to a worker (`assigned`).",
        f"- Latency: {args.rate} alerts/s for {args.latency_seconds:.0f} s, each from a new registered camera, so"
        " each one opens a case that is registered and assigned at once; measured from the publish call to the"
        " `case.dispatched` item arriving on `GET /api/v1/stream` (uvicorn in the same process).",
        "- PostgreSQL: a throwaway local cluster (`tests/central/pg.py`) "
        + (
            "with its default durability (fsync, synchronous_commit, full_page_writes on: `--pg-durable`)"
            if args.pg_durable
            else "with fsync, synchronous_commit and full_page_writes off (`--pg-durable` turns them on)"
        )
        + "; the hub, Mosquitto, PostgreSQL and the publisher share the machine's 2 cores with the other engineers'"
        " jobs, so figures move by +-20 % between runs.",
        f"- Each figure is the median of {args.repeat} runs (all runs listed). One ingest worker per hub,"
        f" `ingest.batch_max` {args.batch_max}; the broker lets at most 4000 unacknowledged messages out to it"
        " and the hub acknowledges only after the batch committed, so the next batch arrives while one is"
        " written (`mean batch`: events per transaction).",
        "- `N ingest processes`: the hub's consumer and N-1 more hub processes (`ingest_worker`, what"
        " `gridwatch hub --ingest-only` runs) in one MQTT shared-subscription group, writing the same database;"
        " deployed as `gridwatch hub --no-mqtt` (API) plus N `--ingest-only --worker-name ingest-K` workers."
        " Progress is then counted in the database (a count every 10 ms), not from the hub's own counter.",
        *kept_history(),
    ]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()

"""`gridwatch hub`: run the central hub (HTTP API + MQTT ingest), or only ingest workers."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridwatch.cli.common import fail, one_line_errors, setup_logging

if TYPE_CHECKING:
    from central.settings import IngestSettings


def hub(
    host: Annotated[
        str, typer.Option(envvar="GRIDWATCH_HUB_HOST", help="HTTP listen address.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="GRIDWATCH_HUB_PORT", help="HTTP listen port.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option(envvar="GRIDWATCH_DATA_DIR", help="Data folder; the hub uses <data-dir>/hub.")
    ] = Path("var"),
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="GRIDWATCH_DATABASE_URL", help="PostgreSQL URL; default SQLite <data-dir>/hub/hub.db."
        ),
    ] = None,
    ingest_only: Annotated[
        bool,
        typer.Option("--ingest-only", help="No HTTP: one MQTT ingest worker of a shared subscription group."),
    ] = False,
    worker_name: Annotated[
        str | None,
        typer.Option(
            envvar="GRIDWATCH_INGEST_WORKER",
            help="With --ingest-only: this worker's name, unique per worker and kept across restarts (it names "
            "the broker session holding the worker's unacknowledged share). Default: the host name.",
        ),
    ] = None,
    auto_register: Annotated[
        bool,
        typer.Option(
            envvar="GRIDWATCH_AUTO_REGISTER",
            help="Dev/demo: accept events from unregistered gateways and devices (off in production).",
        ),
    ] = False,
    mqtt: Annotated[bool, typer.Option(help="Run the MQTT consumer (--no-mqtt: HTTP only).")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the central hub until Ctrl-C: the HTTP API (OpenAPI at /docs) and the MQTT alert consumer.

    On first start it creates the account 'admin' with the password from GRIDWATCH_ADMIN_PASSWORD, or
    makes one up and prints it once. The broker comes from GRIDWATCH_MQTT_HOST / _PORT / _USERNAME /
    _PASSWORD (default 127.0.0.1:1883, development credentials).

    Examples:

      gridwatch hub                                     # http://127.0.0.1:8000, SQLite in var/hub

      GRIDWATCH_ADMIN_PASSWORD=gridwatch-admin gridwatch hub --port 8100 --data-dir /tmp/gw --auto-register

      gridwatch hub --database-url postgresql+psycopg://gw:secret@db/gridwatch

      gridwatch hub --no-mqtt --database-url postgresql+psycopg://gw:secret@db/gridwatch   # API only, plus

      gridwatch hub --ingest-only --worker-name ingest-1 --database-url postgresql+psycopg://gw:secret@db/gridwatch

      gridwatch hub --ingest-only --worker-name ingest-2 --database-url postgresql+psycopg://gw:secret@db/gridwatch

      curl http://127.0.0.1:8000/health
    """
    from central.settings import HubSettings

    setup_logging(verbose)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    with one_line_errors():
        ingest = ingest_settings(ingest_only, worker_name, auto_register)
        settings = HubSettings.from_env(
            host=host,
            port=port,
            data_dir=data_dir / "hub",
            database_url=database_url,
            ingest=ingest,
            mqtt_enabled=mqtt or ingest_only,
            http_enabled=not ingest_only,
        )
        if ingest_only:
            _run_ingest_only(settings)
        else:
            _run_server(settings)


def ingest_settings(ingest_only: bool, worker_name: str | None, auto_register: bool) -> IngestSettings:
    """The hub's consumer subscribes on its own; ``--ingest-only`` workers join the shared group "hub", each
    under a stable client id: a persistent session outlives its worker, and a restarted worker must find its
    own again (a new id would leave the old session's share of the group queued on the broker, unread)."""
    from central.settings import IngestSettings

    if not ingest_only:
        if worker_name is not None:
            raise typer.BadParameter("--worker-name names an --ingest-only worker", param_hint="--worker-name")
        return IngestSettings(auto_register=auto_register)
    name = worker_name or socket.gethostname()
    return IngestSettings(auto_register=auto_register, shared_group="hub", client_id=f"gridwatch-hub-ingest-{name}",
                          worker_name=name)


def _run_server(settings: object) -> None:
    import uvicorn

    from central.app import create_app
    from central.errors import HubError

    try:
        app = create_app(settings)  # type: ignore[arg-type]
    except HubError as exc:
        fail(str(exc))
    generated = app.state.hub.generated_admin_password
    if generated:
        typer.echo(f"created account 'admin' with password {generated}  (shown once; change it)")
    typer.echo(f"hub on http://{settings.host}:{settings.port}  (API docs /docs, health /health)")  # type: ignore[attr-defined]
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")  # type: ignore[attr-defined]


def _run_ingest_only(settings: object) -> None:
    from central.hub import Hub

    worker = Hub(settings)  # type: ignore[arg-type]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.start()
    typer.echo("ingest worker started (shared subscription group 'hub'); Ctrl-C to stop")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()

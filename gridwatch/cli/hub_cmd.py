"""`gridwatch hub`: run the central hub (HTTP API + MQTT ingest), or only ingest workers."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import fail, one_line_errors, setup_logging


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

      gridwatch hub --ingest-only --database-url postgresql+psycopg://gw:secret@db/gridwatch   # extra worker

      curl http://127.0.0.1:8000/health
    """
    from central.settings import HubSettings, IngestSettings

    setup_logging(verbose)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    with one_line_errors():
        ingest = IngestSettings(
            auto_register=auto_register,
            shared_group="hub" if ingest_only else None,
            client_id=f"gridwatch-hub-ingest-{os.getpid()}" if ingest_only else "gridwatch-hub",
        )
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

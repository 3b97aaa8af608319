"""Render the production Mosquitto configuration (TLS, password file, per-gateway ACL) from broker/conf/."""

from __future__ import annotations

import getpass
from importlib import resources
from pathlib import Path
from string import Template

from pydantic import BaseModel, ConfigDict, Field

from broker.acl import render_acl


class ProductionBrokerSettings(BaseModel):
    """Paths and address for a production broker; every file must exist where the broker runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bind_address: str = Field("0.0.0.0", description="address of the TLS listener (port 8883)")
    data_dir: Path = Field(description="persistence folder")
    password_file: Path = Field(description="Mosquitto password file (one account per gateway, plus hub)")
    acl_file: Path = Field(description="ACL file: the one the hub writes, or acl_template() for hand-kept files")
    pid_file: Path = Field(
        Path("/run/mosquitto/mosquitto.pid"),
        description="where Mosquitto writes its pid; give the hub the same path (GRIDWATCH_BROKER_PID_FILE) "
        "so it can make the broker reload the password file and ACL after a registration",
    )
    certfile: Path = Field(description="server certificate (PEM)")
    keyfile: Path = Field(description="server private key (PEM)")
    cafile: Path = Field(description="CA bundle clients are issued from (PEM)")


def render_production_config(settings: ProductionBrokerSettings, *, port: int = 8883,
                             run_user: str | None = None) -> str:
    """The production config text; ``port``/``run_user`` exist so tests can run it unprivileged."""
    template = resources.files("broker").joinpath("conf/mosquitto-prod.conf.tmpl").read_text()
    text = Template(template).substitute(
        bind_address=settings.bind_address, data_dir=settings.data_dir, password_file=settings.password_file,
        acl_file=settings.acl_file, pid_file=settings.pid_file, certfile=settings.certfile,
        keyfile=settings.keyfile, cafile=settings.cafile,
    )
    text = text.replace("listener 8883 ", f"listener {port} ")
    if run_user is not None:
        text = f"user {run_user}\n" + text
    return text


def acl_template(hub_accounts: tuple[str, ...] = ("hub",)) -> str:
    """The ACL for a broker whose files are kept by hand (the hub writes the same one for its accounts)."""
    return render_acl(hub_accounts)


def current_user() -> str:
    return getpass.getuser()

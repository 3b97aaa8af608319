"""`gridwatch hub` options that decide how ingest joins the broker."""

from __future__ import annotations

import socket

import pytest
import typer
from typer.testing import CliRunner

from gridwatch.cli.hub_cmd import ingest_settings
from gridwatch.cli.main import app


def test_the_hub_consumer_subscribes_on_its_own():
    settings = ingest_settings(ingest_only=False, worker_name=None, auto_register=False)
    assert (settings.shared_group, settings.client_id) == (None, "gridwatch-hub")


def test_an_ingest_worker_keeps_its_broker_session_across_restarts():
    """Same name, same client id (its persistent session and queued share); other names, other sessions."""
    first = ingest_settings(ingest_only=True, worker_name="ingest-1", auto_register=False)
    again = ingest_settings(ingest_only=True, worker_name="ingest-1", auto_register=False)
    other = ingest_settings(ingest_only=True, worker_name="ingest-2", auto_register=False)
    assert first.shared_group == other.shared_group == "hub"
    assert first.client_id == again.client_id != other.client_id
    default = ingest_settings(ingest_only=True, worker_name=None, auto_register=True)
    assert default.client_id == f"gridwatch-hub-ingest-{socket.gethostname()}" and default.auto_register


def test_a_worker_name_without_ingest_only_is_a_usage_error():
    with pytest.raises(typer.BadParameter, match="--ingest-only"):
        ingest_settings(ingest_only=False, worker_name="ingest-1", auto_register=False)
    result = CliRunner().invoke(app, ["hub", "--worker-name", "ingest-1"])
    assert result.exit_code == 2
    assert "--worker-name" in result.output

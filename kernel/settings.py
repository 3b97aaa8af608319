"""Connection settings shared by every process that talks to the broker, validated once at start-up."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEV_USERNAME = "gridwatch"
DEV_PASSWORD = "gridwatch-dev"  # development broker only; production brokers use per-gateway credentials


class MqttSettings(BaseModel):
    """Where the MQTT broker is and how to log in to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker TCP port")
    username: str | None = Field(DEV_USERNAME, description="MQTT user name (a gateway's id in production)")
    password: SecretStr | None = Field(SecretStr(DEV_PASSWORD), description="MQTT password")
    keepalive_s: int = Field(15, ge=5, le=3600, description="MQTT keepalive; the last will fires after 1.5x")
    tls_ca_file: Path | None = Field(None, description="CA bundle; set to connect with TLS")

    @classmethod
    def from_env(cls, **overrides: object) -> MqttSettings:
        """Settings from GRIDWATCH_MQTT_* environment variables, then explicit overrides (None = keep)."""
        values: dict[str, object] = {}
        env = {
            "host": "GRIDWATCH_MQTT_HOST",
            "port": "GRIDWATCH_MQTT_PORT",
            "username": "GRIDWATCH_MQTT_USERNAME",
            "password": "GRIDWATCH_MQTT_PASSWORD",
        }
        for field, name in env.items():
            if name in os.environ:
                values[field] = os.environ[name]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

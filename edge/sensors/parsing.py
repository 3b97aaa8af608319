"""Turn one raw payload into a SensorReading through its device profile, or reject it with a named reason."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from edge.errors import EdgeError
from kernel.contracts.messages import SensorTelemetry
from kernel.sensors.profiles import ConversionError, DeviceProfile, PayloadFormat, as_float
from kernel.sensors.readings import SensorReading

MAX_FUTURE_S = 86_400.0
"""A device clock more than a day ahead of the gateway's is a broken clock, not a reading."""


class RejectReason(StrEnum):
    """Why a message was not accepted; each is counted separately."""

    OVERSIZED = "oversized"
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    MALFORMED = "malformed"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    OUT_OF_RANGE = "out_of_range"
    DEVICE_MISMATCH = "device_mismatch"


class RejectedMessage(EdgeError):
    """A sensor message that cannot be accepted; ``reason`` is its counted category."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_payload(
    profile: DeviceProfile, device_id: str, payload: bytes, received_ts: float
) -> SensorReading:
    """Parse and check ``payload`` sent by ``device_id``; raise RejectedMessage naming what was wrong."""
    if profile.payload_format is PayloadFormat.GRIDWATCH_JSON:
        raw, observed_ts = _gridwatch_json(profile, device_id, payload)
    else:
        raw = (
            _json_object(device_id, payload)
            if profile.payload_format is PayloadFormat.VENDOR_JSON
            else _key_value(device_id, payload)
        )
        observed_ts = _vendor_identity(profile, device_id, raw)
    if observed_ts > received_ts + MAX_FUTURE_S:
        raise RejectedMessage(
            RejectReason.OUT_OF_RANGE,
            f"device {device_id}: timestamp {observed_ts:.0f} is more than a day ahead",
        )
    values: dict[str, Any] = {}
    for spec in profile.fields:
        if spec.key not in raw or raw[spec.key] is None:
            continue
        try:
            value = spec.convert(raw[spec.key])
        except ConversionError as exc:
            raise RejectedMessage(
                RejectReason.WRONG_TYPE, f"device {device_id}: field {spec.key!r}: {exc}"
            ) from None
        if isinstance(value, float) and (
            not math.isfinite(value)
            or (spec.lo is not None and value < spec.lo)
            or (spec.hi is not None and value > spec.hi)
        ):
            raise RejectedMessage(
                RejectReason.OUT_OF_RANGE,
                f"device {device_id}: field {spec.key!r} = {value:g} is outside [{spec.lo}, {spec.hi}]",
            )
        values[spec.field] = value
    missing = profile.required.difference(values)
    if missing:
        raise RejectedMessage(
            RejectReason.MISSING_FIELD,
            f"device {device_id}: missing {', '.join(sorted(missing))} for a"
            f" {profile.kind.value} ({profile.vendor})",
        )
    seq = raw.get("seq") if isinstance(raw.get("seq"), int) else None
    return SensorReading(
        device_id=device_id,
        device_kind=profile.kind,
        observed_ts=observed_ts,
        received_ts=received_ts,
        seq=seq,
        **values,
    )


def _gridwatch_json(profile: DeviceProfile, device_id: str, payload: bytes) -> tuple[dict[str, Any], float]:
    try:
        message = SensorTelemetry.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        reason = {"json_invalid": RejectReason.MALFORMED, "missing": RejectReason.MISSING_FIELD}.get(
            first["type"], RejectReason.WRONG_TYPE
        )
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise RejectedMessage(
            reason, f"device {device_id}: not a SensorTelemetry: field {where}: {first['msg']}"
        ) from None
    if message.device_id != device_id:
        raise RejectedMessage(
            RejectReason.DEVICE_MISMATCH,
            f"topic names device {device_id} but the payload says {message.device_id}",
        )
    if message.device_kind != profile.kind.value:
        raise RejectedMessage(
            RejectReason.DEVICE_MISMATCH,
            f"device {device_id} is registered as a {profile.kind.value}, payload says {message.device_kind}",
        )
    raw = dict(message.readings)
    if message.seq is not None:
        raw["seq"] = message.seq
    return raw, message.ts.timestamp()


def _json_object(device_id: str, payload: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RejectedMessage(RejectReason.MALFORMED, f"device {device_id}: invalid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RejectedMessage(
            RejectReason.MALFORMED, f"device {device_id}: expected a JSON object, got {type(raw).__name__}"
        )
    return raw


def _key_value(device_id: str, payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError:
        raise RejectedMessage(
            RejectReason.MALFORMED, f"device {device_id}: key=value text is not ASCII"
        ) from None
    raw: dict[str, Any] = {}
    for part in text.strip().split(";"):
        key, sep, value = part.partition("=")
        if not sep or not key:
            raise RejectedMessage(
                RejectReason.MALFORMED, f"device {device_id}: expected key=value;key=value, got {part[:40]!r}"
            )
        raw[key.strip()] = value.strip()
    return raw


def _vendor_identity(profile: DeviceProfile, device_id: str, raw: dict[str, Any]) -> float:
    for key in (profile.device_id_key, profile.ts_key):
        if key is not None and key not in raw:
            raise RejectedMessage(RejectReason.MISSING_FIELD, f"device {device_id}: missing {key!r}")
    if profile.device_id_key is not None and str(raw[profile.device_id_key]) != device_id:
        raise RejectedMessage(
            RejectReason.DEVICE_MISMATCH,
            f"topic names device {device_id} but the payload says {raw[profile.device_id_key]!r}",
        )
    if profile.ts_key is None:
        return 0.0
    try:
        observed_ts = as_float(raw[profile.ts_key])
    except ConversionError as exc:
        raise RejectedMessage(
            RejectReason.WRONG_TYPE, f"device {device_id}: {profile.ts_key!r}: {exc}"
        ) from None
    if not math.isfinite(observed_ts) or observed_ts < 0:
        raise RejectedMessage(
            RejectReason.OUT_OF_RANGE, f"device {device_id}: timestamp {observed_ts} is absurd"
        )
    if "seq" in raw and isinstance(raw["seq"], str) and raw["seq"].isdigit():
        raw["seq"] = int(raw["seq"])
    return observed_ts

"""Configuration secrets: which URLs carry credentials, how people see them, and sealing for one gateway."""

from __future__ import annotations

import pytest

from kernel.contracts import sealing
from kernel.errors import ContractError


@pytest.mark.parametrize(
    ("url", "secret", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/stream1", True, "rtsp://***:***@10.0.0.5:554/stream1"),
        ("rtsp://admin@10.0.0.5/live", True, "rtsp://***:***@10.0.0.5/live"),
        ("http://cam/video.cgi?user=a&pwd=b&res=1", True, "http://cam/video.cgi?user=***&pwd=***&res=1"),
        ("rtsp://10.0.0.5/stream1", False, "rtsp://10.0.0.5/stream1"),
        ("/var/clips/lobby.mp4", False, "/var/clips/lobby.mp4"),
        ("device:0", False, "device:0"),
    ],
)
def test_credentials_are_found_and_redacted(url: str, secret: bool, shown: str) -> None:
    assert sealing.has_secret(url) is secret
    assert sealing.redact(url) == shown


def test_a_sealed_value_opens_only_with_the_gateways_own_key() -> None:
    key = sealing.gateway_key("gw-1", "its-password")
    sealed = sealing.seal("rtsp://u:p@h/s", key)
    assert sealing.is_sealed(sealed) and "u:p" not in sealed and sealing.redact(sealed) == "***"
    assert sealing.unseal(sealed, key) == "rtsp://u:p@h/s"
    for other in (sealing.gateway_key("gw-2", "its-password"), sealing.gateway_key("gw-1", "another")):
        with pytest.raises(ContractError, match="registered password"):
            sealing.unseal(sealed, other)

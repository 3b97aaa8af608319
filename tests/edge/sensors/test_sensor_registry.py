"""SensorRegistry: YAML and hub data through one validator; errors name the file, the device and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.sensors.registry import load_registry, registry_from_data
from kernel.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "configs" / "sensors" / "example.yaml"


def test_example_registry_compiles_overrides() -> None:
    registry = load_registry(EXAMPLE, gateway_id="gw-demo")
    assert len(registry) == 4
    mh1 = registry.get("mh-0001")
    assert mh1 is not None
    water = next(r for r in mh1.rules if r.alarm_id == "water_high")
    assert (water.value, water.clear_value, water.consecutive) == (30.0, 25.0, 2)
    assert next(r for r in mh1.rules if r.alarm_id == "open").for_s == 10.0
    mh2 = registry.get("mh-0002")
    assert mh2 is not None and "gas_high" not in {r.alarm_id for r in mh2.rules}
    assert registry.get("smoke-0002").heartbeat_expiry_s == 7200  # type: ignore[union-attr]
    assert registry.get("nobody") is None


@pytest.mark.parametrize(
    ("sensors", "message"),
    [
        ([{"device_id": "a", "kind": "toaster"}], r"sensors\[0\] \(a\)\.kind"),
        (
            [{"device_id": "a", "kind": "smoke_detector", "vendor": "covertech"}],
            "no profile for vendor 'covertech' of kind smoke_detector: expected one of acme, gridwatch",
        ),
        (
            [{"device_id": "a", "kind": "manhole_cover", "rules": [{"alarm_id": "smoke"}]}],
            "unknown alarm_id 'smoke'",
        ),
        ([{"device_id": "a", "kind": "manhole_cover", "colour": "red"}], r"sensors\[0\] \(a\)\.colour"),
        (
            [{"device_id": "a", "kind": "manhole_cover"}, {"device_id": "a", "kind": "manhole_cover"}],
            "registered twice",
        ),
        ([{"device_id": "bad id!", "kind": "manhole_cover"}], "device_id"),
    ],
)
def test_bad_registrations_name_source_and_field(sensors: list[dict], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        registry_from_data(sensors, source="hub config rev 7")
    assert str(caught.value).startswith("hub config rev 7: ")


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sensors.yaml"
    path.write_text("gateway_id: gw-other\nsensors: []\n")
    with pytest.raises(ConfigError, match=f"{path}: gateway_id: file is for 'gw-other', expected 'gw-1'"):
        load_registry(path, gateway_id="gw-1")
    path.write_text("sensors: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_registry(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_registry(tmp_path / "absent.yaml")

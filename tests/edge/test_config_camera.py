"""Camera files: valid files load; every kind of bad input names the file, field path and expectation."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from kernel.camera_config import CameraConfig, IntrusionRule, LineDirection, load_camera_dir, load_camera_file
from kernel.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

BASE = """\
camera_id: gate-cam
source: {url: "rtsp://cam.local/stream"}
zones:
  - id: door
    polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
  - id: yard
    polygon: [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]
lines:
  - id: fence
    points: [[0.0, 0.5], [1.0, 0.5]]
    direction: a_to_b
"""


def write(tmp_path: Path, text: str, name: str = "gate-cam.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", [
    PROJECT_ROOT / "configs/cameras/demo.yaml",
    PROJECT_ROOT / "tests/fixtures/cameras/pedestrians.yaml",
    PROJECT_ROOT / "tests/fixtures/cameras/all-rules.yaml",
])
def test_shipped_camera_files_are_valid(path: Path) -> None:
    camera = load_camera_file(path)
    assert camera.rules and camera.zones


def test_demo_camera_has_the_rules_the_demo_relies_on() -> None:
    camera = load_camera_file(PROJECT_ROOT / "configs/cameras/demo.yaml")
    assert camera.camera_id == "demo-cam"
    assert camera.source.url == "var/demo/sample.mp4" and camera.source.realtime and camera.source.loop
    assert {r.kind for r in camera.rules} >= {"intrusion", "loitering", "crowding", "motion"}


def test_reference_file_uses_every_rule_kind() -> None:
    camera = load_camera_file(PROJECT_ROOT / "tests/fixtures/cameras/all-rules.yaml")
    kinds = {r.kind for r in camera.rules}
    assert kinds == {"intrusion", "loitering", "illegal_parking", "crowding", "line_crossing", "presence",
                     "motion"}
    night = camera.rules[0].schedule
    assert night is not None and night.windows[0].start.hour == 19 and night.windows[0].end.hour == 7


def test_minimal_file_gets_defaults_for_every_section(tmp_path: Path) -> None:
    camera = load_camera_file(write(tmp_path, "camera_id: c1\nsource: {url: 'device:0'}\n"))
    assert isinstance(camera, CameraConfig)
    assert camera.enabled and camera.motion.enabled and camera.detect.detect_fps == 5.0
    assert camera.health.offline_debounce_s > 0 and camera.evidence.jpeg_quality == 80
    assert camera.rules == () and camera.classes == {}


def test_rule_defaults_depend_on_kind(tmp_path: Path) -> None:
    text = BASE + """\
rules:
  - {rule_id: r1, kind: intrusion, zone: door}
  - {rule_id: r2, kind: illegal_parking, zone: yard, stationary_s: 30}
  - {rule_id: r3, kind: presence, classes: [fire, smoke], alert_type: fire_smoke}
  - {rule_id: r4, kind: line_crossing, line: fence}
"""
    camera = load_camera_file(write(tmp_path, text))
    intrusion, parking, presence, crossing = camera.rules
    assert isinstance(intrusion, IntrusionRule) and intrusion.classes == ("person",)
    assert intrusion.alert_type == "intrusion" and intrusion.severity == "high"
    assert "car" in parking.classes and parking.alert_type == "illegal_parking"
    assert presence.alert_type == "fire_smoke" and (presence.min_hits, presence.window_checks) == (3, 5)
    assert crossing.direction is None and camera.line("fence").direction is LineDirection.A_TO_B


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    if model not in seen:
        seen.add(model)
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                tp = stack.pop()
                stack.extend(typing.get_args(tp))
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    _models(tp, seen)
    return seen


def test_every_config_model_is_frozen_forbids_extra_keys_and_describes_every_field() -> None:
    models = _models(CameraConfig, set())
    assert len(models) > 15  # sections, geometry, every rule kind, schedule, filters
    for model in models:
        assert model.model_config.get("frozen") and model.model_config.get("extra") == "forbid", model
        undescribed = [n for n, f in model.model_fields.items() if not f.description]
        assert not undescribed, f"{model.__name__}: {undescribed}"


def test_config_is_frozen(tmp_path: Path) -> None:
    camera = load_camera_file(write(tmp_path, BASE))
    with pytest.raises(Exception, match="frozen"):
        camera.camera_id = "other"  # type: ignore[misc]


BAD_CASES = [
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: intrusion, zone: gate}\n",
                 ["rules[0].zone", "'gate' is not defined", "zones: door, yard"], id="missing-zone"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: line_crossing, line: wall}\n",
                 ["rules[0].line", "'wall' is not defined", "lines: fence"], id="missing-line"),
    pytest.param(BASE.replace("lines:\n", "  - id: door\n    polygon: [[0, 0], [1, 0], [1, 1]]\nlines:\n"),
                 ["zones: id 'door' is used 2 times"], id="duplicate-zone"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: intrusion}\n  - {rule_id: r1, kind: intrusion}\n",
                 ["rules: id 'r1' is used 2 times"], id="duplicate-rule"),
    pytest.param(BASE.replace("[[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]", "[[0.0, 0.5], [1.0, 0.5]]"),
                 ["zones[1].polygon", "at least 3 points, got 2"], id="two-points"),
    pytest.param(BASE.replace("[1.0, 0.5], [1.0, 1.0]]", "[1.5, 0.5], [1.0, 1.0]]"),
                 ["zones[1].polygon[1][0]", "outside the frame", "[0, 1]"], id="outside-frame"),
    pytest.param(BASE.replace("[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]",
                              "[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]"),
                 ["zones[0].polygon", "self-intersecting"], id="bowtie"),
    pytest.param(BASE.replace("[[0.0, 0.5], [1.0, 0.5], [1.0, 1.0]]", "[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]"),
                 ["zones[1].polygon", "zero area"], id="collinear"),
    pytest.param(BASE.replace("points: [[0.0, 0.5], [1.0, 0.5]]", "points: [[0.5, 0.5], [0.5, 0.5]]"),
                 ["lines[0]", "two points are equal"], id="degenerate-line"),
    pytest.param(BASE + "colour: red\n", ["colour: unknown key 'colour'"], id="unknown-top-key"),
    pytest.param(BASE.replace('stream"}', 'stream", relatime: true}'),
                 ["source.relatime: unknown key"], id="unknown-nested-key"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: intrusion, zone: door, dwell: 3}\n",
                 ["rules[0].dwell: unknown key"], id="unknown-rule-key"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: teleport}\n",
                 ["rules[0]", "unknown rule kind 'teleport'", "intrusion"], id="unknown-kind"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, zone: door}\n", ["rules[0]", "missing 'kind'"],
                 id="no-kind"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: loitering, zone: door}\n",
                 ["rules[0].dwell_s: required field missing"], id="loitering-without-dwell"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: presence, classes: [fire], min_hits: 6}\n",
                 ["min_hits (6) must be <= window_checks (5)"], id="k-greater-than-n"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: intrusion, schedule: {timezone: Mars/Base}}\n",
                 ["rules[0].schedule.timezone", "unknown time zone 'Mars/Base'"], id="bad-timezone"),
    pytest.param(BASE + "rules:\n  - {rule_id: r1, kind: intrusion, schedule: {windows: ['9-17']}}\n",
                 ["rules[0].schedule.windows[0]", "expected 'HH:MM-HH:MM'"], id="bad-window"),
    pytest.param(BASE + "classes:\n  person: {min_score: 2}\n", ["classes.person.min_score"],
                 id="class-filter"),
    pytest.param(BASE + "detect: {detect_fps: 0}\n", ["detect.detect_fps", "greater than 0"], id="bound"),
    pytest.param(BASE.replace("camera_id: gate-cam\n", ""), ["camera_id: required field missing"],
                 id="no-camera-id"),
    pytest.param(BASE.replace('"}', '", reconnect_min_s: 9, reconnect_max_s: 2}'),
                 ["reconnect_max_s (2.0) must be >= reconnect_min_s"], id="backoff"),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_CASES)
def test_bad_camera_file_names_file_field_and_expectation(tmp_path: Path, text: str,
                                                          fragments: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_camera_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(("text", "fragment"), [
    ("camera_id: x\nsource: {url: 'a'\nzones: []\n", "line 3, column 1: YAML syntax error"),
    ("", "file is empty"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_unreadable_yaml_is_reported_with_its_position(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_camera_file(path)
    assert str(caught.value).startswith(str(path))


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read camera file"):
        load_camera_file(tmp_path / "absent.yaml")


def test_one_bad_camera_never_stops_the_others(tmp_path: Path) -> None:
    write(tmp_path, BASE, "a.yaml")
    write(tmp_path, BASE + "rules:\n  - {rule_id: r1, kind: intrusion, zone: gate}\n", "b.yaml")
    write(tmp_path, BASE.replace("gate-cam", "other-cam"), "c.yml")
    write(tmp_path, BASE, "d.yaml")  # same camera_id as a.yaml
    (tmp_path / "notes.txt").write_text("not a camera")
    configs, errors = load_camera_dir(tmp_path)
    assert [c.camera_id for c in configs] == ["gate-cam", "other-cam"]
    assert len(errors) == 2
    assert "b.yaml: rules[0].zone" in str(errors[0])
    assert "d.yaml: camera_id: 'gate-cam' is already used by" in str(errors[1])


def test_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    configs, errors = load_camera_dir(tmp_path / "nope")
    assert configs == [] and "not a folder" in str(errors[0])

"""The camera source's timeouts (open, stall, stale-frame age): validated with clear messages, and carried
from a camera file into the capture reader's SourceSpec."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.capture import SourceSpec
from kernel.camera_config import load_camera_file
from kernel.errors import ConfigError


def _camera_file(tmp_path: Path, source_extra: str) -> Path:
    path = tmp_path / "cam.yaml"
    path.write_text(f'camera_id: cam\nsource: {{url: "rtsp://cam.local/s"{source_extra}}}\n')
    return path


def test_defaults_reach_the_reader(tmp_path: Path) -> None:
    spec = SourceSpec.from_section(load_camera_file(_camera_file(tmp_path, "")).source)
    assert (spec.open_timeout_s, spec.stall_timeout_s, spec.max_frame_age_s) == (10.0, 10.0, 1.0)


def test_configured_values_reach_the_reader(tmp_path: Path) -> None:
    path = _camera_file(tmp_path, ", open_timeout_s: 3, stall_timeout_s: 4.5, max_frame_age_s: 0.5")
    spec = SourceSpec.from_section(load_camera_file(path).source)
    assert (spec.open_timeout_s, spec.stall_timeout_s, spec.max_frame_age_s) == (3.0, 4.5, 0.5)


@pytest.mark.parametrize(("extra", "fragments"), [
    (", stall_timeout_s: 0", ["source.stall_timeout_s", "greater than 0"]),
    (", stall_timeout_s: 601", ["source.stall_timeout_s", "less than or equal to 600"]),
    (", open_timeout_s: -1", ["source.open_timeout_s", "greater than 0"]),
    (", max_frame_age_s: fast", ["source.max_frame_age_s"]),
    (", stall_timeout: 5", ["source.stall_timeout"]),
])
def test_bad_timeouts_name_file_field_and_expectation(tmp_path: Path, extra: str, fragments: list[str]) -> None:
    path = _camera_file(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        load_camera_file(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message

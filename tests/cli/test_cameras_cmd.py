"""`gridwatch cameras validate|show` as an installer runs them: OK summaries, precise errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gridwatch.cli.main import app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GOOD = """\
camera_id: {cid}
source: {{url: "rtsp://user:secret@cam.local/stream"}}
zones:
  - id: door
    polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
rules:
  - {{rule_id: r1, kind: intrusion, zone: door}}
"""

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["cameras", *args], catch_exceptions=False)


def test_validate_prints_ok_and_a_summary_per_camera(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.format(cid="cam-a"))
    (tmp_path / "b.yml").write_text(GOOD.format(cid="cam-b"))
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"OK   {tmp_path / 'a.yaml'}" in result.output
    assert "camera cam-a: 1 zone [door], 0 lines, 0 masks, 1 rule: r1 (intrusion @ door)" in result.output
    assert "2 of 2 camera file(s) valid" in result.output


def test_validate_names_file_field_and_expectation_and_exits_1(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.yaml", tmp_path / "gate.yaml"
    good.write_text(GOOD.format(cid="cam-a"))
    bad.write_text(GOOD.format(cid="gate").replace("zone: door", "zone: gate"))
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 1
    assert f"OK   {good}" in result.output and f"FAIL {bad}" in result.output
    assert f"{bad}: rules[0].zone: rule 'r1': zone 'gate' is not defined (zones: door)" in result.output
    assert "1 of 2 camera file(s) valid" in result.output
    assert "Traceback" not in result.output


def test_validate_reports_duplicate_camera_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.format(cid="same"))
    (tmp_path / "b.yaml").write_text(GOOD.format(cid="same"))
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 1 and "camera_id: 'same' is already used by" in result.output


def test_validate_empty_folder_fails_plainly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cameras", "validate", str(tmp_path)])
    assert result.exit_code == 1 and "no camera files" in result.output


def test_validate_defaults_to_the_shipped_camera_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PROJECT_ROOT)
    result = invoke("validate")
    assert result.exit_code == 0, result.output
    assert "camera demo-cam:" in result.output


@pytest.mark.parametrize("as_json", [False, True])
def test_show_prints_the_normalised_config(tmp_path: Path, as_json: bool) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(GOOD.format(cid="cam-a"))
    result = invoke("show", str(path), *(["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output) if as_json else yaml.safe_load(result.output)
    assert data["camera_id"] == "cam-a"
    assert data["rules"][0]["severity"] == "high" and data["motion"]["enabled"] is True
    assert data["source"]["url"] == "rtsp://user:***@cam.local/stream" and "secret" not in result.output


def test_show_bad_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("camera_id: [")
    result = runner.invoke(app, ["cameras", "show", str(path)])
    assert result.exit_code == 1 and "YAML syntax error" in result.output


def test_help_teaches_by_example() -> None:
    result = subprocess.run([sys.executable, "-m", "gridwatch", "cameras", "validate", "--help"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert "gridwatch cameras validate configs/cameras/gate.yaml" in result.stdout

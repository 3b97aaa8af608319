"""`gridwatch cameras ...`: check camera files (zones, lines, rules) and show them normalised."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer
import yaml

from gridwatch.cli.common import fail, one_line_errors
from kernel.camera_config import CameraConfig, LineCrossingRule, load_camera_file
from kernel.camera_config.loader import camera_files
from kernel.errors import ConfigError

DEFAULT_DIR = Path("configs/cameras")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]*@", re.IGNORECASE)


def hide_password(url: str) -> str:
    """rtsp://user:secret@host/... -> rtsp://user:***@host/... (config dumps end up in tickets and chats)."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***@", url)

app = typer.Typer(
    help=(
        "Check and inspect camera files (one YAML file per camera in configs/cameras/).\n\n"
        "  gridwatch cameras validate\n\n"
        "  gridwatch cameras validate configs/cameras/gate.yaml\n\n"
        "  gridwatch cameras show configs/cameras/demo.yaml --json"
    ),
    no_args_is_help=True,
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(camera: CameraConfig) -> str:
    """One line: zones, lines and rules of a camera, each rule with its kind and target."""
    rules = []
    for rule in camera.rules:
        target = rule.line if isinstance(rule, LineCrossingRule) else getattr(rule, "zone", None)
        off = "" if rule.enabled else ", disabled"
        rules.append(f"{rule.rule_id} ({rule.kind}{' @ ' + target if target else ''}{off})")
    zones = ", ".join(z.id for z in camera.zones)
    parts = [
        _plural(len(camera.zones), "zone") + (f" [{zones}]" if zones else ""),
        _plural(len(camera.lines), "line"),
        _plural(len(camera.masks), "mask"),
        _plural(len(camera.rules), "rule") + (f": {'; '.join(rules)}" if rules else ""),
    ]
    disabled = "" if camera.enabled else " (disabled)"
    return f"camera {camera.camera_id}{disabled}: {', '.join(parts)}"


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = camera_files(path)
            if not found:
                fail(f"{path}: no camera files (*.yaml, *.yml) in this folder")
            files.extend(found)
        else:
            files.append(path)
    return files


@app.command("validate")
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="camera files or folders of them (default: configs/cameras)", show_default=False)] = None,
) -> None:
    """Validate camera files: schema, zone geometry (>= 3 points, inside the frame, not self-intersecting)
    and rule references. Prints OK with a summary per camera, or the file, field and what was expected.
    Exits 1 if any file failed.

    Examples:

      gridwatch cameras validate

      gridwatch cameras validate configs/cameras/gate.yaml configs/cameras/yard.yaml

      gridwatch cameras validate /etc/gridwatch/cameras
    """
    files = _expand(paths or [DEFAULT_DIR])
    failed = 0
    seen: dict[str, Path] = {}
    for path in files:
        try:
            camera = load_camera_file(path)
            if camera.camera_id in seen:
                other = seen[camera.camera_id]
                raise ConfigError(f"{path}: camera_id: '{camera.camera_id}' is already used by {other}")
        except ConfigError as exc:
            failed += 1
            typer.secho(f"FAIL {path}", fg=typer.colors.RED)
            for line in str(exc).splitlines():
                typer.echo(f"  {line}")
            continue
        seen[camera.camera_id] = path
        typer.secho(f"OK   {path}", fg=typer.colors.GREEN, nl=False)
        typer.echo(f"  {summary(camera)}")
    typer.echo(f"{len(files) - failed} of {len(files)} camera file(s) valid")
    if failed:
        raise typer.Exit(1)


@app.command("show")
def show(
    path: Annotated[Path, typer.Argument(help="a camera file")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of YAML")] = False,
) -> None:
    """Print a camera file normalised: every default filled in, as the edge worker will run it
    (a password in the source URL is shown as ***).

    Examples:

      gridwatch cameras show configs/cameras/demo.yaml

      gridwatch cameras show configs/cameras/demo.yaml --json | jq .rules
    """
    with one_line_errors():
        camera = load_camera_file(path)
    data = camera.model_dump(mode="json")
    data["source"]["url"] = hide_password(data["source"]["url"])
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110).rstrip())

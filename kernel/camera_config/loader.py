"""Reading camera YAML files into CameraConfig, with errors that name the file, field path and expectation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kernel.camera_config.camera import CameraConfig
from kernel.camera_config.rules import RULE_KINDS
from kernel.errors import ConfigError

log = logging.getLogger(__name__)

CAMERA_SUFFIXES = (".yaml", ".yml")


def _field_path(loc: tuple[int | str, ...]) -> str:
    """('rules', 2, 'intrusion', 'zone') -> 'rules[2].zone' (the union tag pydantic adds is dropped)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i > 0 and loc[0] == "rules" and isinstance(loc[i - 1], int) and part in RULE_KINDS:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error: Any) -> str:
    if error["type"] in ("less_than_equal", "greater_than_equal") and _is_point(error["loc"]):
        return f"coordinate {error['input']} is outside the frame: expected a normalised value in [0, 1]"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}' (check its spelling and indentation)"
    if error["type"] == "union_tag_invalid":
        return f"unknown rule kind {error['input'].get('kind')!r}: expected one of {', '.join(RULE_KINDS)}"
    if error["type"] == "union_tag_not_found":
        return f"missing 'kind': expected one of {', '.join(RULE_KINDS)}"
    if error["type"] == "missing":
        return "required field missing"
    return f"{error['msg']} (got {error['input']!r})"


def _is_point(loc: tuple[int | str, ...]) -> bool:
    return any(part in ("polygon", "points", "masks", "privacy_regions") for part in loc)


def describe_validation_error(source: str, exc: ValidationError) -> list[str]:
    """One 'file: field.path: what was expected' line per problem pydantic found."""
    lines = []
    for error in exc.errors():
        path = _field_path(tuple(error["loc"]))
        for message in _message(error).splitlines():  # cross-checks report several problems at once
            lines.append(f"{source}: {path}: {message}" if path else f"{source}: {message}")
    return lines


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read camera file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: {where}YAML syntax error: {problem}") from exc
    if data is None:
        raise ConfigError(f"{path}: file is empty; expected a mapping with camera_id, source, rules ...")
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"{path}: expected a mapping (camera_id: ..., source: ...), got a {kind}")
    return data


def parse_camera(data: dict[str, Any], source: str) -> CameraConfig:
    """Validate an already-parsed mapping (from a file or a hub GatewayConfig) as a CameraConfig."""
    try:
        return CameraConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_validation_error(source, exc))) from exc


def load_camera_file(path: str | Path) -> CameraConfig:
    """Load and validate one camera file; raise ConfigError naming the file, field and what was expected."""
    path = Path(path)
    return parse_camera(_read_yaml(path), str(path))


def camera_files(directory: str | Path) -> list[Path]:
    """The camera files in a folder, sorted by name."""
    directory = Path(directory)
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in CAMERA_SUFFIXES)


def load_camera_dir(directory: str | Path) -> tuple[list[CameraConfig], list[ConfigError]]:
    """Load every camera file in a folder; a bad file becomes an error in the list, never stops the others."""
    directory = Path(directory)
    if not directory.is_dir():
        return [], [ConfigError(f"{directory}: not a folder of camera files")]
    configs: list[CameraConfig] = []
    errors: list[ConfigError] = []
    seen: dict[str, Path] = {}
    for path in camera_files(directory):
        try:
            config = load_camera_file(path)
        except ConfigError as exc:
            log.warning("skipping camera file: %s", exc)
            errors.append(exc)
            continue
        if config.camera_id in seen:
            errors.append(ConfigError(
                f"{path}: camera_id: '{config.camera_id}' is already used by {seen[config.camera_id]}"
            ))
            continue
        seen[config.camera_id] = path
        configs.append(config)
    return configs, errors

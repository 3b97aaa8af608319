"""Area outlines: the GeoJSON Polygon or MultiPolygon an area may carry, checked before it is stored.

An unchecked document was stored as given, and a deeply nested or huge one then broke every read of the
area list for everyone. The check walks the exact shape GeoJSON prescribes (RFC 7946 section 3.1.6-7), so
it never recurses deeper than a MultiPolygon's four levels, and caps the total number of positions.
"""

from __future__ import annotations

import math
from typing import Any

MAX_POSITIONS = 20_000
"""Positions per area outline, all rings together (a city grid needs tens; a street map export thousands)."""

_GEOMETRIES = ("Polygon", "MultiPolygon")


def check_area_geometry(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if it is a valid Polygon/MultiPolygon in WGS 84 longitude/latitude; ValueError naming the
    place and what was expected otherwise."""
    kind = value.get("type")
    if kind not in _GEOMETRIES:
        raise ValueError(f"type is {_show(kind)}: expected one of {', '.join(_GEOMETRIES)}")
    extra = sorted(set(value) - {"type", "coordinates", "bbox"})
    if extra:
        raise ValueError(f"unexpected member(s) {', '.join(map(repr, extra))}: expected type and coordinates")
    coordinates = value.get("coordinates")
    budget = [MAX_POSITIONS]
    if kind == "Polygon":
        _polygon(coordinates, "coordinates", budget)
    else:
        polygons = _array(coordinates, "coordinates", "an array of polygons")
        if not polygons:
            raise ValueError("coordinates: a MultiPolygon needs at least one polygon")
        for i, polygon in enumerate(polygons):
            _polygon(polygon, f"coordinates[{i}]", budget)
    return value


def _polygon(value: Any, where: str, budget: list[int]) -> None:
    rings = _array(value, where, "an array of linear rings")
    if not rings:
        raise ValueError(f"{where}: a polygon needs at least one ring (its outline)")
    for i, ring in enumerate(rings):
        _ring(ring, f"{where}[{i}]", budget)


def _ring(value: Any, where: str, budget: list[int]) -> None:
    positions = _array(value, where, "an array of [longitude, latitude] positions")
    budget[0] -= len(positions)
    if budget[0] < 0:
        raise ValueError(f"{where}: the outline has more than {MAX_POSITIONS} positions in all")
    if len(positions) < 4:
        raise ValueError(f"{where}: a linear ring needs at least 4 positions, got {len(positions)}")
    for i, position in enumerate(positions):
        _position(position, f"{where}[{i}]")
    if positions[0] != positions[-1]:
        raise ValueError(f"{where}: a linear ring must end where it starts (first position = last)")


def _position(value: Any, where: str) -> None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ValueError(f"{where}: expected a position [longitude, latitude] (or with altitude)")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            raise ValueError(f"{where}: {_show(number)} is not a finite number")
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise ValueError(
            f"{where}: [{lon}, {lat}] is out of range: longitude -180..180, latitude -90..90 (WGS 84)"
        )


def _array(value: Any, where: str, expected: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: {_show(value)} is not {expected}")
    return list(value)


def _show(value: Any) -> str:
    """A short description of ``value`` for an error message (never the whole of a huge document)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""Area outlines are checked on write (type, shape, nesting, size, coordinate ranges) with a 422 naming the
place; before, a deeply nested or huge document was stored and every GET /api/v1/areas answered 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from central.area_geometry import MAX_POSITIONS

SQUARE = [[121.0, 31.0], [121.1, 31.0], [121.1, 31.1], [121.0, 31.1], [121.0, 31.0]]


class Nested:
    """A JSON array nested ``depth`` deep, written out by hand (the client's encoder would recurse)."""

    def __init__(self, depth: int) -> None:
        self.text = "[" * depth + "121.0, 31.0" + "]" * depth


def _json(value) -> str:
    if isinstance(value, Nested):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json(v) for v in value) + "]"
    return json.dumps(value)


def _post(api, geojson):
    body = {"level": "district", "code": "d9", "name": "D9", "geojson": geojson}
    return api.client.post(
        "/api/v1/areas",
        headers={**api.as_("admin"), "content-type": "application/json"},
        content=_json(body).encode(),
    )


@pytest.fixture
def database() -> str:
    return "sqlite"


@pytest.mark.parametrize(
    "geojson, detail",
    [
        ({"type": "Point", "coordinates": [121.0, 31.0]}, "type is 'Point': expected one of Polygon, MultiPolygon"),
        ({"type": "Polygon"}, "coordinates: None is not an array of linear rings"),
        ({"type": "Polygon", "coordinates": []}, "coordinates: a polygon needs at least one ring"),
        ({"type": "Polygon", "coordinates": [SQUARE[:3]]}, "coordinates[0]: a linear ring needs at least 4"),
        ({"type": "Polygon", "coordinates": [SQUARE[:4]]}, "coordinates[0]: a linear ring must end where it"),
        (
            {"type": "Polygon", "coordinates": [[[181.0, 31.0], *SQUARE[1:4], [181.0, 31.0]]]},
            "coordinates[0][0]: [181.0, 31.0] is out of range: longitude -180..180, latitude -90..90",
        ),
        ({"type": "Polygon", "coordinates": [[[121.0, "31"], *SQUARE[1:]]]}, "'31' is not a finite number"),
        ({"type": "Polygon", "coordinates": [[[121.0], *SQUARE[1:]]]}, "expected a position [longitude, latitude]"),
        ({"type": "Polygon", "coordinates": Nested(900)}, "coordinates[0]: a linear ring needs at least 4"),
        (
            {"type": "Polygon", "coordinates": [[[121.0, 31.0]] * (MAX_POSITIONS + 1)]},
            f"more than {MAX_POSITIONS} positions",
        ),
        ({"type": "MultiPolygon", "coordinates": []}, "coordinates: a MultiPolygon needs at least one polygon"),
        ({"type": "Polygon", "coordinates": [SQUARE], "crs": {}}, "unexpected member(s) 'crs'"),
        ({"type": "Polygon", "coordinates": [SQUARE], "x": Nested(900)}, "unexpected member(s) 'x'"),
    ],
    ids=[
        "point", "no-coordinates", "no-ring", "short-ring", "open-ring", "longitude", "string-number", "1d",
        "deeply-nested", "huge", "empty-multi", "foreign-member", "nested-foreign-member",
    ],
)
def test_bad_outlines_are_a_clear_422_and_the_area_list_stays_readable(api, geojson, detail):
    answer = _post(api, geojson)
    assert answer.status_code == 422, answer.text
    assert detail in answer.text
    assert api.client.get("/api/v1/areas", headers=api.as_("admin")).status_code == 200
    assert api.client.get("/api/v1/areas.geojson", headers=api.as_("admin")).status_code == 200


@pytest.mark.parametrize(
    "geojson",
    [
        {"type": "Polygon", "coordinates": [SQUARE]},
        {"type": "Polygon", "coordinates": [[[-180, -90, 12.5], [180, -90, 0], [180, 90, 0], [-180, -90, 12.5]]]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, SQUARE]]},
    ],
    ids=["polygon", "bounds-with-altitude", "multipolygon-with-hole"],
)
def test_valid_outlines_are_stored_as_given(api, geojson):
    answer = _post(api, geojson)
    assert answer.status_code == 201, answer.text
    listed = api.client.get("/api/v1/areas", headers=api.as_("admin")).json()
    assert [a["geojson"] for a in listed] == [geojson]


def test_a_bad_outline_stored_before_the_check_does_not_break_the_list(api):
    """Rows written by an older hub are not trusted either: the bad outline is left out, the rest is served."""
    assert _post(api, {"type": "Polygon", "coordinates": [SQUARE]}).status_code == 201
    with api.hub.db.session() as session:
        outline = _json({"type": "Polygon", "coordinates": Nested(900)})
        session.execute(text("UPDATE areas SET geojson = :outline"), {"outline": outline})
    listed = api.client.get("/api/v1/areas", headers=api.as_("admin"))
    assert listed.status_code == 200
    assert [(a["code"], a["geojson"]) for a in listed.json()] == [("d9", None)]

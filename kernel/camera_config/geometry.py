"""Config-time geometry: normalised points, polygons (>=3 points, simple), zones, lines and object masks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from kernel.contracts.messages import Identifier

NormCoord = Annotated[float, Field(ge=0.0, le=1.0)]
NormPoint = tuple[NormCoord, NormCoord]
"""(x, y) as fractions of frame width and height: (0, 0) top-left, (1, 1) bottom-right."""


def _orientation(p: NormPoint, q: NormPoint, r: NormPoint) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _on_segment(p: NormPoint, q: NormPoint, r: NormPoint) -> bool:
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def segments_intersect(a1: NormPoint, a2: NormPoint, b1: NormPoint, b2: NormPoint) -> bool:
    """True when segment a1-a2 touches or crosses segment b1-b2."""
    d1, d2 = _orientation(b1, b2, a1), _orientation(b1, b2, a2)
    d3, d4 = _orientation(a1, a2, b1), _orientation(a1, a2, b2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True
    return any(
        d == 0 and _on_segment(s, p, e)
        for d, s, p, e in ((d1, b1, a1, b2), (d2, b1, a2, b2), (d3, a1, b1, a2), (d4, a1, b2, a2))
    )


def check_polygon(points: tuple[NormPoint, ...]) -> tuple[NormPoint, ...]:
    """Accept a simple polygon of >= 3 points; reject too few points, zero area and self-intersection."""
    n = len(points)
    if n < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {n}")
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbouring edges share a vertex by construction
            if segments_intersect(*edges[i], *edges[j]):
                raise ValueError(
                    f"polygon is self-intersecting: edge {i} {edges[i]} crosses edge {j} {edges[j]};"
                    " list the points in order around the outline"
                )
    area2 = sum(
        points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1] for i in range(n)
    )
    if abs(area2) < 1e-9:
        raise ValueError("polygon has zero area (its points are on one line or repeated)")
    return points


NormPolygon = Annotated[tuple[NormPoint, ...], AfterValidator(check_polygon)]


class Anchor(StrEnum):
    """Which point of a box decides zone membership: feet (bottom centre) suit people and vehicles."""

    BOTTOM_CENTRE = "bottom_centre"
    CENTRE = "centre"
    TOP_CENTRE = "top_centre"
    ANY_CORNER = "any_corner"


class LineDirection(StrEnum):
    """Which crossings of a line count: from side a to side b, the reverse, or both.

    Side a is on the left of the line walking from its first point to its second, in image coordinates
    (y down): for a horizontal line drawn left to right, side a is above and b below it.
    """

    A_TO_B = "a_to_b"
    B_TO_A = "b_to_a"
    BOTH = "both"


class _Geometry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ZoneConfig(_Geometry):
    id: Identifier = Field(description="zone id, unique per camera; rules name it")
    name: str | None = Field(default=None, max_length=100, description="human label shown in alerts")
    polygon: NormPolygon = Field(description="normalised [x, y] points, >= 3, in order around the outline")
    anchor: Anchor = Field(default=Anchor.BOTTOM_CENTRE, description="box point that decides membership")


class LineConfig(_Geometry):
    id: Identifier = Field(description="line id, unique per camera; line_crossing rules name it")
    name: str | None = Field(default=None, max_length=100, description="human label shown in alerts")
    points: tuple[NormPoint, NormPoint] = Field(description="two normalised [x, y] points: a then b")
    direction: LineDirection = Field(
        default=LineDirection.BOTH, description="crossings that count by default"
    )
    anchor: Anchor = Field(default=Anchor.BOTTOM_CENTRE, description="box point whose crossing is tested")

    @model_validator(mode="after")
    def _distinct_points(self) -> LineConfig:
        if self.points[0] == self.points[1]:
            raise ValueError(f"line '{self.id}': its two points are equal, a line needs two distinct points")
        return self


class MaskConfig(_Geometry):
    id: Identifier = Field(description="mask id, unique per camera")
    polygon: NormPolygon = Field(description="detections whose anchor falls inside are dropped")
    anchor: Anchor = Field(default=Anchor.BOTTOM_CENTRE, description="box point tested against the mask")
    classes: tuple[str, ...] = Field(
        default=(), description="only drop these classes; empty drops every class"
    )

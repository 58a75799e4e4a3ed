"""Area boundaries a programme uploads as GeoJSON: checked thoroughly, then stored one row per area.

A boundary file is a FeatureCollection of Polygon or MultiPolygon features in longitude/latitude
(WGS 84, as GeoJSON requires), each with an area code property matching the codes sessions use.
Anything else is refused with a message that says what to fix; nothing is stored unless all of it is good.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import AreaBoundary, Programme
from ..principal import Principal

MAX_BYTES = 5 * 1024 * 1024
MAX_FEATURES = 500
MAX_POSITIONS = 200_000
CODE_PROPERTIES = ("area_code", "code")
NAME_PROPERTIES = ("name", "area_name")
# The same shape archive.programmes accepts for a session's area.
AREA_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")


class BoundaryError(ValueError):
    """A boundary file that cannot be used; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    geometry: dict


def normalise_area_code(value: object) -> str | None:
    code = str(value).strip().upper() if isinstance(value, (str, int)) else ""
    return code if AREA_CODE.fullmatch(code) else None


def parse_boundaries(data: bytes, code_property: str | None = None) -> list[Area]:
    """Check an uploaded GeoJSON file and return its areas, or raise BoundaryError."""
    if not data:
        raise BoundaryError(lazy_gettext("The file is empty. Choose a GeoJSON file of your area boundaries."))
    if len(data) > MAX_BYTES:
        raise BoundaryError(lazy_gettext("The file is larger than %(mb)d MB. Simplify the boundaries and try again.", mb=MAX_BYTES // (1024 * 1024)))
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BoundaryError(lazy_gettext("The file is not valid JSON (%(reason)s). Export it as GeoJSON and try again.", reason=_reason(exc))) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise BoundaryError(lazy_gettext('The file must be a GeoJSON FeatureCollection (its "type" is "FeatureCollection").'))
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryError(lazy_gettext("The FeatureCollection has no features. It needs one feature for each area."))
    if len(features) > MAX_FEATURES:
        raise BoundaryError(lazy_gettext("The file has %(n)d areas; up to %(most)d can be mapped.", n=len(features), most=MAX_FEATURES))
    areas: list[Area] = []
    seen: set[str] = set()
    budget = [MAX_POSITIONS]
    for n, feature in enumerate(features, start=1):
        area = _feature(n, feature, code_property, budget)
        if area.code in seen:
            raise BoundaryError(lazy_gettext("Feature %(n)d: the area code %(code)s appears more than once.", n=n, code=area.code))
        seen.add(area.code)
        areas.append(area)
    return areas


def _no_constants(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return str(lazy_gettext("line %(line)d, column %(column)d: %(problem)s", line=exc.lineno, column=exc.colno, problem=exc.msg))
    if isinstance(exc, UnicodeDecodeError):
        return str(lazy_gettext("it is not UTF-8 text"))
    return str(exc)


def _feature(n: int, feature: object, code_property: str | None, budget: list[int]) -> Area:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise BoundaryError(lazy_gettext('Feature %(n)d is not a GeoJSON Feature (its "type" must be "Feature").', n=n))
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise BoundaryError(lazy_gettext("Feature %(n)d: its properties must be an object.", n=n))
    names = (code_property,) if code_property else CODE_PROPERTIES
    raw = next((properties[p] for p in names if p in properties), None)
    if raw is None:
        raise BoundaryError(lazy_gettext(
            "Feature %(n)d has no area code: each feature needs a property named %(names)s.",
            n=n, names=" / ".join(repr(p) for p in names),
        ))
    code = normalise_area_code(raw)
    if code is None:
        raise BoundaryError(lazy_gettext(
            "Feature %(n)d: the area code %(code)s is not 1 to 32 letters, digits, dashes or underscores.",
            n=n, code=repr(str(raw)[:40]),
        ))
    name = next((str(properties[p])[:200] for p in NAME_PROPERTIES if isinstance(properties.get(p), str)), "")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError(lazy_gettext("Area %(code)s: its geometry must be a Polygon or MultiPolygon.", code=code))
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry["type"] == "Polygon" else coords
    if not isinstance(polygons, list) or not polygons:
        raise BoundaryError(lazy_gettext("Area %(code)s: its geometry has no coordinates.", code=code))
    clean = [_polygon(code, polygon, budget) for polygon in polygons]
    stored = {"type": "Polygon", "coordinates": clean[0]} if geometry["type"] == "Polygon" else {"type": "MultiPolygon", "coordinates": clean}
    return Area(code, name, stored)


def _polygon(code: str, polygon: object, budget: list[int]) -> list:
    if not isinstance(polygon, list) or not polygon:
        raise BoundaryError(lazy_gettext("Area %(code)s: a polygon needs at least one ring of coordinates.", code=code))
    return [_ring(code, ring, budget) for ring in polygon]


def _ring(code: str, ring: object, budget: list[int]) -> list:
    if not isinstance(ring, list) or len(ring) < 4:
        raise BoundaryError(lazy_gettext(
            "Area %(code)s: each ring needs at least four positions, the last the same as the first.", code=code
        ))
    budget[0] -= len(ring)
    if budget[0] < 0:
        raise BoundaryError(lazy_gettext(
            "The boundaries have more than %(most)d points. Simplify them and try again.", most=MAX_POSITIONS
        ))
    out = []
    for position in ring:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position[:2])
            or not all(math.isfinite(v) for v in position[:2])
        ):
            raise BoundaryError(lazy_gettext("Area %(code)s: a position is not a pair of numbers [longitude, latitude].", code=code))
        lon, lat = float(position[0]), float(position[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BoundaryError(lazy_gettext(
                "Area %(code)s: the position [%(lon)s, %(lat)s] is not a longitude and latitude. "
                "GeoJSON uses WGS 84 degrees; convert from British National Grid or other projections first.",
                code=code, lon=f"{lon:g}", lat=f"{lat:g}",
            ))
        out.append([round(lon, 6), round(lat, 6)])
    if out[0] != out[-1]:
        raise BoundaryError(lazy_gettext("Area %(code)s: a ring is not closed (its last position must repeat its first).", code=code))
    return out


def replace_boundaries(db: Session, principal: Principal, programme: Programme, areas: list[Area]) -> int:
    """Store the programme's areas in place of any it had; returns how many."""
    db.execute(delete(AreaBoundary).where(AreaBoundary.programme_id == programme.id))
    for area in areas:
        db.add(AreaBoundary(programme_id=programme.id, area_code=area.code, name=area.name, geometry=area.geometry))
    record_event(db, principal, "analysis.boundaries_uploaded", "programme", programme.id, areas=len(areas))
    return len(areas)


def load_boundaries(db: Session, programme: Programme) -> list[Area]:
    rows = db.scalars(
        select(AreaBoundary).where(AreaBoundary.programme_id == programme.id).order_by(AreaBoundary.area_code)
    ).all()
    return [Area(r.area_code, r.name, r.geometry) for r in rows]

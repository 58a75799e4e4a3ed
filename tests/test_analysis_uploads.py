"""Boundary GeoJSON and population CSV uploads: good files load, bad ones get a message that says what to fix."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from archive.analysis.boundaries import MAX_BYTES, BoundaryError, parse_boundaries
from archive.analysis.maps import choropleth, map_data
from archive.analysis.reach import PopulationError, parse_population
from archive.models import AgeBand

SQUARE = [[[-4.3, 53.8], [-4.2, 53.8], [-4.2, 53.9], [-4.3, 53.9], [-4.3, 53.8]]]


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(code="RV01", geometry=None, **props) -> dict:
    return {"type": "Feature", "properties": {"area_code": code, **props},
            "geometry": geometry or {"type": "Polygon", "coordinates": SQUARE}}


def test_the_demo_boundaries_load_and_draw():
    data = files("archive.demo").joinpath("boundaries.geo.json").read_bytes()
    areas = parse_boundaries(data)
    assert [(a.code, a.name) for a in areas] == [("RV01", "Kestrel Vale"), ("RV02", "Ashgill Bridge"), ("RV03", "Tannery Fold")]
    svg = choropleth(areas, map_data({"RV01": 9, "RV02": 2}, areas, {}, 5), "m", "Title", "Desc", lambda c: f"/analysis/search?area={c}")
    assert svg.count("<path") == 3 and 'href="/analysis/search?area=RV02"' in svg
    assert "Kestrel Vale (RV01): [c]" in svg or "Kestrel Vale (RV01): 9" in svg
    assert "&lt;5" in svg  # the small count is labelled, not just shaded


def test_multipolygons_holes_and_other_code_properties():
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE, [[[0, 0], [1, 0], [1, 1], [0, 0]]]]}
    holed = {"type": "Polygon", "coordinates": SQUARE + [[[-4.28, 53.82], [-4.22, 53.82], [-4.25, 53.85], [-4.28, 53.82]]]}
    areas = parse_boundaries(collection(
        {"type": "Feature", "properties": {"WD24CD": "e05000001", "name": "Ward"}, "geometry": multi},
        {"type": "Feature", "properties": {"WD24CD": "E05000002"}, "geometry": holed},
    ), code_property="WD24CD")
    assert [a.code for a in areas] == ["E05000001", "E05000002"]
    assert areas[0].geometry["type"] == "MultiPolygon" and len(areas[1].geometry["coordinates"]) == 2


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"{not json", "not valid JSON (line 1"),
    (b"\xff\xfe\x00", "not valid JSON"),
    (b"[1, 2]", "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "no features"),
    (collection({"type": "Point"}), "not a GeoJSON Feature"),
    (collection(feature(code=None)), "has no area code"),
    (collection({"type": "Feature", "properties": {}, "geometry": None}), "has no area code"),
    (collection(feature(code="bad code!")), "not 1 to 32 letters"),
    (collection(feature(geometry={"type": "Point", "coordinates": [0, 0]})), "Polygon or MultiPolygon"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": []})), "at least one ring"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]})), "at least four positions"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]})), "not closed"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[[430000, 450000], [1, 0], [1, 1], [430000, 450000]]]})), "British National Grid"),
    (collection(feature(geometry={"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], ["a", 0]]]})), "pair of numbers"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[NaN, 0], [1, 0], [1, 1], [NaN, 0]]]}}]}', "not valid JSON"),
    (collection(feature(), feature()), "more than once"),
])
def test_malformed_boundaries_get_a_clear_message(data, message):
    with pytest.raises(BoundaryError) as caught:
        parse_boundaries(data)
    assert message in str(caught.value)


def test_oversized_and_overdetailed_boundaries_are_refused():
    with pytest.raises(BoundaryError, match="larger than 5 MB"):
        parse_boundaries(b" " * (MAX_BYTES + 1))
    ring = [[-4 + i * 1e-6, 53.0] for i in range(200_001)] + [[-4, 53.0]]
    with pytest.raises(BoundaryError, match="more than 200000 points"):
        parse_boundaries(collection(feature(geometry={"type": "Polygon", "coordinates": [ring]})))


def test_population_csv_in_the_shapes_spreadsheets_write():
    text = "\ufeffArea,Age band,Population\r\nrv01,5_11,\"1,200\"\r\nRV01,Young people aged 11 to 15,300\r\n,,\r\nRV02,16-19,0\r\n"
    rows = parse_population(text.encode("utf-8"))
    assert [(r.area, r.age_band, r.population) for r in rows] == [
        ("RV01", AgeBand.AGE_5_11, 1200), ("RV01", AgeBand.AGE_11_15, 300), ("RV02", AgeBand.AGE_16_19, 0),
    ]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("area,population\nRV01,10\n", "missing: age band"),
    ("area,age_band,population\n", "no figures"),
    ("area,age_band,population\nRV 01,5_11,10\n", "Row 2: the area"),
    ("area,age_band,population\nRV01,toddlers,10\n", "Row 2: the age band 'toddlers'"),
    ("area,age_band,population\nRV01,5_11,-3\n", "Row 2: the population '-3'"),
    ("area,age_band,population\nRV01,5_11,lots\n", "not a whole number"),
    ("area,age_band,population\nRV01,5_11,10\nRV01,5_11,12\n", "Row 3: RV01 and 5_11 appear more than once"),
])
def test_bad_population_files_get_a_clear_message(text, message):
    with pytest.raises(PopulationError) as caught:
        parse_population(text.encode("utf-8"))
    assert message in str(caught.value)


def test_population_files_that_are_not_text_or_too_big():
    with pytest.raises(PopulationError, match="not UTF-8"):
        parse_population(b"area,age_band,population\n\xff\xfe,5_11,1\n")
    with pytest.raises(PopulationError, match="larger than 1 MB"):
        parse_population(b"a" * (1024 * 1024 + 1))
    many = "area,age_band,population\n" + "".join(f"A{n},5_11,x\n" for n in range(50))
    with pytest.raises(PopulationError) as caught:
        parse_population(many.encode())
    assert str(caught.value).count("Row ") == 10 and "Later rows were not checked" in str(caught.value)


def test_the_demo_areas_load_into_a_programme(make, db):
    from archive.demo.areas import load_demo_areas
    from archive.models import AreaBoundary, PopulationFigure

    programme = make.programme()
    load_demo_areas(db, programme)
    db.commit()
    assert db.query(AreaBoundary).filter_by(programme_id=programme.id).count() == 3
    assert db.query(PopulationFigure).filter_by(programme_id=programme.id).count() == 15

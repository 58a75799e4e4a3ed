"""The themes, map and reach pages in Chromium: axe-core finds nothing, charts are named images, areas are links.

The programme has the demo's invented ward boundaries and population figures, and enough items
for some counts to be shown and some to be hidden, so both kinds of cell are on every page.
"""

from __future__ import annotations

import pytest

from archive.analysis.boundaries import parse_boundaries, replace_boundaries
from archive.analysis.reach import parse_population, replace_population
from archive.models import AgeBand, ConsentGiver, ConsentLevel, Polarity, Role, TagSource, TagStatus, ThemeTag
from archive.principal import SYSTEM
from tests.browser.conftest import assert_no_axe_violations, sign_in_staff_page, submit

PLAN = [  # area, age band, themes with polarity
    ("RV01", AgeBand.AGE_16_19, [("housing", Polarity.BARRIER), ("money", Polarity.BARRIER)]),
    ("RV01", AgeBand.AGE_16_19, [("housing", Polarity.BARRIER)]),
    ("RV02", AgeBand.AGE_11_15, [("place", Polarity.ASSET)]),
] + [("RV01", AgeBand.AGE_16_19, [("housing", Polarity.ASSET)])] * 6


@pytest.fixture
def programme(make, db):
    from importlib.resources import files

    programme = make.programme()
    demo = files("archive.demo")
    replace_boundaries(db, SYSTEM, programme, parse_boundaries(demo.joinpath("boundaries.geo.json").read_bytes()))
    import json

    lines = json.loads(demo.joinpath("population.json").read_text())["csv"]
    replace_population(db, SYSTEM, programme, parse_population("\n".join(lines).encode()))
    db.commit()
    sessions = {area: make.session(programme, area=area) for area in ("RV01", "RV02")}
    for area, band, themes in PLAN:
        person = make.participant(sessions[area], band=band)
        make.consent(person, ConsentLevel.REPORT, giver=ConsentGiver.PARENT_CARER)
        item = make.artefact(person)
        for theme, polarity in themes:
            db.add(ThemeTag(artefact_id=item.id, framework="determinants", theme=theme, polarity=polarity,
                            source=TagSource.PARTICIPANT, status=TagStatus.SUGGESTED))
    db.commit()
    return programme


def _sign_in(page, make, programme, role):
    sign_in_staff_page(page, make.staff(programme, role))


@pytest.mark.parametrize("path", ["/analysis/themes", "/analysis/map", "/analysis/map?measure=rate&theme=housing", "/analysis/reach"])
def test_analysis_pages_pass_axe(path, page, make, programme, axe, expect):
    _sign_in(page, make, programme, Role.ANALYST)
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert page.locator("text=<5").count() > 0  # a hidden count is on the page, so its styling is checked too
    assert_no_axe_violations(axe, page, path)


def test_charts_are_named_images_and_the_nav_leads_here(page, make, programme, expect):
    _sign_in(page, make, programme, Role.ANALYST)
    page.goto("/staff/")
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():  # on a phone the service navigation folds behind a button
        menu.click()
    with page.expect_navigation():
        page.get_by_role("link", name="Themes, map and reach").click()
    expect(page.get_by_role("heading", name="Themes", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Items by theme")).to_be_visible()
    expect(page.get_by_role("img", name="Themes that come up together")).to_be_visible()


def test_clicking_an_area_on_the_map_searches_it(page, make, programme):
    _sign_in(page, make, programme, Role.ANALYST)
    page.goto("/analysis/map")
    area = page.get_by_role("link", name="Kestrel Vale (RV01)")
    with page.expect_navigation():
        area.click()
    assert page.url.endswith("/analysis/search?area=RV01")


def test_an_upload_error_passes_axe_and_names_the_problem(page, make, programme, axe, expect, tmp_path):
    _sign_in(page, make, programme, Role.FACILITATOR)
    page.goto(f"/analysis/programme/{programme.code}/boundaries")
    bad = tmp_path / "wards.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "RV01"}, '
                   '"geometry": {"type": "Point", "coordinates": [0, 0]}}]}')
    page.get_by_label("Boundary file (GeoJSON)").set_input_files(str(bad))
    submit(page, "Upload boundaries")
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be a Polygon or MultiPolygon")
    assert_no_axe_violations(axe, page, "boundary upload error")

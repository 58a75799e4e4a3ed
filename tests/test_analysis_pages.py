"""The themes, map and reach pages: what they show, their CSV, their uploads and their refusals."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from archive.models import AgeBand, AreaBoundary, ConsentLevel, PopulationFigure, Role, TagSource, TagStatus, ThemeTag
from tests.conftest import csrf_token, sign_in_staff

SQUARE = [[[-4.3, 53.8], [-4.2, 53.8], [-4.2, 53.9], [-4.3, 53.9], [-4.3, 53.8]]]


@pytest.fixture
def riverside(make, db):
    """Seven heard in RV01 (six about housing, two about money), one team-only item about money."""
    programme = make.programme("riverside")
    session = make.session(programme, area="RV01")
    for n in range(7):
        p = make.participant(session, band=AgeBand.AGE_16_19)
        make.consent(p, ConsentLevel.REPORT)
        item = make.artefact(p, title=f"Item {n}")
        for theme in (["housing"] if n < 6 else []) + (["money"] if n < 2 else []):
            db.add(ThemeTag(artefact_id=item.id, framework="determinants", theme=theme, source=TagSource.PARTICIPANT,
                            status=TagStatus.SUGGESTED))
    hidden = make.participant(session, band=AgeBand.AGE_16_19)
    make.consent(hidden, ConsentLevel.TEAM)
    secret = make.artefact(hidden, title="Team only")
    for _ in range(3):
        db.add(ThemeTag(artefact_id=secret.id, framework="determinants", theme="transport", source=TagSource.FACILITATOR,
                        status=TagStatus.ACCEPTED))
    db.commit()
    return programme


def _sign_in(client, make, programme, role):
    user = make.staff(programme, role)
    assert sign_in_staff(client, user.email).status_code == 302
    return user


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _table(html: str, table_id: str) -> list[list[str]]:
    """The text of an HTML table's cells, row by row."""
    block = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", block, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).replace("&lt;", "<").replace("&amp;", "&").strip() for c in cells])
    return rows


def test_themes_page_charts_tables_and_csv_agree(client, make, riverside):
    _sign_in(client, make, riverside, Role.ANALYST)
    page = client.get("/analysis/themes")
    assert page.status_code == 200
    html = page.text
    assert html.count('role="img"') == 7 and html.count("<title id=") == 7 and html.count("<desc id=") == 7
    shown = _table(html, "table-totals")
    # 2 is small and the total would give it away: the 6 beside it is hidden too.
    assert shown[1:] == [["Money and resources", "<5"], ["Housing", "[c]"], ["Total", "8"]]
    assert not any(row[0].startswith("Transport") for row in shown)  # the team-only item is not counted
    # The chart gives nothing away either: no hidden number as text, no bar drawn to its length.
    chart = re.search(r'<svg[^>]*id="chart-totals".*?</svg>', html, re.S).group(0)
    assert ">2<" not in chart and ">6<" not in chart and "&lt;5" in chart and "[c]" in chart
    assert len(re.findall(r'fill="#1d70b8"', chart)) == 0  # both bars are hidden, so no solid bar at all
    for key in ("totals", "age_band", "area", "kind", "polarity", "together", "months"):
        assert _csv(client.get(f"/analysis/themes.csv?programme=riverside&table={key}")) == _table(html, f"table-{key}")
    assert client.get("/analysis/themes.csv?programme=riverside&table=nope").status_code == 404


def test_pages_for_someone_else_s_programme_are_not_found(client, make, riverside):
    _sign_in(client, make, make.programme("elsewhere"), Role.ANALYST)
    for url in ("/analysis/themes?programme=riverside", "/analysis/map?programme=riverside",
                "/analysis/reach?programme=riverside", "/analysis/themes.csv?programme=riverside",
                "/analysis/themes?programme=" + "x" * 5000):
        assert client.get(url).status_code == 404


def test_someone_on_two_programmes_chooses_one(client, make, db, riverside):
    user = _sign_in(client, make, riverside, Role.ANALYST)
    from archive.accounts import grant_role
    from archive.principal import SYSTEM

    grant_role(db, SYSTEM, user, make.programme("second"), Role.ANALYST)
    db.commit()
    sign_in_staff(client, user.email)
    page = client.get("/analysis/reach")
    assert page.status_code == 200 and "Choose a programme" in page.text
    assert 'href="/analysis/reach?programme=second"' in page.text


def test_map_links_areas_to_search_and_falls_back_to_a_table(client, make, db, riverside):
    _sign_in(client, make, riverside, Role.ANALYST)
    page = client.get("/analysis/map")
    assert page.status_code == 200 and "no area boundaries" in page.text
    db.add(AreaBoundary(programme_id=riverside.id, area_code="RV01", name="Kestrel Vale",
                        geometry={"type": "Polygon", "coordinates": SQUARE}))
    db.add(PopulationFigure(programme_id=riverside.id, area_code="RV01", age_band=AgeBand.AGE_16_19, population=700))
    db.commit()
    html = client.get("/analysis/map?theme=housing&measure=rate").text
    assert '<a href="/analysis/search?area=RV01"' in html
    assert "8.6" in html  # 6 items per 700 people, per 1,000
    rows = _csv(client.get("/analysis/map.csv?theme=housing"))
    assert rows[1] == ["RV01", "Kestrel Vale", "6", "700", "8.6"]
    unknown = client.get("/analysis/map?theme=%3Cscript%3E")
    assert unknown.status_code == 200 and "<script>" not in unknown.text.split("</header>")[1].split("<footer")[0]


def test_reach_marks_seldom_heard_groups(client, make, db, riverside):
    _sign_in(client, make, riverside, Role.ANALYST)
    db.add_all([
        PopulationFigure(programme_id=riverside.id, area_code="RV01", age_band=AgeBand.AGE_16_19, population=700),
        PopulationFigure(programme_id=riverside.id, area_code="RV02", age_band=AgeBand.AGE_16_19, population=9000),
    ])
    db.commit()
    html = client.get("/analysis/reach").text
    rates = _table(html, "table-rates")
    assert rates[2][4] == "0 heard of 9,000: 0.0 per 1,000 (seldom heard)"
    assert rates[1][4] == "7 heard of 700: 10.0 per 1,000"
    assert _csv(client.get("/analysis/reach.csv?table=rates")) == rates
    assert _csv(client.get("/analysis/reach.csv?table=send")) == _table(html, "table-send")
    assert client.get("/analysis/reach.csv?table=other").status_code == 404


def _upload(client, url, field, name, data, **extra):
    token = csrf_token(client.get(url).text)
    return client.post(url, data={"csrf_token": token, field: (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def test_uploads_by_the_programme_team(client, make, db, riverside):
    _sign_in(client, make, riverside, Role.FACILITATOR)
    url = "/analysis/programme/riverside/boundaries"
    bad = _upload(client, url, "boundaries", "wards.geojson", b'{"type": "Feature"}')
    assert bad.status_code == 400 and "FeatureCollection" in bad.text and "There is a problem" in bad.text
    empty = _upload(client, url, "boundaries", "", b"")
    assert empty.status_code == 400 and "Choose a GeoJSON file" in empty.text
    good = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "rv01", "name": "Kestrel Vale"}, "geometry": {"type": "Polygon", "coordinates": SQUARE}}
    ]}).encode()
    saved = _upload(client, url, "boundaries", "wards.geojson", good)
    assert saved.status_code == 302 and db.query(AreaBoundary).filter_by(programme_id=riverside.id).count() == 1

    url = "/analysis/programme/riverside/population"
    bad = _upload(client, url, "population", "pop.csv", b"area,age_band,population\nRV01,5_11,many\n")
    assert bad.status_code == 400 and "Row 2: the population" in bad.text
    saved = _upload(client, url, "population", "pop.csv", b"area,age_band,population\nRV01,5_11,900\n")
    assert saved.status_code == 302
    assert db.query(PopulationFigure).filter_by(programme_id=riverside.id).one().population == 900


def test_analysts_may_not_upload(client, make, riverside):
    _sign_in(client, make, riverside, Role.ANALYST)
    assert client.get("/analysis/programme/riverside/boundaries").status_code == 403
    assert client.get("/analysis/themes").status_code == 200


def test_an_admin_sets_the_threshold_and_the_pages_follow_it(client, make, db, riverside):
    _sign_in(client, make, riverside, Role.ADMIN)
    url = "/analysis/programme/riverside/threshold"
    page = client.get(url)
    assert page.status_code == 200 and 'value="5"' in page.text
    for bad in ("2", "lots", "101", ""):
        refused = client.post(url, data={"csrf_token": csrf_token(page.text), "threshold": bad})
        assert refused.status_code == 400 and "Enter a whole number from 3 to 100" in refused.text
    saved = client.post(url, data={"csrf_token": csrf_token(page.text), "threshold": "10"})
    assert saved.status_code == 302
    db.refresh(riverside)
    assert riverside.small_count_threshold == 10
    shown = _table(client.get("/analysis/themes").text, "table-totals")
    assert ["Housing", "<10"] in shown[1:]  # 6 is now small too
    client.post(url, data={"csrf_token": csrf_token(page.text), "threshold": "0"})
    shown = _table(client.get("/analysis/themes").text, "table-totals")
    assert ["Money and resources", "2"] in shown[1:]

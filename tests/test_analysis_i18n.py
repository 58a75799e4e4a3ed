"""The themes, map and reach pages are fully translatable: rendered in a pseudo-language, no UI English is left.

Uses the pseudo-Welsh catalog of tests/pseudo_locale.py. What may stay English is data, not
interface: the framework's theme labels (the framework files are their own content) and the invented
area names and codes.
"""

from __future__ import annotations

import re

import pytest

from archive.analysis.boundaries import parse_boundaries, replace_boundaries
from archive.frameworks import load_framework
from archive.models import AgeBand, ConsentLevel, PopulationFigure, Role, TagSource, TagStatus, ThemeTag
from archive.principal import SYSTEM
from tests.conftest import csrf_token, sign_in_staff
from tests.pseudo_locale import LOCALE, get, pseudo_settings, untranslated_words


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return pseudo_settings(tmp_path, pseudo_catalogs)


SQUARE = [[[-4.3, 53.8], [-4.2, 53.8], [-4.2, 53.9], [-4.3, 53.9], [-4.3, 53.8]]]
DATA_WORDS = {w for t in load_framework("determinants").themes for w in re.findall(r"[A-Za-z][A-Za-z']+", t.label)}
DATA_WORDS |= {"RV", "Kestrel", "Vale", "Test", "listening", "programme"}  # area and programme names


def _ui_english(html: str) -> set[str]:
    left = untranslated_words(html) - DATA_WORDS
    # Long labels are shortened in charts ("Money and resourc…"): a cut data word is still data.
    return {w for w in left if not any(d.startswith(w) for d in DATA_WORDS)}


def test_analysis_pages_are_fully_translatable(client, make, db):
    programme = make.programme()
    import json

    replace_boundaries(db, SYSTEM, programme, parse_boundaries(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "RV01", "name": "Kestrel Vale"}, "geometry": {"type": "Polygon", "coordinates": SQUARE}},
    ]}).encode()))
    db.add(PopulationFigure(programme_id=programme.id, area_code="RV01", age_band=AgeBand.AGE_16_19, population=9000))
    session = make.session(programme, area="RV01")
    for n in range(7):
        person = make.participant(session)
        make.consent(person, ConsentLevel.REPORT)
        item = make.artefact(person)
        db.add(ThemeTag(artefact_id=item.id, framework="determinants", theme="housing" if n else "money",
                        source=TagSource.PARTICIPANT, status=TagStatus.SUGGESTED))
    db.commit()
    admin = make.staff(programme, Role.ADMIN)
    sign_in_staff(client, admin.email)
    code = programme.code
    for path in ("/analysis/themes", "/analysis/map", "/analysis/map?measure=rate", "/analysis/reach",
                 f"/analysis/programme/{code}/boundaries", f"/analysis/programme/{code}/population",
                 f"/analysis/programme/{code}/threshold"):
        assert _ui_english(get(client, path)) == set(), path
    page = get(client, f"/analysis/programme/{code}/population")
    import io

    refused = client.post(f"/analysis/programme/{code}/population", headers={"Accept-Language": LOCALE},
                          data={"csrf_token": csrf_token(page), "population": (io.BytesIO(b"area,age_band,population\nRV01,5_11,x\n"), "p.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    assert _ui_english(refused.get_data(as_text=True)) == set()
    refused = client.post(f"/analysis/programme/{code}/threshold", headers={"Accept-Language": LOCALE},
                          data={"csrf_token": csrf_token(page), "threshold": "2"})
    assert refused.status_code == 400
    assert _ui_english(refused.get_data(as_text=True)) == set()

"""Every word on the export and quotes pages can be translated (tests/pseudo_locale.py)."""

from __future__ import annotations

import re

import pytest

from archive.erasure import withdraw_artefact
from archive.exports.quotes import add_quote
from archive.exports.service import make_export
from archive.models import ConsentLevel, Role
from archive.principal import SYSTEM, staff_principal
from tests.conftest import csrf_token, sign_in_staff
from tests.pseudo_locale import LOCALE, pseudo_settings, untranslated_words

# What the test wrote itself, and values that are data rather than words (ids, codes, a hash name).
DATA = {"Bus", "Sundays", "Blue", "Fox", "riverside", "Test", "listening", "programme", "Sam", "Staff", "The",
        "bus", "never", "comes", "on", "csv", "zip", "artefacts", "text_story", "kind", "chorus", "UTC", "SHA", "zebra"}
# Ids and hashes are data too.
IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{64}")


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return pseudo_settings(tmp_path, pseudo_catalogs)


def _words(client, path, status=200, method="get", data=None):
    response = client.open(path, method=method, data=data, headers={"Accept-Language": LOCALE})
    assert response.status_code == status, path
    return untranslated_words(IDS.sub("", response.get_data(as_text=True))) - DATA


def test_export_and_quote_pages_are_fully_translatable(client, make, db):
    programme = make.programme("riverside")
    fox = make.participant(make.session(programme), alias="Blue Fox")
    make.consent(fox, ConsentLevel.REPORT, credit=True)
    item = make.artefact(fox, story="The bus never comes on Sundays", title="Bus")
    analyst = make.staff(programme, Role.ANALYST)
    principal = staff_principal(analyst)
    add_quote(db, principal, item, "story", "The bus never comes")
    record = make_export(db, principal, programme, "artefacts_csv", purpose="").record
    db.commit()
    withdraw_artefact(db, SYSTEM, item)
    db.commit()
    sign_in_staff(client, analyst.email)
    for path in ("/exports/riverside", f"/exports/riverside/{record.id}", "/exports/riverside/new",
                 "/quotes/riverside"):
        assert _words(client, path) == set(), path
    token = csrf_token(client.get("/exports/riverside/new").text)
    assert _words(client, "/exports/riverside/new", 400, "post", {"csrf_token": token}) == set()
    assert _words(client, f"/exports/riverside/{record.id}/recall", 400, "post", {"csrf_token": token}) == set()


def test_the_quote_picking_page_is_fully_translatable(client, make, db):
    programme = make.programme("riverside")
    fox = make.participant(make.session(programme), alias="Blue Fox")
    make.consent(fox, ConsentLevel.REPORT)
    item = make.artefact(fox, story="The bus never comes on Sundays", title="Bus")
    analyst = make.staff(programme, Role.ANALYST)
    sign_in_staff(client, analyst.email)
    url = f"/quotes/riverside/from/{item.id}"
    assert _words(client, url) == set()
    token = csrf_token(client.get(url).text)
    assert _words(client, url, 400, "post", {"csrf_token": token, "source": "story", "text": "zebra"}) == set()

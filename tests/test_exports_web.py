"""The export register, export forms and quotes board through the web pages."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from archive.erasure import withdraw_artefact
from archive.models import ConsentLevel, ExportRecord, Quote, Role
from archive.principal import SYSTEM
from tests.conftest import csrf_token, sign_in_staff


@pytest.fixture
def world(make, db, services):
    from search.index import index_artefact

    programme = make.programme("riverside")
    session = make.session(programme)
    named = make.participant(session, alias="Blue Fox")
    make.consent(named, ConsentLevel.REPORT, credit=True)
    plain = make.participant(session, alias="Green Frog")
    make.consent(plain, ConsentLevel.REPORT)
    items = {
        "bus": make.artefact(named, story="The bus never comes on Sundays", title="Bus"),
        "park": make.artefact(plain, story="Our park has no lights so it is scary", title="Park"),
    }
    for item in items.values():
        db.refresh(item)
        index_artefact(services.settings.index_dir, item)
    analyst = make.staff(programme, Role.ANALYST)
    outsider = make.staff(make.programme("elsewhere"), Role.ANALYST)
    return {"programme": programme, "items": items, "analyst": analyst, "outsider": outsider, "plain": plain}


def _signed_in(client, user):
    assert sign_in_staff(client, user.email).status_code == 302
    return client


def _post(client, page_url, url, data):
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={**data, "csrf_token": token})


def _zip(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_exporting_the_whole_programme_downloads_a_registered_zip(client, world, db):
    _signed_in(client, world["analyst"])
    response = _post(client, "/exports/riverside/new", "/exports/riverside/new",
                     {"format": "artefacts_csv", "purpose": "Transport chapter"})
    assert response.status_code == 200
    assert response.mimetype == "application/zip" and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    files = _zip(response)
    assert set(files) == {"artefacts.csv", "manifest.json"}
    record = db.query(ExportRecord).one()
    assert record.purpose == "Transport chapter" and record.item_count == 2
    register = client.get("/exports/riverside").text
    assert f"/exports/riverside/{record.id}" in register and "Nothing has changed" in register


def test_exporting_a_search_carries_the_query_to_the_form_and_the_register(client, world, db):
    _signed_in(client, world["analyst"])
    page = client.get("/exports/riverside/new?q=bus&kind=text_story")
    assert page.status_code == 200 and "bus" in page.text
    assert re.search(r'<input type="hidden" name="q" value="bus">', page.text)
    response = client.post("/exports/riverside/new", data={
        "format": "artefacts_csv", "q": "bus", "kind": "text_story", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 200
    csv_text = _zip(response)["artefacts.csv"].decode("utf-8-sig")
    assert str(world["items"]["bus"].id) in csv_text and str(world["items"]["park"].id) not in csv_text
    record = db.query(ExportRecord).one()
    assert record.query_text == "bus" and record.filters == {"kind": ["text_story"]}


@pytest.mark.parametrize("data, message", [
    ({}, "Choose what to export"),
    ({"format": "artefacts_csv", "q": "consent_level:3"}, "consent_level"),
    ({"format": "artefacts_csv", "q": "nothing matches this zebra"}, "nothing to export"),
    ({"format": "artefacts_csv", "age_band": "ninety"}, "ninety"),
    ({"format": "xlsx"}, "Choose what to export"),
])
def test_bad_export_requests_get_a_clear_message_and_no_record(client, world, db, data, message):
    _signed_in(client, world["analyst"])
    response = _post(client, "/exports/riverside/new", "/exports/riverside/new", data)
    assert response.status_code == 400
    assert "There is a problem" in response.text and message in response.text
    assert db.query(ExportRecord).count() == 0


def test_the_register_shows_which_exports_held_a_withdrawn_item_and_records_a_recall(client, world, db):
    _signed_in(client, world["analyst"])
    _post(client, "/exports/riverside/new", "/exports/riverside/new", {"format": "themes_csv"})
    record = db.query(ExportRecord).one()
    withdraw_artefact(db, SYSTEM, world["items"]["park"])
    db.commit()
    register = client.get("/exports/riverside").text
    assert "1 item changed" in register and "1 export holds items whose consent has changed" in register
    detail_url = f"/exports/riverside/{record.id}"
    detail = client.get(detail_url).text
    assert "Withdrawn: recall or redact this item" in detail and str(world["items"]["park"].id) in detail
    empty = _post(client, detail_url, f"{detail_url}/recall", {"note": ""})
    assert empty.status_code == 400 and "Say who was asked" in empty.text
    done = _post(client, detail_url, f"{detail_url}/recall", {"note": "Emailed the JSNA team to delete it"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(ExportRecord, record.id).recalled_at is not None
    assert "Emailed the JSNA team" in client.get(detail_url).text


def test_staff_of_another_programme_reach_none_of_it(app, client, world, make, db):
    db.add(Quote(programme_id=world["programme"].id, artefact_id=world["items"]["bus"].id, source="story",
                 text="bus never comes", position=1))
    db.commit()
    analyst_client = _signed_in(client, world["analyst"])
    _post(analyst_client, "/exports/riverside/new", "/exports/riverside/new", {"format": "artefacts_csv"})
    record = db.query(ExportRecord).one()
    client = _signed_in(app.test_client(), world["outsider"])
    quote_id = db.query(Quote).one().id
    item = world["items"]["bus"].id
    for url in ["/exports/riverside", f"/exports/riverside/{record.id}", "/exports/riverside/new",
                "/quotes/riverside", f"/quotes/riverside/from/{item}"]:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client.get("/exports/elsewhere/new").text)
    for url, data in [("/exports/riverside/new", {"format": "artefacts_csv"}),
                      (f"/exports/riverside/{record.id}/recall", {"note": "x"}),
                      ("/quotes/riverside/arrange", {"quote_id": quote_id, "action": "remove"}),
                      (f"/quotes/riverside/from/{item}", {"source": "story", "text": "bus"})]:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    assert db.query(Quote).count() == 1 and db.query(ExportRecord).count() == 1
    assert "riverside" not in client.get("/exports", follow_redirects=True).text


def test_quotes_board_round_trip(client, world, db):
    _signed_in(client, world["analyst"])
    bus, park = world["items"]["bus"], world["items"]["park"]
    for item, words in ((bus, "bus never comes"), (park, "no lights so it is scary")):
        url = f"/quotes/riverside/from/{item.id}"
        response = _post(client, url, url, {"source": "story", "text": words})
        assert response.status_code == 302
    board = client.get("/quotes/riverside").text
    assert "Blue Fox, a young person aged 16-19" in board
    assert "Green Frog" not in board and "a young person aged 16-19" in board
    assert board.index("bus never comes") < board.index("no lights")

    quotes = {q.text: q.id for q in db.query(Quote)}
    moved = _post(client, "/quotes/riverside", "/quotes/riverside/arrange",
                  {"quote_id": quotes["no lights so it is scary"], "action": "up"})
    assert moved.status_code == 302
    board = client.get("/quotes/riverside").text
    assert board.index("no lights") < board.index("bus never comes")

    exported = _post(client, "/quotes/riverside", "/exports/riverside/new", {"format": "quotes_md"})
    markdown = _zip(exported)["quotes.md"].decode()
    assert markdown.index("no lights") < markdown.index("bus never comes")
    assert db.query(ExportRecord).one().format == "quotes_md"

    _post(client, "/quotes/riverside", "/quotes/riverside/arrange",
          {"quote_id": quotes["bus never comes"], "action": "remove"})
    assert "bus never comes" not in client.get("/quotes/riverside").text


def test_a_quote_must_be_the_items_words(client, world, db):
    _signed_in(client, world["analyst"])
    url = f"/quotes/riverside/from/{world['items']['bus'].id}"
    response = _post(client, url, url, {"source": "story", "text": "the council is great"})
    assert response.status_code == 400 and "must be words from the item" in response.text
    assert db.query(Quote).count() == 0


def test_a_withdrawn_item_can_no_longer_be_quoted_and_its_quotes_leave_the_board(client, world, db):
    _signed_in(client, world["analyst"])
    park = world["items"]["park"]
    url = f"/quotes/riverside/from/{park.id}"
    _post(client, url, url, {"source": "story", "text": "no lights"})
    withdraw_artefact(db, SYSTEM, park)
    db.commit()
    assert client.get(url).status_code == 404
    assert "no lights" not in client.get("/quotes/riverside").text


def test_the_staff_menu_links_to_exports(client, world):
    _signed_in(client, world["analyst"])
    page = client.get("/exports", follow_redirects=True).text
    assert 'href="/exports"' in page and "Exports and quotes" in page


def test_the_board_finds_an_item_from_a_pasted_link_or_says_what_to_paste(client, world):
    _signed_in(client, world["analyst"])
    item = world["items"]["bus"].id
    found = client.get(f"/quotes/riverside?item=http://chorus.example/analysis/items/{item}")
    assert found.status_code == 302 and found.headers["Location"] == f"/quotes/riverside/from/{item}"
    missing = client.get("/quotes/riverside?item=bus+stop")
    assert missing.status_code == 200 and "Paste an item" in missing.text

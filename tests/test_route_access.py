"""Every route, every kind of caller: nobody reaches what they should not, and no route escapes the check."""

from __future__ import annotations

import time

import pytest

from archive.models import ArtefactKind, ConsentLevel, Role
from archive.web.access import policy_of
from tests.conftest import sign_in_staff

PRINCIPALS = ["anonymous", "participant_a", "participant_b", "other_facilitator", "analyst", "admin"]
EVERYONE = set(PRINCIPALS)
STAFF = {"other_facilitator", "analyst", "admin"}

# endpoint -> (method, who may reach it). A new endpoint must be added here or the coverage test fails.
ACCESS = {
    "public.home": ("GET", EVERYONE),
    "auth.sign_in": ("GET", EVERYONE),
    "auth.sign_out": ("POST", EVERYONE),
    "participant.join": ("GET", EVERYONE),
    "participant.sign_out": ("POST", EVERYONE),
    "participant.consent": ("GET", {"participant_a", "participant_b"}),
    "participant.come_back": ("GET", EVERYONE),
    "participant.my_pin": ("GET", {"participant_a", "participant_b"}),
    "staff.clear_pin": ("POST", {"admin"}),
    "participant.my_things": ("GET", {"participant_a", "participant_b"}),
    "participant.withdraw_one": ("POST", {"participant_a"}),
    "participant.withdraw_everything": ("POST", {"participant_a", "participant_b"}),
    "participant.grown_up": ("GET", {"participant_a", "participant_b"}),
    "participant.grown_up_here": ("GET", {"participant_a", "participant_b"}),
    "participant.grown_up_link": ("GET", {"participant_a", "participant_b"}),
    "participant.parent_link": ("GET", set()),  # public, but a made-up token opens nothing for anyone
    "participant.parent_thanks": ("GET", EVERYONE),
    "facilitator.index": ("GET", {"other_facilitator", "admin"}),
    "facilitator.session": ("GET", {"admin"}),
    "facilitator.add_participant": ("POST", {"admin"}),
    "facilitator.print_code": ("GET", {"admin"}),
    "facilitator.consent": ("GET", {"admin"}),
    "facilitator.share": ("GET", {"admin"}),
    "share.choose": ("GET", {"participant_a", "participant_b"}),
    "share.share": ("GET", {"participant_a", "participant_b"}),
    "staff.dashboard": ("GET", STAFF),
    "staff.programme": ("GET", {"analyst", "admin"}),
    "staff.add_session": ("POST", {"admin"}),
    "staff.artefact": ("GET", {"admin"}),  # the item is team-only, so the analyst may not see it
    "staff.withdraw": ("POST", {"admin"}),
    "staff.retry": ("POST", {"admin"}),
    "media.derivative": ("GET", {"participant_a", "admin"}),
    "api.health": ("GET", EVERYONE),
    "api.upload": ("POST", {"participant_a", "participant_b"}),
    "api.upload_status": ("GET", {"participant_a"}),
    "exports.index": ("GET", STAFF),
    "exports.register": ("GET", {"analyst", "admin"}),
    "exports.new": ("GET", {"analyst", "admin"}),
    "exports.create": ("POST", set()),  # an empty form is refused (400) even for the programme's staff
    "exports.detail": ("GET", set()),  # export 1 does not exist: 404 for all; tests/test_exports_web.py covers it
    "exports.recall": ("POST", set()),
    "exports.quotes_board": ("GET", {"analyst", "admin"}),
    "exports.arrange": ("POST", set()),  # no such quote: 404 for all
    "exports.quote_from": ("GET", set()),  # the item is team-only, so nobody may quote it
    "exports.add_quote": ("POST", set()),
    "analyst.search": ("GET", STAFF),
    "analysis.themes": ("GET", STAFF),  # each sees their own programme's counts
    "analysis.themes_csv": ("GET", STAFF),
    "analysis.map_page": ("GET", STAFF),
    "analysis.map_csv": ("GET", STAFF),
    "analysis.reach": ("GET", STAFF),
    "analysis.reach_csv": ("GET", STAFF),
    "analysis.boundaries": ("GET", {"admin"}),
    "analysis.population": ("GET", {"admin"}),
    "analysis.threshold": ("GET", {"admin"}),
    "analyst.item": ("GET", set()),  # the item is team-only: analysis shows nothing of it to anyone
    "analyst.captions": ("GET", set()),
    "search_api.search": ("GET", STAFF),  # each searches their own programmes; elsewhere-staff get empty results
    "search_api.facets": ("GET", STAFF),
    "search_api.openapi": ("GET", EVERYONE),  # describes the API, holds no data
    "review.queue": ("GET", {"admin"}),
    "review.item": ("GET", {"admin"}),
    "review.captions": ("GET", set()),  # the photo has no transcript
    "review.save_transcript": ("POST", {"admin"}),  # refused with a message, on the admin's page
    "review.transcript_status": ("POST", set()),  # no status chosen: 400 for all
    "review.review_theme": ("POST", {"admin"}),
    "review.add_theme": ("POST", {"admin"}),
    "review.decide_detail": ("POST", {"admin"}),
    "review.add_redaction": ("POST", {"admin"}),
    "review.remove_redaction": ("POST", {"admin"}),
    "review.mark_reviewed": ("POST", {"admin"}),
    "review.reopen": ("POST", {"admin"}),
    # Exhibits. The test world has no exhibit (exhibit 1, section 1, item 1 and the slug below do not
    # exist), so every exhibit page answers 404 for everyone but the builder's index; the public pages
    # reaching EVERYONE for a published exhibit, and staff of other programmes getting 404, are tested in
    # tests/test_exhibits_web.py.
    "exhibits_manage.index": ("GET", {"other_facilitator", "admin"}),
    "exhibits_manage.create": ("POST", set()),  # an empty form is refused (400)
    "exhibits_manage.builder": ("GET", set()),
    "exhibits_manage.update": ("POST", set()),
    "exhibits_manage.add_section": ("POST", set()),
    "exhibits_manage.update_section": ("POST", set()),
    "exhibits_manage.remove_section": ("POST", set()),
    "exhibits_manage.add_item": ("POST", set()),
    "exhibits_manage.update_item": ("POST", set()),
    "exhibits_manage.move_item": ("POST", set()),
    "exhibits_manage.remove_item": ("POST", set()),
    "exhibits_manage.publish": ("POST", set()),
    "exhibits_manage.unpublish": ("POST", set()),
    "exhibits_manage.preview": ("GET", set()),
    "exhibits_manage.preview_media": ("GET", set()),
    "exhibits_manage.preview_captions": ("GET", set()),
    "exhibits_manage.export": ("POST", set()),
    "exhibits.show": ("GET", set()),
    "exhibits.kiosk": ("GET", set()),
    "exhibits.manifest": ("GET", set()),
    "exhibits.captions": ("GET", set()),
    "exhibits.media": ("GET", set()),
}


@pytest.fixture
def world(app, make, db):
    programme = make.programme("riverside")
    session = make.session(programme)
    a = make.participant(session, alias="Alpha")
    b = make.participant(session, alias="Beta")
    make.consent(a, ConsentLevel.TEAM)
    make.consent(b, ConsentLevel.EXHIBIT)
    item = make.artefact(a, kind=ArtefactKind.PHOTO, title="A's photo", content=b"\xff\xd8 not really a jpeg")
    from archive.models import Derivative

    stored = make.storage.put(f"{item.storage_prefix}derivatives/thumbnail.jpg", __import__("io").BytesIO(b"thumb"))
    db.add(Derivative(artefact_id=item.id, kind="thumbnail", object_key=stored.key, sha256=stored.sha256,
                      size_bytes=stored.size, media_type="image/jpeg"))
    db.commit()
    users = {
        "other_facilitator": make.staff(make.programme("elsewhere"), Role.FACILITATOR),
        "analyst": make.staff(programme, Role.ANALYST),
        "admin": make.staff(programme, Role.ADMIN),
    }
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; here only access is in question
    return {"programme": programme, "a": a, "b": b, "item": item, "users": users}


def _as(client, who: str, world) -> None:
    if who in ("participant_a", "participant_b"):
        participant = world["a" if who == "participant_a" else "b"]
        with client.session_transaction() as session:
            session["participant_id"] = str(participant.id)
            session["participant_seen"] = time.time()
    elif who in world["users"]:
        response = sign_in_staff(client, world["users"][who].email)
        assert response.status_code == 302


def _url(app, endpoint: str, world) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {"artefact_id": str(world["item"].id), "code": world["programme"].code, "kind": "thumbnail",
              "page": "photo", "participant_id": str(world["a"].id),
              "session_id": world["a"].session_id, "token": "not-a-real-token", "export_id": 1,
              "tag_id": 1, "flag_id": 1, "redaction_id": 1,
              "slug": "no-such-exhibit", "exhibit_id": 1, "section_id": 1, "item_id": 1}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: v for k, v in values.items() if k in rule.arguments})


def _reached(response) -> bool:
    if response.status_code in (403, 404, 405):
        return False
    if response.status_code == 302:
        location = response.headers["Location"]
        return not (location.startswith("/staff/sign-in") or location == "/join")
    return response.status_code < 400 or response.status_code == 503


def test_every_endpoint_declares_a_policy_and_is_in_the_table(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert endpoints == set(ACCESS), "add new routes to ACCESS with who may reach them"
    for endpoint in endpoints:
        assert policy_of(app.view_functions[endpoint]), f"{endpoint} declares no access policy"


def test_a_route_without_a_policy_is_refused(app, client):
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert client.get("/forgotten").status_code == 403


@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("endpoint", sorted(ACCESS))
def test_access(app, client, world, endpoint, who):
    method, allowed = ACCESS[endpoint]
    _as(client, who, world)
    url = _url(app, endpoint, world)
    data = {
        "staff.add_session": {"name": "Drop-in", "place_type": "school", "area_code": "RV02"},
        "api.upload": {"kind": "text_story", "story": "The bus is late again"},
        "facilitator.add_participant": {"alias": "Gamma", "avatar": "fox", "age_band": "16_19"},
    }.get(endpoint, {})
    response = client.open(url, method=method, data=data)
    assert _reached(response) == (who in allowed), f"{who} {method} {url} -> {response.status_code}"

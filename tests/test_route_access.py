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
              "page": "photo", "participant_id": str(world["a"].id)}
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
    }.get(endpoint, {})
    response = client.open(url, method=method, data=data)
    assert _reached(response) == (who in allowed), f"{who} {method} {url} -> {response.status_code}"

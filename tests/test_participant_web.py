"""A participant's journey through the web app with real CSRF tokens: join, consent, see, withdraw."""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import select

from archive.models import Artefact, ArtefactStatus, AuditEvent, ConsentLevel, ConsentRecord, Participant, Role
from tests.conftest import csrf_token, join_as_participant, sign_in_staff


def _consent(client, level="report", **flags):
    page = client.get("/consent")
    data = {"level": level, "csrf_token": csrf_token(page.text), **{k: "y" for k, v in flags.items() if v}}
    return client.post("/consent", data=data)


def test_join_consent_and_see_my_things(client, db, make):
    session = make.session(make.programme())
    response = join_as_participant(client, session.join_code.lower(), alias="Blue Fox")
    assert response.status_code == 302 and response.headers["Location"] == "/consent"
    assert _consent(client, "report", voice=True).status_code == 302
    participant = db.scalar(select(Participant).where(Participant.alias == "Blue Fox"))
    record = db.scalar(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id))
    assert (record.level, record.voice, record.face) == (ConsentLevel.REPORT, True, False)
    make.artefact(participant, title="The bus stop")
    page = client.get("/my-things")
    assert "The bus stop" in page.text and "Reports (no name)" in page.text


def test_wrong_and_expired_codes_and_taken_alias_get_kind_messages(client, make, db):
    session = make.session(make.programme(), valid_for=timedelta(hours=1))
    wrong = join_as_participant(client, "ZZZZZZ")
    assert wrong.status_code == 400 and "couldn&#39;t find that code" in wrong.text
    join_as_participant(client, session.join_code, alias="Star Maker")
    other = client.application.test_client()
    taken = join_as_participant(other, session.join_code, alias="star maker")
    assert taken.status_code == 400 and "already called" in taken.text
    with freeze_time(session.join_code_expires_at + timedelta(minutes=1)):
        expired = join_as_participant(other, session.join_code, alias="Late Owl")
    assert expired.status_code == 400 and "expired" in expired.text
    assert db.scalar(select(Participant).where(Participant.alias == "Late Owl")) is None


def test_form_without_csrf_token_changes_nothing(client, make, db):
    session = make.session(make.programme())
    response = client.post("/join", data={"code": session.join_code, "alias": "No Token", "avatar": "fox", "age_band": "16_19"})
    assert response.status_code == 400
    assert db.scalar(select(Participant).where(Participant.alias == "No Token")) is None


def test_under_13_without_a_parent_stays_with_the_team(client, db, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Little Owl", band="5_11")
    _consent(client, "exhibit", credit=True, face=True, voice=True)
    participant = db.scalar(select(Participant).where(Participant.alias == "Little Owl"))
    item = make.artefact(participant)
    assert item.consent_level == ConsentLevel.TEAM and not item.consent_face
    assert "Team only" in client.get("/my-things").text


def test_withdrawn_item_is_gone_everywhere_in_the_same_request_cycle(app, client, db, make):
    programme = make.programme()
    session = make.session(programme)
    join_as_participant(client, session.join_code, alias="Green Cat")
    _consent(client, "report")
    participant = db.scalar(select(Participant).where(Participant.alias == "Green Cat"))
    item = make.artefact(participant, title="Broken swing", content=b"photo bytes")
    keep = make.artefact(participant, title="Our kitchen")
    facilitator = make.staff(programme, Role.FACILITATOR)
    staff = app.test_client()
    sign_in_staff(staff, facilitator.email)
    assert "Broken swing" in staff.get(f"/staff/programmes/{programme.code}").text

    confirm = client.get(f"/my-things/{item.id}/withdraw")
    assert "Broken swing" in confirm.text and "every copy" in confirm.text
    receipt = client.post(f"/my-things/{item.id}/withdraw", data={"csrf_token": csrf_token(confirm.text)})
    assert receipt.status_code == 200 and "Taken back" in receipt.text

    assert "Broken swing" not in client.get("/my-things").text
    listing = staff.get(f"/staff/programmes/{programme.code}").text
    assert "Broken swing" not in listing and "Our kitchen" in listing
    assert staff.get(f"/staff/artefacts/{item.id}").status_code == 404
    db.expire_all()
    erased = db.get(Artefact, item.id)
    assert erased.status == ArtefactStatus.WITHDRAWN and erased.erased_at is not None  # the job ran
    assert not list(app.extensions["chorus"].storage.iter_keys(erased.storage_prefix))
    assert db.get(Artefact, keep.id).status == ArtefactStatus.READY


def test_withdraw_everything_in_one_step(client, db, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Red Rocket")
    _consent(client, "exhibit")
    participant = db.scalar(select(Participant).where(Participant.alias == "Red Rocket"))
    for title in ("one", "two"):
        make.artefact(participant, title=title)
    confirm = client.get("/my-things/withdraw-everything")
    response = client.post("/my-things/withdraw-everything", data={"csrf_token": csrf_token(confirm.text)})
    assert response.status_code == 200
    db.expire_all()
    statuses = db.scalars(select(Artefact.status).where(Artefact.participant_id == participant.id)).all()
    assert statuses == [ArtefactStatus.WITHDRAWN, ArtefactStatus.WITHDRAWN]
    assert "shared anything yet" in client.get("/my-things").text
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action == "artefact.withdrawn")).all()
    assert len(actions) == 2


def test_another_childs_item_is_indistinguishable_from_none(client, make):
    programme = make.programme()
    other = make.shared(ConsentLevel.EXHIBIT, programme=programme, title="Not yours")
    join_as_participant(client, make.session(programme).join_code, alias="Nosy Fish")
    assert client.get(f"/my-things/{other.id}/withdraw").status_code == 404
    assert client.get("/my-things/not-a-uuid/withdraw").status_code == 404


def test_participant_session_expires_on_a_shared_device(client, make, settings):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Quick Sun")
    assert client.get("/my-things").status_code == 200
    with freeze_time(timedelta(minutes=settings.participant_session_minutes + 1)):
        assert client.get("/my-things").headers["Location"] == "/join"


def test_story_with_markup_is_escaped(client, db, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Safe Tree")
    _consent(client, "team")
    participant = db.scalar(select(Participant).where(Participant.alias == "Safe Tree"))
    make.artefact(participant, title="<script>alert(1)</script>{{ 7*7 }}")
    page = client.get("/my-things").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "{{ 7*7 }}" in page


def test_a_pin_lets_a_participant_come_back_and_a_facilitator_can_clear_it(app, client, db, make):
    programme = make.programme()
    session = make.session(programme)
    join_as_participant(client, session.join_code, alias="Swift Owl")
    page = client.get("/my-pin")
    client.post("/my-pin", data={"pin": "4821", "csrf_token": csrf_token(page.text)})
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/my-things").text)})

    later = app.test_client()
    form = later.get("/come-back")
    wrong = later.post("/come-back", data={"code": session.join_code, "alias": "Swift Owl", "pin": "0000",
                                           "csrf_token": csrf_token(form.text)})
    nobody = later.post("/come-back", data={"code": session.join_code, "alias": "No One", "pin": "4821",
                                            "csrf_token": csrf_token(form.text)})
    assert wrong.status_code == nobody.status_code == 400
    assert "nickname and PIN" in wrong.text and "nickname and PIN" in nobody.text  # no clue which nicknames exist
    back = later.post("/come-back", data={"code": session.join_code, "alias": "swift owl", "pin": "4821",
                                          "csrf_token": csrf_token(form.text)})
    assert back.headers["Location"] == "/my-things"

    facilitator = app.test_client()
    sign_in_staff(facilitator, make.staff(programme, Role.FACILITATOR).email)
    participant = db.scalar(select(Participant).where(Participant.alias == "Swift Owl"))
    listing = facilitator.get(f"/staff/programmes/{programme.code}")
    cleared = facilitator.post(f"/staff/participants/{participant.id}/clear-pin", data={"csrf_token": csrf_token(listing.text)})
    assert cleared.status_code == 302
    again = app.test_client()
    form = again.get("/come-back")
    refused = again.post("/come-back", data={"code": session.join_code, "alias": "Swift Owl", "pin": "4821",
                                             "csrf_token": csrf_token(form.text)})
    assert refused.status_code == 400

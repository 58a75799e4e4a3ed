"""Facilitator-assisted mode: one signed-in tablet runs a session for the people in the room."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentRecord,
    Participant,
    Role,
)
from tests.conftest import csrf_token, join_as_participant, sign_in_staff


@pytest.fixture
def room(app, client, db, make):
    """A session, its facilitator signed in on the tablet, and one teenager who joined on their own phone."""
    programme = make.programme()
    session = make.session(programme)
    facilitator = make.staff(programme, Role.FACILITATOR)
    join_as_participant(app.test_client(), session.join_code, alias="Bus Rider")
    assert sign_in_staff(client, facilitator.email).status_code == 302
    return programme, session, facilitator


def _participant(db, alias) -> Participant:
    db.expire_all()
    return db.scalar(select(Participant).where(Participant.alias == alias))


def _add(client, session, alias, band="5_11", avatar="owl"):
    page = client.get(f"/facilitate/sessions/{session.id}")
    return client.post(f"/facilitate/sessions/{session.id}/participants", data={
        "alias": alias, "avatar": avatar, "age_band": band, "csrf_token": csrf_token(page.text)})


def _verbal(client, participant, level, witness="Ms Okafor, class teacher", given_by="participant", **flags):
    page = client.get(f"/facilitate/participants/{participant.id}/consent")
    data = {"level": level, "given_by": given_by, "witness": witness, "csrf_token": csrf_token(page.text),
            **{k: "y" for k, v in flags.items() if v}}
    return client.post(f"/facilitate/participants/{participant.id}/consent", data=data)


def _records(db, participant):
    db.expire_all()
    return db.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id)
                      .order_by(ConsentRecord.version)).all()


def test_the_facilitator_sees_who_joined_and_adds_someone_present(room, client, db):
    _, session, _ = room
    index = client.get("/facilitate/")
    assert index.status_code == 200 and session.join_code in index.text
    page = client.get(f"/facilitate/sessions/{session.id}")
    assert "Bus Rider" in page.text and "Not yet" in page.text
    added = _add(client, session, "Tiny Tiger")
    participant = _participant(db, "Tiny Tiger")
    assert added.status_code == 302 and added.headers["Location"] == f"/facilitate/participants/{participant.id}/consent"
    assert (participant.session_id, participant.age_band, participant.avatar) == (session.id, AgeBand.AGE_5_11, "owl")
    taken = _add(client, session, "bus rider")
    assert taken.status_code == 400 and "already called" in taken.text
    real_name_free = _add(client, session, "<b>Bold</b>")
    assert real_name_free.status_code == 400 and "<b>Bold</b>" not in real_name_free.text


def test_verbal_consent_needs_a_witness_and_records_who_took_it(room, client, db):
    _, _, facilitator = room
    teen = _participant(db, "Bus Rider")
    missing = _verbal(client, teen, "report", witness="  ")
    assert missing.status_code == 400 and "the person who heard it with you" in missing.text
    assert _records(db, teen) == []
    saved = _verbal(client, teen, "report", voice=True)
    assert saved.status_code == 302
    (record,) = _records(db, teen)
    assert (record.method, record.witness, record.giver, record.recorded_by_id, record.level, record.voice) == (
        ConsentMethod.VERBAL_WITNESSED, "Ms Okafor, class teacher", ConsentGiver.PARTICIPANT, facilitator.id,
        ConsentLevel.REPORT, True)
    assert _verbal(client, teen, "report", voice=True).status_code == 302  # said twice, recorded once
    assert len(_records(db, teen)) == 1


def test_a_child_first_then_a_parent_who_is_present(room, client, db, make):
    _, session, _ = room
    _add(client, session, "Tiny Tiger")
    child = _participant(db, "Tiny Tiger")
    too_soon = _verbal(client, child, "exhibit", given_by="parent")
    assert too_soon.status_code == 400 and "the child&#39;s own answer first" in too_soon.text
    _verbal(client, child, "report", face=True)
    item = make.artefact(child, kind=ArtefactKind.PHOTO)
    assert item.consent_level == ConsentLevel.TEAM
    assert "Waiting for a parent or carer" in client.get(f"/facilitate/sessions/{session.id}").text
    _verbal(client, child, "exhibit", given_by="parent", witness="Dad, with Priya (facilitator)", face=True, voice=True)
    parent = _records(db, child)[-1]
    assert (parent.giver, parent.child_assent, parent.level, parent.face, parent.voice) == (
        ConsentGiver.PARENT_CARER, True, ConsentLevel.REPORT, True, False)  # never wider than the child's word
    db.refresh(item)
    assert (item.consent_level, item.consent_face) == (ConsentLevel.REPORT, True)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def test_sharing_on_behalf_uses_the_participants_consent_and_records_once(room, client, db):
    teen = _participant(db, "Bus Rider")
    _verbal(client, teen, "team")
    page = client.get(f"/facilitate/participants/{teen.id}/share/photo")
    token, upload_id = csrf_token(page.text), _hidden(page.text, "upload_id")
    data = {"csrf_token": token, "upload_id": upload_id, "title": "Bus stop", "story": "No shelter when it rains."}
    sent = client.post(f"/facilitate/participants/{teen.id}/share/photo",
                       data={**data, "media": (io.BytesIO(_jpeg()), "bus.jpg")}, content_type="multipart/form-data")
    assert sent.status_code == 302
    again = client.post(f"/facilitate/participants/{teen.id}/share/photo",
                        data={**data, "media": (io.BytesIO(_jpeg()), "bus.jpg")}, content_type="multipart/form-data")
    assert again.status_code == 302
    db.expire_all()
    (item,) = db.scalars(select(Artefact).where(Artefact.participant_id == teen.id)).all()
    assert (item.kind, item.title, item.consent_level) == (ArtefactKind.PHOTO, "Bus stop", ConsentLevel.TEAM)


def test_sharing_on_behalf_explains_a_wrong_file(room, client, db):
    teen = _participant(db, "Bus Rider")
    page = client.get(f"/facilitate/participants/{teen.id}/share/photo")
    refused = client.post(f"/facilitate/participants/{teen.id}/share/photo", data={
        "csrf_token": csrf_token(page.text), "upload_id": _hidden(page.text, "upload_id"),
        "media": (io.BytesIO(b"just some text"), "notes.txt"),
    }, content_type="multipart/form-data")
    assert refused.status_code == 400 and "govuk-error-summary" in refused.text and "photo" in refused.text
    assert "could not be matched" not in refused.text
    assert db.scalars(select(Artefact).where(Artefact.participant_id == teen.id)).all() == []


def test_a_story_shared_on_behalf(room, client, db):
    teen = _participant(db, "Bus Rider")
    page = client.get(f"/facilitate/participants/{teen.id}/share/story")
    sent = client.post(f"/facilitate/participants/{teen.id}/share/story", data={
        "csrf_token": csrf_token(page.text), "upload_id": _hidden(page.text, "upload_id"), "story": "{{ 7*7 }} <script>alert(1)</script> ✨ مرحبا"})
    assert sent.status_code == 302
    db.expire_all()
    (item,) = db.scalars(select(Artefact).where(Artefact.participant_id == teen.id)).all()
    assert item.story == "{{ 7*7 }} <script>alert(1)</script> ✨ مرحبا"


def _hidden(html: str, name: str) -> str:
    import re

    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)


def test_print_page_has_the_code_and_a_qr_code_for_the_join_link(room, client):
    _, session, _ = room
    page = client.get(f"/facilitate/sessions/{session.id}/print")
    assert page.status_code == 200
    assert f"http://localhost/join?code={session.join_code}" in page.text
    assert "<svg" in page.text and f"QR code that opens the join page with the code {session.join_code}" in page.text


def test_another_programmes_facilitator_finds_nothing(room, app, db, make):
    _, session, _ = room
    outsider = make.staff(make.programme(), Role.FACILITATOR)
    other = app.test_client()
    sign_in_staff(other, outsider.email)
    teen = _participant(db, "Bus Rider")
    assert session.join_code not in other.get("/facilitate/").text
    for url in (f"/facilitate/sessions/{session.id}", f"/facilitate/sessions/{session.id}/print",
                f"/facilitate/participants/{teen.id}/consent", f"/facilitate/participants/{teen.id}/share/photo",
                "/facilitate/participants/not-a-uuid/consent", "/facilitate/sessions/999999"):
        assert other.get(url).status_code == 404, url


def test_the_staff_menu_leads_facilitators_here_and_not_analysts(room, app, client, make):
    programme, _, _ = room
    assert 'href="/facilitate/"' in client.get("/staff/").text
    analyst = make.staff(programme, Role.ANALYST)
    other = app.test_client()
    sign_in_staff(other, analyst.email)
    page = other.get("/staff/")
    assert page.status_code == 200 and 'href="/facilitate/"' not in page.text

"""The facilitator's review pages through the Flask client: the queue, the workspace and its forms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.erasure import withdraw_artefact
from archive.models import (
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    PersonalDetailFlag,
    Redaction,
    Role,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)
from archive.principal import staff_principal
from tests.conftest import csrf_token, sign_in_staff

LINES = ["me and jamie wait at the buss stop", "it never comes on time"]


@pytest.fixture
def world(make, db):
    programme = make.programme()
    facilitator = make.staff(programme, Role.FACILITATOR, email="fran@example.org")
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT, voice=True)
    note = make.artefact(participant, kind=ArtefactKind.VOICE_NOTE, title="Waiting", reviewed=False)
    transcript = Transcript(artefact_id=note.id, status=TranscriptStatus.READY_FOR_CHECK, duration=8.0)
    for position, text in enumerate(LINES):
        words = [{"start": 0, "end": 0, "text": f" {w}", "p": 0.3 if w == "buss" else 0.95} for w in text.split()]
        transcript.segments.append(TranscriptSegment(position=position, start=position * 4.0,
                                                     end=position * 4.0 + 3.5, text=text, words=words))
    db.add(transcript)
    db.add(ThemeTag(artefact_id=note.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                    confidence=0.8, evidence="wait at the buss stop"))
    db.commit()
    return programme, facilitator, note


def _page(client, note) -> str:
    response = client.get(f"/review/items/{note.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _post(client, note, path: str, **data):
    token = csrf_token(_page(client, note))
    return client.post(f"/review/items/{note.id}{path}", data={"csrf_token": token, **data})


def test_the_queue_shows_what_each_item_waits_for_and_only_to_its_team(client, make, db, world):
    programme, facilitator, note = world
    failed = make.artefact(make.participant(make.session(programme)), title="Broken upload", reviewed=False,
                           status=ArtefactStatus.FAILED)
    sign_in_staff(client, facilitator.email)
    page = client.get(f"/review/programmes/{programme.code}").get_data(as_text=True)
    assert "Waiting" in page and "Broken upload" in page
    assert "Its transcript has not been approved." in page
    only_failed = client.get(f"/review/programmes/{programme.code}?waiting=failed").get_data(as_text=True)
    assert "Broken upload" in only_failed and ">Waiting</a>" not in only_failed
    assert f"/staff/artefacts/{failed.id}/retry" in only_failed

    client.post("/staff/sign-out")
    stranger = make.staff(make.programme(), Role.FACILITATOR, email="other@example.org")
    sign_in_staff(client, stranger.email)
    assert client.get(f"/review/programmes/{programme.code}").status_code == 404
    assert client.get(f"/review/items/{note.id}").status_code == 404


def test_the_editor_marks_unsure_words_and_saves_corrections_that_captions_follow(client, db, world):
    _, facilitator, note = world
    sign_in_staff(client, facilitator.email)
    page = _page(client, note)
    assert '<mark class="chorus-unsure"> buss</mark>' in page
    first, second = note.transcript.segments
    response = _post(client, note, "/transcript", version="1", **{
        f"text-{first.id}": "me and jamie wait at the bus stop", f"speaker-{first.id}": "child",
        f"text-{second.id}": LINES[1], f"speaker-{second.id}": ""})
    assert response.status_code == 302
    db.expire_all()
    assert (first.text, first.speaker, first.locked) == ("me and jamie wait at the bus stop", "child", True)
    assert not second.locked
    captions = client.get(f"/review/items/{note.id}/captions.vtt").get_data(as_text=True)
    assert captions.startswith("WEBVTT") and "wait at the bus stop" in captions and "buss" not in captions


def test_a_conflicting_save_shows_both_texts_and_keeps_the_editors_words(client, db, world):
    _, facilitator, note = world
    first = note.transcript.segments[0]
    from archive.curation.transcripts import SegmentEdit, save_edits

    save_edits(db, staff_principal(facilitator), note, 1, [SegmentEdit(first.id, "me and jamie at the bus stop")])
    db.commit()
    sign_in_staff(client, facilitator.email)
    token = csrf_token(_page(client, note))
    response = client.post(f"/review/items/{note.id}/transcript", data={
        "csrf_token": token, "version": "1", f"text-{first.id}": "me and jamie waited at the bus stop"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed 1 of these lines" in html
    assert "<q>me and jamie at the bus stop</q>" in html  # theirs, shown
    assert ">me and jamie waited at the bus stop</textarea>" in html  # yours, kept for a second try
    assert 'name="version" value="2"' in html


def test_themes_are_accepted_rejected_and_added_from_the_page(client, db, world):
    _, facilitator, note = world
    sign_in_staff(client, facilitator.email)
    tag = note.tags[0]
    _post(client, note, f"/themes/{tag.id}", decision="accept", polarity="barrier")
    _post(client, note, "/themes", theme="peers", polarity="asset", evidence="me and jamie")
    db.expire_all()
    assert {(t.theme, t.status, t.polarity.value) for t in note.tags} == {
        ("transport", TagStatus.ACCEPTED, "barrier"), ("peers", TagStatus.ACCEPTED, "asset")}
    response = _post(client, note, "/themes", theme="dragons", polarity="asset")
    assert "not in this programme&#39;s framework" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_hiding_a_name_everywhere_and_the_review_gate(client, db, world):
    _, facilitator, note = world
    sign_in_staff(client, facilitator.email)
    db.add(PersonalDetailFlag(artefact_id=note.id, source="transcript", segment_id=note.transcript.segments[1].id,
                              kind="name", start=0, end=2))
    db.commit()
    _post(client, note, "/redactions", kind="words", phrase="Jamie", label="name")
    assert db.scalars(select(Redaction)).one().start == 7

    refused = client.get(_post(client, note, "/reviewed").headers["Location"]).get_data(as_text=True)
    assert "cannot be marked as reviewed yet" in refused and "personal detail" in refused
    flag = db.scalars(select(PersonalDetailFlag)).one()
    _post(client, note, f"/details/{flag.id}", decision="not_personal")
    _post(client, note, "/transcript/status", status="approved")
    page = client.get(_post(client, note, "/reviewed").headers["Location"]).get_data(as_text=True)
    assert "Reviewed. It can now be used" in page
    db.expire_all()
    assert note.reviewed_at is not None and note.transcript.status == TranscriptStatus.APPROVED


@pytest.mark.parametrize("fields, message", [
    ({"kind": "box", "x": "10", "y": "10", "width": "30", "height": "30"}, "Only photos, drawings and videos"),
    ({"kind": "sound", "start": "abc", "end": "3"}, "Enter numbers"),
    ({"kind": "words", "phrase": "unicorn"}, "is not in this item"),
    ({"kind": "nonsense"}, "Choose what to hide"),
])
def test_bad_redactions_are_refused_with_a_message(client, db, world, fields, message):
    _, facilitator, note = world
    sign_in_staff(client, facilitator.email)
    page = client.get(_post(client, note, "/redactions", **fields).headers["Location"]).get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    assert db.scalars(select(Redaction)).all() == []


def test_a_withdrawn_item_leaves_the_workspace_and_edits_save_nothing(client, db, world, make):
    _, facilitator, note = world
    sign_in_staff(client, facilitator.email)
    token = csrf_token(_page(client, note))
    withdraw_artefact(db, staff_principal(make.staff()), note)
    db.commit()
    first = note.transcript.segments[0]
    response = client.post(f"/review/items/{note.id}/transcript",
                           data={"csrf_token": token, "version": "1", f"text-{first.id}": "changed"})
    assert response.status_code == 404
    assert client.get(f"/review/items/{note.id}").status_code == 404

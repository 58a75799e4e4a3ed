"""Facilitators' review: transcript corrections with conflict detection, theme review, and the review gate."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from archive.consent import Context, visible_artefacts
from archive.curation.guards import CurationError, ItemGone
from archive.curation.review import QueueFilter, decide_flag, mark_reviewed, reopen, review_queue
from archive.curation.themes import add_tag, review_tag
from archive.curation.transcripts import EditConflict, SegmentEdit, history, save_edits, set_status
from archive.erasure import withdraw_artefact
from archive.models import (
    Artefact,
    ArtefactKind,
    AuditEvent,
    ConsentLevel,
    PersonalDetailFlag,
    Polarity,
    Role,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptRevision,
    TranscriptSegment,
    TranscriptStatus,
)
from archive.principal import staff_principal

LINES = ["my mum cant afford the buss", "so we walk to school", "it takes ages when it rains"]


@pytest.fixture
def team(make, db):
    programme = make.programme()
    anna = make.staff(programme, Role.FACILITATOR, email="anna@example.org")
    ben = make.staff(programme, Role.FACILITATOR, email="ben@example.org")
    return programme, staff_principal(anna), staff_principal(ben)


@pytest.fixture
def note(make, db, team):
    """A voice note with a machine transcript waiting for a check, not yet reviewed."""
    programme = team[0]
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT)
    artefact = make.artefact(participant, kind=ArtefactKind.VOICE_NOTE, reviewed=False)
    transcript = Transcript(artefact_id=artefact.id, status=TranscriptStatus.READY_FOR_CHECK, language="en")
    for position, text in enumerate(LINES):
        transcript.segments.append(TranscriptSegment(position=position, start=position * 3.0,
                                                     end=position * 3.0 + 2.5, text=text, confidence=0.6))
    db.add(transcript)
    db.commit()
    return artefact


def segments(artefact) -> list[TranscriptSegment]:
    return list(artefact.transcript.segments)


def edits_of(artefact, **changed) -> list[SegmentEdit]:
    """The whole form as a browser sends it: every line, with `changed` (position -> text) applied."""
    return [SegmentEdit(s.id, changed.get(f"line{s.position}", s.text), s.speaker) for s in segments(artefact)]


def test_a_correction_is_saved_locked_versioned_and_audited(db, note, team):
    _, anna, _ = team
    changed = save_edits(db, anna, note, 1, edits_of(note, line0="my mum can't afford the bus"))
    db.commit()
    assert [s.position for s in changed] == [0]
    first = segments(note)[0]
    assert first.text == "my mum can't afford the bus" and first.locked
    assert not segments(note)[1].locked  # untouched lines stay the machine's
    assert note.transcript.version == 2 and note.transcript.edited
    revision = db.scalars(select(TranscriptRevision)).one()
    assert (revision.old_text, revision.new_text, revision.version) == (LINES[0], first.text, 2)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "transcript.edited")).one()
    assert "afford" not in str(event.details)  # the audit names what changed, never the words


def test_two_people_editing_different_lines_both_keep_their_work(db, note, team):
    _, anna, ben = team
    save_edits(db, anna, note, 1, edits_of(note, line0="my mum can't afford the bus"))
    db.commit()
    # Ben loaded the page at version 1 too, and changed only the last line.
    bens_form = [SegmentEdit(s.id, text, None) for s, text in zip(segments(note), LINES)]
    bens_form[2] = SegmentEdit(bens_form[2].segment_id, "it takes ages when it rains, like an hour", None)
    save_edits(db, ben, note, 1, bens_form)
    db.commit()
    assert [s.text for s in segments(note)] == [
        "my mum can't afford the bus", LINES[1], "it takes ages when it rains, like an hour"]
    assert note.transcript.version == 3


def test_two_people_editing_the_same_line_is_a_conflict_not_a_silent_overwrite(db, note, team):
    _, anna, ben = team
    save_edits(db, anna, note, 1, edits_of(note, line0="my mum can't afford the bus"))
    db.commit()
    with pytest.raises(EditConflict) as caught:
        save_edits(db, ben, note, 1, edits_of_original(note, line0="my mum can't afford the buses"))
    db.rollback()
    conflict = caught.value.conflicts[0]
    assert (conflict.yours, conflict.theirs) == ("my mum can't afford the buses", "my mum can't afford the bus")
    assert caught.value.current_version == 2
    assert segments(note)[0].text == "my mum can't afford the bus"
    # Having seen Anna's text, Ben saves again from the current version.
    save_edits(db, ben, note, 2, edits_of(note, line0="my mum can't afford the buses"))
    db.commit()
    assert segments(note)[0].text == "my mum can't afford the buses"


def edits_of_original(artefact, **changed) -> list[SegmentEdit]:
    """The form as it was at version 1 (before anyone's edits), with `changed` applied."""
    return [SegmentEdit(s.id, changed.get(f"line{s.position}", LINES[s.position]), None) for s in segments(artefact)]


def test_the_same_correction_made_twice_is_no_conflict(db, note, team):
    _, anna, ben = team
    save_edits(db, anna, note, 1, edits_of(note, line0="my mum can't afford the bus"))
    db.commit()
    assert save_edits(db, ben, note, 1, edits_of_original(note, line0="my mum can't afford the bus")) == []


def test_editing_an_item_withdrawn_meanwhile_saves_nothing(db, note, team, make, services):
    _, anna, _ = team
    other = services.session_factory()
    withdraw_artefact(other, staff_principal(make.staff()), other.get(Artefact, note.id))
    other.commit()
    other.close()
    with pytest.raises(ItemGone):
        save_edits(db, anna, note, 1, edits_of(note, line0="changed"))
    db.rollback()
    assert db.scalars(select(TranscriptRevision)).all() == []


@pytest.mark.parametrize("text, message", [("x" * 2001, "at most 2000"), ("fine", "not a speaker")])
def test_bad_edits_are_refused_with_a_message(db, note, team, text, message):
    _, anna, _ = team
    edit = SegmentEdit(segments(note)[0].id, text, "martian" if text == "fine" else None)
    with pytest.raises(CurationError, match=message):
        save_edits(db, anna, note, 1, [edit])


def test_control_characters_are_removed_and_speakers_recorded(db, note, team):
    _, anna, _ = team
    save_edits(db, anna, note, 1, [SegmentEdit(segments(note)[1].id, "so we\x00 walk\x1b to school", "child")])
    db.commit()
    assert (segments(note)[1].text, segments(note)[1].speaker) == ("so we  walk  to school", "child")
    assert len(history(db, note)) == 1


def test_status_moves_and_editing_an_approved_transcript_needs_a_new_check(db, note, team):
    _, anna, _ = team
    set_status(db, anna, note, TranscriptStatus.DRAFT)
    with pytest.raises(CurationError, match="draft cannot become approved"):
        set_status(db, anna, note, TranscriptStatus.APPROVED)  # a draft is checked before it is approved
    set_status(db, anna, note, TranscriptStatus.READY_FOR_CHECK)
    set_status(db, anna, note, TranscriptStatus.APPROVED)
    db.commit()
    assert note.transcript.approved_by_id == anna.user_id
    save_edits(db, anna, note, 1, edits_of(note, line1="so we walk to school every day"))
    db.commit()
    assert note.transcript.status == TranscriptStatus.READY_FOR_CHECK and note.transcript.approved_at is None


def test_report_use_waits_for_the_review_and_its_blockers(db, note, team, make):
    programme, anna, _ = team
    analyst = staff_principal(make.staff(programme, Role.ANALYST))

    def reportable() -> bool:
        return db.scalar(select(Artefact.id).where(
            Artefact.id == note.id, visible_artefacts(analyst, Context.REPORT_EXPORT))) is not None

    db.add(PersonalDetailFlag(artefact_id=note.id, source="transcript", kind="school", start=0, end=5))
    db.commit()
    with pytest.raises(CurationError) as caught:
        mark_reviewed(db, anna, note)
    assert "transcript has not been approved" in str(caught.value) and "personal detail" in str(caught.value)
    db.rollback()
    queue = review_queue(db, programme.id, QueueFilter(waiting="personal_details"))
    assert [a.id for a, _ in queue] == [note.id]

    set_status(db, anna, note, TranscriptStatus.APPROVED)
    flag = db.scalars(select(PersonalDetailFlag)).one()
    decide_flag(db, anna, note, flag.id, "not_personal")
    mark_reviewed(db, anna, note)
    db.commit()
    assert reportable()
    assert review_queue(db, programme.id) == []
    reopen(db, anna, note)
    db.commit()
    assert not reportable()


def test_theme_review_accepts_rejects_adds_and_sets_polarity(db, note, team):
    _, anna, _ = team
    suggestion = ThemeTag(artefact_id=note.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                          confidence=0.7, polarity=Polarity.NEUTRAL)
    wrong = ThemeTag(artefact_id=note.id, framework="determinants", theme="housing", source=TagSource.MODEL,
                     confidence=0.4)
    db.add_all([suggestion, wrong])
    db.commit()
    review_tag(db, anna, note, suggestion.id, TagStatus.ACCEPTED, "barrier")
    review_tag(db, anna, note, wrong.id, TagStatus.REJECTED)
    added = add_tag(db, anna, note, "money", "barrier", evidence="my mum can't afford")
    db.commit()
    statuses = {t.theme: (t.status, t.polarity, t.source) for t in note.tags}
    assert statuses == {
        "transport": (TagStatus.ACCEPTED, Polarity.BARRIER, TagSource.MODEL),
        "housing": (TagStatus.REJECTED, Polarity.NEUTRAL, TagSource.MODEL),
        "money": (TagStatus.ACCEPTED, Polarity.BARRIER, TagSource.FACILITATOR),
    }
    assert added.created_by_id == anna.user_id
    with pytest.raises(CurationError, match="not in this programme's framework"):
        add_tag(db, anna, note, "unicorns", "asset")
    with pytest.raises(CurationError, match="barrier"):
        review_tag(db, anna, note, suggestion.id, TagStatus.ACCEPTED, "sideways")


def test_revisions_are_erased_with_the_item(db, note, team, services, make):
    from archive.erasure import ErasureContext, erase_artefact

    _, anna, _ = team
    save_edits(db, anna, note, 1, edits_of(note, line0="my mum can't afford the bus"))
    withdraw_artefact(db, anna, note)
    db.commit()
    erase_artefact(ErasureContext(db=db, storage=services.storage, settings=services.settings), note.id, anna)
    assert db.scalars(select(TranscriptRevision)).all() == []

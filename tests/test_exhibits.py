"""Exhibits in the domain: the picker, publishing, live consent, what the public gets, and dated copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.curation.redaction import hide_words
from archive.erasure import withdraw_artefact
from archive.exhibits import ExhibitError, building, publishing, showing, static_copy
from archive.models import (
    ArtefactKind,
    ConsentLevel,
    Role,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)
from archive.principal import SYSTEM, staff_principal
from tests.conftest import store_derivative

SPEECH = Path(__file__).parent / "data" / "jfk.flac"
LINES = ["my friend Jamie says the park is not safe", "so we stay in"]


class Gallery:
    """A programme with one item of each interesting consent, and a facilitator."""

    def __init__(self, make, db, services, portrait):
        from ingest.redaction import build_redacted_media

        self.make, self.db, self.services = make, db, services
        self.programme = make.programme()
        self.user = make.staff(self.programme, Role.FACILITATOR)
        self.facilitator = staff_principal(self.user)
        # A photo with a face, shown blurred: exhibit consent, no face flag, no credit.
        self.blurred = self.item(ConsentLevel.EXHIBIT, kind=ArtefactKind.PHOTO, title="Our street")
        self.original_photo = store_derivative(services, db, self.blurred, "web_image", portrait, "image/jpeg", 512, 512)
        build_redacted_media(services, self.blurred.id)
        # The same picture with the face and the credit agreed.
        self.credited = self.item(ConsentLevel.EXHIBIT, kind=ArtefactKind.PHOTO, title="Me at the park",
                                  face=True, credit=True, alias="Kestrel")
        store_derivative(services, db, self.credited, "web_image", portrait, "image/jpeg", 512, 512)
        # A voice note that may be played, with a name hidden in its transcript.
        self.voiced = self.voice_note(voice=True, title="The park")
        # A voice note whose voice may not be heard: transcript only.
        self.silent = self.voice_note(voice=False, title="Staying in")
        # Things the picker must never offer.
        self.report_only = self.item(ConsentLevel.REPORT, title="Only for reports")
        self.unreviewed = self.item(ConsentLevel.EXHIBIT, title="Not reviewed", reviewed=False)
        self.team_only = self.item(ConsentLevel.TEAM, title="Team only")

    def item(self, level, alias=None, kind=ArtefactKind.TEXT_STORY, title="An item", reviewed=True, **flags):
        participant = self.make.participant(self.make.session(self.programme), alias=alias)
        self.make.consent(participant, level, **flags)
        return self.make.artefact(participant, kind=kind, title=title, reviewed=reviewed,
                                  story="We need more buses" if kind == ArtefactKind.TEXT_STORY else "")

    def voice_note(self, voice: bool, title: str):
        note = self.item(ConsentLevel.EXHIBIT, kind=ArtefactKind.VOICE_NOTE, title=title, voice=voice)
        transcript = Transcript(artefact_id=note.id, status=TranscriptStatus.APPROVED, duration=11.0, language="en")
        for position, text in enumerate(LINES):
            transcript.segments.append(TranscriptSegment(position=position, start=position * 5.0,
                                                         end=position * 5.0 + 4.0, text=text))
        self.db.add(transcript)
        self.db.commit()
        hide_words(self.db, SYSTEM, note, "transcript", 10, 15, "name", transcript.segments[0].id)
        self.db.commit()
        store_derivative(self.services, self.db, note, "proxy", SPEECH, "audio/flac")
        return note

    def exhibit(self, slug="summer-voices", items=()):
        exhibit = building.create_exhibit(self.db, self.facilitator, self.programme, "Summer voices", slug)
        for artefact in items:
            building.add_item(self.db, self.facilitator, exhibit, artefact.id,
                              alt_text="A street with houses" if artefact.kind == ArtefactKind.PHOTO else "")
        self.db.commit()
        return exhibit


@pytest.fixture
def gallery(make, db, services, portrait):
    return Gallery(make, db, services, portrait)


def test_the_picker_offers_only_what_may_be_exhibited(db, gallery):
    exhibit = gallery.exhibit()
    offered = {a.id for a in building.exhibitable(db, gallery.facilitator, gallery.programme, exclude=exhibit)}
    assert offered == {gallery.blurred.id, gallery.credited.id, gallery.voiced.id, gallery.silent.id}
    for refused in (gallery.report_only, gallery.unreviewed, gallery.team_only):
        with pytest.raises(ExhibitError, match="cannot be shown in public"):
            building.add_item(db, gallery.facilitator, exhibit, refused.id)
    with pytest.raises(ExhibitError, match="cannot be shown in public"):
        building.add_item(db, gallery.facilitator, exhibit, "not-an-id")
    # Someone outside the programme's team is offered nothing, even what is public.
    outsider = staff_principal(gallery.make.staff(gallery.make.programme(), Role.FACILITATOR))
    assert building.exhibitable(db, outsider, gallery.programme) == []
    building.add_item(db, gallery.facilitator, exhibit, gallery.voiced.id)
    with pytest.raises(ExhibitError, match="already in this exhibit"):
        building.add_item(db, gallery.facilitator, exhibit, gallery.voiced.id)
    assert gallery.voiced.id not in {a.id for a in building.exhibitable(db, gallery.facilitator, gallery.programme,
                                                                           exclude=exhibit)}


@pytest.mark.parametrize("slug, message", [
    ("", "Enter a web address"),
    ("Summer Voices!", "lower-case letters"),
    ("-edge-", "lower-case letters"),
    ("manage", "used by the staff pages"),
    ("x" * 61, "60 characters or fewer"),
])
def test_bad_slugs_get_a_clear_message(db, gallery, slug, message):
    with pytest.raises(ExhibitError, match=message) as caught:
        building.create_exhibit(db, gallery.facilitator, gallery.programme, "Voices", slug)
    assert caught.value.field == "slug"


def test_a_slug_clash_is_refused_when_creating_and_when_renaming(db, gallery):
    gallery.exhibit("summer-voices")
    with pytest.raises(ExhibitError, match="Another exhibit already uses the web address summer-voices"):
        building.create_exhibit(db, gallery.facilitator, gallery.programme, "Again", "summer-voices")
    other = gallery.exhibit("winter-voices")
    with pytest.raises(ExhibitError, match="already uses"):
        building.update_exhibit(db, gallery.facilitator, other, "Winter", "summer-voices", "")


def test_lengths_are_limited_with_clear_messages(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred])
    item = exhibit.items[0]
    with pytest.raises(ExhibitError, match=r"The caption must be 280 characters or fewer \(it is 400\)"):
        building.update_item(db, gallery.facilitator, item, None, "A street", "a" * 400)
    with pytest.raises(ExhibitError, match="250 characters or fewer"):
        building.update_item(db, gallery.facilitator, item, None, "b" * 251, "")
    with pytest.raises(ExhibitError, match="600 characters or fewer"):
        building.add_section(db, gallery.facilitator, exhibit, "Getting about", "c" * 601)
    with pytest.raises(ExhibitError, match="Enter a section title"):
        building.add_section(db, gallery.facilitator, exhibit, "  ", "")
    with pytest.raises(ExhibitError, match="Choose one of the programme's themes"):
        building.add_section(db, gallery.facilitator, exhibit, "", "", "not-a-theme")
    with pytest.raises(ExhibitError, match="Enter a title"):
        building.create_exhibit(db, gallery.facilitator, gallery.programme, "", "untitled")


def test_sections_order_and_removal(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced])
    transport = building.add_section(db, gallery.facilitator, exhibit, "", "Buses and parks", "transport")
    assert transport.theme == "transport" and transport.title == "Transport"
    first, second, third = sorted(exhibit.items, key=lambda i: i.position)
    building.update_item(db, gallery.facilitator, third, transport.id, "", "")
    building.move_item(db, gallery.facilitator, third, "up")
    db.commit()
    order = [i.artefact_id for i in showing.live_items(db, exhibit)]
    assert order == [gallery.blurred.id, gallery.voiced.id, gallery.credited.id]
    with pytest.raises(ExhibitError, match="Choose one of this exhibit's sections"):
        building.update_item(db, gallery.facilitator, first, 9999, "A street", "")
    sections = showing.shown_sections(exhibit, showing.shown_items(db, exhibit))
    assert [s.section for s in sections] == [None, transport]
    assert [s.artefact_id for s in sections[1].items] == [gallery.voiced.id]
    building.remove_section(db, gallery.facilitator, transport)
    building.remove_item(db, gallery.facilitator, first)
    db.commit()
    assert [i.artefact_id for i in showing.live_items(db, exhibit)] == [gallery.voiced.id, gallery.credited.id]
    assert all(i.section_id is None for i in exhibit.items)


def test_publishing_is_refused_with_every_reason(db, gallery):
    empty = gallery.exhibit("empty")
    with pytest.raises(publishing.PublishRefused, match="Add at least one item"):
        publishing.publish(db, gallery.facilitator, empty)
    exhibit = gallery.exhibit("pictures")
    building.add_item(db, gallery.facilitator, exhibit, gallery.blurred.id)  # no description
    db.commit()
    with pytest.raises(publishing.PublishRefused) as refused:
        publishing.publish(db, gallery.facilitator, exhibit)
    assert [str(p) for p in refused.value.problems] == [
        "Describe the picture in Our street for people who cannot see it"]
    assert refused.value.problems[0].field == f"item-{exhibit.items[0].id}-alt"
    db.rollback()
    assert exhibit.status.value == "draft" and exhibit.published_item_ids == []


def test_publishing_records_the_live_ids_and_nothing_else(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.voiced])
    live = publishing.publish(db, gallery.facilitator, exhibit)
    db.commit()
    assert exhibit.status.value == "published"
    assert exhibit.published_item_ids == live == [str(gallery.blurred.id), str(gallery.voiced.id)]


def test_consent_stays_live_and_the_team_is_told_why_items_left(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced, gallery.silent])
    publishing.publish(db, gallery.facilitator, exhibit)
    db.commit()
    assert publishing.changes_since_publish(db, exhibit) == []

    withdraw_artefact(db, SYSTEM, gallery.blurred)  # the participant takes it back
    gallery.make.consent(gallery.credited.participant, ConsentLevel.REPORT)  # narrows to reports only
    from archive.curation.review import reopen

    reopen(db, gallery.facilitator, gallery.voiced)  # back for another look
    db.commit()

    assert [s.artefact_id for s in showing.shown_items(db, exhibit)] == [gallery.silent.id]
    reasons = {c.artefact_id: c.reason for c in publishing.changes_since_publish(db, exhibit)}
    assert reasons == {str(gallery.blurred.id): "withdrawn", str(gallery.credited.id): "consent",
                       str(gallery.voiced.id): "review"}
    # Taking an item out by hand is told apart from consent.
    building.remove_item(db, gallery.facilitator, next(i for i in exhibit.items if i.artefact_id == gallery.silent.id))
    db.commit()
    assert publishing.changes_since_publish(db, exhibit)[-1].reason == "removed"


def test_the_public_gets_credit_voice_and_face_only_as_agreed(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced, gallery.silent])
    shown = {s.artefact_id: s for s in showing.shown_items(db, exhibit)}

    blurred, credited = shown[gallery.blurred.id], shown[gallery.credited.id]
    assert blurred.picture.kind == "faceless_web_image" and blurred.credit is None
    assert blurred.picture.sha256 != gallery.original_photo.sha256
    assert credited.picture.kind == "web_image" and credited.credit == "Kestrel"

    voiced, silent = shown[gallery.voiced.id], shown[gallery.silent.id]
    assert voiced.recording is not None and voiced.captions and voiced.withheld is None
    assert silent.recording is None and not silent.captions and silent.withheld == "voice"
    # Both read the shareable transcript: the hidden name is "[name]".
    for each in (voiced, silent):
        assert each.segments[0].text == "my friend [name] says the park is not safe"
        assert "Jamie" not in each.transcript


def test_a_photo_whose_blurred_copy_is_not_made_yet_shows_nothing(db, gallery, portrait):
    photo = gallery.item(ConsentLevel.EXHIBIT, kind=ArtefactKind.PHOTO, title="Fresh")
    store_derivative(gallery.services, db, photo, "web_image", portrait, "image/jpeg")
    exhibit = gallery.exhibit(items=[photo])
    (shown,) = showing.shown_items(db, exhibit)
    assert shown.picture is None and shown.withheld == "pending"


def test_a_copys_fingerprint_dates_it_when_consent_or_words_change(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced])
    publishing.publish(db, gallery.facilitator, exhibit)
    facts = static_copy.current_facts(db, exhibit)
    first = static_copy.record_export(db, gallery.facilitator, exhibit, b"zip one", facts)
    db.commit()
    assert static_copy.out_of_date(db, exhibit) == {}
    # Facts hold ids, consent and hashes, never the words themselves.
    assert "park" not in str(first.items) and {f["id"] for f in first.items} == {
        str(gallery.blurred.id), str(gallery.credited.id), str(gallery.voiced.id)}

    # Hiding another word changes what the copy would say.
    hide_words(db, SYSTEM, gallery.voiced, "title", 4, 8, "place")
    db.commit()
    assert static_copy.out_of_date(db, exhibit) == {first.id: [str(gallery.voiced.id)]}

    second = static_copy.record_export(db, gallery.facilitator, exhibit, b"zip two",
                                       static_copy.current_facts(db, exhibit))
    db.commit()
    assert set(static_copy.out_of_date(db, exhibit)) == {first.id}
    # Credit withdrawn: the item stays, but the copy credits someone who no longer agrees.
    gallery.make.consent(gallery.credited.participant, ConsentLevel.EXHIBIT, face=True)
    assert static_copy.out_of_date(db, exhibit)[second.id] == [str(gallery.credited.id)]

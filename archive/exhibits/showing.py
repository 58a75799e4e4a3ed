"""What the public gets of an exhibit, decided at read time through the consent gate.

An item is live while its artefact passes ``visible_artefacts(ANONYMOUS, PUBLIC_EXHIBIT)``
(consent at ``exhibit``, ready, reviewed, not withdrawn). Of a live item the public gets:
- its words as ``shareable_text`` leaves them (hidden words read as ``[name]``);
- the alias only with the credit flag (``may_credit``);
- the copy of each picture or recording ``shown_derivative`` picks for the public context: faces
  blurred without the face flag, no recording without the voice flag (the transcript instead),
  and never an original. A copy not made yet means nothing shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..consent import Context, may_credit, visible_artefacts
from ..curation.redaction import ShareableSegment, shareable_text
from ..curation.shown_media import MediaState, media_state, shown_derivative
from ..models import Artefact, ArtefactKind, Derivative, Exhibit, ExhibitItem, ExhibitSection
from ..principal import ANONYMOUS

CONTEXT = Context.PUBLIC_EXHIBIT
RECORDING_KINDS = (ArtefactKind.VOICE_NOTE, ArtefactKind.VIDEO_DIARY)


@dataclass(frozen=True)
class ShownItem:
    """One exhibit item as the public gets it. Derivatives are the copies to serve, already chosen."""

    item_id: int
    artefact: Artefact
    section_id: int | None
    title: str
    story: str
    image_text: str
    segments: tuple[ShareableSegment, ...]
    alt_text: str
    caption: str
    credit: str | None  # the alias, only with credit consent
    picture: Derivative | None  # the image shown (a photo, a drawing, or a video's poster)
    picture_kind: str | None  # the kind to ask the media route for
    recording: Derivative | None
    captions: bool
    withheld: str | None  # "voice", "face" or "pending": why a recording or picture is not shown

    @property
    def artefact_id(self) -> uuid.UUID:
        return self.artefact.id

    @property
    def transcript(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    @property
    def is_recording(self) -> bool:
        return self.artefact.kind in RECORDING_KINDS


@dataclass(frozen=True)
class ShownSection:
    section: ExhibitSection | None
    items: tuple[ShownItem, ...]


def live_items(db: Session, exhibit: Exhibit) -> list[ExhibitItem]:
    """The exhibit's items whose artefacts may be shown in public right now, in order."""
    return list(db.scalars(
        select(ExhibitItem).join(Artefact, Artefact.id == ExhibitItem.artefact_id)
        .where(ExhibitItem.exhibit_id == exhibit.id, visible_artefacts(ANONYMOUS, CONTEXT))
        .order_by(ExhibitItem.position, ExhibitItem.id)
    ))


def live_artefact_ids(db: Session, exhibit: Exhibit) -> list[str]:
    return [str(item.artefact_id) for item in live_items(db, exhibit)]


def _derivative(artefact: Artefact, kind: str, state: MediaState) -> Derivative | None:
    served = shown_derivative(ANONYMOUS, CONTEXT, artefact, kind, state)
    return next((d for d in artefact.derivatives if d.kind == served), None) if served else None


def shown_item(db: Session, item: ExhibitItem, artefact: Artefact) -> ShownItem:
    state = media_state(db, artefact)
    text = shareable_text(db, artefact)
    recording = picture = None
    picture_kind = withheld = None
    if artefact.kind in RECORDING_KINDS:
        recording = _derivative(artefact, "proxy", state)
        if recording is None:
            if artefact.kind == ArtefactKind.VIDEO_DIARY and not artefact.consent_face:
                withheld = "face"
            elif not artefact.consent_voice:
                withheld = "voice"
            else:
                withheld = "pending"
        if artefact.kind == ArtefactKind.VIDEO_DIARY:
            picture, picture_kind = _derivative(artefact, "poster", state), "poster"
    else:
        picture, picture_kind = _derivative(artefact, "web_image", state), "web_image"
        if picture is None and artefact.kind != ArtefactKind.TEXT_STORY:
            withheld = "pending"
    credit = artefact.participant.alias if may_credit(ANONYMOUS, CONTEXT, artefact) else None
    return ShownItem(
        item_id=item.id, artefact=artefact, section_id=item.section_id, title=text.title, story=text.story,
        image_text=text.image_text, segments=text.segments, alt_text=item.alt_text, caption=item.caption,
        credit=credit, picture=picture, picture_kind=picture_kind if picture is not None else None,
        recording=recording, captions=recording is not None and bool(text.segments), withheld=withheld,
    )


def shown_items(db: Session, exhibit: Exhibit) -> list[ShownItem]:
    items = live_items(db, exhibit)
    artefacts = {a.id: a for a in db.scalars(
        select(Artefact).where(Artefact.id.in_([i.artefact_id for i in items]))
        .options(selectinload(Artefact.derivatives), selectinload(Artefact.participant))
    )} if items else {}
    return [shown_item(db, item, artefacts[item.artefact_id]) for item in items]


def shown_sections(exhibit: Exhibit, shown: list[ShownItem]) -> list[ShownSection]:
    """The exhibit's sections in order, each with its live items; items outside any section come first.

    A section whose items have all left is still listed (its text stands on its own), so the page
    keeps its shape when consent changes.
    """
    loose = tuple(s for s in shown if s.section_id is None)
    sections = [ShownSection(None, loose)] if loose else []
    for section in exhibit.sections:
        sections.append(ShownSection(section, tuple(s for s in shown if s.section_id == section.id)))
    return sections


def shown_in(db: Session, exhibit: Exhibit, artefact_id) -> ShownItem | None:
    """The live item of this exhibit for an artefact id (a URL's), or None: ids cannot be probed."""
    try:
        key = uuid.UUID(str(artefact_id))
    except ValueError:
        return None
    item = next((i for i in live_items(db, exhibit) if i.artefact_id == key), None)
    return None if item is None else shown_item(db, item, db.get(Artefact, key))

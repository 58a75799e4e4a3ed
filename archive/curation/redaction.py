"""Hiding names, schools, streets, faces and spoken details from everyone beyond the team.

Three kinds of redaction, all stored as positions, never as the hidden words:
- text: a span of the title, story, words found in the picture, or a transcript segment, which
  reads as ``[name]`` (its label) in search, exports, captions and exhibits;
- box: a rectangle on a photo, drawing or video frame, blurred in the redacted pictures;
- sound: a stretch of a recording, bleeped in the redacted audio.

``shareable_text`` is what every reader beyond the team gets; ``media.redact`` makes the redacted
derivatives (``ingest.jobs.redact_media_job`` after each change). The original stays, team only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import Artefact, ArtefactKind, PersonalDetailFlag, Redaction, TranscriptSegment, utcnow
from ..principal import Principal
from .guards import CurationError, ensure_live

LABELS = ("name", "school", "street", "address", "phone", "email", "place", "other")
TEXT_SOURCES = ("title", "story", "image_text", "transcript")
PICTURE_KINDS = (ArtefactKind.PHOTO, ArtefactKind.DRAWING, ArtefactKind.VIDEO_DIARY)
SOUND_KINDS = (ArtefactKind.VOICE_NOTE, ArtefactKind.VIDEO_DIARY)
# A flagged personal detail's kind, as the label its redaction reads.
FLAG_LABELS = {"phone": "phone", "email": "email", "postcode": "address", "address": "address",
               "school": "school", "street": "street", "name": "name"}
MIN_BOX = 0.005  # half a percent of the picture: smaller is a slip of the finger, not a face


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def redacted_text(text: str, spans: list[Span]) -> str:
    """`text` with each span replaced by ``[label]``; overlapping spans become one."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.label)
        else:
            merged.append(span)
    out, cursor = [], 0
    for span in merged:
        out += [text[cursor:span.start], f"[{span.label}]"]
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)


def _label(label: str) -> str:
    if label not in LABELS:
        raise CurationError(f"Choose what the words are: {', '.join(LABELS)}.")
    return label


def _source_text(db: Session, artefact: Artefact, source: str, segment_id: int | None) -> str:
    if source not in TEXT_SOURCES:
        raise CurationError("Words can be hidden in the title, the story, the words in the picture or the transcript.")
    if source != "transcript":
        return getattr(artefact, source) or ""
    segment = db.get(TranscriptSegment, segment_id) if segment_id is not None else None
    if segment is None or artefact.transcript is None or segment.transcript_id != artefact.transcript.id:
        raise CurationError("That line is not in this item's transcript. Reload the page.")
    return segment.text


def hide_words(db: Session, actor: Principal, artefact: Artefact, source: str, start: int, end: int,
               label: str = "name", segment_id: int | None = None) -> Redaction:
    ensure_live(db, artefact)
    text = _source_text(db, artefact, source, segment_id)
    if not 0 <= start < end <= len(text):
        raise CurationError("That selection is not inside the text. Select the words again.")
    redaction = Redaction(artefact_id=artefact.id, kind="text", source=source, start=start, end=end,
                          label=_label(label), segment_id=segment_id if source == "transcript" else None,
                          created_by_id=actor.user_id)
    return _added(db, actor, artefact, redaction)


def hide_phrase(db: Session, actor: Principal, artefact: Artefact, phrase: str, label: str = "name") -> int:
    """Hide every occurrence of `phrase` (any case) in the item's words; returns how many were hidden.

    The way to hide a name everywhere it was said or written at once, and what the page offers
    without JavaScript (with it, selecting words fills the phrase in).
    """
    ensure_live(db, artefact)
    phrase = " ".join((phrase or "").split())
    if len(phrase) < 2:
        raise CurationError("Type the words to hide: at least two letters.")
    _label(label)
    places = [(source, None, getattr(artefact, source) or "") for source in ("title", "story", "image_text")]
    if artefact.transcript is not None:
        places += [("transcript", s.id, s.text) for s in artefact.transcript.segments]
    pattern = re.compile(r"\s+".join(re.escape(word) for word in phrase.split()), re.IGNORECASE)
    hidden = 0
    for source, segment_id, text in places:
        for match in pattern.finditer(text):
            hide_words(db, actor, artefact, source, match.start(), match.end(), label, segment_id)
            hidden += 1
    if not hidden:
        raise CurationError(f'"{phrase}" is not in this item\'s words. Check the spelling.')
    return hidden


def hide_flagged_detail(db: Session, actor: Principal, artefact: Artefact, flag_id: int) -> Redaction:
    """Redact a personal detail the ingestion pipeline flagged, and mark the flag decided."""
    flag = db.get(PersonalDetailFlag, flag_id)
    if flag is None or flag.artefact_id != artefact.id:
        raise CurationError("That flag is no longer on this item. Reload the page.")
    redaction = hide_words(db, actor, artefact, flag.source, flag.start, flag.end,
                           FLAG_LABELS.get(flag.kind, "other"), flag.segment_id)
    flag.status, flag.reviewed_by_id, flag.reviewed_at = "redacted", actor.user_id, utcnow()
    return redaction


def blur_box(db: Session, actor: Principal, artefact: Artefact, x: float, y: float,
             width: float, height: float) -> Redaction:
    ensure_live(db, artefact)
    if artefact.kind not in PICTURE_KINDS:
        raise CurationError("Only photos, drawings and videos have pictures to blur.")
    numbers = (x, y, width, height)
    if not all(isinstance(n, (int, float)) and math.isfinite(n) for n in numbers):
        raise CurationError("The box needs a position and a size.")
    if width < MIN_BOX or height < MIN_BOX:
        raise CurationError("The box is too small to hide anything: draw it over the whole face or detail.")
    if x < 0 or y < 0 or x + width > 1 or y + height > 1:
        raise CurationError("The box goes outside the picture. Draw it inside the picture.")
    redaction = Redaction(artefact_id=artefact.id, kind="box", x=x, y=y, width=width, height=height,
                          label="other", created_by_id=actor.user_id)
    return _added(db, actor, artefact, redaction)


def bleep_sound(db: Session, actor: Principal, artefact: Artefact, t_start: float, t_end: float) -> Redaction:
    ensure_live(db, artefact)
    if artefact.kind not in SOUND_KINDS:
        raise CurationError("Only voice notes and videos have sound to bleep.")
    duration = artefact.transcript.duration if artefact.transcript is not None else None
    if not (math.isfinite(t_start) and math.isfinite(t_end)) or not 0 <= t_start < t_end:
        raise CurationError("Give a start time before the end time.")
    if duration is not None and t_end > duration + 0.05:
        raise CurationError(f"The recording is only {duration:.1f} seconds long.")
    redaction = Redaction(artefact_id=artefact.id, kind="audio", t_start=t_start, t_end=t_end,
                          label="other", created_by_id=actor.user_id)
    return _added(db, actor, artefact, redaction)


def _added(db: Session, actor: Principal, artefact: Artefact, redaction: Redaction) -> Redaction:
    db.add(redaction)
    db.flush()
    record_event(db, actor, "redaction.added", "artefact", artefact.id, redaction=redaction.id, kind=redaction.kind)
    return redaction


def remove(db: Session, actor: Principal, artefact: Artefact, redaction_id: int) -> None:
    ensure_live(db, artefact)
    redaction = db.get(Redaction, redaction_id)
    if redaction is None or redaction.artefact_id != artefact.id:
        raise CurationError("That redaction is no longer on this item. Reload the page.")
    db.delete(redaction)
    record_event(db, actor, "redaction.removed", "artefact", artefact.id, redaction=redaction_id)


def carry_over(db: Session, segment: TranscriptSegment, old_text: str, new_text: str) -> None:
    """Keep a corrected line's hidden words hidden: find them again in the new text.

    Offsets stop matching once a line is edited. Each hidden piece of the old text is looked for
    in the new one and every occurrence is hidden again; a piece the edit removed needs nothing.
    """
    spans = db.scalars(select(Redaction).where(Redaction.segment_id == segment.id, Redaction.kind == "text")).all()
    for redaction in spans:
        hidden = old_text[redaction.start:redaction.end]
        db.delete(redaction)
        if not hidden.strip():
            continue
        at = new_text.find(hidden)
        while at != -1:
            db.add(Redaction(artefact_id=redaction.artefact_id, kind="text", source="transcript",
                             segment_id=segment.id, start=at, end=at + len(hidden), label=redaction.label,
                             created_by_id=redaction.created_by_id))
            at = new_text.find(hidden, at + len(hidden))


def redactions_of(db: Session, artefact_id, kind: str | None = None) -> list[Redaction]:
    query = select(Redaction).where(Redaction.artefact_id == artefact_id).order_by(Redaction.id)
    if kind is not None:
        query = query.where(Redaction.kind == kind)
    return list(db.scalars(query))


def hidden_words(artefact: Artefact, redactions: Iterable[Redaction]) -> list[tuple[str, str]]:
    """(words, label) for each stretch of text hidden beyond the team, read from the original text."""
    segments = {s.id: s.text for s in (artefact.transcript.segments if artefact.transcript is not None else [])}
    found = []
    for r in redactions:
        if r.kind != "text" or r.start is None or r.end is None:
            continue
        source = segments.get(r.segment_id, "") if r.source == "transcript" else getattr(artefact, r.source or "", "")
        words = (source or "")[r.start:r.end].strip()
        if words:
            found.append((words, r.label))
    return found


def shown_evidence(evidence: str | None, hidden: list[tuple[str, str]]) -> str | None:
    """A tag's evidence as it may be read beyond the team: hidden words read as ``[label]``.

    Evidence is a copy of the item's words taken before any were hidden, so each hidden stretch,
    and each word of it, is replaced wherever it occurs, whatever its case: a quote cut off in the
    middle of a name must not keep the half it kept.
    """
    if not evidence:
        return evidence
    for words, label in sorted(hidden, key=lambda h: -len(h[0])):
        evidence = re.sub(re.escape(words), f"[{label}]", evidence, flags=re.IGNORECASE)
        for word in words.split():
            if len(word) > 1:
                evidence = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", f"[{label}]", evidence, flags=re.IGNORECASE)
    return evidence


def cover_hidden(db: Session, artefact: Artefact, text: str | None) -> str | None:
    """Any copy of an item's words (a tag's evidence, a saved quote) with its hidden words covered."""
    return shown_evidence(text, hidden_words(artefact, redactions_of(db, artefact.id, "text")))


@dataclass(frozen=True)
class ShareableSegment:
    id: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class ShareableText:
    """An item's words as everyone beyond the team reads them."""

    title: str
    story: str
    image_text: str
    segments: tuple[ShareableSegment, ...]

    @property
    def transcript(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


def text_redactions_of_many(db: Session, artefact_ids) -> dict:
    """Each artefact's text redactions, in one query: for rebuilding the index without one query an item."""
    found: dict = {}
    query = select(Redaction).where(Redaction.artefact_id.in_(list(artefact_ids)), Redaction.kind == "text")
    for redaction in db.scalars(query.order_by(Redaction.id)):
        found.setdefault(redaction.artefact_id, []).append(redaction)
    return found


def shareable_text(db: Session, artefact: Artefact, text_redactions: list[Redaction] | None = None) -> ShareableText:
    """The item's words as readers beyond the team read them; `text_redactions` when already fetched."""
    spans: dict[tuple[str, int | None], list[Span]] = {}
    if text_redactions is None:
        text_redactions = redactions_of(db, artefact.id, "text")
    for redaction in text_redactions:
        key = (redaction.source, redaction.segment_id)
        spans.setdefault(key, []).append(Span(redaction.start, redaction.end, redaction.label))

    def hidden(source: str, text: str, segment_id: int | None = None) -> str:
        return redacted_text(text or "", spans.get((source, segment_id), []))

    segments = artefact.transcript.segments if artefact.transcript is not None else []
    return ShareableText(
        title=hidden("title", artefact.title),
        story=hidden("story", artefact.story),
        image_text=hidden("image_text", artefact.image_text),
        segments=tuple(ShareableSegment(s.id, s.start, s.end, hidden("transcript", s.text, s.id)) for s in segments),
    )

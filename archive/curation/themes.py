"""Theme review: a facilitator accepts, rejects or adds tags and sets whether each is a barrier or an asset.

Suggestions (the model's, and the participant's own picks) stay suggestions until a person
accepts them; accepted tags are what analysis counts. A rejected suggestion is kept, marked
rejected, so re-running the tagger does not offer it again as if new. The caller commits, then
queues ``refresh_index_job`` so theme search and facets follow.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import Artefact, Polarity, Programme, TagSource, TagStatus, ThemeTag
from ..principal import Principal
from ..programmes import programme_framework
from .guards import CurationError, ensure_live

MAX_EVIDENCE_CHARS = 1000


def _tag(artefact: Artefact, tag_id: int) -> ThemeTag:
    for tag in artefact.tags:
        if tag.id == tag_id:
            return tag
    raise CurationError("That theme is no longer on this item. Reload the page.")


def _polarity(value: str | Polarity) -> Polarity:
    try:
        return Polarity(value)
    except ValueError:
        raise CurationError('Choose "barrier", "asset" or "neutral".') from None


def review_tag(db: Session, actor: Principal, artefact: Artefact, tag_id: int, status: TagStatus,
               polarity: str | Polarity | None = None) -> ThemeTag:
    """Accept or reject one tag, optionally changing its polarity."""
    ensure_live(db, artefact)
    tag = _tag(artefact, tag_id)
    if status not in (TagStatus.ACCEPTED, TagStatus.REJECTED):
        raise CurationError("A theme can be accepted or rejected.")
    before = (tag.status.value, tag.polarity.value)
    tag.status = status
    if polarity is not None:
        tag.polarity = _polarity(polarity)
    record_event(db, actor, "theme.reviewed", "artefact", artefact.id, tag=tag.id, theme=tag.theme,
                 before=list(before), after=[tag.status.value, tag.polarity.value])
    return tag


def add_tag(db: Session, actor: Principal, artefact: Artefact, theme: str, polarity: str | Polarity,
            evidence: str = "") -> ThemeTag:
    """A facilitator's own tag, accepted as it is made; one per theme per item."""
    ensure_live(db, artefact)
    framework = programme_framework(db.get(Programme, artefact.programme_id))
    if theme not in framework:
        raise CurationError("That theme is not in this programme's framework.")
    evidence = (evidence or "").strip()
    if len(evidence) > MAX_EVIDENCE_CHARS:
        raise CurationError(f"Keep the evidence under {MAX_EVIDENCE_CHARS} characters: quote the words that matter.")
    for existing in artefact.tags:
        if existing.theme == theme and existing.status != TagStatus.REJECTED:
            existing.status = TagStatus.ACCEPTED
            existing.polarity = _polarity(polarity)
            record_event(db, actor, "theme.reviewed", "artefact", artefact.id, tag=existing.id, theme=theme,
                         after=[existing.status.value, existing.polarity.value])
            return existing
    tag = ThemeTag(
        artefact=artefact, framework=framework.code, theme=theme, source=TagSource.FACILITATOR,
        polarity=_polarity(polarity), status=TagStatus.ACCEPTED, evidence=evidence or None,
        created_by_id=actor.user_id,
    )
    db.add(tag)
    db.flush()
    record_event(db, actor, "theme.added", "artefact", artefact.id, tag=tag.id, theme=theme)
    return tag


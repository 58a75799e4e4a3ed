"""Publishing an exhibit, and telling the team what changed since.

Publishing is refused, with every reason at once, for an exhibit with nothing to show, a picture
without a description, a recording without words to caption it, or a web address that clashes.
It records the ids of the items live at that moment (ids only, no content); ``changes_since_publish``
compares them with what is live now and says why each missing one left, where that is still knowable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import (
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    Exhibit,
    ExhibitItem,
    ExhibitStatus,
    utcnow,
)
from ..principal import Principal
from . import ExhibitError
from .building import LIMITS, check_slug
from .showing import ShownItem, shown_items


class PublishRefused(ExhibitError):
    def __init__(self, problems: list[ExhibitError]):
        super().__init__(problems[0], problems[0].field)
        self.problems = problems


def _needs_alt(shown: ShownItem) -> bool:
    return shown.artefact.kind in (ArtefactKind.PHOTO, ArtefactKind.DRAWING) or shown.picture is not None


def publish_problems(db: Session, exhibit: Exhibit) -> list[ExhibitError]:
    problems: list[ExhibitError] = []
    try:
        check_slug(db, exhibit.slug, exhibit.id)
    except ExhibitError as exc:
        problems.append(exc)
    if not exhibit.items:
        problems.append(ExhibitError(_l("Add at least one item before publishing"), "picker"))
        return problems
    shown = shown_items(db, exhibit)
    if not shown:
        problems.append(ExhibitError(_l("None of the exhibit's items may be shown in public now: add items whose "
                                        "consent allows it"), "picker"))
    for each in shown:
        name = each.title or _l("an untitled item")
        if _needs_alt(each) and not each.alt_text:
            problems.append(ExhibitError(_l("Describe the picture in %(name)s for people who cannot see it",
                                            name=name), f"item-{each.item_id}-alt"))
        transcript = each.artefact.transcript
        if each.is_recording and not each.segments and not (transcript is not None and transcript.no_speech):
            problems.append(ExhibitError(_l("%(name)s has no transcript yet, so it cannot have captions",
                                            name=name), f"item-{each.item_id}"))
        for attr, limit in (("caption", LIMITS["caption"]), ("alt_text", LIMITS["alt_text"])):
            if len(getattr(each, attr)) > limit:
                problems.append(ExhibitError(_l("Shorten the words for %(name)s to %(limit)d characters",
                                                name=name, limit=limit), f"item-{each.item_id}"))
    return problems


def publish(db: Session, actor: Principal, exhibit: Exhibit) -> list[str]:
    """Publish (or publish again) and return the ids of the items live now."""
    problems = publish_problems(db, exhibit)
    if problems:
        raise PublishRefused(problems)
    live = [str(s.artefact_id) for s in shown_items(db, exhibit)]
    exhibit.status, exhibit.published_at, exhibit.published_item_ids = ExhibitStatus.PUBLISHED, utcnow(), live
    record_event(db, actor, "exhibit.published", "exhibit", exhibit.id, items=len(live))
    return live


def unpublish(db: Session, actor: Principal, exhibit: Exhibit) -> None:
    exhibit.status = ExhibitStatus.DRAFT
    record_event(db, actor, "exhibit.unpublished", "exhibit", exhibit.id)


@dataclass(frozen=True)
class Change:
    artefact_id: str
    reason: str  # "withdrawn", "consent", "review", "processing", "removed" or "unknown"


def why_not_live(artefact: Artefact | None, in_exhibit: bool) -> str:
    if artefact is None or artefact.status == ArtefactStatus.WITHDRAWN or artefact.withdrawn_at is not None:
        return "withdrawn"
    if artefact.consent_level < ConsentLevel.EXHIBIT:
        return "consent"
    if artefact.reviewed_at is None:
        return "review"
    if artefact.status != ArtefactStatus.READY:
        return "processing"
    return "removed" if not in_exhibit else "unknown"


def changes_since_publish(db: Session, exhibit: Exhibit) -> list[Change]:
    """Items live at the last publish that are not live now, each with why, where it can be told."""
    if not exhibit.published_item_ids:
        return []
    now = {str(s.artefact_id) for s in shown_items(db, exhibit)}
    gone = [i for i in exhibit.published_item_ids if i not in now]
    if not gone:
        return []
    keys = [uuid.UUID(i) for i in gone]
    artefacts = {str(a.id): a for a in db.scalars(select(Artefact).where(Artefact.id.in_(keys)))}
    still_in = {str(i) for i in db.scalars(select(ExhibitItem.artefact_id).where(
        ExhibitItem.exhibit_id == exhibit.id, ExhibitItem.artefact_id.in_(keys)))}
    return [Change(i, why_not_live(artefacts.get(i), i in still_in)) for i in gone]

"""Putting an exhibit together: its slug and title, sections by theme, items and their words.

Items come only from ``exhibitable``: the consent gate's public clause, so an item whose consent
does not reach ``exhibit`` (or that is not reviewed) is never offered and never added.
"""

from __future__ import annotations

import re
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..consent import Context, visible_artefacts
from ..models import Artefact, ArtefactKind, Exhibit, ExhibitItem, ExhibitSection, Programme, Role
from ..principal import ANONYMOUS, Principal
from . import ExhibitError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RESERVED_SLUGS = {"manage"}  # the staff pages live at /exhibits/manage
LIMITS = {"title": 120, "slug": 60, "intro": 1000, "section_title": 120, "section_text": 600,
          "caption": 280, "alt_text": 250}
# Kinds whose page shows a picture and so needs words for people who cannot see it. A video
# shows its poster when its voice or face may not be played.
PICTURE_KINDS = (ArtefactKind.PHOTO, ArtefactKind.DRAWING, ArtefactKind.VIDEO_DIARY)
TEAM = (Role.ADMIN, Role.FACILITATOR)


def _text(value: str | None, limit_key: str, label, field: str, required: bool = False) -> str:
    value = " ".join((value or "").split()) if limit_key != "intro" else (value or "").strip()
    if required and not value:
        raise ExhibitError(_l("Enter %(label)s", label=label), field)
    limit = LIMITS[limit_key]
    if len(value) > limit:
        raise ExhibitError(_l("%(label)s must be %(limit)d characters or fewer (it is %(length)d)",
                              label=str(label).capitalize(), limit=limit, length=len(value)), field)
    return value


def check_slug(db: Session, slug: str | None, exhibit_id: int | None = None) -> str:
    slug = (slug or "").strip().lower()
    if not slug:
        raise ExhibitError(_l("Enter a web address for the exhibit"), "slug")
    if len(slug) > LIMITS["slug"]:
        raise ExhibitError(_l("The web address must be %(limit)d characters or fewer", limit=LIMITS["slug"]), "slug")
    if not SLUG.match(slug):
        raise ExhibitError(_l("The web address can only use lower-case letters, numbers and single hyphens, "
                              "like summer-voices"), "slug")
    if slug in RESERVED_SLUGS:
        raise ExhibitError(_l("That web address is used by the staff pages: choose another"), "slug")
    clash = db.scalar(select(Exhibit.id).where(Exhibit.slug == slug))
    if clash is not None and clash != exhibit_id:
        raise ExhibitError(_l("Another exhibit already uses the web address %(slug)s: choose another", slug=slug),
                           "slug")
    return slug


def create_exhibit(db: Session, actor: Principal, programme: Programme, title: str, slug: str,
                   intro: str = "") -> Exhibit:
    if not actor.has_role(programme.id, *TEAM):
        raise ExhibitError(_l("Only the programme's facilitators and admins can make its exhibits"), "programme")
    exhibit = Exhibit(programme_id=programme.id, title=_text(title, "title", _l("a title"), "title", True),
                      slug=check_slug(db, slug), intro=_text(intro, "intro", _l("the introduction"), "intro"))
    db.add(exhibit)
    db.flush()
    record_event(db, actor, "exhibit.created", "exhibit", exhibit.id, slug=exhibit.slug)
    return exhibit


def update_exhibit(db: Session, actor: Principal, exhibit: Exhibit, title: str, slug: str, intro: str) -> None:
    exhibit.title = _text(title, "title", _l("a title"), "title", True)
    exhibit.slug = check_slug(db, slug, exhibit.id)
    exhibit.intro = _text(intro, "intro", _l("the introduction"), "intro")
    record_event(db, actor, "exhibit.changed", "exhibit", exhibit.id)


def add_section(db: Session, actor: Principal, exhibit: Exhibit, title: str, text: str = "",
                theme: str | None = None) -> ExhibitSection:
    """A section, usually one theme of the programme's framework; an empty title takes the theme's label."""
    if theme:
        from ..programmes import programme_framework

        labels = {t.code: t.label for t in programme_framework(db.get(Programme, exhibit.programme_id))}
        if theme not in labels:
            raise ExhibitError(_l("Choose one of the programme's themes"), "theme")
        title = title if (title or "").strip() else labels[theme]
    position = db.scalar(select(func.coalesce(func.max(ExhibitSection.position), -1))
                         .where(ExhibitSection.exhibit_id == exhibit.id)) + 1
    section = ExhibitSection(position=position, theme=(theme or None),
                             title=_text(title, "section_title", _l("a section title"), "section_title", True),
                             text=_text(text, "section_text", _l("the section's text"), "section_text"))
    exhibit.sections.append(section)  # through the relationship, so the exhibit in hand sees it at once
    db.flush()
    record_event(db, actor, "exhibit.section_added", "exhibit", exhibit.id, section=section.id)
    return section


def update_section(db: Session, actor: Principal, section: ExhibitSection, title: str, text: str) -> None:
    section.title = _text(title, "section_title", _l("a section title"), f"section-{section.id}-title", True)
    section.text = _text(text, "section_text", _l("the section's text"), f"section-{section.id}-text")
    record_event(db, actor, "exhibit.section_changed", "exhibit", section.exhibit_id, section=section.id)


def remove_section(db: Session, actor: Principal, section: ExhibitSection) -> None:
    """Its items stay in the exhibit, outside any section."""
    for item in db.scalars(select(ExhibitItem).where(ExhibitItem.section_id == section.id)):
        item.section_id = None
    record_event(db, actor, "exhibit.section_removed", "exhibit", section.exhibit_id, section=section.id)
    section.exhibit.sections.remove(section)


def exhibitable(db: Session, principal: Principal, programme: Programme, exclude: Exhibit | None = None):
    """Artefacts of the programme that may be shown in public now, for the picker: nothing else.

    The public clause is asked as the public (anonymous), so the picker can never offer more than
    the public page would show; the caller must be on the programme's team to see the list at all.
    """
    if not principal.has_role(programme.id, *TEAM):
        return []
    query = (select(Artefact)
             .where(Artefact.programme_id == programme.id, visible_artefacts(ANONYMOUS, Context.PUBLIC_EXHIBIT))
             .order_by(Artefact.created_at.desc()))
    if exclude is not None:
        query = query.where(Artefact.id.not_in(select(ExhibitItem.artefact_id)
                                               .where(ExhibitItem.exhibit_id == exclude.id)))
    return list(db.scalars(query))


def _section_of(exhibit: Exhibit, section_id) -> int | None:
    if section_id in (None, ""):
        return None
    try:
        wanted = int(section_id)
    except (TypeError, ValueError):
        wanted = None
    if not any(s.id == wanted for s in exhibit.sections):
        raise ExhibitError(_l("Choose one of this exhibit's sections"), "section")
    return wanted


def add_item(db: Session, actor: Principal, exhibit: Exhibit, artefact_id, section_id=None,
             alt_text: str = "", caption: str = "") -> ExhibitItem:
    try:
        key = artefact_id if isinstance(artefact_id, uuid.UUID) else uuid.UUID(str(artefact_id))
    except ValueError:
        key = None
    programme = db.get(Programme, exhibit.programme_id)
    offered = {a.id: a for a in exhibitable(db, actor, programme)} if key is not None else {}
    if key not in offered:
        raise ExhibitError(_l("That item cannot be shown in public: its consent does not allow it, it has not "
                              "been reviewed, or it was withdrawn"), "artefact")
    if db.scalar(select(ExhibitItem.id).where(ExhibitItem.exhibit_id == exhibit.id,
                                              ExhibitItem.artefact_id == key)) is not None:
        raise ExhibitError(_l("That item is already in this exhibit"), "artefact")
    position = db.scalar(select(func.coalesce(func.max(ExhibitItem.position), -1))
                         .where(ExhibitItem.exhibit_id == exhibit.id)) + 1
    item = ExhibitItem(artefact_id=key, position=position, section_id=_section_of(exhibit, section_id))
    _set_words(item, offered[key], alt_text, caption)
    exhibit.items.append(item)
    db.flush()
    record_event(db, actor, "exhibit.item_added", "exhibit", exhibit.id, artefact=str(key))
    return item


def _set_words(item: ExhibitItem, artefact: Artefact, alt_text: str, caption: str) -> None:
    item.alt_text = _text(alt_text, "alt_text", _l("the description of the picture"), "alt_text")
    item.caption = _text(caption, "caption", _l("the caption"), "caption")


def update_item(db: Session, actor: Principal, item: ExhibitItem, section_id, alt_text: str, caption: str) -> None:
    item.section_id = _section_of(item.exhibit, section_id)
    _set_words(item, db.get(Artefact, item.artefact_id), alt_text, caption)
    record_event(db, actor, "exhibit.item_changed", "exhibit", item.exhibit_id, item=item.id)


def remove_item(db: Session, actor: Principal, item: ExhibitItem) -> None:
    record_event(db, actor, "exhibit.item_removed", "exhibit", item.exhibit_id, artefact=str(item.artefact_id))
    item.exhibit.items.remove(item)  # delete-orphan removes the row


def move_item(db: Session, actor: Principal, item: ExhibitItem, direction: str) -> None:
    """Swap the item with its neighbour ("up" or "down") in the exhibit's order."""
    if direction not in ("up", "down"):
        raise ExhibitError(_l("Choose whether to move the item up or down"), "direction")
    ordered = sorted(item.exhibit.items, key=lambda i: (i.position, i.id))
    for number, each in enumerate(ordered):
        each.position = number  # closes gaps left by removals, so a swap always moves it
    at = ordered.index(item)
    other = at - 1 if direction == "up" else at + 1
    if 0 <= other < len(ordered):
        ordered[at].position, ordered[other].position = ordered[other].position, ordered[at].position
        record_event(db, actor, "exhibit.item_moved", "exhibit", item.exhibit_id, item=item.id, direction=direction)

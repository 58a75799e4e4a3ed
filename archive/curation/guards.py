"""What every curation change checks first, and the errors it reports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Artefact, ArtefactStatus


class CurationError(ValueError):
    """The change cannot be made; the message is fit to show the facilitator."""


class ItemGone(CurationError):
    """The item was withdrawn (or erased) while someone worked on it; nothing was saved."""


def ensure_live(db: Session, artefact: Artefact) -> None:
    """Refuse items that were withdrawn, reading the status afresh.

    ``populate_existing`` re-reads the row, so a withdrawal committed by another request after
    this one loaded the artefact is seen before anything is written.
    """
    status = db.execute(
        select(Artefact.status).where(Artefact.id == artefact.id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if status in (None, ArtefactStatus.WITHDRAWN):
        raise ItemGone("This item was taken back by the person who shared it. Nothing was saved.")

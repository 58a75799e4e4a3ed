"""Quotes are copies of a child's words, so they go with the artefact. The export register stays:
its rows name the artefact and the consent it had, never its content, and they are how the team
finds the earlier exports to recall."""

from __future__ import annotations

from sqlalchemy import delete, select

from ..erasure import Eraser, ErasureContext, register_eraser
from ..models import Artefact, Quote


def _erase(ctx: ErasureContext, artefact: Artefact) -> None:
    ctx.db.execute(delete(Quote).where(Quote.artefact_id == artefact.id))


def _remaining(ctx: ErasureContext, artefact: Artefact) -> list[str]:
    left = ctx.db.scalar(select(Quote.id).where(Quote.artefact_id == artefact.id).limit(1))
    return [] if left is None else ["quote rows"]


register_eraser(Eraser("quotes", _erase, _remaining))

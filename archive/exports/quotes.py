"""The quotes board: spans of children's words an analyst picks for a report.

Each quote must be a real span of the item's story or transcript, read through the report-export
gate. The board is always listed through ``visible_artefacts`` too, so a quote of an item that was
withdrawn (or whose consent narrowed) disappears at once; the erasure job then deletes the row.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from ..consent import Context, allows, visible_artefacts
from ..curation.redaction import cover_hidden
from ..models import Artefact, Programme, Quote, TranscriptSegment
from ..principal import Principal
from .attribution import attribution
from .csvsafe import csv_bytes

MAX_QUOTE_CHARS = 2000
SOURCES = ("story", "transcript")
_SPACE = re.compile(r"\s+")
# Characters that would make a child's words into Markdown links, images, HTML or headings.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


class QuoteError(ValueError):
    """The quote cannot be added as asked; the message is fit to show the analyst."""


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _segment(artefact: Artefact, segment_id: int | None) -> TranscriptSegment | None:
    if segment_id is None or artefact.transcript is None:
        return None
    return next((s for s in artefact.transcript.segments if s.id == segment_id), None)


def add_quote(db: Session, principal: Principal, artefact: Artefact, source: str, text: str, *,
              segment_id: int | None = None, note: str = "") -> Quote:
    """Put a span of the artefact's words on its programme's board; the caller commits."""
    if not allows(principal, Context.REPORT_EXPORT, artefact):
        raise LookupError("artefact not visible for report export")  # views answer 404: no probing
    if source not in SOURCES:
        raise QuoteError(_("Choose whether the quote is from the story or the transcript."))
    words = _squash(text or "")
    if not words:
        raise QuoteError(_("Enter the words to quote."))
    if len(words) > MAX_QUOTE_CHARS:
        raise QuoteError(_("A quote can be up to %(n)d characters long.", n=MAX_QUOTE_CHARS))
    segment = _segment(artefact, segment_id)
    if segment_id is not None and segment is None:
        raise QuoteError(_("That part of the transcript was not found. Choose it again."))
    if source == "story":
        whole = artefact.story
    elif segment is not None:
        whole = segment.text
    else:
        whole = artefact.transcript.text if artefact.transcript is not None else ""
    if words.casefold() not in _squash(whole).casefold():
        raise QuoteError(_("The quote must be words from the item's %(source)s, as written.",
                           source=_("story") if source == "story" else _("transcript")))
    last = db.scalar(select(func.max(Quote.position)).where(Quote.programme_id == artefact.programme_id))
    quote = Quote(
        programme_id=artefact.programme_id, artefact_id=artefact.id, source=source, text=words,
        segment_id=segment.id if segment else None, start_seconds=segment.start if segment else None,
        end_seconds=segment.end if segment else None, position=(last or 0) + 1, note=(note or "").strip()[:500],
        created_by_id=principal.user_id,
    )
    db.add(quote)
    db.flush()
    return quote


def board(db: Session, principal: Principal, programme: Programme) -> list[Quote]:
    """The programme's quotes the principal may still use in a report, in board order."""
    return list(db.scalars(
        select(Quote)
        .join(Artefact, Quote.artefact_id == Artefact.id)
        .where(Quote.programme_id == programme.id, visible_artefacts(principal, Context.REPORT_EXPORT))
        .options(selectinload(Quote.artefact).selectinload(Artefact.participant))
        .order_by(Quote.position, Quote.id)
    ))


def _on_board(entries: list[Quote], quote_id: int) -> int:
    for index, quote in enumerate(entries):
        if quote.id == quote_id:
            return index
    raise LookupError(quote_id)


def move_quote(db: Session, principal: Principal, programme: Programme, quote_id: int, step: int) -> None:
    """Move a quote up (-1) or down (+1) the board; at either end it stays. Raises LookupError if not on it."""
    entries = board(db, principal, programme)
    index = _on_board(entries, quote_id)
    target = index + step
    if 0 <= target < len(entries):
        entries[index], entries[target] = entries[target], entries[index]
    for position, quote in enumerate(entries, start=1):
        quote.position = position


def remove_quote(db: Session, principal: Principal, programme: Programme, quote_id: int) -> None:
    entries = board(db, principal, programme)
    db.delete(entries[_on_board(entries, quote_id)])


def _markdown_text(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def shown_text(quote: Quote) -> str:
    """The quote as it may leave the team: words hidden since it was picked read as [name]."""
    return cover_hidden(object_session(quote), quote.artefact, quote.text) or ""


def when_said(quote: Quote) -> str:
    if quote.start_seconds is None:
        return ""
    minutes, seconds = divmod(int(quote.start_seconds), 60)
    return f"{minutes}:{seconds:02d}"


def quotes_markdown(principal: Principal, programme: Programme, entries: list[Quote]) -> bytes:
    lines = [f"# {_markdown_text(_('Quotes: %(name)s', name=programme.name))}", ""]
    for quote in entries:
        lines += [f"> {_markdown_text(shown_text(quote))}", ">", f"> — {_markdown_text(attribution(principal, quote.artefact))}", ""]
    return "\n".join(lines).encode("utf-8")


def quotes_csv(principal: Principal, entries: list[Quote]) -> bytes:
    return csv_bytes(
        ("position", "quote", "attribution", "artefact_id", "kind", "source", "start_seconds", "end_seconds", "note"),
        (
            (n, shown_text(q), attribution(principal, q.artefact), str(q.artefact_id), q.artefact.kind.value, q.source,
             q.start_seconds, q.end_seconds, q.note)
            for n, q in enumerate(entries, start=1)
        ),
    )


def quote_by_id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LookupError(value) from None


__all__ = ["QuoteError", "add_quote", "board", "move_quote", "remove_quote", "quotes_markdown", "quotes_csv",
           "when_said", "quote_by_id"]

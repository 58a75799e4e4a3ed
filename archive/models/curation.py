"""What facilitators change when they review an item: transcript corrections and redactions."""

from __future__ import annotations

import uuid

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt


class TranscriptRevision(CreatedAt, Base):
    """One saved correction of one segment: who changed what, so an edit can be checked or undone.

    It holds the child's words (before and after), so it is one of the artefact's derived rows
    that erasure deletes (``archive.erasure.DERIVED_ROWS``).
    """

    __tablename__ = "transcript_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("transcript_segment.id", ondelete="CASCADE"), index=True)
    # The transcript version this edit produced; a save based on an older version that touches
    # the same segment is a conflict, not a silent overwrite.
    version: Mapped[int]
    old_text: Mapped[str] = mapped_column(Text)
    new_text: Mapped[str] = mapped_column(Text)
    old_speaker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    new_speaker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


class Redaction(CreatedAt, Base):
    """A part of an item hidden beyond the team: words, a box on a picture, or a stretch of sound.

    Words read as ``[label]`` (``[name]``, ``[school]``) in search, exports and exhibits; boxes are
    blurred and sounds bleeped in the redacted derivatives that report and exhibit use are given.
    The original stays, for the team only. Offsets and boxes only: no copy of the hidden words.
    """

    __tablename__ = "redaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # text, box, audio
    # For text: story, title, image_text or transcript (with segment_id).
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="CASCADE"), nullable=True
    )
    start: Mapped[int | None] = mapped_column(nullable=True)
    end: Mapped[int | None] = mapped_column(nullable=True)
    label: Mapped[str] = mapped_column(String(16), default="name")
    # For boxes: fractions of the upright picture's width and height, so every size of it agrees.
    x: Mapped[float | None] = mapped_column(Float, nullable=True)
    y: Mapped[float | None] = mapped_column(Float, nullable=True)
    width: Mapped[float | None] = mapped_column(Float, nullable=True)
    height: Mapped[float | None] = mapped_column(Float, nullable=True)
    # For sound: seconds from the start.
    t_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    t_end: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

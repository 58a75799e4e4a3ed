"""What facilitators change when they review an item: transcript corrections, kept as revisions."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
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

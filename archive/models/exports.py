"""The export register and the quotes board.

An export record keeps the provenance of a file that left the system, never the file: who made
it, when, from which query, and for each artefact it held the artefact's id and the consent that
allowed it at that moment. Those rows hold no content, so they outlive the artefact's erasure and
the register can still say which exports held an item that was later withdrawn.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .artefact import Artefact
from .base import Base, CreatedAt, IntEnumType
from .enums import ConsentLevel
from .people import User
from .programme import Programme


class ExportRecord(CreatedAt, Base):
    __tablename__ = "export_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    format: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    query_text: Mapped[str] = mapped_column(Text, default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    filename: Mapped[str] = mapped_column(String(200), default="")
    item_count: Mapped[int] = mapped_column(default=0)
    # SHA-256 of the file as delivered; the manifest inside it names the files it contains.
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    # Set when the team has asked the recipients to delete or redact the export.
    recalled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    recall_note: Mapped[str] = mapped_column(String(500), default="")

    programme: Mapped[Programme] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    recalled_by: Mapped[User | None] = relationship(foreign_keys=[recalled_by_id])
    items: Mapped[list["ExportItem"]] = relationship(
        back_populates="export", cascade="all, delete-orphan", order_by="ExportItem.id"
    )


class ExportItem(Base):
    """One artefact an export held, with the consent that allowed it then. No content."""

    __tablename__ = "export_item"
    __table_args__ = (UniqueConstraint("export_id", "artefact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("export_record.id", ondelete="CASCADE"))
    # No cascade: the artefact row stays as a tombstone after erasure, and so does this fact.
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id"), index=True)
    consent_level: Mapped[ConsentLevel] = mapped_column(IntEnumType(ConsentLevel))
    consent_credit: Mapped[bool] = mapped_column(default=False)
    consent_face: Mapped[bool] = mapped_column(default=False)
    consent_voice: Mapped[bool] = mapped_column(default=False)

    export: Mapped[ExportRecord] = relationship(back_populates="items")


class Quote(CreatedAt, Base):
    """A span of an artefact's story or transcript picked for a report: a copy erased with the artefact."""

    __tablename__ = "quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # story or transcript
    text: Mapped[str] = mapped_column(Text)
    # Where a transcript quote was said; kept as times so a re-transcription does not lose the quote.
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segment.id", ondelete="SET NULL"), nullable=True
    )
    start_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    position: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)

    artefact: Mapped[Artefact] = relationship()

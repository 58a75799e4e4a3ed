"""Exhibits curated from items whose consent allows public showing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt, str_enum
from .enums import ExhibitStatus


class Exhibit(CreatedAt, Base):
    __tablename__ = "exhibit"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ExhibitStatus] = mapped_column(str_enum(ExhibitStatus), default=ExhibitStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Artefact ids (strings, no content) live when it was last published, so the team can be told
    # which later left it and why.
    published_item_ids: Mapped[list] = mapped_column(JSON, default=list)

    sections: Mapped[list["ExhibitSection"]] = relationship(
        back_populates="exhibit", cascade="all, delete-orphan", order_by="ExhibitSection.position"
    )
    items: Mapped[list["ExhibitItem"]] = relationship(
        back_populates="exhibit", cascade="all, delete-orphan", order_by="ExhibitItem.position"
    )


class ExhibitSection(Base):
    __tablename__ = "exhibit_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"))
    theme: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    exhibit: Mapped[Exhibit] = relationship(back_populates="sections")


class ExhibitItem(Base):
    __tablename__ = "exhibit_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"))
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("exhibit_section.id", ondelete="SET NULL"), nullable=True
    )
    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    alt_text: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")

    exhibit: Mapped[Exhibit] = relationship(back_populates="items")


class ExhibitExport(CreatedAt, Base):
    """A static copy of an exhibit that was downloaded: what it held, never the file.

    `items` keeps, per artefact, its id, the consent that allowed it and a hash of its words as
    shown, so a later change in any of them marks this copy out of date.
    """

    __tablename__ = "exhibit_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    items: Mapped[list] = mapped_column(JSON, default=list)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(default=0)

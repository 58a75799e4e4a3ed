"""The PostgreSQL search backend's tables (``search.pg``): one row of searchable text per artefact.

Created on SQLite too, where they stay empty (the Whoosh backend is used there), so the schema
is the same everywhere. ``tsv`` is a ``tsvector`` on PostgreSQL with a GIN index; its lexemes
are the words already stemmed by the Whoosh analyzer, so both backends match the same words.
Consent is not copied here: searches join ``artefact`` and use its live consent columns.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from .artefact import Artefact
from .base import Base

# search.service looks up recently changed items the database hides (the index may lag them) on
# every search: without this, a full scan of the artefact table each time.
Index("ix_artefact_updated_at", Artefact.updated_at)


class SearchDocument(Base):
    __tablename__ = "search_document"
    __table_args__ = (Index("ix_search_document_tsv", "tsv", postgresql_using="gin"),)

    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    session_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    age_band: Mapped[str | None] = mapped_column(String(32), nullable=True)
    area: Mapped[str | None] = mapped_column(String(32), nullable=True)
    place: Mapped[str | None] = mapped_column(String(32), nullable=True)
    place_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Comma-separated, lower case, as in the Whoosh index ("housing,transport", "housing:barrier").
    themes: Mapped[str] = mapped_column(Text, default="")
    polarity: Mapped[str] = mapped_column(Text, default="")
    theme_polarity: Mapped[str] = mapped_column(Text, default="")
    theme_source: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    story: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    ocr: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[str] = mapped_column(Text, default="")  # JSON [[start, end, text], ...]
    tsv: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"), default="")


class SearchWord(Base):
    """Every stemmed word in ``search_document``: what ``word~`` spelling matches are looked up in.

    Pruned when a document goes, so an erased item's words do not outlive it here.
    """

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)

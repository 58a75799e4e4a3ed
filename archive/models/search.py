"""The PostgreSQL search backend's tables (``search.pg``): one searchable row per artefact.

Created on SQLite too, where they stay empty (the Whoosh backend is used there), so the schema
is the same everywhere. ``tsv`` is a ``tsvector`` on PostgreSQL with a GIN index; its lexemes
are the words already stemmed by the Whoosh analyzer, so both backends match the same words.

``search_document`` carries what a search filters and counts on, including a copy of the
artefact's consent-relevant columns (``FOLLOWED_COLUMNS``), so the consent clause and the facet
counts need no join. The copy never lags: on PostgreSQL a trigger on ``artefact`` (migration
0011) rewrites it in the same transaction as any change. The texts live in ``search_text``,
read only for the hits on a page, which keeps the rows a search scans narrow.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, literal_column
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from .artefact import Artefact
from .base import Base

# search.service looks up recently changed items the database hides (the index may lag them) on
# every search: without this, a full scan of the artefact table each time.
Index("ix_artefact_updated_at", Artefact.updated_at)


# Copied from ``artefact`` and kept equal to it by the trigger migration 0011 creates.
FOLLOWED_COLUMNS = ("programme_id", "status", "consent_level", "reviewed_at", "created_at")


# Short GIN pending lists: every search reads the whole list until it is merged (migration 0011).
GIN_OPTIONS = {"gin_pending_list_limit": 512}


def _listed(column: str):
    """A comma-separated column as an array: what ``search.pg`` filters list fields with."""
    return func.string_to_array(literal_column(column), literal_column("','"))


class SearchDocument(Base):
    __tablename__ = "search_document"
    __table_args__ = (
        Index("ix_search_document_tsv", "tsv", postgresql_using="gin", postgresql_with=GIN_OPTIONS),
        # Theme filters and "theme:" queries; PostgreSQL only (SQLite has no arrays, and no rows here).
        Index("ix_search_document_themes", _listed("themes"), postgresql_using="gin",
              postgresql_with=GIN_OPTIONS).ddl_if(dialect="postgresql"),
        Index("ix_search_document_theme_polarity", _listed("theme_polarity"), postgresql_using="gin",
              postgresql_with=GIN_OPTIONS).ddl_if(dialect="postgresql"),
    )

    artefact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artefact.id", ondelete="CASCADE"), primary_key=True)
    programme_id: Mapped[int] = mapped_column(index=True)
    session_id: Mapped[int] = mapped_column(index=True)
    # The same names and values as on ``artefact``, so ``archive.consent.visible_artefacts`` applies as it is.
    status: Mapped[str] = mapped_column(String(32))
    consent_level: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    age_band: Mapped[str | None] = mapped_column(String(32), nullable=True)
    area: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    place: Mapped[str | None] = mapped_column(String(32), nullable=True)
    place_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Comma-separated, lower case, as in the Whoosh index ("housing,transport", "housing:barrier").
    themes: Mapped[str] = mapped_column(Text, default="")
    polarity: Mapped[str] = mapped_column(Text, default="")
    theme_polarity: Mapped[str] = mapped_column(Text, default="")
    theme_source: Mapped[str] = mapped_column(Text, default="")
    tsv: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"), default="")


class SearchText(Base):
    """The words of a ``search_document`` row, as readers beyond the team read them: for snippets."""

    __tablename__ = "search_text"

    artefact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("search_document.artefact_id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    story: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    ocr: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[str] = mapped_column(Text, default="")  # JSON [[start, end, text], ...]


class SearchWord(Base):
    """Every stemmed word in ``search_document``: what ``word~`` spelling matches are looked up in.

    Pruned when a document goes, so an erased item's words do not outlive it here.
    """

    __tablename__ = "search_word"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)

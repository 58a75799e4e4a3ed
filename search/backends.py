"""Search backends: where the index lives and how it is searched, behind one small interface.

``whoosh`` (the default) keeps the index in a folder beside the data; ``postgres`` keeps it in
the database itself (see ``search.pg``). Both take the same query text, filters, paging and
sorting, and both put the consent rule inside the query. ``backend_for(settings)`` picks one
from ``settings.search_backend``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterable, Protocol

from sqlalchemy.orm import Session

from archive.consent import Context
from archive.models import Artefact
from archive.principal import Principal

from .query import SearchResult


class SearchBackend(Protocol):
    name: str
    # True when the index is a copy that the queue brings up to date, so it can briefly lag a
    # withdrawal or consent change; the service then cross-checks hits against the database.
    lags_database: bool

    def index_artefact(self, db: Session, artefact: Artefact, *, purge: bool = False) -> None: ...

    def remove_artefact(self, db: Session, artefact_id: uuid.UUID | str) -> bool: ...

    def reindex(self, db: Session) -> int: ...

    def search(
        self,
        db: Session,
        principal: Principal,
        context: Context,
        query_text: str | None,
        *,
        filters: dict | None = None,
        page: int = 1,
        pagelen: int = 20,
        sort: str = "relevance",
        exclude_ids: Iterable[str] = (),
    ) -> SearchResult: ...


class WhooshBackend:
    name = "whoosh"
    lags_database = True

    def __init__(self, index_dir: Path | str):
        self.index_dir = Path(index_dir)

    def index_artefact(self, db: Session, artefact: Artefact, *, purge: bool = False) -> None:
        from .index import index_artefact

        index_artefact(self.index_dir, artefact, purge=purge)

    def remove_artefact(self, db: Session, artefact_id: uuid.UUID | str) -> bool:
        from .index import remove_artefact

        return remove_artefact(self.index_dir, artefact_id)

    def reindex(self, db: Session) -> int:
        from .index import reindex

        return reindex(db, self.index_dir)

    def search(self, db, principal, context, query_text, **options) -> SearchResult:
        from .query import search

        return search(self.index_dir, principal, context, query_text, **options)


def backend_for(settings) -> SearchBackend:
    """The backend the settings name; PostgreSQL only works with a PostgreSQL database."""
    name = getattr(settings, "search_backend", "whoosh")
    if name == "postgres":
        from .pg import PostgresBackend

        return PostgresBackend()
    return WhooshBackend(settings.index_dir)

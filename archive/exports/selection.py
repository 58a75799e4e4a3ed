"""Which artefacts an export holds: the whole programme or one search, always through the consent gate.

A search only chooses ids (at the report-export level, so restricted items are not even hits); the
rows are then read from the database through ``visible_artefacts`` again, so the export never
holds anything the gate would not show now, even if the index lags behind a withdrawal.
"""

from __future__ import annotations

import uuid
from typing import Callable, Protocol

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..consent import Context, visible_artefacts
from ..models import Artefact, Programme, Transcript
from ..principal import Principal

# One request builds the file in memory; beyond this, ask for a narrower search.
MAX_EXPORT_ITEMS = 20_000
SEARCH_PAGE = 100


class ExportError(ValueError):
    """The export cannot be made as asked; the message is fit to show the person asking."""


class SearchPage(Protocol):
    total: int
    hits: list


# (principal, context, query_text, filters, page, pagelen) -> a page of hits with ``.id``
Searcher = Callable[[Principal, Context, str | None, dict, int, int], SearchPage]


def default_searcher(services) -> Searcher:
    """The analysts' search (search.service when present, else the index query it wraps)."""
    try:
        from search.service import run_search
    except ImportError:
        from search.query import search

        def run(principal, context, text, filters, page, pagelen):
            return search(services.settings.index_dir, principal, context, text, filters=filters, page=page,
                          pagelen=pagelen)

        return run

    def run(principal, context, text, filters, page, pagelen):
        return run_search(services, principal, context, text, filters=filters, page=page, pagelen=pagelen)

    return run


def search_ids(searcher: Searcher, principal: Principal, programme: Programme, query_text: str,
               filters: dict) -> list[str]:
    """Every hit of a search within one programme, in rank order."""
    scoped = {**filters, "programme": str(programme.id)}
    ids: list[str] = []
    page = 1
    while True:
        result = searcher(principal, Context.REPORT_EXPORT, query_text or None, scoped, page, SEARCH_PAGE)
        if result.total > MAX_EXPORT_ITEMS:
            raise ExportError(_("The search found more than %(n)d items: narrow it before exporting.",
                                n=MAX_EXPORT_ITEMS))
        ids += [hit.id for hit in result.hits]
        if not result.hits or len(ids) >= result.total:
            return list(dict.fromkeys(ids))
        page += 1


def select_artefacts(db: Session, principal: Principal, programme: Programme, ids: list[str] | None = None
                     ) -> list[Artefact]:
    """The programme's artefacts the principal may export now, limited to `ids` when given (kept in that order)."""
    query = (
        select(Artefact)
        .where(Artefact.programme_id == programme.id, visible_artefacts(principal, Context.REPORT_EXPORT))
        .options(
            selectinload(Artefact.participant), selectinload(Artefact.session), selectinload(Artefact.tags),
            selectinload(Artefact.transcript).selectinload(Transcript.segments),
        )
        .order_by(Artefact.created_at, Artefact.id)
    )
    if ids is not None:
        wanted = [uuid.UUID(i) for i in ids]
        rows = []
        for start in range(0, len(wanted), 500):  # stay under every backend's bound-parameter limit
            rows += db.scalars(query.where(Artefact.id.in_(wanted[start:start + 500]))).all()
        rank = {i: n for n, i in enumerate(wanted)}
        return sorted(rows, key=lambda a: rank[a.id])
    rows = db.scalars(query.limit(MAX_EXPORT_ITEMS + 1)).all()
    if len(rows) > MAX_EXPORT_ITEMS:
        raise ExportError(_("The programme has more than %(n)d items: export a search instead.", n=MAX_EXPORT_ITEMS))
    return list(rows)

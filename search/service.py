"""The one entry point for searching: pages, the JSON API and ``chorus search`` all call ``run_search``.

It picks the configured backend and then checks the answer against the database, because the
Whoosh index is a copy the queue keeps up to date: between a withdrawal (or a consent change)
and the queue re-indexing the item, the index still thinks the item is visible.

How the lag is closed without leaking:

1. Before searching, ask the database which items in the principal's programmes it hides now
   and that changed within ``RECENT_WINDOW`` (at most ``RECENT_LIMIT`` of them, newest first).
   Those ids are excluded *inside* the backend's query, so they are absent from hits, the total,
   every facet count and every snippet, exactly as if the index had caught up.
2. After searching, every hit on the page is checked with ``archive.consent.visible_ids``. A hit
   the database hides (an item whose re-indexing has been stuck for longer than the window) is
   added to the exclusions and the search runs again, so the page, total and facets stay
   consistent; if it is still there it is dropped from the page as a last resort and the total
   lowered. Nothing hidden is ever shown; what can remain is a count too high by items stuck in
   the queue for longer than the window, which ``chorus reindex`` repairs.

The PostgreSQL backend reads consent from the artefact rows themselves, so it never lags and
step 1 is skipped; step 2 still runs, as a belt to its braces.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import not_, select

from flask_babel import gettext as _

from archive.consent import Context, visible_artefacts, visible_ids
from archive.frameworks import available_frameworks, load_framework
from archive.models import Artefact, CustomTheme, utcnow
from archive.principal import Principal

from .backends import SearchBackend, backend_for
from .errors import QueryError
from .filters import normalise_filters
from .query import SearchResult, check_paging, check_sort

__all__ = ["QueryError", "SearchResult", "run_search", "backend_for"]

RECENT_WINDOW = timedelta(days=2)
RECENT_LIMIT = 2000


def recently_hidden(db, principal: Principal, context: Context) -> set[str]:
    """Ids the database hides from `principal` in `context` that changed recently."""
    if context not in (Context.TEAM, Context.ANALYSIS, Context.REPORT_EXPORT, Context.PUBLIC_EXHIBIT):
        return set()
    stmt = select(Artefact.id).where(
        Artefact.updated_at >= utcnow() - RECENT_WINDOW, not_(visible_artefacts(principal, context))
    )
    if context != Context.PUBLIC_EXHIBIT:
        programmes = principal.programmes_for(context.value)
        if not programmes:
            return set()
        # "+ 0" keeps the planner on the updated_at index: the programme index would read every item.
        stmt = stmt.where((Artefact.programme_id + 0).in_(sorted(programmes)))
    stmt = stmt.order_by(Artefact.updated_at.desc()).limit(RECENT_LIMIT)
    return {str(i) for i in db.scalars(stmt)}


def known_themes(db, principal: Principal, context: Context) -> set[str]:
    """Theme codes anyone may filter by: every shipped framework's, and the programmes' own."""
    codes = {code.lower() for name in available_frameworks() for code in load_framework(name).codes}
    staff_context = isinstance(context, Context) and context in (Context.TEAM, Context.ANALYSIS, Context.REPORT_EXPORT)
    programmes = principal.programmes_for(context.value) if staff_context else ()
    if programmes:
        own = select(CustomTheme.code).where(CustomTheme.programme_id.in_(sorted(programmes)))
        codes |= {c.lower() for c in db.scalars(own)}
    return codes


def _check_themes(db, principal: Principal, context: Context, filters: dict | None) -> None:
    chosen = normalise_filters(filters).values.get("themes", ())
    if not chosen:
        return
    known = known_themes(db, principal, context)
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise QueryError(_('There is no theme called "%(theme)s". Choose themes from the list.', theme=unknown[0][:40]))


def _hidden_on_page(db, principal: Principal, context: Context, result: SearchResult) -> set[str]:
    ids = {h.id for h in result.hits}
    if not ids:
        return set()
    seen = {str(i) for i in visible_ids(db, principal, context, [uuid.UUID(i) for i in ids])}
    return ids - seen


def run_search(
    services,
    principal: Principal,
    context: Context,
    query_text: str | None,
    *,
    filters: dict | None = None,
    page: int = 1,
    pagelen: int = 20,
    sort: str = "relevance",
    backend: SearchBackend | None = None,
) -> SearchResult:
    """Search what `principal` may see in `context`; raises QueryError with a message fit to show."""
    check_paging(page, pagelen)
    check_sort(sort)
    backend = backend or backend_for(services.settings)
    options = dict(filters=filters, page=page, pagelen=pagelen, sort=sort)
    with services.session() as db:
        _check_themes(db, principal, context, filters)
        excluded = recently_hidden(db, principal, context) if backend.lags_database else set()
        result = backend.search(db, principal, context, query_text, exclude_ids=excluded, **options)
        stale = _hidden_on_page(db, principal, context, result)
        if stale:
            result = backend.search(db, principal, context, query_text, exclude_ids=excluded | stale, **options)
            still = _hidden_on_page(db, principal, context, result)
            if still:
                result.hits = [h for h in result.hits if h.id not in still]
                result.total = max(0, result.total - len(still))
    return result

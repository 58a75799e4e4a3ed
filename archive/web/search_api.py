"""The read-only search API for analysts' notebooks: ``GET /api/search`` and ``/api/search/facets``.

The same ``search.service.run_search`` as the analyst pages, in the analysis context, so what
the API returns is exactly what the signed-in person could read there. Authenticated by the
staff session cookie; rate-limited per person; described by ``/api/openapi.json``
(``search.openapi``). Bad input is a 400 with an ``error`` message, never a 500.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext

from search.errors import QueryError
from search.openapi import FILTER_PARAMETERS, OTHER_PARAMETERS, openapi_document
from search.service import run_search

from ..consent import Context
from ..models import Role
from .access import public, staff_required
from .extensions import limiter
from .principals import services

bp = Blueprint("search_api", __name__, url_prefix="/api")

ANALYSIS_ROLES = (Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
RATE_LIMIT = "120 per minute"  # per person, shared by the search and facets endpoints
_PAGED = frozenset(FILTER_PARAMETERS) | frozenset(OTHER_PARAMETERS)
_UNPAGED = _PAGED - {"page", "per_page", "sort"}


def _person_key() -> str:
    principal = getattr(g, "principal", None)
    if principal is not None and principal.user_id is not None:
        return f"staff:{principal.user_id}"
    return request.remote_addr or "unknown"


_limited = limiter.shared_limit(RATE_LIMIT, scope="search-api", key_func=_person_key)


@bp.before_request
def _signed_in_staff_only():
    # An API answers 401 rather than redirecting to the sign-in page as the staff pages do.
    if request.endpoint in ("search_api.openapi",):
        return None
    if getattr(g, "principal", None) is None or g.principal.kind != "staff":
        return jsonify(error=gettext("Sign in as staff first: this API uses your Chorus session.")), 401
    return None


class _BadRequest(ValueError):
    pass


def _number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit() or len(raw) > 9:
        raise _BadRequest(gettext("%(name)s must be a whole number.", name=name))
    return int(raw)


def _read(allowed: frozenset[str]) -> tuple[str, dict]:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise _BadRequest(gettext('"%(name)s" is not a parameter of this API: see /api/openapi.json.',
                                  name=unknown[0][:40]))
    filters = {}
    for param, (name, _schema, _text) in FILTER_PARAMETERS.items():
        values = request.args.getlist(param)
        if values:
            filters[name] = values
    for name in ("date_from", "date_to"):
        if request.args.get(name):
            filters[name] = request.args[name]
    return request.args.get("q", ""), filters


def _problem(message: str):
    return jsonify(error=message), 400


def _hit(hit) -> dict:
    return {"id": hit.id, "kind": hit.kind, "title": hit.title, "themes": hit.themes, "snippet": hit.snippet,
            "segment_start": hit.segment_start, "segment_end": hit.segment_end}


@bp.get("/search")
@staff_required(*ANALYSIS_ROLES)
@_limited
def search():
    """Search what the signed-in person may read in analysis."""
    try:
        query, filters = _read(_PAGED)
        page, per_page = _number("page", 1), _number("per_page", 20)
        sort = request.args.get("sort") or "relevance"
        result = run_search(services(), g.principal, Context.ANALYSIS, query, filters=filters,
                            page=page, pagelen=per_page, sort=sort)
    except (_BadRequest, QueryError) as exc:
        return _problem(str(exc))
    return jsonify(total=result.total, page=page, per_page=per_page,
                   hits=[_hit(h) for h in result.hits], facets=result.facets)


@bp.get("/search/facets")
@staff_required(*ANALYSIS_ROLES)
@_limited
def facets():
    """Only the total and facet counts for a search."""
    try:
        query, filters = _read(_UNPAGED)
        result = run_search(services(), g.principal, Context.ANALYSIS, query, filters=filters, pagelen=1)
    except (_BadRequest, QueryError) as exc:
        return _problem(str(exc))
    return jsonify(total=result.total, facets=result.facets)


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 document for this API (it describes the API, not any data)."""
    return jsonify(openapi_document())

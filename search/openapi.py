"""The OpenAPI 3.1 description of the read-only search API (``archive.web.search_api``).

Built from the same lists the code checks against (kinds, age bands, sorts, limits), so the
document cannot drift from what the API accepts.
"""

from __future__ import annotations

from archive.models import AgeBand, ArtefactKind, PlaceType, Polarity

from .query import MAX_PAGE, MAX_PAGELEN, SORTS
from .schema import FACET_FIELDS

# query parameter -> (filter name, schema of one value, description)
FILTER_PARAMETERS = {
    "theme": ("themes", {"type": "string"}, "Theme code, e.g. transport. Repeat for any of several."),
    "polarity": ("polarity", {"type": "string", "enum": [p.value for p in Polarity]},
                 "Barrier or asset; with theme, the theme must carry that polarity."),
    "age_band": ("age_band", {"type": "string", "enum": [a.value for a in AgeBand]}, "Age band."),
    "area": ("area", {"type": "string"}, "Area code."),
    "kind": ("kind", {"type": "string", "enum": [k.value for k in ArtefactKind]}, "Kind of item."),
    "place": ("place", {"type": "string"}, "The place the item is about (home, school, park...)."),
    "place_type": ("place_type", {"type": "string", "enum": [p.value for p in PlaceType]},
                   "Where the listening session was held."),
    "session": ("session", {"type": "integer", "minimum": 1}, "Listening session id."),
    "programme": ("programme", {"type": "integer", "minimum": 1}, "Programme id."),
}
OTHER_PARAMETERS = ("q", "date_from", "date_to", "page", "per_page", "sort")

_ERROR = {"$ref": "#/components/schemas/Error"}


def _param(name: str, schema: dict, description: str, array: bool = False) -> dict:
    param = {"name": name, "in": "query", "required": False, "description": description}
    if array:
        param |= {"schema": {"type": "array", "items": schema, "maxItems": 50}, "style": "form", "explode": True}
    else:
        param["schema"] = schema
    return param


def _parameters(paged: bool) -> list[dict]:
    params = [_param("q", {"type": "string"},
                     'What to search for: words, "phrases", theme:housing, bus*, word~1, AND/OR/NOT. '
                     "Empty means everything the filters allow.")]
    params += [_param(name, schema, text, array=True) for name, (_, schema, text) in FILTER_PARAMETERS.items()]
    params += [
        _param("date_from", {"type": "string", "format": "date"}, "Shared on or after this day."),
        _param("date_to", {"type": "string", "format": "date"}, "Shared on or before this day."),
    ]
    if paged:
        params += [
            _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
            _param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGELEN, "default": 20},
                   "Hits a page."),
            _param("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"}, "Order of hits."),
        ]
    return params


def _responses(ok_schema: str) -> dict:
    def error(text: str) -> dict:
        return {"description": text, "content": {"application/json": {"schema": _ERROR}}}

    return {
        "200": {"description": "Results, after the consent filter.",
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ok_schema}"}}}},
        "400": error("The search or a filter cannot be used; `error` says why."),
        "401": error("Not signed in."),
        "403": error("Signed in without an analysis role."),
        "429": error("Too many requests; try again in a minute."),
    }


def openapi_document() -> dict:
    facets = {
        "type": "object",
        "description": "Counts per value of each facet, taken after the consent filter.",
        "properties": {name: {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
                       for name in FACET_FIELDS},
        "required": list(FACET_FIELDS),
        "additionalProperties": False,
    }
    hit = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "kind": {"type": "string"},
            "title": {"type": "string"},
            "themes": {"type": "array", "items": {"type": "string"}},
            "snippet": {"type": "string", "description": "HTML: escaped text with <mark> around matched words."},
            "segment_start": {"type": ["number", "null"],
                              "description": "Seconds into the recording of the matching transcript segment."},
            "segment_end": {"type": ["number", "null"]},
        },
        "required": ["id", "kind", "title", "themes", "snippet", "segment_start", "segment_end"],
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chorus search API",
            "version": "1.0.0",
            "description": (
                "Read-only search and facet counts for analysts' notebooks. Results are what the "
                "signed-in person may read in analysis: only items whose consent allows reports, "
                "in programmes where they hold a role. Sign in at /staff/sign-in and send the session "
                "cookie. Rate-limited per person."
            ),
        },
        "paths": {
            "/api/search": {"get": {
                "operationId": "search", "summary": "Search items", "parameters": _parameters(paged=True),
                "responses": _responses("SearchResults"),
            }},
            "/api/search/facets": {"get": {
                "operationId": "facets", "summary": "Facet counts only", "parameters": _parameters(paged=False),
                "responses": _responses("FacetResults"),
            }},
        },
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Hit": hit,
                "Facets": facets,
                "SearchResults": {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1},
                        "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
                        "facets": {"$ref": "#/components/schemas/Facets"},
                    },
                    "required": ["total", "page", "per_page", "hits", "facets"],
                    "additionalProperties": False,
                },
                "FacetResults": {
                    "type": "object",
                    "properties": {"total": {"type": "integer", "minimum": 0},
                                   "facets": {"$ref": "#/components/schemas/Facets"}},
                    "required": ["total", "facets"],
                    "additionalProperties": False,
                },
            },
        },
        "security": [{"session": []}],
    }

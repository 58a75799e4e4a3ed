"""Searching the index for a principal in a consent context.

The consent rule is part of the Whoosh query itself (``consent_query`` ANDed with the user's
query), built from the same ``REQUIRED_LEVEL`` and programme roles as
``archive.consent.visible_artefacts``. So an item the principal may not see is not a match at
all: it is missing from the hits, the total and every facet count alike. Whoosh's own
``filter=`` argument is not used because an allow-set that comes out empty is treated as "no
filter" in parts of its collector code (``if allow``), which would fail open.

User text goes through a ``MultifieldParser`` limited to phrases, groups, AND/OR/NOT, boosts
and ``field:`` prefixes on the fields in ``USER_FIELDS``; any other field (``consent_level:``,
``id:``) is refused with ``QueryError`` rather than silently searched as text, and wildcards,
ranges and ``*:*`` are not syntax at all, which keeps query time bounded.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from whoosh import highlight, sorting
from whoosh import query as wq
from whoosh.index import EmptyIndexError
from whoosh.qparser import MultifieldParser, plugins
from whoosh.query.qcore import QueryError as WhooshQueryError
from whoosh.searching import Searcher

from archive.consent import REQUIRED_LEVEL, Context
from archive.models import ConsentLevel
from archive.principal import Principal

from .index import open_existing
from .schema import FACET_FIELDS, SCHEMA, TEXT_FIELDS

USER_FIELDS = frozenset(TEXT_FIELDS + FACET_FIELDS + ("place",))
FILTER_FIELDS = frozenset(FACET_FIELDS + ("place", "programme", "session"))
FIELD_ALIASES = {"themes": ["theme"], "age_band": ["age"]}
_TYPABLE = frozenset(USER_FIELDS | {alias for aliases in FIELD_ALIASES.values() for alias in aliases})
MAX_QUERY_CHARS = 500
MAX_PAGELEN = 100
MAX_PAGE = 500
SNIPPET_CHARS = 200
# The same "name:" pattern whoosh's FieldsPlugin tags, looked for outside double quotes.
_FIELD_NAME = r"[^\W\d]\w*|\*"  # a name starts with a letter, so "10:30" stays text
_FIELD_PREFIX = re.compile(rf"(?<!\w)({_FIELD_NAME}):")
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')


class QueryError(ValueError):
    """The search text or filters cannot be used; the message is fit to show the person searching."""


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    themes: list[str]
    snippet: str  # HTML: escaped text with <mark> around the matched words


@dataclass
class SearchResult:
    total: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


# ---- consent ---------------------------------------------------------------------------------


def consent_query(principal: Principal, context: Context) -> wq.Query | None:
    """The documents `principal` may find in `context`, as a Whoosh query; None when nothing.

    Mirrors ``archive.consent.visible_artefacts``: withdrawn items are never in the index, the
    owner context is served by the participant's own pages rather than search, and the public
    context spans every programme.
    """
    if not isinstance(context, Context) or context not in REQUIRED_LEVEL:
        return None
    required = REQUIRED_LEVEL[context]
    clauses: list[wq.Query] = [wq.NumericRange("consent_level", int(required), None)]
    if context != Context.PUBLIC_EXHIBIT:
        programmes = principal.programmes_for(context.value)
        if not programmes:
            return None
        clauses.append(wq.Or([wq.Term("programme", str(p)) for p in sorted(programmes)]))
    if required > ConsentLevel.TEAM:
        clauses += [wq.Term("ready", True), wq.Term("reviewed", True)]
    return wq.And(clauses)


# ---- parsing user text -----------------------------------------------------------------------


def _parser() -> MultifieldParser:
    parser = MultifieldParser(list(TEXT_FIELDS), SCHEMA)
    for unwanted in (plugins.WildcardPlugin, plugins.RangePlugin, plugins.EveryPlugin, plugins.FieldsPlugin):
        parser.remove_plugin_class(unwanted)
    # Keep unknown "name:" prefixes as fields so they can be refused, not searched as words.
    parser.add_plugin(plugins.FieldsPlugin(expr=rf"(?P<text>{_FIELD_NAME}):", remove_unknown=False))
    parser.add_plugin(plugins.FieldAliasPlugin(FIELD_ALIASES))
    return parser


def _refuse_field(name: str) -> QueryError:
    shown = name if len(name) <= 40 else name[:40] + "…"
    allowed = ", ".join(f"{typable}:" for typable in sorted(_TYPABLE))
    return QueryError(
        f'"{shown}:" is not something you can search by. Use one of {allowed}, '
        'or put the words in quotes to search for them as written.'
    )


def _check_typed_fields(text: str) -> None:
    # Before parsing, because the parser drops a field whose value it cannot read
    # ("consent_level:[0 TO 3]") without saying so.
    for match in _FIELD_PREFIX.finditer(_DOUBLE_QUOTED.sub(" ", text)):
        if match.group(1) not in _TYPABLE:
            raise _refuse_field(match.group(1))


def _check_fields(q: wq.Query) -> None:
    for leaf in q.leaves():
        name = leaf.field()
        if name is not None and name not in USER_FIELDS:
            raise _refuse_field(name)


def parse_user_query(text: str | None) -> wq.Query:
    """Turn what a person typed into a query over the user-visible fields; empty means everything."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The search is too long: keep it under {MAX_QUERY_CHARS} characters.")
    if text in ("", "*"):
        return wq.Every()
    _check_typed_fields(text)
    try:
        q = _parser().parse(text)  # a fresh parser per search: whoosh does not promise thread safety
    except Exception:  # the parser is forgiving, so anything it raises is about the text typed
        raise QueryError("The search could not be understood: check quotes and brackets.") from None
    _check_fields(q)
    if q is wq.NullQuery:
        raise QueryError("There are no words to search for: try a more specific word or phrase.")
    return q


def _values(key: str, value) -> list[str]:
    items = [value] if isinstance(value, (str, int)) else list(value)
    values = [str(v).strip() for v in items if str(v).strip()]
    return [v.lower() for v in values] if key == "themes" else values


def filters_query(filters: dict | None) -> wq.Query | None:
    """Facet choices as a query: any of the values within one field, every field chosen."""
    if not filters:
        return None
    clauses = []
    for key, value in filters.items():
        if key not in FILTER_FIELDS:
            raise QueryError(f'"{key}" is not a filter: use one of {", ".join(sorted(FILTER_FIELDS))}.')
        if value is None:
            continue
        values = _values(key, value)
        if values:
            clauses.append(wq.Or([wq.Term(key, v) for v in values]))
    return wq.And(clauses) if clauses else None


# ---- searching -------------------------------------------------------------------------------


class _MarkFormatter(highlight.HtmlFormatter):
    """Plain ``<mark>`` around matches; the text around them is escaped by HtmlFormatter."""

    def __init__(self):
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text, token, replace=False):
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


def _snippet(hit) -> str:
    for name in ("story", "transcript", "title"):
        marked = hit.highlights(name, top=2)
        if marked:
            return marked
    for name in ("story", "transcript", "title"):
        text = (hit.get(name) or "").strip()
        if text:
            cut = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            return html.escape(cut, quote=False)
    return ""


def _to_hit(hit) -> Hit:
    themes = [t for t in (hit.get("themes") or "").split(",") if t]
    return Hit(id=hit["id"], kind=hit.get("kind") or "", themes=themes, snippet=_snippet(hit))


def _facets() -> sorting.Facets:
    facets = sorting.Facets()
    for name in FACET_FIELDS:
        facets.add_field(name, allow_overlap=(name == "themes"), maptype=sorting.Count)
    return facets


def _facet_counts(results) -> dict[str, dict[str, int]]:
    counts = {}
    for name in FACET_FIELDS:
        groups = results.groups(name)
        counts[name] = {str(k): int(v) for k, v in groups.items() if k not in (None, "")}
    return counts


def _run(searcher: Searcher, q: wq.Query, page: int, pagelen: int) -> SearchResult:
    results = searcher.search(q, limit=page * pagelen, groupedby=_facets())
    results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
    results.formatter = _MarkFormatter()
    start = (page - 1) * pagelen
    hits = [_to_hit(results[i]) for i in range(start, min(start + pagelen, results.scored_length()))]
    return SearchResult(total=len(results), hits=hits, facets=_facet_counts(results))


def _nothing() -> SearchResult:
    return SearchResult(total=0, hits=[], facets={name: {} for name in FACET_FIELDS})


def _combine(parts: Iterable[wq.Query | None]) -> wq.Query:
    present = [p for p in parts if p is not None and not isinstance(p, wq.Every)]
    return wq.And(present) if present else wq.Every()


def _check_paging(page: int, pagelen: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"Pages run from 1 to {MAX_PAGE}.")
    if not 1 <= pagelen <= MAX_PAGELEN:
        raise QueryError(f"Show between 1 and {MAX_PAGELEN} results a page.")


def search(
    index_dir: Path | str,
    principal: Principal,
    context: Context,
    query_text: str | None,
    *,
    filters: dict | None = None,
    page: int = 1,
    pagelen: int = 20,
) -> SearchResult:
    """Search what `principal` may see in `context`; raises QueryError for unusable text or filters."""
    _check_paging(page, pagelen)
    user_q = parse_user_query(query_text)
    chosen = filters_query(filters)
    allowed = consent_query(principal, context)
    if allowed is None:
        return _nothing()
    q = _combine([allowed, user_q, chosen])
    try:
        return _search_once(index_dir, q, page, pagelen)
    except (FileNotFoundError, EmptyIndexError):
        # A reindex swapped generations between resolving the folder and opening it.
        return _search_once(index_dir, q, page, pagelen)


def _search_once(index_dir: Path | str, q: wq.Query, page: int, pagelen: int) -> SearchResult:
    ix = open_existing(index_dir)
    if ix is None:
        return _nothing()
    try:
        with ix.searcher() as searcher:
            return _run(searcher, q, page, pagelen)
    except WhooshQueryError as exc:
        raise QueryError(f"The search could not be run: {exc}") from None

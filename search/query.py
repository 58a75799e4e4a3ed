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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from whoosh import sorting
from whoosh import query as wq
from whoosh.index import EmptyIndexError
from whoosh.qparser import MultifieldParser, plugins
from whoosh.query.qcore import QueryError as WhooshQueryError
from whoosh.searching import Searcher
from flask_babel import gettext as _

from archive.consent import REQUIRED_LEVEL, Context
from archive.models import ConsentLevel
from archive.principal import Principal

from .errors import IndexOutOfDate, QueryError
from .filters import Chosen, normalise_filters
from .index import index_status, open_existing
from .schema import FACET_FIELDS, SCHEMA, TEXT_FIELDS
from .highlight import SNIPPET_ORDER, MarkFormatter, fragmenter, plain_snippet
from .segments import best_segment

__all__ = ["Hit", "QueryError", "SearchResult", "search", "parse_user_query", "consent_query"]

USER_FIELDS = frozenset(TEXT_FIELDS + FACET_FIELDS + ("place",))
FIELD_ALIASES = {"themes": ["theme"], "age_band": ["age"]}
_TYPABLE = frozenset(USER_FIELDS | {alias for aliases in FIELD_ALIASES.values() for alias in aliases})
MAX_QUERY_CHARS = 500
MAX_PAGELEN = 100
MAX_PAGE = 500
MIN_PREFIX = 3  # "bus*" yes, "b*" no: a short prefix expands to most of the vocabulary
MAX_FUZZY = 2  # edits allowed by "word~2"; more matches nearly anything
MIN_FUZZY = 3  # letters a fuzzy word needs
SORTS = ("relevance", "newest", "oldest")
# The same "name:" pattern whoosh's FieldsPlugin tags, looked for outside double quotes.
_FIELD_NAME = r"[^\W\d]\w*|\*"  # a name starts with a letter, so "10:30" stays text
_FIELD_PREFIX = re.compile(rf"(?<!\w)({_FIELD_NAME}):")
_DOUBLE_QUOTED = re.compile(r'"[^"]*"')


@dataclass(frozen=True)
class Hit:
    id: str
    kind: str
    themes: list[str]
    snippet: str  # HTML: escaped text with <mark> around the matched words
    title: str = ""
    # Timing (seconds) of the best-matching transcript segment when the match is in a transcript.
    segment_start: float | None = None
    segment_end: float | None = None


@dataclass
class SearchResult:
    total: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def empty_result() -> SearchResult:
    return SearchResult(total=0, hits=[], facets={name: {} for name in FACET_FIELDS})


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
    # "bus*" and "word~" / "word~2" only; both are bounded in _check_expansions.
    parser.add_plugin(plugins.PrefixPlugin())
    parser.add_plugin(plugins.FuzzyTermPlugin())
    return parser


def _refuse_field(name: str) -> QueryError:
    shown = name if len(name) <= 40 else name[:40] + "…"
    allowed = ", ".join(f"{typable}:" for typable in sorted(_TYPABLE))
    return QueryError(_(
        '"%(name)s:" is not something you can search by. Use one of %(allowed)s, '
        "or put the words in quotes to search for them as written.", name=shown, allowed=allowed,
    ))


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


def _check_expansions(q: wq.Query) -> None:
    for leaf in q.leaves():
        if isinstance(leaf, wq.FuzzyTerm):
            if leaf.maxdist > MAX_FUZZY:
                raise QueryError(_("A word~ search allows at most %(n)d changed letters: use word~1 or word~2.",
                                   n=MAX_FUZZY))
            if len(leaf.text) < MIN_FUZZY:
                raise QueryError(_("Put at least %(n)d letters before ~.", n=MIN_FUZZY))
            leaf.prefixlength = max(leaf.prefixlength, 1)  # the first letter must match: far fewer candidates
        elif isinstance(leaf, wq.Prefix) and len(leaf.text) < MIN_PREFIX:
            raise QueryError(_("Put at least %(n)d letters before *.", n=MIN_PREFIX))


def parse_user_query(text: str | None) -> wq.Query:
    """Turn what a person typed into a query over the user-visible fields; empty means everything.

    The PostgreSQL backend translates the same tree to SQL, so both accept the same syntax.
    """
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(_("The search is too long: keep it under %(n)d characters.", n=MAX_QUERY_CHARS))
    if text in ("", "*"):
        return wq.Every()
    _check_typed_fields(text)
    try:
        q = _parser().parse(text)  # a fresh parser per search: whoosh does not promise thread safety
    except Exception:  # the parser is forgiving, so anything it raises is about the text typed
        raise QueryError(_("The search could not be understood: check quotes and brackets.")) from None
    _check_fields(q)
    if q is wq.NullQuery:
        raise QueryError(_("There are no words to search for: try a more specific word or phrase."))
    _check_expansions(q)
    return q


def _any_of(name: str, values) -> wq.Query:
    return wq.Or([wq.Term(name, v) for v in values])


def filters_query(filters: dict | Chosen | None) -> wq.Query | None:
    """Facet choices as a query: any of the values within one field, every field chosen."""
    chosen = filters if isinstance(filters, Chosen) else normalise_filters(filters)
    clauses = []
    paired = chosen.themes_with_polarity
    for key, values in chosen.values.items():
        if paired is not None and key in ("themes", "polarity"):
            continue
        clauses.append(_any_of(key, values))
    if paired is not None:
        clauses.append(_any_of("theme_polarity", paired))
    if chosen.start is not None or chosen.end is not None:
        clauses.append(wq.DateRange("created", chosen.start, chosen.end, endexcl=True))
    return wq.And(clauses) if clauses else None


# ---- searching -------------------------------------------------------------------------------


def _snippet(hit) -> str:
    for name in SNIPPET_ORDER:
        marked = hit.highlights(name, top=2)
        if marked:
            return marked
    return plain_snippet({name: hit.get(name) for name in SNIPPET_ORDER})


def _to_hit(hit) -> Hit:
    themes = [t for t in (hit.get("themes") or "").split(",") if t]
    matched = {text.decode("utf-8") if isinstance(text, bytes) else text
               for name, text in (hit.matched_terms() or ()) if name == "transcript"}
    moment = best_segment(hit.get("segments"), matched.__contains__) if matched else None
    return Hit(
        id=hit["id"], kind=hit.get("kind") or "", themes=themes, snippet=_snippet(hit),
        title=hit.get("title") or "",
        segment_start=moment[0] if moment else None, segment_end=moment[1] if moment else None,
    )


def _facets() -> sorting.Facets:
    facets = sorting.Facets()
    for name in FACET_FIELDS:
        facets.add_field(name, allow_overlap=(name in ("themes", "polarity")), maptype=sorting.Count)
    return facets


def _facet_counts(results) -> dict[str, dict[str, int]]:
    counts = {}
    for name in FACET_FIELDS:
        groups = results.groups(name)
        counts[name] = {str(k): int(v) for k, v in groups.items() if k not in (None, "")}
    return counts


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(_("Sort by one of %(sorts)s.", sorts=", ".join(SORTS)))


def _run(searcher: Searcher, q: wq.Query, page: int, pagelen: int, sort: str = "relevance") -> SearchResult:
    ordering = {} if sort == "relevance" else {"sortedby": "created", "reverse": sort == "newest"}
    results = searcher.search(q, limit=page * pagelen, groupedby=_facets(), terms=True, **ordering)
    results.fragmenter = fragmenter()
    results.formatter = MarkFormatter()
    start = (page - 1) * pagelen
    hits = [_to_hit(results[i]) for i in range(start, min(start + pagelen, results.scored_length()))]
    return SearchResult(total=len(results), hits=hits, facets=_facet_counts(results))


def _combine(parts: Iterable[wq.Query | None]) -> wq.Query:
    present = [p for p in parts if p is not None and not isinstance(p, wq.Every)]
    return wq.And(present) if present else wq.Every()


def check_paging(page: int, pagelen: int) -> None:
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise QueryError(_("Pages run from 1 to %(n)d.", n=MAX_PAGE))
    if not isinstance(pagelen, int) or not 1 <= pagelen <= MAX_PAGELEN:
        raise QueryError(_("Show between 1 and %(n)d results a page.", n=MAX_PAGELEN))


def search(
    index_dir: Path | str,
    principal: Principal,
    context: Context,
    query_text: str | None,
    *,
    filters: dict | None = None,
    page: int = 1,
    pagelen: int = 20,
    sort: str = "relevance",
    exclude_ids: Iterable[str] = (),
) -> SearchResult:
    """Search what `principal` may see in `context`; raises QueryError for unusable text or filters.

    `exclude_ids` are left out inside the query (so out of totals and facets too): the service
    passes the items the database already hides but the index may not have caught up with.
    """
    check_paging(page, pagelen)
    check_sort(sort)
    user_q = parse_user_query(query_text)
    chosen = filters_query(filters)
    allowed = consent_query(principal, context)
    if allowed is None:
        return empty_result()
    excluded = sorted({str(i) for i in exclude_ids})
    unwanted = wq.Not(_any_of("id", excluded)) if excluded else None
    q = _combine([allowed, user_q, chosen, unwanted])
    try:
        return _search_once(index_dir, q, page, pagelen, sort)
    except (FileNotFoundError, EmptyIndexError):
        # A reindex swapped generations between resolving the folder and opening it.
        return _search_once(index_dir, q, page, pagelen, sort)


def _search_once(index_dir: Path | str, q: wq.Query, page: int, pagelen: int, sort: str) -> SearchResult:
    status = index_status(index_dir)
    if status == "missing":
        return empty_result()
    if status == "stale":
        raise IndexOutOfDate(_(
            "The search index is from an older version of Chorus and is being rebuilt. "
            "Try again in a few minutes, or ask an administrator to run “chorus reindex”."
        ))
    ix = open_existing(index_dir)
    if ix is None:
        return empty_result()
    try:
        with ix.searcher() as searcher:
            return _run(searcher, q, page, pagelen, sort)
    except WhooshQueryError as exc:
        raise QueryError(_("The search could not be run: %(why)s", why=str(exc))) from None

"""Searching the index for a principal in a consent context.

The consent rule is evaluated in the same pass as the words: per segment, a mask of the
documents the principal may find (built from the same ``REQUIRED_LEVEL`` and programme roles as
``archive.consent.visible_artefacts``) and the chosen filters is ANDed with the query's matches
before anything is counted, ranked or highlighted. So an item the principal may not see is not
a match at all: it is missing from the hits, the total and every facet count alike. No consent
context, or no programme in it, gives an empty result, never an unfiltered one.

Matching and scoring run over numpy arrays (``search.engine``) rather than Whoosh's per-document
matchers, with Whoosh's BM25F scores; see docs/search-benchmark.md for why.

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

import numpy as np
from whoosh import query as wq
from whoosh.index import EmptyIndexError
from whoosh.qparser import MultifieldParser, plugins
from whoosh.query.qcore import QueryError as WhooshQueryError
from flask_babel import gettext as _

from archive.consent import REQUIRED_LEVEL, Context
from archive.models import ConsentLevel
from archive.principal import Principal

from .errors import IndexOutOfDate, QueryError
from .filters import Chosen, normalise_filters
from .engine import SegmentEvaluator, VisibleStats
from .postings import read_postings
from .readers import POSTINGS, View, open_view
from .segment_data import NO_DATE, SegmentData
from .schema import FACET_FIELDS, SCHEMA, TEXT_FIELDS
from .highlight import SNIPPET_ORDER, marked, plain_snippet
from .segments import best_segment

__all__ = ["Hit", "QueryError", "SearchResult", "search", "parse_user_query"]

USER_FIELDS = frozenset(TEXT_FIELDS + FACET_FIELDS + ("place",))
FIELD_ALIASES = {"themes": ["theme"], "age_band": ["age"]}
_TYPABLE = frozenset(USER_FIELDS | {alias for aliases in FIELD_ALIASES.values() for alias in aliases})
MAX_QUERY_CHARS = 500
MAX_PAGELEN = 100
MAX_PAGE = 500
MIN_PREFIX = 3  # "bus*" yes, "b*" no: a short prefix expands to most of the vocabulary
MAX_FUZZY = 2  # edits allowed by "word~2"; more matches nearly anything
MIN_FUZZY = 3  # letters a fuzzy word needs
MAX_SLOP = 10  # words apart in "a phrase"~N: more is not a phrase, and the check grows with it
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
        if isinstance(leaf, wq.Phrase) and leaf.slop > MAX_SLOP:
            raise QueryError(_('Words in a "phrase"~ search can be at most %(n)d apart: use "words"~%(n)d or less.',
                               n=MAX_SLOP))
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


def _within(view: View, principal: Principal, context: Context, chosen: Chosen, excluded: list[str]):
    """Per segment, the documents `principal` may find in `context` that pass the filters; None: nothing.

    Mirrors ``archive.consent.visible_artefacts``: withdrawn items are never in the index, the
    owner context is served by the participant's own pages rather than search, and the public
    context spans every programme.
    """
    if not isinstance(context, Context) or context not in REQUIRED_LEVEL:
        return None
    required = REQUIRED_LEVEL[context]
    programmes = None
    if context != Context.PUBLIC_EXHIBIT:
        programmes = {str(p) for p in principal.programmes_for(context.value)}
        if not programmes:
            return None
    masks = []
    for segment, data in view.segments:
        mask = segment.live & (data.consent_level >= int(required))
        if programmes is not None:
            mask &= data.mask_any("programme", programmes)
        if required > ConsentLevel.TEAM:
            mask &= data.ready & data.reviewed
        mask &= _filter_mask(data, chosen)
        for key in excluded:
            mask[read_postings(segment.searcher.reader(), "id", key).ids] = False
        masks.append(mask)
    return masks


def _filter_mask(data: SegmentData, chosen: Chosen):
    """Facet choices: any of the values within one field, every field chosen."""
    mask = np.ones(data.size, dtype=bool)
    paired = chosen.themes_with_polarity
    for key, values in chosen.values.items():
        if paired is not None and key in ("themes", "polarity"):
            continue
        mask &= data.mask_any(key, values)
    if paired is not None:
        mask &= data.mask_any("theme_polarity", paired)
    if chosen.start is not None or chosen.end is not None:
        mask &= data.created_between(chosen.start, chosen.end)
    return mask


# ---- searching -------------------------------------------------------------------------------


def _snippet(stored: dict, words: dict[str, set[str]]) -> str:
    for name in SNIPPET_ORDER:
        wanted = words.get(name)
        if wanted:
            found = marked(stored.get(name) or "", wanted.__contains__)
            if found:
                return found
    return plain_snippet({name: stored.get(name) for name in SNIPPET_ORDER})


def _to_hit(stored: dict, words: dict[str, set[str]]) -> Hit:
    themes = [t for t in (stored.get("themes") or "").split(",") if t]
    spoken = words.get("transcript")
    moment = best_segment(stored.get("segments"), spoken.__contains__) if spoken else None
    return Hit(
        id=stored["id"], kind=stored.get("kind") or "", themes=themes, snippet=_snippet(stored, words),
        title=stored.get("title") or "",
        segment_start=moment[0] if moment else None, segment_end=moment[1] if moment else None,
    )


def _facet_counts(view: View, found: list[np.ndarray]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_FIELDS}
    for (_, data), mask in zip(view.segments, found):
        for name in FACET_FIELDS:
            for value, n in data.counts(name, mask).items():
                if value:
                    counts[name][value] = counts[name].get(value, 0) + n
    return counts


def _ranked(view: View, found: list[np.ndarray], scores: list[np.ndarray], sort: str, wanted: int) -> list[int]:
    """Document numbers of the first `wanted` matches in `sort` order; ties go to the earlier document."""
    docnums, keys = [], []
    for (segment, data), mask, score in zip(view.segments, found, scores):
        local = np.flatnonzero(mask)
        if sort == "relevance":
            key = -score[local]
        else:
            created = data.created[local].astype(np.float64)
            # Undated documents come last either way.
            key = np.where(data.created[local] == NO_DATE, np.inf, -created if sort == "newest" else created)
        if len(local) > wanted:  # only the best `wanted` of each segment can make the page
            keep = _first(key, wanted)
            local, key = local[keep], key[keep]
        docnums.append(local + segment.offset)
        keys.append(key)
    if not docnums:
        return []
    docnums_all, keys_all = np.concatenate(docnums), np.concatenate(keys)
    order = np.lexsort((docnums_all, keys_all))[:wanted]
    return [int(d) for d in docnums_all[order]]


def _first(key: np.ndarray, wanted: int) -> np.ndarray:
    """Positions of the `wanted` smallest keys, ties at the cut-off going to the earliest position.

    ``argpartition`` alone picks arbitrary members of a tie, so equal keys (an empty query, equal
    dates, identical items) would make pages repeat some items and never show others.
    """
    cutoff = np.partition(key, wanted - 1)[wanted - 1]
    better = np.flatnonzero(key < cutoff)
    tied = np.flatnonzero(key == cutoff)[: wanted - len(better)]
    return np.concatenate([better, tied])


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise QueryError(_("Sort by one of %(sorts)s.", sorts=", ".join(SORTS)))


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

    `exclude_ids` are left out before anything is counted (so out of totals and facets too): the
    service passes the items the database already hides but the index may not have caught up with.
    """
    check_paging(page, pagelen)
    check_sort(sort)
    user_q = parse_user_query(query_text)
    chosen = filters if isinstance(filters, Chosen) else normalise_filters(filters)
    try:
        return _search_view(index_dir, principal, context, user_q, chosen, exclude_ids, page, pagelen, sort)
    except (FileNotFoundError, EmptyIndexError):
        # A reindex swapped generations between resolving the folder and opening it.
        return _search_view(index_dir, principal, context, user_q, chosen, exclude_ids, page, pagelen, sort)


def _search_view(index_dir, principal, context, user_q, chosen, exclude_ids, page, pagelen, sort) -> SearchResult:
    with open_view(index_dir) as view:
        if view is None:
            return empty_result()
        if view.stale:
            raise IndexOutOfDate(_(
                "The search index is from an older version of Chorus and is being rebuilt. "
                "Try again in a few minutes, or ask an administrator to run “chorus reindex”."
            ))
        within = _within(view, principal, context, chosen, sorted({str(i) for i in exclude_ids}))
        if within is None:
            return empty_result()
        try:
            return _evaluate(view, user_q, within, page, pagelen, sort)
        except WhooshQueryError as exc:
            raise QueryError(_("The search could not be run: %(why)s", why=str(exc))) from None


def _evaluate(view: View, user_q: wq.Query, within: list[np.ndarray], page: int, pagelen: int,
              sort: str) -> SearchResult:
    found, scores, words = [], [], {}
    stats = VisibleStats([(segment, allowed, data.lengths) for (segment, data), allowed in zip(view.segments, within)],
                         POSTINGS)
    for (segment, data), allowed in zip(view.segments, within):
        evaluation = SegmentEvaluator(view.searcher, segment, allowed, data.lengths, POSTINGS, stats).evaluate(user_q)
        found.append(evaluation.scored.matched & allowed)
        scores.append(evaluation.scored.score)
        for name, texts in evaluation.words.items():
            words.setdefault(name, set()).update(texts)
    total = int(sum(np.count_nonzero(mask) for mask in found))
    start = (page - 1) * pagelen
    page_docs = _ranked(view, found, scores, sort, page * pagelen)[start:] if start < total else []
    hits = [_to_hit(view.searcher.stored_fields(docnum), words) for docnum in page_docs]
    return SearchResult(total=total, hits=hits, facets=_facet_counts(view, found))

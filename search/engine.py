"""Evaluating a parsed query over one segment with numpy: which documents match, and their BM25F scores.

Whoosh's own matchers visit matching documents one at a time in Python, so a search for a common
word costs tens of milliseconds before any counting; and every facet count and the total need
*every* match, not just the top page, which rules out its block-skipping shortcut. Here each
leaf of the query tree becomes arrays (the term's postings, ``search.postings``) and each
operator a numpy operation over a segment's documents, so a search over 87,000 items does its
matching, scoring, counting and ranking in a few milliseconds.

Scores are Whoosh's BM25F formula, with its collection statistics (document count, document
frequency, average field length) counted over the documents the searcher may find rather than
the whole index (``VisibleStats``: hidden items must not even change the order of visible ones).
``tests/test_search_engine.py`` gives Whoosh's own scorer the same statistics and compares.
Phrases are checked from positions, for the documents that have every word and pass the consent
and filter mask. A query node this module does not know is refused with ``QueryError``: the
parser makes none, and Whoosh's own matchers were wrong for some (AND NOT inside REQUIRE).

Decoded posting lists are kept in a bounded cache shared by the process (``PostingCache``):
segments never change after they are written, so an entry is valid until its segment goes.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

import numpy as np
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from flask_babel import gettext as _

from .errors import QueryError
from .postings import Postings, read_postings

CACHE_BYTES = 96 * 1024 * 1024  # decoded postings kept per process; the 100,000-item index needs about 60 MB


class PostingCache:
    """Decoded postings by (segment, field, term), least recently used dropped first."""

    def __init__(self, budget: int = CACHE_BYTES):
        self._items: OrderedDict[tuple, Postings] = OrderedDict()
        self._budget = budget
        self._used = 0
        self._lock = Lock()

    def get(self, segment_key: tuple, reader: IndexReader, name: str, text, *, values: bool = False) -> Postings:
        key = (segment_key, name, text, values)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        postings = read_postings(reader, name, text, values=values)
        size = _size(postings)
        with self._lock:
            if key not in self._items and size <= self._budget:
                self._items[key] = postings
                self._used += size
                while self._used > self._budget:
                    _, dropped = self._items.popitem(last=False)
                    self._used -= _size(dropped)
        return postings

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0


def _size(postings: Postings) -> int:
    # Positions are bytes objects of about 40 bytes each, with Python's per-object overhead.
    return postings.ids.nbytes + postings.weights.nbytes + 60 * len(postings.values)


@dataclass
class Scored:
    matched: np.ndarray  # bool per document of the segment
    score: np.ndarray  # float64 per document; 0 where not matched


@dataclass
class Segment:
    """One segment as a search sees it: its reader, where its documents start, and its masks."""

    searcher: Searcher  # the segment's own sub-searcher
    offset: int  # its first document's number in the whole index
    key: tuple  # identifies the segment's files, for the caches
    live: np.ndarray  # bool: not deleted


@dataclass
class Evaluation:
    """What a query matched in one segment, and the words to mark in snippets, per field."""

    scored: Scored
    words: dict[str, set[str]] = field(default_factory=dict)


class VisibleStats:
    """BM25's collection statistics (documents, document frequency, average length) over only the
    documents the searcher may find.

    Whoosh's come from the whole index: other programmes' items, items beyond the searcher's
    consent level and deleted old versions all change a word's rarity, and so the order of the
    hits the searcher does see. Comparing orders would then tell an analyst which words children
    in another programme use. Counted over the consent and filter mask, nothing outside it has
    any effect on the answer.
    """

    def __init__(self, segments: list[tuple[Segment, np.ndarray, dict]], cache: PostingCache):
        self._segments = segments  # (segment, mask of documents that may be found, field lengths)
        self._cache = cache
        self.count = sum(int(np.count_nonzero(mask)) for _, mask, _ in segments)
        self._idf: dict[tuple[str, str], float] = {}
        self._average: dict[str, float] = {}

    def idf(self, name: str, text: str) -> float:
        """Whoosh's idf, log(N / (df + 1)) + 1, with N and df counted among the findable documents."""
        key = (name, text)
        if key not in self._idf:
            df = sum(int(np.count_nonzero(mask[self._cache.get(segment.key, segment.searcher.reader(), name, text).ids]))
                     for segment, mask, _ in self._segments)
            self._idf[key] = math.log(self.count / (df + 1)) + 1 if self.count else 0.0
        return self._idf[key]

    def average_length(self, name: str) -> float:
        if name not in self._average:
            total = sum(float(lengths[name][mask].sum()) for _, mask, lengths in self._segments)
            self._average[name] = (total / self.count if self.count else 0.0) or 1.0
        return self._average[name]


class SegmentEvaluator:
    """Runs one query over one segment; `within` limits phrase checks to documents that may be shown."""

    def __init__(self, top: Searcher, segment: Segment, within: np.ndarray, lengths: dict, cache: PostingCache,
                 stats: VisibleStats):
        self.top, self.segment, self.within, self.lengths, self.cache = top, segment, within, lengths, cache
        self.stats = stats
        self.reader = segment.searcher.reader()
        self.size = len(segment.live)
        self.words: dict[str, set[str]] = {}

    def evaluate(self, q: wq.Query) -> Evaluation:
        scored = self._node(q, negated=False)
        return Evaluation(scored, self.words)

    # ---- nodes ------------------------------------------------------------------------------

    def _node(self, q: wq.Query, negated: bool) -> Scored:
        if isinstance(q, type(wq.NullQuery)):
            return self._nothing()
        if isinstance(q, wq.Every):
            return Scored(self.segment.live.copy(), np.zeros(self.size))
        if isinstance(q, wq.Term):
            return self._boosted(self._term(q.fieldname, q.text, negated), q.boost)
        if isinstance(q, wq.Phrase):
            return self._boosted(self._phrase(q, negated), q.boost)
        if isinstance(q, wq.MultiTerm) and not isinstance(q, wq.Variations):
            return self._boosted(self._expanded(q, negated), q.boost)
        if isinstance(q, wq.Not):
            inner = self._node(q.query, not negated)
            matched = self.segment.live & ~inner.matched
            return self._boosted(Scored(matched, matched.astype(np.float64)), q.boost)  # Whoosh scores 1
        if isinstance(q, wq.AndNot):
            a, b = self._node(q.a, negated), self._node(q.b, not negated)
            return self._boosted(self._keep(a, a.matched & ~b.matched), q.boost)
        if isinstance(q, wq.Require):
            a, b = self._node(q.a, negated), self._node(q.b, negated)
            return self._boosted(self._keep(a, a.matched & b.matched), q.boost)  # scored by its left side
        if isinstance(q, wq.AndMaybe):
            a, b = self._node(q.a, negated), self._node(q.b, negated)
            return self._boosted(Scored(a.matched, a.score + b.score * a.matched), q.boost)
        if type(q) in (wq.And, wq.Or) and not getattr(q, "minmatch", 0):
            return self._boosted(self._compound(q, negated), q.boost)
        # The parser (``search.query.parse_user_query``) makes none of the others; Whoosh's own
        # matchers are not a safe fallback (its AND NOT inside REQUIRE returned excluded items).
        raise QueryError(_("The search could not be understood: check quotes and brackets."))

    def _nothing(self) -> Scored:
        return Scored(np.zeros(self.size, dtype=bool), np.zeros(self.size))

    @staticmethod
    def _keep(scored: Scored, matched: np.ndarray) -> Scored:
        return Scored(matched, np.where(matched, scored.score, 0.0))

    @staticmethod
    def _boosted(scored: Scored, boost: float) -> Scored:
        if boost != 1.0:
            scored.score *= boost
        return scored

    def _compound(self, q: wq.CompoundQuery, negated: bool) -> Scored:
        parts = [self._node(sub, negated) for sub in q.subqueries]
        if not parts:
            return self._nothing()
        matched = parts[0].matched.copy()
        for part in parts[1:]:
            if isinstance(q, wq.And):
                matched &= part.matched
            else:
                matched |= part.matched
        return self._keep(Scored(matched, _total(part.score for part in parts)), matched)

    # ---- leaves ------------------------------------------------------------------------------

    def _remember(self, name: str, text, negated: bool) -> None:
        if not negated:
            shown = text.decode("utf-8") if isinstance(text, bytes) else str(text)
            self.words.setdefault(name, set()).add(shown)

    def _postings(self, name: str, text, values: bool = False) -> Postings:
        return self.cache.get(self.segment.key, self.reader, name, text, values=values)

    def _term_scores(self, name: str, text, postings: Postings) -> np.ndarray:
        """Whoosh's BM25F for each posting, with statistics of the findable documents (``VisibleStats``)."""
        fieldobj = self.top.schema[name]
        weighting = self.top.weighting
        if not fieldobj.scorable or not isinstance(weighting, BM25F):
            return postings.weights.copy()  # Whoosh scores unscorable fields by their weight
        B = weighting._field_B.get(name, weighting.B)
        K1 = weighting.K1
        idf = self.stats.idf(name, text)
        average = self.stats.average_length(name)
        tf = postings.weights
        length = self.lengths[name][postings.ids]
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average)))

    def _term(self, name: str, text, negated: bool) -> Scored:
        self._remember(name, text, negated)
        out = self._nothing()
        if name not in self.top.schema:
            return out
        postings = self._postings(name, text)
        if len(postings):
            out.matched[postings.ids] = True
            out.score[postings.ids] = self._term_scores(name, text, postings)
        return out

    def _expanded(self, q: wq.MultiTerm, negated: bool) -> Scored:
        # Prefix ("bus*") and fuzzy ("bus~") words: every indexed word they stand for, in this segment.
        name = q.field()
        out = self._nothing()
        for _, word in q.expanded_terms(self.reader):
            term = self._term(name, word.decode("utf-8") if isinstance(word, bytes) else word, negated)
            out.matched |= term.matched
            out.score += term.score
        return out

    def _phrase(self, q: wq.Phrase, negated: bool) -> Scored:
        name, words = q.fieldname, list(q.words)
        terms = [self._term(name, word, negated) for word in words]
        if not terms:
            return self._nothing()
        candidates = self.within.copy()
        for term in terms:
            candidates &= term.matched
        docs = np.flatnonzero(candidates)
        if len(docs) == 0:
            return self._nothing()
        positions = [self._positions(name, word, docs) for word in words]
        slop = max(1, int(q.slop))
        found = np.fromiter((_in_order([p[i] for p in positions], slop) for i in range(len(docs))),
                            dtype=bool, count=len(docs))
        matched = np.zeros(self.size, dtype=bool)
        matched[docs[found]] = True
        return self._keep(Scored(matched, _total(term.score for term in terms)), matched)

    def _positions(self, name: str, word: str, docs: np.ndarray) -> list[list[int]]:
        postings = self._postings(name, word, values=True)
        where = np.searchsorted(postings.ids, docs)
        decode = self.top.schema[name].format.decode_positions
        return [decode(postings.values[i]) for i in where]


def _total(scores) -> np.ndarray:
    return functools.reduce(np.add, scores)


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """Do the words occur in order, each within `slop` positions after the one before?"""
    reachable = np.asarray(positions[0])
    for following in positions[1:]:
        following = np.asarray(following)
        # A position q is reachable if some reachable p has q - slop <= p < q (positions ascend).
        before = np.searchsorted(reachable, following) - 1
        ok = before >= 0
        ok[ok] = reachable[before[ok]] >= following[ok] - slop
        reachable = following[ok]
        if not len(reachable):
            return False
    return True

"""Per-segment arrays of what every search asks of every document: who may see it, its facets, its lengths.

A search must apply the consent rule, the filters and the facet counts to every matching item,
which at archive scale means tens of thousands of documents per search. Whoosh answers those
questions by walking posting lists per search (the consent clause alone cost 150 ms at 87,000
items). Here each segment's answers are read once into numpy arrays, from the same postings
the index already holds, and kept until the segment goes away: segments never change after they
are written except for deletions, which are read per searcher (``live_mask``).

Single-valued fields (kind, age band, area, place type, programme, session, place) become a code
per document and a vocabulary; many-valued ones (themes, polarity, theme with polarity) keep the
documents of each value. Text fields keep their per-document lengths for BM25.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.reading import IndexReader
from whoosh.util.numeric import byte_to_length
from whoosh.util.times import datetime_to_long

from archive.models import ConsentLevel

from .postings import read_postings
from .schema import TEXT_FIELDS

SINGLE_FIELDS = ("kind", "age_band", "area", "place_type", "programme", "session", "place")
MULTI_FIELDS = ("themes", "polarity", "theme_polarity")
NO_DATE = np.iinfo(np.int64).min
_LENGTHS = np.array([byte_to_length(b) if b else 0 for b in range(256)], dtype=np.float64)
_UNDATED = np.iinfo(np.uint64).max  # what the "created" column holds for a document without one


@dataclass
class Codes:
    """One code per document (-1: no value) and the value each code stands for."""

    codes: np.ndarray
    values: list[str]

    def mask(self, wanted) -> np.ndarray:
        table = np.zeros(len(self.values) + 1, dtype=bool)  # the extra last entry answers code -1
        table[[i for i, v in enumerate(self.values) if v in wanted]] = True
        return table[self.codes]

    def counts(self, within: np.ndarray) -> dict[str, int]:
        picked = self.codes[within]
        tally = np.bincount(picked[picked >= 0], minlength=len(self.values))
        return {value: int(n) for value, n in zip(self.values, tally) if n}


@dataclass
class SegmentData:
    size: int  # documents in the segment, deleted ones included
    consent_level: np.ndarray  # int8; -1 where the document has none
    ready: np.ndarray  # bool
    reviewed: np.ndarray  # bool
    created: np.ndarray  # int64 (Whoosh's datetime longs); NO_DATE where missing
    single: dict[str, Codes]
    multi: dict[str, dict[str, np.ndarray]]  # field -> value -> document numbers
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # text field -> float64 length

    def mask_any(self, name: str, wanted) -> np.ndarray:
        """Documents having any of `wanted` in field `name`."""
        if name in self.single:
            return self.single[name].mask(set(wanted))
        out = np.zeros(self.size, dtype=bool)
        for value in wanted:
            ids = self.multi.get(name, {}).get(value)
            if ids is not None:
                out[ids] = True
        return out

    def counts(self, name: str, within: np.ndarray) -> dict[str, int]:
        if name in self.single:
            return self.single[name].counts(within)
        counts = {}
        for value, ids in self.multi[name].items():
            n = int(np.count_nonzero(within[ids]))
            if n:
                counts[value] = n
        return counts

    def created_between(self, start, end) -> np.ndarray:
        out = self.created != NO_DATE
        if start is not None:
            out &= self.created >= datetime_to_long(start)
        if end is not None:
            out &= self.created < datetime_to_long(end)
        return out

    def nbytes(self) -> int:
        arrays = [self.consent_level, self.ready, self.reviewed, self.created, *self.lengths.values()]
        arrays += [c.codes for c in self.single.values()]
        arrays += [ids for values in self.multi.values() for ids in values.values()]
        return sum(a.nbytes for a in arrays)


def _terms(reader: IndexReader, name: str) -> list[bytes]:
    return list(reader.lexicon(name)) if name in reader.schema else []


def _flag(reader: IndexReader, name: str, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[read_postings(reader, name, True).ids] = True
    return out


def _single(reader: IndexReader, name: str, size: int) -> Codes:
    codes = np.full(size, -1, dtype=np.int32)
    values = []
    for btext in _terms(reader, name):
        codes[read_postings(reader, name, btext).ids] = len(values)
        values.append(btext.decode("utf-8"))
    return Codes(codes, values)


def _multi(reader: IndexReader, name: str) -> dict[str, np.ndarray]:
    return {btext.decode("utf-8"): read_postings(reader, name, btext).ids for btext in _terms(reader, name)}


def _consent_levels(reader: IndexReader, size: int) -> np.ndarray:
    levels = np.full(size, -1, dtype=np.int8)
    for level in ConsentLevel:
        levels[read_postings(reader, "consent_level", int(level)).ids] = int(level)
    return levels


def _created(reader: IndexReader, size: int) -> np.ndarray:
    if not reader.has_column("created"):
        return np.full(size, NO_DATE, dtype=np.int64)
    column = reader.column_reader("created", translate=False)
    raw = np.fromiter(iter(column), dtype=np.uint64, count=size)
    created = raw.astype(np.int64)
    created[raw == _UNDATED] = NO_DATE  # the column's value for a document without a date
    return created


def _lengths(reader: IndexReader, name: str, size: int) -> np.ndarray:
    # One byte per document in Whoosh's lossy length coding, the bytes its BM25 scorer decodes, so
    # scores here equal Whoosh's own. Read as one block: per document it took 70 ms a field.
    column = reader._perdoc._cached_reader(f"_{name}_len", LENGTHS_COLUMN) if name in reader.schema else None
    coded = np.zeros(size, dtype=np.uint8)
    if column is not None:
        stored = min(column._count, size)
        coded[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), dtype=np.uint8)
    return _LENGTHS[coded]


def read_segment(reader: IndexReader) -> SegmentData:
    size = reader.doc_count_all()
    return SegmentData(
        size=size,
        consent_level=_consent_levels(reader, size),
        ready=_flag(reader, "ready", size),
        reviewed=_flag(reader, "reviewed", size),
        created=_created(reader, size),
        single={name: _single(reader, name, size) for name in SINGLE_FIELDS},
        multi={name: _multi(reader, name) for name in MULTI_FIELDS},
        lengths={name: _lengths(reader, name, size) for name in TEXT_FIELDS},
    )


def live_mask(reader: IndexReader) -> np.ndarray:
    """Documents of the segment that are not deleted (deletions are the one thing that changes)."""
    live = np.ones(reader.doc_count_all(), dtype=bool)
    if reader.has_deletions():
        live[np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)] = False
    return live


class SegmentCache:
    """Segment arrays shared by every searcher in the process, least recently used dropped first."""

    def __init__(self, max_segments: int = 64):
        self._items: OrderedDict[tuple, SegmentData] = OrderedDict()
        self._max = max_segments
        self._lock = Lock()

    def get(self, key: tuple, reader: IndexReader) -> SegmentData:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        data = read_segment(reader)  # outside the lock: two threads may both read it, harmlessly
        with self._lock:
            self._items[key] = data
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return data

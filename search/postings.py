"""A term's postings in one segment, decoded a block at a time into numpy arrays.

Whoosh's matchers step through postings one document at a time in Python, which is what made a
search for a common word ("school", in 40% of items) cost tens of milliseconds before any
scoring, counting or consent was done. The whoosh3 codec stores postings in blocks of up to 128:
a pickled tuple of delta-coded ids, weights and values. Decoding a block at once (a cumulative
sum for the ids) turns a 35,000-posting list into arrays in a few milliseconds.

This reads the codec's block attributes (``_data``, ``_next_block``), which are not public API;
``whoosh-reloaded`` is pinned below 2.8 in setup.cfg for that reason, and
``tests/test_search_engine.py`` checks every decoded list against Whoosh's own matcher, so an
upgrade that changes the layout fails there rather than returning wrong results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader


@dataclass(frozen=True)
class Postings:
    ids: np.ndarray  # int64 document numbers within the segment, ascending, deleted ones included
    weights: np.ndarray  # float64 term frequency (or field weight) per document
    values: tuple = ()  # encoded per-posting values (positions), only when asked for

    def __len__(self) -> int:
        return len(self.ids)


NONE = Postings(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _as_bytes(reader: IndexReader, field: str, text) -> bytes:
    return text if isinstance(text, bytes) else reader.schema[field].to_bytes(text)


def read_postings(reader: IndexReader, field: str, text, *, values: bool = False) -> Postings:
    """The postings of (field, text) in `reader`, a single segment's reader; NONE when absent."""
    btext = _as_bytes(reader, field, text)
    if (field, btext) not in reader:
        return NONE
    matcher = reader.postings(field, btext)
    if isinstance(matcher, FilterMatcher):
        # A segment with deletions wraps its postings to skip deleted documents one at a time.
        # Searches apply deletions as a mask (``search.segment_data.live_mask``), so the raw
        # postings are what is wanted, and they stay valid as more of the segment is deleted.
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher):
        return _read_blocks(matcher, values)
    return _read_one_by_one(matcher, values)


def _block_weights(raw, count: int) -> np.ndarray:
    # The writer stores None when every weight is 1 and a bare float when all are equal.
    if raw is None:
        return np.ones(count)
    if isinstance(raw, float):
        return np.full(count, raw)
    return np.asarray(raw, dtype=np.float64)


def _read_blocks(matcher: W3LeafMatcher, values: bool) -> Postings:
    ids, weights, vals = [], [], []
    while matcher.is_active():
        matcher._read_data()
        deltas, raw_weights = matcher._data[0], matcher._data[1]
        block_ids = np.cumsum(np.asarray(deltas, dtype=np.int64))
        ids.append(block_ids)
        weights.append(_block_weights(raw_weights, len(block_ids)))
        if values:
            matcher._read_values()
            vals.extend(matcher._values)
        matcher._next_block()
    if not ids:
        return NONE
    return Postings(np.concatenate(ids), np.concatenate(weights), tuple(vals))


def _read_one_by_one(matcher, values: bool) -> Postings:
    # Short lists are stored inline in the term info and come back as a plain list matcher.
    ids, weights, vals = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        if values:
            vals.append(matcher.value())
        matcher.next()
    return Postings(np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64), tuple(vals))

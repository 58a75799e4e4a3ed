"""Searchers kept open between searches, one per thread and index, with each segment's arrays.

Opening the index cost 65-90 ms a search at 87,000 items, and every cache of a searcher (idf,
field lengths) was thrown away with it. A thread keeps its searcher for as long as the index is
the same generation folder and no writer has committed since (``up_to_date``); then it opens a
new one. Whoosh readers keep file positions, so searchers are
not shared between threads; the arrays read from segments (``search.segment_data``) and the
decoded postings (``search.engine.PostingCache``) are, because segments never change.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from .engine import PostingCache, Segment
from .index import index_status, live_dir
from .schema import SCHEMA
from .segment_data import SegmentCache, SegmentData, live_mask

MAX_OPEN_PER_THREAD = 4  # indexes a thread keeps open (tests make many; a server has one)

POSTINGS = PostingCache()
SEGMENTS = SegmentCache()
_local = threading.local()


@dataclass
class View:
    """A searcher at one moment of the index, and its segments in document-number order."""

    searcher: Searcher | None  # None when stale
    segments: list[tuple[Segment, SegmentData]]
    stale: bool = False  # written by an older schema version: not to be searched until rebuilt


def _open_searchers() -> OrderedDict:
    if not hasattr(_local, "searchers"):
        _local.searchers = OrderedDict()
    return _local.searchers


def _close_quietly(searcher: Searcher | None) -> None:
    if searcher is None:
        return
    try:
        searcher.close()
    except OSError:  # its generation folder was already removed by a reindex
        pass


def _searcher(index_dir: Path) -> tuple[Searcher | None, Path, bool] | None:
    live = live_dir(index_dir)
    if live is None:
        return None
    opened = _open_searchers()
    key = os.fspath(index_dir)
    held = opened.pop(key, None)
    if held is not None and held[1] == live and (held[2] or held[0].up_to_date()):
        searcher, stale = held[0], held[2]
    else:
        # Not Searcher.refresh(): it reuses a segment's reader when the segment id is unchanged,
        # and that reader still holds the segment's old deletions (a replaced or withdrawn item
        # would stay findable); it also re-adds segments that a merge removed.
        if held is not None:
            _close_quietly(held[0])
        status = index_status(index_dir)  # fixed for a generation folder: checked when it is opened
        if status == "missing":
            return None
        stale = status == "stale"
        searcher = None if stale else whoosh_index.open_dir(live, schema=SCHEMA).searcher()
    opened[key] = (searcher, live, stale)
    while len(opened) > MAX_OPEN_PER_THREAD:
        _close_quietly(opened.popitem(last=False)[1][0])
    return searcher, live, stale


def current_view(index_dir: Path | str) -> View | None:
    """The index as it is now, for this thread; None when there is no index."""
    opened = _searcher(Path(index_dir))
    if opened is None:
        return None
    searcher, live, stale = opened
    segments = []
    if stale or searcher.doc_count_all() == 0:
        return View(searcher, segments, stale)  # nothing to read: an empty or out-of-date index
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        key = (os.fspath(live), reader.segment().segment_id())
        segment = Segment(searcher=sub, offset=offset, key=key, live=live_mask(reader))
        segments.append((segment, SEGMENTS.get(key, reader)))
    return View(searcher, segments, stale)

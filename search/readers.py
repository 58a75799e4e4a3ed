"""Searchers kept open between searches, one per thread and index, with each segment's arrays.

Opening the index cost 65-90 ms a search at 87,000 items, and every cache of a searcher (idf,
field lengths) was thrown away with it. A thread keeps its searcher for as long as the index is
the same generation folder and no writer has committed since (``up_to_date``); then it opens a
new one. Searchers unused for ``IDLE_CLOSE`` seconds, or idle when this process erases, are
closed (``release_idle``): an open searcher keeps replaced files, and their words, on disk. Whoosh readers keep file positions, so searchers are
not shared between threads; the arrays read from segments (``search.segment_data``) and the
decoded postings (``search.engine.PostingCache``) are, because segments never change.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from .engine import PostingCache, Segment
from .index import index_status, live_dir
from .schema import SCHEMA
from .segment_data import SegmentCache, SegmentData, live_mask

MAX_OPEN_PER_THREAD = 4  # indexes a thread keeps open (tests make many; a server has one)
IDLE_CLOSE = 30.0  # seconds a searcher may sit unused before it is closed
REAP_EVERY = 10.0

POSTINGS = PostingCache()
SEGMENTS = SegmentCache()


@dataclass
class View:
    """A searcher at one moment of the index, and its segments in document-number order."""

    searcher: Searcher | None  # None when stale
    segments: list[tuple[Segment, SegmentData]]
    stale: bool = False  # written by an older schema version: not to be searched until rebuilt


@dataclass
class _Held:
    searcher: Searcher | None
    live: Path
    stale: bool
    used: float = field(default_factory=time.monotonic)


class _Holder:
    """One thread's open searchers. ``busy`` is held while the thread searches with them, so
    another thread may close them only when it can take the lock."""

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self.open: OrderedDict[str, _Held] = OrderedDict()
        self.thread = threading.current_thread()


_local = threading.local()
_holders: list[_Holder] = []
_holders_lock = threading.Lock()
_reaper: threading.Thread | None = None


def _holder() -> _Holder:
    holder = getattr(_local, "holder", None)
    if holder is None:
        holder = _local.holder = _Holder()
        with _holders_lock:
            _holders.append(holder)
        _start_reaper()
    return holder


def release_idle(idle_for: float = 0.0) -> None:
    """Close every searcher no thread is using now and that has been unused for `idle_for` seconds.

    An open searcher keeps the files it read, even after a writer replaced them, and erasure
    replaces the files that held an item's words: until the searcher is closed the words stay on
    disk (unlinked, but readable by this process). Erasure and rebuilds in this process call this
    at once; a timer (``IDLE_CLOSE``) covers erasure done by another process, such as a worker.
    """
    now = time.monotonic()
    with _holders_lock:
        holders = list(_holders)
    closed = 0
    for holder in holders:
        if not holder.busy.acquire(blocking=False):
            continue  # searching now; it reopens on its next search if the index changed
        try:
            for key in [k for k, held in holder.open.items() if now - held.used >= idle_for]:
                _close_quietly(holder.open.pop(key).searcher)
                closed += 1
            if not holder.open and not holder.thread.is_alive():
                with _holders_lock:
                    _holders.remove(holder)
        finally:
            holder.busy.release()
    if closed:
        # A closed segment whose memory map still has views into it is only dropped, not closed
        # (Whoosh's CompoundStorage.close), and those views sit in reference cycles: collect them
        # so the file is really let go.
        gc.collect()


def _start_reaper() -> None:
    global _reaper
    with _holders_lock:
        if _reaper is not None and _reaper.is_alive():
            return

        def reap() -> None:
            while True:
                time.sleep(REAP_EVERY)
                release_idle(IDLE_CLOSE)

        _reaper = threading.Thread(target=reap, name="chorus-search-reaper", daemon=True)
        # Holds no lock a forked indexing process would need (``search.index._bulk_writer``).
        _reaper.fork_safe = True
        _reaper.start()


def _close_quietly(searcher: Searcher | None) -> None:
    if searcher is None:
        return
    try:
        searcher.close()
    except OSError:  # its generation folder was already removed by a reindex
        pass


def _searcher(holder: _Holder, index_dir: Path) -> _Held | None:
    live = live_dir(index_dir)
    if live is None:
        return None
    key = os.fspath(index_dir)
    held = holder.open.pop(key, None)
    if held is None or held.live != live or not (held.stale or held.searcher.up_to_date()):
        # Not Searcher.refresh(): it reuses a segment's reader when the segment id is unchanged,
        # and that reader still holds the segment's old deletions (a replaced or withdrawn item
        # would stay findable); it also re-adds segments that a merge removed.
        if held is not None:
            _close_quietly(held.searcher)
        status = index_status(index_dir)  # fixed for a generation folder: checked when it is opened
        if status == "missing":
            return None
        stale = status == "stale"
        held = _Held(None if stale else whoosh_index.open_dir(live, schema=SCHEMA).searcher(), live, stale)
    held.used = time.monotonic()
    holder.open[key] = held
    while len(holder.open) > MAX_OPEN_PER_THREAD:
        _close_quietly(holder.open.popitem(last=False)[1].searcher)
    return held


@contextmanager
def open_view(index_dir: Path | str) -> Iterator[View | None]:
    """The index as it is now, for this thread, usable inside the ``with``; None when there is no index."""
    holder = _holder()
    with holder.busy:
        yield _view(_searcher(holder, Path(index_dir)))


def _view(held: _Held | None) -> View | None:
    if held is None:
        return None
    segments = []
    if held.stale or held.searcher.doc_count_all() == 0:
        return View(held.searcher, segments, held.stale)  # nothing to read: an empty or out-of-date index
    for sub, offset in held.searcher.leaf_searchers():
        reader = sub.reader()
        key = (os.fspath(held.live), reader.segment().segment_id())
        segment = Segment(searcher=sub, offset=offset, key=key, live=live_mask(reader))
        segments.append((segment, SEGMENTS.get(key, reader)))
    return View(held.searcher, segments, held.stale)

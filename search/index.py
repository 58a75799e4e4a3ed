"""Writing the search index: one document per searchable artefact, kept in step with the database.

Layout: the configured ``index_dir`` is a symlink to a sibling generation folder
(``.<name>.gen-*``). ``reindex`` builds a whole new generation beside it and swaps the symlink
with one ``rename``, so a reader sees either the old index or the new one, never half of each.
Readers resolve the symlink once when they open, so a swap cannot mix files from two
generations in one search. A plain folder at ``index_dir`` (made by hand) is used as it is, and
replaced by the symlink layout on the first reindex.

Writers (web process, worker, CLI) take an exclusive ``flock`` on a sibling lock file, which
survives generation swaps; readers take no lock and are never blocked. ``reindex`` holds the
lock from reading the database to the swap, so a removal that arrives meanwhile waits and then
applies to the new generation instead of being lost with the old one.

Only artefacts someone may search are indexed: withdrawn items and items without even team
consent are removed rather than written.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload
from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.reading import SegmentReader

from archive.curation.redaction import shareable_text, text_redactions_of_many
from archive.models import (
    Artefact,
    ArtefactStatus,
    ConsentLevel,
    TagStatus,
    Transcript,
)

from .schema import SCHEMA, SCHEMA_VERSION

WRITE_TIMEOUT = 30.0  # seconds a writer waits for another writer (a reindex can take longer: callers retry)
_LOCK_POLL = 0.05
_MIN_LEVEL = ConsentLevel.TEAM  # below this nobody may search an item, so it is not copied here
_REINDEX_BATCH = 200
_REINDEX_PROCS = 2  # indexing sub-processes for a full rebuild, at most one per CPU
_REINDEX_LIMITMB = 256  # memory for each writer's postings before it spills them to disk
# Documents per commit of a rebuild: each indexing process writes its share as one segment, so a
# segment holds about SEGMENT_DOCS / _REINDEX_PROCS. Erasure rewrites the segment holding the
# item (``rewrite_segments_with_deletions``); searching costs a little more per segment.
SEGMENT_DOCS = 20_000


class IndexBusy(TimeoutError):
    """Another writer held the index for longer than the timeout; the job should be retried."""


_VERSION_FILE = "chorus-schema-version"  # not a name Whoosh's own file clean-up ever removes


# ---- layout and locking ----------------------------------------------------------------------


def _generation_prefix(index_dir: Path) -> str:
    return f".{index_dir.name}.gen-"


def _lock_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.lock")


@contextmanager
def _write_lock(index_dir: Path, timeout: float) -> Iterator[None]:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_lock_path(index_dir), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"the search index stayed locked for {timeout:.0f} s") from None
                time.sleep(_LOCK_POLL)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def live_dir(index_dir: Path | str) -> Path | None:
    """The folder holding the current generation, or None when there is no index folder yet."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        return None
    return Path(os.path.realpath(index_dir))


def stale_copies(index_dir: Path | str) -> list[Path]:
    """Generation folders other than the live one: left by a crash, and possibly holding erased text."""
    index_dir = Path(index_dir)
    if not index_dir.parent.is_dir():
        return []
    live = live_dir(index_dir)
    prefix = _generation_prefix(index_dir)
    return sorted(
        p for p in index_dir.parent.iterdir() if p.name.startswith(prefix) and p.is_dir() and p != live
    )


def _sweep_stale(index_dir: Path) -> None:
    for path in stale_copies(index_dir):
        shutil.rmtree(path)


def _new_generation(index_dir: Path) -> Path:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    # mkdtemp makes the folder owner-only: it holds children's words.
    fresh = Path(tempfile.mkdtemp(prefix=_generation_prefix(index_dir), dir=index_dir.parent))
    _mark_version(fresh)  # every new generation is written with the current SCHEMA
    return fresh


def _mark_version(folder: Path) -> None:
    (folder / _VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")


def index_status(index_dir: Path | str) -> str:
    """"missing" (no index yet), "current", or "stale" (written by an older schema: reindex)."""
    live = live_dir(Path(index_dir))
    if live is None or not whoosh_index.exists_in(live):
        return "missing"
    try:
        version = int((live / _VERSION_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        version = 1  # indexes from before versioning
    return "current" if version == SCHEMA_VERSION else "stale"


def _publish(index_dir: Path, fresh: Path) -> Path | None:
    """Point ``index_dir`` at `fresh` in one rename; return the folder it pointed at before."""
    old = live_dir(index_dir)
    link = index_dir.with_name(f".{index_dir.name}.link-{uuid.uuid4().hex}")
    os.symlink(fresh.name, link)  # relative, so the data folder can be moved as a whole
    if index_dir.is_dir() and not index_dir.is_symlink():
        # A directory cannot be renamed over a non-empty one: move it aside first (a brief gap, once).
        aside = index_dir.with_name(f"{_generation_prefix(index_dir)}aside-{uuid.uuid4().hex}")
        os.rename(index_dir, aside)
        old = aside
    os.replace(link, index_dir)
    return old


def _open_or_create_locked(index_dir: Path) -> Index:
    live = live_dir(index_dir)
    if live is not None and whoosh_index.exists_in(live):
        return whoosh_index.open_dir(live, schema=SCHEMA)
    if live is not None:
        ix = whoosh_index.create_in(live, SCHEMA)
        _mark_version(live)
        return ix
    fresh = _new_generation(index_dir)
    ix = whoosh_index.create_in(fresh, SCHEMA)
    _publish(index_dir, fresh)
    return ix


def open_index(index_dir: Path | str, *, timeout: float = WRITE_TIMEOUT) -> Index:
    """Open the index, creating an empty one if there is none yet."""
    index_dir = Path(index_dir)
    existing = open_existing(index_dir)
    if existing is not None:
        return existing
    with _write_lock(index_dir, timeout):
        return _open_or_create_locked(index_dir)


def open_existing(index_dir: Path | str) -> Index | None:
    """Open the index for reading without creating anything; None when there is no index."""
    live = live_dir(Path(index_dir))
    if live is None or not whoosh_index.exists_in(live):
        return None
    return whoosh_index.open_dir(live, schema=SCHEMA)


# ---- documents -------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.value if isinstance(value, Enum) else str(value)


def _naive_utc(when: datetime | None) -> datetime | None:
    # Whoosh drops tzinfo without converting, so hand it UTC already.
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def _live_tags(artefact: Artefact) -> list:
    return [tag for tag in artefact.tags or () if tag.status != TagStatus.REJECTED]


def _keywords(values) -> str:
    return ",".join(sorted({v.lower() for v in values}))


def _person_attr(artefact: Artefact, participant_attr: str, session_attr: str) -> str | None:
    participant = getattr(artefact, "participant", None)
    value = getattr(participant, participant_attr, None) if participant is not None else None
    if value is None and getattr(artefact, "session", None) is not None:
        value = getattr(artefact.session, session_attr, None)
    return _text(value)


def document_for(artefact: Artefact, text_redactions: list | None = None) -> dict:
    """The index document for one artefact; fields with no value are left out.

    `text_redactions`: the artefact's text redactions when the caller fetched them for many items.
    """
    tags = _live_tags(artefact)
    session = getattr(artefact, "session", None)
    # The words as readers beyond the team read them: hidden names are "[name]" in the index too,
    # so no snippet, facet or search can bring them back (team members read originals on the item).
    shared = shareable_text(object_session(artefact), artefact, text_redactions)
    segments = [[float(s.start), float(s.end), s.text.strip()] for s in shared.segments if s.text.strip()]
    doc = {
        "id": str(artefact.id),
        "programme": _text(artefact.programme_id),
        "session": _text(artefact.session_id),
        "kind": _text(artefact.kind),
        "age_band": _person_attr(artefact, "age_band", "age_band"),
        "area": _person_attr(artefact, "area_code", "area_code"),
        "place": _text(artefact.place),
        "place_type": _text(session.place_type) if session is not None else None,
        "themes": _keywords(t.theme for t in tags),
        "polarity": _keywords(_text(t.polarity) for t in tags if t.polarity is not None),
        "theme_polarity": _keywords(f"{t.theme}:{_text(t.polarity)}" for t in tags if t.polarity is not None),
        "theme_source": _keywords(f"{t.theme}:{_text(t.source)}" for t in tags if t.source is not None),
        "title": shared.title,
        "story": shared.story,
        "ocr": shared.image_text,
        "transcript": shared.transcript,
        "segments": json.dumps(segments, ensure_ascii=False) if segments else None,
        "consent_level": int(artefact.consent_level),
        "reviewed": artefact.reviewed_at is not None,
        "ready": artefact.status == ArtefactStatus.READY,
        "created": _naive_utc(getattr(artefact, "created_at", None)),
    }
    return {name: value for name, value in doc.items() if value is not None}


def is_searchable(artefact: Artefact) -> bool:
    """Should the artefact be in the index at all? The same rule as ``reindex``'s query."""
    return artefact.status != ArtefactStatus.WITHDRAWN and artefact.consent_level >= _MIN_LEVEL


# ---- writing ---------------------------------------------------------------------------------


def index_artefact(
    index_dir: Path | str, artefact: Artefact, *, purge: bool = False, timeout: float = WRITE_TIMEOUT
) -> None:
    """Add or replace the artefact's document, or remove it if it may no longer be searched.

    Replacing leaves the old version's words in an older segment until a merge: pass
    ``purge=True`` when the edit removed text that must not survive (a redacted name).
    """
    index_dir = Path(index_dir)
    if not is_searchable(artefact):
        remove_artefact(index_dir, artefact.id, timeout=timeout)
        return
    db = object_session(artefact)
    if db is not None and index_status(index_dir) == "stale":
        # Written by an older schema: one document in the new shape would not make it searchable
        # again, so the first index job after an upgrade rebuilds it all (this item included).
        reindex(db, index_dir, timeout=timeout)
        return
    doc = document_for(artefact)  # reads the database, so before taking the lock
    with _write_lock(index_dir, timeout):
        writer = _open_or_create_locked(index_dir).writer(timeout=timeout)
        writer.update_document(**doc)
        if not purge:
            writer.commit()
            return
        writer.commit(mergetype=rewrite_segments_with_deletions)
    _release_replaced_files()


def remove_artefact(index_dir: Path | str, artefact_id: uuid.UUID | str, *, timeout: float = WRITE_TIMEOUT) -> bool:
    """Delete the artefact's document and rewrite the segments so none of its words stay on disk.

    ``delete_by_term`` and a plain commit only mark the document deleted: its terms and stored
    text stay in the segment files until they are merged (reliability note 23), so the commit
    rewrites the segment that held it. Returns whether the index held any trace of it. Idempotent.
    """
    index_dir = Path(index_dir)
    key = str(artefact_id)
    with _write_lock(index_dir, timeout):
        _sweep_stale(index_dir)
        ix = open_existing(index_dir)
        if ix is None or not _has_id_term(ix, key):
            return False
        writer = ix.writer(timeout=timeout)
        writer.delete_by_term("id", key)
        writer.commit(mergetype=rewrite_segments_with_deletions)
    _release_replaced_files()
    return True


def _release_replaced_files() -> None:
    # Searchers this process keeps open still hold the files just replaced (see search.readers).
    from .readers import release_idle

    release_idle()


def rewrite_segments_with_deletions(writer, segments):
    """Merge policy that rewrites only the segments holding deleted documents, without them.

    What erasure needs: a deleted document's terms and stored text stay in its segment's files
    until that segment is rewritten. Optimising rewrote the whole index, which took three
    minutes at 100,000 items with the write lock held; segments are kept to
    ``SEGMENT_DOCS`` documents by ``reindex`` so this rewrites a few thousand.
    """
    kept = []
    for segment in segments:
        if segment.has_deletions():
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        else:
            kept.append(segment)
    return kept


def _has_id_term(ix: Index, key: str) -> bool:
    # The term list still names deleted-but-unmerged documents, which is what erasure must catch.
    with ix.reader() as reader:
        return ("id", key) in reader


def still_indexed(index_dir: Path | str, artefact_id: uuid.UUID | str) -> bool:
    """Does any segment file still hold the artefact's id, live or deleted-but-unmerged?"""
    ix = open_existing(index_dir)
    return ix is not None and _has_id_term(ix, str(artefact_id))


def reindex(db: Session, index_dir: Path | str, *, timeout: float = WRITE_TIMEOUT) -> int:
    """Rebuild the index from the database into a new generation and swap it in; returns the count."""
    index_dir = Path(index_dir)
    with _write_lock(index_dir, timeout):
        _sweep_stale(index_dir)
        fresh = _new_generation(index_dir)
        try:
            count = _fill(whoosh_index.create_in(fresh, SCHEMA), db)
            old = _publish(index_dir, fresh)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    _release_replaced_files()
    return count


def searchable_documents(db: Session) -> Iterator[tuple[Artefact, dict]]:
    """Every artefact someone may search, with its index document, for a rebuild of either backend.

    Redactions are fetched for a batch of items at once: one query an item was most of the
    time spent building documents (0.3 of 0.45 ms an item on SQLite).
    """
    batch: list[Artefact] = []
    for artefact in _searchable_artefacts(db):
        batch.append(artefact)
        if len(batch) == _REINDEX_BATCH:
            yield from _documents(db, batch)
            batch = []
    yield from _documents(db, batch)


def _documents(db: Session, batch: list[Artefact]) -> Iterator[tuple[Artefact, dict]]:
    if not batch:
        return
    redactions = text_redactions_of_many(db, [artefact.id for artefact in batch])
    for artefact in batch:
        yield artefact, document_for(artefact, redactions.get(artefact.id, []))


def _searchable_artefacts(db: Session) -> Iterator[Artefact]:
    stmt = (
        select(Artefact)
        .where(Artefact.status != ArtefactStatus.WITHDRAWN, Artefact.consent_level >= _MIN_LEVEL)
        .options(
            selectinload(Artefact.tags),
            selectinload(Artefact.transcript).selectinload(Transcript.segments),
            selectinload(Artefact.participant),
            selectinload(Artefact.session),
        )
        .order_by(Artefact.created_at, Artefact.id)
        .execution_options(yield_per=_REINDEX_BATCH)
    )
    yield from db.scalars(stmt)


def _bulk_writer(ix: Index):
    # Indexing (analysis, stemming, sorting postings) costs about twice the database reads, so on
    # two or more CPUs sub-processes index while this one reads (bench/search.py measures it).
    # multisegment keeps one segment per process: merging them would redo most of the writing.
    # Whoosh forks its sub-processes; a process running other threads (the web app with its
    # embedded queue worker, when a schema change makes an index job rebuild everything) could
    # fork one holding a lock it will never release, so there it indexes in this process.
    procs = min(_REINDEX_PROCS, os.cpu_count() or 1)
    others = [t for t in threading.enumerate() if t is not threading.current_thread() and not getattr(t, "fork_safe", False)]
    if procs < 2 or others:
        return ix.writer(limitmb=_REINDEX_LIMITMB)
    return ix.writer(procs=procs, multisegment=True, limitmb=_REINDEX_LIMITMB, batchsize=_REINDEX_BATCH)


def _stop_writer(writer) -> None:
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - a commit that failed half-way may have closed it already
        pass
    # MpWriter.cancel only flags its own copies of the sub-process objects; a sub-process waiting
    # for work would never exit, so end them here.
    for task in getattr(writer, "tasks", ()):
        task.terminate()
        task.join()


def _fill(ix: Index, db: Session) -> int:
    writer, count = None, 0
    try:
        for _, document in searchable_documents(db):
            if writer is None:
                writer = _bulk_writer(ix)
            writer.add_document(**document)
            count += 1
            if count % SEGMENT_DOCS == 0:
                writer.commit(merge=False)  # segments of bounded size keep erasure cheap
                writer = None
        if writer is not None:
            writer.commit(merge=False)
    except BaseException:
        if writer is not None:
            _stop_writer(writer)
        raise
    # Whoosh's multi-process commit drops a sub-process's segment without an error if its result
    # is late (or the process died): refuse to publish an index missing anything.
    indexed = ix.refresh().doc_count_all()
    if indexed != count:
        raise RuntimeError(f"reindex wrote {indexed} of {count} documents; the old index is kept")
    return count

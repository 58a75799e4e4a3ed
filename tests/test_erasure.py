"""Withdrawal hides at once; erasure leaves no byte of the item anywhere, and an audit record without content."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from archive.erasure import ErasureContext, erase_artefact, erasers, withdraw_artefact, withdraw_participant
from archive.fsck import fsck
from archive.models import (
    ArtefactKind,
    ArtefactStatus,
    AuditEvent,
    ConsentLevel,
    Derivative,
    Exhibit,
    ExhibitItem,
    ExhibitStatus,
    Transcript,
    TranscriptSegment,
)
from archive.principal import SYSTEM, participant_principal

CANARY_TEXT = "qqcanaryqq"  # stems to itself, so the index holds it verbatim
CANARY_BYTES = b"\x89CANARY-IMAGE-BYTES-7f3a9c"


def _grep(paths: list[Path], needle: bytes) -> list[str]:
    hits = []
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            if needle in path.read_bytes():
                hits.append(str(path))
    return hits


def _plant(db, make, services):
    """An item whose story, transcript, derivative, index entry and exhibit place all carry canaries."""
    programme = make.programme()
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.EXHIBIT, face=True, voice=True)
    item = make.artefact(
        participant, kind=ArtefactKind.VOICE_NOTE, title=f"{CANARY_TEXT} title",
        story=f"my {CANARY_TEXT} story about the bus", content=CANARY_BYTES + b" master",
    )
    stored = services.storage.put(f"{item.storage_prefix}derivatives/waveform.json", io.BytesIO(CANARY_BYTES))
    db.add(Derivative(artefact_id=item.id, kind="waveform", object_key=stored.key, sha256=stored.sha256,
                      size_bytes=stored.size, media_type="application/json"))
    transcript = Transcript(artefact_id=item.id, language="en", duration=3.0)
    transcript.segments.append(TranscriptSegment(position=0, start=0, end=3, text=f"the {CANARY_TEXT} said hello"))
    db.add(transcript)
    exhibit = Exhibit(programme_id=programme.id, slug="what-we-heard", title="What we heard", status=ExhibitStatus.PUBLISHED)
    exhibit.items.append(ExhibitItem(artefact_id=item.id, alt_text="", caption=f"{CANARY_TEXT} caption"))
    db.add(exhibit)
    db.commit()
    from search.index import index_artefact

    index_artefact(services.settings.index_dir, item)
    return item


def test_withdraw_then_erase_leaves_no_trace(db, make, services, settings):
    item = _plant(db, make, services)
    data = [settings.data_dir / "chorus.sqlite3", settings.media_dir, settings.index_dir]
    assert _grep(data[1:], CANARY_BYTES), "the canary bytes were not stored"
    assert _grep([settings.index_dir], CANARY_TEXT.encode()), "the canary was not indexed"

    withdraw_artefact(db, participant_principal(item.participant), item)
    db.commit()
    assert item.status == ArtefactStatus.WITHDRAWN and item.consent_level == ConsentLevel.NONE

    left = erase_artefact(ErasureContext(db, services.storage, settings), item.id, SYSTEM)
    assert left == []
    services.engine.dispose()  # close connections so the -wal and -shm files are as they would be at rest
    wal_files = [p for p in settings.data_dir.glob("chorus.sqlite3*")]
    for needle in (CANARY_TEXT.encode(), CANARY_BYTES):
        assert _grep(wal_files + data[1:], needle) == []
    assert db.scalars(select(ExhibitItem)).all() == []
    assert db.get(Exhibit, 1) is not None  # the exhibit itself still renders without the item


def test_erasure_audit_has_no_content_and_is_idempotent(db, make, services, settings):
    item = _plant(db, make, services)
    withdraw_artefact(db, SYSTEM, item)
    db.commit()
    ctx = ErasureContext(db, services.storage, settings)
    assert erase_artefact(ctx, item.id, SYSTEM) == []
    assert erase_artefact(ctx, item.id, SYSTEM) == []  # a resumed or repeated job is harmless
    events = db.scalars(select(AuditEvent).where(AuditEvent.object_id == str(item.id))).all()
    assert [e.action for e in events if e.action.startswith("artefact.")] == ["artefact.withdrawn", "artefact.erased"]
    assert all(CANARY_TEXT not in repr(e.details) for e in events)
    db.refresh(item)
    assert item.erased_at is not None and item.title == "" and item.sha256 is None


def test_every_subsystem_registers_an_eraser():
    assert {e.name for e in erasers()} >= {"database", "storage", "search index"}


def test_withdrawing_everything_hides_every_item_at_once(db, make, services):
    programme = make.programme()
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT)
    items = [make.artefact(participant, title=f"item {i}") for i in range(3)]
    ids = withdraw_participant(db, participant_principal(participant), participant)
    db.commit()
    assert set(ids) == {i.id for i in items}
    for item in items:
        db.refresh(item)
        assert item.status == ArtefactStatus.WITHDRAWN and item.consent_level == ConsentLevel.NONE
    later = make.artefact(participant, title="shared after withdrawing")
    assert later.consent_level == ConsentLevel.NONE  # the participant's default is now "nothing"


def test_same_bytes_from_two_children_erasing_one_keeps_the_other(db, make, services, settings):
    programme = make.programme()
    first = make.shared(ConsentLevel.TEAM, programme=programme, content=b"identical drawing bytes")
    second = make.shared(ConsentLevel.TEAM, programme=programme, content=b"identical drawing bytes")
    withdraw_artefact(db, SYSTEM, first)
    db.commit()
    erase_artefact(ErasureContext(db, services.storage, settings), first.id, SYSTEM)
    with services.storage.open(second.master_key) as handle:
        assert handle.read() == b"identical drawing bytes"
    report = fsck(db, services.storage)
    assert report.clean and report.expected_absent == 1 and second.master_key in report.ok


def test_fsck_reports_changed_missing_untracked_and_pending(db, make, services, settings):
    programme = make.programme()
    changed = make.shared(ConsentLevel.TEAM, programme=programme, content=b"original")
    missing = make.shared(ConsentLevel.TEAM, programme=programme, content=b"will vanish")
    pending = make.shared(ConsentLevel.TEAM, programme=programme, content=b"withdrawn, not yet erased")
    (settings.media_dir / changed.master_key).write_bytes(b"flipped")
    (settings.media_dir / missing.master_key).unlink()
    services.storage.put("artefacts/stray/master", io.BytesIO(b"nobody's"))
    withdraw_artefact(db, SYSTEM, pending)
    db.commit()
    report = fsck(db, services.storage)
    assert report.changed == [changed.master_key]
    assert report.missing == [missing.master_key]
    assert report.untracked == ["artefacts/stray/master"]
    assert report.pending_erasure == [pending.master_key]
    assert not report.clean

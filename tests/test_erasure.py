"""Withdrawal hides at once; erasure leaves no byte of the item anywhere, and an audit record without content."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

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


@pytest.fixture(params=["moto", "rgw"])
def s3_services(request, tmp_path, monkeypatch, migrated_sqlite):
    """The app's services on a versioned S3 bucket of a real (RGW) or in-process (moto) server."""
    import boto3
    import shutil

    from archive.services import Services
    from archive.settings import load_settings

    endpoint = request.getfixturevalue(f"{request.param}_s3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", endpoint.secret_key)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, os.devnull)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    bucket = f"chorus-erasure-{request.param}-{tmp_path.name[-8:].lower().replace('_', '-')}"
    client = boto3.client("s3", endpoint_url=endpoint.endpoint_url, region_name="eu-west-2",
                          aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key)
    where = {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-2"}} if request.param == "moto" else {}
    client.create_bucket(Bucket=bucket, **where)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    settings = load_settings(data_dir=tmp_path / "data", queue_url="memory://", storage="s3", s3_bucket=bucket,
                             s3_endpoint_url=endpoint.endpoint_url, s3_region="eu-west-2")
    shutil.copyfile(migrated_sqlite, settings.data_dir / "chorus.sqlite3")
    svc = Services(settings)
    svc.storage.check()
    yield svc, client, bucket
    svc.close()


def test_erasure_on_a_versioned_bucket_leaves_no_version_or_marker(s3_services):
    from tests.conftest import Factory

    svc, client, bucket = s3_services
    with svc.session() as db:
        make = Factory(db, svc.storage)
        item = make.shared(ConsentLevel.TEAM, content=CANARY_BYTES + b" master v1")
        svc.storage.put(item.master_key, io.BytesIO(CANARY_BYTES + b" master v2"))  # a second version
        withdraw_artefact(db, SYSTEM, item)
        db.commit()
        assert erase_artefact(ErasureContext(db, svc.storage, svc.settings), item.id, SYSTEM) == []
    listing = client.list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []

"""Accepting uploads: content decides the type, metadata goes before the first checksum, refusals leave nothing."""

from __future__ import annotations

import errno
import hashlib
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from archive.fsck import fsck
from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Derivative, TagSource, ThemeTag
from archive.principal import participant_principal
from archive.storage import StorageUnavailable
from ingest.accept import Submission, UploadRejected, accept_upload, safe_original_name

GPS_CANARY = b"CANARY-GPS-53.7626"


def _jpeg_with_gps(path: Path) -> Path:
    image = Image.new("RGB", (640, 480), (90, 140, 200))
    exif = Image.Exif()
    exif[0x010E] = GPS_CANARY.decode()  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (53.0, 45.0, 45.45), "W", (3.0, 33.0, 33.33)
    image.save(path, "JPEG", exif=exif)
    assert GPS_CANARY in path.read_bytes()
    return path


@pytest.fixture
def child(make):
    participant = make.participant(make.session(make.programme()))
    make.consent(participant, ConsentLevel.TEAM)
    return participant


def _accept(db, services, child, kind, path=None, **fields):
    return accept_upload(db, services.storage, participant_principal(child), child, Submission(kind=kind, **fields), path)


def _stored_everything(services) -> list[Path]:
    return [p for p in services.settings.media_dir.rglob("*") if p.is_file()]


def test_photo_loses_gps_before_the_first_checksum(db, services, child, tmp_path):
    artefact, created = _accept(db, services, child, ArtefactKind.PHOTO, _jpeg_with_gps(tmp_path / "IMG_0001.JPG"),
                                title="Our street", story="The bins are always full", original_name="IMG_0001.JPG")
    assert created and artefact.status == ArtefactStatus.RECEIVED and artefact.media_type == "image/jpeg"
    master = services.settings.media_dir / artefact.master_key
    data = master.read_bytes()
    assert GPS_CANARY not in data and b"GPS" not in data
    assert artefact.sha256 == hashlib.sha256(data).hexdigest() and artefact.size_bytes == len(data)
    assert artefact.original_name == "IMG_0001.JPG"


def test_a_photo_is_acknowledged_with_its_web_image_and_thumbnail_stored_and_recorded(db, services, child, tmp_path):
    artefact, _ = _accept(db, services, child, ArtefactKind.PHOTO, _jpeg_with_gps(tmp_path / "p.jpg"))
    db.expire_all()
    rows = {d.kind: d for d in db.scalars(select(Derivative).where(Derivative.artefact_id == artefact.id))}
    assert set(rows) == {"web_image", "thumbnail"}
    assert (rows["web_image"].width, rows["web_image"].height) == (640, 480)
    assert (rows["thumbnail"].width, rows["thumbnail"].height) == (320, 240)
    for row in rows.values():
        data = (services.settings.media_dir / row.object_key).read_bytes()
        assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size_bytes == len(data)
        assert GPS_CANARY not in data and row.media_type == "image/jpeg"
    assert fsck(db, services.storage).clean


def test_a_batch_stored_in_part_is_removed_and_nothing_recorded(db, services, child, tmp_path, monkeypatch):
    real_replace, renamed = os.replace, []

    def second_rename_fails(src, dst):
        if Path(dst).is_relative_to(services.settings.media_dir):  # into the store, not the upload's scratch folder
            if renamed:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            renamed.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_rename_fails)
    with pytest.raises(StorageUnavailable):
        _accept(db, services, child, ArtefactKind.PHOTO, _jpeg_with_gps(tmp_path / "p.jpg"))
    assert renamed and not Path(renamed[0]).exists()  # the master was in place, then removed
    db.rollback()
    assert db.scalar(select(func.count(Artefact.id))) == 0
    assert _stored_everything(services) == []


def test_same_upload_id_twice_is_one_artefact(db, services, child, tmp_path):
    photo = _jpeg_with_gps(tmp_path / "a.jpg")
    first, created_first = _accept(db, services, child, ArtefactKind.PHOTO, photo, upload_id="retry-abcdef12")
    again, created_again = _accept(db, services, child, ArtefactKind.PHOTO, photo, upload_id="retry-abcdef12")
    assert (created_first, created_again) == (True, False) and first.id == again.id
    assert db.scalar(select(func.count(Artefact.id))) == 1
    stored = [p.relative_to(services.settings.media_dir).as_posix() for p in _stored_everything(services)]
    prefix = first.storage_prefix
    assert sorted(stored) == [f"{prefix}derivatives/thumbnail", f"{prefix}derivatives/web_image", f"{prefix}master"]


def _html(path):
    path.write_bytes(b"<!doctype html><html><script>alert(1)</script></html>")
    return path


def _zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    return path


def _empty(path):
    path.write_bytes(b"")
    return path


def _truncated(path):
    Image.new("RGB", (800, 600), (10, 200, 30)).save(path, "JPEG", quality=95)
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _bomb(path):
    Image.new("1", (20000, 20000)).save(path, "PNG")
    return path


def _svg(path):
    path.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    return path


@pytest.mark.parametrize("maker, status, words", [
    (_html, 415, "web page"), (_zip, 415, ""), (_empty, 415, "empty"), (_truncated, 422, ""),
    (_bomb, 422, ""), (_svg, 415, "SVG"),
])
def test_bad_files_are_refused_and_leave_nothing(db, services, child, tmp_path, maker, status, words):
    path = maker(tmp_path / "drawing.jpg")
    with pytest.raises(UploadRejected) as refused:
        _accept(db, services, child, ArtefactKind.DRAWING, path, title="my drawing")
    assert refused.value.status == status and words.lower() in refused.value.message.lower()
    assert len(refused.value.message) > 20  # a sentence a facilitator can act on, not a code
    assert db.scalar(select(func.count(Artefact.id))) == 0
    assert _stored_everything(services) == []


def test_a_photo_sent_as_a_voice_note_is_refused(db, services, child, tmp_path):
    with pytest.raises(UploadRejected, match="voice recording"):
        _accept(db, services, child, ArtefactKind.VOICE_NOTE, _jpeg_with_gps(tmp_path / "note.m4a"))
    assert _stored_everything(services) == []


def test_written_story_with_emoji_rtl_and_markup(db, services, child):
    story = "Our park 🌳 is closed. الحديقة مغلقة <script>alert(1)</script> {{ 7*7 }}\x00\x07"
    artefact, _ = _accept(db, services, child, ArtefactKind.TEXT_STORY, title="Park", story=story, themes=("place", "place"))
    assert artefact.story.startswith("Our park 🌳") and "الحديقة" in artefact.story
    assert "\x00" not in artefact.story and "{{ 7*7 }}" in artefact.story
    tags = db.scalars(select(ThemeTag).where(ThemeTag.artefact_id == artefact.id)).all()
    assert [(t.theme, t.source) for t in tags] == [("place", TagSource.PARTICIPANT)]


def test_malformed_submissions_get_clear_messages(db, services, child):
    with pytest.raises(UploadRejected, match="write your story"):
        _accept(db, services, child, ArtefactKind.TEXT_STORY, story="   ")
    with pytest.raises(UploadRejected, match="too long"):
        _accept(db, services, child, ArtefactKind.TEXT_STORY, story="a" * 20_001)
    with pytest.raises(UploadRejected, match="themes"):
        _accept(db, services, child, ArtefactKind.TEXT_STORY, story="hi", themes=("not-a-theme",))
    with pytest.raises(UploadRejected, match="choose a photo"):
        _accept(db, services, child, ArtefactKind.PHOTO)
    with pytest.raises(UploadRejected):
        _accept(db, services, child, ArtefactKind.TEXT_STORY, story="hi", upload_id="../../etc")
    assert db.scalar(select(func.count(Artefact.id))) == 0


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("a.jpg\x00.php", "a.jpg.php"),
    ("x" * 300 + ".jpg", "x" * 120), ("\u202egnp.exe", "gnp.exe"), ("", None),
])
def test_original_names_are_kept_only_as_harmless_text(name, expected):
    assert safe_original_name(name) == expected


def test_storage_failure_leaves_no_row(db, services, child, tmp_path, monkeypatch):
    from archive.storage.base import StorageUnavailable

    def broken_put(*args, **kwargs):
        raise StorageUnavailable("disk full")

    monkeypatch.setattr(services.storage, "put_many", broken_put)
    with pytest.raises(StorageUnavailable):
        _accept(db, services, child, ArtefactKind.PHOTO, _jpeg_with_gps(tmp_path / "p.jpg"))
    db.rollback()
    assert db.scalar(select(func.count(Artefact.id))) == 0


def test_database_failure_removes_the_stored_master(db, services, child, tmp_path, monkeypatch):
    def failing_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        _accept(db, services, child, ArtefactKind.PHOTO, _jpeg_with_gps(tmp_path / "p.jpg"))
    assert _stored_everything(services) == []

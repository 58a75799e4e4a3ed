"""The offline copy of an exhibit (a zip of plain files) and the fingerprint that dates it.

The zip holds the rendered pages, the stylesheets and scripts they use, the exact media copies the
public gets (``showing``) and captions made from the shareable transcript: nothing is fetched from
anywhere when it is opened. Each download is recorded (``ExhibitExport``) with a fingerprint of what
it held: per item, its id, its consent and a hash of its words and media as shown. When any of that
changes (a withdrawal, a narrower consent, a new redaction) the fingerprint no longer matches, and
the team is told which copies are out of date.
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import zipfile
from pathlib import Path
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import Derivative, Exhibit, ExhibitExport
from ..principal import Principal
from ..storage.base import Storage
from .showing import ShownItem, shown_items

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "video/mp4": ".mp4",
              "audio/mp4": ".m4a", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "video/webm": ".webm"}


def media_path(shown: ShownItem, derivative: Derivative) -> str:
    extension = EXTENSIONS.get(derivative.media_type) or mimetypes.guess_extension(derivative.media_type) or ""
    return f"media/{shown.artefact_id}-{derivative.kind}{extension}"


def captions_path(shown: ShownItem) -> str:
    return f"captions/{shown.artefact_id}.vtt"


def _words_hash(shown: ShownItem) -> str:
    words = [shown.title, shown.story, shown.image_text, [(s.start, s.end, s.text) for s in shown.segments]]
    return hashlib.sha256(json.dumps(words, ensure_ascii=False).encode()).hexdigest()


def item_facts(shown: ShownItem) -> dict:
    artefact = shown.artefact
    media = sorted(d.sha256 for d in (shown.picture, shown.recording) if d is not None)
    return {"id": str(artefact.id), "level": int(artefact.consent_level), "credit": artefact.consent_credit,
            "face": artefact.consent_face, "voice": artefact.consent_voice, "words": _words_hash(shown),
            "media": media}


def fingerprint_of(facts: list[dict]) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def current_facts(db: Session, exhibit: Exhibit) -> list[dict]:
    return [item_facts(s) for s in shown_items(db, exhibit)]


def build_zip(db: Session, storage: Storage, exhibit: Exhibit, pages: Mapping[str, str],
              assets: Mapping[str, Path]) -> tuple[bytes, list[dict]]:
    """The zip's bytes and the facts it was made from. `pages` are rendered HTML by path in the zip,
    `assets` the stylesheets and scripts by path in the zip and on disk."""
    from media.transcribe import to_webvtt

    shown = shown_items(db, exhibit)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, html in pages.items():
            archive.writestr(path, html)
        for path, source in assets.items():
            archive.write(source, path)
        for each in shown:
            for derivative in (each.picture, each.recording):
                if derivative is not None:
                    with storage.open(derivative.object_key) as stream:
                        # Media are already compressed: storing them saves time and no space is lost.
                        archive.writestr(zipfile.ZipInfo(media_path(each, derivative)), stream.read(),
                                         compress_type=zipfile.ZIP_STORED)
            if each.captions:
                archive.writestr(captions_path(each), to_webvtt(each))
    return buffer.getvalue(), [item_facts(s) for s in shown]


def record_export(db: Session, actor: Principal, exhibit: Exhibit, data: bytes, facts: list[dict]) -> ExhibitExport:
    export = ExhibitExport(exhibit_id=exhibit.id, created_by_id=actor.user_id, fingerprint=fingerprint_of(facts),
                           items=facts, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    db.add(export)
    db.flush()
    record_event(db, actor, "exhibit.exported", "exhibit", exhibit.id, export=export.id, items=len(facts))
    return export


def exports_of(db: Session, exhibit: Exhibit) -> list[ExhibitExport]:
    return list(db.scalars(select(ExhibitExport).where(ExhibitExport.exhibit_id == exhibit.id)
                           .order_by(ExhibitExport.created_at.desc(), ExhibitExport.id.desc())))


def out_of_date(db: Session, exhibit: Exhibit) -> dict[int, list[str]]:
    """Export id -> the artefact ids that differ (left, changed or new), for each copy that is out of date."""
    now = {f["id"]: f for f in current_facts(db, exhibit)}
    fingerprint = fingerprint_of(list(now.values()))
    stale: dict[int, list[str]] = {}
    for export in exports_of(db, exhibit):
        if export.fingerprint == fingerprint:
            continue
        then = {f["id"]: f for f in export.items}
        stale[export.id] = sorted(i for i in set(then) | set(now) if then.get(i) != now.get(i)) or ["order"]
    return stale

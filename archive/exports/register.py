"""The export register: every file that leaves the system is recorded with its provenance and carries it.

``record_export`` writes the register rows (who, when, format, query and filters, and per artefact
its id and the consent that allowed it then), then packs the files with a ``manifest.json`` into one
zip and keeps that zip's SHA-256. The file itself is not stored: the register keeps the provenance,
and making the export again goes through the consent gate again. The caller commits, then sends
the bytes, so a file is never handed over without its record.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..consent import Context
from ..models import (
    Artefact,
    ArtefactStatus,
    ConsentLevel,
    ExportItem,
    ExportRecord,
    Programme,
    User,
    utcnow,
)
from ..principal import Principal

MANIFEST_VERSION = "chorus-export-manifest/1"
ZIP = "application/zip"

FORMAT_LABELS = {
    "artefacts_csv": lazy_gettext("Items (CSV)"),
    "themes_csv": lazy_gettext("Themes (CSV)"),
    "transcripts_csv": lazy_gettext("Transcripts (CSV)"),
    "quotes_md": lazy_gettext("Quotes board (Markdown)"),
    "quotes_csv": lazy_gettext("Quotes board (CSV)"),
    "qdpx": lazy_gettext("REFI-QDA project (.qdpx)"),
}


@dataclass(frozen=True)
class ExportFile:
    name: str
    content: bytes


@dataclass
class Delivered:
    record: ExportRecord
    filename: str
    content: bytes
    media_type: str = ZIP


@dataclass(frozen=True)
class Holding:
    """An item an earlier export held whose consent has since changed, and what changed."""

    artefact_id: str
    change: str  # withdrawn, narrowed (below report) or uncredited (alias exported, credit since taken back)
    since: datetime | None = None


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _zip(files: Sequence[ExportFile], when: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            info = zipfile.ZipInfo(f.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, f.content)
    return buffer.getvalue()


def _snapshot(item: ExportItem) -> dict:
    return {"level": ConsentLevel(item.consent_level).label, "credit": item.consent_credit,
            "face": item.consent_face, "voice": item.consent_voice}


def manifest(record: ExportRecord, programme: Programme, maker: User | None, files: Sequence[ExportFile]) -> dict:
    return {
        "manifest": MANIFEST_VERSION,
        "export_id": record.id,
        "format": record.format,
        "programme": {"code": programme.code, "name": programme.name},
        "created_at": record.created_at.isoformat(),
        "created_by": {"id": record.created_by_id, "name": maker.name if maker else None},
        "purpose": record.purpose,
        "query": record.query_text,
        "filters": record.filters,
        "consent_context": Context.REPORT_EXPORT.value,
        "rule": "items with report consent, ready and reviewed; the alias only with credit consent; "
                "pictures only where face consent allows",
        "item_count": record.item_count,
        "items": [{"artefact_id": str(i.artefact_id), "consent": _snapshot(i)} for i in record.items],
        "files": [{"name": f.name, "sha256": _sha256(f.content), "bytes": len(f.content)} for f in files],
    }


def record_export(
    db: Session,
    principal: Principal,
    programme: Programme,
    fmt: str,
    artefacts: Sequence[Artefact],
    files: Sequence[ExportFile],
    *,
    query_text: str = "",
    filters: dict | None = None,
    purpose: str = "",
    extension: str = "zip",
) -> Delivered:
    """Register an export of `artefacts` and pack `files` with its manifest. The caller commits."""
    if fmt not in FORMAT_LABELS:
        raise ValueError(f"unknown export format {fmt!r}")
    record = ExportRecord(
        programme_id=programme.id, created_by_id=principal.user_id, format=fmt, purpose=purpose[:200],
        query_text=query_text or "", filters=dict(filters or {}), item_count=len(artefacts), created_at=utcnow(),
    )
    db.add(record)
    db.flush()
    for a in dict((a.id, a) for a in artefacts).values():
        record.items.append(ExportItem(
            artefact_id=a.id, consent_level=a.consent_level, consent_credit=a.consent_credit,
            consent_face=a.consent_face, consent_voice=a.consent_voice,
        ))
    db.flush()
    maker = db.get(User, principal.user_id) if principal.user_id is not None else None
    listing = json.dumps(manifest(record, programme, maker, files), indent=2, ensure_ascii=False).encode("utf-8")
    content = _zip([*files, ExportFile("manifest.json", listing)], record.created_at)
    record.filename = f"chorus-{programme.code}-{fmt.replace('_', '-')}-{record.id}.{extension}"
    record.sha256 = _sha256(content)
    record.size_bytes = len(content)
    record_event(db, principal, "export.created", "export", record.id, format=fmt, items=record.item_count)
    return Delivered(record, record.filename, content)


def exports_for(db: Session, programme_id: int) -> list[ExportRecord]:
    return list(db.scalars(
        select(ExportRecord).where(ExportRecord.programme_id == programme_id)
        .order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc())
    ))


def holdings(db: Session, programme_id: int, export_id: int | None = None) -> dict[int, list[Holding]]:
    """For each export of the programme, the items it held whose consent has since been withdrawn or narrowed.

    Read from the register's content-free rows joined to the artefact's tombstone, so the answer
    survives the artefact's erasure.
    """
    query = (
        select(ExportItem, Artefact.status, Artefact.withdrawn_at, Artefact.consent_level, Artefact.consent_credit)
        .join(ExportRecord, ExportItem.export_id == ExportRecord.id)
        .join(Artefact, ExportItem.artefact_id == Artefact.id)
        .where(ExportRecord.programme_id == programme_id)
        .where(
            (Artefact.status == ArtefactStatus.WITHDRAWN)
            | (Artefact.consent_level < ConsentLevel.REPORT)
            | (ExportItem.consent_credit & ~Artefact.consent_credit)
        )
        .order_by(ExportItem.export_id, ExportItem.id)
    )
    if export_id is not None:
        query = query.where(ExportItem.export_id == export_id)
    found: dict[int, list[Holding]] = {}
    for item, status, withdrawn_at, level, credit in db.execute(query):
        if status == ArtefactStatus.WITHDRAWN:
            change = Holding(str(item.artefact_id), "withdrawn", withdrawn_at)
        elif level < ConsentLevel.REPORT:
            change = Holding(str(item.artefact_id), "narrowed")
        else:
            change = Holding(str(item.artefact_id), "uncredited")
        found.setdefault(item.export_id, []).append(change)
    return found


def mark_recalled(db: Session, principal: Principal, record: ExportRecord, note: str) -> None:
    """Record that the team asked the export's recipients to delete or redact it."""
    record.recalled_at = utcnow()
    record.recalled_by_id = principal.user_id
    record.recall_note = note.strip()[:500]
    record_event(db, principal, "export.recalled", "export", record.id)


"""Fixity: does every stored object still match the checksum recorded when it was stored?

Erased items are expected to be absent, not counted as loss; objects still present under a
withdrawn item are reported as erasure still pending.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Artefact, ArtefactStatus, Derivative
from .storage.base import ObjectMissing


@dataclass
class FsckReport:
    checked: int = 0
    ok: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    pending_erasure: list[str] = field(default_factory=list)
    expected_absent: int = 0

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.untracked or self.pending_erasure)

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": len(self.ok), "clean": self.clean}


def _expected_objects(db: Session) -> tuple[dict[str, str], set[str]]:
    """Map of stored key -> recorded SHA-256, and the storage prefixes of withdrawn items."""
    expected: dict[str, str] = {}
    withdrawn: set[str] = set()
    for artefact in db.scalars(select(Artefact)):
        if artefact.status == ArtefactStatus.WITHDRAWN:
            withdrawn.add(artefact.storage_prefix)
        elif artefact.master_key and artefact.sha256:
            expected[artefact.master_key] = artefact.sha256
    for derivative in db.scalars(select(Derivative).join(Artefact).where(Artefact.status != ArtefactStatus.WITHDRAWN)):
        expected[derivative.object_key] = derivative.sha256
    return expected, withdrawn


def fsck(db: Session, storage) -> FsckReport:
    """Check every recorded object against storage and every stored object against the records."""
    report = FsckReport()
    expected, withdrawn = _expected_objects(db)
    report.expected_absent = len(withdrawn)
    for key, sha in sorted(expected.items()):
        report.checked += 1
        try:
            actual = storage.sha256(key)
        except ObjectMissing:
            report.missing.append(key)
            continue
        (report.ok if actual == sha else report.changed).append(key)
    for key in storage.iter_keys(""):
        if key in expected:
            continue
        if any(key.startswith(prefix) for prefix in withdrawn):
            report.pending_erasure.append(key)
        else:
            report.untracked.append(key)
    return report

"""Running an artefact's processing steps.

Each step is recorded (state, attempts, error) so a facilitator sees where an item is and why it
failed, a crashed worker resumes at the first unfinished step, and a step that already finished is
never redone. Steps do their slow work first and check the item is still live before they write
and again after they commit, so a withdrawal during processing never resurrects anything.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.erasure import ErasureContext, erase_artefact
from archive.models import Artefact, ArtefactKind, ArtefactStatus, Derivative, PipelineStep, StepState
from archive.principal import SYSTEM
from archive.services import Services

log = logging.getLogger(__name__)

STEPS_BY_KIND = {
    ArtefactKind.PHOTO: ("derivatives", "extract_text", "tag", "index"),
    ArtefactKind.DRAWING: ("derivatives", "extract_text", "tag", "index"),
    ArtefactKind.VOICE_NOTE: ("derivatives", "transcribe", "tag", "index"),
    ArtefactKind.VIDEO_DIARY: ("derivatives", "transcribe", "tag", "index"),
    ArtefactKind.TEXT_STORY: ("tag", "index"),
}


class Withdrawn(Exception):
    """The artefact was withdrawn while a step ran; the step's work is dropped."""


class StepSkipped(Exception):
    """The step has nothing to do for this artefact; the message says why."""


@dataclass
class StepContext:
    services: Services
    db: Session
    artefact: Artefact
    work: Path

    @property
    def storage(self):
        return self.services.storage

    @property
    def settings(self):
        return self.services.settings

    def ensure_live(self) -> None:
        """Raise Withdrawn if the item was withdrawn, reading outside this session's snapshot."""
        with self.services.engine.connect() as conn:
            status = conn.scalar(select(Artefact.status).where(Artefact.id == self.artefact.id))
        if status in (None, ArtefactStatus.WITHDRAWN):
            raise Withdrawn(str(self.artefact.id))

    def fetch(self, key: str, name: str) -> Path:
        """Copy a stored object into the step's work folder."""
        path = self.work / name
        with self.storage.open(key) as src, open(path, "wb") as dst:
            while chunk := src.read(1024 * 1024):
                dst.write(chunk)
        return path

    def master(self) -> Path:
        return self.fetch(self.artefact.master_key, "master")

    def derivative(self, kind: str) -> Derivative | None:
        return self.db.scalar(
            select(Derivative).where(Derivative.artefact_id == self.artefact.id, Derivative.kind == kind)
        )

    def store_derivative(self, kind: str, path: Path, media_type: str, width=None, height=None,
                         folder: str = "derivatives/") -> Derivative:
        """Store a derivative file and record it (replacing an earlier one of the same kind)."""
        self.ensure_live()
        stored = self.storage.put(f"{self.artefact.storage_prefix}{folder}{kind}", path)
        row = self.derivative(kind) or Derivative(artefact_id=self.artefact.id, kind=kind)
        row.object_key, row.sha256, row.size_bytes = stored.key, stored.sha256, stored.size
        row.media_type, row.width, row.height = media_type, width, height
        self.db.add(row)
        return row


def _steps(db: Session, artefact: Artefact) -> list[PipelineStep]:
    existing = {s.step: s for s in db.scalars(select(PipelineStep).where(PipelineStep.artefact_id == artefact.id))}
    for position, name in enumerate(STEPS_BY_KIND[artefact.kind]):
        if name not in existing:
            existing[name] = PipelineStep(artefact_id=artefact.id, step=name, position=position)
            db.add(existing[name])
    db.flush()
    return sorted(existing.values(), key=lambda s: s.position)


def failure_message(exc: Exception) -> str:
    """What a facilitator reads next to a failed item."""
    message = getattr(exc, "message", None) or str(exc).strip().splitlines()[0:1]
    text = message if isinstance(message, str) else (message[0] if message else "")
    return (text or type(exc).__name__)[:300]


def _run_step(services: Services, db: Session, artefact: Artefact, step: PipelineStep, func: Callable) -> None:
    step.state, step.attempts, step.error = StepState.RUNNING, step.attempts + 1, None
    db.commit()
    try:
        with tempfile.TemporaryDirectory(prefix=f"chorus-{step.step}-") as work:
            ctx = StepContext(services, db, artefact, Path(work))
            try:
                func(ctx)
                step.state = StepState.DONE
            except StepSkipped as skipped:
                step.state, step.error = StepState.SKIPPED, str(skipped)[:500]
            ctx.ensure_live()
            step.progress = 1.0
            db.commit()
    except Withdrawn:
        db.rollback()
        raise
    except Exception as exc:
        db.rollback()
        step.state, step.error = StepState.FAILED, failure_message(exc)
        artefact.status, artefact.failure_reason = ArtefactStatus.FAILED, f"{step.step}: {step.error}"
        db.commit()
        raise


def run_pipeline(services: Services, artefact_id: uuid.UUID, step_functions: dict[str, Callable] | None = None) -> ArtefactStatus | None:
    """Run every unfinished step of an artefact in order; returns its final status.

    Raises the failing step's exception after recording it (so the queue retries);
    returns None for an unknown or withdrawn artefact.
    """
    from .steps import STEP_FUNCTIONS

    functions = step_functions or STEP_FUNCTIONS
    with services.session() as db:
        artefact = db.get(Artefact, artefact_id)
        if artefact is None or artefact.status == ArtefactStatus.WITHDRAWN:
            return None
        artefact.status, artefact.failure_reason = ArtefactStatus.PROCESSING, None
        steps = _steps(db, artefact)
        db.commit()
        try:
            for step in steps:
                if step.state not in (StepState.DONE, StepState.SKIPPED):
                    _run_step(services, db, artefact, step, functions[step.step])
        except Withdrawn:
            return _cleanup_after_withdrawal(services, db, artefact_id)
        artefact.status = ArtefactStatus.READY
        db.commit()
        if _withdrawn_meanwhile(services, artefact_id):
            return _cleanup_after_withdrawal(services, db, artefact_id)
        return artefact.status


def _withdrawn_meanwhile(services: Services, artefact_id) -> bool:
    with services.engine.connect() as conn:
        return conn.scalar(select(Artefact.status).where(Artefact.id == artefact_id)) == ArtefactStatus.WITHDRAWN


def _cleanup_after_withdrawal(services: Services, db: Session, artefact_id) -> None:
    # The erasure job may already have run before this step wrote: erase again, it is idempotent.
    db.rollback()
    db.expire_all()
    erase_artefact(ErasureContext(db, services.storage, services.settings), artefact_id, SYSTEM)
    log.info("artefact %s was withdrawn during processing; its new copies were erased", artefact_id)
    return None


def retry_failed(db: Session, artefact: Artefact) -> None:
    """Make a failed artefact's failed steps run again (the caller commits and queues the job)."""
    for step in db.scalars(select(PipelineStep).where(PipelineStep.artefact_id == artefact.id)):
        if step.state == StepState.FAILED:
            step.state, step.error = StepState.PENDING, None
    artefact.status, artefact.failure_reason = ArtefactStatus.RECEIVED, None

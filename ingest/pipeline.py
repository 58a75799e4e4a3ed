"""Running an artefact's processing steps.

Each step is recorded (state, attempts, error) so a facilitator sees where an item is and why it
failed, a crashed worker resumes at the first unfinished step, and a step that already finished is
never redone. Steps do their slow work first and check the item is still live before they write
and again after they commit, so a withdrawal during processing never resurrects anything.

A step costs one commit (its start goes with the previous step's result), and only the commit
that brings the item to rest waits for the disk (see ``_Durability``); ``docs/media-safety.md``
says what that means after a power cut.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from archive.erasure import ErasureContext, erase_artefact
from archive.models import Artefact, ArtefactKind, ArtefactStatus, Derivative, PipelineStep, StepState
from archive.principal import SYSTEM
from archive.services import Services
from archive.storage import StoredObject

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


# What a picture's web image and thumbnail are recorded as, and what media.images calls them.
PICTURE_DERIVATIVES = (("web_image", "web"), ("thumbnail", "thumb"))


def derivative_key(artefact: Artefact, kind: str, folder: str = "derivatives/") -> str:
    return f"{artefact.storage_prefix}{folder}{kind}"


def recorded_derivative(artefact_id: uuid.UUID, kind: str, stored: StoredObject, media_type: str,
                        width=None, height=None, row: Derivative | None = None) -> Derivative:
    """The row for a stored derivative: `row` (an earlier one of the same kind) updated, or a new one."""
    row = row or Derivative(artefact_id=artefact_id, kind=kind)
    row.object_key, row.sha256, row.size_bytes = stored.key, stored.sha256, stored.size
    row.media_type, row.width, row.height = media_type, width, height
    return row


@dataclass(frozen=True)
class Made:
    """A derivative file made by a step, to be stored and recorded."""

    kind: str
    path: Path
    media_type: str
    width: int | None = None
    height: int | None = None


def picture_derivatives(made: dict) -> list[Made]:
    """The web image and thumbnail that media.images made, as derivatives to store."""
    return [Made(kind, made[name].path, made[name].media_type, made[name].width, made[name].height)
            for kind, name in PICTURE_DERIVATIVES]


@dataclass
class StepContext:
    services: Services
    db: Session
    artefact: Artefact
    # A scratch folder; when none is given, one is made on first use and removed by close().
    work_dir: Path | None = None
    _made_work: bool = field(default=False, init=False, repr=False)

    @property
    def storage(self):
        return self.services.storage

    @property
    def settings(self):
        return self.services.settings

    @property
    def work(self) -> Path:
        if self.work_dir is None:
            # Made on demand: the text steps never need one, and making and removing one costs ~3 ms.
            self.work_dir, self._made_work = Path(tempfile.mkdtemp(prefix="chorus-step-")), True
        return self.work_dir

    def close(self) -> None:
        if self._made_work:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir, self._made_work = None, False

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

    def store_derivatives(self, made: list[Made], folder: str = "derivatives/") -> list[Derivative]:
        """Store derivative files together and record them (replacing earlier ones of the same kinds)."""
        self.ensure_live()
        stored = self.storage.put_many([(derivative_key(self.artefact, m.kind, folder), m.path) for m in made])
        rows = [recorded_derivative(self.artefact.id, m.kind, obj, m.media_type, m.width, m.height,
                                    row=self.derivative(m.kind)) for m, obj in zip(made, stored)]
        self.db.add_all(rows)
        return rows

    def store_derivative(self, kind: str, path: Path, media_type: str, width=None, height=None,
                         folder: str = "derivatives/") -> Derivative:
        """Store one derivative file and record it (replacing an earlier one of the same kind)."""
        return self.store_derivatives([Made(kind, path, media_type, width, height)], folder)[0]


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


SQLITE_NORMAL, SQLITE_FULL = 1, 2


class _Durability:
    """How the commits of one pipeline run reach the disk.

    Until the item comes to rest, a commit reaches the operating system at once, so a killed
    worker loses nothing, but is not waited onto the disk: a power cut or system crash may undo
    the last few, and the steps they recorded then run again (each is idempotent, and rewrites
    the same storage keys). The commit that brings the item to rest (ready or failed) waits for
    the disk, and so writes out every earlier one too: the database's log is written in order.
    SQLite: ``synchronous=NORMAL`` in WAL mode, on a connection of the run's own, put back to
    FULL before the connection returns to the pool; PostgreSQL: ``synchronous_commit=off`` for
    each such transaction. Erasure after a withdrawal runs in a session of its own, synced.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.relaxed = True

    def on_begin(self, session: Session, transaction, connection) -> None:
        if self.dialect == "sqlite":
            # Allowed here: pysqlite has not begun the database transaction yet (it does so at the first write).
            connection.exec_driver_sql(f"PRAGMA synchronous={SQLITE_NORMAL if self.relaxed else SQLITE_FULL}")
        elif self.dialect == "postgresql" and self.relaxed:
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def settle(self, db: Session) -> None:
        """Commit what is pending as before; from now on every commit is synced."""
        db.commit()
        self.relaxed = False


@contextlib.contextmanager
def _run_session(services: Services) -> Iterator[tuple[Session, _Durability]]:
    with services.engine.connect() as conn:
        durability = _Durability(conn.dialect.name)
        try:
            with services.session_factory(bind=conn) as db:
                event.listen(db, "after_begin", durability.on_begin)
                yield db, durability
        finally:
            if durability.dialect == "sqlite":
                _put_back_synchronous(conn)


def _put_back_synchronous(conn) -> None:
    # archive.db opens every connection with FULL, which acknowledged uploads rely on.
    try:
        conn.exec_driver_sql(f"PRAGMA synchronous={SQLITE_FULL}")  # outside any transaction: not undone by a rollback
    except Exception:
        conn.invalidate()  # never back to the pool with commits that are not synced
        raise


def _run_step(services: Services, db: Session, durability: _Durability, artefact: Artefact, step: PipelineStep,
              func: Callable) -> None:
    """Run one step. Its start is committed together with what came before (the previous step's
    result, or the item turning to "processing"), and its result with what comes next, so each
    step costs one commit, and the state on disk always names the step under way."""
    step.state, step.attempts, step.error = StepState.RUNNING, step.attempts + 1, None
    db.commit()
    ctx = StepContext(services, db, artefact)
    try:
        try:
            func(ctx)
            step.state = StepState.DONE
        except StepSkipped as skipped:
            step.state, step.error = StepState.SKIPPED, str(skipped)[:500]
        ctx.ensure_live()
        step.progress = 1.0
    except Withdrawn:
        db.rollback()
        raise
    except Exception as exc:
        db.rollback()
        durability.relaxed = False
        step.state, step.error = StepState.FAILED, failure_message(exc)
        artefact.status, artefact.failure_reason = ArtefactStatus.FAILED, f"{step.step}: {step.error}"
        db.commit()
        raise
    finally:
        ctx.close()


def run_pipeline(services: Services, artefact_id: uuid.UUID, step_functions: dict[str, Callable] | None = None) -> ArtefactStatus | None:
    """Run every unfinished step of an artefact in order; returns its final status.

    Raises the failing step's exception after recording it (so the queue retries);
    returns None for an unknown or withdrawn artefact.
    """
    from .steps import STEP_FUNCTIONS

    functions = step_functions or STEP_FUNCTIONS
    with _run_session(services) as (db, durability):
        artefact = db.get(Artefact, artefact_id)
        if artefact is None or artefact.status == ArtefactStatus.WITHDRAWN:
            return None
        artefact.status, artefact.failure_reason = ArtefactStatus.PROCESSING, None
        try:
            for step in _steps(db, artefact):
                if step.state not in (StepState.DONE, StepState.SKIPPED):
                    _run_step(services, db, durability, artefact, step, functions[step.step])
        except Withdrawn:
            return _cleanup_after_withdrawal(services, db, artefact_id)
        durability.settle(db)
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
    # In a session of its own: erasure checkpoints the database through its engine, and is synced.
    db.rollback()
    with services.session() as erasing:
        erase_artefact(ErasureContext(erasing, services.storage, services.settings), artefact_id, SYSTEM)
    log.info("artefact %s was withdrawn during processing; its new copies were erased", artefact_id)
    return None


def retry_failed(db: Session, artefact: Artefact) -> None:
    """Make a failed artefact's failed steps run again (the caller commits and queues the job)."""
    for step in db.scalars(select(PipelineStep).where(PipelineStep.artefact_id == artefact.id)):
        if step.state == StepState.FAILED:
            step.state, step.error = StepState.PENDING, None
    artefact.status, artefact.failure_reason = ArtefactStatus.RECEIVED, None

"""Queueing again the items whose processing stopped without finishing.

huey drops the job of a worker that is killed mid-job, and a web process can die between
acknowledging an upload (committed) and queueing its job. Either way an item waits at
"received" or "processing" with nothing working on it. Its step states say where it stopped,
and running the pipeline again resumes there (``ingest.pipeline.run_pipeline`` skips finished
steps), so all that is missing is a job.

Two moments find such items: a worker starting (``chorus worker``, ``chorus serve`` with the
embedded worker), and every ten minutes in the consumer's scheduler. An item counts as stopped
when neither it nor any of its steps has changed for ``QUIET_FOR`` (longer than any step takes:
uploads are capped at 10 minutes of audio), so a job another worker is running now is left
alone; at the start of the embedded worker no other worker can be running one, so every
unfinished item counts. Items that already have a job waiting in the queue are skipped.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.models import Artefact, ArtefactStatus, PipelineStep, utcnow

log = logging.getLogger(__name__)

QUIET_FOR = timedelta(minutes=30)
UNFINISHED = (ArtefactStatus.RECEIVED, ArtefactStatus.PROCESSING)


def unfinished_artefacts(db: Session, quiet_for: timedelta = QUIET_FOR) -> list[uuid.UUID]:
    """Items not ready, failed or withdrawn, untouched (item and steps) for at least `quiet_for`."""
    cutoff = utcnow() - quiet_for
    last_step = (
        select(PipelineStep.artefact_id, func.max(PipelineStep.updated_at).label("at"))
        .group_by(PipelineStep.artefact_id)
        .subquery()
    )
    stmt = (
        select(Artefact.id)
        .outerjoin(last_step, last_step.c.artefact_id == Artefact.id)
        .where(Artefact.status.in_(UNFINISHED), Artefact.updated_at <= cutoff,
               or_(last_step.c.at.is_(None), last_step.c.at <= cutoff))
        .order_by(Artefact.created_at)
    )
    return list(db.scalars(stmt))


def _waiting_in_queue(huey) -> set[str]:
    from .jobs import process_artefact_job

    name = process_artefact_job.bind(huey).s("").name  # the name huey gives this job's tasks
    return {str(task.args[0]) for task in huey.pending() if task.name == name and task.args}


def requeue_unfinished(services, quiet_for: timedelta = QUIET_FOR) -> list[uuid.UUID]:
    """Queue a processing job for every stopped item without one; returns the items queued."""
    from .jobs import process_artefact_job

    with services.session() as db:
        stopped = unfinished_artefacts(db, quiet_for)
    if not stopped:
        return []
    waiting = _waiting_in_queue(services.huey)
    queued = [artefact_id for artefact_id in stopped if str(artefact_id) not in waiting]
    for artefact_id in queued:
        process_artefact_job(str(artefact_id))
    if queued:
        log.warning("queued %d item(s) whose processing had stopped: %s", len(queued),
                    ", ".join(str(i) for i in queued[:10]))
    return queued

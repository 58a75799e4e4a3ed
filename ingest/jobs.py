"""Queue jobs. Each job takes ids only (never content: the queue's storage is not erased) and
calls domain code; each is safe to run twice."""

from __future__ import annotations

import logging
import threading
import uuid

from archive.erasure import ErasureContext, erase_artefact
from archive.principal import SYSTEM
from archive.services import Services
from archive.settings import load_settings

from huey import crontab

from .queue import periodic_task, task

log = logging.getLogger(__name__)
_services: Services | None = None


def bind_services(services: Services) -> None:
    """Give jobs the process's services, and configure the queue they are sent to (the worker and
    `chorus serve` call this at start)."""
    global _services
    _services = services
    services.huey  # noqa: B018  building it binds every declared task to this queue


def warm_up() -> threading.Thread:
    """Load the theme model in the background, so the first upload after a start is not the slow one."""

    def load() -> None:
        from .tagger import suggest_tags

        try:
            suggest_tags("warming up", "determinants")
        except Exception:  # a broken model is reported by the first real job, with its own message
            log.exception("could not warm up the theme model")

    thread = threading.Thread(target=load, name="chorus-warm-up", daemon=True)
    thread.start()
    return thread


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(load_settings())
    return _services


class ErasureIncomplete(Exception):
    """Something is still left after an erasure pass; huey retries the job."""


@task(retries=8, retry_delay=30)
def erase_artefact_job(artefact_id: str) -> None:
    """Erase a withdrawn artefact everywhere; retried with a delay while storage or the index is down."""
    svc = services()
    with svc.session() as db:
        left = erase_artefact(ErasureContext(db, svc.storage, svc.settings), uuid.UUID(artefact_id), SYSTEM)
    if left:
        log.warning("erasure of %s incomplete: %s", artefact_id, left)
        raise ErasureIncomplete(f"{len(left)} kinds of copy left for {artefact_id}")


@task(retries=3, retry_delay=20)
def process_artefact_job(artefact_id: str) -> None:
    """Run an artefact's unfinished pipeline steps; a failure is recorded on the item, then retried."""
    from .pipeline import run_pipeline

    run_pipeline(services(), uuid.UUID(artefact_id))


@task(retries=3, retry_delay=10)
def refresh_index_job(artefact_ids: list[str], purge: bool = False) -> None:
    """Bring index entries in line with changed consent, review or words (consent is part of every query).

    ``purge`` when words were hidden or corrected: the old words must leave the index's files too.
    """
    from archive.models import Artefact
    from search.backends import backend_for

    svc = services()
    backend = backend_for(svc.settings)
    with svc.session() as db:
        for artefact_id in artefact_ids:
            artefact = db.get(Artefact, uuid.UUID(artefact_id))
            if artefact is not None:
                backend.index_artefact(db, artefact, purge=purge)


@task(retries=3, retry_delay=20)
def redact_media_job(artefact_id: str) -> None:
    """Remake an item's blurred and bleeped copies after its redactions change or it is reviewed."""
    from .redaction import build_redacted_media

    build_redacted_media(services(), uuid.UUID(artefact_id))


@periodic_task(crontab(minute="*/10"))
def requeue_stopped_job() -> None:
    """Give items whose worker died a new job (``ingest.resume``)."""
    from .resume import requeue_unfinished

    requeue_unfinished(services())


def queue_erasure(artefact_ids) -> None:
    for artefact_id in artefact_ids:
        erase_artefact_job(str(artefact_id))

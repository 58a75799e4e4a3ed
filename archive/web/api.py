"""The JSON API: health, and uploads from participants' devices (resumable through the upload id)."""

from __future__ import annotations


from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ingest.accept import Submission, UploadRejected
from ingest.jobs import process_artefact_job
from ingest.queue import QueueUnavailable, check_queue

from ..db import DatabaseUnavailable, check_database
from ..models import Artefact, ArtefactKind, PipelineStep
from ..storage.base import StorageError
from .access import participant_api, public
from .lookups import own_artefact
from .principals import db, services
from .share import accept_file

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/health")
@public
def health():
    """Whether the database, storage and queue answer; 503 when one does not."""
    svc = services()
    checks = {}
    for name, check in (
        ("database", lambda: check_database(svc.engine)),
        ("storage", lambda: svc.storage.check()),
        ("queue", lambda: check_queue(svc.huey)),
    ):
        try:
            check()
            checks[name] = "ok"
        except (DatabaseUnavailable, StorageError, QueueUnavailable) as exc:
            checks[name] = str(exc)
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503


def _upload_json(artefact: Artefact, created: bool):
    return {"id": str(artefact.id), "kind": artefact.kind.value, "status": artefact.status.value, "created": created}


@bp.post("/uploads")
@participant_api
def upload():
    """Accept one upload (multipart, CSRF token in the X-CSRFToken header); a retried upload id returns the first."""
    form = request.form
    try:
        kind = ArtefactKind(form.get("kind", ""))
    except ValueError:
        return jsonify(error="kind must be photo, drawing, voice_note, video_diary or text_story"), 400
    submission = Submission(
        kind=kind, title=form.get("title", ""), story=form.get("story", ""), place=form.get("place") or None,
        upload_id=form.get("upload_id") or None, original_name=getattr(request.files.get("media"), "filename", None),
        themes=tuple(form.getlist("themes")),
    )
    try:
        artefact, created = accept_file(submission, request.files.get("media"))
    except UploadRejected as exc:
        return jsonify(error=exc.message), exc.status
    if created:
        process_artefact_job(str(artefact.id))
    return jsonify(_upload_json(artefact, created)), 201 if created else 200


@bp.get("/uploads/<artefact_id>")
@participant_api
def upload_status(artefact_id: str):
    """Where one of the participant's own uploads is in processing."""
    artefact = own_artefact(artefact_id)
    steps = db().scalars(
        select(PipelineStep).where(PipelineStep.artefact_id == artefact.id).order_by(PipelineStep.position)
    )
    body = _upload_json(artefact, False) | {
        "failure_reason": artefact.failure_reason,
        "steps": [{"step": s.step, "state": s.state.value, "error": s.error} for s in steps],
    }
    return jsonify(body)

"""Participants share photovoice, drawings, voice notes, video diaries and written stories."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for

from ingest.accept import Submission, UploadRejected, accept_upload
from ingest.jobs import process_artefact_job

from ..models import ArtefactKind, Programme
from ..programmes import programme_framework
from .access import participant_required
from .forms import ShareForm
from .principals import db, services

bp = Blueprint("share", __name__, url_prefix="/share")

KIND_PAGES = {
    "photo": ArtefactKind.PHOTO,
    "drawing": ArtefactKind.DRAWING,
    "voice-note": ArtefactKind.VOICE_NOTE,
    "video-diary": ArtefactKind.VIDEO_DIARY,
    "story": ArtefactKind.TEXT_STORY,
}


def _theme_choices() -> list[tuple[str, str]]:
    framework = programme_framework(db().get(Programme, g.participant.programme_id))
    return [(t.code, t.child_label) for t in framework.themes]


@bp.get("/")
@participant_required
def choose():
    """Pick what to share."""
    return render_template("share/choose.html", pages=KIND_PAGES)


@bp.route("/<page>", methods=["GET", "POST"])
@participant_required
def share(page: str):
    """Share one item; a repeated submission (same hidden upload id) is recorded once."""
    kind = KIND_PAGES.get(page) or abort(404)
    form = ShareForm()
    form.themes.choices = _theme_choices()
    if not form.upload_id.data:
        form.upload_id.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        submission = Submission(
            kind=kind, title=form.title.data or "", story=form.story.data or "", place=form.place.data or None,
            upload_id=form.upload_id.data, original_name=getattr(form.media.data, "filename", None),
            themes=tuple(form.themes.data or ()),
        )
        try:
            artefact, created = accept_file(submission, form.media.data)
        except UploadRejected as exc:
            getattr(form, exc.field, form.media).errors = [exc.message]
            return render_template("share/share.html", form=form, kind=kind, page=page), exc.status
        if created:
            process_artefact_job(str(artefact.id))
        flash("Thank you! We've got it. It will be ready to look at in a minute or two.", "success")
        return redirect(url_for("participant.my_things"))
    return render_template("share/share.html", form=form, kind=kind, page=page), 400 if form.errors else 200


def accept_file(submission: Submission, file_storage):
    """Spool the uploaded file to disk (never into memory) and hand it to the upload acceptor."""
    with tempfile.TemporaryDirectory(prefix="chorus-web-") as work:
        path = None
        if file_storage is not None and getattr(file_storage, "filename", ""):
            path = Path(work) / "upload"
            file_storage.save(path)
        return accept_upload(db(), services().storage, g.principal, g.participant, submission, path)

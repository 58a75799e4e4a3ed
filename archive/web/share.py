"""Participants share photovoice, drawings, voice notes, video diaries and written stories.

Each kind has its own page and every page works as a plain form. With JavaScript the same form
is sent by static/share/upload.js, which asks for JSON (Accept: application/json) so it can show
progress, retry a dropped connection with the same upload id, and show mistakes without losing
the chosen file or recording.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext
from markupsafe import Markup

from ingest.accept import MAX_STORY, Submission, UploadRejected, accept_upload
from ingest.jobs import process_artefact_job

from ..models import Artefact, ArtefactKind, Programme
from ..programmes import programme_framework
from ..sharing import limits_for, offered_picks, share_with_voice_note, spool, spool_dir, theme_codes
from .access import participant_required
from .forms import THEME_PICK_LABELS, ShareForm
from .principals import db, services

bp = Blueprint("share", __name__, url_prefix="/share")

KIND_PAGES = {
    "photo": ArtefactKind.PHOTO,
    "drawing": ArtefactKind.DRAWING,
    "voice-note": ArtefactKind.VOICE_NOTE,
    "video-diary": ArtefactKind.VIDEO_DIARY,
    "story": ArtefactKind.TEXT_STORY,
}
ICONS = Path(__file__).resolve().parent / "static" / "icons"


@cache
def _icon_svg(name: str) -> Markup:
    # Drawn inline rather than linked, so the icons cost no extra requests on a slow phone and
    # take the text colour (including Windows high-contrast colours).
    return Markup((ICONS / f"{name}.svg").read_text(encoding="utf-8").strip())


@bp.context_processor
def _share_helpers():
    return {"icon": _icon_svg}


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


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
    framework = programme_framework(db().get(Programme, g.participant.programme_id))
    form = ShareForm()
    form.themes.choices = [(pick, THEME_PICK_LABELS[pick]) for pick in offered_picks(framework)]
    if not form.upload_id.data:
        form.upload_id.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        try:
            created = _share(kind, form, framework)
        except UploadRejected as exc:
            _field_for(kind, form, exc.field).errors = [exc.message]
            return _refused(form, kind, page, exc.status)
        for artefact in created:
            process_artefact_job(str(artefact.id))
        _flash_once(_what_happens_next(kind))
        done = url_for("participant.my_things")
        return jsonify(next=done) if _wants_json() else redirect(done)
    if form.errors:
        return _refused(form, kind, page, 400)
    return _page(form, kind, page), 200


def _share(kind: ArtefactKind, form: ShareForm, framework) -> list[Artefact]:
    """Store what the form carries; returns the items this request created (none for a repeat)."""
    submission = Submission(
        kind=kind, title=form.title.data or "", story=form.story.data or "", place=form.place.data or None,
        upload_id=form.upload_id.data, original_name=getattr(form.media.data, "filename", None),
        themes=theme_codes(framework, form.themes.data or ()),
    )
    with spool_dir() as work:
        media = spool(form.media.data, work) if kind != ArtefactKind.TEXT_STORY else None
        voice = spool(form.voice_note.data, work) if kind == ArtefactKind.PHOTO else None
        if voice is None:
            artefact, created = accept_upload(db(), services().storage, g.principal, g.participant, submission, media)
            return [artefact] if created else []
        photo, note, created = share_with_voice_note(
            db(), services().storage, g.principal, g.participant, submission, media, voice)
        return [photo, note] if created else []


def _field_for(kind: ArtefactKind, form: ShareForm, name: str):
    # The story page has no file field: what the acceptor says about "the upload" is about the story.
    if kind == ArtefactKind.TEXT_STORY and name == "media":
        name = "story"
    return getattr(form, name, form.media)


def _refused(form: ShareForm, kind: ArtefactKind, page: str, status: int):
    if _wants_json():
        errors = [{"id": getattr(form, name).id, "text": str(messages[0])}
                  for name, messages in form.errors.items() if messages and hasattr(form, name)]
        return jsonify(errors=errors), status
    return _page(form, kind, page), status


def _page(form: ShareForm, kind: ArtefactKind, page: str) -> str:
    request_limit = current_app.config["MAX_CONTENT_LENGTH"]
    return render_template(
        f"share/{kind.value}.html", form=form, kind=kind, page=page, max_story=MAX_STORY,
        limits=limits_for(kind, request_limit), voice_limits=limits_for(ArtefactKind.VOICE_NOTE, request_limit),
        age_band=g.participant.age_band.value,
    )


def _flash_once(message: str) -> None:
    # A retry whose first attempt did reach us (only the answer was lost) must not say it twice.
    if ("success", message) not in session.get("_flashes", []):
        flash(message, "success")


def _what_happens_next(kind: ArtefactKind) -> str:
    if kind in (ArtefactKind.VOICE_NOTE, ArtefactKind.VIDEO_DIARY):
        return gettext("Thank you! We've got it. We are writing down what you said: it will be ready in My things "
                       "in a few minutes. Only the people you chose can see it, and you can take it back at any time.")
    return gettext("Thank you! We've got it. It will be ready to look at in a minute or two. Only the people you "
                   "chose can see it, and you can take it back at any time.")


def accept_file(submission: Submission, file_storage):
    """Spool the uploaded file to disk (never into memory) and hand it to the upload acceptor."""
    with spool_dir() as work:
        return accept_upload(db(), services().storage, g.principal, g.participant, submission,
                             spool(file_storage, work))

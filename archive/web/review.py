"""The facilitator's review: the queue of what came in, and one item's workspace.

The workspace is where a transcript is corrected beside the player, themes are accepted or
rejected, personal details and faces are hidden, and the item is marked as reviewed, which is
what lets it reach report or exhibit use. Every change is a plain function in
``archive.curation``; these views parse the form, call it, commit, and queue the index refresh
and the redacted copies the change affects.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from ingest.jobs import redact_media_job, refresh_index_job

from ..consent import Context
from ..curation import redaction, review, themes, transcripts
from ..curation.guards import CurationError
from ..curation.shown_media import media_state
from ..curation.transcripts import EditConflict, SegmentEdit
from ..models import ListeningSession, PersonalDetailFlag, Polarity, Programme, Role, TagStatus, TranscriptStatus
from ..programmes import programme_framework
from .access import require_programme_role, staff_required
from .analyst import media_plan
from .forms import ConfirmForm
from .lookups import artefact_by_id
from .principals import db

bp = Blueprint("review", __name__, url_prefix="/review")
TEAM = (Role.ADMIN, Role.FACILITATOR)
WAITING = ("all", "ready_to_review", "transcript", "personal_details", "processing", "failed")
# How sure Whisper must be of a word for the editor not to mark it for a second listen.
UNSURE_BELOW = 0.6


def _programme(code: str) -> Programme:
    programme = db().scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        abort(404)
    require_programme_role(programme.id, *TEAM)
    return programme


def _item(artefact_id: str):
    artefact = artefact_by_id(artefact_id)
    require_programme_role(artefact.programme_id, *TEAM)
    if artefact.withdrawn_at is not None:
        abort(404)
    return artefact


@bp.get("/programmes/<code>")
@staff_required(*TEAM)
def queue(code: str):
    """Items not yet reviewed, oldest first, with what each is waiting for."""
    programme = _programme(code)
    waiting = request.args.get("waiting", "all")
    waiting = waiting if waiting in WAITING else "all"
    sessions = db().scalars(select(ListeningSession).where(ListeningSession.programme_id == programme.id)
                            .order_by(ListeningSession.id)).all()
    session_id = request.args.get("session", type=int)
    session_id = session_id if any(s.id == session_id for s in sessions) else None
    rows = review.review_queue(db(), programme.id, review.QueueFilter(session_id=session_id, waiting=waiting))
    steps = review.steps_by_artefact(db(), [artefact.id for artefact, _ in rows])
    return render_template("review/queue.html", programme=programme, rows=rows, steps=steps, sessions=sessions,
                           session_id=session_id, waiting=waiting, choices=WAITING, form=ConfirmForm())


def _workspace(artefact, status: int = 200, conflict: EditConflict | None = None, drafts: dict | None = None):
    programme = db().get(Programme, artefact.programme_id)
    flags = db().scalars(select(PersonalDetailFlag).where(PersonalDetailFlag.artefact_id == artefact.id,
                                                          PersonalDetailFlag.status == "flagged")).all()
    steps = review.steps_by_artefact(db(), [artefact.id])[artefact.id]
    blockers = review.blockers(artefact, len(flags))
    return render_template(
        "review/item.html", artefact=artefact, plan=media_plan(g.principal, Context.TEAM, artefact, media_state(db(), artefact)), programme=programme, framework=programme_framework(programme),
        flags=flags, steps=steps, blockers=blockers, redactions=redaction.redactions_of(db(), artefact.id),
        shared=redaction.shareable_text(db(), artefact), speakers=transcripts.SPEAKERS, redaction_labels=redaction.LABELS,
        conflicts={c.segment_id: c for c in conflict.conflicts} if conflict else {}, drafts=drafts or {},
        unsure_below=UNSURE_BELOW, form=ConfirmForm(), polarities=[p.value for p in Polarity],
        history=transcripts.history(db(), artefact),
    ), status


@bp.get("/items/<artefact_id>")
@staff_required(*TEAM)
def item(artefact_id: str):
    return _workspace(_item(artefact_id))


def _checked(artefact_id: str):
    artefact = _item(artefact_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return artefact


def _done(artefact, message: str, *, media: bool = False, purge: bool = False):
    """Commit a change, queue what follows from it, and go back to the workspace.

    ``purge`` when words left the item's shareable text: the index must drop them from its files.
    """
    db().commit()
    refresh_index_job([str(artefact.id)], purge=purge)
    if media:
        redact_media_job(str(artefact.id))
    flash(message, "success")
    return redirect(url_for("review.item", artefact_id=artefact.id))


def _refused(artefact, error: CurationError):
    db().rollback()
    flash(str(error), "error")
    return redirect(url_for("review.item", artefact_id=artefact.id))


def _number(name: str) -> float:
    try:
        return float(request.form.get(name, ""))
    except ValueError:
        raise CurationError(gettext("Enter numbers for the position and size.")) from None


@bp.get("/items/<artefact_id>/captions.vtt")
@staff_required(*TEAM)
def captions(artefact_id: str):
    """Captions for the team's player, made from the transcript as corrected so far."""
    from media.transcribe import to_webvtt

    artefact = _item(artefact_id)
    if artefact.transcript is None:
        abort(404)
    response = Response(to_webvtt(artefact.transcript), mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/items/<artefact_id>/transcript")
@staff_required(*TEAM)
def save_transcript(artefact_id: str):
    artefact = _checked(artefact_id)
    edits = [
        SegmentEdit(segment.id, request.form.get(f"text-{segment.id}", segment.text),
                    request.form.get(f"speaker-{segment.id}") or None)
        for segment in (artefact.transcript.segments if artefact.transcript else [])
        if f"text-{segment.id}" in request.form
    ]
    try:
        changed = transcripts.save_edits(db(), g.principal, artefact, request.form.get("version", type=int) or 0, edits)
    except EditConflict as conflict:
        db().rollback()
        flash(str(conflict), "error")
        return _workspace(artefact, 409, conflict, {e.segment_id: e.text for e in edits})
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Saved %(count)d corrected line(s).", count=len(changed)), purge=True)


@bp.post("/items/<artefact_id>/transcript/status")
@staff_required(*TEAM)
def transcript_status(artefact_id: str):
    artefact = _checked(artefact_id)
    try:
        status = TranscriptStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    try:
        transcripts.set_status(db(), g.principal, artefact, status)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("The transcript is now %(status)s.",
                                   status=artefact.transcript.status.value.replace("_", " ")))


@bp.post("/items/<artefact_id>/themes/<int:tag_id>")
@staff_required(*TEAM)
def review_theme(artefact_id: str, tag_id: int):
    artefact = _checked(artefact_id)
    decision = {"accept": TagStatus.ACCEPTED, "reject": TagStatus.REJECTED}.get(request.form.get("decision"))
    try:
        if decision is None:
            raise CurationError(gettext("Choose whether to accept or reject the theme."))
        themes.review_tag(db(), g.principal, artefact, tag_id, decision, request.form.get("polarity") or None)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Theme updated."))


@bp.post("/items/<artefact_id>/themes")
@staff_required(*TEAM)
def add_theme(artefact_id: str):
    artefact = _checked(artefact_id)
    try:
        themes.add_tag(db(), g.principal, artefact, request.form.get("theme", ""),
                       request.form.get("polarity", "neutral"), request.form.get("evidence", ""))
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Theme added."))


@bp.post("/items/<artefact_id>/details/<int:flag_id>")
@staff_required(*TEAM)
def decide_detail(artefact_id: str, flag_id: int):
    artefact = _checked(artefact_id)
    decision = request.form.get("decision", "")
    try:
        if decision == "redact":
            redaction.hide_flagged_detail(db(), g.principal, artefact, flag_id)
        else:
            review.decide_flag(db(), g.principal, artefact, flag_id, decision)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Decision saved."), purge=decision == "redact")


@bp.post("/items/<artefact_id>/redactions")
@staff_required(*TEAM)
def add_redaction(artefact_id: str):
    artefact = _checked(artefact_id)
    kind = request.form.get("kind")
    try:
        if kind == "words":
            count = redaction.hide_phrase(db(), g.principal, artefact, request.form.get("phrase", ""),
                                          request.form.get("label", "name"))
            message = gettext("Hidden in %(count)d place(s).", count=count)
        elif kind == "box":
            # The form takes percentages (what a person can type); the domain keeps fractions.
            x, y, w, h = (_number(name) / 100 for name in ("x", "y", "width", "height"))
            redaction.blur_box(db(), g.principal, artefact, x, y, w, h)
            message = gettext("The box will be blurred for everyone outside the team.")
        elif kind == "sound":
            redaction.bleep_sound(db(), g.principal, artefact, _number("start"), _number("end"))
            message = gettext("That stretch will be bleeped for everyone outside the team.")
        else:
            raise CurationError(gettext("Choose what to hide."))
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, message, media=kind in ("box", "sound"), purge=kind == "words")


@bp.post("/items/<artefact_id>/redactions/<int:redaction_id>/remove")
@staff_required(*TEAM)
def remove_redaction(artefact_id: str, redaction_id: int):
    artefact = _checked(artefact_id)
    try:
        redaction.remove(db(), g.principal, artefact, redaction_id)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Redaction removed."), media=True)


@bp.post("/items/<artefact_id>/reviewed")
@staff_required(*TEAM)
def mark_reviewed(artefact_id: str):
    artefact = _checked(artefact_id)
    try:
        review.mark_reviewed(db(), g.principal, artefact)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Reviewed. It can now be used as far as its owner's consent allows."), media=True)


@bp.post("/items/<artefact_id>/reopen")
@staff_required(*TEAM)
def reopen(artefact_id: str):
    artefact = _checked(artefact_id)
    try:
        review.reopen(db(), g.principal, artefact)
    except CurationError as error:
        return _refused(artefact, error)
    return _done(artefact, gettext("Back with the team only, until it is reviewed again."))

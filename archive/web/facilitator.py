"""Facilitator-assisted mode: one tablet, a facilitator signed in, running a session for the people in the room.

The facilitator sees who joined, adds someone who is present, records consent they say aloud
with a named witness, and shares on their behalf. Every page is for the programme's admins and
facilitators only; another programme's session or participant answers 404.
"""

from __future__ import annotations

import secrets
import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ingest.accept import Submission, UploadRejected, accept_upload
from ingest.jobs import process_artefact_job

from ..consent_journeys import ChildChoosesFirst, consent_status, latest_own_choice, latest_parent_consent, record_verbal_consent
from ..models import AgeBand, ArtefactKind, ListeningSession, Participant, Programme, Role, utcnow
from ..programmes import JoinError, join_session
from ..sharing import spool, spool_dir
from .access import require_programme_role, staff_required
from .forms import AGE_BAND_LABELS, AVATAR_LABELS, FacilitatorParticipantForm, ShareForm, VerbalConsentForm
from .participant import choice_from, explainer_for, qr_svg, reindex
from .principals import db, services
from .share import KIND_PAGES

bp = Blueprint("facilitator", __name__, url_prefix="/facilitate")


@bp.context_processor
def _labels():
    return {"band_labels": AGE_BAND_LABELS, "avatar_labels": AVATAR_LABELS}

TEAM_ROLES = (Role.ADMIN, Role.FACILITATOR)


def _session(session_id: int) -> ListeningSession:
    session = db().get(ListeningSession, session_id)
    if session is None:
        abort(404)
    require_programme_role(session.programme_id, *TEAM_ROLES)
    return session


def _participant(participant_id: str) -> Participant:
    try:
        participant = db().get(Participant, uuid.UUID(participant_id))
    except ValueError:
        abort(404)
    if participant is None:
        abort(404)
    require_programme_role(participant.programme_id, *TEAM_ROLES)
    return participant


def join_url(session: ListeningSession) -> str:
    return url_for("participant.join", code=session.join_code, _external=True)


@bp.get("/")
@staff_required(*TEAM_ROLES)
def index():
    """The sessions this facilitator can run, open ones first."""
    ids = sorted({pid for pid, role in g.principal.roles if role in TEAM_ROLES})
    sessions = db().scalars(
        select(ListeningSession).where(ListeningSession.programme_id.in_(ids))
        .order_by(ListeningSession.join_code_expires_at.desc())
    ).all()
    programmes = {p.id: p for p in db().scalars(select(Programme).where(Programme.id.in_(ids)))}
    return render_template("facilitator/index.html", sessions=sessions, programmes=programmes, now=utcnow())


def _session_page(session: ListeningSession, form: FacilitatorParticipantForm, status: int = 200):
    participants = db().scalars(
        select(Participant).where(Participant.session_id == session.id).order_by(Participant.created_at)
    ).all()
    rows = [(p, consent_status(db(), p), latest_own_choice(db(), p), latest_parent_consent(db(), p)) for p in participants]
    return render_template(
        "facilitator/session.html", session=session, rows=rows, form=form, open=session.join_code_expires_at > utcnow(),
    ), status


@bp.get("/sessions/<int:session_id>")
@staff_required(*TEAM_ROLES)
def session(session_id: int):
    """Who joined this session, their consent, and a way to add someone who is here."""
    return _session_page(_session(session_id), FacilitatorParticipantForm())


@bp.post("/sessions/<int:session_id>/participants")
@staff_required(*TEAM_ROLES)
def add_participant(session_id: int):
    """Add a participant who is present, then go straight on to their consent."""
    session = _session(session_id)
    form = FacilitatorParticipantForm()
    if form.validate_on_submit():
        try:
            participant = join_session(db(), session, form.alias.data, AgeBand(form.age_band.data), form.avatar.data)
        except JoinError as exc:
            db().rollback()
            getattr(form, exc.field, form.alias).errors.append(str(exc))
        else:
            db().commit()
            flash(_("%(alias)s has joined. Now record what they agree to.", alias=participant.alias), "success")
            return redirect(url_for("facilitator.consent", participant_id=participant.id))
    return _session_page(session, form, 400)


@bp.get("/sessions/<int:session_id>/print")
@staff_required(*TEAM_ROLES)
def print_code(session_id: int):
    """A page to print or show: the join code in large letters and a QR code that opens /join with it."""
    session = _session(session_id)
    url = join_url(session)
    return render_template(
        "facilitator/print.html", session=session, url=url,
        qr=qr_svg(url, _("QR code that opens the join page with the code %(code)s", code=session.join_code)),
    )


@bp.route("/participants/<participant_id>/consent", methods=["GET", "POST"])
@staff_required(*TEAM_ROLES)
def consent(participant_id: str):
    """Record consent said aloud, with a witness: the participant's own, or a parent's for a child."""
    participant = _participant(participant_id)
    status = consent_status(db(), participant)
    # Blank every time: what is recorded is what was said now, not what the form remembered.
    form = VerbalConsentForm()
    if form.validate_on_submit():
        by_parent = form.given_by.data == "parent"
        try:
            _record, changed = record_verbal_consent(
                db(), g.principal, participant, choice_from(form), form.witness.data, by_parent=by_parent
            )
        except ChildChoosesFirst:
            db().rollback()
            form.given_by.errors.append(_("Record the child's own answer first, then their parent or carer's."))
        else:
            db().commit()
            reindex(changed)
            if not by_parent and status.needs_parent and not status.parent_given:
                flash(_("Saved. %(alias)s is under 13: a parent or carer needs to agree too. Until then only the "
                        "team can see their things.", alias=participant.alias), "success")
            else:
                flash(_("Consent for %(alias)s is saved.", alias=participant.alias), "success")
            return redirect(url_for("facilitator.session", session_id=participant.session_id))
    return render_template(
        "facilitator/consent.html", participant=participant, form=form, status=status,
        explainer=explainer_for(participant.age_band), child=latest_own_choice(db(), participant),
    ), 400 if form.errors else 200


@bp.route("/participants/<participant_id>/share/<page>", methods=["GET", "POST"])
@staff_required(*TEAM_ROLES)
def share(participant_id: str, page: str):
    """Share something on behalf of a participant who is here; a repeated submission is recorded once."""
    participant = _participant(participant_id)
    kind = KIND_PAGES.get(page) or abort(404)
    form = ShareForm()
    if not form.upload_id.data:
        form.upload_id.data = secrets.token_urlsafe(16)
    if form.validate_on_submit():
        submission = Submission(
            kind=kind, title=form.title.data or "", story=form.story.data or "", place=form.place.data or None,
            upload_id=form.upload_id.data, original_name=getattr(form.media.data, "filename", None),
        )
        try:
            with spool_dir() as work:
                media = spool(form.media.data, work) if kind != ArtefactKind.TEXT_STORY else None
                artefact, created = accept_upload(db(), services().storage, g.principal, participant, submission, media)
        except UploadRejected as exc:
            field = "story" if kind == ArtefactKind.TEXT_STORY and exc.field == "media" else exc.field
            getattr(form, field, form.media).errors = [exc.message]
        else:
            if created:
                process_artefact_job(str(artefact.id))
            flash(_("Shared for %(alias)s. It will be ready in a few minutes.", alias=participant.alias), "success")
            return redirect(url_for("facilitator.session", session_id=participant.session_id))
    return render_template(
        "facilitator/share.html", participant=participant, form=form, kind=kind, page=page, pages=KIND_PAGES,
    ), 400 if form.errors else 200

"""Staff pages: programmes, sessions and the items that came in, always through the consent gate."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from sqlalchemy import select

from ingest.jobs import process_artefact_job, queue_erasure
from ingest.pipeline import retry_failed

from ..consent import Context, allows, visible_artefacts
from ..erasure import withdraw_artefact
from ..accounts import set_participant_pin
from ..models import (
    AgeBand,
    Artefact,
    ArtefactStatus,
    ListeningSession,
    Participant,
    PlaceType,
    Programme,
    Role,
)
from ..programmes import ProgrammeError, create_session
from .access import require_programme_role, staff_required
from .forms import ConfirmForm, SessionForm
from .lookups import artefact_by_id
from .principals import db

bp = Blueprint("staff", __name__, url_prefix="/staff")


def staff_context(programme_id: int) -> Context:
    """The widest consent context the current staff member has in a programme; 404 if none."""
    principal = g.principal
    if principal.has_role(programme_id, Role.ADMIN, Role.FACILITATOR):
        return Context.TEAM
    if principal.has_role(programme_id, Role.ANALYST):
        return Context.ANALYSIS
    abort(404)


def _programme(code: str) -> Programme:
    programme = db().scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        abort(404)
    staff_context(programme.id)
    return programme


@bp.get("/")
@staff_required()
def dashboard():
    """The programmes this member of staff works on."""
    ids = {pid for pid, _ in g.principal.roles}
    programmes = db().scalars(select(Programme).where(Programme.id.in_(ids)).order_by(Programme.name)).all()
    return render_template("staff/dashboard.html", programmes=programmes)


@bp.get("/programmes/<code>")
@staff_required()
def programme(code: str):
    """A programme's sessions and the items its team may see."""
    programme = _programme(code)
    context = staff_context(programme.id)
    sessions = db().scalars(
        select(ListeningSession).where(ListeningSession.programme_id == programme.id).order_by(ListeningSession.id)
    ).all()
    participants = (
        db().scalars(select(Participant).where(Participant.programme_id == programme.id).order_by(Participant.alias)).all()
        if context == Context.TEAM else []
    )
    items = db().scalars(
        select(Artefact)
        .where(Artefact.programme_id == programme.id, visible_artefacts(g.principal, context))
        .order_by(Artefact.created_at.desc())
        .limit(200)
    ).all()
    return render_template(
        "staff/programme.html", programme=programme, sessions=sessions, items=items,
        context=context, form=SessionForm(), participants=participants, confirm=ConfirmForm(),
    )


@bp.post("/programmes/<code>/sessions")
@staff_required(Role.ADMIN, Role.FACILITATOR)
def add_session(code: str):
    """Start a new session and show its join code."""
    programme = _programme(code)
    require_programme_role(programme.id, Role.ADMIN, Role.FACILITATOR)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            session = create_session(
                db(), g.principal, programme, form.name.data, PlaceType(form.place_type.data),
                form.area_code.data, AgeBand(form.age_band.data) if form.age_band.data else None,
            )
        except ProgrammeError as exc:
            db().rollback()
            form.area_code.errors.append(str(exc))
        else:
            db().commit()
            flash(gettext("Session created. Its join code is %(code)s.", code=session.join_code))
            return redirect(url_for("staff.programme", code=code))
    sessions = db().scalars(select(ListeningSession).where(ListeningSession.programme_id == programme.id)).all()
    return render_template(
        "staff/programme.html", programme=programme, sessions=sessions, items=[],
        context=staff_context(programme.id), form=form, participants=[], confirm=ConfirmForm(),
    ), 400


@bp.post("/participants/<participant_id>/clear-pin")
@staff_required(Role.ADMIN, Role.FACILITATOR)
def clear_pin(participant_id: str):
    """Clear a participant's forgotten PIN, so they can choose a new one with the facilitator beside them."""
    try:
        participant = db().get(Participant, uuid.UUID(participant_id))
    except ValueError:
        abort(404)
    if participant is None:
        abort(404)
    require_programme_role(participant.programme_id, Role.ADMIN, Role.FACILITATOR)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    set_participant_pin(db(), g.principal, participant, None)
    db().commit()
    flash(gettext("%(alias)s's PIN is cleared. They can join again with the session code and choose a new one.",
                  alias=participant.alias))
    return redirect(url_for("staff.programme", code=participant.programme.code))


def _artefact(artefact_id: str) -> tuple[Artefact, Context]:
    artefact = artefact_by_id(artefact_id)
    context = staff_context(artefact.programme_id)
    if not allows(g.principal, context, artefact):
        abort(404)
    return artefact, context


@bp.get("/artefacts/<artefact_id>")
@staff_required()
def artefact(artefact_id: str):
    """An item's page for this member of staff: the review workspace for the team, the analysis page otherwise."""
    artefact, context = _artefact(artefact_id)
    target = "review.item" if context == Context.TEAM else "analyst.item"
    return redirect(url_for(target, artefact_id=artefact.id))


def _team_action_on(artefact_id: str) -> Artefact:
    """The artefact a confirmed team action (retry, withdraw) applies to; 404 or 400 otherwise."""
    artefact, _ = _artefact(artefact_id)
    require_programme_role(artefact.programme_id, Role.ADMIN, Role.FACILITATOR)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return artefact


@bp.post("/artefacts/<artefact_id>/retry")
@staff_required(Role.ADMIN, Role.FACILITATOR)
def retry(artefact_id: str):
    """Run a failed item's failed steps again."""
    artefact = _team_action_on(artefact_id)
    if artefact.status != ArtefactStatus.FAILED:
        flash(gettext("Only items that could not be processed can be retried."))
        return redirect(url_for("review.item", artefact_id=artefact.id))
    retry_failed(db(), artefact)
    db().commit()
    process_artefact_job(str(artefact.id))
    flash(gettext("Trying again. The page shows how it is going."))
    return redirect(url_for("review.item", artefact_id=artefact.id))


@bp.post("/artefacts/<artefact_id>/withdraw")
@staff_required(Role.ADMIN, Role.FACILITATOR)
def withdraw(artefact_id: str):
    """Withdraw an item at a participant's spoken request."""
    artefact = _team_action_on(artefact_id)
    programme_code = artefact.session.programme.code
    withdraw_artefact(db(), g.principal, artefact, reason="withdrawn by staff on request")
    db().commit()
    queue_erasure([artefact.id])
    flash(gettext("The item was withdrawn. Its files and copies are being erased."))
    return redirect(url_for("staff.programme", code=programme_code))

"""Participants: join a session, give consent, see and withdraw their own things."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from ingest.jobs import queue_erasure, refresh_index_job

from ..consent import Context, visible_artefacts
from ..consent_records import ConsentChoice, record_consent
from ..erasure import withdraw_artefact, withdraw_participant
from ..models import AgeBand, Artefact, ConsentLevel
from ..accounts import set_participant_pin
from ..programmes import JoinError, find_open_session, join_session, rejoin_session
from .access import participant_required, public
from .extensions import limiter
from .forms import ComeBackForm, ConfirmForm, ConsentForm, JoinForm, PinForm
from .lookups import own_artefact
from .principals import db, sign_in_participant, sign_out_participant

bp = Blueprint("participant", __name__)


@bp.route("/join", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def join():
    """Join a session with its code, a nickname, a picture and an age group."""
    form = JoinForm()
    if form.validate_on_submit():
        try:
            session = find_open_session(db(), form.code.data)
            participant = join_session(db(), session, form.alias.data, AgeBand(form.age_band.data), form.avatar.data)
        except JoinError as exc:
            db().rollback()
            getattr(form, exc.field, form.alias).errors.append(str(exc))
        else:
            db().commit()
            sign_in_participant(participant)
            return redirect(url_for("participant.consent"))
    status = 400 if form.errors else 200
    return render_template("participant/join.html", form=form), status


@bp.route("/come-back", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def come_back():
    """Come back to a session on another day with the nickname and PIN chosen before."""
    form = ComeBackForm()
    if form.validate_on_submit():
        try:
            participant = rejoin_session(db(), form.code.data, form.alias.data, form.pin.data)
        except JoinError as exc:
            getattr(form, exc.field, form.pin).errors.append(str(exc))
        else:
            sign_in_participant(participant)
            return redirect(url_for("participant.my_things"))
    return render_template("participant/come_back.html", form=form), 400 if form.errors else 200


@bp.route("/my-pin", methods=["GET", "POST"])
@participant_required
def my_pin():
    """Choose a PIN, so this participant can come back to their things later."""
    form = PinForm()
    if form.validate_on_submit():
        set_participant_pin(db(), g.principal, g.participant, form.pin.data)
        db().commit()
        flash("Your PIN is saved. Remember your nickname and PIN to come back.", "success")
        return redirect(url_for("participant.my_things"))
    return render_template("participant/my_pin.html", form=form), 400 if form.errors else 200


@bp.route("/consent", methods=["GET", "POST"])
@participant_required
def consent():
    """Choose what may happen to everything this participant shares."""
    form = ConsentForm()
    if form.validate_on_submit():
        _, changed = record_consent(db(), g.principal, g.participant, ConsentChoice(
            level=ConsentLevel.parse(form.level.data),
            credit=form.credit.data, face=form.face.data, voice=form.voice.data,
        ))
        db().commit()
        if changed:
            refresh_index_job([str(a.id) for a in changed])
        flash("Thank you. Your choices are saved. You can change them at any time.")
        return redirect(url_for("participant.my_things"))
    return render_template("participant/consent.html", form=form), 400 if form.errors else 200


def _own_items():
    return db().scalars(
        select(Artefact).where(visible_artefacts(g.principal, Context.OWNER)).order_by(Artefact.created_at.desc())
    ).all()


@bp.get("/my-things")
@participant_required
def my_things():
    """Everything this participant shared, with its state and consent."""
    return render_template("participant/my_things.html", items=_own_items(), form=ConfirmForm())


@bp.route("/my-things/<artefact_id>/withdraw", methods=["GET", "POST"])
@participant_required
def withdraw_one(artefact_id: str):
    """Confirm, then withdraw one item and everything made from it."""
    artefact = own_artefact(artefact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = artefact.title or "your item"
        withdraw_artefact(db(), g.principal, artefact)
        db().commit()
        queue_erasure([artefact.id])
        return render_template("participant/withdrawn.html", titles=[title])
    return render_template("participant/withdraw_confirm.html", items=[artefact], form=form, everything=False)


@bp.route("/my-things/withdraw-everything", methods=["GET", "POST"])
@participant_required
def withdraw_everything():
    """Confirm, then withdraw everything this participant shared, in one step."""
    items = _own_items()
    form = ConfirmForm()
    if form.validate_on_submit():
        titles = [a.title or "an item" for a in items]
        ids = withdraw_participant(db(), g.principal, g.participant)
        db().commit()
        queue_erasure(ids)
        return render_template("participant/withdrawn.html", titles=titles)
    return render_template("participant/withdraw_confirm.html", items=items, form=form, everything=True)


@bp.post("/sign-out")
@public
def sign_out():
    """Finish and sign out, so the next person on a shared tablet starts fresh."""
    sign_out_participant()
    flash("You have signed out. Thank you for taking part.")
    return redirect(url_for("public.home"))

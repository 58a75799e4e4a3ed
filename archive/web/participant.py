"""Participants: join a session, give consent, see and withdraw their own things."""

from __future__ import annotations

import segno
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from ingest.jobs import queue_erasure, refresh_index_job

from ..consent import Context, visible_artefacts
from ..consent_journeys import (
    PARENT_LINK_LIFETIME,
    ParentLinkError,
    consent_status,
    create_parent_link,
    give_own_consent,
    give_parent_consent,
    give_parent_consent_by_link,
    latest_own_choice,
    latest_parent_consent,
    needs_parent,
    open_parent_link,
    shared_summary,
)
from ..consent_records import ConsentChoice, ConsentError
from ..erasure import withdraw_artefact, withdraw_participant
from ..models import AgeBand, Artefact, ArtefactKind, ConsentLevel
from ..accounts import set_participant_pin
from ..programmes import JoinError, find_open_session, join_session, normalise_join_code, rejoin_session
from .access import participant_required, public
from .extensions import limiter
from .forms import ComeBackForm, ConfirmForm, ConsentForm, JoinForm, ParentConsentForm, PinForm
from .lookups import own_artefact
from .principals import db, sign_in_participant, sign_out_participant

bp = Blueprint("participant", __name__)

# Which plain-language explainer each age band reads: 16-19 and the 20-25 SEND group share the
# easy-read version for young adults.
EXPLAINERS = {
    AgeBand.FAMILY_0_5: "family",
    AgeBand.AGE_5_11: "child",
    AgeBand.AGE_11_15: "young",
    AgeBand.AGE_16_19: "adult",
    AgeBand.AGE_20_25_SEND: "adult",
}
PARENT_LINK_KEY = "parent_link"


@bp.before_app_request
def _explain_an_expired_session():
    # Runs after the principal is loaded (blueprint hooks follow the app's own), which is where an
    # idle participant's session was found too old and cleared; say so on the join page they land on.
    if g.get("session_expired"):
        flash(_("You were signed out because nobody used this page for a while. Join again to carry on."))


def explainer_for(age_band: AgeBand) -> str:
    return f"participant/explainers/{EXPLAINERS[age_band]}.html"


def reindex(changed) -> None:
    """Re-index the items whose consent changed, so search forgets or finds them straight away."""
    if changed:
        refresh_index_job([str(a.id) for a in changed])


def choice_from(form: ConsentForm, **extra) -> ConsentChoice:
    return ConsentChoice(
        level=ConsentLevel.parse(form.level.data),
        credit=form.credit.data, face=form.face.data, voice=form.voice.data, **extra,
    )


@bp.route("/join", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
def join():
    """Join a session with its code, a nickname, a picture and an age group."""
    form = JoinForm()
    if not form.is_submitted() and request.args.get("code"):
        # The facilitator's printed QR code opens /join?code=..., so a child only picks a nickname.
        form.code.data = normalise_join_code(request.args["code"])[:16]
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
        flash(_("Your PIN is saved. Remember your nickname and PIN to come back."), "success")
        return redirect(url_for("participant.my_things"))
    return render_template("participant/my_pin.html", form=form), 400 if form.errors else 200


@bp.route("/consent", methods=["GET", "POST"])
@participant_required
def consent():
    """Choose what may happen to everything this participant shares."""
    participant = g.participant
    # Nothing is pre-ticked, not even the last answer: consent is an active choice each time. The
    # current choices are shown beside the form instead.
    form = ConsentForm()
    if form.validate_on_submit():
        # Post, then redirect: the back button returns to this form, never to a re-sent POST, and an
        # identical second submission records nothing new.
        _record, changed = give_own_consent(db(), g.principal, participant, choice_from(form))
        db().commit()
        reindex(changed)
        flash(_("Thank you. Your choices are saved. You can change them at any time."))
        if needs_parent(participant) and latest_parent_consent(db(), participant) is None:
            return redirect(url_for("participant.grown_up"))
        return redirect(url_for("participant.my_things"))
    return render_template(
        "participant/consent.html", form=form, explainer=explainer_for(participant.age_band),
        under_13=needs_parent(participant), current=latest_own_choice(db(), participant),
    ), 400 if form.errors else 200


@bp.get("/consent/grown-up")
@participant_required
def grown_up():
    """For a child under 13: ask a parent or carer, here and now or through a link."""
    participant = g.participant
    if not needs_parent(participant):
        return redirect(url_for("participant.my_things"))
    if latest_own_choice(db(), participant) is None:
        return redirect(url_for("participant.consent"))
    return render_template(
        "participant/grown_up.html", parent_given=latest_parent_consent(db(), participant) is not None,
        needs_parent=needs_parent(participant), form=ConfirmForm(),
    )


@bp.route("/consent/grown-up/here", methods=["GET", "POST"])
@participant_required
def grown_up_here():
    """A parent or carer gives consent on the child's device, perhaps with the facilitator beside them."""
    participant = g.participant
    if not needs_parent(participant):
        return redirect(url_for("participant.my_things"))
    child = latest_own_choice(db(), participant)
    if child is None:
        return redirect(url_for("participant.consent"))
    form = ParentConsentForm()
    if form.validate_on_submit():
        _record, changed = give_parent_consent(db(), g.principal, participant, choice_from(form, witness=form.witness.data))
        db().commit()
        reindex(changed)
        flash(_("Thank you. Your answer as a parent or carer is saved."), "success")
        return redirect(url_for("participant.my_things"))
    return render_template(
        "participant/grown_up_here.html", form=form, child=child, alias=participant.alias,
        parent=latest_parent_consent(db(), participant),
    ), 400 if form.errors else 200


@bp.route("/consent/grown-up/link", methods=["GET", "POST"])
@participant_required
def grown_up_link():
    """Make a single-use link and QR code for a parent or carer (POST), then show it (GET)."""
    participant = g.participant
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            token = create_parent_link(db(), g.principal, participant)
        except ConsentError:
            db().rollback()
            return redirect(url_for("participant.consent"))
        db().commit()
        session[PARENT_LINK_KEY] = token
        return redirect(url_for("participant.grown_up_link"))
    token = session.get(PARENT_LINK_KEY)
    if not token:
        return redirect(url_for("participant.grown_up"))
    try:
        link = open_parent_link(db(), token)
    except ParentLinkError:
        session.pop(PARENT_LINK_KEY, None)
        return redirect(url_for("participant.grown_up"))
    url = url_for("participant.parent_link", token=token, _external=True)
    return render_template(
        "participant/grown_up_link.html", url=url, qr=qr_svg(url, _("QR code that opens the link for your parent or carer")),
        expires_at=link.expires_at, days=PARENT_LINK_LIFETIME.days,
    )


def link_problem(exc: ParentLinkError) -> str:
    return {
        "unknown": _("This link doesn't work. Please ask for a new one."),
        "used": _("This link has already been used, so it can't be used again. Thank you for answering."),
        "expired": _("This link has expired. Please ask for a new one."),
    }[exc.reason]


def kind_phrases(summary: dict[ArtefactKind, int]) -> list[str]:
    """"2 photos", "1 voice note": what a parent is told about what their child shared."""
    words = {
        ArtefactKind.PHOTO: lambda n: ngettext("%(num)d photo", "%(num)d photos", n),
        ArtefactKind.DRAWING: lambda n: ngettext("%(num)d drawing", "%(num)d drawings", n),
        ArtefactKind.VOICE_NOTE: lambda n: ngettext("%(num)d voice note", "%(num)d voice notes", n),
        ArtefactKind.VIDEO_DIARY: lambda n: ngettext("%(num)d video diary", "%(num)d video diaries", n),
        ArtefactKind.TEXT_STORY: lambda n: ngettext("%(num)d written story", "%(num)d written stories", n),
    }
    return [words[kind](count) for kind, count in summary.items()]


def qr_svg(url: str, title: str) -> str:
    """An inline SVG QR code (no script, no request), labelled for screen readers."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, title=title, svgclass="chorus-qr__code")


@bp.route("/parent/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute")
def parent_link(token: str):
    """A parent or carer's page, opened from the link or QR code: no sign-in, used once."""
    try:
        link = open_parent_link(db(), token)
    except ParentLinkError as exc:
        return render_template("participant/parent_link_problem.html", message=link_problem(exc)), 404
    participant = link.participant
    child = latest_own_choice(db(), participant)
    form = ParentConsentForm()
    if form.validate_on_submit():
        try:
            _record, changed = give_parent_consent_by_link(db(), token, choice_from(form))
        except ParentLinkError as exc:
            db().rollback()
            return render_template("participant/parent_link_problem.html", message=link_problem(exc)), 404
        db().commit()
        reindex(changed)
        return redirect(url_for("participant.parent_thanks"))
    return render_template(
        "participant/parent_link.html", form=form, child=child, alias=participant.alias,
        summary=kind_phrases(shared_summary(db(), participant)), expires_at=link.expires_at,
    ), 400 if form.errors else 200


@bp.get("/parent/thank-you")
@public
def parent_thanks():
    """Where a parent lands after answering, so reloading or going back never sends it twice."""
    return render_template("participant/parent_thanks.html")


def _own_items():
    return db().scalars(
        select(Artefact).where(visible_artefacts(g.principal, Context.OWNER)).order_by(Artefact.created_at.desc())
    ).all()


@bp.get("/my-things")
@participant_required
def my_things():
    """Everything this participant shared, with its state and consent."""
    return render_template(
        "participant/my_things.html", items=_own_items(), form=ConfirmForm(), status=consent_status(db(), g.participant)
    )


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
    flash(_("You have signed out. Thank you for taking part."))
    return redirect(url_for("public.home"))

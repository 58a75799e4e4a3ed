"""Who is making this request, and the request's database session."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, g, session
from flask_login import UserMixin, current_user

from ..models import Participant, User
from ..principal import ANONYMOUS, participant_principal, staff_principal
from .extensions import login_manager

PARTICIPANT_KEY = "participant_id"
LAST_SEEN_KEY = "participant_seen"


def services():
    return current_app.extensions["chorus"]


def db():
    """The request's database session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = services().session()
    return g.db


def sign_in_participant(participant: Participant) -> None:
    session.clear()  # a shared tablet must not carry one child's session into the next
    session[PARTICIPANT_KEY] = str(participant.id)
    session[LAST_SEEN_KEY] = datetime.now(timezone.utc).timestamp()
    session.permanent = False


def sign_out_participant() -> None:
    session.clear()


def _current_participant() -> Participant | None:
    raw = session.get(PARTICIPANT_KEY)
    if not raw:
        return None
    limit = timedelta(minutes=services().settings.participant_session_minutes)
    seen = datetime.fromtimestamp(session.get(LAST_SEEN_KEY, 0), timezone.utc)
    if datetime.now(timezone.utc) - seen > limit:
        session.clear()
        g.session_expired = True
        return None
    try:
        participant = db().get(Participant, uuid.UUID(raw))
    except ValueError:
        participant = None
    if participant is None:
        session.clear()
        return None
    session[LAST_SEEN_KEY] = datetime.now(timezone.utc).timestamp()
    return participant


class SignedInStaff(UserMixin):
    """Flask-Login's view of a staff account; the domain's User stays free of Flask."""

    def __init__(self, user: User):
        self.user = user
        self.id = user.id


@login_manager.user_loader
def _load_user(user_id: str) -> SignedInStaff | None:
    if not user_id.isdigit():
        return None
    user = db().get(User, int(user_id))
    return SignedInStaff(user) if user is not None and user.active else None


def init_app(app: Flask) -> None:
    @app.before_request
    def _load_principal():
        g.principal = ANONYMOUS
        g.participant = None
        if current_user.is_authenticated:
            g.principal = staff_principal(current_user.user)
            return
        participant = _current_participant()
        if participant is not None:
            g.participant = participant
            g.principal = participant_principal(participant)

    @app.teardown_appcontext
    def _close_db(_exc):
        session_ = g.pop("db", None)
        if session_ is not None:
            session_.close()

"""Programmes, their sessions, and participants joining a session by its code."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .audit import record_event
from .frameworks import Framework, available_frameworks, load_framework, with_custom_themes
from .models import AgeBand, ListeningSession, Participant, PlaceType, Programme, utcnow
from .principal import Principal

# No 0/O, 1/I/L: codes are read aloud and typed by children.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6
ALIAS_PATTERN = re.compile(r"^[\w][\w '\-]{0,38}[\w]$|^\w$")
AVATARS = ("fox", "owl", "star", "rocket", "cat", "tree", "sun", "fish")


class ProgrammeError(ValueError):
    """A programme or session request that cannot be carried out; the message says why."""


class JoinError(ValueError):
    """A participant could not join; the message is written for the child or parent reading it,
    and ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str = "alias"):
        super().__init__(message)
        self.field = field


def create_programme(db: Session, actor: Principal, code: str, name: str, framework: str = "determinants") -> Programme:
    """Create a programme. Raises ProgrammeError for a bad or taken code or an unknown framework."""
    code = code.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", code):
        raise ProgrammeError("A programme code is 2 to 63 lower-case letters, digits or dashes.")
    if framework not in available_frameworks():
        raise ProgrammeError(f"Unknown framework {framework!r}; choose one of {', '.join(available_frameworks())}.")
    if db.scalar(select(Programme.id).where(Programme.code == code)) is not None:
        raise ProgrammeError(f"There is already a programme with the code {code!r}.")
    programme = Programme(code=code, name=name.strip()[:200] or code, framework=framework)
    db.add(programme)
    db.flush()
    record_event(db, actor, "programme.created", "programme", programme.id)
    return programme


def _new_join_code(db: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if db.scalar(select(ListeningSession.id).where(ListeningSession.join_code == code)) is None:
            return code


def create_session(
    db: Session,
    actor: Principal,
    programme: Programme,
    name: str,
    place_type: PlaceType,
    area_code: str,
    age_band: AgeBand | None = None,
    valid_for: timedelta = timedelta(hours=72),
) -> ListeningSession:
    """Create a session with a fresh join code that expires after `valid_for`."""
    area_code = area_code.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,31}", area_code):
        raise ProgrammeError("An area code is up to 32 letters, digits, dashes or underscores.")
    session = ListeningSession(
        programme_id=programme.id,
        name=name.strip()[:200] or "Session",
        place_type=place_type,
        area_code=area_code,
        age_band=age_band,
        join_code=_new_join_code(db),
        join_code_expires_at=utcnow() + valid_for,
    )
    db.add(session)
    db.flush()
    record_event(db, actor, "session.created", "session", session.id)
    return session


def normalise_join_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def find_open_session(db: Session, code: str, now: datetime | None = None) -> ListeningSession:
    """The session a join code opens. Raises JoinError for an unknown or expired code."""
    session = db.scalar(select(ListeningSession).where(ListeningSession.join_code == normalise_join_code(code)))
    if session is None:
        raise JoinError(_("We couldn't find that code. Check it with the person running your session."), "code")
    if session.join_code_expires_at <= (now or utcnow()):
        raise JoinError(_("That code has expired. Ask the person running your session for a new one."), "code")
    return session


def clean_alias(alias: str) -> str:
    alias = " ".join((alias or "").split())
    if not ALIAS_PATTERN.fullmatch(alias):
        raise JoinError(_("Choose a nickname of up to 40 letters or numbers. Please don't use your real name."))
    return alias


def join_session(
    db: Session,
    session: ListeningSession,
    alias: str,
    age_band: AgeBand,
    avatar: str = "star",
) -> Participant:
    """Add a participant to a session under an alias. Raises JoinError if the alias is taken."""
    alias = clean_alias(alias)
    if avatar not in AVATARS:
        raise JoinError(_("Please pick one of the pictures."), "avatar")
    taken = db.scalar(
        select(Participant.id).where(Participant.session_id == session.id, func.lower(Participant.alias) == alias.lower())
    )
    if taken is not None:
        raise JoinError(_("Someone in this session is already called %(alias)s. Please choose another nickname.", alias=alias))
    participant = Participant(
        programme_id=session.programme_id,
        session_id=session.id,
        alias=alias,
        avatar=avatar,
        age_band=age_band,
        area_code=session.area_code,
    )
    db.add(participant)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise JoinError(_("Someone in this session is already called %(alias)s. Please choose another nickname.", alias=alias)) from None
    record_event(db, Principal(kind="participant", participant_id=participant.id), "participant.joined", "session", session.id)
    return participant


def programme_framework(programme: Programme) -> Framework:
    """The programme's theme framework, with any codes the programme added itself."""
    framework = load_framework(programme.framework)
    extras = [
        {"code": t.code, "label": t.label, "child_label": t.child_label, "description": t.description}
        for t in programme.custom_themes
    ]
    return with_custom_themes(framework, extras) if extras else framework


def rejoin_session(db: Session, code: str, alias: str, pin: str) -> Participant:
    """Sign a returning participant back in with their nickname and PIN.

    Raises JoinError with one message for a wrong nickname, a wrong PIN and a participant who
    never set a PIN, so nobody can find out which nicknames exist.
    """
    from .accounts import verify_secret

    session = find_open_session(db, code)
    participant = db.scalar(
        select(Participant).where(Participant.session_id == session.id, func.lower(Participant.alias) == " ".join(alias.split()).lower())
    )
    if not verify_secret(participant.pin_hash if participant else None, pin or ""):
        raise JoinError(_("We couldn't find you with that nickname and PIN. Ask the person running your session for help."), "pin")
    return participant

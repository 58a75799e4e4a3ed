"""Staff accounts (Argon2id passwords, per-programme roles) and participants' optional PINs."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import record_event
from .models import Membership, Participant, Programme, Role, User
from .principal import Principal

# OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, 2 iterations, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _HASHER.hash("not a real password")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """An account request that cannot be carried out; the message says why."""


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        raise AccountError("Enter an email address in the correct format, like name@example.org.")
    return email


def create_user(db: Session, actor: Principal, email: str, name: str, password: str, site_admin: bool = False) -> User:
    """Create a staff account. Raises AccountError for a bad email, short password or taken email."""
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if db.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise AccountError(f"There is already an account for {email}.")
    user = User(email=email, name=name.strip()[:200] or email, password_hash=hash_secret(password), is_site_admin=site_admin)
    db.add(user)
    db.flush()
    record_event(db, actor, "user.created", "user", user.id, site_admin=site_admin)
    return user


def grant_role(db: Session, actor: Principal, user: User, programme: Programme, role: Role) -> Membership:
    """Give a user a role in a programme (idempotent)."""
    for membership in user.memberships:
        if membership.programme_id == programme.id and membership.role == role:
            return membership
    membership = Membership(user=user, programme_id=programme.id, role=role)
    user.memberships.append(membership)
    db.flush()
    record_event(db, actor, "role.granted", "user", user.id, programme=programme.id, role=role.value)
    return membership


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same time and answer for unknown emails)."""
    user = db.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    ok = verify_secret(user.password_hash if user else None, password)
    return user if ok and user is not None and user.active else None


def set_participant_pin(db: Session, actor: Principal, participant: Participant, pin: str | None) -> None:
    """Set or clear (None) a participant's short PIN; facilitators use this to reset a forgotten one."""
    if pin is not None and not re.fullmatch(r"\d{4,6}", pin):
        raise AccountError("A PIN is 4 to 6 digits.")
    participant.pin_hash = None if pin is None else hash_secret(pin)
    record_event(db, actor, "participant.pin_set" if pin else "participant.pin_cleared", "participant", participant.id)

"""Pseudonymous participants and staff accounts."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt, new_uuid, str_enum
from .enums import AgeBand, Role
from .programme import ListeningSession, Programme


class Participant(CreatedAt, Base):
    """A child, young person or parent, known only by the alias they chose."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("session_id", "alias"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("listening_session.id"))
    alias: Mapped[str] = mapped_column(String(40))
    avatar: Mapped[str] = mapped_column(String(32), default="star")
    age_band: Mapped[AgeBand] = mapped_column(str_enum(AgeBand))
    # Month of birth only (first of the month), optional: enough to know when a child turns 13.
    birth_month: Mapped[date | None] = mapped_column(nullable=True)
    area_code: Mapped[str] = mapped_column(String(32))
    send: Mapped[bool] = mapped_column(default=False)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)

    programme: Mapped[Programme] = relationship()
    session: Mapped[ListeningSession] = relationship()


class User(CreatedAt, Base):
    """A member of staff: facilitator, analyst or admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_site_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """A staff role within one programme: roles are scoped per programme."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "programme_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))

    user: Mapped[User] = relationship(back_populates="memberships")

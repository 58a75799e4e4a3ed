"""Programmes (listening exercises) and their sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt, str_enum
from .enums import AgeBand, PlaceType


class Programme(CreatedAt, Base):
    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    framework: Mapped[str] = mapped_column(String(64), default="determinants")
    # Counts below this are shown as "<N" outside the team (disclosure control).
    small_count_threshold: Mapped[int] = mapped_column(default=5)

    sessions: Mapped[list["ListeningSession"]] = relationship(back_populates="programme")
    custom_themes: Mapped[list["CustomTheme"]] = relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )


class CustomTheme(Base):
    """A theme code a programme adds to its framework."""

    __tablename__ = "custom_theme"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    child_label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    programme: Mapped[Programme] = relationship(back_populates="custom_themes")


class ListeningSession(CreatedAt, Base):
    """A facilitator-run workshop or drop-in that participants join with a short code."""

    __tablename__ = "listening_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    name: Mapped[str] = mapped_column(String(200))
    place_type: Mapped[PlaceType] = mapped_column(str_enum(PlaceType))
    area_code: Mapped[str] = mapped_column(String(32))
    age_band: Mapped[AgeBand | None] = mapped_column(str_enum(AgeBand), nullable=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    join_code_expires_at: Mapped[datetime]

    programme: Mapped[Programme] = relationship(back_populates="sessions")

"""Append-only consent history."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt, IntEnumType, str_enum
from .enums import ConsentGiver, ConsentLevel, ConsentMethod, ConsentScope


class ConsentRecord(CreatedAt, Base):
    """One decision about what may happen to a participant's items; never edited, only superseded.

    Withdrawal is a record too (level NONE). ``version`` counts records within one scope, so
    the latest decision is the highest version and concurrent writers clash on the unique key
    instead of silently interleaving.
    """

    __tablename__ = "consent_record"
    __table_args__ = (
        UniqueConstraint("participant_id", "artefact_id", "version"),
        # NULLs never clash in a unique key, so the participant-wide scope needs its own index.
        Index(
            "uq_consent_record_default_version",
            "participant_id",
            "version",
            unique=True,
            sqlite_where=text("artefact_id IS NULL"),
            postgresql_where=text("artefact_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"), index=True)
    artefact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("artefact.id"), nullable=True, index=True)
    scope: Mapped[ConsentScope] = mapped_column(str_enum(ConsentScope))
    version: Mapped[int]
    level: Mapped[ConsentLevel] = mapped_column(IntEnumType(ConsentLevel))
    credit: Mapped[bool] = mapped_column(default=False)
    face: Mapped[bool] = mapped_column(default=False)
    voice: Mapped[bool] = mapped_column(default=False)
    giver: Mapped[ConsentGiver] = mapped_column(str_enum(ConsentGiver))
    method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod))
    witness: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A child's own agreement, recorded alongside a parent's consent.
    child_assent: Mapped[bool | None] = mapped_column(nullable=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)


@event.listens_for(ConsentRecord, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError("consent records are append-only; record a new decision instead")

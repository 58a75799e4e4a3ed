"""Single-use links that let a parent or carer give consent for a child without signing in."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, CreatedAt
from .people import Participant


class ParentConsentLink(CreatedAt, Base):
    """A link (or QR code) handed to a child's parent or carer.

    Only the SHA-256 of the token is kept, so a database dump cannot be turned into working
    links; the link is spent (``used_at``) by the consent it carried, and dead after ``expires_at``.
    """

    __tablename__ = "parent_consent_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    consent_record_id: Mapped[int | None] = mapped_column(ForeignKey("consent_record.id"), nullable=True)

    participant: Mapped[Participant] = relationship()

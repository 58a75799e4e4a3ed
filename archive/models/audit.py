"""Append-only audit trail: who did what to which object, and when. Never content."""

from __future__ import annotations

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, CreatedAt


class AuditEvent(CreatedAt, Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # user, participant, system
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(_mapper, _connection, target):
    raise PermissionError("audit events are append-only")

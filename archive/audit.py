"""Writing the append-only audit trail. Events name objects and actions, never content."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEvent
from .principal import Principal


def record_event(db: Session, actor: Principal, action: str, obj_type: str, obj_id, **details) -> AuditEvent:
    """Add an audit event to the current transaction (it commits or rolls back with the change)."""
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_id=actor.actor_id,
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        details=details,
    )
    db.add(event)
    return event

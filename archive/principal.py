"""Who is asking: anonymous visitors, participants and staff, with their per-programme roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .models import Role

# Which roles may act in which consent context (see archive.consent.Context).
CONTEXT_ROLES = {
    "team": {Role.ADMIN, Role.FACILITATOR},
    "analysis": {Role.ADMIN, Role.FACILITATOR, Role.ANALYST},
    "report_export": {Role.ADMIN, Role.FACILITATOR, Role.ANALYST},
}


@dataclass(frozen=True)
class Principal:
    kind: str  # "anonymous", "participant" or "staff"
    participant_id: uuid.UUID | None = None
    programme_id: int | None = None  # a participant's programme
    user_id: int | None = None
    site_admin: bool = False
    roles: frozenset[tuple[int, Role]] = field(default_factory=frozenset)

    @property
    def actor_id(self) -> str | None:
        if self.participant_id:
            return str(self.participant_id)
        return None if self.user_id is None else str(self.user_id)

    def has_role(self, programme_id: int, *roles: Role) -> bool:
        return any((programme_id, role) in self.roles for role in roles)

    def programmes_for(self, context: str) -> frozenset[int]:
        """Programmes where this principal may act in a consent context; unknown contexts raise."""
        allowed = CONTEXT_ROLES[context]
        return frozenset(pid for pid, role in self.roles if role in allowed)


ANONYMOUS = Principal(kind="anonymous")
SYSTEM = Principal(kind="system")


def participant_principal(participant) -> Principal:
    return Principal(kind="participant", participant_id=participant.id, programme_id=participant.programme_id)


def staff_principal(user) -> Principal:
    return Principal(
        kind="staff",
        user_id=user.id,
        site_admin=user.is_site_admin,
        roles=frozenset((m.programme_id, m.role) for m in user.memberships),
    )

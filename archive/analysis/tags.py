"""Which theme tags analysis counts: the one place to change when facilitator review lands (issue 7).

Counted: a tag a person accepted, and a tag a participant or facilitator gave themself unless someone
rejected it. Not counted: the model's suggestions, at any confidence, until a person accepts them.
A chart that mixed a machine's guesses with what children said would be read as what children said.
"""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

from ..models import TagSource, TagStatus, ThemeTag


def counted_tags() -> ColumnElement[bool]:
    """A WHERE clause over ``ThemeTag``: the tags charts, the map and exports count."""
    return or_(
        ThemeTag.status == TagStatus.ACCEPTED,
        and_(ThemeTag.source != TagSource.MODEL, ThemeTag.status != TagStatus.REJECTED),
    )


def is_counted(tag: ThemeTag) -> bool:
    """``counted_tags`` for a tag already in memory."""
    return tag.status == TagStatus.ACCEPTED or (tag.source != TagSource.MODEL and tag.status != TagStatus.REJECTED)

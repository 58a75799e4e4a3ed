"""Finding the artefact a URL names, answering 404 alike for a bad id, a missing item and someone else's."""

from __future__ import annotations

import uuid

from flask import abort, g
from sqlalchemy import select

from ..consent import Context, visible_artefacts
from ..models import Artefact
from .principals import db


def artefact_by_id(artefact_id: str) -> Artefact:
    """The artefact with this id, whoever may see it (callers apply the consent gate), or 404."""
    try:
        key = uuid.UUID(artefact_id)
    except ValueError:
        abort(404)
    artefact = db().get(Artefact, key)
    if artefact is None:
        abort(404)
    return artefact


def own_artefact(artefact_id: str) -> Artefact:
    """One of the current participant's own items, or 404: another child's item looks like none at all."""
    try:
        key = uuid.UUID(artefact_id)
    except ValueError:
        abort(404)
    artefact = db().scalar(select(Artefact).where(Artefact.id == key, visible_artefacts(g.principal, Context.OWNER)))
    if artefact is None:
        abort(404)
    return artefact

"""Media files, served only through the consent gate."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, request
from sqlalchemy import select
from werkzeug.wsgi import wrap_file

from ..consent import Context
from ..curation.shown_media import media_state, shown_derivative
from ..models import Artefact, Derivative, Exhibit, ExhibitItem, ExhibitStatus, Role
from .access import public
from .lookups import artefact_by_id
from .principals import db, services

bp = Blueprint("media", __name__, url_prefix="/media")


def _in_published_exhibit(artefact: Artefact) -> bool:
    return db().scalar(
        select(ExhibitItem.id).join(Exhibit).where(
            ExhibitItem.artefact_id == artefact.id, Exhibit.status == ExhibitStatus.PUBLISHED
        ).limit(1)
    ) is not None


def _context_for(artefact: Artefact) -> Context | None:
    principal = g.principal
    if principal.kind == "participant":
        return Context.OWNER
    if principal.has_role(artefact.programme_id, Role.ADMIN, Role.FACILITATOR):
        return Context.TEAM
    if principal.has_role(artefact.programme_id, Role.ANALYST):
        return Context.ANALYSIS
    return Context.PUBLIC_EXHIBIT if _in_published_exhibit(artefact) else None


@bp.get("/<artefact_id>/<kind>")
@public
def derivative(artefact_id: str, kind: str):
    """Stream the copy of a derivative the caller may see; 404 otherwise, so ids cannot be probed.

    Beyond the team the copy may be a blurred or bleeped one (archive.curation.shown_media).
    """
    artefact = artefact_by_id(artefact_id)
    context = _context_for(artefact)
    served = None if context is None else shown_derivative(
        g.principal, context, artefact, kind, media_state(db(), artefact))
    if served is None:
        abort(404)
    item = db().scalar(select(Derivative).where(Derivative.artefact_id == artefact.id, Derivative.kind == served))
    if item is None:  # removed between the two reads by a redaction job
        abort(404)
    storage = services().storage
    url = storage.url_for_download(item.object_key, services().settings.presigned_url_seconds)
    if url:
        response = redirect(url)
    else:
        # Byte ranges, because browsers only seek in media served with them: "play from this line".
        body = wrap_file(request.environ, storage.open(item.object_key), buffer_size=64 * 1024)
        response = Response(body, mimetype=item.media_type, direct_passthrough=True)
        response.content_length = item.size_bytes
        response = response.make_conditional(request, accept_ranges=True, complete_length=item.size_bytes)
    # Restricted media must not linger in shared caches or on a shared tablet.
    response.headers["Cache-Control"] = "private, no-store"
    return response

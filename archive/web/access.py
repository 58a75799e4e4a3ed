"""Route access policies. Every endpoint declares one; a request to an endpoint without one is refused.

Policies answer "who may call this route at all". What a caller may then see of an artefact
is the consent gate's job (archive.consent), which the views call.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from ..models import Role
from ..principal import ANONYMOUS, Principal

POLICY_ATTR = "chorus_access_policy"


def _mark(view, policy: str):
    setattr(view, POLICY_ATTR, policy)
    return view


def public(view):
    """Anyone, signed in or not."""
    return _mark(view, "public")


def participant_required(view):
    """A participant who joined a session on this device."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.principal.kind != "participant":
            return redirect(url_for("participant.join"))
        return view(*args, **kwargs)

    return _mark(wrapped, "participant")


def participant_api(view):
    """A participant's own device calling the JSON API; 401 JSON instead of a redirect."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.principal.kind != "participant":
            abort(401)
        return view(*args, **kwargs)

    return _mark(wrapped, "participant")


def staff_required(*roles: Role):
    """Signed-in staff; with roles, staff holding one of them in at least one programme.

    Programme-specific checks (is this programme theirs?) happen in the view through
    ``require_programme_role``, which answers 404 so ids cannot be probed.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            principal: Principal = g.principal
            if principal.kind != "staff":
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if roles and not principal.site_admin and not any(r in roles for _, r in principal.roles):
                abort(403)
            return view(*args, **kwargs)

        return _mark(wrapped, "staff:" + ",".join(sorted(r.value for r in roles)))

    return decorator


def site_admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.principal.kind != "staff":
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        if not g.principal.site_admin:
            abort(403)
        return view(*args, **kwargs)

    return _mark(wrapped, "site_admin")


def require_programme_role(programme_id: int, *roles: Role) -> None:
    """404 unless the current staff member holds one of `roles` in the programme."""
    principal: Principal = g.principal
    if not principal.has_role(programme_id, *roles):
        abort(404)


def policy_of(view) -> str | None:
    return getattr(view, POLICY_ATTR, None)


def enforce_declared_policy(app) -> None:
    """Refuse any request to an endpoint that forgot to declare who may use it."""

    @app.before_request
    def _check_policy():
        g.principal = getattr(g, "principal", ANONYMOUS)
        if request.endpoint is None:
            return None
        view = app.view_functions.get(request.endpoint)
        if request.endpoint == "static" or policy_of(view) is not None:
            return None
        abort(403)

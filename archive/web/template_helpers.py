"""Small functions the templates share."""

from __future__ import annotations

from flask import Flask, current_app, g, request, url_for
from flask_babel import lazy_gettext

from ..models import ArtefactStatus, ConsentLevel, Role

LEVEL_LABELS = {
    ConsentLevel.NONE: lazy_gettext("Not shared"),
    ConsentLevel.TEAM: lazy_gettext("Team only"),
    ConsentLevel.REPORT: lazy_gettext("Reports (no name)"),
    ConsentLevel.EXHIBIT: lazy_gettext("Public exhibitions"),
}
STATUS_LABELS = {
    ArtefactStatus.RECEIVED: lazy_gettext("Received"),
    ArtefactStatus.PROCESSING: lazy_gettext("Getting ready"),
    ArtefactStatus.READY: lazy_gettext("Ready"),
    ArtefactStatus.FAILED: lazy_gettext("Could not be used"),
    ArtefactStatus.WITHDRAWN: lazy_gettext("Taken back"),
}


# The staff menu: (endpoint, label, roles that see it; None for every member of staff).
STAFF_MENU = (
    ("staff.dashboard", lazy_gettext("Programmes"), None),
    ("facilitator.index", lazy_gettext("Run a session"), {Role.ADMIN, Role.FACILITATOR}),
    ("analyst.search", lazy_gettext("Search"), set(Role)),
    ("analysis.themes", lazy_gettext("Themes, map and reach"), set(Role)),
    ("exports.index", lazy_gettext("Exports and quotes"), set(Role)),
    ("exhibits_manage.index", lazy_gettext("Exhibits"), {Role.ADMIN, Role.FACILITATOR}),
)


def staff_menu(principal, endpoints, blueprint: str | None) -> list[dict]:
    """The menu items this member of staff can use, the current section marked."""
    held = set(Role) if principal.site_admin else {role for _, role in principal.roles}
    return [
        {"href": url_for(endpoint), "text": str(label), "active": endpoint.split(".")[0] == blueprint}
        for endpoint, label, roles in STAFF_MENU
        if endpoint in endpoints and (roles is None or roles & held)
    ]


def errors_of(form) -> list[dict]:
    """A form's errors as the GOV.UK error summary wants them: text plus a link to the field."""
    return [
        {"text": messages[0], "href": f"#{getattr(form, name).id}"}
        for name, messages in form.errors.items()
        if messages and hasattr(form, name)
    ]


def status_label(artefact) -> str:
    label = STATUS_LABELS[artefact.status]
    if artefact.status == ArtefactStatus.FAILED and artefact.failure_reason:
        return f"{label}: {artefact.failure_reason}"
    return str(label)


def level_label(level) -> str:
    return str(LEVEL_LABELS[ConsentLevel(level)])


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(errors_of=errors_of, status_label=status_label, level_label=level_label)

    @app.context_processor
    def _participant_chrome():
        principal = getattr(g, "principal", None)
        if principal is not None and principal.kind == "participant":
            return {"signout_url": url_for("participant.sign_out")}
        if principal is not None and principal.kind == "staff":
            return {"navigation": staff_menu(principal, current_app.view_functions, request.blueprint)}
        return {}

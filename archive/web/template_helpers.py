"""Small functions the templates share."""

from __future__ import annotations

from flask import Flask, g, url_for
from flask_babel import gettext, lazy_gettext

from ..models import ArtefactStatus, ConsentLevel

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
            return {"navigation": [{"href": url_for("staff.dashboard"), "text": gettext("Programmes")}]}
        return {}

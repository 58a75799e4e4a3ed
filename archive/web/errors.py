"""Error pages: a clear message and the right status, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..db import DatabaseUnavailable

MESSAGES = {
    400: lazy_gettext("Something about that request was not right. Go back and try again."),
    401: lazy_gettext("Please join your session again: your time on this device ran out."),
    403: lazy_gettext("You do not have permission to see this page."),
    404: lazy_gettext("Page not found. If you typed the web address, check it is correct."),
    405: lazy_gettext("That action is not available here."),
    413: lazy_gettext("That is too big to send. Choose a smaller file or a shorter text."),
    429: lazy_gettext("Too many tries in a short time. Wait a minute and try again."),
    503: lazy_gettext("Chorus cannot reach its storage right now. Nothing you sent has been lost; try again shortly."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, message) -> tuple:
    message = str(message)  # a lazy translation, resolved in this request's language
    if _wants_json():
        return jsonify(error=message, status=status), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return _render(400, gettext("This form had expired or was sent twice. Go back, refresh the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _render(exc.code or 500, MESSAGES.get(exc.code, exc.description or gettext("Something went wrong.")))

    @app.errorhandler(DatabaseUnavailable)
    def _database(_exc):
        return _render(503, MESSAGES[503])

    from ..storage.base import StorageUnavailable

    @app.errorhandler(StorageUnavailable)
    def _storage(_exc):
        return _render(503, MESSAGES[503])

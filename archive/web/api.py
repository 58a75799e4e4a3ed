"""The JSON API. Health now; the analysts' search API builds on this blueprint."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..db import DatabaseUnavailable, check_database
from .access import public
from .extensions import csrf
from .principals import services

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)


@bp.get("/health")
@public
def health():
    """Whether the database, storage and queue answer; 503 when one does not."""
    from ingest.queue import QueueUnavailable, check_queue

    from ..storage.base import StorageError

    svc = services()
    checks = {}
    for name, check in (
        ("database", lambda: check_database(svc.engine)),
        ("storage", lambda: svc.storage.check()),
        ("queue", lambda: check_queue(svc.huey)),
    ):
        try:
            check()
            checks[name] = "ok"
        except (DatabaseUnavailable, StorageError, QueueUnavailable) as exc:
            checks[name] = str(exc)
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503

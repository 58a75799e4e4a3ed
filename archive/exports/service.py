"""Making one export: choose the items, build the files, register and pack them."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..models import Programme, User, utcnow
from ..principal import Principal
from ..programmes import programme_framework
from . import qdpx, quotes, tables
from .csvsafe import csv_bytes
from .register import FORMAT_LABELS, Delivered, ExportFile, record_export
from .selection import ExportError, Searcher, search_ids, select_artefacts

TABLES = {"artefacts_csv": tables.ARTEFACTS, "themes_csv": tables.THEMES, "transcripts_csv": tables.TRANSCRIPTS}
QUOTE_FORMATS = ("quotes_md", "quotes_csv")
# Filters an export may carry from the search page (the search layer checks their values).
FILTER_KEYS = ("themes", "polarity", "kind", "age_band", "area", "place_type", "place", "session",
               "date_from", "date_to")


def clean_filters(raw: dict) -> dict:
    """Keep the known filter fields that have a value, as lists; unknown keys are dropped, not searched."""
    chosen = {}
    for key in FILTER_KEYS:
        value = raw.get(key)
        values = [value] if isinstance(value, (str, date)) else list(value or [])
        values = [str(v).strip() for v in values if isinstance(v, (str, date)) and str(v).strip()]
        if values:
            chosen[key] = values if key not in ("date_from", "date_to") else values[0]
    return chosen


def make_export(db: Session, principal: Principal, programme: Programme, fmt: str, *, storage=None,
                searcher: Searcher | None = None, query_text: str = "", filters: dict | None = None,
                purpose: str = "") -> Delivered:
    """Register and pack an export; the caller commits and sends it. Raises ExportError (or the search's
    QueryError) with a message fit to show."""
    if fmt not in FORMAT_LABELS:
        raise ExportError(_("Choose what to export."))
    filters = clean_filters(filters or {})
    query_text = (query_text or "").strip()
    if fmt in QUOTE_FORMATS:
        entries = quotes.board(db, principal, programme)
        if not entries:
            raise ExportError(_("The quotes board is empty: add quotes before exporting it."))
        artefacts = list({q.artefact_id: q.artefact for q in entries}.values())
        content = (quotes.quotes_markdown(principal, programme, entries) if fmt == "quotes_md"
                   else quotes.quotes_csv(principal, entries))
        files = [ExportFile("quotes.md" if fmt == "quotes_md" else "quotes.csv", content)]
        return record_export(db, principal, programme, fmt, artefacts, files, purpose=purpose)

    ids = None
    if query_text or filters:
        if searcher is None:
            raise ExportError(_("Search is not available, so a search cannot be exported."))
        ids = search_ids(searcher, principal, programme, query_text, filters)
    artefacts = select_artefacts(db, principal, programme, ids)
    if not artefacts:
        raise ExportError(_("Nothing matches that may be used in reports, so there is nothing to export."))
    if fmt == "qdpx":
        maker = db.get(User, principal.user_id) if principal.user_id is not None else None
        files = qdpx.build_project(
            principal, programme, programme_framework(programme), artefacts, storage,
            user_name=maker.name if maker else "Chorus", when=utcnow(),
            description=f"Exported from Chorus: {len(artefacts)} items with report consent. See manifest.json.",
        )
        extension = "qdpx"
    else:
        table = TABLES[fmt]
        files = [ExportFile(table.name, csv_bytes(table.header, table.rows(principal, artefacts)))]
        extension = "zip"
    return record_export(db, principal, programme, fmt, artefacts, files, query_text=query_text, filters=filters,
                         purpose=purpose, extension=extension)

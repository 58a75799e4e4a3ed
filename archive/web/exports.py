"""Exports, the export register and the quotes board: thin views over ``archive.exports``."""

from __future__ import annotations

import io
import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..consent import Context, allows
from ..exports import quotes
from ..exports.attribution import attribution
from ..exports.register import FORMAT_LABELS, exports_for, holdings, mark_recalled
from ..exports.selection import ExportError, default_searcher
from ..exports.service import QUOTE_FORMATS, make_export
from ..models import ConsentLevel, ExportRecord, Programme, Role
from .access import require_programme_role, staff_required
from .forms import ConfirmForm
from .lookups import artefact_by_id
from .principals import db, services
from .template_helpers import errors_of

bp = Blueprint("exports", __name__)

ROLES = (Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
FILE_FORMATS = ("artefacts_csv", "themes_csv", "transcripts_csv", "qdpx")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
LEVEL_NAMES = {
    ConsentLevel.NONE: lazy_gettext("none"),
    ConsentLevel.TEAM: lazy_gettext("team only"),
    ConsentLevel.REPORT: lazy_gettext("reports"),
    ConsentLevel.EXHIBIT: lazy_gettext("reports and exhibitions"),
}
CHANGE_LABELS = {
    "withdrawn": lazy_gettext("Withdrawn: recall or redact this item"),
    "narrowed": lazy_gettext("No longer allowed in reports: recall or redact this item"),
    "uncredited": lazy_gettext("No longer wants their nickname shown: remove it if the export named them"),
}


class ExportForm(FlaskForm):
    format = RadioField(
        lazy_gettext("What to export"),
        choices=[(f, FORMAT_LABELS[f]) for f in FILE_FORMATS],
        validators=[DataRequired(message=lazy_gettext("Choose what to export"))],
    )
    purpose = StringField(
        lazy_gettext("What is it for? (optional)"),
        validators=[Optional(), Length(max=200, message=lazy_gettext("Use 200 characters or fewer"))],
    )


class QuoteExportForm(FlaskForm):
    format = HiddenField()


class RecallForm(FlaskForm):
    note = TextAreaField(
        lazy_gettext("What was done"),
        validators=[DataRequired(message=lazy_gettext("Say who was asked to delete or redact it")),
                    Length(max=500, message=lazy_gettext("Use 500 characters or fewer"))],
    )


class QuoteForm(FlaskForm):
    source = RadioField(
        lazy_gettext("Where are the words from?"),
        choices=[("story", lazy_gettext("The story")), ("transcript", lazy_gettext("The transcript"))],
        validators=[DataRequired(message=lazy_gettext("Choose where the words are from"))],
    )
    text = TextAreaField(
        lazy_gettext("Words to quote"),
        validators=[DataRequired(message=lazy_gettext("Enter the words to quote")),
                    Length(max=quotes.MAX_QUOTE_CHARS, message=lazy_gettext("Use fewer words"))],
    )
    note = StringField(lazy_gettext("Note for the report team (optional)"),
                       validators=[Optional(), Length(max=500, message=lazy_gettext("Use 500 characters or fewer"))])
    segment_id = HiddenField()


def _programme(code: str) -> Programme:
    programme = db().scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        abort(404)
    require_programme_role(programme.id, *ROLES)
    return programme


def _search_request(values):
    """The analysts' search form values carried to an export (same names, same checks)."""
    from .analyst import read_search_form

    return read_search_form(values, values.getlist)


def _download(delivered):
    response = send_file(io.BytesIO(delivered.content), mimetype=delivered.media_type, as_attachment=True,
                         download_name=delivered.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- the register -------------------------------------------------------------------------------


@bp.get("/exports")
@staff_required(*ROLES)
def index():
    """The programmes whose exports this member of staff may see."""
    ids = sorted({pid for pid, role in g.principal.roles if role in ROLES})
    programmes = db().scalars(select(Programme).where(Programme.id.in_(ids)).order_by(Programme.name)).all()
    if len(programmes) == 1:
        return redirect(url_for("exports.register", code=programmes[0].code))
    return render_template("exports/index.html", programmes=programmes)


@bp.get("/exports/<code>")
@staff_required(*ROLES)
def register(code: str):
    """Every export of the programme, newest first, flagging those that hold items since withdrawn."""
    programme = _programme(code)
    return render_template("exports/register.html", programme=programme, records=exports_for(db(), programme.id),
                           held=holdings(db(), programme.id), labels=FORMAT_LABELS)


@bp.get("/exports/<code>/<int:export_id>")
@staff_required(*ROLES)
def detail(code: str, export_id: int):
    """One export's provenance: who, when, what, the consent of each item then, and what has changed since."""
    programme = _programme(code)
    record = _record(programme, export_id)
    return _detail_page(programme, record, RecallForm())


def _record(programme: Programme, export_id: int) -> ExportRecord:
    record = db().get(ExportRecord, export_id)
    if record is None or record.programme_id != programme.id:
        abort(404)
    return record


def _detail_page(programme, record, form, status=200):
    changes = {h.artefact_id: h for h in holdings(db(), programme.id, record.id).get(record.id, [])}
    return render_template(
        "exports/detail.html", programme=programme, record=record, changes=changes, form=form,
        labels=FORMAT_LABELS, change_labels=CHANGE_LABELS, level_names=LEVEL_NAMES,
    ), status


@bp.post("/exports/<code>/<int:export_id>/recall")
@staff_required(*ROLES)
def recall(code: str, export_id: int):
    """Record that the export's recipients were asked to delete or redact it."""
    programme = _programme(code)
    record = _record(programme, export_id)
    form = RecallForm()
    if not form.validate_on_submit():
        return _detail_page(programme, record, form, 400)
    mark_recalled(db(), g.principal, record, form.note.data)
    db().commit()
    flash(_("The export is marked as recalled."), "success")
    return redirect(url_for("exports.detail", code=code, export_id=export_id))


# ---- making an export ---------------------------------------------------------------------------


def _new_page(programme, form, search, problem=None, status=200):
    return render_template(
        "exports/new.html", programme=programme, form=form, search=search,
        hidden=search.args(page=None, sort=None) if search is not None else {},
        error_list=[problem] if problem else [],
    ), status


@bp.get("/exports/<code>/new")
@staff_required(*ROLES)
def new(code: str):
    """Choose what to export: the whole programme, or the search the analyst came from."""
    programme = _programme(code)
    from .analyst import FormProblem

    try:
        search = _search_request(request.args)
    except FormProblem as exc:
        return _new_page(programme, ExportForm(), None, {"text": str(exc), "href": "#format"}, 400)
    return _new_page(programme, ExportForm(), search if search.searched else None)


@bp.post("/exports/<code>/new")
@staff_required(*ROLES)
def create(code: str):
    """Make the export, record it in the register, and send it."""
    programme = _programme(code)
    from search.service import QueryError

    from .analyst import FormProblem

    fmt = request.form.get("format", "")
    if fmt in QUOTE_FORMATS:
        if not QuoteExportForm().validate_on_submit():
            abort(400)
        try:
            delivered = make_export(db(), g.principal, programme, fmt)
        except ExportError as exc:
            flash(str(exc), "error")
            return redirect(url_for("exports.quotes_board", code=code))
        db().commit()
        return _download(delivered)

    form = ExportForm()
    search = None
    try:
        search = _search_request(request.form)
    except FormProblem as exc:
        return _new_page(programme, form, None, {"text": str(exc), "href": "#format"}, 400)
    search = search if search.searched else None
    if not form.validate_on_submit():
        if form.format.errors:  # WTForms' own "Not a valid choice" says less than this
            form.format.errors = [_("Choose what to export")]
        return _new_page(programme, form, search, errors_of(form)[0], 400)
    try:
        delivered = make_export(
            db(), g.principal, programme, form.format.data, storage=services().storage,
            searcher=default_searcher(services()), query_text=search.query if search else "",
            filters=search.service_filters() if search else None, purpose=form.purpose.data or "",
        )
    except (ExportError, QueryError) as exc:
        db().rollback()
        return _new_page(programme, form, search, {"text": str(exc), "href": "#format"}, 400)
    db().commit()
    return _download(delivered)


# ---- the quotes board ---------------------------------------------------------------------------


@bp.get("/quotes/<code>")
@staff_required(*ROLES)
def quotes_board(code: str):
    """The programme's quotes for a report, in order, attributed only as consent allows."""
    programme = _programme(code)
    wanted = request.args.get("item", "").strip()
    if wanted:
        found = _UUID.search(wanted)
        if found:
            return redirect(url_for("exports.quote_from", code=code, artefact_id=found.group(0)))
        flash(_("Paste an item's link or its id, like 0b0c0c0c-1234-4abc-8def-0123456789ab."), "error")
    entries = quotes.board(db(), g.principal, programme)
    return render_template(
        "exports/board.html", programme=programme,
        entries=[(q, attribution(g.principal, q.artefact), quotes.when_said(q), quotes.shown_text(q)) for q in entries],
        form=ConfirmForm(), export_form=QuoteExportForm(),
    )


@bp.post("/quotes/<code>/arrange")
@staff_required(*ROLES)
def arrange(code: str):
    """Move a quote up or down the board, or take it off."""
    programme = _programme(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    try:
        quote_id = quotes.quote_by_id(request.form.get("quote_id"))
        if action in ("up", "down"):
            quotes.move_quote(db(), g.principal, programme, quote_id, -1 if action == "up" else 1)
        elif action == "remove":
            quotes.remove_quote(db(), g.principal, programme, quote_id)
            flash(_("The quote was taken off the board."), "success")
        else:
            abort(400)
    except LookupError:
        abort(404)
    db().commit()
    return redirect(url_for("exports.quotes_board", code=code) + f"#quote-{quote_id}")


def _quotable(programme: Programme, artefact_id: str):
    artefact = artefact_by_id(artefact_id)
    if artefact.programme_id != programme.id or not allows(g.principal, Context.REPORT_EXPORT, artefact):
        abort(404)
    return artefact


def _quote_page(programme, artefact, form, status=200):
    segments = artefact.transcript.segments if artefact.transcript is not None else []
    return render_template("exports/quote_from.html", programme=programme, artefact=artefact, form=form,
                           segments=[s for s in segments if s.text.strip()], line_form=ConfirmForm(),
                           attribution=attribution(g.principal, artefact)), status


@bp.get("/quotes/<code>/from/<artefact_id>")
@staff_required(*ROLES)
def quote_from(code: str, artefact_id: str):
    """An item's words, to pick a quote from."""
    programme = _programme(code)
    artefact = _quotable(programme, artefact_id)
    form = QuoteForm(source="story" if artefact.story.strip() else "transcript")
    return _quote_page(programme, artefact, form)


@bp.post("/quotes/<code>/from/<artefact_id>")
@staff_required(*ROLES)
def add_quote(code: str, artefact_id: str):
    """Put the chosen words on the board."""
    programme = _programme(code)
    artefact = _quotable(programme, artefact_id)
    form = QuoteForm()
    if not form.validate_on_submit():
        return _quote_page(programme, artefact, form, 400)
    raw_segment = (form.segment_id.data or "").strip()
    try:
        quotes.add_quote(db(), g.principal, artefact, form.source.data, form.text.data,
                         segment_id=int(raw_segment) if raw_segment.isdigit() else None, note=form.note.data or "")
    except quotes.QuoteError as exc:
        db().rollback()
        form.text.errors = [str(exc)]
        return _quote_page(programme, artefact, form, 400)
    db().commit()
    flash(_("The quote is on the board."), "success")
    return redirect(url_for("exports.quotes_board", code=code))

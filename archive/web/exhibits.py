"""Exhibits: the facilitators' builder under /exhibits/manage, and the public pages under /exhibits/<slug>.

Public pages need no sign-in and show only a published exhibit's live items (``archive.exhibits.showing``:
the consent gate at read time). They serve their own media and captions, always as the public gets
them, whoever is looking: a facilitator on the public page or the preview sees what the public sees.
Pages are drawn through a ``links`` object so the same templates make the offline copy, whose links
are relative files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wsgi import wrap_file

from ..exhibits import ExhibitError, building, publishing, showing, static_copy
from ..exhibits.showing import ShownItem
from ..models import Artefact, Exhibit, ExhibitItem, ExhibitSection, ExhibitStatus, Programme
from ..principal import Principal
from ..programmes import programme_framework
from .access import public, require_programme_role, staff_required
from .forms import ConfirmForm
from .principals import db, services

bp = Blueprint("exhibits", __name__, url_prefix="/exhibits")
manage_bp = Blueprint("exhibits_manage", __name__, url_prefix="/exhibits/manage")
TEAM = building.TEAM
KIOSK_SECONDS = 12
# Files the public pages use, by their path under the static folder; the offline copy carries them.
PUBLIC_ASSETS = ("govuk/govuk-frontend.min.css", "govuk/assets/images/govuk-crest.svg", "exhibit.css",
                 "exhibit-print.css", "exhibit.js")


# ---- links: live pages, the staff preview, and the offline copy -----------------------------------


class LiveLinks:
    offline = False

    def __init__(self, exhibit: Exhibit, seconds: int | None = None):
        self.slug = exhibit.slug
        self.seconds = seconds  # a kiosk's own pace, kept from slide to slide

    def page(self) -> str:
        return url_for("exhibits.show", slug=self.slug)

    def slide(self, number: int) -> str | None:
        return url_for("exhibits.kiosk", slug=self.slug, number=number, seconds=self.seconds)

    def manifest(self) -> str | None:
        return url_for("exhibits.manifest", slug=self.slug)

    def media(self, shown: ShownItem, kind: str) -> str:
        return url_for("exhibits.media", slug=self.slug, artefact_id=shown.artefact_id, kind=kind)

    def captions(self, shown: ShownItem) -> str:
        return url_for("exhibits.captions", slug=self.slug, artefact_id=shown.artefact_id)

    def static(self, filename: str) -> str:
        return url_for("static", filename=filename)


class AbsoluteLinks(LiveLinks):
    """For the IIIF manifest, whose ids are full URLs."""

    def page(self) -> str:
        return url_for("exhibits.show", slug=self.slug, _external=True)

    def manifest(self) -> str:
        return url_for("exhibits.manifest", slug=self.slug, _external=True)

    def media(self, shown: ShownItem, kind: str) -> str:
        return url_for("exhibits.media", slug=self.slug, artefact_id=shown.artefact_id, kind=kind, _external=True)

    def captions(self, shown: ShownItem) -> str:
        return url_for("exhibits.captions", slug=self.slug, artefact_id=shown.artefact_id, _external=True)


class PreviewLinks(LiveLinks):
    def __init__(self, exhibit: Exhibit):
        self.exhibit_id = exhibit.id

    def page(self) -> str:
        return url_for("exhibits_manage.preview", exhibit_id=self.exhibit_id)

    def slide(self, number: int) -> str | None:
        return None

    def manifest(self) -> str | None:
        return None

    def media(self, shown: ShownItem, kind: str) -> str:
        return url_for("exhibits_manage.preview_media", exhibit_id=self.exhibit_id, artefact_id=shown.artefact_id,
                       kind=kind)

    def captions(self, shown: ShownItem) -> str:
        return url_for("exhibits_manage.preview_captions", exhibit_id=self.exhibit_id, artefact_id=shown.artefact_id)


class OfflineLinks:
    """Relative links between the files of the offline copy."""

    offline = True

    def page(self) -> str:
        return "index.html"

    def slide(self, number: int) -> str:
        return f"slide-{number}.html"

    def manifest(self) -> None:
        return None

    def media(self, shown: ShownItem, kind: str) -> str:
        return static_copy.media_path(shown, shown.recording if kind == "proxy" else shown.picture)

    def captions(self, shown: ShownItem) -> str:
        return static_copy.captions_path(shown)

    def static(self, filename: str) -> str:
        return f"assets/{filename}"


# ---- drawing the public pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Slide:
    number: int
    total: int
    shown: ShownItem | None


def _page(exhibit: Exhibit, links, shown: list[ShownItem], preview: bool = False) -> str:
    return render_template("exhibits/public.html", exhibit=exhibit, links=links, preview=preview,
                           sections=showing.shown_sections(exhibit, shown), count=len(shown))


def _slide(exhibit: Exhibit, links, shown: list[ShownItem], number: int, seconds: int | None = None) -> str:
    slide = Slide(number, len(shown), shown[number - 1] if shown else None)
    return render_template("exhibits/kiosk.html", exhibit=exhibit, links=links, slide=slide,
                           seconds=seconds or KIOSK_SECONDS)


def _no_store(response: Response) -> Response:
    # Consent is live: a copy kept by a browser or a proxy could outlive a withdrawal.
    response.headers["Cache-Control"] = "no-store"
    return response


def _published(slug: str) -> Exhibit:
    exhibit = db().scalar(select(Exhibit).where(Exhibit.slug == slug, Exhibit.status == ExhibitStatus.PUBLISHED))
    if exhibit is None:
        abort(404)
    return exhibit


def _send(shown: ShownItem | None, kind: str) -> Response:
    """Stream the copy the public gets of one item's media; 404 when there is none."""
    if shown is None:
        abort(404)
    derivative = shown.recording if kind == "proxy" else (shown.picture if kind == shown.picture_kind else None)
    if derivative is None:
        abort(404)
    storage = services().storage
    url = storage.url_for_download(derivative.object_key, services().settings.presigned_url_seconds)
    if url:
        return _no_store(redirect(url))
    body = wrap_file(request.environ, storage.open(derivative.object_key), buffer_size=64 * 1024)
    response = Response(body, mimetype=derivative.media_type, direct_passthrough=True)
    response.content_length = derivative.size_bytes
    # Byte ranges, because browsers only seek in media served with them.
    return _no_store(response.make_conditional(request, accept_ranges=True, complete_length=derivative.size_bytes))


def _captions(shown: ShownItem | None) -> Response:
    if shown is None or not shown.captions:
        abort(404)
    from media.transcribe import to_webvtt

    return _no_store(Response(to_webvtt(shown), mimetype="text/vtt"))


@bp.get("/<slug>")
@public
def show(slug: str):
    """A published exhibit: every live item, by section."""
    exhibit = _published(slug)
    return _no_store(Response(_page(exhibit, LiveLinks(exhibit), showing.shown_items(db(), exhibit))))


@bp.get("/<slug>/kiosk", defaults={"number": 1})
@bp.get("/<slug>/kiosk/<int:number>")
@public
def kiosk(slug: str, number: int):
    """One item a page, for a screen at an event; exhibit.js moves on by itself, with pause and keys."""
    exhibit = _published(slug)
    seconds = request.args.get("seconds", type=int)
    seconds = seconds if seconds is not None and 3 <= seconds <= 600 else None
    links = LiveLinks(exhibit, seconds)
    shown = showing.shown_items(db(), exhibit)
    if shown and not 1 <= number <= len(shown):
        # An item left since the screen loaded this page: start again rather than show an error.
        return redirect(links.slide(1))
    return _no_store(Response(_slide(exhibit, links, shown, number if shown else 1, seconds)))


@bp.get("/<slug>/manifest.json")
@public
def manifest(slug: str):
    """The exhibit as a IIIF Presentation 3 manifest (images, and recordings with their captions)."""
    exhibit = _published(slug)
    try:
        from ..exhibits.iiif import manifest as make_manifest
    except ImportError:  # iiif-prezi3 is installed on its own (docs/exhibits.md); without it there is no manifest
        current_app.logger.warning("IIIF manifest asked for, but iiif-prezi3 is not installed")
        abort(404)
    body = make_manifest(db(), exhibit, AbsoluteLinks(exhibit)).json()
    response = _no_store(Response(body, mimetype="application/ld+json"))
    # IIIF viewers run on other sites; the manifest only names what the public page already shows.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/<slug>/captions/<artefact_id>.vtt")
@public
def captions(slug: str, artefact_id: str):
    """Captions made from the shareable transcript, only for an item live in this published exhibit."""
    exhibit = _published(slug)
    return _captions(showing.shown_in(db(), exhibit, artefact_id))


@bp.get("/<slug>/media/<artefact_id>/<kind>")
@public
def media(slug: str, artefact_id: str, kind: str):
    exhibit = _published(slug)
    return _send(showing.shown_in(db(), exhibit, artefact_id), kind)


# ---- the builder -------------------------------------------------------------------------------


def _team_programmes(principal: Principal) -> list[Programme]:
    ids = sorted(principal.programmes_for("team"))
    return list(db().scalars(select(Programme).where(Programme.id.in_(ids)).order_by(Programme.name))) if ids else []


def _exhibit(exhibit_id: int) -> Exhibit:
    exhibit = db().get(Exhibit, exhibit_id)
    if exhibit is None:
        abort(404)
    require_programme_role(exhibit.programme_id, *TEAM)
    return exhibit


def _posted(exhibit_id: int) -> Exhibit:
    exhibit = _exhibit(exhibit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return exhibit


def _part(model, part_id: int, exhibit: Exhibit):
    part = db().get(model, part_id)
    if part is None or part.exhibit_id != exhibit.id:
        abort(404)
    return part


REASONS = {
    "withdrawn": lazy_gettext("The person who shared it took it back."),
    "consent": lazy_gettext("Its consent no longer allows public showing."),
    "review": lazy_gettext("It was taken back for another review."),
    "processing": lazy_gettext("It is being processed again."),
    "removed": lazy_gettext("It was taken out of the exhibit."),
    "unknown": lazy_gettext("It is no longer shown."),
}


def _builder(exhibit: Exhibit, errors: list[ExhibitError] = (), status: int = 200):
    programme = db().get(Programme, exhibit.programme_id)
    live = {s.item_id: s for s in showing.shown_items(db(), exhibit)}
    items = sorted(exhibit.items, key=lambda i: (i.position, i.id))
    artefacts = {i.id: db().get(Artefact, i.artefact_id) for i in items}
    not_live = {i.id: publishing.why_not_live(artefacts[i.id], True) for i in items if i.id not in live}
    error_list = [{"text": str(e), "href": f"#{e.field or 'content'}"} for e in errors]
    return render_template(
        "exhibits/builder.html", exhibit=exhibit, programme=programme, items=items, live=live, not_live=not_live,
        artefacts=artefacts, candidates=building.exhibitable(db(), g.principal, programme, exclude=exhibit),
        changes=publishing.changes_since_publish(db(), exhibit), reasons=REASONS,
        stale=static_copy.out_of_date(db(), exhibit), exports=static_copy.exports_of(db(), exhibit),
        limits=building.LIMITS, form=ConfirmForm(), error_list=error_list, themes=list(programme_framework(programme)),
        picture_kinds=building.PICTURE_KINDS,
    ), status


def _changed(exhibit: Exhibit, message: str, anchor: str = ""):
    try:
        db().commit()
    except IntegrityError:
        # Two people taking the same web address at the same moment: the database's unique slug decides.
        db().rollback()
        flash(gettext("Someone else saved a change at the same moment, so yours was not saved. Check and try "
                       "again."), "error")
        return redirect(url_for("exhibits_manage.index"))
    flash(message, "success")
    return redirect(url_for("exhibits_manage.builder", exhibit_id=exhibit.id) + anchor)


def _refused(exhibit: Exhibit, error: ExhibitError):
    db().rollback()
    db().refresh(exhibit)
    problems = getattr(error, "problems", [error])
    return _builder(exhibit, problems, 400)


@manage_bp.get("/")
@staff_required(*TEAM)
def index():
    programmes = _team_programmes(g.principal)
    exhibits = list(db().scalars(select(Exhibit).where(Exhibit.programme_id.in_([p.id for p in programmes]))
                                 .order_by(Exhibit.created_at.desc()))) if programmes else []
    return render_template("exhibits/index.html", programmes=programmes, exhibits=exhibits, form=ConfirmForm(),
                           values={}, error_list=[], limits=building.LIMITS)


@manage_bp.post("/")
@staff_required(*TEAM)
def create():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    programmes = _team_programmes(g.principal)
    values = {k: request.form.get(k, "") for k in ("programme", "title", "slug", "intro")}
    programme = next((p for p in programmes if str(p.id) == values["programme"]), None)
    try:
        if programme is None:
            raise ExhibitError(gettext("Choose the programme the exhibit belongs to"), "programme")
        exhibit = building.create_exhibit(db(), g.principal, programme, values["title"], values["slug"],
                                          values["intro"])
    except ExhibitError as exc:
        db().rollback()
        exhibits = list(db().scalars(select(Exhibit).where(Exhibit.programme_id.in_([p.id for p in programmes]))))
        return render_template("exhibits/index.html", programmes=programmes, exhibits=exhibits, form=ConfirmForm(),
                               values=values, error_list=[{"text": str(exc), "href": f"#{exc.field}"}],
                               field_error={exc.field: str(exc)}, limits=building.LIMITS), 400
    return _changed(exhibit, gettext("Exhibit created. Add sections and items, then preview and publish it."))


@manage_bp.get("/<int:exhibit_id>")
@staff_required(*TEAM)
def builder(exhibit_id: int):
    return _builder(_exhibit(exhibit_id))


@manage_bp.post("/<int:exhibit_id>/details")
@staff_required(*TEAM)
def update(exhibit_id: int):
    exhibit = _posted(exhibit_id)
    try:
        building.update_exhibit(db(), g.principal, exhibit, request.form.get("title", ""),
                                request.form.get("slug", ""), request.form.get("intro", ""))
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Exhibit details saved."))


@manage_bp.post("/<int:exhibit_id>/sections")
@staff_required(*TEAM)
def add_section(exhibit_id: int):
    exhibit = _posted(exhibit_id)
    try:
        section = building.add_section(db(), g.principal, exhibit, request.form.get("section_title", ""),
                                       request.form.get("section_text", ""), request.form.get("theme") or None)
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Section added."), f"#section-{section.id}")


@manage_bp.post("/<int:exhibit_id>/sections/<int:section_id>")
@staff_required(*TEAM)
def update_section(exhibit_id: int, section_id: int):
    exhibit = _posted(exhibit_id)
    section = _part(ExhibitSection, section_id, exhibit)
    try:
        building.update_section(db(), g.principal, section, request.form.get("title", ""),
                                request.form.get("text", ""))
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Section saved."), f"#section-{section.id}")


@manage_bp.post("/<int:exhibit_id>/sections/<int:section_id>/remove")
@staff_required(*TEAM)
def remove_section(exhibit_id: int, section_id: int):
    exhibit = _posted(exhibit_id)
    building.remove_section(db(), g.principal, _part(ExhibitSection, section_id, exhibit))
    return _changed(exhibit, gettext("Section removed. Its items are still in the exhibit."))


@manage_bp.post("/<int:exhibit_id>/items")
@staff_required(*TEAM)
def add_item(exhibit_id: int):
    exhibit = _posted(exhibit_id)
    try:
        item = building.add_item(db(), g.principal, exhibit, request.form.get("artefact_id", ""),
                                 request.form.get("section") or None)
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Item added. Describe its picture and give it a caption."), f"#item-{item.id}")


@manage_bp.post("/<int:exhibit_id>/items/<int:item_id>")
@staff_required(*TEAM)
def update_item(exhibit_id: int, item_id: int):
    exhibit = _posted(exhibit_id)
    item = _part(ExhibitItem, item_id, exhibit)
    try:
        building.update_item(db(), g.principal, item, request.form.get("section") or None,
                             request.form.get("alt_text", ""), request.form.get("caption", ""))
    except ExhibitError as exc:
        exc.field = f"item-{item.id}-{'alt' if exc.field == 'alt_text' else exc.field}"
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Item saved."), f"#item-{item.id}")


@manage_bp.post("/<int:exhibit_id>/items/<int:item_id>/move")
@staff_required(*TEAM)
def move_item(exhibit_id: int, item_id: int):
    exhibit = _posted(exhibit_id)
    try:
        building.move_item(db(), g.principal, _part(ExhibitItem, item_id, exhibit), request.form.get("direction", ""))
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Order changed."), f"#item-{item_id}")


@manage_bp.post("/<int:exhibit_id>/items/<int:item_id>/remove")
@staff_required(*TEAM)
def remove_item(exhibit_id: int, item_id: int):
    exhibit = _posted(exhibit_id)
    building.remove_item(db(), g.principal, _part(ExhibitItem, item_id, exhibit))
    return _changed(exhibit, gettext("Item taken out of the exhibit."))


@manage_bp.post("/<int:exhibit_id>/publish")
@staff_required(*TEAM)
def publish(exhibit_id: int):
    exhibit = _posted(exhibit_id)
    try:
        live = publishing.publish(db(), g.principal, exhibit)
    except ExhibitError as exc:
        return _refused(exhibit, exc)
    return _changed(exhibit, gettext("Published with %(count)d items. Anyone with the link can see it now.",
                                     count=len(live)))


@manage_bp.post("/<int:exhibit_id>/unpublish")
@staff_required(*TEAM)
def unpublish(exhibit_id: int):
    exhibit = _posted(exhibit_id)
    publishing.unpublish(db(), g.principal, exhibit)
    return _changed(exhibit, gettext("The exhibit is no longer public."))


@manage_bp.get("/<int:exhibit_id>/preview")
@staff_required(*TEAM)
def preview(exhibit_id: int):
    """The exhibit exactly as the public will get it, published or not."""
    exhibit = _exhibit(exhibit_id)
    return _no_store(Response(_page(exhibit, PreviewLinks(exhibit), showing.shown_items(db(), exhibit), True)))


@manage_bp.get("/<int:exhibit_id>/preview/media/<artefact_id>/<kind>")
@staff_required(*TEAM)
def preview_media(exhibit_id: int, artefact_id: str, kind: str):
    return _send(showing.shown_in(db(), _exhibit(exhibit_id), artefact_id), kind)


@manage_bp.get("/<int:exhibit_id>/preview/captions/<artefact_id>.vtt")
@staff_required(*TEAM)
def preview_captions(exhibit_id: int, artefact_id: str):
    return _captions(showing.shown_in(db(), _exhibit(exhibit_id), artefact_id))


def offline_pages(exhibit: Exhibit, shown: list[ShownItem]) -> dict[str, str]:
    links = OfflineLinks()
    pages = {"index.html": _page(exhibit, links, shown)}
    for number in range(1, len(shown) + 1):
        pages[links.slide(number)] = _slide(exhibit, links, shown, number)
    return pages


@manage_bp.post("/<int:exhibit_id>/export")
@staff_required(*TEAM)
def export(exhibit_id: int):
    """Download the offline copy (a zip), recording what it held so a later change can date it."""
    exhibit = _posted(exhibit_id)
    if exhibit.status != ExhibitStatus.PUBLISHED:
        return _refused(exhibit, ExhibitError(gettext("Publish the exhibit before making an offline copy"), "publish"))
    static = Path(current_app.static_folder)
    data, facts = static_copy.build_zip(db(), services().storage, exhibit,
                                        offline_pages(exhibit, showing.shown_items(db(), exhibit)),
                                        {f"assets/{name}": static / name for name in PUBLIC_ASSETS})
    static_copy.record_export(db(), g.principal, exhibit, data, facts)
    db().commit()
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{exhibit.slug}-offline.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

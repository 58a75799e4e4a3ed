"""Analysts' pages: search what children and families said, and read one item, only as far as consent allows.

Everything here is in the ``analysis`` consent context, whoever is asking: a facilitator who opens
these pages sees what an analyst would, not the team view (that is ``staff.artefact``). Items the
context does not allow answer 404, the same as an id that never existed.

The functions above the routes take plain values and know nothing of Flask, so they are tested
on their own; the views only read the request, call them and render.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import labels
from ..consent import Context, allows, may_credit, visible_artefacts
from ..curation.redaction import hidden_words, redactions_of, shareable_text, shown_evidence
from ..curation.shown_media import MediaState, media_state, shown_derivative
from ..models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    Derivative,
    ListeningSession,
    PipelineStep,
    Polarity,
    Programme,
    Redaction,
    Role,
)
from ..principal import Principal
from .access import staff_required
from .forms import PLACE_LABELS as SHARE_PLACE_LABELS
from .lookups import artefact_by_id
from .principals import db, services

bp = Blueprint("analyst", __name__, url_prefix="/analysis")

CONTEXT = Context.ANALYSIS
ANALYSIS_ROLES = (Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
PAGE_SIZE = 20
MAX_VALUES = 50  # per filter: more than any vocabulary has, few enough to keep a query small
MAX_VALUE_CHARS = 64

KIND_LABELS = labels.KIND
POLARITY_LABELS = labels.POLARITY
# Where it happened, as the participant picked it on the share page.
PLACE_LABELS = SHARE_PLACE_LABELS
PLACE_TYPE_LABELS = labels.PLACE_TYPE
SORTS = {
    "relevance": lazy_gettext("Best match"),
    "newest": lazy_gettext("Newest first"),
    "oldest": lazy_gettext("Oldest first"),
}
# Checkbox filters, in the order the page shows them; the date range is separate.
FILTER_FIELDS = ("themes", "polarity", "age_band", "area", "kind", "place", "place_type", "session", "programme")
FILTER_LEGENDS = {
    "themes": lazy_gettext("Theme"),
    "polarity": lazy_gettext("Barrier or asset"),
    "age_band": lazy_gettext("Age group"),
    "area": lazy_gettext("Area"),
    "kind": lazy_gettext("Kind"),
    "place": lazy_gettext("Where it happened"),
    "place_type": lazy_gettext("Where the session was"),
    "session": lazy_gettext("Session"),
    "programme": lazy_gettext("Programme"),
}


# ---- reading the search form --------------------------------------------------------------------


class FormProblem(ValueError):
    """Something in the search form cannot be used; `field` is the id the error summary links to."""

    def __init__(self, message: str, field_id: str):
        super().__init__(message)
        self.field_id = field_id


@dataclass
class SearchRequest:
    query: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    sort: str = "relevance"

    @property
    def searched(self) -> bool:
        """Did the person ask for anything yet? It decides which empty state the page shows."""
        return bool(self.query or self.filters or self.date_from or self.date_to)

    def service_filters(self) -> dict:
        chosen: dict = {k: v for k, v in self.filters.items() if v}
        if self.date_from:
            chosen["date_from"] = self.date_from
        if self.date_to:
            chosen["date_to"] = self.date_to
        return chosen

    def args(self, **changes) -> dict:
        """This request as query-string arguments, for paging and sorting links."""
        values: dict = {"q": self.query or None, **self.filters, "sort": self.sort, "page": self.page}
        values["date_from"] = self.date_from.isoformat() if self.date_from else None
        values["date_to"] = self.date_to.isoformat() if self.date_to else None
        values.update(changes)
        if values.get("sort") == "relevance":
            values["sort"] = None
        if values.get("page") == 1:
            values["page"] = None
        return {k: v for k, v in values.items() if v not in (None, "", [])}


def _date(raw: str | None, field_id: str, label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormProblem(gettext("%(label)s must be a real date, like 2025-03-31", label=label), field_id) from None


def read_search_form(args: Mapping, getlist) -> SearchRequest:
    """The search form's values, checked; raises FormProblem with a message for the person searching.

    `args` is the query string (a mapping), `getlist(name)` its repeated values, so a plain dict of
    lists works as well as Flask's MultiDict.
    """
    request_ = SearchRequest(query=(args.get("q") or "").strip())
    for name in FILTER_FIELDS:
        values = list(dict.fromkeys(v.strip() for v in getlist(name) if v and v.strip()))
        if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise FormProblem(gettext("Choose fewer or shorter values for %(legend)s", legend=FILTER_LEGENDS[name]),
                              f"filter-{name}")
        if values:
            request_.filters[name] = values
    request_.date_from = _date(args.get("date_from"), "date_from", gettext("The first date"))
    request_.date_to = _date(args.get("date_to"), "date_to", gettext("The last date"))
    if request_.date_from and request_.date_to and request_.date_from > request_.date_to:
        raise FormProblem(gettext("The first date must be on or before the last date"), "date_from")
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise FormProblem(gettext("Choose how to sort the results from the list"), "sort")
    request_.sort = sort
    raw_page = (args.get("page") or "1").strip()
    if not raw_page.isdigit() or int(raw_page) < 1:
        raise FormProblem(gettext("The page number must be a whole number, 1 or more"), "q")
    request_.page = int(raw_page)
    return request_


# ---- what a hit or an item may show -------------------------------------------------------------

_MARK = re.compile(r"(</?mark>)")


def safe_snippet(snippet: str, hidden: list[tuple[str, str]] = ()) -> str:
    """The search's snippet with nothing but ``<mark>`` left as markup, and hidden words as ``[label]``.

    The search escapes the text around its marks already; this makes sure of it, so a change in
    the highlighter can never turn a child's words into markup on an analyst's page.
    """
    parts = _MARK.split(snippet or "")
    return "".join(
        p if _MARK.fullmatch(p) else html.escape(shown_evidence(html.unescape(p), hidden) or "", quote=False)
        for p in parts
    )


@dataclass(frozen=True)
class MediaPlan:
    """Which of an item's media this page may show, and why not when it may not.

    Kinds are the ones to ask the media route for ("proxy", "poster", "web_image"); the route then
    serves the copy this reader may see (blurred, bleeped or the original).
    """

    player: str | None = None  # "video", "audio" or "image"
    main: str | None = None
    media_type: str | None = None
    poster: str | None = None
    captions: bool = False
    width: int | None = None
    height: int | None = None
    withheld: str | None = None  # a sentence saying what is not shown and why


def _withheld_reason(artefact: Artefact, what: str) -> str:
    if what == "recording":
        if artefact.kind == ArtefactKind.VIDEO_DIARY and not artefact.consent_face:
            return gettext("The video is not shown: the person did not agree to their face being seen outside "
                           "the team. Read what they said below.")
        if not artefact.consent_voice:
            return gettext("The recording is not played: the person did not agree to their voice being heard "
                           "outside the team. Read what they said below.")
    return gettext("This is not shown yet: a copy with the hidden parts blurred or bleeped is still being made.")


def media_plan(principal: Principal, context: Context, artefact: Artefact, state: MediaState) -> MediaPlan:
    """What may be shown of the item's media in `context`, as ``archive.curation.shown_media`` decides it.

    A recording with words plays in a video element, so its captions can be seen.
    """
    have = {d.kind: d for d in artefact.derivatives}

    def shown(kind: str) -> Derivative | None:
        served = shown_derivative(principal, context, artefact, kind, state)
        return have.get(served) if served else None

    has_words = artefact.transcript is not None and bool(artefact.transcript.segments)
    if "proxy" in have:
        proxy = shown("proxy")
        if proxy is None:
            return MediaPlan(withheld=_withheld_reason(artefact, "recording"))
        is_video = proxy.media_type.startswith("video")
        return MediaPlan(
            player="video" if is_video else "audio", main="proxy", media_type=proxy.media_type,
            poster="poster" if is_video and shown("poster") is not None else None, captions=has_words,
            width=proxy.width, height=proxy.height,
        )
    if "web_image" in have:
        image = shown("web_image")
        if image is None:
            return MediaPlan(withheld=_withheld_reason(artefact, "picture"))
        return MediaPlan(player="image", main="web_image", media_type=image.media_type,
                         width=image.width, height=image.height)
    return MediaPlan()


def thumbnail_kind(principal: Principal, context: Context, artefact: Artefact, state: MediaState) -> str | None:
    """The derivative a result card may ask the media route for as its picture, if any."""
    return next((k for k in ("thumbnail", "poster")
                 if shown_derivative(principal, context, artefact, k, state) is not None), None)


def segment_at(segments: Iterable, moment: float | None):
    """The transcript line (anything with start and end) playing at `moment`, or the first to start after it."""
    if moment is None:
        return None
    ordered = list(segments)
    for segment in ordered:
        if segment.start - 0.01 <= moment < max(segment.end, segment.start + 0.01):
            return segment
    return next((s for s in ordered if s.start >= moment), None)


def parse_moment(raw: str | None) -> float | None:
    """A time in seconds from a link (``?t=12.5``); anything else is no time at all."""
    try:
        moment = float(raw) if raw else None
    except ValueError:
        return None
    return moment if moment is not None and 0 <= moment < 24 * 3600 else None


def theme_labels(programmes: Iterable[Programme]) -> dict[str, str]:
    """Theme code to label across the frameworks of these programmes."""
    from ..programmes import programme_framework

    labels: dict[str, str] = {}
    for programme in programmes:
        for theme in programme_framework(programme):
            labels.setdefault(theme.code, theme.label)
    return labels


def filter_options(name: str, facets: Mapping[str, Mapping[str, int]], chosen: Iterable[str],
                   vocabulary: Mapping[str, str]) -> list[dict]:
    """Checkbox items for one filter: known values and what the search counted, chosen ones kept.

    Counts come only from the search's facets, which are taken after the consent rule; a value
    the facets do not mention is shown without a count rather than with a guess.
    """
    counts = facets.get(name)
    chosen = list(chosen)
    values = list(vocabulary) if vocabulary else []
    for value in list(counts or {}) + chosen:
        if value not in values:
            values.append(value)
    items = []
    for value in values:
        label = str(vocabulary.get(value, value))
        count = None if counts is None else counts.get(value, 0)
        items.append({"value": value, "label": label, "count": count, "checked": value in chosen})
    if counts is not None and name not in ("polarity", "kind", "age_band"):
        # Long lists (themes, areas, sessions): what occurs first, then what does not, each alphabetical.
        items.sort(key=lambda i: (-(i["count"] or 0) if i["count"] else 1, i["label"].lower()))
    return items


def page_numbers(current: int, pages: int, around: int = 2) -> list[int | None]:
    """Page links to show: the first, the last and a few around the current one; None marks a gap."""
    shown: list[int | None] = []
    for n in sorted({1, pages, *range(max(1, current - around), min(pages, current + around) + 1)}):
        if shown and shown[-1] is not None and n - shown[-1] > 1:
            shown.append(None)
        shown.append(n)
    return shown


# ---- views -------------------------------------------------------------------------------------


def _programmes(principal: Principal) -> list[Programme]:
    ids = sorted(principal.programmes_for(CONTEXT.value))
    if not ids:
        return []
    return list(db().scalars(select(Programme).where(Programme.id.in_(ids)).order_by(Programme.name)))


def _vocabularies(programmes: list[Programme]) -> dict[str, dict[str, str]]:
    sessions = db().scalars(
        select(ListeningSession).where(ListeningSession.programme_id.in_([p.id for p in programmes]))
        .order_by(ListeningSession.name)
    ).all() if programmes else []
    return {
        "themes": theme_labels(programmes),
        "polarity": {p.value: str(POLARITY_LABELS[p]) for p in (Polarity.BARRIER, Polarity.ASSET)},
        "age_band": {b.value: b.label for b in AgeBand},
        "area": {},
        "kind": {k.value: str(label) for k, label in KIND_LABELS.items()},
        "place": {k: str(v) for k, v in PLACE_LABELS.items()},
        "place_type": {p.value: str(label) for p, label in PLACE_TYPE_LABELS.items()},
        "session": {str(s.id): f"{s.name} ({s.area_code})" for s in sessions},
        "programme": {str(p.id): p.name for p in programmes} if len(programmes) > 1 else {},
    }


def _redactions_by_artefact(ids: list) -> dict[str, list[Redaction]]:
    found: dict[str, list[Redaction]] = {}
    for redaction in db().scalars(select(Redaction).where(Redaction.artefact_id.in_(ids))) if ids else ():
        found.setdefault(str(redaction.artefact_id), []).append(redaction)
    return found


def _cards(principal: Principal, hits) -> list[dict]:
    ids = []
    for hit in hits:
        try:
            ids.append(uuid.UUID(hit.id))
        except ValueError:
            continue
    rows = {
        str(a.id): a for a in db().scalars(
            select(Artefact).where(Artefact.id.in_(ids), visible_artefacts(principal, CONTEXT))
            .options(selectinload(Artefact.derivatives))
        )
    } if ids else {}
    redactions = _redactions_by_artefact(list(ids))
    cards = []
    for hit in hits:
        artefact = rows.get(hit.id)
        if artefact is None:
            continue  # the search already left it out; a row gone since is not shown either
        mine = redactions.get(hit.id, [])
        kinds = {r.kind for r in mine}
        state = MediaState(available=frozenset(d.kind for d in artefact.derivatives),
                           boxes="box" in kinds, sound="audio" in kinds)
        # The index holds the words as they were written; hidden ones are covered here as well.
        hidden = hidden_words(artefact, mine) if "text" in kinds else []
        start = getattr(hit, "segment_start", None)
        link = url_for("analyst.item", artefact_id=hit.id, t=f"{start:.2f}" if start is not None else None)
        cards.append({
            "hit": hit, "artefact": artefact, "link": link, "moment": start,
            "title": shown_evidence(getattr(hit, "title", None), hidden),
            "snippet": safe_snippet(hit.snippet, hidden),
            "thumbnail": thumbnail_kind(principal, CONTEXT, artefact, state),
        })
    return cards


@bp.get("/search")
@staff_required(*ANALYSIS_ROLES)
def search():
    """Search the words, pictures and recordings this person may read in analysis, with filters."""
    from search.service import QueryError, run_search

    principal = g.principal
    programmes = _programmes(principal)
    vocabularies = _vocabularies(programmes)
    problem, result, form = None, None, SearchRequest()
    try:
        form = read_search_form(request.args, request.args.getlist)
    except FormProblem as exc:
        problem = {"text": str(exc), "href": f"#{exc.field_id}"}
    if problem is None:
        try:
            result = run_search(services(), principal, CONTEXT, form.query, filters=form.service_filters(),
                                page=form.page, pagelen=PAGE_SIZE, sort=form.sort)
        except QueryError as exc:
            # A filter problem links to its checkboxes when the search says which filter it was.
            field_name = getattr(exc, "field", None)
            target = f"filter-{field_name}" if field_name in FILTER_FIELDS else (
                field_name if field_name in ("date_from", "date_to") else "q")
            problem = {"text": str(exc), "href": f"#{target}"}
    facets = result.facets if result is not None else {}
    filters = [
        {"name": name, "legend": FILTER_LEGENDS[name],
         "items": filter_options(name, facets, form.filters.get(name, []), vocabularies[name])}
        for name in FILTER_FIELDS
    ]
    filters = [f for f in filters if f["items"]]
    cards = _cards(principal, result.hits) if result is not None else []
    pages = -(-result.total // PAGE_SIZE) if result is not None else 0
    past_end = result is not None and result.total > 0 and not result.hits and form.page > pages
    return render_template(
        "analyst/search.html", form=form, result=result, cards=cards, filters=filters, pages=pages,
        past_end=past_end, page_numbers=page_numbers(form.page, pages) if pages > 1 else [], sorts=SORTS,
        error_list=[problem] if problem else [], labels=vocabularies,
        kind_labels={k.value: str(v) for k, v in KIND_LABELS.items()},
    ), (200 if problem is None else 400)


def _visible_item(artefact_id: str) -> Artefact:
    artefact = artefact_by_id(artefact_id)
    if not g.principal.has_role(artefact.programme_id, *ANALYSIS_ROLES) or not allows(g.principal, CONTEXT, artefact):
        abort(404)
    return artefact


@bp.get("/items/<artefact_id>")
@staff_required(*ANALYSIS_ROLES)
def item(artefact_id: str):
    """One item as analysis may see it: media, story, transcript beside the player, themes and their evidence."""
    artefact = _visible_item(artefact_id)
    # Analysis is beyond the team: every word is read as redaction leaves it.
    text = shareable_text(db(), artefact)
    hidden = hidden_words(artefact, redactions_of(db(), artefact.id, "text"))
    moment = parse_moment(request.args.get("t"))
    current = segment_at(text.segments, moment)
    steps = db().scalars(
        select(PipelineStep).where(PipelineStep.artefact_id == artefact.id).order_by(PipelineStep.position)
    ).all()
    programme = db().get(Programme, artefact.programme_id)
    return render_template(
        "analyst/item.html", artefact=artefact, text=text,
        plan=media_plan(g.principal, CONTEXT, artefact, media_state(db(), artefact)),
        segments=text.segments, current=current, start=current.start if current is not None else moment,
        evidence={tag.id: shown_evidence(tag.evidence, hidden) for tag in artefact.tags},
        steps=steps, theme_labels=theme_labels([programme]), credit=may_credit(g.principal, CONTEXT, artefact),
        kind_label=KIND_LABELS[artefact.kind], polarity_labels={p.value: str(v) for p, v in POLARITY_LABELS.items()},
        place_labels=PLACE_LABELS,
    )


@bp.get("/items/<artefact_id>/captions.vtt")
@staff_required(*ANALYSIS_ROLES)
def captions(artefact_id: str):
    """WebVTT captions made from the transcript as it may be read beyond the team.

    Never the file the pipeline wrote: that is the machine's first transcript, before corrections
    and before any words were hidden. Only with the recording itself: captions go where the player goes.
    """
    artefact = _visible_item(artefact_id)
    plan = media_plan(g.principal, CONTEXT, artefact, media_state(db(), artefact))
    if plan.player not in ("audio", "video") or not plan.captions:
        abort(404)
    from media.transcribe import to_webvtt

    response = Response(to_webvtt(shareable_text(db(), artefact)), mimetype="text/vtt")
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Themes, map and reach pages: counts through the consent gate and disclosure control, as charts, tables and CSV.

Every count here is in the ``analysis`` consent context and every number shown has been through
``archive.analysis.disclosure``, whoever is asking: these pages are what leaves the team. The
domain work is in ``archive.analysis``; the views pick the programme, call it and render.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional

from ..analysis.boundaries import BoundaryError, load_boundaries, parse_boundaries, replace_boundaries
from ..analysis.charts import ChartSpec, bar_chart, heat_map
from ..analysis.disclosure import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD, check_threshold, protect_count, threshold_for
from ..analysis.maps import area_counts, area_population, choropleth, map_data
from ..analysis.reach import PopulationError, analyse_reach, parse_population, replace_population
from ..analysis.themes import analyse_themes, counted_rows, theme_labels
from ..exports.csvsafe import csv_bytes
from ..audit import record_event
from ..models import Programme, Role
from .access import require_programme_role, staff_required
from .principals import db

bp = Blueprint("analysis", __name__, url_prefix="/analysis")

ANALYSIS_ROLES = (Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
UPLOAD_ROLES = (Role.ADMIN, Role.FACILITATOR)


class BoundaryForm(FlaskForm):
    boundaries = FileField(lazy_gettext("Boundary file (GeoJSON)"))
    code_property = StringField(
        lazy_gettext("Name of the area code property (optional)"),
        validators=[Optional(), Length(max=64, message=lazy_gettext("A property name is up to 64 characters."))],
    )


class PopulationForm(FlaskForm):
    population = FileField(lazy_gettext("Population figures (CSV)"))


class ThresholdForm(FlaskForm):
    threshold = StringField(
        lazy_gettext("Smallest count that may be shown"),
        validators=[Length(max=8, message=lazy_gettext("Enter a whole number, such as 5."))],
    )


# -- choosing the programme ----------------------------------------------------------------------


def _my_programmes() -> list[Programme]:
    ids = {pid for pid, role in g.principal.roles if role in ANALYSIS_ROLES}
    if not ids:
        return []
    return list(db().scalars(select(Programme).where(Programme.id.in_(ids)).order_by(Programme.name)))


def _by_code(code: str, *roles: Role) -> Programme:
    programme = db().scalar(select(Programme).where(Programme.code == code[:64]))
    if programme is None:
        abort(404)
    require_programme_role(programme.id, *roles)
    return programme


def _chosen() -> Programme | None:
    """The programme named in ?programme=, or the only one the person works on; None means "ask"."""
    code = request.args.get("programme", "").strip()
    if code:
        return _by_code(code, *ANALYSIS_ROLES)
    mine = _my_programmes()
    if len(mine) == 1:
        return mine[0]
    if not mine:
        abort(404)
    return None


def _choose(page: str):
    return render_template("analysis/choose.html", programmes=_my_programmes(), page=page)


def _csv(rows: list[list[str]], name: str) -> Response:
    return Response(
        csv_bytes(rows[0], rows[1:]),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _may_upload(programme: Programme) -> bool:
    return g.principal.has_role(programme.id, *UPLOAD_ROLES)


# -- themes -------------------------------------------------------------------------------------


def _theme_charts(programme: Programme) -> tuple[list[ChartSpec], int, str]:
    analysis = analyse_themes(db(), g.principal, programme)
    t = analysis.threshold
    specs: list[ChartSpec] = []

    def add(key, title, description, table, svg_fn, first_header):
        specs.append(ChartSpec(key, title, description, table, svg_fn(table, f"chart-{key}", title, description), first_header))

    add("totals", _("Items by theme"),
        _("Bar chart: how many items were tagged with each theme. Hidden small numbers are hatched."),
        analysis.totals.protect(t, row_totals=False), bar_chart, _("Theme"))
    for key, title, header in (
        ("age_band", _("Themes by age group"), _("Theme")),
        ("area", _("Themes by area"), _("Theme")),
        ("kind", _("Themes by kind of item"), _("Theme")),
        ("polarity", _("Themes as barriers and assets"), _("Theme")),
    ):
        add(key, title,
            _("Heat map: items per theme (rows) and column. Darker is more; each cell shows its number."),
            analysis.by[key].protect(t), heat_map, header)
    add("together", _("Themes that come up together"),
        _("Heat map: items tagged with both the row's and the column's theme; the diagonal is all items with the theme."),
        analysis.together.protect(t, row_totals=False, column_totals=False), heat_map, _("Theme"))
    add("months", _("Themes over time"),
        _("Heat map: items per theme (rows) by the month they were shared (columns)."),
        analysis.over_time.protect(t), heat_map, _("Theme"))
    return specs, t, protect_count(analysis.items, t).display


@bp.get("/themes")
@staff_required(*ANALYSIS_ROLES)
def themes():
    """Theme counts by age group, area, kind and polarity, together and over time."""
    programme = _chosen()
    if programme is None:
        return _choose("analysis.themes")
    specs, threshold, items = _theme_charts(programme)
    return render_template(
        "analysis/themes.html", programme=programme, specs=specs, threshold=threshold, items=items,
        may_set_threshold=g.principal.has_role(programme.id, Role.ADMIN),
    )


@bp.get("/themes.csv")
@staff_required(*ANALYSIS_ROLES)
def themes_csv():
    """One of the themes page's tables, exactly as shown."""
    programme = _chosen()
    if programme is None:
        abort(404)
    key = request.args.get("table", "totals")
    specs, _t, _items = _theme_charts(programme)
    spec = next((s for s in specs if s.key == key), None)
    if spec is None:
        abort(404)
    return _csv(spec.table.display_rows(spec.first_header, _("Total")), f"{programme.code}-themes-{key}")


# -- map ----------------------------------------------------------------------------------------


def _map(programme: Programme):
    themes = theme_labels(programme, _programme_theme_codes(programme))
    theme = request.args.get("theme", "")
    if theme and theme not in themes:
        theme = ""
        flash(_("That theme is not one this programme has counts for, so the map shows all items."))
    measure = "rate" if request.args.get("measure") == "rate" else "count"
    areas = load_boundaries(db(), programme)
    population = area_population(db(), programme)
    data = map_data(area_counts(db(), g.principal, programme, theme or None), areas, population, threshold_for(programme))
    return themes, theme, measure, areas, data, population


def _programme_theme_codes(programme: Programme) -> list[str]:
    return [r.theme for r in counted_rows(db(), g.principal, programme)]


def _map_headers() -> list[str]:
    return [_("Area code"), _("Area"), _("Items"), _("Population"), _("Items per 1,000 people")]


@bp.get("/map")
@staff_required(*ANALYSIS_ROLES)
def map_page():
    """Items (or items per 1,000 people) per area as a choropleth; click an area to search it."""
    programme = _chosen()
    if programme is None:
        return _choose("analysis.map_page")
    themes, theme, measure, areas, data, population = _map(programme)
    if measure == "rate" and not population:
        measure = "count"
    what = themes.get(theme, _("all items"))
    title = _("Items per 1,000 people by area: %(what)s", what=what) if measure == "rate" else _("Items by area: %(what)s", what=what)
    svg = choropleth(
        areas, data, "chart-map", title,
        _("Map of the programme's areas, each shaded by its number and labelled with it. Hidden small numbers are hatched. Each area links to a search of it."),
        lambda code: url_for("analyst.search", area=code),
        use_rate=measure == "rate",
    )
    return render_template(
        "analysis/map.html", programme=programme, themes=themes, theme=theme, measure=measure, svg=svg, data=data,
        rows=data.display_rows(_map_headers()), has_population=bool(population), threshold=threshold_for(programme),
        may_upload=_may_upload(programme),
    )


@bp.get("/map.csv")
@staff_required(*ANALYSIS_ROLES)
def map_csv():
    """The map's table, exactly as shown."""
    programme = _chosen()
    if programme is None:
        abort(404)
    _themes, theme, _m, _a, data, _p = _map(programme)
    return _csv(data.display_rows(_map_headers()), f"{programme.code}-map{'-' + theme if theme else ''}")


# -- reach --------------------------------------------------------------------------------------


@bp.get("/reach")
@staff_required(*ANALYSIS_ROLES)
def reach():
    """Who has been heard by area, age group and SEND, against the population, with seldom-heard groups marked."""
    programme = _chosen()
    if programme is None:
        return _choose("analysis.reach")
    result = analyse_reach(db(), g.principal, programme, threshold_for(programme))
    title = _("Participants heard by area and age group")
    key = _("Key (people)")
    svg = heat_map(result.heard, "chart-heard", title,
                   _("Heat map: participants heard per area (rows) and age group (columns). Each cell shows its number."), key)
    send_title = _("Participants heard by age group and SEND")
    send_svg = heat_map(result.send, "chart-send", send_title,
                        _("Heat map: participants heard with and without special educational needs and disabilities, by age group."), key)
    return render_template(
        "analysis/reach.html", programme=programme, result=result, svg=svg, title=title,
        send_svg=send_svg, send_title=send_title, rate_rows=result.rate_rows(_("All areas"), _("All ages")),
        may_upload=_may_upload(programme),
    )


@bp.get("/reach.csv")
@staff_required(*ANALYSIS_ROLES)
def reach_csv():
    """One of the reach page's tables, exactly as shown: heard, rates or send."""
    programme = _chosen()
    if programme is None:
        abort(404)
    result = analyse_reach(db(), g.principal, programme, threshold_for(programme))
    key = request.args.get("table", "heard")
    rows = {
        "heard": lambda: result.heard.display_rows(_("Area"), _("Total")),
        "rates": lambda: result.rate_rows(_("All areas"), _("All ages")),
        "send": lambda: result.send.display_rows(_("Age group"), _("Total")),
    }.get(key)
    if rows is None:
        abort(404)
    return _csv(rows(), f"{programme.code}-reach-{key}")


# -- uploads (the programme's team) -------------------------------------------------------------


def _upload_bytes(field, limit: int) -> bytes | None:
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return upload.stream.read(limit + 1)


def _upload_page(form, field, *, limit: int, missing: str, parse, error, save, saved: str, then: str):
    """One upload form's round trip: read the file, check it, save it and go on, or show what is wrong.

    Returns the redirect after a save, or None with the field's errors set (the caller renders, 400).
    """
    if not form.validate_on_submit():
        return None
    data = _upload_bytes(field, limit)
    try:
        if data is None:
            raise error(missing)
        parsed = parse(data)
    except error as exc:
        field.errors = [str(exc)]
        return None
    count = save(parsed)
    db().commit()
    flash(saved % {"count": count})
    return redirect(then)


@bp.route("/programme/<code>/boundaries", methods=["GET", "POST"])
@staff_required(*UPLOAD_ROLES)
def boundaries(code: str):
    """Upload the programme's area boundaries (GeoJSON)."""
    from ..analysis.boundaries import MAX_BYTES

    programme = _by_code(code, *UPLOAD_ROLES)
    form = BoundaryForm()
    done = _upload_page(
        form, form.boundaries, limit=MAX_BYTES, error=BoundaryError,
        missing=_("Choose a GeoJSON file of your area boundaries."),
        parse=lambda data: parse_boundaries(data, (form.code_property.data or "").strip() or None),
        save=lambda areas: replace_boundaries(db(), g.principal, programme, areas),
        saved=_("Saved %(count)d area boundaries."), then=url_for("analysis.map_page", programme=programme.code),
    )
    if done is not None:
        return done
    current = load_boundaries(db(), programme)
    status = 400 if request.method == "POST" else 200
    return render_template("analysis/boundaries.html", programme=programme, form=form, current=current), status


@bp.route("/programme/<code>/population", methods=["GET", "POST"])
@staff_required(*UPLOAD_ROLES)
def population(code: str):
    """Upload the programme's expected population figures (CSV: area, age band, population)."""
    from ..analysis.reach import MAX_BYTES

    programme = _by_code(code, *UPLOAD_ROLES)
    form = PopulationForm()
    done = _upload_page(
        form, form.population, limit=MAX_BYTES, error=PopulationError,
        missing=_("Choose a CSV file of population figures."), parse=parse_population,
        save=lambda rows: replace_population(db(), g.principal, programme, rows),
        saved=_("Saved %(count)d population figures."), then=url_for("analysis.reach", programme=programme.code),
    )
    if done is not None:
        return done
    figures = area_population(db(), programme)
    status = 400 if request.method == "POST" else 200
    return render_template("analysis/population.html", programme=programme, form=form, figures=figures), status


@bp.route("/programme/<code>/threshold", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def threshold(code: str):
    """Set the programme's small-count threshold: counts under it are hidden outside the team."""
    programme = _by_code(code, Role.ADMIN)
    form = ThresholdForm()
    status = 200
    if form.validate_on_submit():
        raw = (form.threshold.data or "").strip()
        try:
            value = check_threshold(int(raw))
        except ValueError:
            form.threshold.errors = [_(
                "Enter a whole number from %(low)d to %(high)d, or 0 to switch hiding small counts off.",
                low=MIN_THRESHOLD, high=MAX_THRESHOLD,
            )]
            status = 400
        else:
            record_event(db(), g.principal, "analysis.threshold_set", "programme", programme.id,
                         old=programme.small_count_threshold, new=value)
            programme.small_count_threshold = value
            db().commit()
            flash(_("Counts under %(n)d are now hidden outside the team.", n=value) if value > 1
                  else _("Small counts are no longer hidden."))
            return redirect(url_for("analysis.themes", programme=programme.code))
    elif request.method == "POST":
        status = 400
    else:
        form.threshold.data = str(programme.small_count_threshold)
    return render_template("analysis/threshold.html", programme=programme, form=form, default=DEFAULT_THRESHOLD), status

"""The choropleth: items (or items per 1,000 people) per area, drawn as SVG from the programme's boundaries.

Projection: equirectangular with longitude scaled by the cosine of the middle latitude, which is
true enough in shape for a borough or a county and needs no projection library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from flask_babel import lazy_gettext
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..consent import Context, visible_artefacts
from ..models import Artefact, Participant, PopulationFigure, Programme, ThemeTag
from ..principal import Principal
from .boundaries import Area
from .charts import FONT, HATCH, HIDDEN, INK, NO_FIGURE, STEPS, _esc, _hatch, legend, step_for
from .disclosure import Cell, ProtectedTable, protect_series
from .tags import counted_tags

WIDTH = 640


def area_counts(db: Session, principal: Principal, programme: Programme, theme: str | None = None) -> dict[str, int]:
    """Items per area (the participant's area) that the principal may analyse; with a theme, items tagged with it."""
    query = (
        select(Participant.area_code, func.count(func.distinct(Artefact.id)))
        .join(Participant, Participant.id == Artefact.participant_id)
        .where(Artefact.programme_id == programme.id, visible_artefacts(principal, Context.ANALYSIS))
        .group_by(Participant.area_code)
    )
    if theme:
        query = query.join(ThemeTag, ThemeTag.artefact_id == Artefact.id).where(ThemeTag.theme == theme, counted_tags())
    return {code: count for code, count in db.execute(query)}


def area_population(db: Session, programme: Programme) -> dict[str, int]:
    query = (
        select(PopulationFigure.area_code, func.sum(PopulationFigure.population))
        .where(PopulationFigure.programme_id == programme.id)
        .group_by(PopulationFigure.area_code)
    )
    return {code: int(total) for code, total in db.execute(query)}


@dataclass(frozen=True)
class AreaFigure:
    code: str
    name: str
    count: Cell
    population: int | None

    @property
    def rate(self) -> float | None:
        """Items per 1,000 people, only where the count itself may be shown (else it would give the count away)."""
        if not self.count.shown or not self.population:
            return None
        return 1000 * self.count.value / self.population

    @property
    def rate_display(self) -> str:
        if self.population is None or self.population == 0:
            return str(NO_FIGURE)
        return f"{self.rate:.1f}" if self.rate is not None else str(HIDDEN)


@dataclass(frozen=True)
class MapData:
    figures: list[AreaFigure]
    table: ProtectedTable
    unmapped: list[str]  # areas with items but no boundary

    def display_rows(self, headers: Sequence[str]) -> list[list[str]]:
        out = [list(headers)]
        for f in self.figures:
            out.append([f.code, f.name, f.count.display, "" if f.population is None else str(f.population), f.rate_display])
        if self.table.column_totals is not None:
            total = self.table.column_totals[0]
            out.append([str(lazy_gettext("Total")), "", total.display, "", ""])
        return out


def map_data(counts: dict[str, int], areas: Sequence[Area], population: dict[str, int], threshold: int) -> MapData:
    """Protect the per-area counts and pair them with names and population."""
    names = {a.code: a.name for a in areas}
    codes = sorted(set(names) | set(counts))
    table = protect_series(codes, [counts.get(c, 0) for c in codes], threshold)
    figures = [
        AreaFigure(code, names.get(code, ""), table.cells[n][0], population.get(code)) for n, code in enumerate(codes)
    ]
    return MapData(figures, table, [c for c in codes if c not in names and counts.get(c)])


def _rings(geometry: dict) -> list[list[list[float]]]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [ring for polygon in polygons for ring in polygon]


def _projector(areas: Sequence[Area]) -> tuple[Callable[[float, float], tuple[float, float]], int]:
    points = [p for a in areas for ring in _rings(a.geometry) for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    x_scale = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * x_scale, 1e-9)
    span_y = max(max(lats) - min(lats), 1e-9)
    pad = 10
    scale = (WIDTH - 2 * pad) / span_x
    height = int(span_y * scale + 2 * pad)
    if height > WIDTH:  # a tall place: fit the height instead
        scale = (WIDTH - 2 * pad) / span_y
        height = WIDTH

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (pad + (lon - min(lons)) * x_scale * scale, pad + (max(lats) - lat) * scale)

    return project, height


def _path(geometry: dict, project) -> str:
    parts = []
    for ring in _rings(geometry):
        xy = [project(lon, lat) for lon, lat in ring]
        parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + " Z")
    return " ".join(parts)


def _label_point(geometry: dict, project) -> tuple[float, float]:
    """The middle of the largest outer ring's bounding box: good enough for compact areas."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    outer = max((p[0] for p in polygons), key=len)
    xy = [project(lon, lat) for lon, lat in outer]
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def choropleth(
    areas: Sequence[Area],
    data: MapData,
    chart_id: str,
    title: str,
    desc: str,
    link_for: Callable[[str], str],
    use_rate: bool = False,
) -> Markup:
    """Each area shaded by its count (or rate) and labelled with it; each links to a search of that area."""
    if not areas:
        return Markup("")
    project, height = _projector(areas)
    by_code = {f.code: f for f in data.figures}
    value = (lambda f: f.rate) if use_rate else (lambda f: f.count.value if f.count.shown else None)
    shown = [value(f) for f in data.figures if value(f) is not None]
    top = max(shown or [0])
    scale_top = max(1, math.ceil(top))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chorus-chart chorus-map" role="group" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" viewBox="0 0 {WIDTH} {height + 50}" '
        f'width="{WIDTH}" height="{height + 50}" preserveAspectRatio="xMinYMin meet" font-family="{FONT}" font-size="14" fill="{INK}">'
        f'<title id="{chart_id}-title">{_esc(title)}</title><desc id="{chart_id}-desc">{_esc(desc)}</desc>'
        f"<defs>{_hatch(chart_id + '-hatch')}</defs>"
    ]
    labels = []
    for area in areas:
        figure = by_code[area.code]
        v = value(figure)
        if v is None:
            fill, ink = f"url(#{chart_id}-hatch)", INK
        else:
            fill, ink = STEPS[step_for(math.ceil(v), scale_top)]
        shown_text = str(lazy_gettext("%(rate)s per 1,000", rate=figure.rate_display)) if use_rate else figure.count.display
        name = figure.name or area.code
        # Outside the f-string, so that message extraction finds it.
        label = lazy_gettext("%(name)s (%(code)s): %(value)s. Search this area", name=name, code=area.code, value=shown_text)
        out.append(
            f'<a href="{_esc(link_for(area.code))}" aria-label="{_esc(label)}">'
            f'<path d="{_path(area.geometry, project)}" fill="{fill}" fill-rule="evenodd" stroke="{INK}" stroke-width="1.5"/></a>'
        )
        x, y = _label_point(area.geometry, project)
        labels.append(
            f'<rect x="{x - 44:.1f}" y="{y - 17:.1f}" width="88" height="36" fill="#ffffff" stroke="{HATCH}" rx="3"/>'
            f'<text x="{x:.1f}" y="{y - 2:.1f}" text-anchor="middle" font-weight="bold">{_esc(area.code)}</text>'
            f'<text x="{x:.1f}" y="{y + 14:.1f}" text-anchor="middle">{_esc(shown_text if not use_rate else figure.rate_display)}</text>'
        )
    # Labels sit on top of every shape and ignore the pointer, so a click anywhere on an area follows its link.
    out.append(f'<g aria-hidden="true" pointer-events="none">{"".join(labels)}</g>')
    out.append(f'<g aria-hidden="true">{legend(chart_id, math.ceil(top), 10, height + 14, caption=None, step=88)}</g>')
    out.append("</svg>")
    return Markup("".join(out))

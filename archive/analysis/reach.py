"""Reach: who has been heard, against the population the programme expects, so seldom-heard groups stand out.

"Heard", outside the team, means a participant with at least one item analysts may see (the
consent gate for analysis: report consent, processed and reviewed). Someone who shared only with
the team, or shared nothing yet, is not counted here: counting them would tell analysts about
people who did not agree to be part of a report. Counts are of participants, not items, and go
through the same disclosure control as every other count.

A group is "seldom heard" when its rate per 1,000 people is under half the programme's overall
rate. A hidden count is flagged only when even the largest number it could be (threshold - 1)
would be seldom heard, so the flag never narrows what the hidden number is.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..consent import Context, visible_artefacts
from ..models import AgeBand, Artefact, Participant, PopulationFigure, Programme
from ..principal import Principal
from .boundaries import normalise_area_code
from .charts import HIDDEN, NO_FIGURE
from .disclosure import Cell, CellState, ProtectedTable, protect
from .themes import AGE_LABELS

MAX_BYTES = 1024 * 1024
MAX_ROWS = 10_000
MAX_POPULATION = 50_000_000
SELDOM_FRACTION = 0.5
HEADERS = {
    "area": "area", "area_code": "area", "area code": "area",
    "age_band": "age_band", "age band": "age_band", "age": "age_band",
    "population": "population", "count": "population",
}


class PopulationError(ValueError):
    """A population file that cannot be used; the message lists what to fix."""


def _band_names() -> dict[str, AgeBand]:
    names: dict[str, AgeBand] = {}
    for band in AgeBand:
        for name in (band.value, band.value.replace("_", "-"), band.value.replace("_", " to "), band.label, str(AGE_LABELS[band])):
            names[re.sub(r"\s+", " ", name.strip().lower())] = band
    return names


BAND_NAMES = _band_names()


@dataclass(frozen=True)
class PopulationRow:
    area: str
    age_band: AgeBand
    population: int


def parse_population(data: bytes) -> list[PopulationRow]:
    """Check a population CSV (area, age band, population) and return its rows, or raise PopulationError."""
    if not data.strip():
        raise PopulationError(lazy_gettext(
            "The file is empty. It needs a header row (area, age band, population) and one row per group."
        ))
    if len(data) > MAX_BYTES:
        raise PopulationError(lazy_gettext("The file is larger than 1 MB."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PopulationError(lazy_gettext("The file is not UTF-8 text. Save it from your spreadsheet as 'CSV UTF-8'.")) from None
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise PopulationError(lazy_gettext("The file is not readable as CSV (%(problem)s).", problem=str(exc))) from None
    if not lines:
        raise PopulationError(lazy_gettext("The file has no header row (area, age band, population)."))
    header = [HEADERS.get(h.strip().lower().replace("-", "_")) for h in lines[0]]
    missing = [name for name in ("area", "age_band", "population") if name not in header]
    if missing:
        raise PopulationError(lazy_gettext(
            "The first row must name the columns area, age band and population; missing: %(missing)s.",
            missing=", ".join(m.replace("_", " ") for m in missing),
        ))
    col = {name: header.index(name) for name in ("area", "age_band", "population")}
    body = [(n, line) for n, line in enumerate(lines[1:], start=2) if any(v.strip() for v in line)]
    if not body:
        raise PopulationError(lazy_gettext("The file has a header row but no figures."))
    if len(body) > MAX_ROWS:
        raise PopulationError(lazy_gettext("The file has %(n)d rows; up to %(most)d can be used.", n=len(body), most=MAX_ROWS))
    rows, problems, seen = [], [], set()
    for n, line in body:
        cells = {name: (line[i].strip() if i < len(line) else "") for name, i in col.items()}
        area = normalise_area_code(cells["area"])
        band = BAND_NAMES.get(re.sub(r"\s+", " ", cells["age_band"].lower()))
        population = cells["population"].replace(",", "")
        if area is None:
            problems.append(lazy_gettext(
                "Row %(n)d: the area %(area)s is not 1 to 32 letters, digits, dashes or underscores.",
                n=n, area=repr(cells["area"][:40]),
            ))
        elif band is None:
            problems.append(lazy_gettext(
                "Row %(n)d: the age band %(band)s is not one of %(bands)s.",
                n=n, band=repr(cells["age_band"][:40]), bands=", ".join(b.value for b in AgeBand),
            ))
        elif not population.isdigit() or int(population) > MAX_POPULATION:
            problems.append(lazy_gettext(
                "Row %(n)d: the population %(value)s is not a whole number from 0 to %(most)s.",
                n=n, value=repr(cells["population"][:20]), most=f"{MAX_POPULATION:,}",
            ))
        elif (area, band) in seen:
            problems.append(lazy_gettext("Row %(n)d: %(area)s and %(band)s appear more than once.", n=n, area=area, band=band.value))
        else:
            seen.add((area, band))
            rows.append(PopulationRow(area, band, int(population)))
        if len(problems) >= 10:
            problems.append(lazy_gettext("Later rows were not checked."))
            break
    if problems:
        raise PopulationError(" ".join(map(str, problems)))
    return rows


def replace_population(db: Session, principal: Principal, programme: Programme, rows: list[PopulationRow]) -> int:
    db.execute(delete(PopulationFigure).where(PopulationFigure.programme_id == programme.id))
    for row in rows:
        db.add(PopulationFigure(programme_id=programme.id, area_code=row.area, age_band=row.age_band, population=row.population))
    record_event(db, principal, "analysis.population_uploaded", "programme", programme.id, rows=len(rows))
    return len(rows)


def heard_participants(db: Session, principal: Principal, programme: Programme) -> list[tuple[str, AgeBand, bool]]:
    """(area, age band, SEND) of each participant with at least one item the principal may analyse."""
    has_visible_item = exists().where(
        Artefact.participant_id == Participant.id, visible_artefacts(principal, Context.ANALYSIS)
    )
    query = select(Participant.area_code, Participant.age_band, Participant.send).where(
        Participant.programme_id == programme.id, has_visible_item
    )
    return [(area, band, bool(send)) for area, band, send in db.execute(query)]


@dataclass(frozen=True)
class Rate:
    count: Cell
    population: int | None
    rate: float | None  # per 1,000; None when the count is hidden or there is no population figure
    seldom: bool | None  # None: cannot say without giving the hidden count away

    @property
    def rate_display(self) -> str:
        if not self.population:
            return str(NO_FIGURE)
        return str(HIDDEN) if self.rate is None else f"{self.rate:.1f}"


def judge(count: Cell, population: int | None, overall: float | None, threshold: int) -> Rate:
    if not population:
        return Rate(count, population, None, None)
    cutoff = None if overall is None else SELDOM_FRACTION * overall
    if count.shown:
        rate = 1000 * count.value / population
        if count.value == 0:  # nobody heard from a group that exists is seldom heard, whatever the overall rate
            return Rate(count, population, rate, True)
        return Rate(count, population, rate, None if cutoff is None else rate < cutoff)
    if count.state == CellState.PRIMARY and cutoff is not None and 1000 * (threshold - 1) / population < cutoff:
        return Rate(count, population, None, True)
    return Rate(count, population, None, None)


@dataclass(frozen=True)
class Reach:
    threshold: int
    areas: tuple[str, ...]
    bands: tuple[AgeBand, ...]
    heard: ProtectedTable  # areas by age bands, participants heard
    rates: list[list[Rate]]  # the same shape with totals: last row all areas, last column all ages
    overall_rate: float | None
    send: ProtectedTable  # age bands by SEND / not SEND
    has_population: bool

    def rate_rows(self, all_areas: str = "All areas", all_ages: str = "All ages") -> list[list[str]]:
        header = [str(lazy_gettext("Area")), *(str(AGE_LABELS[b]) for b in self.bands), all_ages]
        out = [header]
        for i, label in enumerate([*self.areas, all_areas]):
            out.append([label, *(_rate_text(r) for r in self.rates[i])])
        return out


def _rate_text(rate: Rate) -> str:
    if rate.population and rate.rate is None:
        text = lazy_gettext(
            "%(count)s heard of %(population)s (rate hidden)", count=rate.count.display, population=f"{rate.population:,}"
        )
    elif rate.population:
        text = lazy_gettext(
            "%(count)s heard of %(population)s: %(rate)s per 1,000",
            count=rate.count.display, population=f"{rate.population:,}", rate=rate.rate_display,
        )
    else:
        text = lazy_gettext("%(count)s heard", count=rate.count.display)
    return str(lazy_gettext("%(text)s (seldom heard)", text=str(text)) if rate.seldom else text)


def analyse_reach(db: Session, principal: Principal, programme: Programme, threshold: int) -> Reach:
    heard = heard_participants(db, principal, programme)
    figures = {
        (f.area_code, f.age_band): f.population
        for f in db.scalars(select(PopulationFigure).where(PopulationFigure.programme_id == programme.id))
    }
    areas = tuple(sorted({a for a, _, _ in heard} | {a for a, _ in figures}))
    bands = tuple(AgeBand)
    grid = [[sum(1 for a, b, _ in heard if a == area and b == band) for band in bands] for area in areas]
    table = protect(grid, threshold, rows=areas, columns=[str(AGE_LABELS[b]) for b in bands])

    def pop(area=None, band=None) -> int | None:
        values = [v for (a, b), v in figures.items() if (area is None or a == area) and (band is None or b == band)]
        return sum(values) if values else None

    total_pop = pop()
    grand = table.grand_total
    overall = 1000 * grand.value / total_pop if (total_pop and grand is not None and grand.shown) else None
    rates = []
    for i, area in enumerate(areas):
        line = [judge(table.cells[i][j], figures.get((area, band)), overall, threshold) for j, band in enumerate(bands)]
        line.append(judge(table.row_totals[i], pop(area=area), overall, threshold))
        rates.append(line)
    last = [judge(table.column_totals[j], pop(band=band), overall, threshold) for j, band in enumerate(bands)]
    last.append(judge(grand, total_pop, overall, threshold))
    rates.append(last)
    send_grid = [[sum(1 for _, b, s in heard if b == band and s == flag) for flag in (True, False)] for band in bands]
    send = protect(send_grid, threshold, rows=[str(AGE_LABELS[b]) for b in bands], columns=[str(lazy_gettext("With SEND")), str(lazy_gettext("Without SEND"))])
    return Reach(threshold, areas, bands, table, rates, overall, send, bool(figures))

"""Theme counts for analysts: by age band, area, kind and polarity, together, and over time.

Every count is of items (artefacts), each counted once per cell, and is taken from the rows that
survive the consent gate for analysis (``visible_artefacts``) and the counting rule in ``tags``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import labels
from ..consent import Context, visible_artefacts
from ..frameworks import FrameworkError, load_framework
from ..models import AgeBand, AreaBoundary, Artefact, ArtefactKind, Participant, Polarity, Programme, ThemeTag
from ..principal import Principal
from .disclosure import ProtectedTable, protect, threshold_for
from .tags import counted_tags

KIND_LABELS = labels.KIND_PLURAL
POLARITY_LABELS = labels.POLARITY
AGE_LABELS = labels.AGE_BAND_SHORT
MONTHS = (
    lazy_gettext("Jan"), lazy_gettext("Feb"), lazy_gettext("Mar"), lazy_gettext("Apr"), lazy_gettext("May"),
    lazy_gettext("Jun"), lazy_gettext("Jul"), lazy_gettext("Aug"), lazy_gettext("Sep"), lazy_gettext("Oct"),
    lazy_gettext("Nov"), lazy_gettext("Dec"),
)
DIMENSIONS = ("age_band", "area", "kind", "polarity")


@dataclass(frozen=True)
class TagRow:
    """One counted tag of one visible item, with what it is counted by."""

    artefact_id: uuid.UUID
    theme: str
    polarity: Polarity
    age_band: AgeBand
    area: str
    kind: ArtefactKind
    created_at: datetime


@dataclass(frozen=True)
class CountGrid:
    """Raw counts with their keys and labels, before disclosure control."""

    row_keys: tuple[str, ...]
    row_labels: tuple[str, ...]
    column_keys: tuple[str, ...]
    column_labels: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]

    def protect(self, threshold: int, *, row_totals: bool = True, column_totals: bool = True) -> ProtectedTable:
        return protect(
            self.values, threshold, rows=self.row_labels, columns=self.column_labels,
            row_totals=row_totals, column_totals=column_totals,
        )


def counted_rows(db: Session, principal: Principal, programme: Programme) -> list[TagRow]:
    """The counted tags of every item the principal may analyse in the programme."""
    query = (
        select(
            Artefact.id, ThemeTag.theme, ThemeTag.polarity, Participant.age_band, Participant.area_code,
            Artefact.kind, Artefact.created_at,
        )
        .join(ThemeTag, ThemeTag.artefact_id == Artefact.id)
        .join(Participant, Participant.id == Artefact.participant_id)
        .where(Artefact.programme_id == programme.id, visible_artefacts(principal, Context.ANALYSIS), counted_tags())
    )
    return [TagRow(*row) for row in db.execute(query)]


def theme_labels(programme: Programme, codes: Iterable[str]) -> dict[str, str]:
    """Labels for theme codes in the programme's framework order; unknown or custom codes keep their code."""
    try:
        framework = load_framework(programme.framework)
        order = {t.code: (n, t.label) for n, t in enumerate(framework.themes)}
    except FrameworkError:
        order = {}
    custom = {t.code: t.label for t in getattr(programme, "custom_themes", ()) or ()}
    ranked = sorted(set(codes), key=lambda c: (order.get(c, (len(order), ""))[0], c))
    return {c: order[c][1] if c in order else custom.get(c, c) for c in ranked}


def area_labels(db: Session, programme: Programme) -> dict[str, str]:
    """Names the programme gave its areas in its boundary file."""
    query = select(AreaBoundary.area_code, AreaBoundary.name).where(AreaBoundary.programme_id == programme.id)
    return {code: name for code, name in db.execute(query)}


def _grid(
    rows: dict[str, str], columns: dict[str, str], counts: dict[tuple[str, str], set]
) -> CountGrid:
    # str() translates lazy labels for the request asking (English outside one).
    return CountGrid(
        tuple(rows), tuple(map(str, rows.values())), tuple(columns), tuple(map(str, columns.values())),
        tuple(tuple(len(counts.get((r, c), ())) for c in columns) for r in rows),
    )


def _key(row: TagRow, dimension: str) -> str:
    if dimension == "area":
        return row.area
    return getattr(row, dimension).value


def dimension_columns(dimension: str, rows: Sequence[TagRow], areas: dict[str, str]) -> dict[str, str]:
    if dimension == "age_band":
        return {band.value: AGE_LABELS[band] for band in AgeBand}
    if dimension == "kind":
        return {kind.value: KIND_LABELS[kind] for kind in ArtefactKind}
    if dimension == "polarity":
        return {p.value: POLARITY_LABELS[p] for p in (Polarity.BARRIER, Polarity.ASSET, Polarity.NEUTRAL)}
    if dimension == "area":
        codes = sorted(set(areas) | {r.area for r in rows})
        return {code: areas.get(code) or code for code in codes}
    raise ValueError(f"unknown dimension {dimension!r}")


def themes_by(rows: Sequence[TagRow], themes: dict[str, str], dimension: str, areas: dict[str, str] | None = None) -> CountGrid:
    """Items per theme (rows) and value of `dimension` (columns)."""
    columns = dimension_columns(dimension, rows, areas or {})
    counts: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows:
        counts[(row.theme, _key(row, dimension))].add(row.artefact_id)
    return _grid(themes, columns, counts)


def theme_totals(rows: Sequence[TagRow], themes: dict[str, str]) -> CountGrid:
    """Items per theme: one column."""
    counts: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows:
        counts[(row.theme, "items")].add(row.artefact_id)
    return _grid(themes, {"items": lazy_gettext("Items")}, counts)


def cooccurrence(rows: Sequence[TagRow], themes: dict[str, str]) -> CountGrid:
    """Items tagged with both themes; the diagonal is items tagged with the theme at all."""
    by_item: dict[uuid.UUID, set[str]] = defaultdict(set)
    for row in rows:
        by_item[row.artefact_id].add(row.theme)
    counts: dict[tuple[str, str], set] = defaultdict(set)
    for item, codes in by_item.items():
        for a in codes:
            for b in codes:
                counts[(a, b)].add(item)
    return _grid(themes, themes, counts)


def month_key(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def _month_range(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def by_month(rows: Sequence[TagRow], themes: dict[str, str]) -> CountGrid:
    """Items per theme per calendar month (UTC) of sharing, every month between the first and last."""
    if not rows:
        return _grid(themes, {}, {})
    keys = sorted({month_key(r.created_at) for r in rows})
    columns = {k: month_label(k) for k in _month_range(keys[0], keys[-1])}
    counts: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows:
        counts[(row.theme, month_key(row.created_at))].add(row.artefact_id)
    return _grid(themes, columns, counts)


@dataclass(frozen=True)
class ThemeAnalysis:
    threshold: int
    items: int  # distinct items counted, before suppression (shown through protect_count)
    totals: CountGrid
    by: dict[str, CountGrid]
    together: CountGrid
    over_time: CountGrid


def analyse_themes(db: Session, principal: Principal, programme: Programme) -> ThemeAnalysis:
    rows = counted_rows(db, principal, programme)
    themes = theme_labels(programme, (r.theme for r in rows))
    areas = area_labels(db, programme)
    return ThemeAnalysis(
        threshold=threshold_for(programme),
        items=len({r.artefact_id for r in rows}),
        totals=theme_totals(rows, themes),
        by={d: themes_by(rows, themes, d, areas) for d in DIMENSIONS},
        together=cooccurrence(rows, themes),
        over_time=by_month(rows, themes),
    )

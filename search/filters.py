"""Facet choices and date ranges, checked once for every backend.

Each filter is a list of values: an item matches when it has any of the values of a field, and
every chosen field must match. Values are checked for shape only (a theme code, an area code,
a known kind): whether any item has them is not said, because "there is no such area" for an
area that only restricted items mention would reveal that they exist. Unknown themes are the
exception, checked by ``search.service`` against the frameworks, which are not secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext as _

from archive.models import AgeBand, ArtefactKind, PlaceType, Polarity

from .errors import QueryError

MAX_VALUES = 50
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_ENUMS = {
    "kind": ArtefactKind,
    "age_band": AgeBand,
    "polarity": Polarity,
    "place_type": PlaceType,
}
_NUMBERS = ("session", "programme")
_CODES = ("themes", "area", "place")
FILTER_FIELDS = frozenset(tuple(_ENUMS) + _NUMBERS + _CODES)
DATE_FIELDS = ("date_from", "date_to")


@dataclass(frozen=True)
class Chosen:
    """Validated filters: field -> allowed values, plus a half-open [start, end) range in naive UTC."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def themes_with_polarity(self) -> tuple[str, ...] | None:
        """"theme:polarity" pairs when both are chosen: a housing barrier, not housing plus some barrier."""
        themes, polarities = self.values.get("themes"), self.values.get("polarity")
        if not themes or not polarities:
            return None
        return tuple(f"{t}:{p}" for t in themes for p in polarities)


def _as_list(value) -> list[str]:
    items = [value] if isinstance(value, (str, int)) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def _check_value(key: str, value: str) -> str:
    shown = value if len(value) <= 40 else value[:40] + "…"
    if key in _ENUMS:
        known = [member.value for member in _ENUMS[key]]
        if value.lower() not in known:
            raise QueryError(_('"%(value)s" is not a %(field)s: use one of %(known)s.', value=shown,
                                   field=key.replace("_", " "), known=", ".join(known)))
        return value.lower()
    if key in _NUMBERS:
        if not value.isdigit() or len(value) > 12:
            raise QueryError(_('"%(value)s" is not a %(field)s number.', value=shown, field=key))
        return str(int(value))
    if not _CODE.match(value):
        raise QueryError(_('"%(value)s" is not a %(field)s code.', value=shown,
                             field=key.rstrip("s").replace("_", " ")))
    return value.lower() if key == "themes" else value


def _day(key: str, value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(_("%(field)s must be a date like 2025-03-31.", field=key.replace("_", " "))) from None


def normalise_filters(filters: dict | None) -> Chosen:
    """Check the filters; raises QueryError naming the first unusable one."""
    values: dict[str, tuple[str, ...]] = {}
    start = end = None
    for key, raw in (filters or {}).items():
        if raw is None or raw == "" or raw == []:
            continue
        if key in DATE_FIELDS:
            day = _day(key, raw)
            if key == "date_from":
                start = datetime.combine(day, time.min)
            else:
                end = datetime.combine(day + timedelta(days=1), time.min)  # the whole last day
            continue
        if key not in FILTER_FIELDS:
            allowed = ", ".join(sorted(FILTER_FIELDS | set(DATE_FIELDS)))
            shown = str(key)[:40]
            raise QueryError(_('"%(name)s" is not a filter: use one of %(allowed)s.', name=shown, allowed=allowed))
        listed = _as_list(raw)
        if len(listed) > MAX_VALUES:
            raise QueryError(_("Choose at most %(count)d values for %(field)s.", count=MAX_VALUES, field=key))
        checked = tuple(dict.fromkeys(_check_value(key, v) for v in listed))
        if checked:
            values[key] = checked
    if start is not None and end is not None and start >= end:
        raise QueryError(_("The first date must be on or before the last date."))
    return Chosen(values, start, end)

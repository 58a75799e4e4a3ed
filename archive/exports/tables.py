"""The CSV tables an export can hold, one row builder per table, over artefacts already through the gate.

Words are always the ones readers beyond the team may read (``archive.curation.redaction``): hidden
names read as ``[name]`` in stories, transcripts and theme evidence alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlalchemy.orm import object_session

from ..analysis.tags import is_counted
from ..curation.redaction import cover_hidden, shareable_text
from ..models import Artefact, ThemeTag
from ..principal import Principal
from .attribution import credited_alias


def counted_tags(artefact: Artefact) -> list[ThemeTag]:
    """The artefact's tags that count as findings, by the same rule as the charts (archive.analysis.tags)."""
    return sorted((t for t in artefact.tags if is_counted(t)), key=lambda t: (t.theme, t.id or 0))


def area_of(artefact: Artefact) -> str:
    return artefact.participant.area_code or artefact.session.area_code


@dataclass(frozen=True)
class Table:
    name: str  # the file name inside the export
    header: Sequence[str]
    rows: Callable[[Principal, Iterable[Artefact]], Iterable[Sequence]]


def _artefact_rows(principal: Principal, artefacts: Iterable[Artefact]):
    for a in artefacts:
        shared = shareable_text(object_session(a), a)
        yield (
            str(a.id), a.kind.value, a.participant.age_band.value, area_of(a), a.session.name,
            a.created_at.date().isoformat(), shared.title, shared.story,
            ";".join(dict.fromkeys(t.theme for t in counted_tags(a))), credited_alias(principal, a),
        )


def _theme_rows(principal: Principal, artefacts: Iterable[Artefact]):
    for a in artefacts:
        for t in counted_tags(a):
            confidence = None if t.confidence is None else round(t.confidence, 3)
            evidence = cover_hidden(object_session(a), a, t.evidence) or ""
            yield (str(a.id), t.theme, t.polarity.value, t.source.value, confidence, evidence)


def _transcript_rows(principal: Principal, artefacts: Iterable[Artefact]):
    for a in artefacts:
        for s in shareable_text(object_session(a), a).segments:
            if s.text.strip():
                yield (str(a.id), round(s.start, 2), round(s.end, 2), s.text.strip())


ARTEFACTS = Table(
    "artefacts.csv",
    ("artefact_id", "kind", "age_band", "area", "session", "date", "title", "story", "themes", "credit_alias"),
    _artefact_rows,
)
THEMES = Table(
    "themes.csv", ("artefact_id", "theme", "polarity", "source", "confidence", "evidence"), _theme_rows
)
TRANSCRIPTS = Table("transcripts.csv", ("artefact_id", "start_seconds", "end_seconds", "text"), _transcript_rows)

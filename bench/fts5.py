"""SQLite FTS5 over the same corpus: the reference the search benchmark compares Chorus's search with.

One FTS5 table (``bench_fts``: title, story, words read from pictures, transcript; Porter stemming)
beside the corpus tables, holding the items the search index holds, keyed by the artefact row's
``rowid``. A search is what a minimal FTS5 backend would run for one results page:

* the page: ``bm25`` order, ``snippet()`` with ``<mark>``, 20 rows;
* the total and facet counts (the index's: themes, polarity, kind, age band, area, place type) in
  one statement, a ``GROUP BY`` per
  facet over the matching rows (materialised once).

The consent rule is ``archive.consent.visible_artefacts`` compiled into the ``WHERE`` of both, so
the reference pays for consent the same way the index does: inside the query.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from archive.consent import Context, visible_artefacts
from archive.models import ArtefactStatus, ConsentLevel, TagStatus
from archive.principal import Principal

TABLE = "bench_fts"
FACETS = ("themes", "polarity", "kind", "age_band", "area", "place_type")
_FILTER_COLUMNS = {"kind": "artefact.kind", "age_band": "participant.age_band", "area": "participant.area_code",
                   "place": "artefact.place", "session": "artefact.session_id", "programme": "artefact.programme_id"}


@dataclass
class Fts5Result:
    total: int
    ids: list[str] = field(default_factory=list)  # the page, best first, as canonical UUID strings
    snippets: list[str] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def build(engine: Engine) -> tuple[int, float, int]:
    """Create and fill the FTS5 table; returns (rows, seconds, bytes the database grew by)."""
    with engine.begin() as conn:
        before = _database_bytes(conn)
        start = time.perf_counter()
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(f"CREATE VIRTUAL TABLE {TABLE} USING fts5(title, story, ocr, transcript, "
                          "tokenize = 'porter unicode61')"))
        # The same items and text as search.index.document_for: searchable items only, the
        # transcript's segments in order.
        conn.execute(text(f"""
            INSERT INTO {TABLE} (rowid, title, story, ocr, transcript)
            SELECT artefact.rowid, artefact.title, artefact.story, artefact.image_text,
                   coalesce((SELECT group_concat(seg.text, ' ') FROM
                               (SELECT s.text FROM transcript_segment s JOIN transcript t ON t.id = s.transcript_id
                                WHERE t.artefact_id = artefact.id ORDER BY s.position) AS seg), '')
            FROM artefact
            WHERE artefact.status != :withdrawn AND artefact.consent_level >= :team
        """), {"withdrawn": ArtefactStatus.WITHDRAWN.value, "team": int(ConsentLevel.TEAM)})
        rows = conn.scalar(text(f"SELECT count(*) FROM {TABLE}"))
        conn.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"))
        seconds = time.perf_counter() - start
        grew = _database_bytes(conn) - before
    return rows, seconds, grew


def _database_bytes(conn: Connection) -> int:
    return conn.scalar(text("PRAGMA page_count")) * conn.scalar(text("PRAGMA page_size"))


def consent_sql(principal: Principal, context: Context) -> str:
    """The project's consent clause as SQLite text (its values are ours, never user input)."""
    clause = visible_artefacts(principal, context)
    return str(clause.compile(dialect=_sqlite_dialect(), compile_kwargs={"literal_binds": True}))


def _sqlite_dialect():
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect()


def _filters_sql(filters: dict | None) -> tuple[str, dict]:
    clauses, params = [], {}
    for n, (key, value) in enumerate(sorted((filters or {}).items())):
        values = [value] if isinstance(value, (str, int)) else list(value)
        names = [f"f{n}_{i}" for i in range(len(values))]
        params.update(zip(names, [str(v).lower() if key == "themes" else str(v) for v in values]))
        marks = ", ".join(f":{name}" for name in names)
        if key == "themes":
            clauses.append(f"EXISTS (SELECT 1 FROM theme_tag ft WHERE ft.artefact_id = artefact.id "
                           f"AND ft.status != '{TagStatus.REJECTED.value}' AND lower(ft.theme) IN ({marks}))")
        else:
            clauses.append(f"{_FILTER_COLUMNS[key]} IN ({marks})")
    return "".join(f" AND {c}" for c in clauses), params


def search(conn: Connection, principal: Principal, context: Context, match: str | None, *,
           filters: dict | None = None, page: int = 1, pagelen: int = 20) -> Fts5Result:
    """One results page, the total and the facet counts; `match` is FTS5 query syntax, None for all."""
    consent = consent_sql(principal, context)
    where, params = _filters_sql(filters)
    if match:
        # CROSS JOIN fixes SQLite's join order: left to itself it drove the facet statement from
        # the artefact status index and probed FTS5 row by row (20x slower in report contexts).
        source = f"{TABLE} CROSS JOIN artefact ON artefact.rowid = {TABLE}.rowid"
        where = f"{TABLE} MATCH :match AND {consent}{where}"
        params["match"] = match
        order = f"bm25({TABLE})"
        snippet = f"snippet({TABLE}, -1, '<mark>', '</mark>', ' … ', 24)"
    else:  # filters alone: every visible item, newest first, as a browsing page would list them
        source = "artefact"
        where = f"{consent}{where}"
        order = "artefact.created_at DESC"
        snippet = "substr(artefact.story, 1, 200)"
    source += (" JOIN participant ON participant.id = artefact.participant_id"
               " JOIN listening_session ON listening_session.id = artefact.session_id")
    live_tag = f"t.artefact_id = m.id AND t.status != '{TagStatus.REJECTED.value}'"
    facet_sql = f"""
        WITH m AS MATERIALIZED (
            SELECT artefact.id AS id, artefact.kind AS kind, participant.age_band AS age_band,
                   participant.area_code AS area, listening_session.place_type AS place_type
            FROM {source} WHERE {where})
        SELECT 'kind', kind, count(*) FROM m GROUP BY kind
        UNION ALL SELECT 'age_band', age_band, count(*) FROM m GROUP BY age_band
        UNION ALL SELECT 'area', area, count(*) FROM m GROUP BY area
        UNION ALL SELECT 'place_type', place_type, count(*) FROM m GROUP BY place_type
        UNION ALL SELECT 'themes', lower(t.theme), count(DISTINCT t.artefact_id) FROM m
            JOIN theme_tag t ON {live_tag} GROUP BY lower(t.theme)
        UNION ALL SELECT 'polarity', t.polarity, count(DISTINCT t.artefact_id) FROM m
            JOIN theme_tag t ON {live_tag} GROUP BY t.polarity
    """
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for name, value, count in conn.execute(text(facet_sql), params):
        if value not in (None, ""):
            facets[name][str(value)] = count
    page_sql = (f"SELECT artefact.id, {snippet} FROM {source} WHERE {where} ORDER BY {order} "
                f"LIMIT {int(pagelen)} OFFSET {int((page - 1) * pagelen)}")
    rows = conn.execute(text(page_sql), params).all()
    return Fts5Result(total=sum(facets["kind"].values()), ids=[_canonical(r[0]) for r in rows],
                      snippets=[r[1] or "" for r in rows], facets=facets)


def all_ids(conn: Connection, principal: Principal, context: Context, match: str | None, *,
            filters: dict | None = None) -> set[str]:
    """Every matching id (no page), for cross-checking another backend."""
    result = search(conn, principal, context, match, filters=filters, pagelen=10**9)
    return set(result.ids)


def _canonical(value) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))

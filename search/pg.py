"""The PostgreSQL full-text backend: the index is a table in the database itself.

For installations on PostgreSQL that outgrow one machine's index folder (several web and worker
machines share the database, not a disk). One ``search_document`` row per searchable artefact
(``archive.models.search``) holds the texts, the facet values and a ``tsvector`` with a GIN
index. Its lexemes are the words as the Whoosh analyzer stems them (``search.segments.stems``),
fed to the ``simple`` configuration, which only lower-cases: so both backends agree on what
"buses" or "parking" match, which PostgreSQL's own English stemmer would not.

Searching parses the text with the same Whoosh parser as the other backend (same syntax, same
refusals, same bounds) and translates the tree: words, phrases (``<->``), prefixes (``:*``) and
field restrictions (weights: title A, story B, transcript C, OCR D) become one ``tsquery``;
``theme:`` and the other keyword fields become plain SQL conditions. ``word~`` spelling matches
are looked up in ``search_word`` (every stemmed word in the table) and become ordinary words.

Consent is not copied into this table: every search joins ``artefact`` and applies
``archive.consent.visible_artefacts`` to its live consent columns, so it never lags a withdrawal
and hits, totals and facet counts are all taken after the same WHERE clause.

Snippets are cut in Python with the same highlighter as the Whoosh backend rather than by
``ts_headline``, whose English parser would not mark the stems this index matches on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timezone
from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import Text, and_, cast, delete, false, func, literal, literal_column, not_, or_, select, text, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from whoosh import query as wq

from archive.consent import REQUIRED_LEVEL, Context, visible_artefacts
from archive.models import Artefact, SearchDocument, SearchWord
from archive.principal import Principal

from .errors import QueryError
from .filters import Chosen, normalise_filters
from .highlight import SNIPPET_ORDER, marked, plain_snippet
from .index import _searchable_artefacts, document_for, is_searchable
from .query import Hit, SearchResult, check_paging, check_sort, empty_result, parse_user_query
from .schema import FACET_FIELDS, TEXT_FIELDS
from .segments import best_segment, stems

WEIGHTS = {"title": "A", "story": "B", "transcript": "C", "ocr": "D"}
LIST_FIELDS = ("themes", "polarity", "theme_polarity", "theme_source")  # comma-separated columns
MAX_FUZZY_EXPANSIONS = 50
MAX_WORD = 64
_BATCH = 500
STATEMENT_TIMEOUT_MS = 5000


class NeedsPostgres(RuntimeError):
    """The postgres search backend was chosen for a database that is not PostgreSQL."""


def _check_dialect(db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        raise NeedsPostgres(
            'search_backend = "postgres" needs a PostgreSQL database (CHORUS_DATABASE_URL=postgresql+psycopg://...)'
        )


# ---- writing ---------------------------------------------------------------------------------


SIMPLE = literal_column("'simple'::regconfig")  # lower-cases only: the words arrive stemmed


def _tsquery(expression):
    return func.to_tsquery(SIMPLE, cast(expression, Text))


def _stemmed(textual: str) -> str:
    return " ".join(stems(textual or ""))


def _tsv(doc: dict):
    parts = [
        func.setweight(func.to_tsvector(SIMPLE, cast(_stemmed(doc.get(name, "")), Text)),
                       literal_column(f"'{weight}'::\"char\""))
        for name, weight in WEIGHTS.items()
    ]
    vector = parts[0]
    for part in parts[1:]:
        vector = vector.op("||")(part)
    return vector


def _row(artefact: Artefact) -> dict:
    doc = document_for(artefact)
    return {
        "artefact_id": artefact.id,
        "programme_id": artefact.programme_id,
        "session_id": artefact.session_id,
        "kind": doc.get("kind", ""),
        "age_band": doc.get("age_band"),
        "area": doc.get("area"),
        "place": doc.get("place"),
        "place_type": doc.get("place_type"),
        **{name: doc.get(name, "") for name in LIST_FIELDS},
        **{name: doc.get(name, "") for name in TEXT_FIELDS},
        "segments": doc.get("segments", ""),
        "tsv": _tsv(doc),
    }


def _words(row: dict) -> set[str]:
    return {w for name in TEXT_FIELDS for w in stems(row.get(name) or "") if len(w) <= MAX_WORD}


def _write(db: Session, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = insert(SearchDocument).values(rows)
    replaced = {c.name: stmt.excluded[c.name] for c in SearchDocument.__table__.columns if c.name != "artefact_id"}
    db.execute(stmt.on_conflict_do_update(index_elements=["artefact_id"], set_=replaced))
    words = sorted(set().union(*(_words(r) for r in rows)))
    for start in range(0, len(words), 5000):
        chunk = [{"word": w} for w in words[start:start + 5000]]
        db.execute(insert(SearchWord).values(chunk).on_conflict_do_nothing())


def _prune_words(db: Session, words: Iterable[str]) -> None:
    """Forget words no remaining document uses, so an erased item's words go with it."""
    words = sorted(words)
    if not words:
        return
    used = SearchDocument.tsv.op("@@")(_tsquery(func.quote_literal(SearchWord.word)))
    db.execute(
        delete(SearchWord).where(
            SearchWord.word.in_(words), ~select(SearchDocument.artefact_id).where(used).exists()
        )
    )


def remove_document(db: Session, artefact_id: uuid.UUID | str) -> bool:
    """Delete the artefact's row and the words only it used, without committing (erasure commits).

    Works on SQLite too, where the table is normally empty and there is no word list to prune.
    """
    key = artefact_id if isinstance(artefact_id, uuid.UUID) else uuid.UUID(str(artefact_id))
    row = db.scalar(select(SearchDocument).where(SearchDocument.artefact_id == key))
    if row is None:
        return False
    words = _words({n: getattr(row, n) for n in TEXT_FIELDS})
    db.execute(delete(SearchDocument).where(SearchDocument.artefact_id == key))
    if db.get_bind().dialect.name == "postgresql":
        _prune_words(db, words)
    return True


class PostgresBackend:
    name = "postgres"
    lags_database = False

    def index_artefact(self, db: Session, artefact: Artefact, *, purge: bool = False) -> None:
        """Add or replace the artefact's row (or remove it); commits, like the Whoosh writer does."""
        _check_dialect(db)
        if not is_searchable(artefact):
            self.remove_artefact(db, artefact.id)
            return
        before = db.scalar(select(SearchDocument).where(SearchDocument.artefact_id == artefact.id))
        old_words = _words({n: getattr(before, n) for n in TEXT_FIELDS}) if before is not None else set()
        row = _row(artefact)
        _write(db, [row])
        _prune_words(db, old_words - _words(row))
        db.commit()

    def remove_artefact(self, db: Session, artefact_id: uuid.UUID | str) -> bool:
        _check_dialect(db)
        found = remove_document(db, artefact_id)
        db.commit()
        return found

    def reindex(self, db: Session) -> int:
        """Rebuild every row from the artefacts in one transaction: searches see the old rows until it commits."""
        _check_dialect(db)
        db.execute(delete(SearchDocument))
        db.execute(delete(SearchWord))
        count, batch = 0, []
        for artefact in _searchable_artefacts(db):
            batch.append(_row(artefact))
            if len(batch) >= _BATCH:
                _write(db, batch)
                count, batch = count + len(batch), []
        _write(db, batch)
        count += len(batch)
        db.commit()
        return count

    def search(
        self,
        db: Session,
        principal: Principal,
        context: Context,
        query_text: str | None,
        *,
        filters: dict | None = None,
        page: int = 1,
        pagelen: int = 20,
        sort: str = "relevance",
        exclude_ids: Iterable[str] = (),
    ) -> SearchResult:
        check_paging(page, pagelen)
        check_sort(sort)
        tree = parse_user_query(query_text)
        chosen = normalise_filters(filters)
        _check_dialect(db)
        if not isinstance(context, Context) or context not in REQUIRED_LEVEL:
            return empty_result()
        translated = _Translator(db).translate(tree)
        conditions = [visible_artefacts(principal, context), _as_sql(translated), *_filter_sql(chosen)]
        excluded = [uuid.UUID(str(i)) for i in exclude_ids]
        if excluded:
            conditions.append(SearchDocument.artefact_id.not_in(excluded))
        where = and_(*conditions)
        try:
            # Until this transaction ends: a runaway query is cancelled instead of holding a worker.
            db.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            total = db.scalar(select(func.count()).select_from(_joined()).where(where)) or 0
            facets = _facet_counts(db, where)
            rows = _page(db, where, translated, sort, page, pagelen)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled
                raise
            db.rollback()
            raise QueryError(_("The search took too long: try fewer or more specific words.")) from None
        return SearchResult(total=total, hits=[_hit(row, translated) for row in rows], facets=facets)


# ---- translating the parsed query ------------------------------------------------------------


@dataclass
class _Part:
    """A translated subtree: a tsquery string when it is all words, else an SQL condition."""

    ts: str | None = None
    sql: object = None


@dataclass
class _Translated:
    part: _Part
    rank_ts: str | None  # every positive word, ORed: what relevance is ranked by
    words: dict[str, set[str]] = field(default_factory=dict)  # field -> stems to mark
    prefixes: dict[str, set[str]] = field(default_factory=dict)

    def matcher(self, name: str):
        exact, starts = self.words.get(name, set()), tuple(self.prefixes.get(name, ()))
        return lambda stem: stem in exact or (bool(starts) and stem.startswith(starts))


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _as_sql(translated: _Translated):
    part = translated.part
    if part.ts is not None:
        return SearchDocument.tsv.op("@@")(_tsquery(part.ts))
    return part.sql


class _Translator:
    def __init__(self, db: Session):
        self.db = db
        self.words: dict[str, set[str]] = {}
        self.prefixes: dict[str, set[str]] = {}
        self.positive: list[str] = []

    def translate(self, q: wq.Query) -> _Translated:
        part = self._node(q, positive=True)
        rank = " | ".join(f"({t})" for t in self.positive) or None
        return _Translated(part, rank, self.words, self.prefixes)

    # Each text leaf becomes a tsquery term restricted by weight to its field.
    def _remember(self, positive: bool, name: str, ts: str, word: str | None = None, prefix: str | None = None):
        if positive:
            self.positive.append(ts)
            if word is not None:
                self.words.setdefault(name, set()).add(word)
            if prefix is not None:
                self.prefixes.setdefault(name, set()).add(prefix)
        return _Part(ts=ts)

    def _node(self, q: wq.Query, positive: bool) -> _Part:
        if isinstance(q, wq.Every):
            return _Part(sql=true())
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return _Part(sql=false())
        if isinstance(q, wq.Not):
            return self._combine("!", [self._node(q.query, not positive)])
        if isinstance(q, wq.AndNot):
            return self._combine("&", [self._node(q.a, positive), self._combine("!", [self._node(q.b, not positive)])])
        if isinstance(q, wq.AndMaybe):
            self._node(q.b, positive)  # ranks and marks, never required
            return self._node(q.a, positive)
        if isinstance(q, wq.Require):
            return self._combine("&", [self._node(q.a, positive), self._node(q.b, positive)])
        if isinstance(q, wq.And):
            return self._combine("&", [self._node(s, positive) for s in q.subqueries])
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return self._combine("|", [self._node(s, positive) for s in q.subqueries])
        name = q.field()
        if isinstance(q, wq.FuzzyTerm):
            return self._fuzzy(q, positive)
        if isinstance(q, wq.Prefix) and name in WEIGHTS:
            ts = f"{_lexeme(q.text)}:*{WEIGHTS[name]}"
            return self._remember(positive, name, ts, prefix=q.text)
        if isinstance(q, wq.Phrase) and name in WEIGHTS:
            words = [w for w in q.words if w]
            if not words:
                return _Part(sql=false())
            gap = "<->" if q.slop <= 1 else f"<{min(int(q.slop), 10)}>"
            ts = f" {gap} ".join(f"{_lexeme(w)}:{WEIGHTS[name]}" for w in words)
            for w in words:
                self._remember(positive, name, f"{_lexeme(w)}:{WEIGHTS[name]}", word=w)
            return _Part(ts=f"({ts})")
        if isinstance(q, wq.Term):
            value = q.text.decode("utf-8") if isinstance(q.text, bytes) else str(q.text)
            if name in WEIGHTS:
                return self._remember(positive, name, f"{_lexeme(value)}:{WEIGHTS[name]}", word=value)
            return _Part(sql=_keyword(name, value))
        raise QueryError(_("The search could not be understood: check quotes and brackets."))

    def _fuzzy(self, q: wq.FuzzyTerm, positive: bool) -> _Part:
        name = q.field()
        if name not in WEIGHTS:
            return _Part(sql=_keyword(name, q.text))
        near = _near_words(self.db, q.text, q.maxdist, max(q.prefixlength, 1))
        if not near:
            return _Part(sql=false())
        parts = [self._remember(positive, name, f"{_lexeme(w)}:{WEIGHTS[name]}", word=w) for w in near]
        return self._combine("|", parts)

    @staticmethod
    def _combine(op: str, parts: list[_Part]) -> _Part:
        if op == "!":
            (only,) = parts
            return _Part(ts=f"!({only.ts})") if only.ts is not None else _Part(sql=not_(only.sql))
        if all(p.ts is not None for p in parts):
            return _Part(ts="(" + f" {op} ".join(p.ts for p in parts) + ")")
        sqls = [
            p.sql if p.ts is None else SearchDocument.tsv.op("@@")(_tsquery(p.ts))
            for p in parts
        ]
        return _Part(sql=and_(*sqls) if op == "&" else or_(*sqls))


def _keyword(name: str, value: str):
    if name in LIST_FIELDS:
        padded = literal(",").concat(getattr(SearchDocument, name)).concat(",")
        return func.strpos(padded, f",{value},") > 0
    column = getattr(SearchDocument, name, None)
    if column is None:
        raise QueryError(_("The search could not be understood: check quotes and brackets."))
    return column == value


def _within(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b is at most `limit` (banded, stops early)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def _near_words(db: Session, word: str, maxdist: int, prefixlength: int) -> list[str]:
    head = word[:prefixlength]
    escaped = head.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    candidates = db.scalars(
        select(SearchWord.word).where(
            SearchWord.word.like(f"{escaped}%", escape="\\"),
            func.length(SearchWord.word).between(len(word) - maxdist, len(word) + maxdist),
        )
    )
    near = sorted(w for w in candidates if _within(word, w, maxdist))
    return near[:MAX_FUZZY_EXPANSIONS]


# ---- filters, facets and the page ------------------------------------------------------------


def _joined():
    return SearchDocument.__table__.join(Artefact.__table__, Artefact.id == SearchDocument.artefact_id)


def _filter_sql(chosen: Chosen) -> list:
    conditions = []
    paired = chosen.themes_with_polarity
    for key, values in chosen.values.items():
        if paired is not None and key in ("themes", "polarity"):
            continue
        if key == "session":
            conditions.append(SearchDocument.session_id.in_([int(v) for v in values]))
        elif key == "programme":
            conditions.append(SearchDocument.programme_id.in_([int(v) for v in values]))
        else:
            conditions.append(or_(*[_keyword(key, v) for v in values]))
    if paired is not None:
        conditions.append(or_(*[_keyword("theme_polarity", v) for v in paired]))
    if chosen.start is not None:
        conditions.append(Artefact.created_at >= chosen.start.replace(tzinfo=timezone.utc))
    if chosen.end is not None:
        conditions.append(Artefact.created_at < chosen.end.replace(tzinfo=timezone.utc))
    return conditions


def _facet_counts(db: Session, where) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for name in FACET_FIELDS:
        column = getattr(SearchDocument, name)
        if name in LIST_FIELDS:
            each = func.unnest(func.string_to_array(column, ",")).label("v")
            values = select(each).select_from(_joined()).where(where).subquery()
            stmt = select(values.c.v, func.count()).group_by(values.c.v)
        else:
            stmt = select(column, func.count()).select_from(_joined()).where(where).group_by(column)
        counts[name] = {str(value): int(n) for value, n in db.execute(stmt) if value not in (None, "")}
    return counts


def _page(db: Session, where, translated: _Translated, sort: str, page: int, pagelen: int):
    stmt = select(SearchDocument).select_from(_joined()).where(where)
    if sort == "relevance" and translated.rank_ts:
        rank = func.ts_rank(SearchDocument.tsv, _tsquery(translated.rank_ts))
        stmt = stmt.order_by(rank.desc(), Artefact.created_at.desc(), Artefact.id)
    elif sort == "oldest":
        stmt = stmt.order_by(Artefact.created_at, Artefact.id)
    else:
        stmt = stmt.order_by(Artefact.created_at.desc(), Artefact.id)
    return db.scalars(stmt.offset((page - 1) * pagelen).limit(pagelen)).all()


def _hit(row: SearchDocument, translated: _Translated) -> Hit:
    snippet = ""
    for name in SNIPPET_ORDER:
        snippet = marked(getattr(row, name) or "", translated.matcher(name))
        if snippet:
            break
    texts = {name: getattr(row, name) for name in SNIPPET_ORDER}
    moment = None
    if translated.words.get("transcript") or translated.prefixes.get("transcript"):
        moment = best_segment(row.segments, translated.matcher("transcript"))
    return Hit(
        id=str(row.artefact_id), kind=row.kind, themes=[t for t in row.themes.split(",") if t],
        snippet=snippet or plain_snippet(texts), title=row.title or "",
        segment_start=moment[0] if moment else None, segment_end=moment[1] if moment else None,
    )

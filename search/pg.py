"""The PostgreSQL full-text backend: the index is a table in the database itself.

For installations on PostgreSQL that outgrow one machine's index folder (several web and worker
machines share the database, not a disk). One ``search_document`` row per searchable artefact
(``archive.models.search``) holds the facet values, a copy of the artefact's consent columns and
a ``tsvector`` with a GIN index; ``search_text`` holds the texts, read only for a page's hits.
The lexemes are the words as the Whoosh analyzer stems them (``search.segments.stems``), fed to
the ``simple`` configuration, which only lower-cases: so both backends agree on what "buses" or
"parking" match, which PostgreSQL's own English stemmer would not.

Searching parses the text with the same Whoosh parser as the other backend (same syntax, same
refusals, same bounds) and translates the tree: words, phrases (``<->``), prefixes (``:*``) and
field restrictions (weights: title A, story B, transcript C, OCR D) become one ``tsquery``;
``theme:`` and the other keyword fields become plain SQL conditions. A word searched in every
text field carries no weight at all, so the GIN index answers it without re-reading any row.
``word~`` spelling matches are looked up in ``search_word`` (every lexeme in the table) and
become ordinary words.

Consent is part of the one WHERE clause: ``archive.consent.visible_artefacts`` itself, applied to
the copy of its columns in ``search_document``, which a trigger on ``artefact`` keeps equal to
the live row in the same transaction (migration 0011), so it never lags a withdrawal. One
statement then takes the matches once and returns the total, every facet count and the page's
rows with their texts, so hits, totals and counts come from the same rows.

Writing is set-based: ``reindex`` COPYs the documents into a temporary table and turns them into
rows with INSERT ... SELECT, rewriting only the rows that changed.

Snippets are cut in Python, for the page's hits only, with the same highlighter as the Whoosh
backend rather than by ``ts_headline``: PostgreSQL's parser and English stemmer would not mark
the words this index matches on (it keeps "buses" apart from "bus", and splits words differently).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timezone
from functools import reduce
from typing import Iterable, Iterator

from flask_babel import gettext as _
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    and_,
    cast,
    delete,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.visitors import replacement_traverse
from whoosh import query as wq

from archive.consent import REQUIRED_LEVEL, Context, visible_artefacts
from archive.models import Artefact, SearchDocument, SearchWord
from archive.models.search import FOLLOWED_COLUMNS, SearchText
from archive.principal import Principal

from .errors import QueryError
from .filters import Chosen, normalise_filters
from .highlight import SNIPPET_ORDER, marked, plain_snippet
from .index import document_for, is_searchable, searchable_documents
from .query import Hit, SearchResult, check_paging, check_sort, empty_result, parse_user_query
from .schema import FACET_FIELDS, TEXT_FIELDS
from .segments import best_segment, stems

WEIGHTS = {"title": "A", "story": "B", "transcript": "C", "ocr": "D"}
LIST_FIELDS = ("themes", "polarity", "theme_polarity", "theme_source")  # comma-separated columns
KEYWORD_FIELDS = ("kind", "age_band", "area", "place", "place_type", *LIST_FIELDS)
MAX_FUZZY_EXPANSIONS = 50
MAX_WORD = 64
_COPY_BATCH = 1000
STATEMENT_TIMEOUT_MS = 5000
# The matches of one search are kept in memory while they are counted: 100,000 of them need ~10 MB.
SEARCH_WORK_MEM = "32MB"


class NeedsPostgres(RuntimeError):
    """The postgres search backend was chosen for a database that is not PostgreSQL."""


def _check_dialect(db: Session) -> None:
    if db.get_bind().dialect.name != "postgresql":
        raise NeedsPostgres(
            'search_backend = "postgres" needs a PostgreSQL database (CHORUS_DATABASE_URL=postgresql+psycopg://...)'
        )


# ---- writing ---------------------------------------------------------------------------------
#
# Every write goes through one set-based path: documents are "staged" (a VALUES list for one
# item, a temporary table filled by COPY for a rebuild) and three INSERT ... SELECT statements
# turn them into rows, taking the consent columns from ``artefact`` in the same statement.

SIMPLE = literal_column("'simple'::regconfig")  # lower-cases only: the words arrive stemmed



def _staged_columns() -> list[Column]:
    """A document as staged: its facet values, its texts, and each text's stems (for the tsvector)."""
    return [
        Column("artefact_id", Uuid),
        Column("session_id", Integer),
        *(Column(name, String(32)) for name in ("kind", "age_band", "area", "place", "place_type")),
        *(Column(name, Text) for name in (*LIST_FIELDS, *TEXT_FIELDS, "segments")),
        *(Column(f"{name}_stems", Text) for name in TEXT_FIELDS),
    ]


_STAGED_NAMES = tuple(c.name for c in _staged_columns())


def _tsquery(expression):
    return func.to_tsquery(SIMPLE, cast(expression, Text))


def _staged_row(artefact: Artefact, doc: dict) -> tuple:
    texts = {name: doc.get(name, "") for name in TEXT_FIELDS}
    row = {
        "artefact_id": artefact.id, "session_id": artefact.session_id,
        **{name: doc.get(name) for name in ("age_band", "area", "place", "place_type")},
        "kind": doc.get("kind", ""),
        **{name: doc.get(name, "") for name in LIST_FIELDS},
        **texts, "segments": doc.get("segments", ""),
        **{f"{name}_stems": " ".join(stems(value)) for name, value in texts.items()},
    }
    return tuple(row[name] for name in _STAGED_NAMES)


def _tsv(staged):
    return reduce(lambda left, right: left.op("||")(right), (
        func.setweight(func.to_tsvector(SIMPLE, staged.c[f"{name}_stems"]), literal_column(f"'{weight}'::\"char\""))
        for name, weight in WEIGHTS.items()
    ))


def _upsert(table, names: list[str], source):
    """INSERT ... SELECT that rewrites an existing row only when something in it changed.

    A rebuild then leaves unchanged rows alone: no dead copy of the whole table for VACUUM.
    """
    stmt = insert(table).from_select(names, source)
    replaced = [name for name in names if name != "artefact_id"]
    changed = tuple_(*(table.c[name] for name in replaced)).is_distinct_from(
        tuple_(*(stmt.excluded[name] for name in replaced)))
    return stmt.on_conflict_do_update(
        index_elements=["artefact_id"], set_={name: stmt.excluded[name] for name in replaced}, where=changed
    )


def _write(db: Session, staged) -> None:
    """Rows, texts and words for every staged document; consent columns as ``artefact`` has them now."""
    kept = ("artefact_id", "session_id", *KEYWORD_FIELDS)
    artefact = Artefact.__table__
    documents = (
        select(*(staged.c[name] for name in kept), *(artefact.c[name] for name in FOLLOWED_COLUMNS),
               _tsv(staged).label("tsv"))
        .join_from(staged, artefact, artefact.c.id == staged.c.artefact_id)
    )
    db.execute(_upsert(SearchDocument.__table__, [*kept, *FOLLOWED_COLUMNS, "tsv"], documents))
    texts = ("artefact_id", *TEXT_FIELDS, "segments")
    db.execute(_upsert(SearchText.__table__, list(texts), select(*(staged.c[name] for name in texts))))
    word = func.unnest(func.tsvector_to_array(SearchDocument.tsv)).label("word")
    each = select(word).where(SearchDocument.artefact_id.in_(select(staged.c.artefact_id))).subquery()
    words = select(each.c.word).distinct().where(func.length(each.c.word) <= MAX_WORD)
    db.execute(insert(SearchWord).from_select(["word"], words).on_conflict_do_nothing())


def _stage_one(artefact: Artefact):
    return values(*_staged_columns(), name="staged").data([_staged_row(artefact, document_for(artefact))])


def _stage_all(db: Session, documents: Iterator[tuple[Artefact, dict]]) -> tuple[Table, int]:
    """Every document COPYed into a temporary table (dropped at commit); returns it and the count.

    COPY in batches: the artefacts are read through a server-side cursor on the same connection,
    which cannot fetch while a COPY is open.
    """
    staging = Table("search_staged", MetaData(), *_staged_columns(),
                    prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    staging.create(db.connection())
    raw = db.connection().connection.driver_connection
    sql = f"COPY {staging.name} ({', '.join(_STAGED_NAMES)}) FROM STDIN"
    count, batch = 0, []

    def flush() -> None:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in batch:
                copy.write_row(row)
        batch.clear()

    for artefact, doc in documents:
        batch.append(_staged_row(artefact, doc))
        count += 1
        if len(batch) >= _COPY_BATCH:
            flush()
    flush()
    return staging, count


def _lexemes(db: Session, artefact_id: uuid.UUID) -> set[str]:
    word = func.unnest(func.tsvector_to_array(SearchDocument.tsv))
    return set(db.scalars(select(word).where(SearchDocument.artefact_id == artefact_id)))


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
    """Delete the artefact's row, its texts and the words only it used, without committing (erasure commits).

    Works on SQLite too, where the tables are normally empty and there is no word list to prune.
    """
    key = artefact_id if isinstance(artefact_id, uuid.UUID) else uuid.UUID(str(artefact_id))
    if db.scalar(select(SearchDocument.artefact_id).where(SearchDocument.artefact_id == key)) is None:
        return False
    on_postgres = db.get_bind().dialect.name == "postgresql"
    words = _lexemes(db, key) if on_postgres else set()
    db.execute(delete(SearchText).where(SearchText.artefact_id == key))
    db.execute(delete(SearchDocument).where(SearchDocument.artefact_id == key))
    if on_postgres:
        _prune_words(db, words)
    return True


def _settle(db: Session) -> None:
    """After a rebuild has committed: VACUUM (ANALYZE) the rows searches read, outside any transaction.

    A bulk write leaves three costs on every later search until autovacuum comes round: the GIN
    indexes' pending lists (unsorted new entries that every search reads in full), rows whose
    commit has to be looked up on first read, and planner statistics from before the rebuild.
    VACUUM (ANALYZE) settles all three.
    """
    with db.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM (ANALYZE) {SearchDocument.__tablename__}"))


class PostgresBackend:
    name = "postgres"
    lags_database = False

    def index_artefact(self, db: Session, artefact: Artefact, *, purge: bool = False) -> None:
        """Add or replace the artefact's row (or remove it); commits, like the Whoosh writer does."""
        _check_dialect(db)
        if not is_searchable(artefact):
            self.remove_artefact(db, artefact.id)
            return
        db.flush()
        # Hold the artefact row until commit: a consent change in flight is waited for and then
        # read, and one that comes later waits and its trigger then updates the row written here.
        db.execute(select(Artefact.id).where(Artefact.id == artefact.id).with_for_update(read=True))
        before = _lexemes(db, artefact.id)
        _write(db, _stage_one(artefact))
        _prune_words(db, before)
        db.commit()

    def remove_artefact(self, db: Session, artefact_id: uuid.UUID | str) -> bool:
        _check_dialect(db)
        found = remove_document(db, artefact_id)
        db.commit()
        return found

    def reindex(self, db: Session) -> int:
        """Rebuild every row from the artefacts in one transaction: searches see the old rows until it commits."""
        _check_dialect(db)
        staged, count = _stage_all(db, searchable_documents(db))
        # From here to the commit no artefact changes (consent changes wait a few seconds), so
        # the consent columns copied below cannot miss one.
        db.execute(text("LOCK TABLE artefact IN SHARE MODE"))
        db.execute(delete(SearchWord))
        gone = ~select(staged.c.artefact_id).where(staged.c.artefact_id == SearchDocument.artefact_id).exists()
        db.execute(delete(SearchDocument).where(gone))  # their texts go with them (ON DELETE CASCADE)
        _write(db, staged)
        db.commit()
        _settle(db)
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
        conditions = [consent_clause(principal, context), _as_sql(translated), *_filter_sql(chosen)]
        excluded = [uuid.UUID(str(i)) for i in exclude_ids]
        if excluded:
            conditions.append(SearchDocument.artefact_id.not_in(excluded))
        try:
            # Until this transaction ends: a runaway query is cancelled instead of holding a worker.
            db.execute(select(func.set_config("statement_timeout", str(STATEMENT_TIMEOUT_MS), True),
                              func.set_config("work_mem", SEARCH_WORK_MEM, True)))
            total, rows, facets = _summary(db, and_(*conditions), translated, sort, page, pagelen)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "57014":  # query_canceled
                raise
            db.rollback()
            raise QueryError(_("The search took too long: try fewer or more specific words.")) from None
        return SearchResult(total=total, hits=[_hit(row, translated) for row in rows], facets=facets)


def consent_clause(principal: Principal, context: Context):
    """``visible_artefacts`` over the consent columns ``search_document`` copies from ``artefact``.

    The rule itself is not restated here: its clause is rewritten column for column, and a rule
    that came to need a column the copy lacks fails loudly rather than filtering on nothing.
    """
    artefact, document = Artefact.__table__, SearchDocument.__table__

    def swap(element):
        if isinstance(element, Column) and element.table is artefact:
            if element.name not in FOLLOWED_COLUMNS:
                raise RuntimeError(f"search_document has no copy of artefact.{element.name} for the consent rule")
            return document.c[element.name]
        return None

    return replacement_traverse(visible_artefacts(principal, context), {}, swap)


# ---- translating the parsed query ------------------------------------------------------------


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


Terms = dict[tuple[str, bool], frozenset[str]]  # (quoted lexeme, is prefix) -> weights


def _render(terms: Terms) -> str:
    """Terms ORed; a term in every field carries no weight, so GIN needs no recheck of the row."""
    shown = []
    for (lexeme, prefix), weights in terms.items():
        label = ("*" if prefix else "") + ("" if weights >= frozenset(WEIGHTS.values()) else "".join(sorted(weights)))
        shown.append(f"{lexeme}:{label}" if label else lexeme)
    return " | ".join(shown)


@dataclass
class _Part:
    """A translated subtree: words ORed (mergeable), another tsquery, or an SQL condition."""

    terms: Terms | None = None
    ts: str | None = None
    sql: object = None

    @property
    def tsquery(self) -> str | None:
        return f"({_render(self.terms)})" if self.terms is not None else self.ts


@dataclass
class _Translated:
    part: _Part
    rank_ts: str | None  # every positive word, ORed: what relevance is ranked by
    words: dict[str, set[str]] = field(default_factory=dict)  # field -> stems to mark
    prefixes: dict[str, set[str]] = field(default_factory=dict)

    def matcher(self, name: str):
        exact, starts = self.words.get(name, set()), tuple(self.prefixes.get(name, ()))
        return lambda stem: stem in exact or (bool(starts) and stem.startswith(starts))


def _matches(ts: str):
    return SearchDocument.tsv.op("@@")(_tsquery(ts))


def _as_sql(translated: _Translated):
    part = translated.part
    return _matches(part.tsquery) if part.tsquery is not None else part.sql


def _merge(terms: Iterable[Terms]) -> Terms:
    merged: dict = {}
    for each in terms:
        for key, weights in each.items():
            merged[key] = merged.get(key, frozenset()) | weights
    return merged


class _Translator:
    def __init__(self, db: Session):
        self.db = db
        self.words: dict[str, set[str]] = {}
        self.prefixes: dict[str, set[str]] = {}
        self.positive: list[Terms] = []

    def translate(self, q: wq.Query) -> _Translated:
        part = self._node(q, positive=True)
        rank = _render(_merge(self.positive)) if self.positive else None
        return _Translated(part, rank, self.words, self.prefixes)

    # Each text leaf becomes a tsquery term restricted by weight to its field.
    def _term(self, positive: bool, name: str, word: str, prefix: bool = False) -> _Part:
        terms = {(_lexeme(word), prefix): frozenset(WEIGHTS[name])}
        if positive:
            self.positive.append(terms)
            (self.prefixes if prefix else self.words).setdefault(name, set()).add(word)
        return _Part(terms=terms)

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
            return self._term(positive, name, q.text, prefix=True)
        if isinstance(q, wq.Phrase) and name in WEIGHTS:
            words = [w for w in q.words if w]
            if not words:
                return _Part(sql=false())
            # Phrases keep their field's weight: PostgreSQL checks positions on the row anyway,
            # and the weight stops a phrase running from the end of one field into the next.
            gap = "<->" if q.slop <= 1 else f"<{min(int(q.slop), 10)}>"
            for w in words:
                self._term(positive, name, w)
            return _Part(ts="(" + f" {gap} ".join(f"{_lexeme(w)}:{WEIGHTS[name]}" for w in words) + ")")
        if isinstance(q, wq.Term):
            value = q.text.decode("utf-8") if isinstance(q.text, bytes) else str(q.text)
            if name in WEIGHTS:
                return self._term(positive, name, value)
            return _Part(sql=_keyword(name, [value]))
        raise QueryError(_("The search could not be understood: check quotes and brackets."))

    def _fuzzy(self, q: wq.FuzzyTerm, positive: bool) -> _Part:
        name = q.field()
        if name not in WEIGHTS:
            return _Part(sql=_keyword(name, [q.text]))
        near = _near_words(self.db, q.text, q.maxdist, max(q.prefixlength, 1))
        if not near:
            return _Part(sql=false())
        return self._combine("|", [self._term(positive, name, w) for w in near])

    @staticmethod
    def _combine(op: str, parts: list[_Part]) -> _Part:
        if op == "!":
            (only,) = parts
            return _Part(ts=f"!{only.tsquery}") if only.tsquery is not None else _Part(sql=not_(only.sql))
        if op == "|" and all(p.terms is not None for p in parts):
            # The same word in several fields (how a bare word arrives) becomes one term.
            return _Part(terms=_merge(p.terms for p in parts))
        if all(p.tsquery is not None for p in parts):
            return _Part(ts="(" + f" {op} ".join(p.tsquery for p in parts) + ")")
        sqls = [p.sql if p.tsquery is None else _matches(p.tsquery) for p in parts]
        return _Part(sql=and_(*sqls) if op == "&" else or_(*sqls))


def _listed(column):
    """A comma-separated column as an array; written as in migration 0011's GIN indexes so they apply."""
    return func.string_to_array(column, literal_column("','"))


def _keyword(name: str, chosen: Iterable[str]):
    """The item has any of the `chosen` values in a keyword field (a list field: among its values)."""
    chosen = list(chosen)
    if name in LIST_FIELDS:
        return _listed(getattr(SearchDocument, name)).op("&&")(cast(array(chosen), ARRAY(Text)))
    if name not in KEYWORD_FIELDS:
        raise QueryError(_("The search could not be understood: check quotes and brackets."))
    return getattr(SearchDocument, name).in_(chosen)


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


def _filter_sql(chosen: Chosen) -> list:
    conditions = []
    paired = chosen.themes_with_polarity
    for key, wanted in chosen.values.items():
        if paired is not None and key in ("themes", "polarity"):
            continue
        if key == "session":
            conditions.append(SearchDocument.session_id.in_([int(v) for v in wanted]))
        elif key == "programme":
            conditions.append(SearchDocument.programme_id.in_([int(v) for v in wanted]))
        else:
            conditions.append(_keyword(key, wanted))
    if paired is not None:
        conditions.append(_keyword("theme_polarity", paired))
    if chosen.start is not None:
        conditions.append(SearchDocument.created_at >= chosen.start.replace(tzinfo=timezone.utc))
    if chosen.end is not None:
        conditions.append(SearchDocument.created_at < chosen.end.replace(tzinfo=timezone.utc))
    return conditions


def _facet_counts(matches) -> list:
    """{value: count} for each facet over the matches, as JSON values (NULL when none), in FACET_FIELDS order.

    Counted from a few hundred groups rather than from every match: the single-valued facets
    in one GROUPING SETS pass, and a list facet by its distinct lists, each split once.
    """
    single = [name for name in FACET_FIELDS if name not in LIST_FIELDS]
    grouped = (select(*(matches.c[name] for name in single), func.count().label("n"))
               .group_by(func.grouping_sets(*(tuple_(matches.c[name]) for name in single))).cte("grouped"))

    def counted(name: str):
        if name not in LIST_FIELDS:
            return grouped, grouped.c[name], grouped.c.n
        lists = select(matches.c[name].label("list"), func.count().label("n")).group_by(matches.c[name]).subquery()
        split = select(func.unnest(_listed(lists.c.list)).label("value"), lists.c.n).subquery()
        summed = select(split.c.value, func.sum(split.c.n).label("n")).group_by(split.c.value).subquery()
        return summed, summed.c.value, summed.c.n

    def as_json(name: str):
        source, value, n = counted(name)
        shown = and_(value.is_not(None), value != "")
        return select(func.json_object_agg(value, n).filter(shown)).select_from(source).scalar_subquery()

    return [as_json(name) for name in FACET_FIELDS]


PAGE_FIELDS = ("kind", "themes")  # what a hit shows besides its texts
# Relevance as Whoosh's BM25F sees it, roughly: every field counts the same, and an item whose
# words are mostly the ones searched ranks above a long one that mentions them in passing
# (ts_rank's normalisation 1 divides by 1 + log of the item's length). It also keeps the page's
# texts short, which is where a search spends its time cutting snippets.
EQUAL_FIELDS = literal_column("'{1, 1, 1, 1}'::float4[]")
BY_LENGTH = 1


def _summary(db: Session, where, translated: _Translated, sort: str, page: int, pagelen: int):
    """Total, facet counts and the page's rows with their texts, in one statement over one pass of the matches."""
    document, texts = SearchDocument.__table__, SearchText.__table__
    ranked = sort == "relevance" and translated.rank_ts is not None
    rank = [func.ts_rank(EQUAL_FIELDS, document.c.tsv, _tsquery(translated.rank_ts), BY_LENGTH).label("rank")
            ] if ranked else []
    matches = (select(document.c.artefact_id, document.c.created_at, *(document.c[n] for n in FACET_FIELDS), *rank)
               .where(where).cte("matches").prefix_with("MATERIALIZED"))
    keys = [("created_at", sort != "oldest"), ("artefact_id", False)]  # (column, descending)
    if ranked:
        keys.insert(0, ("rank", True))

    def ordered(source):
        return [source.c[name].desc() if descending else source.c[name] for name, descending in keys]

    on_page = select(matches).order_by(*ordered(matches)).offset((page - 1) * pagelen).limit(pagelen).subquery()
    shown = [*(on_page.c[name] for name in ("artefact_id", *PAGE_FIELDS)),
             *(texts.c[name] for name in (*TEXT_FIELDS, "segments"))]
    row = func.json_build_object(*(part for column in shown for part in (literal_column(f"'{column.name}'"), column)))
    rows = (select(func.json_agg(aggregate_order_by(row, *ordered(on_page))))
            .join_from(on_page, texts, texts.c.artefact_id == on_page.c.artefact_id))
    stmt = select(
        select(func.count()).select_from(matches).scalar_subquery(),
        rows.scalar_subquery(),
        *_facet_counts(matches),
    )
    total, hits, *counts = db.execute(stmt).one()
    facets = {name: {str(k): int(v) for k, v in (found or {}).items()} for name, found in zip(FACET_FIELDS, counts)}
    return int(total), hits or [], facets


def _hit(row: dict, translated: _Translated) -> Hit:
    texts = {name: row[name] or "" for name in SNIPPET_ORDER}
    snippet = ""
    for name in SNIPPET_ORDER:
        snippet = marked(texts[name], translated.matcher(name))
        if snippet:
            break
    moment = None
    if translated.words.get("transcript") or translated.prefixes.get("transcript"):
        moment = best_segment(row["segments"], translated.matcher("transcript"))
    return Hit(
        id=row["artefact_id"], kind=row["kind"], themes=[t for t in row["themes"].split(",") if t],
        snippet=snippet or plain_snippet(texts), title=texts["title"],
        segment_start=moment[0] if moment else None, segment_end=moment[1] if moment else None,
    )

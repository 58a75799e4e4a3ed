"""The PostgreSQL backend's own parts: its tsquery translation, its consent clause, and agreement
with the Whoosh backend on the benchmark corpus (the question its benchmark figures answer).

The behaviour both backends share is in ``tests/test_search_contract.py``.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy.dialects import postgresql

from archive.consent import Context
from archive.models import Role
from archive.principal import Principal
from archive.services import Services
from archive.settings import load_settings
from bench import search as bench_search
from search.pg import _Translator, consent_clause
from search.query import parse_user_query


def translated(text: str):
    return _Translator(db=None).translate(parse_user_query(text))  # the database is only asked for word~


@pytest.mark.parametrize(("text", "tsquery"), [
    # A bare word is searched in every field: no weight, so the GIN index answers without rechecking rows.
    ("school", "('school')"),
    ("bus*", "('bus':*)"),
    ("title:school", "('school':A)"),
    ("title:bus OR story:bus", "('bus':AB)"),
    ("school NOT bus", "(('school') & !('bus'))"),
    # A phrase keeps its field's weight, so it cannot run from the end of one field into the next.
    ('"bus stop"', "(('bus':A <-> 'stop':A) | ('bus':B <-> 'stop':B) | ('bus':C <-> 'stop':C) | ('bus':D <-> 'stop':D))"),
])
def test_words_become_tsquery_terms(text, tsquery):
    assert translated(text).part.tsquery == tsquery


def test_relevance_is_ranked_by_every_positive_word_once():
    assert translated('"bus stop" school NOT park').rank_ts == "'bus' | 'stop' | 'school'"
    assert translated("theme:housing").rank_ts is None  # nothing to rank by: newest first


def _sql(clause) -> str:
    return str(clause.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("context", [Context.TEAM, Context.ANALYSIS, Context.REPORT_EXPORT, Context.PUBLIC_EXHIBIT])
def test_the_consent_clause_is_the_gate_over_the_copied_columns(context):
    staff = Principal(kind="staff", user_id=1, roles=frozenset({(7, Role.ADMIN), (9, Role.ANALYST)}))
    sql = _sql(consent_clause(staff, context))
    assert "artefact." not in sql.replace("search_document.", "")
    assert "search_document.status != 'withdrawn'" in sql
    assert "search_document.consent_level >=" in sql
    if context in (Context.TEAM, Context.ANALYSIS, Context.REPORT_EXPORT):
        assert "search_document.programme_id IN" in sql
    if context != Context.TEAM:
        assert "search_document.reviewed_at IS NOT NULL" in sql and "search_document.status = 'ready'" in sql


def test_a_rule_needing_a_column_the_copy_lacks_fails_loudly():
    owner = Principal(kind="participant", participant_id="8d3a0c1e-8f4b-4c54-9a55-2f8a3c1c6a10")
    with pytest.raises(RuntimeError, match="participant_id"):
        consent_clause(owner, Context.OWNER)


# ---- agreement with Whoosh on the benchmark corpus ----------------------------------------------

CORPUS_SIZE, SEED = 1500, 11


@pytest.fixture(scope="module")
def both(tmp_path_factory, _postgres_cluster):
    """The same seeded corpus on SQLite + Whoosh and on PostgreSQL + the postgres backend, both rebuilt."""
    from search.backends import backend_for
    from tests.servers.postgres import USER, _admin

    name = f"search_pg_{secrets.token_hex(4)}"
    with _admin(_postgres_cluster.port) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    root = tmp_path_factory.mktemp("search-pg")
    whoosh = Services(load_settings(data_dir=root / "whoosh", queue_url="memory://"))
    pg = Services(load_settings(data_dir=root / "pg", queue_url="memory://", search_backend="postgres",
                                database_url=f"postgresql+psycopg://{USER}@127.0.0.1:{_postgres_cluster.port}/{name}"))
    try:
        summary, _ = bench_search.make_corpus(whoosh, CORPUS_SIZE, seed=SEED)
        bench_search.whoosh_reindex(whoosh)
        bench_search.make_corpus(pg, CORPUS_SIZE, seed=SEED)
        with pg.session() as db:
            indexed = backend_for(pg.settings).reindex(db)
        yield whoosh, pg, summary, indexed
    finally:
        whoosh.close()
        pg.close()
        with _admin(_postgres_cluster.port) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.parametrize("context", bench_search.CONTEXTS, ids=lambda c: c.value)
def test_postgres_and_whoosh_find_the_same_items_and_counts(both, context):
    whoosh, pg, summary, indexed = both
    assert indexed > CORPUS_SIZE // 2
    principal = bench_search.bench_principal(summary)
    by_whoosh, by_pg = bench_search.Entry(whoosh, principal), bench_search.Entry(pg, principal)
    found_any = 0
    for query in bench_search.MIX:
        label = bench_search._label(query)
        expected = by_whoosh.all_ids(context, query)
        assert by_pg.all_ids(context, query) == expected, label
        whoosh_page, pg_page = by_whoosh(context, query), by_pg(context, query)
        assert pg_page.total == whoosh_page.total == len(expected), label
        assert pg_page.facets == whoosh_page.facets, label
        if expected:
            assert pg_page.hits and all(h.snippet and h.kind for h in pg_page.hits), label
            found_any += 1
    assert found_any >= len(bench_search.MIX) - 2  # equality of empty sets would prove little


# ---- migration 0011 on a database that already has search rows ----------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0010(request, tmp_path):
    from archive import schema
    from archive.db import make_engine

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url)
    schema.upgrade(engine, "0010")
    yield engine
    engine.dispose()


def test_migration_0011_carries_search_rows_over(at_0010):
    from sqlalchemy import Uuid, bindparam, select, text

    from archive import schema
    from archive.db import make_session_factory
    from archive.models import AgeBand, Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, PlaceType, SearchDocument
    from archive.models.search import FOLLOWED_COLUMNS, SearchText
    from archive.principal import SYSTEM
    from archive.programmes import create_programme, create_session, join_session

    db = make_session_factory(at_0010)()
    programme = create_programme(db, SYSTEM, "migrate", "Migrate")
    session = create_session(db, SYSTEM, programme, "S", PlaceType.SCHOOL, "RV01")
    teen = join_session(db, session, "Owl", AgeBand.AGE_16_19)
    db.flush()
    item = Artefact(programme_id=programme.id, session_id=session.id, participant_id=teen.id, kind=ArtefactKind.PHOTO,
                    title="Bus stop", status=ArtefactStatus.READY, consent_level=ConsentLevel.REPORT,
                    reviewed_at=programme.created_at)
    db.add(item)
    db.commit()
    tsv = "to_tsvector('simple', 'bus stop')" if at_0010.dialect.name == "postgresql" else "'bus stop'"
    db.execute(text(  # a row as the 0009 backend wrote it, texts and all
        "INSERT INTO search_document (artefact_id, programme_id, session_id, kind, themes, polarity, theme_polarity, "
        "theme_source, title, story, transcript, ocr, segments, tsv) VALUES (:id, :programme, :session, 'photo', "
        f"'transport', 'barrier', 'transport:barrier', 'transport:model', 'Bus stop', 'It never comes', '', '', '', {tsv})"
    ).bindparams(bindparam("id", type_=Uuid)), {"id": item.id, "programme": programme.id, "session": session.id})
    db.commit()
    db.close()

    schema.upgrade(at_0010)
    assert schema.differences(at_0010) == []
    db = make_session_factory(at_0010)()
    copy = db.execute(select(*(getattr(SearchDocument, c) for c in FOLLOWED_COLUMNS))).one()
    live = db.execute(select(*(getattr(Artefact, c) for c in FOLLOWED_COLUMNS))).one()
    assert tuple(copy) == tuple(live)
    assert db.scalar(select(SearchDocument.theme_polarity)) == "transport:barrier"
    texts = db.execute(select(SearchText.artefact_id, SearchText.title, SearchText.story)).one()
    assert tuple(texts) == (item.id, "Bus stop", "It never comes")
    db.close()

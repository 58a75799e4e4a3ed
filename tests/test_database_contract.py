"""The same migrations and domain behaviour on the embedded SQLite and a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from archive import schema
from archive.consent import Context, visible_artefacts
from archive.consent_records import ConsentChoice, record_consent
from archive.db import DatabaseUnavailable, check_database, make_engine, make_session_factory
from archive.models import AgeBand, Artefact, ArtefactKind, ArtefactStatus, AuditEvent, ConsentLevel, ConsentRecord, PlaceType, Role
from archive.principal import SYSTEM, Principal
from archive.programmes import JoinError, create_programme, create_session, join_session


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'contract.sqlite3'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def test_migrations_match_the_models_and_downgrade_cleanly(engine):
    assert schema.differences(engine) == []
    check_database(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert schema.differences(engine) == []


def test_domain_round_trip_and_consent_filter(engine):
    db = make_session_factory(engine)()
    programme = create_programme(db, SYSTEM, "contract", "Contract programme")
    session = create_session(db, SYSTEM, programme, "Club night", PlaceType.YOUTH_CLUB, "rv03", AgeBand.AGE_11_15)
    teen = join_session(db, session, "Night Owl", AgeBand.AGE_16_19, "owl")
    db.flush()
    items = []
    for level in (ConsentLevel.TEAM, ConsentLevel.REPORT):
        artefact = Artefact(programme_id=programme.id, session_id=session.id, participant_id=teen.id,
                            kind=ArtefactKind.TEXT_STORY, title=f"{level.label} story", status=ArtefactStatus.READY,
                            reviewed_at=programme.created_at)
        db.add(artefact)
        items.append(artefact)
    db.flush()
    record_consent(db, SYSTEM, teen, ConsentChoice(level=ConsentLevel.REPORT))
    record_consent(db, SYSTEM, teen, ConsentChoice(level=ConsentLevel.TEAM), artefact=items[0])
    db.commit()
    analyst = Principal(kind="staff", user_id=9, roles=frozenset({(programme.id, Role.ANALYST)}))
    seen = db.scalars(select(Artefact.title).where(visible_artefacts(analyst, Context.ANALYSIS))).all()
    assert seen == ["report story"]
    assert session.join_code_expires_at.tzinfo is not None
    assert db.scalar(select(ConsentRecord.version).order_by(ConsentRecord.version.desc()).limit(1)) == 1
    db.close()


def test_alias_is_unique_per_session_whatever_the_case(engine):
    db = make_session_factory(engine)()
    programme = create_programme(db, SYSTEM, "aliases", "Aliases")
    session = create_session(db, SYSTEM, programme, "S", PlaceType.SCHOOL, "RV01")
    join_session(db, session, "Blue Fox", AgeBand.AGE_5_11)
    db.commit()
    with pytest.raises(JoinError, match="already called"):
        join_session(db, session, "BLUE FOX", AgeBand.AGE_5_11)
    db.close()


def test_consent_and_audit_rows_are_append_only(engine):
    db = make_session_factory(engine)()
    programme = create_programme(db, SYSTEM, "append", "Append only")
    session = create_session(db, SYSTEM, programme, "S", PlaceType.SCHOOL, "RV01")
    child = join_session(db, session, "Kite", AgeBand.AGE_5_11)
    record, _ = record_consent(db, SYSTEM, child, ConsentChoice(level=ConsentLevel.TEAM))
    db.commit()
    record.level = ConsentLevel.EXHIBIT
    with pytest.raises(PermissionError):
        db.commit()
    db.rollback()
    event = db.scalars(select(AuditEvent)).first()
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.commit()
    db.rollback()
    duplicate = ConsentRecord(participant_id=child.id, scope=record.scope, version=record.version,
                              level=ConsentLevel.TEAM, giver=record.giver, method=record.method)
    db.add(duplicate)
    with pytest.raises(IntegrityError):
        db.commit()  # two decisions cannot claim the same version: concurrent writers clash, not interleave
    db.close()


def test_unmigrated_and_unreachable_databases_get_clear_messages(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="chorus init"):
        check_database(make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    with pytest.raises(DatabaseUnavailable, match="cannot use the database"):
        check_database(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"))


def test_sqlite_runs_with_wal_and_secure_delete(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1

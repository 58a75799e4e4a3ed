"""Exports through the report-export gate, the export register, and what it remembers after a withdrawal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest

from archive.erasure import ErasureContext, erase_artefact, withdraw_artefact, withdraw_participant
from archive.exports.csvsafe import csv_bytes, safe_cell
from archive.exports.register import holdings, mark_recalled
from archive.exports.selection import ExportError, default_searcher
from archive.exports.service import make_export
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ExportItem,
    ExportRecord,
    Polarity,
    Role,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
)
from archive.principal import SYSTEM, staff_principal


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def world(make, db):
    programme = make.programme("riverside")
    session = make.session(programme, area="RV07")

    def person(level, **flags):
        participant = make.participant(session)
        make.consent(participant, level, **flags)
        return participant

    credited = person(ConsentLevel.REPORT, credit=True)
    plain = person(ConsentLevel.REPORT)
    team_only = person(ConsentLevel.TEAM)
    items = {
        "credited": make.artefact(credited, story="The bus never comes on Sundays", title="Bus"),
        "plain": make.artefact(plain, story="=HYPERLINK(\"http://evil.example\") my park", title="Park"),
        "unreviewed": make.artefact(plain, story="Not checked yet", reviewed=False),
        "team": make.artefact(team_only, story="Only the team may read this"),
    }
    analyst = make.staff(programme, Role.ANALYST)
    return {"programme": programme, "items": items, "analyst": analyst, "principal": staff_principal(analyst),
            "credited": credited, "plain": plain}


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(start):
    assert safe_cell(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"
    written = csv_bytes(["h"], [[f"{start}cmd"]]).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(written)))[1]
    assert parsed == [f"'{start}cmd"]


def test_ordinary_cells_and_numbers_are_left_alone():
    assert safe_cell("Bus stop") == "Bus stop"
    assert safe_cell("it's -5 outside") == "it's -5 outside"
    assert safe_cell(-1.5) == "-1.5"
    assert safe_cell(None) == ""


def test_artefact_csv_holds_only_what_report_consent_allows_with_its_manifest(world, db):
    delivered = make_export(db, world["principal"], world["programme"], "artefacts_csv", purpose="JSNA draft")
    db.commit()
    files = unzip(delivered.content)
    assert set(files) == {"artefacts.csv", "manifest.json"}
    table = rows(files["artefacts.csv"])
    ids = {r["artefact_id"] for r in table}
    assert ids == {str(world["items"]["credited"].id), str(world["items"]["plain"].id)}
    by_id = {r["artefact_id"]: r for r in table}
    credited = by_id[str(world["items"]["credited"].id)]
    assert credited["credit_alias"] == world["credited"].alias
    assert credited["area"] == "RV07" and credited["age_band"] == "16_19" and credited["kind"] == "text_story"
    plain = by_id[str(world["items"]["plain"].id)]
    assert plain["credit_alias"] == ""
    assert plain["story"].startswith("'=HYPERLINK")  # the injection guard, in a real export

    manifest = json.loads(files["manifest.json"])
    record = db.get(ExportRecord, manifest["export_id"])
    assert record.sha256 == hashlib.sha256(delivered.content).hexdigest()
    assert manifest["files"] == [{"name": "artefacts.csv", "sha256": hashlib.sha256(files["artefacts.csv"]).hexdigest(),
                                  "bytes": len(files["artefacts.csv"])}]
    assert manifest["created_by"]["id"] == world["analyst"].id and manifest["purpose"] == "JSNA draft"
    snapshot = {i["artefact_id"]: i["consent"] for i in manifest["items"]}
    assert snapshot[str(world["items"]["credited"].id)] == {"level": "report", "credit": True, "face": False,
                                                            "voice": False}
    assert {str(i.artefact_id) for i in record.items} == ids
    assert delivered.filename == f"chorus-riverside-artefacts-csv-{record.id}.zip"


def test_an_analyst_of_another_programme_exports_nothing_of_this_one(world, make, db):
    stranger = staff_principal(make.staff(make.programme("elsewhere"), Role.ANALYST))
    with pytest.raises(ExportError):
        make_export(db, stranger, world["programme"], "artefacts_csv")
    assert db.query(ExportRecord).count() == 0


def test_themes_csv_counts_accepted_and_peoples_own_tags_not_unchecked_suggestions(world, db):
    item = world["items"]["credited"]
    for theme, source, status in [
        ("getting_around", TagSource.MODEL, TagStatus.ACCEPTED),
        ("money", TagSource.MODEL, TagStatus.SUGGESTED),
        ("friends", TagSource.PARTICIPANT, TagStatus.SUGGESTED),
        ("home", TagSource.PARTICIPANT, TagStatus.REJECTED),
    ]:
        db.add(ThemeTag(artefact_id=item.id, framework="determinants", theme=theme, source=source, status=status,
                        polarity=Polarity.BARRIER, confidence=0.8123, evidence="=bus never comes"))
    db.commit()
    files = unzip(make_export(db, world["principal"], world["programme"], "themes_csv").content)
    table = rows(files["themes.csv"])
    assert {(r["theme"], r["source"]) for r in table} == {("getting_around", "model"), ("friends", "participant")}
    assert all(r["evidence"] == "'=bus never comes" and r["confidence"] == "0.812" for r in table)


def test_transcripts_csv_has_one_row_a_segment(world, db):
    item = world["items"]["plain"]
    transcript = Transcript(artefact_id=item.id, segments=[
        TranscriptSegment(position=0, start=0.0, end=2.5, text="We play in the park"),
        TranscriptSegment(position=1, start=2.5, end=4.0, text="-but it's dark"),
    ])
    db.add(transcript)
    db.commit()
    table = rows(unzip(make_export(db, world["principal"], world["programme"], "transcripts_csv").content)
                 ["transcripts.csv"])
    assert [(r["start_seconds"], r["end_seconds"], r["text"]) for r in table] == [
        ("0.0", "2.5", "We play in the park"), ("2.5", "4.0", "'-but it's dark")]


def test_the_register_remembers_which_exports_held_an_item_after_it_is_erased(world, db, services):
    first = make_export(db, world["principal"], world["programme"], "artefacts_csv").record
    db.commit()
    item = world["items"]["credited"]
    withdraw_artefact(db, SYSTEM, item)
    db.commit()
    second = make_export(db, world["principal"], world["programme"], "artefacts_csv").record
    db.commit()
    assert str(item.id) not in {str(i.artefact_id) for i in second.items}

    left = erase_artefact(ErasureContext(db, services.storage, services.settings), item.id, SYSTEM)
    assert left == []
    db.expire_all()
    erased = db.get(Artefact, item.id)
    assert erased.story == "" and erased.title == "" and erased.erased_at is not None
    held = holdings(db, world["programme"].id)
    assert [(h.artefact_id, h.change) for h in held[first.id]] == [(str(item.id), "withdrawn")]
    assert second.id not in held
    assert db.query(ExportItem).filter_by(export_id=first.id, artefact_id=item.id).count() == 1


def test_narrowed_consent_and_taken_back_credit_are_flagged_too(world, make, db):
    record = make_export(db, world["principal"], world["programme"], "artefacts_csv").record
    db.commit()
    make.consent(world["plain"], ConsentLevel.TEAM)
    make.consent(world["credited"], ConsentLevel.REPORT, credit=False)
    changes = {h.artefact_id: h.change for h in holdings(db, world["programme"].id)[record.id]}
    assert changes == {str(world["items"]["plain"].id): "narrowed", str(world["items"]["credited"].id): "uncredited"}


def test_withdrawing_a_participant_shows_on_every_export_that_held_their_items(world, make, db):
    extra = make.artefact(world["plain"], story="Another thing about the park")
    records = [make_export(db, world["principal"], world["programme"], fmt).record
               for fmt in ("artefacts_csv", "themes_csv")]
    db.commit()
    withdraw_participant(db, SYSTEM, world["plain"])
    db.commit()
    held = holdings(db, world["programme"].id)
    for record in records:
        assert {h.artefact_id for h in held[record.id]} == {str(world["items"]["plain"].id), str(extra.id)}


def test_marking_an_export_recalled_is_recorded_and_audited(world, db):
    record = make_export(db, world["principal"], world["programme"], "artefacts_csv").record
    mark_recalled(db, world["principal"], record, "  Asked the JSNA team to delete it  ")
    db.commit()
    assert record.recalled_at is not None and record.recall_note == "Asked the JSNA team to delete it"
    from archive.models import AuditEvent

    actions = [e.action for e in db.query(AuditEvent).filter_by(object_type="export", object_id=str(record.id))]
    assert actions == ["export.created", "export.recalled"]


def test_an_export_of_a_search_holds_its_hits_only_and_never_a_restricted_one(world, make, db, services):
    from search.index import index_artefact

    child = make.participant(make.session(world["programme"]), band=AgeBand.AGE_11_15)
    make.consent(child, ConsentLevel.REPORT, giver=ConsentGiver.PARENT_CARER)
    child_item = make.artefact(child, story="The bus is always full", kind=ArtefactKind.TEXT_STORY)
    for artefact in [*world["items"].values(), child_item]:
        db.refresh(artefact)
        index_artefact(services.settings.index_dir, artefact)
    searcher = default_searcher(services)
    delivered = make_export(db, world["principal"], world["programme"], "artefacts_csv", searcher=searcher,
                            query_text="bus", filters={"age_band": ["11_15", "16_19"], "bogus": ["x"]})
    db.commit()
    ids = {r["artefact_id"] for r in rows(unzip(delivered.content)["artefacts.csv"])}
    assert ids == {str(world["items"]["credited"].id), str(child_item.id)}
    assert delivered.record.query_text == "bus"
    assert delivered.record.filters == {"age_band": ["11_15", "16_19"]}

    with pytest.raises(ExportError):
        make_export(db, world["principal"], world["programme"], "artefacts_csv", searcher=searcher,
                    query_text="only the team")


def test_a_withdrawn_item_still_in_the_index_is_not_exported(world, db, services):
    from search.index import index_artefact

    item = world["items"]["credited"]
    db.refresh(item)
    index_artefact(services.settings.index_dir, item)
    item.status = ArtefactStatus.WITHDRAWN  # as if the index had not caught up yet
    db.commit()
    with pytest.raises(ExportError):
        make_export(db, world["principal"], world["programme"], "artefacts_csv",
                    searcher=default_searcher(services), query_text="bus")


def test_unknown_formats_and_bad_searches_get_a_message(world, db, services):
    with pytest.raises(ExportError):
        make_export(db, world["principal"], world["programme"], "xlsx")
    with pytest.raises(ValueError) as raised:
        make_export(db, world["principal"], world["programme"], "artefacts_csv",
                    searcher=default_searcher(services), query_text="consent_level:3")
    assert not isinstance(raised.value, ExportError) and "consent_level" in str(raised.value)


@pytest.mark.services
def test_the_register_and_board_work_the_same_on_postgresql(tmp_path, fresh_postgres_url):
    """The SQL in the register (consent snapshot, changed-consent join) and the board, on PostgreSQL."""
    from archive import schema
    from archive.db import make_engine
    from archive.exports.quotes import add_quote, board
    from archive.services import Services
    from archive.settings import load_settings
    from tests.conftest import Factory

    engine = make_engine(fresh_postgres_url)
    schema.upgrade(engine)
    engine.dispose()
    services = Services(load_settings(data_dir=tmp_path / "data", queue_url="memory://",
                                      database_url=fresh_postgres_url))
    services.storage.check()
    try:
        with services.session() as db:
            make = Factory(db, services.storage)
            programme = make.programme("pg-riverside")
            session = make.session(programme)
            kept, gone, uncredited = (make.participant(session) for _ in range(3))
            make.consent(kept, ConsentLevel.REPORT)
            make.consent(gone, ConsentLevel.REPORT)
            make.consent(uncredited, ConsentLevel.REPORT, credit=True)
            items = [make.artefact(p, story=f"Story {n} about the bus") for n, p in enumerate((kept, gone, uncredited))]
            principal = staff_principal(make.staff(programme, Role.ANALYST))
            add_quote(db, principal, items[1], "story", "about the bus")
            record = make_export(db, principal, programme, "artefacts_csv").record
            db.commit()
            withdraw_artefact(db, SYSTEM, items[1])
            db.commit()
            make.consent(uncredited, ConsentLevel.REPORT, credit=False)
            assert board(db, principal, programme) == []
            assert erase_artefact(ErasureContext(db, services.storage, services.settings), items[1].id, SYSTEM) == []
            changes = {h.artefact_id: h.change for h in holdings(db, programme.id)[record.id]}
            assert changes == {str(items[1].id): "withdrawn", str(items[2].id): "uncredited"}
            assert {str(i.artefact_id) for i in db.get(ExportRecord, record.id).items} == {str(a.id) for a in items}
    finally:
        services.close()

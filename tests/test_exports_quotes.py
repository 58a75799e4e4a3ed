"""The quotes board: real spans only, attribution only as consent allows, gone with a withdrawal."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from archive.erasure import ErasureContext, erase_artefact, withdraw_artefact
from archive.exports.quotes import QuoteError, add_quote, board, move_quote, quotes_markdown, remove_quote
from archive.exports.service import make_export
from archive.models import AgeBand, ConsentGiver, ConsentLevel, Quote, Role, Transcript, TranscriptSegment
from archive.principal import SYSTEM, staff_principal


@pytest.fixture
def world(make, db):
    programme = make.programme("riverside")
    session = make.session(programme)
    named = make.participant(session, alias="Blue Fox")
    make.consent(named, ConsentLevel.REPORT, credit=True)
    child = make.participant(session, alias="Red Kite", band=AgeBand.AGE_11_15)
    make.consent(child, ConsentLevel.REPORT, giver=ConsentGiver.PARENT_CARER)
    quiet = make.participant(session, alias="Grey Owl")
    make.consent(quiet, ConsentLevel.TEAM)
    items = {
        "named": make.artefact(named, story="The bus never comes on Sundays so I walk"),
        "child": make.artefact(child, story="There is *nowhere* to [play](http://x.example) after school"),
        "quiet": make.artefact(quiet, story="Only the team may read this"),
    }
    principal = staff_principal(make.staff(programme, Role.ANALYST))
    return {"programme": programme, "items": items, "principal": principal}


def test_quotes_are_spans_of_the_words_and_carry_consented_attribution(world, db):
    p, items = world["principal"], world["items"]
    add_quote(db, p, items["named"], "story", "the bus   never comes")
    add_quote(db, p, items["child"], "story", "nowhere* to [play](http://x.example)")
    db.commit()
    entries = board(db, p, world["programme"])
    assert [q.text for q in entries] == ["the bus never comes", "nowhere* to [play](http://x.example)"]
    markdown = quotes_markdown(p, world["programme"], entries).decode()
    assert "> — Blue Fox, a young person aged 16-19" in markdown
    assert "> — a young person aged 11-15" in markdown and "Red Kite" not in markdown
    assert "\\[play\\]\\(http://x.example\\)" in markdown and "](http" not in markdown


@pytest.mark.parametrize("source, text", [("story", "words nobody wrote"), ("story", "  "), ("video", "bus"),
                                          ("transcript", "bus"), ("story", "x" * 2001)])
def test_a_quote_that_is_not_the_items_words_is_refused_with_a_message(world, db, source, text):
    with pytest.raises(QuoteError) as raised:
        add_quote(db, world["principal"], world["items"]["named"], source, text)
    assert str(raised.value)


def test_team_only_items_cannot_be_quoted(world, db):
    with pytest.raises(LookupError):
        add_quote(db, world["principal"], world["items"]["quiet"], "story", "Only the team")


def test_a_transcript_quote_keeps_when_it_was_said(world, db):
    item = world["items"]["named"]
    db.add(Transcript(artefact_id=item.id, segments=[
        TranscriptSegment(position=0, start=0.0, end=3.0, text="Hello"),
        TranscriptSegment(position=1, start=63.0, end=66.5, text="The buses are rubbish round here"),
    ]))
    db.commit()
    segment = item.transcript.segments[1]
    quote = add_quote(db, world["principal"], item, "transcript", "buses are rubbish", segment_id=segment.id)
    assert (quote.start_seconds, quote.end_seconds) == (63.0, 66.5)
    with pytest.raises(QuoteError):
        add_quote(db, world["principal"], item, "transcript", "Hello", segment_id=segment.id)


def test_reorder_and_remove(world, db):
    p, items = world["principal"], world["items"]
    a = add_quote(db, p, items["named"], "story", "bus never comes")
    b = add_quote(db, p, items["named"], "story", "so I walk")
    c = add_quote(db, p, items["child"], "story", "after school")
    db.commit()
    move_quote(db, p, world["programme"], c.id, -1)
    move_quote(db, p, world["programme"], a.id, -1)  # already first: stays
    db.commit()
    assert [q.id for q in board(db, p, world["programme"])] == [a.id, c.id, b.id]
    remove_quote(db, p, world["programme"], c.id)
    db.commit()
    assert [q.id for q in board(db, p, world["programme"])] == [a.id, b.id]
    with pytest.raises(LookupError):
        move_quote(db, p, world["programme"], 99999, 1)


def test_a_withdrawn_items_quotes_leave_the_board_at_once_and_are_erased(world, db, services):
    p, items = world["principal"], world["items"]
    add_quote(db, p, items["named"], "story", "bus never comes")
    add_quote(db, p, items["child"], "story", "after school")
    db.commit()
    withdraw_artefact(db, SYSTEM, items["named"])
    db.commit()
    assert [q.text for q in board(db, p, world["programme"])] == ["after school"]
    assert erase_artefact(ErasureContext(db, services.storage, services.settings), items["named"].id, SYSTEM) == []
    assert db.query(Quote).filter_by(artefact_id=items["named"].id).count() == 0


def test_quotes_of_another_programme_are_not_on_this_board(world, make, db):
    other = make.shared(level=ConsentLevel.REPORT, story="Different place entirely")
    outsider = staff_principal(make.staff(db.get(type(world["programme"]), other.programme_id), Role.ANALYST))
    add_quote(db, outsider, other, "story", "Different place")
    db.commit()
    assert board(db, world["principal"], world["programme"]) == []
    with pytest.raises(LookupError):
        remove_quote(db, world["principal"], world["programme"], db.query(Quote).one().id)


def test_board_exports_go_through_the_register(world, db):
    p, items = world["principal"], world["items"]
    add_quote(db, p, items["named"], "story", "bus never comes")
    add_quote(db, p, items["child"], "story", "after school")
    db.commit()
    delivered = make_export(db, p, world["programme"], "quotes_csv")
    db.commit()
    with zipfile.ZipFile(io.BytesIO(delivered.content)) as archive:
        table = list(csv.DictReader(io.StringIO(archive.read("quotes.csv").decode("utf-8-sig"))))
        assert "manifest.json" in archive.namelist()
    assert [(r["position"], r["quote"], r["attribution"]) for r in table] == [
        ("1", "bus never comes", "Blue Fox, a young person aged 16-19"), ("2", "after school", "a young person aged 11-15")]
    assert {str(i.artefact_id) for i in delivered.record.items} == {str(items["named"].id), str(items["child"].id)}
    md = make_export(db, p, world["programme"], "quotes_md")
    assert md.record.format == "quotes_md" and md.filename.endswith(".zip")

"""Theme counts, the map's area counts and reach: taken after the consent gate, with the documented tag rule."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archive.analysis.maps import area_counts, map_data
from archive.analysis.reach import analyse_reach, judge
from archive.analysis.disclosure import protect_count
from archive.analysis.themes import analyse_themes, counted_rows
from archive.analysis.tags import is_counted
from archive.models import AgeBand, ConsentGiver, ArtefactKind, ConsentLevel, Polarity, PopulationFigure, Role, TagSource, TagStatus, ThemeTag
from archive.principal import staff_principal


def tag(db, artefact, theme, source=TagSource.PARTICIPANT, status=TagStatus.SUGGESTED, polarity=Polarity.NEUTRAL, confidence=None):
    db.add(ThemeTag(artefact_id=artefact.id, framework="determinants", theme=theme, source=source, status=status,
                    polarity=polarity, confidence=confidence))
    db.commit()


@pytest.fixture
def world(make, db):
    programme = make.programme("counts")
    analyst = staff_principal(make.staff(programme, Role.ANALYST))
    return programme, analyst


def person(make, programme, level=ConsentLevel.REPORT, band=AgeBand.AGE_11_15, area="RV01"):
    participant = make.participant(make.session(programme, area=area), band=band)
    participant.area_code = area
    # A parent or carer's consent, so that young bands may reach report level too.
    make.consent(participant, level, giver=ConsentGiver.PARENT_CARER)
    return participant


def test_the_tag_rule_counts_people_not_the_models_guesses(make, db, world):
    programme, analyst = world
    p = person(make, programme)
    item = make.artefact(p)
    tag(db, item, "housing")  # the participant's own tag
    tag(db, item, "money", source=TagSource.MODEL, confidence=0.99)  # a confident guess: not counted
    tag(db, item, "transport", source=TagSource.MODEL, status=TagStatus.ACCEPTED)  # a guess a person accepted
    tag(db, item, "food", source=TagSource.FACILITATOR, status=TagStatus.REJECTED)
    assert sorted(r.theme for r in counted_rows(db, analyst, programme)) == ["housing", "transport"]
    assert [is_counted(t) for t in sorted(item.tags, key=lambda t: t.theme)] == [False, True, False, True]


def test_counts_are_taken_after_the_consent_gate(make, db, world):
    programme, analyst = world
    heard = person(make, programme)
    team_only = person(make, programme, level=ConsentLevel.TEAM)
    for p in (heard, team_only):
        tag(db, make.artefact(p), "housing")
    tag(db, make.artefact(heard, reviewed=False), "housing")  # not yet reviewed: not for analysis
    other = make.programme()
    tag(db, make.artefact(person(make, other)), "housing")  # another programme
    result = analyse_themes(db, analyst, programme)
    assert result.items == 1
    assert result.totals.values == ((1,),)
    assert area_counts(db, analyst, programme) == {"RV01": 1}
    reach = analyse_reach(db, analyst, programme, 5)
    assert reach.heard.grand_total.value == 1  # the team-only participant is not counted outside the team


def test_dimensions_co_occurrence_and_months(make, db, world):
    programme, analyst = world
    young = person(make, programme, band=AgeBand.AGE_5_11, area="RV02")
    older = person(make, programme, band=AgeBand.AGE_16_19, area="RV03")
    a = make.artefact(young, kind=ArtefactKind.DRAWING)
    b = make.artefact(older, kind=ArtefactKind.PHOTO)
    a.created_at = datetime(2026, 9, 22, tzinfo=timezone.utc)
    b.created_at = datetime(2026, 11, 3, tzinfo=timezone.utc)
    db.commit()
    tag(db, a, "housing", polarity=Polarity.BARRIER)
    tag(db, a, "money", polarity=Polarity.BARRIER)
    tag(db, b, "housing", polarity=Polarity.ASSET)
    result = analyse_themes(db, analyst, programme)
    totals = dict(zip(result.totals.row_keys, result.totals.values))
    assert totals == {"housing": (2,), "money": (1,)}
    by_age = result.by["age_band"]
    housing = by_age.values[by_age.row_keys.index("housing")]
    assert housing[by_age.column_keys.index("5_11")] == 1
    assert housing[by_age.column_keys.index("16_19")] == 1
    assert result.by["area"].column_keys == ("RV02", "RV03")
    def row(grid, theme):
        return grid.values[grid.row_keys.index(theme)]

    assert row(result.by["polarity"], "housing") == (1, 1, 0)
    assert row(result.by["polarity"], "money") == (1, 0, 0)
    together = result.together
    assert together.values[together.row_keys.index("housing")][together.column_keys.index("money")] == 1
    assert row(together, "housing")[together.column_keys.index("housing")] == 2
    assert result.over_time.column_keys == ("2026-09", "2026-10", "2026-11")  # the empty month is shown
    assert row(result.over_time, "housing") == (1, 0, 1)


def test_small_counts_are_hidden_on_the_way_out(make, db, world):
    programme, analyst = world
    for n in range(13):
        item = make.artefact(person(make, programme))
        tag(db, item, "housing" if n < 6 else "transport")
        if n < 2:
            tag(db, item, "money")
    result = analyse_themes(db, analyst, programme)
    table = result.totals.protect(5, row_totals=False)
    shown = dict((row[0].split()[0], row[1]) for row in table.display_rows("Theme")[1:])
    # 2 is small; the total (15) would give it away, so the next smallest (6) is hidden with it.
    assert shown == {"Housing": "[c]", "Money": "<5", "Transport": "7", "Total": "15"}


def test_map_rates_hide_with_their_counts():
    from archive.analysis.boundaries import Area

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    areas = [Area(code, code.lower(), square) for code in "ABC"]
    data = map_data({"A": 12, "B": 2, "C": 30}, areas, {"A": 1000, "B": 100, "C": 3000}, 5)
    a, b, c = data.figures
    assert b.count.display == "<5" and a.count.display == "[c]"
    assert b.rate is None and b.rate_display == "hidden"  # 2 per 100 would be the count itself
    assert a.rate_display == "hidden" and c.rate_display == "10.0"
    assert data.table.column_totals[0].display == "44"


def test_seldom_heard_never_narrows_a_hidden_count():
    small = protect_count(2, 5)
    # Overall 10 per 1,000; cutoff 5. Even 4 of 10,000 (0.4 per 1,000) is seldom: flagging says nothing new.
    assert judge(small, 10_000, 10.0, 5).seldom is True
    # 4 of 500 is 8 per 1,000, over the cutoff, but 1 of 500 is under: saying either would narrow the count.
    assert judge(small, 500, 10.0, 5).seldom is None
    assert judge(protect_count(3, 5), 500, 10.0, 5).rate is None
    shown = judge(protect_count(20, 5), 10_000, 10.0, 5)
    assert shown.seldom is True and shown.rate_display == "2.0"
    assert judge(protect_count(20, 5), None, 10.0, 5).rate_display == "no figure"
    # Nobody heard from a group that exists is seldom heard even when the overall rate must stay hidden.
    assert judge(protect_count(0, 5), 500, None, 5).seldom is True
    assert judge(protect_count(3, 5), 500, None, 5).seldom is None
    from archive.analysis.reach import _rate_text

    assert _rate_text(judge(protect_count(3, 5), 500, 10.0, 5)) == "<5 heard of 500 (rate hidden)"


def test_reach_by_area_age_and_send(make, db, world):
    programme, analyst = world
    for n in range(7):
        p = person(make, programme, band=AgeBand.AGE_11_15, area="RV01")
        p.send = n == 0
        db.commit()
        make.artefact(p)
    db.add_all([
        PopulationFigure(programme_id=programme.id, area_code="RV01", age_band=AgeBand.AGE_11_15, population=700),
        PopulationFigure(programme_id=programme.id, area_code="RV02", age_band=AgeBand.AGE_11_15, population=10_000),
    ])
    db.commit()
    reach = analyse_reach(db, analyst, programme, 5)
    assert reach.areas == ("RV01", "RV02")
    col = list(AgeBand).index(AgeBand.AGE_11_15)
    assert reach.heard.cells[0][col].display == "7"
    assert reach.overall_rate == pytest.approx(1000 * 7 / 10_700)
    rv01, rv02 = reach.rates[0][col], reach.rates[1][col]
    assert rv01.rate == pytest.approx(10.0) and not rv01.seldom
    assert rv02.count.display == "0" and rv02.seldom is True
    send_col = reach.send.cells[col]
    assert [c.display for c in send_col] == ["<5", "[c]"]  # one with SEND: hidden, and its partner too
    assert "(seldom heard)" in reach.rate_rows()[2][1 + col]
    assert reach.rate_rows()[1][1 + col] == "7 heard of 700: 10.0 per 1,000"
    send_band = list(AgeBand).index(AgeBand.AGE_11_15)
    assert reach.send.rows[send_band] == "11 to 15"

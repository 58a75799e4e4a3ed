"""The consent gate: property tests over random consent histories, and the SQL filter agreeing with the predicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import select

from archive.consent import (
    Context,
    MediaRole,
    allows,
    effective_decision,
    media_allowed,
    under_13_at,
    visible_artefacts,
)
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentGiver,
    ConsentLevel,
    ConsentScope,
    Role,
)
from archive.principal import ANONYMOUS, Principal, participant_principal, staff_principal

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class Rec:
    scope: ConsentScope
    version: int
    level: ConsentLevel
    credit: bool
    face: bool
    voice: bool
    giver: ConsentGiver
    child_assent: bool | None
    created_at: datetime


@dataclass
class Person:
    age_band: AgeBand
    birth_month: date | None = None


record_fields = st.tuples(
    st.sampled_from(list(ConsentLevel)),
    st.booleans(), st.booleans(), st.booleans(),
    st.sampled_from(list(ConsentGiver)),
    st.sampled_from([None, True, False]),
)


def history(scope: ConsentScope, max_size=5):
    return st.lists(record_fields, max_size=max_size).map(
        lambda rows: [
            Rec(scope, i + 1, lvl, c, f, v, giver, assent, T0 + timedelta(days=i))
            for i, (lvl, c, f, v, giver, assent) in enumerate(rows)
        ]
    )


people = st.builds(Person, st.sampled_from(list(AgeBand)))


@given(people, history(ConsentScope.PARTICIPANT), history(ConsentScope.ARTEFACT))
def test_gate_never_grants_more_than_the_latest_decisions(person, defaults, own):
    decision = effective_decision(person, defaults, own)
    if not defaults:
        assert decision.level == ConsentLevel.NONE
        return
    assert decision.level <= defaults[-1].level
    if own:
        assert decision.level <= own[-1].level
    if decision.level < ConsentLevel.REPORT:
        assert not (decision.credit or decision.face or decision.voice)
    if decision.credit:
        assert defaults[-1].credit and (not own or own[-1].credit)
    if decision.voice:
        assert defaults[-1].voice and (not own or own[-1].voice)


@given(st.sampled_from([AgeBand.AGE_5_11, AgeBand.AGE_11_15]), history(ConsentScope.PARTICIPANT), history(ConsentScope.ARTEFACT))
def test_young_child_goes_beyond_team_only_with_a_parents_consent(band, defaults, own):
    decision = effective_decision(Person(band), defaults, own)
    parents = [r for r in defaults if r.giver == ConsentGiver.PARENT_CARER]
    if not parents:
        assert decision.level <= ConsentLevel.TEAM
    else:
        assert decision.level <= parents[-1].level
        if parents[-1].child_assent is False:
            assert decision.level <= ConsentLevel.TEAM


@given(st.sampled_from([AgeBand.AGE_16_19, AgeBand.FAMILY_0_5, AgeBand.AGE_20_25_SEND]),
       history(ConsentScope.PARTICIPANT, 4), history(ConsentScope.ARTEFACT, 3))
def test_people_over_13_decide_for_themselves_and_the_strictest_scope_wins(band, defaults, own):
    defaults = [r for r in defaults if r.giver == ConsentGiver.PARTICIPANT]
    own = [r for r in own if r.giver == ConsentGiver.PARTICIPANT]
    decision = effective_decision(Person(band), defaults, own)
    if defaults:
        expected = min([defaults[-1].level] + ([own[-1].level] if own else []))
        assert decision.level == expected


@given(people, history(ConsentScope.PARTICIPANT), history(ConsentScope.ARTEFACT))
def test_a_withdrawal_record_denies_whatever_came_before(person, defaults, own):
    withdrawal = Rec(ConsentScope.ARTEFACT, len(own) + 1, ConsentLevel.NONE, True, True, True,
                     ConsentGiver.PARTICIPANT, None, T0 + timedelta(days=30))
    assert effective_decision(person, defaults, own + [withdrawal]).level == ConsentLevel.NONE


def test_a_child_turning_13_can_consent_for_themself_from_then_on():
    child = Person(AgeBand.AGE_11_15, birth_month=date(2013, 6, 1))
    assert under_13_at(child, datetime(2026, 5, 31, tzinfo=timezone.utc))
    assert not under_13_at(child, datetime(2026, 6, 1, tzinfo=timezone.utc))
    before = Rec(ConsentScope.PARTICIPANT, 1, ConsentLevel.EXHIBIT, True, True, True, ConsentGiver.PARTICIPANT,
                 None, datetime(2026, 5, 1, tzinfo=timezone.utc))
    after = Rec(ConsentScope.PARTICIPANT, 2, ConsentLevel.EXHIBIT, True, True, True, ConsentGiver.PARTICIPANT,
                None, datetime(2026, 7, 1, tzinfo=timezone.utc))
    assert effective_decision(child, [before]).level == ConsentLevel.TEAM
    assert effective_decision(child, [before, after]).level == ConsentLevel.EXHIBIT


def test_unknown_context_raises(make):
    artefact = make.shared()
    with pytest.raises(ValueError, match="unknown consent context"):
        allows(ANONYMOUS, "team", artefact)
    with pytest.raises(ValueError):
        visible_artefacts(ANONYMOUS, "everything")


def test_items_differing_only_in_consent(db, make):
    programme = make.programme()
    team_item = make.shared(ConsentLevel.TEAM, programme=programme, title="same")
    report_item = make.shared(ConsentLevel.REPORT, programme=programme, title="same")
    analyst = staff_principal(make.staff(programme, Role.ANALYST))
    facilitator = staff_principal(make.staff(programme, Role.FACILITATOR))
    seen = lambda p, c: set(db.scalars(select(Artefact.id).where(visible_artefacts(p, c))))  # noqa: E731
    assert seen(analyst, Context.ANALYSIS) == {report_item.id}
    assert seen(facilitator, Context.TEAM) == {team_item.id, report_item.id}
    assert seen(ANONYMOUS, Context.PUBLIC_EXHIBIT) == set()
    assert seen(analyst, Context.TEAM) == set()  # analysts are not the programme's team


def test_other_programmes_staff_see_nothing(db, make):
    item = make.shared(ConsentLevel.EXHIBIT)
    outsider = staff_principal(make.staff(make.programme(), Role.ADMIN))
    for context in (Context.TEAM, Context.ANALYSIS, Context.REPORT_EXPORT):
        assert not allows(outsider, context, item)
        assert db.scalars(select(Artefact).where(visible_artefacts(outsider, context))).all() == []


def test_unreviewed_items_stay_inside_the_team(make):
    programme = make.programme()
    item = make.shared(ConsentLevel.EXHIBIT, programme=programme, reviewed=False)
    assert allows(staff_principal(make.staff(programme, Role.FACILITATOR)), Context.TEAM, item)
    assert not allows(staff_principal(make.staff(programme, Role.ANALYST)), Context.ANALYSIS, item)


def test_voice_and_face_need_their_own_flags_beyond_the_team(make):
    programme = make.programme()
    analyst = staff_principal(make.staff(programme, Role.ANALYST))
    quiet = make.shared(ConsentLevel.REPORT, programme=programme, kind=ArtefactKind.VIDEO_DIARY)
    assert allows(analyst, Context.ANALYSIS, quiet)
    assert not media_allowed(analyst, Context.ANALYSIS, quiet, MediaRole.VOICE)
    assert not media_allowed(analyst, Context.ANALYSIS, quiet, MediaRole.PICTURE)
    participant = make.participant(make.session(programme))
    make.consent(participant, ConsentLevel.REPORT, voice=True, face=True)
    loud = make.artefact(participant, kind=ArtefactKind.VIDEO_DIARY)
    assert media_allowed(analyst, Context.ANALYSIS, loud, MediaRole.VOICE)
    assert media_allowed(analyst, Context.ANALYSIS, loud, MediaRole.PICTURE)


def test_participants_see_only_their_own(db, make):
    programme = make.programme()
    mine = make.shared(ConsentLevel.TEAM, programme=programme)
    theirs = make.shared(ConsentLevel.EXHIBIT, programme=programme)
    me = participant_principal(mine.participant)
    assert allows(me, Context.OWNER, mine) and not allows(me, Context.OWNER, theirs)
    assert set(db.scalars(select(Artefact.id).where(visible_artefacts(me, Context.OWNER)))) == {mine.id}


# One history step: (scope, level, giver, child_assent, credit, voice)
steps = st.lists(
    st.tuples(st.sampled_from(["participant", "artefact"]), st.sampled_from(list(ConsentLevel)),
              st.sampled_from(list(ConsentGiver)), st.sampled_from([None, True, False]),
              st.booleans(), st.booleans()),
    max_size=6,
)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(band=st.sampled_from(list(AgeBand)), history_steps=steps, reviewed=st.booleans(),
       status=st.sampled_from([ArtefactStatus.READY, ArtefactStatus.PROCESSING]))
def test_stored_consent_and_sql_filter_agree_with_the_pure_rule(db, make, band, history_steps, reviewed, status):
    """Random histories through the real write path: the cached columns equal a fresh evaluation
    of the records, and every principal's SQL listing equals the Python predicate."""
    from archive.consent_records import ConsentChoice, record_consent
    from archive.models import ConsentRecord
    from archive.principal import SYSTEM

    programme = make.programme()
    participant = make.participant(make.session(programme), band=band)
    artefact = make.artefact(participant, reviewed=reviewed, status=status)
    for scope, level, giver, assent, credit, voice in history_steps:
        choice = ConsentChoice(level=level, giver=giver, child_assent=assent, credit=credit, voice=voice)
        record_consent(db, SYSTEM, participant, choice, artefact if scope == "artefact" else None)
    db.commit()
    records = db.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id)).all()
    expected = effective_decision(
        participant,
        [r for r in records if r.scope == ConsentScope.PARTICIPANT],
        [r for r in records if r.scope == ConsentScope.ARTEFACT],
    )
    db.refresh(artefact)
    assert (artefact.consent_level, artefact.consent_credit, artefact.consent_voice) == (
        expected.level, expected.credit, expected.voice)
    principals = [
        ANONYMOUS,
        participant_principal(participant),
        Principal(kind="staff", user_id=1, roles=frozenset({(programme.id, Role.FACILITATOR)})),
        Principal(kind="staff", user_id=2, roles=frozenset({(programme.id, Role.ANALYST)})),
        Principal(kind="staff", user_id=3, roles=frozenset({(programme.id + 1000, Role.ADMIN)})),
    ]
    for principal in principals:
        for context in Context:
            in_sql = db.scalar(select(Artefact.id).where(Artefact.id == artefact.id, visible_artefacts(principal, context)))
            assert (in_sql is not None) == allows(principal, context, artefact), (principal.kind, context)

"""Consent journeys: explainers by age band, the under-13 parent step (same device or a single-use link),
and a consent form that records once however it is re-sent."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from archive.consent import Context, allows, visible_artefacts
from archive.consent_journeys import (
    ChildChoosesFirst,
    ParentLinkError,
    give_own_consent,
    give_parent_consent,
    create_parent_link,
    give_parent_consent_by_link,
    needs_parent,
    open_parent_link,
)
from archive.consent_records import ConsentChoice, ConsentError
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ConsentGiver,
    ConsentLevel,
    ConsentMethod,
    ConsentRecord,
    ParentConsentLink,
    Participant,
    Role,
)
from archive.principal import SYSTEM, ANONYMOUS, staff_principal
from tests.conftest import csrf_token, join_as_participant


def _consent(client, level="exhibit", **flags):
    page = client.get("/consent")
    data = {"level": level, "csrf_token": csrf_token(page.text), **{k: "y" for k, v in flags.items() if v}}
    return client.post("/consent", data=data)


def _participant(db, alias) -> Participant:
    return db.scalar(select(Participant).where(Participant.alias == alias))


def _records(db, participant):
    db.expire_all()
    return db.scalars(
        select(ConsentRecord).where(ConsentRecord.participant_id == participant.id).order_by(ConsentRecord.version)
    ).all()


def _make_link(client) -> str:
    step = client.get("/consent/grown-up")
    made = client.post("/consent/grown-up/link", data={"csrf_token": csrf_token(step.text)})
    assert made.status_code == 302 and made.headers["Location"] == "/consent/grown-up/link"
    page = client.get("/consent/grown-up/link")
    assert page.status_code == 200 and "<svg" in page.text and "QR code that opens the link" in page.text
    return re.search(r"http://localhost/parent/([\w-]+)", page.text).group(1)


def _parent_answers(parent_client, token, level="exhibit", is_parent=True, **flags):
    page = parent_client.get(f"/parent/{token}")
    data = {"level": level, "csrf_token": csrf_token(page.text), **{k: "y" for k, v in flags.items() if v}}
    if is_parent:
        data["is_parent"] = "y"
    return parent_client.post(f"/parent/{token}", data=data)


@pytest.fixture
def child(client, db, make):
    """An eight-year-old who joined, chose "exhibitions, face and voice" and shared a photo."""
    programme = make.programme()
    session = make.session(programme)
    join_as_participant(client, session.join_code, alias="Little Owl", band="5_11")
    response = _consent(client, "exhibit", credit=True, face=True, voice=True)
    assert response.status_code == 302 and response.headers["Location"] == "/consent/grown-up"
    participant = _participant(db, "Little Owl")
    item = make.artefact(participant, kind=ArtefactKind.PHOTO, title="Broken swing")
    return participant, item, programme


def test_a_child_under_13_without_a_parent_cannot_reach_report_or_exhibit(child, db, make):
    participant, item, programme = child
    analyst = staff_principal(make.staff(programme, Role.ANALYST))
    db.refresh(item)
    assert item.consent_level == ConsentLevel.TEAM and not item.consent_face
    for principal, context in ((analyst, Context.ANALYSIS), (analyst, Context.REPORT_EXPORT),
                               (ANONYMOUS, Context.PUBLIC_EXHIBIT)):
        assert not allows(principal, context, item)
        assert db.scalar(select(func.count()).select_from(Artefact).where(visible_artefacts(principal, context))) == 0


def test_parent_link_lifts_the_cap_once_and_only_once(child, app, client, db, make):
    participant, item, programme = child
    token = _make_link(client)
    parent = app.test_client()  # the parent's own phone: no sign-in, no participant session
    page = parent.get(f"/parent/{token}")
    assert page.status_code == 200
    assert "Little Owl" in page.text and "1 photo" in page.text and "Broken swing" not in page.text
    assert "Finish and sign out" not in page.text

    refused = _parent_answers(parent, token, "exhibit", is_parent=False)
    assert refused.status_code == 400 and "Only a parent or carer can answer here" in refused.text
    assert db.scalar(select(ParentConsentLink).where(ParentConsentLink.participant_id == participant.id)).used_at is None

    saved = _parent_answers(parent, token, "exhibit", face=True, voice=True)
    assert saved.status_code == 302 and saved.headers["Location"] == "/parent/thank-you"
    assert "Your answer is saved" in parent.get("/parent/thank-you").text
    latest = _records(db, participant)[-1]
    assert (latest.giver, latest.method, latest.child_assent) == (ConsentGiver.PARENT_CARER, ConsentMethod.IN_APP, True)
    db.refresh(item)
    assert item.consent_level == ConsentLevel.EXHIBIT and item.consent_face and not item.consent_credit
    analyst = staff_principal(make.staff(programme, Role.ANALYST))
    assert allows(analyst, Context.ANALYSIS, item) and allows(ANONYMOUS, Context.PUBLIC_EXHIBIT, item)

    # Back button, reload, a second tab: the spent link records nothing more.
    again = parent.get(f"/parent/{token}")
    assert again.status_code == 404 and "already been used" in again.text
    count = len(_records(db, participant))
    resent = parent.post(f"/parent/{token}", data={"level": "exhibit", "is_parent": "y", "csrf_token": csrf_token(page.text)})
    assert resent.status_code == 404 and len(_records(db, participant)) == count


def test_the_childs_no_stands_over_a_parents_yes(client, app, db, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Quiet Fox", band="5_11")
    _consent(client, "team")
    participant = _participant(db, "Quiet Fox")
    item = make.artefact(participant)
    token = _make_link(client)
    _parent_answers(app.test_client(), token, "exhibit", face=True, voice=True, credit=True)
    db.refresh(item)
    assert item.consent_level == ConsentLevel.TEAM
    assert _records(db, participant)[-1].level == ConsentLevel.TEAM


def test_a_parent_can_narrow_what_the_child_chose(child, app, client, db):
    participant, item, _ = child
    _parent_answers(app.test_client(), _make_link(client), "report", voice=True)
    db.refresh(item)
    assert (item.consent_level, item.consent_voice, item.consent_face) == (ConsentLevel.REPORT, True, False)


def test_unknown_expired_and_replaced_links_are_refused_kindly(child, app, client, db):
    participant, _, _ = child
    parent = app.test_client()
    unknown = parent.get("/parent/not-a-real-token")
    assert unknown.status_code == 404 and "doesn&#39;t work" in unknown.text
    first = _make_link(client)
    second = _make_link(client)
    replaced = parent.get(f"/parent/{first}")
    assert replaced.status_code == 404 and "expired" in replaced.text
    link = open_parent_link(db, second)
    with freeze_time(link.expires_at + timedelta(seconds=1)):
        expired = parent.get(f"/parent/{second}")
    assert expired.status_code == 404 and "expired" in expired.text
    assert all(r.giver == ConsentGiver.PARTICIPANT for r in _records(db, participant))


def test_a_link_only_after_the_child_chose_and_only_by_its_own_token(db, make):
    participant = make.participant(make.session(make.programme()), band=AgeBand.AGE_5_11)
    with pytest.raises(ConsentError):
        create_parent_link(db, SYSTEM, participant)
    make.consent(participant, ConsentLevel.REPORT)
    token = create_parent_link(db, SYSTEM, participant)
    db.commit()
    stored = db.scalar(select(ParentConsentLink).where(ParentConsentLink.participant_id == participant.id))
    assert token not in stored.token_hash  # only the hash is kept
    give_parent_consent_by_link(db, token, ConsentChoice(ConsentLevel.REPORT))
    db.commit()
    with pytest.raises(ParentLinkError):
        give_parent_consent_by_link(db, token, ConsentChoice(ConsentLevel.EXHIBIT))


def test_parent_on_the_same_device_with_the_facilitator(child, client, db):
    participant, item, _ = child
    step = client.get("/consent/grown-up")
    assert "they can answer on this screen now" in step.text
    page = client.get("/consent/grown-up/here")
    assert page.status_code == 200 and "What Little Owl chose" in page.text
    missing = client.post("/consent/grown-up/here", data={"level": "report", "csrf_token": csrf_token(page.text)})
    assert missing.status_code == 400 and "Only a parent or carer" in missing.text
    done = client.post("/consent/grown-up/here", data={
        "level": "report", "face": "y", "is_parent": "y", "witness": "Priya, facilitator",
        "csrf_token": csrf_token(page.text),
    })
    assert done.status_code == 302 and done.headers["Location"] == "/my-things"
    latest = _records(db, participant)[-1]
    assert (latest.giver, latest.witness, latest.child_assent) == (ConsentGiver.PARENT_CARER, "Priya, facilitator", True)
    db.refresh(item)
    assert (item.consent_level, item.consent_face) == (ConsentLevel.REPORT, True)
    assert "until a parent or carer says yes" not in client.get("/my-things").text


def test_my_things_says_when_a_parent_is_still_needed(child, client):
    page = client.get("/my-things")
    assert "Only the team can see your things until a parent or carer says yes." in page.text


def test_sending_the_same_choice_twice_records_once_and_back_shows_it(client, db, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Twice Cat")
    page = client.get("/consent")
    data = {"level": "report", "voice": "y", "csrf_token": csrf_token(page.text)}
    assert client.post("/consent", data=data).status_code == 302
    assert client.post("/consent", data=data).status_code == 302  # a second press, or back then save
    participant = _participant(db, "Twice Cat")
    assert len(_records(db, participant)) == 1
    back = client.get("/consent")  # the back button: the current choices are shown, nothing is pre-ticked
    assert "Your choices now" in back.text and "Reports (no name)" in back.text and "Voice can be played" in back.text
    assert " checked" not in back.text
    client.post("/consent", data={**data, "level": "team"})
    assert [r.level for r in _records(db, participant)] == [ConsentLevel.REPORT, ConsentLevel.TEAM]


@pytest.mark.parametrize("band, phrase", [
    ("5_11", "The grown-ups who run this project look at what you share."),
    ("11_15", "They may quote your words or describe your photo"),
    ("16_19", "Only the project team sees it."),
    ("20_25_send", "Only the project team sees it."),
    ("family_0_5", "This covers every face in what you share"),
])
def test_each_age_band_reads_its_own_explainer_with_pictures(client, make, band, phrase):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Band Tester", band=band)
    page = client.get("/consent")
    assert phrase in page.text
    for picture in ("team", "report", "exhibit", "credit", "face", "voice"):
        assert re.search(rf'src="/static/consent/{picture}.svg"\s+alt="[^"]+"', page.text), picture
    under_13 = "a parent or carer also needs to say yes" in page.text
    assert under_13 == (band in ("5_11", "11_15"))


def test_the_pictures_are_served(client):
    for picture in ("team", "report", "exhibit", "credit", "face", "voice", "parent", "link"):
        response = client.get(f"/static/consent/{picture}.svg")
        assert response.status_code == 200 and b"<svg" in response.data


def test_a_13_year_old_with_a_known_birth_month_decides_alone(db, make):
    teen = make.participant(make.session(make.programme()), band=AgeBand.AGE_11_15, birth_month=date(2012, 1, 1))
    with freeze_time("2026-11-24"):
        assert not needs_parent(teen)
    unknown = make.participant(make.session(make.programme()), band=AgeBand.AGE_11_15)
    assert needs_parent(unknown)  # without a month of birth the whole band counts as under 13


def test_people_over_13_skip_the_parent_step(client, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Old Enough", band="16_19")
    assert _consent(client, "report").headers["Location"] == "/my-things"
    assert client.get("/consent/grown-up").headers["Location"] == "/my-things"


def test_join_link_from_a_qr_code_fills_in_the_code(client, make):
    session = make.session(make.programme())
    page = client.get(f"/join?code={session.join_code.lower()}")
    assert f'value="{session.join_code}"' in page.text
    odd = client.get("/join?code=<script>")
    assert odd.status_code == 200 and "<script>" not in odd.text.split("<main", 1)[1]


def test_an_idle_shared_tablet_signs_out_and_says_why(client, make, settings):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Idle Ibis")
    for page in ("/consent", "/my-things", "/share/"):
        assert "Finish and sign out" in client.get(page).text, page
    later = timedelta(minutes=settings.participant_session_minutes + 1)
    with freeze_time(datetime.now(timezone.utc) + later):
        response = client.get("/my-things")
        assert response.status_code == 302 and response.headers["Location"] == "/join"
        landing = client.get("/join")
    assert "nobody used this page for a while" in landing.text and "Finish and sign out" not in landing.text
    assert client.get("/my-things").headers["Location"] == "/join"  # the old session stays gone


journey = st.lists(
    st.tuples(st.sampled_from(["child", "parent"]), st.sampled_from(list(ConsentLevel)[1:]), st.booleans()),
    min_size=1, max_size=6,
)


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=journey)
def test_an_under_13s_items_never_go_beyond_the_child_or_the_parent(db, make, steps):
    """Any order of the child's and the parent's answers through the journey functions: an item goes
    no further than the child's latest word, nor than the parent's latest request, and stays with the
    team until a parent has answered."""
    child = make.participant(make.session(make.programme()), band=AgeBand.AGE_5_11)
    item = make.artefact(child, kind=ArtefactKind.PHOTO)
    said = {"child": None, "parent": None}
    for who, level, face in steps:
        choice = ConsentChoice(level=level, face=face)
        try:
            (give_own_consent if who == "child" else give_parent_consent)(db, SYSTEM, child, choice)
        except ChildChoosesFirst:
            assert said["child"] is None and who == "parent"
            continue
        said[who] = choice
        db.commit()
        db.refresh(item)
        ceiling = said["child"].level if said["parent"] is None else min(said["child"].level, said["parent"].level)
        if said["parent"] is None:
            ceiling = min(ceiling, ConsentLevel.TEAM)
        assert item.consent_level <= ceiling
        if item.consent_face:
            assert said["child"].face and said["parent"] is not None and said["parent"].face

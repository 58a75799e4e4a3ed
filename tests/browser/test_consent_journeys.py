"""Consent journeys in a real phone-sized Chromium: explainers by age band, the under-13 parent step on the
same device or through a link and QR code, and the facilitator's tablet; axe-core on every page and state,
a keyboard-only run, and the same journeys with JavaScript switched off.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from archive.models import AgeBand, ConsentGiver, ConsentLevel, ConsentMethod, ConsentRecord, Participant, Role
from tests.browser.conftest import assert_no_axe_violations, submit
from tests.browser.test_participant_journeys import _join, _press, _tab_to, _tab_to_control
from tests.conftest import STAFF_PASSWORD

CHILD_BAND = "Children aged 5 to 11"


def _records(db, alias: str) -> list[ConsentRecord]:
    db.expire_all()
    participant = db.scalar(select(Participant).where(Participant.alias == alias))
    return db.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id)
                      .order_by(ConsentRecord.version)).all()


def _decode_qr(page, selector: str) -> str:
    """Read the QR code on the page as a phone camera would: from pixels, not from the markup."""
    import cv2
    import numpy as np

    png = page.locator(selector).screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text, f"no QR code could be read in {selector} on {page.url}"
    return text


def _child_joins_and_chooses(page, join_code, alias="Little Owl"):
    page.goto("/join")
    _join(page, join_code, alias, avatar="Owl", band=CHILD_BAND)
    page.get_by_label("It can be shown in public exhibitions too").check()
    page.get_by_label("My face can be shown").check()
    submit(page, "Save my choices")


@pytest.mark.parametrize("band, heading, phrase", [
    ("Children aged 5 to 11", "What could happen to your things", "They keep it safe."),
    ("Young people aged 11 to 15", "What each choice means", "never with your name"),
    ("Young people aged 16 to 19", "What each choice means", "Only the project team sees it."),
    ("Young adults aged 20 to 25 with SEND", "What each choice means", "Only the project team sees it."),
    ("Families with children aged 0 to 5", "What each choice means", "your children"),
])
def test_each_age_band_sees_its_explainer_with_pictures_and_no_axe_violations(page, join_code, axe, expect,
                                                                              band, heading, phrase):
    page.goto("/join")
    _join(page, join_code, f"Reader {abs(hash(band)) % 1000}", band=band)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text(phrase).first).to_be_visible()
    pictures = page.locator(".chorus-explainer img")
    expect(pictures).to_have_count(6)
    for picture in pictures.all():
        assert picture.get_attribute("alt"), "every explainer picture has alt text"
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0"), picture.get_attribute("src")
    assert_no_axe_violations(axe, page, f"consent for {band}")
    submit(page, "Save my choices")  # nothing chosen: the error state
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose one")
    assert_no_axe_violations(axe, page, f"consent for {band}, nothing chosen")


def test_parent_link_journey_from_the_childs_phone_to_the_parents(browser, live_server, page, join_code, db, axe,
                                                                  expect):
    _child_joins_and_chooses(page, join_code)
    expect(page).to_have_url(re.compile(r"/consent/grown-up$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Now ask a parent or carer")
    assert_no_axe_violations(axe, page, "parent step")
    submit(page, "Make a link for my parent or carer")
    expect(page).to_have_url(re.compile(r"/consent/grown-up/link$"))
    assert_no_axe_violations(axe, page, "parent link and QR code")
    link = page.locator(".chorus-link-text a").inner_text()
    assert _decode_qr(page, ".chorus-qr") == link
    page.reload()  # a reload shows the same link; it does not make another
    assert page.locator(".chorus-link-text a").inner_text() == link

    parent_context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        parent = parent_context.new_page()
        parent.goto(link)
        expect(parent.get_by_role("heading", level=1)).to_have_text("Can your child's things be used beyond the team?")
        expect(parent.get_by_role("main")).to_contain_text("Little Owl")
        expect(parent.get_by_role("button", name="Finish and sign out")).to_have_count(0)
        assert_no_axe_violations(axe, parent, "parent link page")
        parent.get_by_label("It can be used in reports, without a name").check()
        submit(parent, "Save my answer")
        expect(parent.locator(".govuk-error-summary")).to_contain_text("Only a parent or carer can answer here")
        assert_no_axe_violations(axe, parent, "parent link page, not confirmed")
        parent.get_by_label("I am this child's parent or carer").check()
        submit(parent, "Save my answer")
        expect(parent.locator(".govuk-panel")).to_contain_text("Your answer is saved")
        assert_no_axe_violations(axe, parent, "parent thanks")
        parent.goto(link)  # opened again (history, a second tab): a spent link, not a form that could record twice
        expect(parent.get_by_role("heading", level=1)).to_have_text("This link can't be used")
        assert_no_axe_violations(axe, parent, "spent parent link")
    finally:
        parent_context.close()

    latest = _records(db, "Little Owl")[-1]
    assert (latest.giver, latest.level, latest.face, latest.child_assent) == (
        ConsentGiver.PARENT_CARER, ConsentLevel.REPORT, False, True)
    page.goto("/my-things")
    expect(page.get_by_text("until a parent or carer says yes")).to_have_count(0)


def test_keyboard_only_join_consent_and_a_parent_on_the_same_device(page, join_code, db, axe, expect):
    page.goto(f"/join?code={join_code}")  # as the printed QR code opens it
    assert page.get_by_label("Session code").input_value() == join_code
    _tab_to_control(page, "#alias")
    page.keyboard.type("Keys Kid")
    _tab_to(page, "input[name=avatar]")
    page.keyboard.press("Space")
    _tab_to(page, "input[name=age_band]")
    page.keyboard.press("ArrowDown")  # the second band: children aged 5 to 11
    assert page.get_by_label(CHILD_BAND).is_checked()
    _press(page, "main button.govuk-button", "Enter")

    expect(page).to_have_url(re.compile(r"/consent$"))
    _tab_to(page, "input[name=level]")
    page.keyboard.press("ArrowDown")  # reports, without my name
    _tab_to(page, "#voice")
    page.keyboard.press("Space")
    _press(page, "main button.govuk-button", "Enter")

    expect(page).to_have_url(re.compile(r"/consent/grown-up$"))
    _press(page, "a.chorus-route", "Enter")
    expect(page).to_have_url(re.compile(r"/consent/grown-up/here$"))
    assert_no_axe_violations(axe, page, "parent on the same device")
    _tab_to(page, "input[name=level]")
    page.keyboard.press("Space")  # the parent narrows to the team only
    _tab_to_control(page, "#witness")
    page.keyboard.type("Priya (facilitator)")
    _press(page, "main button.govuk-button", "Enter")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Only a parent or carer")
    assert_no_axe_violations(axe, page, "parent on the same device, not confirmed")
    _tab_to(page, "#is_parent")
    page.keyboard.press("Space")
    _press(page, "main button.govuk-button", "Enter")
    expect(page).to_have_url(re.compile(r"/my-things$"))

    child, parent = _records(db, "Keys Kid")
    assert (child.giver, child.level, child.voice) == (ConsentGiver.PARTICIPANT, ConsentLevel.REPORT, True)
    assert (parent.giver, parent.level, parent.witness) == (
        ConsentGiver.PARENT_CARER, ConsentLevel.TEAM, "Priya (facilitator)")


def test_without_javascript_join_from_the_qr_link_consent_and_the_parent_step(nojs_page, join_code, db, expect):
    page = nojs_page
    page.goto(f"/join?code={join_code.lower()}")
    assert page.get_by_label("Session code").input_value() == join_code
    page.get_by_label("Choose a nickname").fill("Plain Pony")
    page.get_by_label("Star", exact=True).check()
    page.get_by_label(CHILD_BAND).check()
    submit(page, "Join")
    page.get_by_label("It can be used in reports, without my name").check()
    submit(page, "Save my choices")
    expect(page).to_have_url(re.compile(r"/consent/grown-up$"))
    page.go_back()  # back in the middle of consent: the page shows what was chosen, and saving it again adds nothing
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("Your choices now")
    page.get_by_label("It can be used in reports, without my name").check()
    submit(page, "Save my choices")
    assert len(_records(db, "Plain Pony")) == 1
    submit(page, "Make a link for my parent or carer")
    expect(page.locator(".chorus-qr svg")).to_be_visible()
    expect(page.locator(".chorus-link-text a")).to_contain_text("/parent/")
    page.goto("/consent/grown-up")
    _follow(page, page.get_by_role("link", name="Yes: they can answer on this screen now"))
    page.get_by_label("It can be used in reports, without a name").check()
    page.get_by_label("I am this child's parent or carer").check()
    submit(page, "Save my answer")
    expect(page).to_have_url(re.compile(r"/my-things$"))
    assert [r.giver for r in _records(db, "Plain Pony")] == [ConsentGiver.PARTICIPANT, ConsentGiver.PARENT_CARER]
    expect(page.get_by_role("button", name="Finish and sign out")).to_be_visible()


def _follow(page, link) -> None:
    with page.expect_navigation():
        link.click()


def _staff_signs_in(page, email: str) -> None:
    page.goto("/staff/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    submit(page, "Sign in")


def test_facilitator_runs_a_session_on_a_tablet(browser, live_server, make, db, axe, expect):
    programme = make.programme()
    session = make.session(programme)
    make.participant(session, band=AgeBand.AGE_16_19, alias="Phone Joiner")
    facilitator = make.staff(programme, Role.FACILITATOR)
    tablet = browser.new_context(base_url=live_server.url, viewport={"width": 800, "height": 1100}, has_touch=True)
    try:
        page = tablet.new_page()
        _staff_signs_in(page, facilitator.email)
        page.goto("/facilitate/")
        assert_no_axe_violations(axe, page, "facilitator index")
        _follow(page, page.get_by_role("link", name=session.name).first)
        expect(page.get_by_role("main")).to_contain_text("Phone Joiner")
        assert_no_axe_violations(axe, page, "facilitator session")

        submit(page, "Add them")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_no_axe_violations(axe, page, "facilitator session, add with nothing filled in")
        page.get_by_label("Nickname").fill("Tiny Tiger")
        page.get_by_label("Cat", exact=True).check()
        page.get_by_label(CHILD_BAND).check()
        submit(page, "Add them")
        expect(page.get_by_role("heading", level=1)).to_have_text("Record consent said aloud")
        assert_no_axe_violations(axe, page, "verbal consent")
        page.get_by_label("It can be used in reports, without my name").check()
        submit(page, "Save consent")
        expect(page.locator(".govuk-error-summary")).to_contain_text("the person who heard it with you")
        assert_no_axe_violations(axe, page, "verbal consent without a witness")
        page.get_by_label("Witness").fill("Mr Evans, teaching assistant")
        submit(page, "Save consent")
        expect(page.get_by_text("Waiting for a parent or carer")).to_be_visible()

        _follow(page, page.get_by_role("link", name=re.compile("Share for them\\W+Tiny Tiger")))
        assert_no_axe_violations(axe, page, "share on behalf")
        _follow(page, page.get_by_role("link", name="Written story"))
        submit(page, "Share")
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        assert_no_axe_violations(axe, page, "share on behalf, empty story")
        page.get_by_label("Their story, in their words").fill("The park gates are locked after school.")
        submit(page, "Share")
        expect(page.get_by_text("Shared for Tiny Tiger")).to_be_visible()

        page.goto(f"/facilitate/sessions/{session.id}/print")
        assert_no_axe_violations(axe, page, "printable join code")
        url = _decode_qr(page, ".chorus-print__qr")
        assert url == f"{live_server.url}/join?code={session.join_code}"
    finally:
        tablet.close()
    (record,) = _records(db, "Tiny Tiger")
    assert (record.method, record.witness, record.recorded_by_id) == (
        ConsentMethod.VERBAL_WITNESSED, "Mr Evans, teaching assistant", facilitator.id)

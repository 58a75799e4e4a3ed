"""An analyst picks quotes, reorders them, exports the board and reads the register, in Chromium.

axe-core checks every page of the journey (quote picking with and without an error, the board,
the export form, the register and an export's page warning about a withdrawn item) with no violations.
"""

from __future__ import annotations

import pytest

from archive.erasure import withdraw_artefact
from archive.models import ConsentLevel, Role, Transcript, TranscriptSegment
from archive.principal import SYSTEM
from tests.browser.conftest import assert_no_axe_violations, sign_in_staff_page, submit


@pytest.fixture
def board_world(make, db):
    programme = make.programme()
    session = make.session(programme)
    named = make.participant(session, alias="Blue Fox")
    make.consent(named, ConsentLevel.REPORT, credit=True)
    plain = make.participant(session, alias="Green Frog")
    make.consent(plain, ConsentLevel.REPORT)
    story = make.artefact(named, title="The bus", story="The bus never comes on Sundays so I walk to town")
    voice = make.artefact(plain, title="Our park")
    db.add(Transcript(artefact_id=voice.id, segments=[
        TranscriptSegment(position=0, start=0.0, end=3.0, text="The park has no lights"),
        TranscriptSegment(position=1, start=65.0, end=69.0, text="so we don't go after dark"),
    ]))
    db.commit()
    return {"programme": programme, "story": story, "voice": voice, "analyst": make.staff(programme, Role.ANALYST)}


def test_an_analyst_builds_a_quotes_board_and_exports_it(page, live_server, board_world, expect, axe, db):
    code = board_world["programme"].code
    sign_in_staff_page(page, board_world["analyst"])

    page.goto(f"/quotes/{code}/from/{board_world['story'].id}")
    assert_no_axe_violations(axe, page, "quote picking")
    page.get_by_label("Words to quote").fill("words nobody said")
    submit(page, "Add to the board")
    expect(page.locator(".govuk-error-summary")).to_contain_text("must be words from the item")
    assert_no_axe_violations(axe, page, "quote picking with an error")
    page.get_by_label("Words to quote").fill("The bus never comes on Sundays")
    submit(page, "Add to the board")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("on the board")

    page.goto(f"/quotes/{code}/from/{board_world['voice'].id}")
    with page.expect_navigation():
        page.locator("form", has_text="so we don't go after dark").get_by_role("button").click()

    quotes = page.locator("ol.chorus-quotes > li")
    expect(quotes).to_have_count(2)
    expect(quotes.nth(0)).to_contain_text("Blue Fox, a young person aged 16-19")
    expect(quotes.nth(1)).to_contain_text("a young person aged 16-19, at 1:05")
    expect(quotes.nth(1)).not_to_contain_text("Green Frog")
    assert_no_axe_violations(axe, page, "quotes board")

    with page.expect_navigation():
        quotes.nth(1).get_by_role("button", name="Move up").click()
    expect(quotes.nth(0)).to_contain_text("so we don't go after dark")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as Markdown").click()
    assert download.value.suggested_filename.endswith(".zip")

    page.goto(f"/exports/{code}")
    expect(page.locator("table")).to_contain_text("Quotes board (Markdown)")
    assert_no_axe_violations(axe, page, "export register")

    page.goto(f"/exports/{code}/new")
    assert_no_axe_violations(axe, page, "export form")
    submit(page, "Export")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what to export")
    assert_no_axe_violations(axe, page, "export form with an error")

    withdraw_artefact(db, SYSTEM, board_world["voice"])
    db.commit()
    page.goto(f"/quotes/{code}")
    expect(page.locator("ol.chorus-quotes > li")).to_have_count(1)
    page.goto(f"/exports/{code}")
    expect(page.locator(".govuk-warning-text")).to_contain_text("consent has changed")
    with page.expect_navigation():
        page.locator("table a", has_text="Quotes board (Markdown)").first.click()
    expect(page.locator("table")).to_contain_text("Withdrawn: recall or redact this item")
    assert_no_axe_violations(axe, page, "export with a withdrawn item")

"""Exhibits in Chromium: a facilitator builds and publishes one, the public pages pass axe-core and
reflow on a narrow phone, the kiosk advances and pauses, and a withdrawal takes an item out at once.

Items are the domain tests' gallery (tests/test_exhibits.py): a real photo with a face whose blurred
copy is made by the real face detector, and voice notes with a real recording, on the live server's data.
"""

from __future__ import annotations

import itertools
import re

import pytest

from archive.exhibits import publishing
from tests.browser.conftest import _new_context, assert_no_axe_violations, sign_in_staff_page, submit
from tests.test_exhibits import Gallery

DESKTOP = {"width": 1280, "height": 900}
SLUGS = (f"browser-voices-{n}" for n in itertools.count(1))


@pytest.fixture
def gallery(make, db, services, portrait):
    return Gallery(make, db, services, portrait)


@pytest.fixture
def published(db, gallery):
    exhibit = gallery.exhibit(next(SLUGS), items=[gallery.blurred, gallery.credited, gallery.voiced, gallery.silent])
    publishing.publish(db, gallery.facilitator, exhibit)
    db.commit()
    return exhibit


@pytest.fixture
def desk(browser, live_server):
    context = _new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


def test_building_and_publishing_an_exhibit(desk, page, narrow_page, gallery, expect, axe):
    slug = next(SLUGS)
    sign_in_staff_page(desk, gallery.user)
    desk.goto("/exhibits/manage/")
    desk.get_by_label("Title").fill("What we told the council")
    desk.get_by_label("Web address").fill(slug)
    submit(desk, "Create the exhibit")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("What we told the council")
    picker = desk.locator("#artefact")
    expect(picker).not_to_contain_text("Only for reports")
    expect(picker).not_to_contain_text("Not reviewed")

    submit(desk, "Add Our street")
    submit(desk, "Add The park")
    submit(desk, "Publish")
    expect(desk.locator(".govuk-error-summary")).to_contain_text(
        "Describe the picture in Our street for people who cannot see it")
    desk.get_by_role("link", name="Describe the picture in Our street").click()
    alt = desk.get_by_label("Describe the picture for people who cannot see it")
    expect(alt).to_be_focused()
    alt.fill("Terraced houses on a wet street")
    desk.locator(".chorus-exhibit-card").first.get_by_label("Caption (optional)").fill("Where I walk to school")
    with desk.expect_navigation():
        desk.locator(".chorus-exhibit-card").first.get_by_role("button", name="Save item").click()
    assert_no_axe_violations(axe, desk, "the exhibit builder")
    submit(desk, "Publish")
    expect(desk.locator(".govuk-notification-banner--success")).to_contain_text("Published with 2 items")

    page.goto(f"/exhibits/{slug}")  # a fresh phone, no sign-in
    expect(page.get_by_role("heading", level=1)).to_have_text("What we told the council")
    picture = page.get_by_role("img", name="Terraced houses on a wet street")
    expect(picture).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", picture.element_handle())
    expect(page.get_by_role("main")).to_contain_text("my friend [name] says the park is not safe")
    expect(page.get_by_role("main")).not_to_contain_text("Jamie")
    assert_no_axe_violations(axe, page, "the public exhibit", govuk=False)

    narrow_page.goto(f"/exhibits/{slug}")
    assert narrow_page.evaluate("document.documentElement.scrollWidth") <= 320, "the page must reflow at 320px"
    narrow_page.goto(f"/exhibits/{slug}/kiosk")
    assert_no_axe_violations(axe, narrow_page, "the kiosk slide", govuk=False)


def test_kiosk_mode_advances_by_itself_pauses_and_answers_the_keyboard(page, published, expect):
    slide = re.compile(rf"/exhibits/{published.slug}/kiosk/(\d+)")
    page.goto(f"/exhibits/{published.slug}/kiosk?seconds=3")
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_visible()
    expect(page).to_have_url(re.compile(r"/kiosk/2\?seconds=3$"), timeout=8000)  # moved on by itself

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(4500)
    assert slide.search(page.url).group(1) == "2", "a paused kiosk stays put"

    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"/kiosk/3\?seconds=3$"))
    expect(page.get_by_role("button", name="Play")).to_be_visible()  # still paused on the next slide
    page.wait_for_timeout(4000)
    assert slide.search(page.url).group(1) == "3"
    with page.expect_navigation():
        page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(r"/kiosk/2\?seconds=3$"))

    page.keyboard.press("p")  # play again
    expect(page.get_by_role("button", name="Pause")).to_have_attribute("aria-pressed", "false")
    expect(page).to_have_url(re.compile(r"/kiosk/3\?seconds=3$"), timeout=8000)


def test_without_javascript_the_kiosk_is_a_plain_sequence_of_pages(nojs_page, published, expect):
    nojs_page.goto(f"/exhibits/{published.slug}/kiosk")
    expect(nojs_page.get_by_role("button", name="Pause")).to_be_hidden()
    nojs_page.get_by_role("link", name="Next").click()
    expect(nojs_page).to_have_url(re.compile(r"/kiosk/2$"))
    expect(nojs_page.get_by_text("2 of 4")).to_be_visible()


def test_a_participants_withdrawal_removes_the_item_from_the_published_exhibit(
        context, live_server, published, gallery, db, expect):
    public = context.browser.new_context(base_url=live_server.url).new_page()
    public.goto(f"/exhibits/{published.slug}")
    expect(public.get_by_role("heading", name="Me at the park")).to_be_visible()

    live_server.sign_in(context, gallery.credited.participant)
    child = context.new_page()
    child.goto("/my-things")
    child.locator(".chorus-thing").filter(has=child.get_by_role("heading", name="Me at the park", exact=True)) \
        .get_by_role("link", name=re.compile(r"^Take this back")).click()
    submit(child, "Yes, take it back")
    expect(child.locator(".govuk-panel")).to_contain_text("Taken back")

    public.reload()
    expect(public.get_by_role("heading", level=1)).to_have_text(published.title)
    expect(public.get_by_role("heading", name="Me at the park")).to_have_count(0)
    expect(public.get_by_role("heading", name="Our street")).to_be_visible()  # the rest still shows
    expect(public.get_by_text("By Kestrel")).to_have_count(0)
    public.context.close()

"""A participant's journeys on a phone, as a person makes them: tapping, typing, or with the keyboard alone.

Join with the code, choose consent, share a written story and a photo, see them in "My things",
take one back. The same journey also works with JavaScript switched off, and the join form's
mistakes are explained in the error summary and beside the field.
"""

from __future__ import annotations

import io
import re

from tests.browser.conftest import submit

STATES = "Received|Getting ready|Ready"


def _photo(name: str) -> dict:
    """A real photo-sized JPEG, so the upload goes through sniffing, metadata stripping and derivatives."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 350, 700, 560), fill=(60, 110, 60))
    draw.ellipse((520, 60, 680, 220), fill=(250, 210, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return {"name": name, "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _thing(page, name: str):
    """One entry in "My things", found by the name shown on it."""
    return page.locator(".chorus-thing").filter(has=page.get_by_role("heading", name=name, exact=True))


def _join(page, code: str, alias: str, avatar: str = "Fox", band: str = "Young people aged 16 to 19") -> None:
    page.get_by_label("Session code").fill(code)
    page.get_by_label("Choose a nickname").fill(alias)
    page.get_by_label(avatar, exact=True).check()
    page.get_by_label(band).check()
    submit(page, "Join")


def test_join_consent_share_and_take_back(page, join_code, expect):
    page.goto("/")
    page.get_by_role("button", name="Join a session").tap()
    expect(page).to_have_url(re.compile(r"/join$"))
    page.get_by_label("Session code").tap()
    page.keyboard.type(join_code.lower())  # typed as a child would, without the capitals
    page.get_by_label("Choose a nickname").tap()
    page.keyboard.type("Blue Fox")
    page.get_by_label("Owl", exact=True).tap()
    page.get_by_label("Young people aged 16 to 19").tap()
    submit(page, "Join")

    expect(page).to_have_url(re.compile(r"/consent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Who can see what you share?")
    page.get_by_label("It can be used in reports, without my name").tap()
    page.get_by_label("My voice can be played").tap()
    submit(page, "Save my choices")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    expect(page.get_by_text("Your choices are saved")).to_be_visible()
    expect(page.get_by_text("You haven't shared anything yet.")).to_be_visible()

    page.get_by_role("button", name="Share something").tap()
    page.get_by_role("link", name="A written story").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a story")
    page.get_by_label("Give it a name").fill("Our street")
    page.get_by_label("Tell us about it").fill("Cars park on the pavement, so we have to walk in the road to school.")
    submit(page, "Send")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    expect(page.get_by_text("Thank you! We've got it.")).to_be_visible()
    expect(_thing(page, "Our street")).to_contain_text(re.compile(rf"Text story · ({STATES}) · Reports \(no name\)"))

    page.get_by_role("button", name="Share something").tap()
    page.get_by_role("link", name="A photo and its story").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Share a photo")
    page.get_by_label("Choose a file").set_input_files(_photo("swing.jpg"))
    page.get_by_label("Give it a name").fill("Broken swing")
    page.get_by_label("Tell us about it").fill("The swing in our park has been broken since the summer.")
    page.get_by_label("Park", exact=True).check()
    submit(page, "Send")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    photo = _thing(page, "Broken swing")
    expect(photo).to_contain_text(re.compile(rf"Photo · ({STATES}) · Reports \(no name\)"))
    photo.get_by_role("link", name=re.compile(r"^Take this back\W+Broken swing$")).tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Take this back?")
    expect(page.get_by_role("main")).to_contain_text("Broken swing")
    submit(page, "Yes, take it back")

    expect(page.locator(".govuk-panel")).to_contain_text("Taken back")
    expect(page.get_by_role("main").get_by_role("list")).to_have_text("Broken swing")
    page.get_by_role("link", name="Back to my things").tap()
    expect(_thing(page, "Our street")).to_be_visible()
    expect(_thing(page, "Broken swing")).to_have_count(0)
    expect(page.get_by_text("Broken swing")).to_have_count(0)


def test_wrong_code_is_explained_in_the_summary_and_beside_the_field(page, join_code, expect):
    page.goto("/join")
    _join(page, "ZZZZZZ", "Blue Fox")

    message = "We couldn't find that code. Check it with the person running your session."
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(message)
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus there so a screen reader reads it first
    expect(page.locator("#code-error")).to_contain_text(message)
    expect(page.get_by_label("Session code")).to_have_attribute("aria-describedby", re.compile(r"\bcode-error\b"))
    expect(page).to_have_title(re.compile(r"^Error: "))
    # What the participant already chose is kept, so only the code needs fixing.
    expect(page.get_by_label("Choose a nickname")).to_have_value("Blue Fox")
    expect(page.get_by_label("Fox", exact=True)).to_be_checked()

    summary.get_by_role("link", name=message).click()
    expect(page.get_by_label("Session code")).to_be_focused()


def test_a_nickname_already_taken_in_the_session_is_explained(page, make, expect):
    session = make.session(make.programme())
    make.participant(session, alias="Star Maker")
    page.goto("/join")
    _join(page, session.join_code, "star maker")

    message = "Someone in this session is already called star maker. Please choose another nickname."
    expect(page.locator(".govuk-error-summary")).to_contain_text(message)
    expect(page.locator("#alias-error")).to_contain_text(message)
    expect(page.get_by_label("Session code")).to_have_value(session.join_code)

    page.get_by_label("Choose a nickname").fill("Star Maker 2")
    submit(page, "Join")
    expect(page).to_have_url(re.compile(r"/consent$"))


# The participant theme keeps GOV.UK's focus style: yellow (#fd0) behind links and buttons, around fields.
FOCUS_IS_VISIBLE = """() => {
  const style = getComputedStyle(document.activeElement);
  const yellow = 'rgb(255, 221, 0)';
  return style.backgroundColor === yellow || (style.outlineColor === yellow && style.outlineStyle !== 'none');
}"""


def _tab_to(page, selector: str, limit: int = 30) -> None:
    """Press Tab until the element matching `selector` has focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return
    raise AssertionError(f"{selector} not reached with {limit} presses of Tab on {page.url}")


def _tab_to_control(page, selector: str) -> None:
    _tab_to(page, selector)
    assert page.evaluate(FOCUS_IS_VISIBLE), f"no visible focus on {selector} at {page.url}"


def _press(page, selector: str, key: str) -> None:
    """Tab to a link or button and press it; wait for the page it leads to."""
    _tab_to_control(page, selector)
    with page.expect_navigation():
        page.keyboard.press(key)


def test_keyboard_only_join_consent_and_share_a_story(page, join_code, expect):
    page.goto("/")
    _press(page, "a.govuk-button--start", "Space")  # a link styled as a button answers Space too

    _tab_to_control(page, "#code")
    page.keyboard.type(join_code)
    _tab_to_control(page, "#alias")
    page.keyboard.type("Quiet Owl")
    # Tab enters a radio group at its first option and Space picks it; choosing another takes arrow keys.
    _tab_to(page, "input[name=avatar]")
    page.keyboard.press("Space")
    _tab_to(page, "input[name=age_band]")
    page.keyboard.press("Space")
    _press(page, "button.govuk-button", "Enter")

    expect(page).to_have_url(re.compile(r"/consent$"))
    _tab_to(page, "input[name=level]")
    page.keyboard.press("Space")
    _tab_to(page, "#voice")
    page.keyboard.press("Space")
    _press(page, "main button.govuk-button", "Enter")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    _press(page, "main a.govuk-button", "Enter")
    _press(page, "a[href$='/share/story']", "Enter")
    _tab_to_control(page, "#title")
    page.keyboard.type("Walking home")
    _tab_to_control(page, "#story")
    page.keyboard.type("The street lights by the shops are broken, so we walk home the long way.")
    _press(page, "main button.govuk-button", "Enter")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    expect(_thing(page, "Walking home")).to_contain_text(re.compile(rf"Text story · ({STATES}) · Team only"))


def test_without_javascript_join_consent_share_a_photo_and_take_it_back(nojs_page, join_code, expect):
    page = nojs_page
    page.goto("/join")
    _join(page, join_code, "Green Cat", avatar="Cat")
    expect(page).to_have_url(re.compile(r"/consent$"))
    page.get_by_label("Only the team running this project can see it").check()
    submit(page, "Save my choices")

    page.get_by_role("button", name="Share something").click()
    page.get_by_role("link", name="A photo and its story").click()
    page.get_by_label("Choose a file").set_input_files(_photo("bus.jpg"))
    page.get_by_label("Give it a name").fill("Bus stop")
    page.get_by_label("Tell us about it").fill("There is no shelter at our bus stop, so we get soaked.")
    page.get_by_label("Getting around").check()
    submit(page, "Send")

    expect(page).to_have_url(re.compile(r"/my-things$"))
    expect(_thing(page, "Bus stop")).to_contain_text(re.compile(rf"Photo · ({STATES}) · Team only"))
    _thing(page, "Bus stop").get_by_role("link", name="Take this back").click()
    submit(page, "Yes, take it back")
    expect(page.locator(".govuk-panel")).to_contain_text("Taken back")

    page.get_by_role("link", name="Back to my things").click()
    expect(page.get_by_text("You haven't shared anything yet.")).to_be_visible()
    submit(page, "Finish and sign out")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    # The next person on a shared tablet starts at the join page, not in this participant's things.
    page.goto("/my-things")
    expect(page).to_have_url(re.compile(r"/join$"))

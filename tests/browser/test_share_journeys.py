"""Sharing from a phone, in Chromium: a voice note recorded through the page and transcribed,
a drawing made on the screen, a photo with its story and icon picks, an upload that survives a
dropped connection, every share page and state through axe-core, and a photo shared without JavaScript.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from archive.models import AgeBand, Artefact, ArtefactKind, ConsentLevel, TagSource, ThemeTag
from tests.browser.conftest import CHROMIUM_ARGS, NAVIGATION_TIMEOUT_MS, PHONE, TIMEOUT_MS, assert_no_axe_violations
from tests.browser.test_participant_journeys import _photo

JFK = Path(__file__).resolve().parents[1] / "data" / "jfk.flac"
SHARE_PAGES = ["photo", "drawing", "voice-note", "video-diary", "story"]


def _signed_in(make, live_server, context, band=AgeBand.AGE_16_19, level=ConsentLevel.REPORT):
    participant = make.participant(make.session(make.programme()), band=band)
    make.consent(participant, level)
    live_server.sign_in(context, participant)
    return participant


def _items(db, participant) -> list[Artefact]:
    db.expire_all()
    return db.scalars(
        select(Artefact).where(Artefact.participant_id == participant.id).order_by(Artefact.created_at)
    ).all()


# Sharing runs the whole pipeline inside the request here (OCR, faces, Whisper, the tagger): on a
# busy machine that outlasts Playwright's action timeout, which a click also spends waiting for the page.
SENDING_MS = NAVIGATION_TIMEOUT_MS * 3


def _send(page) -> None:
    """Press Send and wait for "My things", however long the pipeline takes."""
    with page.expect_navigation(url=re.compile(r"/my-things$"), timeout=SENDING_MS):
        page.get_by_role("button", name="Send", exact=True).click(timeout=SENDING_MS)


def _started(page) -> None:
    page.wait_for_function("() => document.body.classList.contains('govuk-frontend-supported')")


# --- a voice note recorded through the page --------------------------------------------------------


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """JFK's "ask not" as 16-bit PCM WAV, the form Chromium's fake microphone plays."""
    from media.ffmpeg import run_ffmpeg

    out = tmp_path_factory.mktemp("speech") / "jfk.wav"
    run_ffmpeg(["-i", str(JFK), "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", "-y", str(out)],
               timeout=60, memory_mb=512)
    return out


@pytest.fixture(scope="module")
def microphone_browser(browser, speech_wav):
    """A second Chromium whose microphone plays the WAV, with the permission prompt answered yes."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    launched = browser.browser_type.launch(executable_path=executable, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav}%noloop",
        "--autoplay-policy=no-user-gesture-required",
    ])
    yield launched
    launched.close()


@pytest.fixture
def microphone_page(microphone_browser, live_server):
    context = microphone_browser.new_context(base_url=live_server.url, permissions=["microphone"], **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_voice_note_recorded_in_the_page_is_transcribed(microphone_page, live_server, make, db, axe, expect):
    page = microphone_page
    who = _signed_in(make, live_server, page.context)
    page.goto("/share/voice-note")
    _started(page)
    recorder = page.locator("[data-chorus-recorder]")
    expect(recorder).to_be_visible()
    expect(recorder).to_contain_text("You can record for up to 10 minutes.")
    expect(page.get_by_text("It can be up to 10 minutes long and up to 60 MB.")).to_be_visible()

    page.get_by_role("button", name="Start recording").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    # The level meter moves with the voice: the fake microphone is playing speech.
    page.wait_for_function("() => document.querySelector('[data-level]').value > 0.05")
    assert_no_axe_violations(axe, page, "recording", govuk=False)
    page.get_by_role("button", name="Pause").click()
    expect(recorder.get_by_role("status")).to_contain_text("Paused")
    page.get_by_role("button", name="Carry on recording").click()
    # JFK's sentence is 11 seconds; the clock counts only what was recorded.
    expect(page.locator("[data-time]")).to_have_text(re.compile(r"^0:1[2-9] / 10:00$"), timeout=25_000)
    page.get_by_role("button", name="Stop").click()

    expect(page.get_by_role("button", name="Record again")).to_be_visible()
    playback = page.locator("audio[data-playback]")
    expect(playback).to_be_visible()
    assert page.evaluate("document.querySelector('audio[data-playback]').src.startsWith('blob:')")
    page.get_by_label("Give it a name").fill("What I'd ask")
    _send(page)

    [note] = _items(db, who)
    assert note.kind == ArtefactKind.VOICE_NOTE and note.title == "What I'd ask"
    assert note.media_type.startswith("audio/")
    assert "ask not" in note.transcript.text.lower()
    expect(page.get_by_text("We are writing down what you said")).to_be_visible()
    # "My things" shows each item's transcript (issue 5): templates/participant/my_things.html.
    thing = page.locator(".chorus-thing").filter(has=page.get_by_role("heading", name="What I'd ask", exact=True))
    expect(thing).to_contain_text(re.compile("ask not", re.IGNORECASE))


# --- a drawing made on the screen --------------------------------------------------------------------


def _drag(page, canvas, points) -> None:
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
    page.mouse.up()


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 20)}


def _near(colours, target, tolerance=10) -> bool:
    return any(all(abs(a - b) <= tolerance for a, b in zip(colour, target)) for colour in colours)


def test_a_drawing_made_with_mouse_and_keyboard_arrives_as_a_png(page, live_server, make, db, services, axe, expect):
    who = _signed_in(make, live_server, page.context)
    page.goto("/share/drawing")
    _started(page)
    canvas = page.get_by_role("application", name="Drawing space")

    page.get_by_text("Red", exact=True).click()
    _drag(page, canvas, [(0.1, 0.1), (0.5, 0.3), (0.9, 0.1)])
    page.get_by_text("Black", exact=True).click()
    _drag(page, canvas, [(0.1, 0.9), (0.9, 0.9)])
    page.get_by_role("button", name="Undo").click()  # the black line goes; the red one stays
    expect(page.locator("[data-chorus-drawing] [role=status]")).to_have_text("The last line is gone.")
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="Undo").click()  # straight after Clear, Undo brings the drawing back

    # The keyboard alternative: Space puts the pen down, arrows draw.
    page.get_by_text("Blue", exact=True).click()
    canvas.focus()
    page.keyboard.press("Space")
    for _ in range(10):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert_no_axe_violations(axe, page, "drawing", govuk=False)

    page.get_by_label("Give it a name").fill("The park at night")
    page.get_by_label("Tell us about it").fill("It's too dark to play after school in winter.")
    _send(page)

    [drawing] = _items(db, who)
    assert drawing.kind == ArtefactKind.DRAWING and drawing.media_type == "image/png"
    with services.storage.open(drawing.master_key) as stored:
        png = stored.read()
    colours = _colours(png)
    assert _near(colours, (212, 53, 28)), "the red line is missing"
    assert _near(colours, (29, 112, 184)), "the keyboard's blue line is missing"
    assert not _near(colours, (29, 29, 27), tolerance=4), "the undone black line is still there"
    assert len(colours) > 2  # not a blank page


# --- a photo with its story, picks and place ----------------------------------------------------------


def test_photovoice_with_prompts_for_the_age_band_and_icon_picks(page, live_server, make, db, expect):
    who = _signed_in(make, live_server, page.context, band=AgeBand.AGE_5_11)
    page.goto("/share/photo")
    _started(page)
    expect(page.get_by_text("What can you see in your photo?")).to_be_visible()
    expect(page.get_by_text("Is it like this for you and your friends?")).to_be_visible()
    page.get_by_label("Choose a file").set_input_files(_photo("bus-stop.jpg"))
    page.get_by_label("Give it a name").fill("Waiting in the rain")
    page.get_by_label("Tell us about it").fill("The bus stop has no roof. مرحبا 🚌 We get soaked!")
    page.get_by_label("Bus", exact=True).check()
    page.get_by_label("Getting around").check()
    page.get_by_label("Feeling safe").check()
    _send(page)

    [photo] = _items(db, who)
    assert photo.kind == ArtefactKind.PHOTO and photo.place == "bus"
    assert photo.story == "The bus stop has no roof. مرحبا 🚌 We get soaked!"
    picked = db.scalars(select(ThemeTag.theme).where(
        ThemeTag.artefact_id == photo.id, ThemeTag.source == TagSource.PARTICIPANT)).all()
    assert sorted(picked) == ["place", "transport"]


# --- progress, and a connection that drops ------------------------------------------------------------


def _big_photo(name: str) -> dict:
    """A noisy photo of a few megabytes, so sending it takes long enough to watch."""
    import numpy as np

    pixels = np.random.default_rng(7).integers(0, 255, (900, 1200, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    return {"name": name, "mimeType": "image/jpeg", "buffer": out.getvalue()}


def test_progress_shows_and_a_dropped_connection_is_retried_without_a_duplicate(
        page, live_server, make, db, axe, expect):
    who = _signed_in(make, live_server, page.context)
    attempts = []
    held = []

    def on_share(route):
        attempts.append(route.request.post_data_buffer)
        if len(attempts) == 1:
            # The server receives the first attempt and stores it, but the answer never arrives.
            route.fetch(timeout=SENDING_MS)
            route.abort("connectionreset")
        else:
            held.append(route)

    page.route("**/share/photo", lambda route: on_share(route) if route.request.method == "POST" else route.continue_())
    page.goto("/share/photo")
    _started(page)
    page.get_by_label("Choose a file").set_input_files(_big_photo("big.jpg"))
    page.get_by_label("Give it a name").fill("Our stairs")
    page.get_by_role("button", name="Send", exact=True).click()

    status = page.locator("[data-upload-status]")
    expect(status).to_be_visible()
    expect(status.get_by_role("status")).to_contain_text("The connection dropped", timeout=SENDING_MS)
    # The second attempt is held, so the page can be checked while it is "sending".
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert held, "the upload was not retried"
    expect(status.get_by_role("status")).to_contain_text(re.compile("Sending|Getting it ready"))
    assert page.locator("[data-progress]").evaluate("p => p.value") >= 0
    assert_no_axe_violations(axe, page, "upload in progress", govuk=False)
    upload_ids = [re.search(rb'name="upload_id"\r\n\r\n([^\r]+)\r\n', body).group(1) for body in attempts]
    assert upload_ids[0] == upload_ids[1], "the retry must send the same upload id"
    assert abs(len(attempts[0]) - len(attempts[1])) < 100  # the whole photo again, only the boundaries differ

    with page.expect_navigation(url=re.compile(r"/my-things$"), timeout=SENDING_MS):
        held[0].continue_()
    assert [a.title for a in _items(db, who)] == ["Our stairs"]
    expect(page.get_by_text("Thank you! We've got it.")).to_be_visible()


# --- mistakes, shown in place ----------------------------------------------------------------------


def test_mistakes_are_shown_beside_the_field_without_losing_the_choice(page, live_server, make, db, axe, expect):
    who = _signed_in(make, live_server, page.context)
    page.goto("/share/photo")
    _started(page)
    page.get_by_label("Choose a file").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"})
    page.get_by_role("button", name="Send", exact=True).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("This doesn't look like the right kind of file")
    expect(summary).to_be_focused()
    expect(page.locator("#media-error")).to_contain_text("the right kind of file")
    expect(page).to_have_title(re.compile(r"^Error: Share a photo"))
    assert_no_axe_violations(axe, page, "wrong kind of file", govuk=False)

    # The server's own refusals come back the same way: a story far too long.
    page.get_by_label("Choose a file").set_input_files(_photo("ok.jpg"))
    page.get_by_label("Tell us about it").fill("word " * 4_001)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#story-error")).to_contain_text("The story is too long")
    expect(summary).to_have_count(1)
    expect(page.locator("#media-error")).to_have_count(0)
    assert_no_axe_violations(axe, page, "story too long", govuk=False)
    summary.get_by_role("link").click()
    expect(page.get_by_label("Tell us about it")).to_be_focused()
    # The file chosen is still there: fixing the story is enough.
    page.get_by_label("Tell us about it").fill("Short now.")
    _send(page)
    assert [a.story for a in _items(db, who)] == ["Short now."]


@pytest.mark.parametrize("kind", SHARE_PAGES)
def test_share_pages_have_no_axe_violations(kind, page, live_server, make, axe):
    _signed_in(make, live_server, page.context, band=AgeBand.AGE_11_15)
    page.goto(f"/share/{kind}")
    _started(page)
    assert_no_axe_violations(axe, page, f"share-{kind}", govuk=False)


def test_without_javascript_a_photo_with_its_story_and_picks_is_shared(nojs_page, live_server, make, db, expect):
    page = nojs_page
    who = _signed_in(make, live_server, page.context, band=AgeBand.FAMILY_0_5)
    page.goto("/share/photo")
    expect(page.get_by_text("What is really happening here for you and your child?")).to_be_visible()
    expect(page.locator("[data-chorus-recorder]")).to_be_hidden()
    page.get_by_label("Choose a file").set_input_files(_photo("kitchen.jpg"))
    page.get_by_label("Give it a name").fill("Our kitchen")
    page.get_by_label("Tell us about it").fill("<b>Damp</b> on the wall {{ 7*7 }} again.")
    themes = page.get_by_role("group", name="What is it about?")
    themes.get_by_label("Home", exact=True).check()
    themes.get_by_label("Health").check()
    _send(page)
    expect(page.get_by_text("Thank you! We've got it.")).to_be_visible()
    [photo] = _items(db, who)
    assert photo.story == "<b>Damp</b> on the wall {{ 7*7 }} again."
    assert photo.place is None
    picked = db.scalars(select(ThemeTag.theme).where(
        ThemeTag.artefact_id == photo.id, ThemeTag.source == TagSource.PARTICIPANT)).all()
    assert sorted(picked) == ["housing", "living_conditions", "physical_health"]
    assert db.scalar(select(func.count(Artefact.id)).where(Artefact.participant_id == who.id)) == 1

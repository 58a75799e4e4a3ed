"""A facilitator reviews real items in Chromium: corrects a Whisper transcript, draws a blur box on a face.

jfk.flac and scikit-image's astronaut portrait go through the real pipeline on the live server's
data. The facilitator corrects a line beside the player (using the keyboard shortcuts to move
between lines), sees captions and search follow the corrected words, approves and reviews; then
draws a box over the astronaut's face, and an analyst fetching the picture gets it with no face
the detector can find. axe-core checks the queue and the workspace.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from archive.consent import Context
from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Redaction, Role
from archive.principal import participant_principal, staff_principal
from media import faces
from tests.browser.conftest import LiveFactory, _new_context, assert_no_axe_violations, sign_in_staff_page, submit
from tests.browser.test_analyst_search import _speech_said_twice

DESKTOP = {"width": 1280, "height": 900}
FACE = (170, 40, 290, 200)  # the astronaut's face in the 512 px portrait, x1 y1 x2 y2 (tests/test_faces.py)


def _shared(make, db, services, kind, path, **consent):
    from ingest.accept import Submission, accept_upload
    from ingest.pipeline import run_pipeline

    programme = make.programme()
    child = make.participant(make.session(programme))
    make.consent(child, ConsentLevel.REPORT, **consent)
    artefact, _ = accept_upload(db, services.storage, participant_principal(child), child,
                                Submission(kind, title=f"A {kind.value.replace('_', ' ')}"), path)
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    return db.get(Artefact, artefact.id), make.staff(programme, Role.FACILITATOR), make.staff(programme, Role.ANALYST)


@pytest.fixture(scope="module")
def voice_note(live_services, tmp_path_factory):
    speech = _speech_said_twice(tmp_path_factory.mktemp("speech"))  # several lines, so there is a next one
    with live_services.session() as db:
        note, facilitator, analyst = _shared(LiveFactory(db, live_services.storage), db, live_services,
                                             ArtefactKind.VOICE_NOTE, speech, voice=True)
        note.transcript.segments  # loaded while the session is open
        yield note, facilitator, analyst


@pytest.fixture(scope="module")
def shared_portrait(live_services, portrait):
    with live_services.session() as db:
        yield _shared(LiveFactory(db, live_services.storage), db, live_services, ArtefactKind.PHOTO, portrait, face=True)


@pytest.fixture
def desk(browser, live_server):
    context = _new_context(browser, live_server, viewport=DESKTOP)
    yield context.new_page()
    context.close()


def _player_time(page) -> float:
    return page.evaluate("document.querySelector('[data-chorus-player]').currentTime")


def test_correcting_a_transcript_beside_the_player_changes_captions_and_search(
        desk, live_server, live_services, voice_note, expect, axe):
    from search.service import run_search

    note, facilitator, analyst = voice_note
    segments = note.transcript.segments
    assert len(segments) >= 2, "the speech said twice comes out of Whisper as several lines"
    page = desk
    sign_in_staff_page(page, facilitator)
    page.goto(f"/review/programmes/{note.session.programme.code}")
    expect(page.get_by_role("link", name="A voice note")).to_be_visible()
    assert_no_axe_violations(axe, page, "review queue")
    with page.expect_navigation():
        page.get_by_role("link", name="A voice note").click()
    assert_no_axe_violations(axe, page, "review workspace")

    # Alt+Down moves to the next line: it is marked, focused and the player jumps to it.
    page.locator(f"#text-{segments[0].id}").focus()
    page.keyboard.press("Alt+ArrowDown")
    second = page.locator("#line-1")
    expect(second).to_have_class("chorus-editor__line chorus-editor__line--current")
    expect(page.locator(f"#text-{segments[1].id}")).to_be_focused()
    page.wait_for_function("(t) => Math.abs(document.querySelector('[data-chorus-player]').currentTime - t) < 0.5",
                           arg=segments[1].start)
    page.keyboard.press("Alt+P")  # pause again, so the test does not depend on audio output

    line = page.locator(f"#text-{segments[0].id}")
    line.fill("And so, my fellow volunteers, ask not what your country can do for you")
    submit(page, "Save corrections")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Saved 1 corrected line")
    expect(page.locator("#line-0 .govuk-tag")).to_have_text("corrected")

    captions = page.request.get(f"{live_server.url}/review/items/{note.id}/captions.vtt").text()
    assert "my fellow volunteers" in captions and "Americans" not in captions.split("\n\n")[1]

    submit(page, "Approve the transcript")
    submit(page, "Mark as reviewed")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Reviewed")
    found = run_search(live_services, staff_principal(analyst), Context.ANALYSIS, "volunteers")
    assert [hit.id for hit in found.hits] == [str(note.id)]


def test_a_box_drawn_over_a_face_is_blurred_for_readers_beyond_the_team(
        desk, browser, live_server, live_services, shared_portrait, expect, axe):
    photo, facilitator, analyst = shared_portrait
    page = desk
    sign_in_staff_page(page, facilitator)
    page.goto(f"/review/items/{photo.id}")
    picture = page.locator(".chorus-review-media img")
    expect(picture).to_be_visible()
    box = picture.bounding_box()
    natural = page.evaluate("document.querySelector('.chorus-review-media img').naturalWidth")
    scale = box["width"] / natural
    x1, y1, x2, y2 = FACE
    page.mouse.move(box["x"] + x1 * scale, box["y"] + y1 * scale)
    page.mouse.down()
    page.mouse.move(box["x"] + (x1 + x2) / 2 * scale, box["y"] + (y1 + y2) / 2 * scale, steps=5)
    page.mouse.move(box["x"] + x2 * scale, box["y"] + y2 * scale, steps=5)
    page.mouse.up()
    expect(page.locator(".chorus-box-outline")).to_be_visible()
    expect(page.locator("#box-x")).to_have_value(f"{x1 / natural * 100:.1f}")
    assert_no_axe_violations(axe, page, "workspace with a box drawn")
    submit(page, "Blur this box")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("blurred")
    submit(page, "Mark as reviewed")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Reviewed")

    with live_services.session() as db:
        (drawn,) = db.query(Redaction).filter_by(artefact_id=photo.id).all()
        assert abs(drawn.x - x1 / 512) < 0.01 and abs(drawn.width - (x2 - x1) / 512) < 0.01

    analyst_context = _new_context(browser, live_server, viewport=DESKTOP)
    try:
        analyst_page = analyst_context.new_page()
        sign_in_staff_page(analyst_page, analyst)
        response = analyst_page.request.get(f"{live_server.url}/media/{photo.id}/web_image")
        assert response.status == 200
        served = Path(live_services.settings.data_dir) / "served.jpg"
        served.write_bytes(response.body())
        assert faces.detect_faces(served) == [], "the face under the drawn box must be unrecognisable"
        assert Image.open(io.BytesIO(response.body())).size == (512, 512)
    finally:
        analyst_context.close()


def test_reviewing_themes_on_the_page_is_what_analysis_counts(desk, live_server, live_services, make, expect, axe):
    from archive.analysis.tags import is_counted
    from archive.models import Polarity, TagSource, TagStatus, ThemeTag

    programme = make.programme()
    child = make.participant(make.session(programme))
    make.consent(child, ConsentLevel.REPORT)
    story = make.artefact(child, title="The bus", story="The bus never comes so I walk to school in the rain",
                          reviewed=False)
    with live_services.session() as db:
        db.add_all([
            ThemeTag(artefact_id=story.id, framework="determinants", theme="transport", source=TagSource.MODEL,
                     confidence=0.81, evidence="The bus never comes"),
            ThemeTag(artefact_id=story.id, framework="determinants", theme="housing", source=TagSource.MODEL,
                     confidence=0.31, evidence="in the rain"),
        ])
        db.commit()
    page = desk
    sign_in_staff_page(page, make.staff(programme, Role.FACILITATOR))
    page.goto(f"/review/items/{story.id}")
    expect(page.locator(".chorus-evidence").first).to_have_text("The bus never comes")
    assert_no_axe_violations(axe, page, "theme review")

    transport = page.locator(".chorus-theme-review__item").filter(has_text="Transport")
    transport.get_by_label("Barrier or asset").select_option("barrier")
    transport.get_by_role("button", name="Accept").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Theme updated")
    page.locator(".chorus-theme-review__item").filter(has_text="Housing").get_by_role("button", name="Reject").click()
    page.get_by_label("Theme", exact=True).select_option("education")
    page.get_by_label("Barrier or asset", exact=True).last.select_option("asset")
    page.get_by_label("The words that show it (optional)").fill("I walk to school")
    submit(page, "Add theme")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Theme added")

    with live_services.session() as db:
        tags = {t.theme: t for t in db.query(ThemeTag).filter_by(artefact_id=story.id)}
        assert (tags["transport"].status, tags["transport"].polarity) == (TagStatus.ACCEPTED, Polarity.BARRIER)
        assert tags["housing"].status == TagStatus.REJECTED
        assert (tags["education"].source, tags["education"].polarity) == (TagSource.FACILITATOR, Polarity.ASSET)
        assert {theme for theme, tag in tags.items() if is_counted(tag)} == {"transport", "education"}

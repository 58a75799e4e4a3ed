"""An analyst finds a word in a real recording and lands on that moment of it, in Chromium.

jfk.flac goes through the real pipeline (sniffing, ffmpeg derivatives, Whisper, tagging, indexing)
on the live server's data. The analyst searches a word from it, opens the hit and finds the player
at the start of the line that holds the word, that line marked and captions showing; a click on
another line moves the player there. axe-core checks the search page (with results, with an
error) and the item page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.models import Artefact, ArtefactKind, ArtefactStatus, ConsentLevel, Role, utcnow
from archive.principal import participant_principal
from tests.browser.conftest import LiveFactory, assert_no_axe_violations, sign_in_staff_page, submit

JFK = Path(__file__).parents[1] / "data" / "jfk.flac"
SEEK_TOLERANCE = 0.35  # seconds: browsers land a seek on the nearest frame of the compressed audio


@pytest.fixture(scope="module")
def spoken(live_services, tmp_path_factory):
    """The JFK recording shared for reports with voice consent, processed, checked by a person and indexed.

    Once for the module: Whisper on a real recording is the slow part.
    """
    with live_services.session() as db:
        yield _spoken(LiveFactory(db, live_services.storage), db, live_services, tmp_path_factory.mktemp("speech"))


def _speech_said_twice(folder: Path) -> Path:
    """jfk.flac twice, after three seconds of quiet: Whisper hears several lines, none starting at 0:00."""
    import subprocess

    import imageio_ffmpeg

    out = folder / "said-twice.flac"
    quiet = ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
    subprocess.run([
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-t", "3", *quiet, "-i", str(JFK), "-t", "2", *quiet,
        "-i", str(JFK), "-filter_complex", "[0:a][1:a][2:a][3:a]concat=n=4:v=0:a=1[a]", "-map", "[a]",
        "-ar", "16000", "-ac", "1", str(out),
    ], check=True, timeout=60)
    return out


def _spoken(make, db, services, folder: Path):
    from ingest.accept import Submission, accept_upload
    from ingest.pipeline import run_pipeline
    from search.index import index_artefact

    programme = make.programme()
    child = make.participant(make.session(programme))
    make.consent(child, ConsentLevel.REPORT, voice=True)
    artefact, _ = accept_upload(db, services.storage, participant_principal(child), child,
                                Submission(ArtefactKind.VOICE_NOTE, title="What I would ask"),
                                _speech_said_twice(folder))
    assert run_pipeline(services, artefact.id) == ArtefactStatus.READY
    db.expire_all()
    artefact = db.get(Artefact, artefact.id)
    artefact.reviewed_at = utcnow()  # a facilitator has checked it: analysis may now read it
    db.commit()
    index_artefact(services.settings.index_dir, artefact)
    analyst = make.staff(programme, Role.ANALYST)
    artefact.transcript.segments  # loaded now: the tests read the lines after the session's commit
    return artefact, analyst


def _line_at(artefact, href: str):
    """The transcript line a hit's link points at (``?t=<start>``)."""
    moment = href.rsplit("?t=", 1)[1]
    return next(s for s in artefact.transcript.segments if f"{s.start:.2f}" == moment)


def _player_time(page) -> float:
    return page.evaluate("document.querySelector('[data-chorus-player]').currentTime")


def _wait_for_time(page, seconds: float) -> None:
    page.wait_for_function(
        "([t, tol]) => { const p = document.querySelector('[data-chorus-player]');"
        " return p && p.readyState >= 1 && Math.abs(p.currentTime - t) <= tol }",
        arg=[seconds, SEEK_TOLERANCE],
    )


def test_a_transcript_hit_opens_the_recording_at_that_moment(page, live_server, spoken, expect, axe):
    artefact, analyst = spoken
    assert len(artefact.transcript.segments) >= 2, "the recording was meant to come out as several lines"
    sign_in_staff_page(page, analyst)

    page.goto("/analysis/search")
    page.get_by_label("Words, phrases or fields").fill("country")
    submit(page, "Search")
    hit = page.locator(".chorus-result").filter(has_text="What I would ask")
    expect(hit).to_have_count(1)
    expect(hit.locator(".chorus-result__snippet mark").first).to_have_text("country", ignore_case=True)
    assert_no_axe_violations(axe, page, "search results")

    link = hit.get_by_role("link", name="What I would ask")
    target = _line_at(artefact, link.get_attribute("href"))
    assert "country" in target.text.lower() and target.start > 1, "the hit should point into the recording"
    with page.expect_navigation():
        link.click()
    _wait_for_time(page, target.start)
    assert abs(_player_time(page) - target.start) <= SEEK_TOLERANCE

    current = page.locator(".chorus-transcript__line--current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("aria-current", "true")
    expect(current).to_contain_text(target.text)
    showing = page.evaluate(
        "Array.from(document.querySelector('[data-chorus-player]').textTracks)"
        ".filter(t => t.kind === 'captions' && t.mode === 'showing').length"
    )
    assert showing == 1
    # The captions really loaded: the cue under the player is the line that was found.
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-chorus-player]').textTracks[0];"
        " return t.cues && t.cues.length > 0 }"
    )
    assert_no_axe_violations(axe, page, "item page")

    other = next(s for s in artefact.transcript.segments if s.position != target.position)
    line = page.locator(f"#line-{other.position}")
    line.locator(".chorus-transcript__text").click()
    page.wait_for_function(
        "([t]) => { const p = document.querySelector('[data-chorus-player]');"
        " return p.currentTime >= t - 0.35 && p.currentTime <= t + 2 }",
        arg=[other.start],
    )
    expect(line).to_have_class("chorus-transcript__line chorus-transcript__line--current")
    assert page.url.endswith(f"?t={target.start:.2f}"), "the seek happened in place, without a reload"

    # The keyboard does the same: focus a line's time and press Enter.
    page.evaluate("document.querySelector('[data-chorus-player]').pause()")
    page.locator(f"#line-{target.position} a").focus()
    page.keyboard.press("Enter")
    _wait_for_time(page, target.start)


def test_search_with_an_error_passes_axe_and_says_what_is_wrong(page, live_server, spoken, expect, axe):
    _, analyst = spoken
    sign_in_staff_page(page, analyst)
    page.goto("/analysis/search?q=%22unbalanced+consent_level%3A3")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#q")
    expect(page).to_have_title("Error: Search: \"unbalanced consent_level:3 – Chorus")
    assert_no_axe_violations(axe, page, "search with an error")


def test_without_javascript_a_line_is_a_link_to_that_moment(browser, live_server, spoken):
    artefact, analyst = spoken
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in_staff_page(page, analyst)
        last = artefact.transcript.segments[-1]
        page.goto(f"/analysis/items/{artefact.id}")
        with page.expect_navigation():
            page.locator(f"#line-{last.position} a").click()
        assert f"?t={last.start:.2f}" in page.url
        current = page.locator(".chorus-transcript__line--current")
        assert current.count() == 1 and last.text in current.inner_text()
        assert page.locator("source").get_attribute("src").endswith(f"#t={last.start:.2f}")
    finally:
        context.close()

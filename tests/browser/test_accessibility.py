"""Every participant page, in every state a participant can reach, passes axe-core with no violations.

axe-core runs inside the real page in Chromium on a phone-sized screen, after GOV.UK Frontend's
JavaScript has started (it changes markup and moves focus). Beyond what axe checks: error summary
links lead to a field on the page, the controls keep the theme's 48px touch targets and nothing
scrolls sideways at 320px wide, and a first visit stays within the participant page budget.
"""

from __future__ import annotations


import pytest

from archive.models import AgeBand, ArtefactKind, ArtefactStatus, ConsentLevel
from tests.browser.conftest import describe_violations, submit

SHARE_PAGES = ["photo", "drawing", "voice-note", "video-diary", "story"]


def _some_items(make, who):
    make.artefact(who, title="The bus stop", story="It never comes on time.")
    make.artefact(who, kind=ArtefactKind.PHOTO, title="Broken swing", status=ArtefactStatus.PROCESSING)
    failed = make.artefact(who, kind=ArtefactKind.VOICE_NOTE, title="", status=ArtefactStatus.FAILED)
    failed.failure_reason = "the recording was silent"
    make.db.commit()


def _join_empty(page, make, who):
    page.goto("/join")
    submit(page, "Join")


def _join_wrong_code(page, make, who):
    page.goto("/join")
    page.get_by_label("Session code").fill("ZZZZZZ")
    page.get_by_label("Choose a nickname").fill("Blue Fox")
    page.get_by_label("Fox", exact=True).check()
    page.get_by_label("Young people aged 16 to 19").check()
    submit(page, "Join")


def _consent_empty(page, make, who):
    page.goto("/consent")
    submit(page, "Save my choices")


def _my_things_with_items(page, make, who):
    _some_items(make, who)
    page.goto("/my-things")


def _after_sharing(page, make, who):
    page.goto("/share/story")
    page.get_by_label("Give it a name").fill("Our street")
    page.get_by_label("Tell us about it").fill("Cars park on the pavement, so we walk in the road.")
    submit(page, "Send")


def _share_empty(kind):
    def reach(page, make, who):
        page.goto(f"/share/{kind}")
        submit(page, "Send")
    return reach


def _withdraw_one(page, make, who):
    page.goto(f"/my-things/{make.artefact(who, title='Our kitchen').id}/withdraw")


def _withdraw_everything(page, make, who):
    _some_items(make, who)
    page.goto("/my-things/withdraw-everything")


def _withdrawn(page, make, who):
    _withdraw_one(page, make, who)
    submit(page, "Yes, take it back")


def _visit(path):
    return lambda page, make, who: page.goto(path)


# state -> (who is signed in: None, or the age band of a participant who chose "reports"; how to get there)
TEEN, CHILD = AgeBand.AGE_16_19, AgeBand.AGE_5_11
STATES = {
    "home": (None, _visit("/")),
    "home-signed-in": (TEEN, _visit("/")),
    "join": (None, _visit("/join")),
    "join-empty-submitted": (None, _join_empty),
    "join-wrong-code": (None, _join_wrong_code),
    "come-back": (None, _visit("/come-back")),
    "my-pin": (TEEN, _visit("/my-pin")),
    "consent": (TEEN, _visit("/consent")),
    "consent-under-13": (CHILD, _visit("/consent")),
    "consent-empty-submitted": (TEEN, _consent_empty),
    "my-things-empty": (TEEN, _visit("/my-things")),
    "my-things-with-items": (TEEN, _my_things_with_items),
    "my-things-after-sharing": (TEEN, _after_sharing),
    "share-chooser": (TEEN, _visit("/share/")),
    **{f"share-{kind}": (TEEN, _visit(f"/share/{kind}")) for kind in SHARE_PAGES},
    **{f"share-{kind}-empty-submitted": (TEEN, _share_empty(kind)) for kind in SHARE_PAGES},
    "withdraw-one": (TEEN, _withdraw_one),
    "withdraw-everything": (TEEN, _withdraw_everything),
    "withdrawn-receipt": (TEEN, _withdrawn),
    "not-found": (TEEN, _visit("/my-things/not-a-thing/withdraw")),
    "not-found-signed-out": (None, _visit("/no-such-page")),
}
# One of each error template: the five share pages share one, with the story page its special case.
ERROR_STATES = ["join-empty-submitted", "join-wrong-code", "consent-empty-submitted",
                "share-photo-empty-submitted", "share-story-empty-submitted"]


def _reach(state, page, live_server, make):
    band, go = STATES[state]
    who = None
    if band is not None:
        who = make.participant(make.session(make.programme()), band=band)
        make.consent(who, ConsentLevel.REPORT)
        live_server.sign_in(page.context, who)
    go(page, make, who)
    # Check the page as it is once GOV.UK Frontend's components have started, not half-way there.
    page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")


@pytest.mark.parametrize("state", list(STATES))
def test_page_has_no_axe_violations(state, page, live_server, make, axe):
    _reach(state, page, live_server, make)
    violations = axe.run(page).response["violations"]
    assert violations == [], f"{state} ({page.url}):\n{describe_violations(violations)}"


@pytest.mark.parametrize("state", ERROR_STATES)
def test_every_error_summary_link_leads_to_its_field(state, page, live_server, make):
    _reach(state, page, live_server, make)
    links = page.locator(".govuk-error-summary a")
    assert links.count() > 0, f"{state}: no error summary"
    for link in links.all():
        target = link.get_attribute("href")
        field = page.locator(target)
        assert field.count() == 1, f"{state}: the summary links to {target}, which is not on the page"
        # Following the link must land beside the same message: GOV.UK puts it in the field's form group.
        group = page.locator(f".govuk-form-group--error:has({target})")
        assert link.inner_text() in group.locator(".govuk-error-message").inner_text(), (
            f"{state}: {link.inner_text()!r} is not shown beside {target}")


# The theme promises 48px touch targets for buttons, fields, radios and checkboxes (docs/frontend.md),
# and WCAG 1.4.10 asks that nothing scroll sideways at 320 CSS pixels wide.
CONTROLS = ("header a, header button, main button, main input:not([type=hidden]), main select, "
            "main textarea, main .govuk-button, main .chorus-choice")
SMALL_CONTROLS = f"""() => [...document.querySelectorAll("{CONTROLS}")]
  .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
  .filter(([, box]) => box.width > 0 && (box.height < 47.5 || box.width < 47.5))
  .map(([html, box]) => `${{html}} is ${{Math.round(box.width)}}x${{Math.round(box.height)}}`)"""
TARGET_STATES = ["home-signed-in", "join-empty-submitted", "consent-under-13", "my-things-with-items",
                 "share-chooser", "share-photo-empty-submitted", "share-story", "withdraw-one", "withdrawn-receipt"]


@pytest.mark.parametrize("state", TARGET_STATES)
def test_controls_are_big_enough_and_nothing_scrolls_sideways(state, narrow_page, live_server, make):
    _reach(state, narrow_page, live_server, make)
    assert narrow_page.evaluate(SMALL_CONTROLS) == []
    overflow = narrow_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{state} scrolls sideways by {overflow}px at 320px wide"


# What a first visit downloads, with an empty cache: the participant budget is 150 KB transferred
# (docs/frontend.md). The app compresses text itself (Flask-Compress), so the bytes on the wire,
# headers included, are what a phone pays for. The figure is printed (pytest -s) for the record.
BUDGET_BYTES = 150_000
WEIGHED = ["home", "join", "my-things-with-items", "share-photo"]
# The share pages also load the upload script and, where a story can be spoken, the recorder.
EXTRA_FILES = {"share-photo": {"share/upload.js", "share/recorder.js"}}
EXPECTED_FILES = {"govuk/govuk-frontend.min.css", "participant.css", "chorus.js", "govuk/govuk-frontend.min.js",
                  "chorus-icon.svg"}


@pytest.mark.parametrize("state", WEIGHED)
def test_first_visit_fits_the_budget(state, page, live_server, make):
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    _reach(state, page, live_server, make)
    page.wait_for_load_state("networkidle")
    transferred = 0
    static = set()
    for request in finished:
        response = request.response()
        if response is None or not request.url.startswith(live_server.url) or response.status in (301, 302, 303):
            continue
        sizes = request.sizes()
        transferred += sizes["responseHeadersSize"] + sizes["responseBodySize"]
        path = request.url.removeprefix(live_server.url)
        if path.startswith("/static/"):
            static.add(path.removeprefix("/static/"))
    print(f"\n{state}: {transferred:,} bytes transferred; static: {sorted(static)}")
    # A web font or a picture in the page chrome would show up here before it shows up in the budget.
    assert static == EXPECTED_FILES | EXTRA_FILES.get(state, set()), f"{state} downloads {sorted(static)}; a new asset needs a place in the budget"
    assert transferred < BUDGET_BYTES

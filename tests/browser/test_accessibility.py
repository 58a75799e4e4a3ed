"""Every participant page, in every state a participant can reach, has no axe-core violations.

axe-core runs inside the real page in Chromium on a phone-sized screen, after GOV.UK Frontend's
JavaScript has started (it changes markup: the file upload, the error summary's focus). The
second half checks what a first visit to each page downloads.
"""

from __future__ import annotations

import gzip

import pytest

from archive.models import ArtefactKind, ArtefactStatus

SHARE_PAGES = ["photo", "drawing", "voice-note", "video-diary", "story"]


def _send(page):
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()


def _items(make, participant):
    make.artefact(participant, title="The bus stop", story="It never comes on time.")
    make.artefact(participant, kind=ArtefactKind.PHOTO, title="Broken swing", status=ArtefactStatus.PROCESSING)
    failed = make.artefact(participant, kind=ArtefactKind.VOICE_NOTE, title="", status=ArtefactStatus.FAILED)
    failed.failure_reason = "the recording was silent"
    make.db.commit()


def _share_story(page):
    page.goto("/share/story")
    page.get_by_label("Give it a name").fill("Our street")
    page.get_by_label("Tell us about it").fill("Cars park on the pavement, so we walk in the road.")
    _send(page)


def _withdrawn(page, make, participant):
    item = make.artefact(participant, title="The bus stop")
    page.goto(f"/my-things/{item.id}/withdraw")
    page.get_by_role("button", name="Yes, take it back").click()
    page.wait_for_load_state()


# Each state: (signed in?, how to reach it). The page object is already on a phone-sized context.
STATES = {
    "home": (False, lambda page, make, who: page.goto("/")),
    "home-signed-in": (True, lambda page, make, who: page.goto("/")),
    "join": (False, lambda page, make, who: page.goto("/join")),
    "join-empty-submitted": (False, lambda page, make, who: (
        page.goto("/join"), page.get_by_role("button", name="Join").click(), page.wait_for_load_state())),
    "join-wrong-code": (False, lambda page, make, who: (
        page.goto("/join"), page.get_by_label("Session code").fill("ZZZZZZ"),
        page.get_by_label("Choose a nickname").fill("Blue Fox"), page.get_by_label("Fox").check(),
        page.get_by_label("Young people aged 16 to 19").check(),
        page.get_by_role("button", name="Join").click(), page.wait_for_load_state())),
    "consent": (True, lambda page, make, who: page.goto("/consent")),
    "consent-under-13": ("5_11", lambda page, make, who: page.goto("/consent")),
    "consent-empty-submitted": ("5_11", lambda page, make, who: (
        page.goto("/consent"), page.get_by_role("button", name="Save my choices").click(),
        page.wait_for_load_state())),
    "my-things-empty": (True, lambda page, make, who: page.goto("/my-things")),
    "my-things-with-items": (True, lambda page, make, who: (_items(make, who), page.goto("/my-things"))),
    "my-things-after-sharing": (True, lambda page, make, who: _share_story(page)),
    "share-chooser": (True, lambda page, make, who: page.goto("/share/")),
    **{f"share-{kind}": (True, lambda page, make, who, kind=kind: page.goto(f"/share/{kind}")) for kind in SHARE_PAGES},
    **{f"share-{kind}-empty-submitted": (True, lambda page, make, who, kind=kind: (page.goto(f"/share/{kind}"), _send(page)))
       for kind in SHARE_PAGES},
    "withdraw-one": (True, lambda page, make, who: page.goto(f"/my-things/{make.artefact(who, title='Our kitchen').id}/withdraw")),
    "withdraw-everything": (True, lambda page, make, who: (_items(make, who), page.goto("/my-things/withdraw-everything"))),
    "withdrawn-receipt": (True, lambda page, make, who: _withdrawn(page, make, who)),
    "not-found": (True, lambda page, make, who: page.goto("/my-things/not-a-thing/withdraw")),
    "not-found-signed-out": (False, lambda page, make, who: page.goto("/no-such-page")),
}


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _reach(state, page, live_server, make):
    signed_in, go = STATES[state]
    who = None
    if signed_in:
        from archive.models import AgeBand, ConsentLevel

        band = AgeBand(signed_in) if isinstance(signed_in, str) else AgeBand.AGE_16_19
        who = make.participant(make.session(make.programme()), band=band)
        make.consent(who, ConsentLevel.REPORT)
        live_server.sign_in(page.context, who)
    go(page, make, who)
    # GOV.UK Frontend's components rewrite their markup once chorus.js has run; check that version.
    page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")


def _describe(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


@pytest.mark.parametrize("state", list(STATES))
def test_page_has_no_axe_violations(state, page, live_server, make, axe):
    _reach(state, page, live_server, make)
    if state.endswith(("submitted", "wrong-code")):
        assert page.locator(".govuk-error-summary").is_visible(), "the error state did not show an error summary"
    violations = axe.run(page).response["violations"]
    assert violations == [], f"{state} ({page.url}):\n{_describe(violations)}"


# What a first visit downloads, with an empty cache. The budget for participants is 150 KB
# transferred (docs/frontend.md); the server sends text uncompressed, so the raw bytes are what
# a phone downloads until a proxy or middleware compresses them.
BUDGET_BYTES = 150_000
WEIGHED = ["home", "join", "consent", "my-things-with-items", "share-chooser", "share-photo", "withdraw-one"]


def _weigh(state, page, live_server, make):
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    _reach(state, page, live_server, make)
    page.wait_for_load_state("networkidle")
    raw = compressed = 0
    urls = []
    for request in responses:
        response = request.response()
        if response is None or response.status >= 300 or request.url.startswith("data:"):
            continue
        sizes = request.sizes()
        body = response.body()
        raw += sizes["responseHeadersSize"] + len(body)
        compressed += sizes["responseHeadersSize"] + len(gzip.compress(body))
        urls.append(request.url.removeprefix(live_server.url))
    return raw, compressed, urls


@pytest.mark.parametrize("state", WEIGHED)
def test_first_visit_fits_the_budget_once_compressed(state, page, live_server, make):
    raw, compressed, urls = _weigh(state, page, live_server, make)
    print(f"\n{state}: {raw:,} bytes as served, {compressed:,} gzipped: {urls}")
    # Nothing beyond the page, two stylesheets, two scripts and the icon: a web font or a
    # picture added to the chrome would show here first.
    assert all(url.startswith("/static/") or not url.startswith("/static") for url in urls)
    assert not [url for url in urls if url.endswith((".woff", ".woff2", ".png", ".jpg", ".jpeg", ".webp"))], urls
    assert compressed < BUDGET_BYTES

"""Browser tests: the real app served by waitress on loopback, driven in Debian's Chromium by Playwright.

One server and one browser per test session; each test gets a fresh phone-sized browser context,
so cookies, cache and storage never leak from one test into the next. The root conftest's
`settings`, `services`, `db` and `make` fixtures are pointed at the live server's data here, so a
test creates records with `make` exactly as the other tests do and the browser sees them at once.

Without Chromium or Playwright these tests skip, or fail when CHORUS_REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from tests.conftest import Factory
from tests.servers import unavailable

INSTALL_HINT = "apt-get install chromium; pip install playwright axe-playwright-python"

# Debian's Chromium, started the way that works on a closed network: without the background
# networking flags it keeps trying to reach Google's hosts and those failures slow every start.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# A small, cheap phone: the participant pages are designed for this first.
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Short enough that a broken page fails the test in seconds, long enough for a loaded CI machine.
TIMEOUT_MS = 15_000
# Sharing runs the whole processing pipeline inside the request here (jobs are immediate), and the
# first share in a run also loads the theme tagger's sentence model: seconds, more on a busy machine.
NAVIGATION_TIMEOUT_MS = 60_000


@dataclass
class LiveServer:
    url: str
    app: object

    def sign_in(self, context, participant) -> None:
        """Give a browser context a participant's signed-in session, as /join would, without the form.

        For tests about a page rather than about joining; the join journey itself goes through the form.
        """
        from archive.web.principals import LAST_SEEN_KEY, PARTICIPANT_KEY

        serializer = self.app.session_interface.get_signing_serializer(self.app)
        value = serializer.dumps({
            PARTICIPANT_KEY: str(participant.id),
            LAST_SEEN_KEY: datetime.now(timezone.utc).timestamp(),
        })
        name = self.app.config["SESSION_COOKIE_NAME"]
        context.add_cookies([{"name": name, "value": value, "url": self.url, "httpOnly": True, "sameSite": "Lax"}])


@pytest.fixture(scope="session")
def live_settings(tmp_path_factory):
    from archive.settings import load_settings

    # Session-scoped fixtures are built before the root conftest's per-test environment cleanup runs.
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("CHORUS_") and name != "CHORUS_REQUIRE_SERVICES":
                mp.delenv(name)
        return load_settings(data_dir=tmp_path_factory.mktemp("live") / "data", queue_url="memory://")


@pytest.fixture(scope="session")
def live_services(live_settings, migrated_sqlite):
    from archive.services import Services

    live_settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_sqlite, live_settings.data_dir / "chorus.sqlite3")
    svc = Services(live_settings)
    svc.storage.check()
    yield svc
    svc.close()


@pytest.fixture(autouse=True)
def _jobs_run_in_the_request(live_services):
    """Bind the job queue to the live server before each test, immediate, as the root `services` fixture does.

    The queue and the jobs' services are process-wide; another test module run in between
    (one pytest process, or one xdist worker) rebinds them to its own temporary app.
    """
    from ingest.jobs import bind_services
    from ingest.queue import configure_queue

    huey = configure_queue(live_services.settings)
    huey.immediate = True
    live_services.__dict__["huey"] = huey
    bind_services(live_services)


@pytest.fixture
def settings(live_settings):
    return live_settings


@pytest.fixture
def services(live_services):
    return live_services


@pytest.fixture(scope="session")
def live_server(live_settings, live_services):
    """The app served by waitress, as `chorus serve` serves it, on a free loopback port."""
    from waitress import wasyncore
    from waitress.server import create_server

    from archive.web import create_app

    app = create_app(live_settings, services=live_services)
    # Every browser test signs in from 127.0.0.1: the sign-in limit (10 a minute) is for people, and
    # has its own test (tests/test_web_security.py).
    app.config["RATELIMIT_ENABLED"] = False
    socket_map: dict = {}
    server = create_server(app, host="127.0.0.1", port=0, threads=4, map=socket_map)
    thread = threading.Thread(target=server.run, name="chorus-live-server", daemon=True)
    thread.start()
    yield LiveServer(url=f"http://127.0.0.1:{server.effective_port}", app=app)
    # Closing every socket in the map is what ends waitress's loop; the dispatcher's threads stop first.
    server.task_dispatcher.shutdown()
    wasyncore.close_all(socket_map)
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, started once for the whole run."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright", INSTALL_HINT)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("Chromium", INSTALL_HINT)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        unavailable("Chromium", f"{INSTALL_HINT} (launching {executable} failed: {exc.message.splitlines()[0]})")
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    yield browser
    browser.close()
    playwright.stop()


def submit(page, button: str) -> None:
    """Press a form's button and wait for the page the server answers with."""
    with page.expect_navigation(timeout=NAVIGATION_TIMEOUT_MS):
        page.get_by_role("button", name=button, exact=True).click()


def _new_context(browser, live_server, viewport=None, **options):
    phone = {**PHONE, "viewport": viewport or PHONE["viewport"]}
    context = browser.new_context(base_url=live_server.url, **phone, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser, live_server):
    """A phone-sized browser context with nothing in it: no cookies, no cache."""
    context = _new_context(browser, live_server)
    yield context
    context.close()


@pytest.fixture
def expect(browser):
    """Playwright's `expect`, imported only once the browser fixture has checked Playwright is there."""
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def narrow_page(browser, live_server):
    """The narrowest screen WCAG 1.4.10 (reflow) asks pages to work on: 320 CSS pixels."""
    context = _new_context(browser, live_server, viewport={"width": 320, "height": 640})
    yield context.new_page()
    context.close()


@pytest.fixture
def nojs_page(browser, live_server):
    """A phone with JavaScript switched off (or a browser too old to run the module script)."""
    context = _new_context(browser, live_server, java_script_enabled=False)
    yield context.new_page()
    context.close()


class LiveFactory(Factory):
    """The root factory, numbering records across the whole run: every test shares the live database."""

    numbers = itertools.count(1)

    def _next(self) -> int:
        return next(self.numbers)


@pytest.fixture
def make(db, live_services):
    return LiveFactory(db, live_services.storage)


@pytest.fixture
def join_code(make):
    """The join code of a new, open session in a new programme."""
    return make.session(make.programme()).join_code


# ---- shared by the page tests: accessibility checks and staff sign-in ------------------------


@pytest.fixture(scope="session")
def axe(browser):
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        unavailable("axe-playwright-python", INSTALL_HINT)
    return Axe()


def describe_violations(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


def assert_no_axe_violations(axe, page, what: str, *, govuk: bool = True) -> None:
    """axe-core finds nothing on the page as it stands once GOV.UK Frontend has started (pages without
    GOV.UK's JavaScript, like the public exhibit, pass ``govuk=False`` and are checked once loaded)."""
    if govuk:
        page.wait_for_function("document.body.classList.contains('govuk-frontend-supported')")
    else:
        page.wait_for_load_state("load")
    violations = axe.run(page).response["violations"]
    assert violations == [], f"{what} ({page.url}):\n{describe_violations(violations)}"


def sign_in_staff_page(page, user) -> None:
    from tests.conftest import STAFF_PASSWORD

    page.goto("/staff/sign-in")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(STAFF_PASSWORD)
    submit(page, "Sign in")

"""The vendored GOV.UK Frontend assets and the two page layouts.

The assets are committed (so `pip install .` gives styled pages without npm); these tests
catch a half-finished update, a CSS url() that would 404 and layouts that break the CSP.
"""

import gzip
import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
from flask import flash, render_template_string

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "archive" / "web" / "static"
GOVUK = STATIC / "govuk"

# govuk-frontend-jinja release -> the GOV.UK Frontend release its macros were ported from
# (its README's compatibility table). Bumping one without the other fails here on purpose.
JINJA_PORTS = {"4.1.0": "6.3.0"}

URL = re.compile(r"url\(\s*(['\"]?)([^)'\"]+)\1\s*\)")
PARTICIPANT_BUDGET_BYTES = 150_000


def pinned_version() -> str:
    return json.loads((REPO / "package.json").read_text())["dependencies"]["govuk-frontend"]


def test_vendored_version_matches_pins():
    vendored = (GOVUK / "VERSION").read_text().strip()
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert pinned_version() == vendored
    assert lock["packages"]["node_modules/govuk-frontend"]["version"] == vendored
    assert JINJA_PORTS[version("govuk-frontend-jinja")] == vendored


def test_vendored_files_exist():
    for name in ("govuk-frontend.min.css", "govuk-frontend.min.js", "LICENSE", "assets/manifest.json"):
        assert (GOVUK / name).is_file(), name
    licence = (GOVUK / "LICENSE").read_text()
    assert "The MIT License (MIT)" in licence
    assert "Copyright (C) 2017 Crown Copyright (Government Digital Service)" in licence


@pytest.mark.parametrize("stylesheet", [GOVUK / "govuk-frontend.min.css", STATIC / "participant.css"])
def test_every_css_url_resolves_under_static(stylesheet):
    css = stylesheet.read_text()
    for _, target in URL.findall(css):
        if target.startswith("data:"):
            continue
        # Relative URLs resolve next to the stylesheet whatever prefix Flask serves /static at.
        assert not target.startswith(("/", "http:", "https:")), target
        resolved = (stylesheet.parent / target).resolve()
        assert resolved.is_relative_to(STATIC), target
        assert resolved.is_file(), target


def test_gds_transport_is_not_shipped():
    # The font is licensed for GOV.UK only, and phones should not wait for font downloads.
    css = (GOVUK / "govuk-frontend.min.css").read_text()
    assert "@font-face" not in css
    assert "GDS Transport" not in css
    assert "var(--chorus-font-family,arial,sans-serif)" in css
    assert not list(STATIC.rglob("*.woff*"))


def test_participant_css_loads_nothing_remote():
    css = (STATIC / "participant.css").read_text()
    assert not re.search(r"@import\s+(url\()?\s*['\"]?\s*(https?:)?//", css)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", css)


def render(app, layout, **context):
    page = '{% extends "' + layout + '" %}{% block title %}Test page{% endblock %}' \
        '{% block content %}<h1 class="govuk-heading-l">Hello</h1>{% endblock %}'
    with app.test_request_context("/"):
        for category, message in context.pop("flashes", []):
            flash(message, category)
        return render_template_string(page, **context)


LAYOUTS = ["layouts/staff.html", "layouts/participant.html"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_basics(app, layout):
    html = render(app, layout)
    assert '<html lang="en"' in html
    assert 'class="govuk-skip-link"' in html and 'href="#main-content"' in html
    assert 'id="main-content"' in html
    assert '<link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css">' in html
    assert "<title>Test page – Chorus</title>" in html
    assert "govuk-phase-banner" not in html


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_is_csp_friendly(app, layout):
    html = render(app, layout, flashes=[("success", "Saved")])
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts), scripts
    assert '<script type="module" src="/static/chorus.js">' in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_links_stay_on_site(app, layout):
    html = render(app, layout, navigation=[{"href": "/a", "text": "A"}], signout_url="/bye")
    assert not re.search(r"""(href|src|action)=["'](https?:)?//""", html)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_assets_are_served(app, layout):
    html = render(app, layout)
    client = app.test_client()
    for url in re.findall(r"""(?:href|src)="(/static/[^"]+)\"""", html):
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_lang_from_variable(app, layout):
    assert '<html lang="cy"' in render(app, layout, htmlLang="cy")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_flashes_render_as_govuk_components(app, layout):
    html = render(app, layout, flashes=[("error", "Choose a file"), ("success", "Recording saved"), ("message", "Heads up")])
    assert "<title>Error: Test page – Chorus</title>" in html
    assert 'class="govuk-error-summary"' in html and "Choose a file" in html
    assert "govuk-notification-banner--success" in html and "Recording saved" in html
    assert html.count('data-module="govuk-notification-banner"') == 2
    assert html.index("govuk-error-summary") < html.index("<h1")


def test_flash_messages_are_escaped(app):
    html = render(app, "layouts/staff.html", flashes=[("success", "<b>x</b>")])
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_staff_navigation(app):
    html = render(app, "layouts/staff.html", navigation=[
        {"href": "/recordings", "text": "Recordings", "current": True},
        {"href": "/exports", "text": "Exports"},
    ])
    assert "govuk-generic-header" in html and ">Chorus<" in re.sub(r"\s+", "", html)
    assert 'aria-current="page"' in html and 'href="/exports"' in html
    assert "participant.css" not in html


def test_participant_signout_and_theme(app):
    html = render(app, "layouts/participant.html", signout_url="/participant/sign-out")
    assert '<link rel="stylesheet" href="/static/participant.css">' in html
    assert 'action="/participant/sign-out"' in html and 'method="post"' in html
    assert "Finish and sign out" in html
    assert "Finish and sign out" not in render(app, "layouts/participant.html")


def test_participant_page_fits_budget_when_compressed(app):
    # What a first visit downloads: page, stylesheets, scripts, icon. Compressed, because the
    # budget assumes the server or proxy gzips text (docs/frontend.md); images are not used.
    html = render(app, "layouts/participant.html", signout_url="/bye")
    files = ["govuk/govuk-frontend.min.css", "participant.css", "chorus.js",
             "govuk/govuk-frontend.min.js", "chorus-icon.svg"]
    total = len(gzip.compress(html.encode())) + sum(
        len(gzip.compress((STATIC / name).read_bytes())) for name in files)
    assert total < PARTICIPANT_BUDGET_BYTES

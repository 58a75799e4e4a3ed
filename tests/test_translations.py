"""Every word a participant reads can be translated (the method: tests/pseudo_locale.py)."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, join_as_participant
from tests.pseudo_locale import LOCALE, extracted_messages, get, pseudo_settings, untranslated_words


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return pseudo_settings(tmp_path, pseudo_catalogs)


def test_the_catalog_covers_templates_and_python(pseudo_catalogs):
    messages = {m if isinstance(m, str) else m[0] for m in extracted_messages()}
    assert "Finish and sign out" in messages  # a template string
    assert "Team only" in messages  # a lazy_gettext string in Python


def test_the_html_lang_follows_the_language(client):
    assert '<html lang="cy"' in get(client, "/")
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/join", "/come-back", "/no-such-page-here"])
def test_pages_before_joining_are_fully_translatable(client, path):
    response = client.get(path, headers={"Accept-Language": LOCALE})
    assert untranslated_words(response.get_data(as_text=True)) == set()


def test_a_form_with_errors_is_fully_translatable(client):
    page = get(client, "/join")
    response = client.post("/join", data={"csrf_token": csrf_token(page), "code": "", "alias": ""},
                           headers={"Accept-Language": LOCALE})
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert untranslated_words(html) == set()


def test_participant_pages_are_fully_translatable(client, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Blue Fox")
    for path in ("/consent", "/my-things", "/share/"):
        assert untranslated_words(get(client, path)) == set(), path

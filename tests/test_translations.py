"""Every word a participant reads can be translated.

The strings are extracted exactly as a translator would get them (``babel.cfg``), every one is
"translated" into a pseudo-Welsh catalog that wraps it in ⟦ ⟧, and the participant pages are
rendered in that language. Whatever English is left outside the brackets was never marked for
translation (or comes from a component default nobody overrode), so a real Welsh or Urdu catalog
would leave it in English too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo

from archive.settings import load_settings
from tests.conftest import csrf_token, join_as_participant

ROOT = Path(__file__).resolve().parents[1]
LOCALE = "cy"
OPEN, CLOSE = "⟦", "⟧"
# Text a translation must not change: the service's name, and what the test itself typed.
UNTRANSLATED = {"Chorus", "Blue", "Fox"}
READABLE_ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")


def _pseudo(message: str) -> str:
    return f"{OPEN}{message}{CLOSE}"


def extracted_messages() -> list:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2), "_l": None}  # as `pybabel extract -k`
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    return [message for _, _, message, _, _ in found]


@pytest.fixture(scope="module")
def pseudo_catalogs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("translations")
    catalog = Catalog(locale=LOCALE)
    for message in extracted_messages():
        if isinstance(message, tuple):  # ngettext: (singular, plural) and one string per plural form
            singular, plural = message[0], message[1]
            forms = [_pseudo(singular)] + [_pseudo(plural)] * (catalog.num_plurals - 1)
            catalog.add((singular, plural), tuple(forms))
        else:
            catalog.add(message, _pseudo(message))
    target = folder / LOCALE / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    return folder


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return load_settings(data_dir=tmp_path / "data", queue_url="memory://", translations_dir=pseudo_catalogs)


class _ReadableText(HTMLParser):
    """The text a person sees or hears from a screen reader: text nodes and a few attributes."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skipping += 1
        self.parts += [value for name, value in attrs if name in READABLE_ATTRIBUTES and value]
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def untranslated_words(html: str) -> set[str]:
    parser = _ReadableText()
    parser.feed(html)
    text = " ".join(parser.parts)
    inner = re.compile(rf"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while inner.search(text):  # a translated sentence may hold translated words: peel from inside out
        text = inner.sub(" ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z']+", text))
    return words - UNTRANSLATED


def get(client, path: str) -> str:
    response = client.get(path, headers={"Accept-Language": LOCALE})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


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

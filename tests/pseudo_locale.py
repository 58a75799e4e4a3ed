"""A pseudo-language for checking that every word a person reads can be translated.

The strings are extracted exactly as a translator would get them (``babel.cfg``), every one is
"translated" into a pseudo-Welsh catalog that wraps it in ⟦ ⟧, and pages are rendered in that
language. Whatever English is left outside the brackets was never marked for translation (or
comes from a component default nobody overrode), so a real Welsh or Urdu catalog would leave it
in English too. The ``pseudo_catalogs`` fixture (tests/conftest.py) builds the catalog once.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo

from archive.settings import load_settings

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


def build_catalogs(folder: Path) -> Path:
    """Compile the pseudo-language catalog into `folder` (a translations folder for the app)."""
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


def pseudo_settings(tmp_path: Path, catalogs: Path):
    """App settings that add the pseudo-language: request it with ``Accept-Language: cy``."""
    return load_settings(data_dir=tmp_path / "data", queue_url="memory://", translations_dir=catalogs)


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

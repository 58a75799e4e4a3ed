"""Which language a page is shown in.

Every string a person reads goes through Flask-Babel (``_()`` in templates, ``gettext`` /
``lazy_gettext`` in Python), so a council can add a language by dropping a compiled catalog into
``translations/<locale>/LC_MESSAGES/messages.mo``; English is the source language and needs none.
``babel.cfg`` at the top of the repository tells ``pybabel extract`` where the strings are.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, request

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SOURCE_LOCALE = "en"


def available_locales() -> list[str]:
    """English plus every locale with a compiled catalog in the app's translation folders."""
    folders = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS)).split(";")
    found = {
        catalog.parents[1].name
        for folder in folders
        for catalog in Path(folder).glob("*/LC_MESSAGES/messages.mo")
    }
    return [SOURCE_LOCALE, *sorted(found - {SOURCE_LOCALE})]


def select_locale() -> str:
    return request.accept_languages.best_match(available_locales()) or SOURCE_LOCALE

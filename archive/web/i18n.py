"""Which language a page is shown in.

Every string a person reads goes through Flask-Babel (``_()`` in templates, ``gettext`` /
``lazy_gettext`` in Python), so a council can add a language by dropping a compiled catalog into
``translations/<locale>/LC_MESSAGES/messages.mo``; English is the source language and needs none.
A council can also keep its own catalogs outside the package (``translations_dir`` setting).
``babel.cfg`` at the top of the repository tells ``pybabel extract`` where the strings are:
``pybabel extract -F babel.cfg -k lazy_gettext -k _l -o messages.pot .`` (``_l`` is forms.py's
short name for ``lazy_gettext``).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import get_locale

from .extensions import babel

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SOURCE_LOCALE = "en"


def available_locales() -> list[str]:
    """English plus every locale with a compiled catalog in the app's translation folders."""
    folders = current_app.extensions["babel"].translation_directories
    found = {
        catalog.parents[1].name
        for folder in folders
        for catalog in Path(folder).glob("*/LC_MESSAGES/messages.mo")
    }
    return [SOURCE_LOCALE, *sorted(found - {SOURCE_LOCALE})]


def select_locale() -> str:
    return request.accept_languages.best_match(available_locales()) or SOURCE_LOCALE


def current_locale() -> str:
    """The page's language as an HTML lang value (en, cy, pa-IN), for screen readers and hyphenation."""
    return str(get_locale() or SOURCE_LOCALE).replace("_", "-")


def init_app(app: Flask, settings) -> None:
    folders = [settings.translations_dir, TRANSLATIONS] if settings.translations_dir else [TRANSLATIONS]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(folder) for folder in folders)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_locale"] = current_locale

"""The exhibit pages are fully translatable: rendered in a pseudo-language, no interface English is left.

Uses the pseudo-Welsh catalog of tests/pseudo_locale.py. What stays English is content: the
exhibit's and items' titles, captions, descriptions, transcripts and aliases, which people wrote.
"""

from __future__ import annotations

import re

import pytest

from archive.exhibits import building, publishing
from archive.frameworks import load_framework
from tests.conftest import sign_in_staff
from tests.test_exhibits import LINES, Gallery
from tests.pseudo_locale import get, pseudo_settings, untranslated_words


@pytest.fixture
def settings(tmp_path, pseudo_catalogs):
    return pseudo_settings(tmp_path, pseudo_catalogs)


CONTENT = " ".join(LINES + ["Summer voices", "Our street", "Me at the park", "The park", "Staying in", "Kestrel",
                            "A street with houses", "name", "We need more buses", "Getting about", "Buses and parks",
                            "Test listening programme", "Where I walk to school"])
CONTENT_WORDS = set(re.findall(r"[A-Za-z][A-Za-z']+", CONTENT))
# Theme labels come from the framework files, their own content (as in tests/test_analysis_i18n.py).
CONTENT_WORDS |= {w for t in load_framework("determinants").themes for w in re.findall(r"[A-Za-z][A-Za-z']+", t.label)}


@pytest.fixture
def exhibit(make, db, services, portrait):  # noqa: F811
    gallery = Gallery(make, db, services, portrait)
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced, gallery.silent])
    section = building.add_section(db, gallery.facilitator, exhibit, "Getting about", "Buses and parks")
    building.update_item(db, gallery.facilitator, exhibit.items[0], section.id, "A street with houses",
                         "Where I walk to school")
    publishing.publish(db, gallery.facilitator, exhibit)
    db.commit()
    return gallery, exhibit


def test_public_exhibit_pages_are_fully_translatable(client, exhibit):
    _, shown = exhibit
    for path in (f"/exhibits/{shown.slug}", f"/exhibits/{shown.slug}/kiosk", f"/exhibits/{shown.slug}/kiosk/3"):
        assert untranslated_words(get(client, path)) - CONTENT_WORDS == set(), path


def test_the_builder_is_fully_translatable(client, exhibit):
    gallery, shown = exhibit
    sign_in_staff(client, gallery.user.email)
    for path in ("/exhibits/manage/", f"/exhibits/manage/{shown.id}", f"/exhibits/manage/{shown.id}/preview"):
        html = get(client, path)
        # The builder shows the public address in full, and item ids where an item left.
        address = {"http", "localhost", "exhibits", "summer", "voices"}
        left = untranslated_words(html) - CONTENT_WORDS - address
        assert left == set(), path

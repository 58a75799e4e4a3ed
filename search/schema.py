"""The Whoosh schema of the search index, and the English analyzer its text fields share.

Library choice: ``whoosh-reloaded>=2.7.5,<2.8`` rather than ``whoosh==2.7.4``. Both install the
same ``whoosh`` package with the same API and on-disk format (the whoosh3 codec), so the choice
can be reversed with a reindex. The original has had no release since 2016 and ships code that
Python 3.8+ flags at compile time (``fixedsize is 0`` in ``whoosh/codec/whoosh3.py``, a
SyntaxWarning now and an error under ``-W error``); the fork (2024) is that code cleaned of
Python 2 shims and such warnings, with the same behaviour. Reliability note 23 (deleted terms
stay in segment files until an optimising commit) was observed on 2.7.4; the erasure test in
``tests/test_search_index.py`` checks it again on whichever one is installed. Never install both:
they overwrite each other's files.

Stored fields are what a hit needs (id, kind, themes) and what the highlighter needs (the three
texts). Stored text is a copy of a child's words, so removal must rewrite segments: see
``search.index.remove_artefact``.
"""

from __future__ import annotations

from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.lang.porter2 import stem as porter2_stem

# Bump when the fields or analysis change: an index written by an older version is then reported
# as stale (searches say so) and the worker rebuilds it on its next index job; ``chorus reindex``
# rebuilds it at once. See ``search.index.index_status``.
SCHEMA_VERSION = 3

TEXT_FIELDS = ("title", "story", "transcript", "ocr")
FACET_FIELDS = ("themes", "polarity", "kind", "age_band", "area", "place_type")

# Porter2 leaves "bus" alone but turns "buses" into "buse", so a child writing about the bus and
# an analyst searching "buses" would miss each other; transport comes up constantly in these
# voices. Words whose plural English spelling cannot be told apart by rule go here.
_IRREGULAR_STEMS = {
    "buses": "bus",
    "busses": "bus",
    "bused": "bus",
    "bussed": "bus",
    "busing": "bus",
    "bussing": "bus",
    "gases": "gas",
}


def stem_word(word: str) -> str:
    """English stem; the index pickles this function by name, so renaming it needs a reindex."""
    return _IRREGULAR_STEMS.get(word) or porter2_stem(word)


def english_analyzer():
    # No stop list: removing "when I'm in a" from "school when I'm in a uniform" closed the gap
    # (positions are renumbered), so the phrase "school uniform" matched it; and a phrase with a
    # stop word in it ("safe place to play") could not be searched as written. Every word keeps
    # its real position, as in the SQLite FTS5 reference the benchmark compares against.
    return StemmingAnalyzer(stemfn=stem_word, stoplist=None)


def build_schema() -> Schema:
    text = english_analyzer()
    return Schema(
        id=ID(unique=True, stored=True),
        programme=ID,
        session=ID(stored=True),
        kind=ID(stored=True),
        age_band=ID(stored=True),
        area=ID(stored=True),
        place=ID,
        place_type=ID(stored=True),
        # Accepted and suggested tags; "theme_polarity" pairs them ("housing:barrier") so a
        # search for housing barriers does not match an item that names housing as an asset
        # and something else as a barrier. "theme_source" records who tagged it ("housing:model").
        themes=KEYWORD(commas=True, lowercase=True, stored=True),
        polarity=KEYWORD(commas=True, lowercase=True),
        theme_polarity=KEYWORD(commas=True, lowercase=True),
        theme_source=KEYWORD(commas=True, lowercase=True),
        title=TEXT(analyzer=text, stored=True),
        story=TEXT(analyzer=text, stored=True),
        transcript=TEXT(analyzer=text, stored=True),
        ocr=TEXT(analyzer=text, stored=True),  # words read from a drawing or photo
        # [[start, end, text], ...] so a transcript hit can name the moment it matched.
        segments=STORED,
        consent_level=NUMERIC(int, stored=True),
        reviewed=BOOLEAN,
        ready=BOOLEAN,
        created=DATETIME(sortable=True),
    )


SCHEMA = build_schema()

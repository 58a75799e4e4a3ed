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
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.lang.porter2 import stem as porter2_stem

TEXT_FIELDS = ("title", "story", "transcript")
FACET_FIELDS = ("themes", "kind", "age_band", "area")

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
    return StemmingAnalyzer(stemfn=stem_word)


def build_schema() -> Schema:
    text = english_analyzer()
    return Schema(
        id=ID(unique=True, stored=True),
        programme=ID,
        session=ID,
        kind=ID(stored=True),
        age_band=ID,
        area=ID,
        place=ID,
        themes=KEYWORD(commas=True, lowercase=True, stored=True),
        title=TEXT(analyzer=text, stored=True),
        story=TEXT(analyzer=text, stored=True),
        transcript=TEXT(analyzer=text, stored=True),
        consent_level=NUMERIC(int, stored=True),
        reviewed=BOOLEAN,
        ready=BOOLEAN,
        created=DATETIME,
    )


SCHEMA = build_schema()

"""Which moment of a recording a transcript hit points at: the segment with the most matched words."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Callable

from whoosh.analysis.tokenizers import default_pattern

from .schema import english_analyzer, stem_word


@lru_cache(maxsize=1)
def _analyzer():
    return english_analyzer()


_stem = lru_cache(maxsize=50_000)(stem_word)


def stems(text: str) -> list[str]:
    """The indexed form of `text`'s words: what ``english_analyzer`` gives, without its token objects.

    The analyzer is a tokenizer, a lower-case filter and the stemmer; doing the same three steps
    directly is several times faster, and every search runs this on each hit's transcript
    segments. ``tests/test_search_engine.py`` checks the two agree.
    """
    return [_stem(match.group().lower()) for match in default_pattern.finditer(text)]


def load_segments(stored) -> list[list]:
    if not stored:
        return []
    try:
        value = json.loads(stored) if isinstance(stored, str) else stored
    except ValueError:
        return []
    return [s for s in value if isinstance(s, (list, tuple)) and len(s) == 3]


def best_segment(stored, matches: Callable[[str], bool]) -> tuple[float, float] | None:
    """(start, end) of the segment whose words `matches` most often; the earliest wins a tie."""
    best, best_count = None, 0
    for start, end, text in load_segments(stored):
        count = sum(1 for stem in stems(text) if matches(stem))
        if count > best_count:
            best, best_count = (float(start), float(end)), count
    return best

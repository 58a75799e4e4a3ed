"""Which moment of a recording a transcript hit points at: the segment with the most matched words."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Callable

from .schema import english_analyzer


@lru_cache(maxsize=1)
def _analyzer():
    return english_analyzer()


def stems(text: str) -> list[str]:
    """The indexed form of `text`'s words (lower case, stop words out, English stems)."""
    return [token.text for token in _analyzer()(text)]


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

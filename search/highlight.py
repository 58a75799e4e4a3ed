"""Highlighted snippets from stored text and a word test, for backends without Whoosh's own hit objects.

Same analyzer, fragmenter and ``<mark>`` formatter as the Whoosh backend, so both backends mark
the same words the same way.
"""

from __future__ import annotations

import html
from typing import Callable

from whoosh import highlight

from .segments import _analyzer

SNIPPET_CHARS = 200
SNIPPET_ORDER = ("story", "transcript", "ocr", "title")


class MarkFormatter(highlight.HtmlFormatter):
    """Plain ``<mark>`` around matches; the text around them is escaped by HtmlFormatter."""

    def __init__(self):
        super().__init__(tagname="mark", between=" … ")

    def format_token(self, text, token, replace=False):
        return f"<mark>{self._text(highlight.get_text(text, token, replace))}</mark>"


def fragmenter():
    return highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)


def marked(text: str, matches: Callable[[str], bool], top: int = 2) -> str:
    """`text` cut to its best fragments with matching words in ``<mark>``; "" when none match."""
    if not text:
        return ""

    def flagged():
        for token in _analyzer()(text, chars=True, mode="query", removestops=False):
            token.matched = matches(token.text)
            yield token

    fragments = fragmenter().fragment_tokens(text, flagged())
    best = highlight.top_fragments(fragments, top, highlight.BasicFragmentScorer(), highlight.FIRST)
    for fragment in best:
        _keep_labels_whole(text, fragment)
    return MarkFormatter()(text, best) if best else ""


def _keep_labels_whole(text: str, fragment) -> None:
    # A redacted word reads "[name]"; the tokenizer sees only "name", so a fragment starting or
    # ending there would show "name] ..." or "... [name", which reads as a broken sentence.
    if fragment.startchar > 0 and text[fragment.startchar - 1] == "[":
        fragment.startchar -= 1
    if fragment.endchar < len(text) and text[fragment.endchar] == "]":
        fragment.endchar += 1


def plain_snippet(texts: dict[str, str]) -> str:
    """The start of the first text there is, escaped: for hits that matched no words (filters only)."""
    for name in SNIPPET_ORDER:
        text = (texts.get(name) or "").strip()
        if text:
            cut = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
            return html.escape(cut, quote=False)
    return ""

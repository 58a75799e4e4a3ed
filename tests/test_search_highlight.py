"""Snippets: matched words marked, text escaped, redaction labels never cut in half."""

from __future__ import annotations

import pytest

from search.highlight import marked, plain_snippet


def test_matched_words_are_marked_and_the_rest_escaped():
    out = marked("The bus <never> comes & the buses are late", {"bus"}.__contains__)
    assert out.count("<mark>") == 2
    assert "&lt;never&gt;" in out and "&amp;" in out


@pytest.mark.parametrize("before", range(0, 90, 3))
def test_a_snippet_never_starts_or_ends_inside_a_redaction_label(before):
    text = "x " * before + "[name] said the bus " + "blah " * 60 + " [school] bus stop " + "z " * 50
    out = marked(text, {"bus"}.__contains__)
    assert out
    for label in ("name", "school"):
        assert out.count(label) == out.count(f"[{label}]"), out


def test_no_match_gives_nothing_and_the_plain_snippet_is_escaped_and_cut():
    assert marked("nothing here", {"bus"}.__contains__) == ""
    long = "<b>" + "word " * 100
    out = plain_snippet({"story": long})
    assert out.startswith("&lt;b&gt;") and out.endswith(" …") and len(out) < 220

"""The numpy search engine against Whoosh's own matchers, on an index written straight through Whoosh.

``search.engine`` reads the codec's posting blocks and recomputes BM25F itself; these tests
hold it to Whoosh's answers (documents matched, and scores) across several segments, deleted
documents, multi-block posting lists, phrases with slop, prefixes and fuzzy words, so a change
in Whoosh's on-disk layout or scoring shows up here and not as wrong search results.
"""

from __future__ import annotations

import math
import random
import threading
from datetime import datetime, timedelta

import numpy as np
import pytest

from search import readers
from search.engine import PostingCache, SegmentEvaluator, VisibleStats
from search.index import open_index
from search.postings import read_postings
from search.schema import TEXT_FIELDS, english_analyzer
from search.segments import stems
from search.query import parse_user_query

WORDS = ("school bus money park damp flat mould free meals uniform stop leisure centre lonely "
         "football library doctor food mum dad nan buses schools parks walking walked bullied").split()


def _document(i: int, rng: random.Random) -> dict:
    def words(n):
        return " ".join(rng.choice(WORDS) for _ in range(n))

    doc = {
        "id": f"doc-{i}",
        "programme": str(1 + i % 3),
        "kind": rng.choice(["photo", "voice_note", "drawing"]),
        "age_band": rng.choice(["0-5", "5-11", "11-15"]),
        "area": f"WD0{i % 4}",
        "themes": ",".join(sorted(rng.sample(["housing", "transport", "money", "food"], rng.randint(1, 2)))),
        "polarity": rng.choice(["barrier", "asset"]),
        "title": words(rng.randint(1, 4)),
        "story": words(rng.randint(0, 60)),
        "consent_level": rng.randint(0, 3),
        "ready": rng.random() < 0.8,
        "reviewed": rng.random() < 0.7,
        "created": datetime(2025, 1, 1) + timedelta(hours=i),
    }
    if i % 3 == 0:
        doc["transcript"] = words(rng.randint(5, 120))
    return {k: v for k, v in doc.items() if v != ""}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """About 700 documents in three segments, some of them deleted."""
    folder = tmp_path_factory.mktemp("engine") / "index"
    ix = open_index(folder)
    rng = random.Random(11)
    for start in (0, 400, 650):
        writer = ix.writer()
        for i in range(start, start + (400 if start == 0 else 250 if start == 400 else 50)):
            writer.add_document(**_document(i, rng))
        writer.commit(merge=False)
    writer = ix.writer()
    for i in range(0, 700, 9):
        writer.delete_by_term("id", f"doc-{i}")
    writer.commit(merge=False)
    return folder


@pytest.fixture()
def view(index_dir):
    with readers.open_view(index_dir) as found:
        assert len(found.segments) == 3
        assert sum(int((~segment.live).sum()) for segment, _ in found.segments) > 0
        yield found


def _live_stats(view, cache=None) -> VisibleStats:
    return VisibleStats([(segment, segment.live, data.lengths) for segment, data in view.segments],
                        cache or PostingCache())


def _whoosh_scores(searcher, q, stats: VisibleStats) -> dict[int, float]:
    """Whoosh's own matching and BM25F scorer, given the engine's collection statistics."""
    searcher.idf = lambda name, text: stats.idf(name, text.decode() if isinstance(text, bytes) else text)
    searcher.avg_field_length = lambda name, default=None: stats.average_length(name)
    try:
        results = searcher.search(q, limit=None)
        return {hit.docnum: hit.score for hit in results}
    finally:
        del searcher.idf, searcher.avg_field_length


def _evaluator(view, segment, data, within, cache=None) -> SegmentEvaluator:
    cache = cache or PostingCache()
    return SegmentEvaluator(view.searcher, segment, within, data.lengths, cache, _live_stats(view, cache))


def _engine_scores(view, q) -> dict[int, float]:
    cache = PostingCache()
    out = {}
    for segment, data in view.segments:
        evaluation = _evaluator(view, segment, data, segment.live, cache).evaluate(q)
        matched = evaluation.scored.matched & segment.live
        for local in np.flatnonzero(matched):
            out[int(local) + segment.offset] = float(evaluation.scored.score[local])
    return out


def test_decoded_postings_equal_whooshs_matcher_for_every_term(view):
    checked = 0
    for segment, _ in view.segments:
        reader = segment.searcher.reader()
        for name in ("story", "transcript", "themes", "area", "consent_level"):
            for btext in reader.lexicon(name):
                matcher = reader.postings(name, btext)  # skips deleted documents
                ids, weights = [], []
                while matcher.is_active():
                    ids.append(matcher.id())
                    weights.append(matcher.weight())
                    matcher.next()
                decoded = read_postings(reader, name, btext)  # keeps them: searches mask them out
                live = segment.live[decoded.ids]
                assert decoded.ids[live].tolist() == ids, (name, btext)
                assert decoded.weights[live].tolist() == pytest.approx(weights), (name, btext)
                assert all(reader.is_deleted(int(d)) for d in decoded.ids[~live])
                checked += 1
    assert checked > 100
    # The first segment's common words span several 128-posting blocks.
    first = view.segments[0][0].searcher.reader()
    assert max(len(read_postings(first, "story", w)) for w in WORDS) > 128


def test_missing_terms_and_fields_have_no_postings(view):
    reader = view.segments[0][0].searcher.reader()
    assert len(read_postings(reader, "story", "zebra")) == 0


@pytest.mark.parametrize("text", [
    "school", "bus money", "school OR park", "school NOT bus", "(bus money)^2 park", "title:park",
    "theme:housing", "mould AND (damp OR flat)", "school ANDMAYBE bus", "meals^3 OR lonely",
    "bus*", "schoo*", "park~", "bulied~1", "mould~2", "bus* school", "title:park~", "school REQUIRE bus",
])
def test_matches_and_scores_equal_whooshs(view, text):
    q = parse_user_query(text)
    expected = _whoosh_scores(view.searcher, q, _live_stats(view))
    got = _engine_scores(view, q)
    assert expected, f"{text!r} should match something in the test index"
    assert set(got) == set(expected)
    for docnum, score in expected.items():
        assert got[docnum] == pytest.approx(score, rel=1e-6), (text, docnum)


@pytest.mark.parametrize("text", ['"free meals"', '"bus stop"', '"school bus money"', '"damp flat"~3', '"mum dad"~2'])
def test_phrases_match_what_whoosh_matches(view, text):
    q = parse_user_query(text)
    expected = set(view.searcher.docs_for_query(q))
    assert expected, f"{text!r} should match something in the test index"
    assert set(_engine_scores(view, q)) == expected


def test_phrase_checks_only_documents_inside_the_mask(view):
    q = parse_user_query('"free meals"')
    segment, data = view.segments[0]
    nobody = np.zeros(len(segment.live), dtype=bool)
    evaluation = _evaluator(view, segment, data, nobody).evaluate(q)
    assert not evaluation.scored.matched.any()
    assert evaluation.words == {name: {"free", "meal"} for name in TEXT_FIELDS}


def test_words_under_not_are_not_marked(view):
    segment, data = view.segments[0]
    q = parse_user_query("school NOT bus")
    evaluation = _evaluator(view, segment, data, segment.live).evaluate(q)
    assert all(words == {"school"} for words in evaluation.words.values())


def test_statistics_count_only_the_documents_that_may_be_found(view):
    """idf and average length from the findable documents alone, counted here document by document."""
    half = [(segment, segment.live & (np.arange(len(segment.live)) % 2 == 0), data.lengths)
            for segment, data in view.segments]
    stats = VisibleStats(half, PostingCache())
    findable = [(segment.searcher.reader(), mask) for segment, mask, _ in half]
    count = sum(int(mask.sum()) for _, mask in findable)
    assert stats.count == count
    for word in ("school", "meals", "bullied"):
        df = sum(1 for reader, mask in findable for d in np.flatnonzero(mask)
                 if word in stems(reader.stored_fields(int(d)).get("story", "")))
        assert stats.idf("story", word) == pytest.approx(math.log(count / (df + 1)) + 1)
    lengths = [reader.doc_field_length(int(d), "story", 0) or 0 for reader, mask in findable for d in np.flatnonzero(mask)]
    assert stats.average_length("story") == pytest.approx(sum(lengths) / count)


def test_segment_arrays_match_the_stored_documents(view):
    for segment, data in view.segments:
        reader = segment.searcher.reader()
        for local in range(0, data.size, 13):
            stored = reader.stored_fields(local)
            assert data.consent_level[local] == stored["consent_level"]
            kind = data.single["kind"]
            assert kind.values[kind.codes[local]] == stored["kind"]
            themes = {t for t, ids in data.multi["themes"].items() if local in set(ids.tolist())}
            assert themes == set(stored["themes"].split(","))
            for name in TEXT_FIELDS:
                assert data.lengths[name][local] == (reader.doc_field_length(local, name, 0) or 0)


def test_stems_equal_the_index_analyzer():
    analyzer = english_analyzer()
    samples = ["The buses were LATE again, Mum's car broke.", "İstanbul ŞEHİR 3.14 e.g. co-op don't",
               "naïve café ½ x_y schools' playgrounds", "", "   ", "wheelchair-accessible lifts!!"]
    for text in samples:
        assert stems(text) == [token.text for token in analyzer(text)]


def test_threads_searching_at_once_get_the_same_answers(index_dir):
    q = parse_user_query("school bus")
    answers, errors = [], []

    def run():
        try:
            with readers.open_view(index_dir) as view:
                answers.append(sorted(_engine_scores(view, q).items()))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(answers) == 6 and all(answer == answers[0] for answer in answers)


def test_a_thread_sees_a_commit_made_after_it_first_searched(tmp_path):
    folder = tmp_path / "index"
    ix = open_index(folder)
    rng = random.Random(3)
    with ix.writer() as writer:
        writer.add_document(**_document(1, rng))
    with readers.open_view(folder) as first:
        assert first.searcher.doc_count() == 1
    with ix.writer() as writer:
        writer.add_document(**_document(2, rng))
        writer.delete_by_term("id", "doc-1")
    with readers.open_view(folder) as later:
        live_ids = [later.searcher.stored_fields(segment.offset + int(local))["id"]
                    for segment, _ in later.segments for local in np.flatnonzero(segment.live)]
    assert live_ids == ["doc-2"]


def test_searchers_left_idle_are_closed_and_reopened_on_the_next_search(tmp_path):
    folder = tmp_path / "index"
    ix = open_index(folder)
    with ix.writer() as writer:
        writer.add_document(**_document(1, random.Random(5)))
    with readers.open_view(folder) as view:
        searcher = view.searcher
        readers.release_idle()  # this thread is searching: its searcher must stay open
        assert not searcher.is_closed
    readers.release_idle()
    assert searcher.is_closed
    with readers.open_view(folder) as view:
        assert view.searcher is not searcher and view.searcher.doc_count() == 1

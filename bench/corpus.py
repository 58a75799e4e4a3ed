"""A reproducible synthetic corpus of children's and families' voices, written straight to the database.

    from bench.corpus import generate
    summary = generate(engine, n=100_000, seed=7)

Used by ``bench/search.py`` (and its test) to measure the search index on realistic text. Every
call with the same ``n`` and ``seed`` writes the same rows (ids included), on SQLite or PostgreSQL.

The language is built from what children and parents really said in the shipped material: the
example phrases of every theme framework in ``archive/frameworks/`` and the labelled lines in
``bench/data/theme_texts.jsonl``. Sentences are either one of those phrases as said, a walk over
their word pairs (a bigram chain, kept mostly within the item's themes, so word frequencies follow
the source's long-tailed, Zipf-like shape and themes go with their words), or a short template
filled with everyday nouns drawn with Zipf weights. Transcripts get spoken fillers ("um", "like")
and segment timings at a speaking pace; their length runs from a few seconds to several minutes.

What is real about each row: kinds, titles, stories, words on drawings, transcripts with
segments, theme tags with polarity, source and status (some rejected), participants with age
bands and areas, sessions with place types, three programmes, two years of dates, statuses
(some processing, failed or withdrawn) and the stored consent columns at every level. What is
not: there are no consent records behind the consent columns (``refresh_consent`` is never run
on this corpus) and no media files, because search reads neither.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from bisect import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from archive.frameworks import available_frameworks, load_framework
from archive.models import (
    AgeBand,
    Artefact,
    ArtefactKind,
    ArtefactStatus,
    ConsentLevel,
    ListeningSession,
    Participant,
    PlaceType,
    Polarity,
    Programme,
    TagSource,
    TagStatus,
    ThemeTag,
    Transcript,
    TranscriptSegment,
    TranscriptStatus,
)

THEME_TEXTS = Path(__file__).resolve().parent / "data" / "theme_texts.jsonl"
FRAMEWORK = "determinants"
PROGRAMMES = (("bench-north", "North listening"), ("bench-south", "South listening"), ("bench-east", "East listening"))
AREAS = tuple(f"WD{n:02d}" for n in range(1, 41))  # invented ward codes
WORDS_PER_SECOND = 2.4  # children and young people speaking to a phone, pauses included
START = datetime(2024, 1, 8, tzinfo=timezone.utc)
SPAN = timedelta(days=730)
BATCH = 2000  # rows a bulk insert sends at once

# Everyday things children name, beyond the source phrases: the long tail of rare words a real
# archive has (drawn with Zipf weights, so a few are common and most are rare).
EVERYDAY = (
    "trampoline scooter bike skatepark swings slide football netball rugby cricket basketball bmx "
    "allotment library leisure centre swimming baths canal towpath reservoir moor woods bandstand "
    "chippy takeaway corner shop supermarket market launderette pharmacy dentist optician clinic "
    "hospital surgery nursery playgroup creche childminder grandma grandad nana grandpa auntie uncle "
    "cousin stepdad stepmum brother sister twins baby puppy kitten hamster rabbit goldfish budgie "
    "tablet console headphones charger wifi data trainers hoodie uniform blazer tie backpack lunchbox "
    "cereal toast noodles pasta pizza sandwiches crisps apples bananas yoghurt porridge beans nuggets "
    "radiator boiler window curtains carpet mattress bunkbed wardrobe kitchen bathroom garden balcony "
    "stairs lift landlord caretaker neighbour estate flats terrace cul-de-sac alleyway underpass "
    "footbridge crossing roundabout lamppost streetlight graffiti litter potholes pavement puddles "
    "train tram taxi bus-stop timetable ticket fare driver rain snow wind sunshine fog ice dark "
    "weekend holiday birthday christmas eid diwali halloween bonfire fireworks fair carnival festival "
    "homework spelling maths science reading assembly playtime dinnertime detention exclusion "
    "counsellor mentor teacher assistant head coach referee youth-worker volunteer nurse doctor"
).split()
FILLERS = ("um", "like", "you know", "erm", "and then", "I dunno", "basically", "so yeah", "kind of")
OPENERS = ("I think", "Sometimes", "Every day", "At the weekend", "After school", "When it rains",
           "My favourite thing is", "The worst thing is", "In the holidays", "At night")
TEMPLATES = (
    "{opener} we go to the {a} with my {b}",
    "{opener} the {a} is too far and there's no {b}",
    "I like the {a} because my {b} comes too",
    "There isn't a {a} near us so we use the {b}",
    "{opener} I help with the {a} and the {b}",
    "We haven't got a {a} so I share my {b}",
    "The {a} by ours is nice but the {b} is broken",
    "My {a} takes me to the {b} on Saturdays",
)
TITLES = ("My {a}", "The {a}", "Our {a}", "{a} and {b}", "Where I go", "What I like", "What I'd change",
          "This is my {a}", "Going to the {a}", "Me and my {b}", "Untitled")

# Mixes, each a (value, weight) list: what a council listening programme collects over two years.
KINDS = ((ArtefactKind.PHOTO, 34), (ArtefactKind.DRAWING, 15), (ArtefactKind.VOICE_NOTE, 26),
         (ArtefactKind.VIDEO_DIARY, 10), (ArtefactKind.TEXT_STORY, 15))
STATUSES = ((ArtefactStatus.READY, 89), (ArtefactStatus.PROCESSING, 4), (ArtefactStatus.FAILED, 2),
            (ArtefactStatus.WITHDRAWN, 5))
LEVELS = ((ConsentLevel.NONE, 8), (ConsentLevel.TEAM, 37), (ConsentLevel.REPORT, 35), (ConsentLevel.EXHIBIT, 20))
AGE_BANDS = ((AgeBand.FAMILY_0_5, 18), (AgeBand.AGE_5_11, 32), (AgeBand.AGE_11_15, 28),
             (AgeBand.AGE_16_19, 15), (AgeBand.AGE_20_25_SEND, 7))
PLACES = ((PlaceType.SCHOOL, 40), (PlaceType.FAMILY_HUB, 15), (PlaceType.YOUTH_CLUB, 15),
          (PlaceType.COMMUNITY, 15), (PlaceType.HOME, 5), (PlaceType.ONLINE, 7), (PlaceType.OTHER, 3))
POLARITIES = ((Polarity.BARRIER, 55), (Polarity.ASSET, 35), (Polarity.NEUTRAL, 10))
TAG_SOURCES = ((TagSource.MODEL, 70), (TagSource.PARTICIPANT, 15), (TagSource.FACILITATOR, 15))
TAG_STATUSES = ((TagStatus.SUGGESTED, 50), (TagStatus.ACCEPTED, 40), (TagStatus.REJECTED, 10))
TRANSCRIPT_STATUSES = ((TranscriptStatus.APPROVED, 60), (TranscriptStatus.READY_FOR_CHECK, 35),
                       (TranscriptStatus.DRAFT, 5))

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|£?\d+")


def zipf_weights(n: int, s: float = 1.07) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


class Choice:
    """Weighted choice with precomputed cumulative weights: millions of draws must stay cheap."""

    def __init__(self, values: Iterable, weights: Iterable[float]):
        self.values = list(values)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    @classmethod
    def of(cls, pairs) -> "Choice":
        return cls([v for v, _ in pairs], [w for _, w in pairs])

    def __call__(self, rng: random.Random):
        return self.values[bisect(self.cum, rng.random() * self.total)]


@dataclass(frozen=True)
class Phrase:
    text: str
    themes: tuple[str, ...]
    speaker: str


def source_phrases() -> list[Phrase]:
    """Every labelled phrase shipped with the code, with its determinants themes."""
    phrases = []
    for code in sorted(available_frameworks()):
        framework = load_framework(code)
        for theme in framework.themes:
            for example in theme.examples:
                # Only the determinants codes become tags; the other frameworks' phrases still add words.
                themes = (theme.code,) if code == FRAMEWORK else ()
                phrases.append(Phrase(example.text, themes, example.speaker))
    for line in THEME_TEXTS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            phrases.append(Phrase(row["text"], tuple(label["theme"] for label in row["labels"]), row["speaker"]))
    return phrases


class Language:
    """Sentence maker trained on the source phrases; deterministic for a given random generator."""

    END = "\n"

    def __init__(self, phrases: list[Phrase]):
        self.themes = sorted({t for p in phrases for t in p.themes})
        self.phrases_by_theme: dict[str, list[str]] = defaultdict(list)
        pairs: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        starts: dict[str, Counter] = defaultdict(Counter)
        for phrase in phrases:
            words = _WORD.findall(phrase.text)
            if not words:
                continue
            for theme in phrase.themes or ("",):
                if theme:
                    self.phrases_by_theme[theme].append(phrase.text)
                for key in {theme, ""}:  # "" is the whole corpus, for leaving a theme's vocabulary
                    starts[key][words[0]] += 1
                    for a, b in zip(words, words[1:] + [self.END]):
                        pairs[key][a.lower()][b] += 1
        self.starts = {key: self._choice(counter) for key, counter in starts.items()}
        self.pairs = {key: {w: self._choice(c) for w, c in table.items()} for key, table in pairs.items()}
        everyday = list(EVERYDAY)
        random.Random(0).shuffle(everyday)  # which everyday words are common is fixed, not alphabetical
        self.everyday = Choice(everyday, zipf_weights(len(everyday)))

    @staticmethod
    def _choice(counter: Counter) -> Choice:
        items = sorted(counter.items())
        return Choice([k for k, _ in items], [v for _, v in items])

    def _walk(self, rng: random.Random, theme: str) -> list[str]:
        key = theme if theme in self.starts else ""
        word = self.starts[key](rng)
        out = [word]
        while len(out) < 28:
            table = self.pairs[key] if rng.random() < 0.8 else self.pairs[""]
            nxt = table.get(word.lower()) or self.pairs[""].get(word.lower())
            if nxt is None:
                break
            word = nxt(rng)
            if word == self.END:
                if len(out) >= 4:
                    break
                word = self.starts[key](rng)  # too short to be a sentence: carry on with another
            out.append(word)
        return out

    def _template(self, rng: random.Random) -> list[str]:
        template = TEMPLATES[rng.randrange(len(TEMPLATES))]
        return template.format(opener=OPENERS[rng.randrange(len(OPENERS))], a=self.everyday(rng),
                               b=self.everyday(rng)).split()

    def sentence(self, rng: random.Random, themes: tuple[str, ...]) -> list[str]:
        theme = themes[rng.randrange(len(themes))] if themes and rng.random() < 0.85 else ""
        roll = rng.random()
        if roll < 0.2 and theme:
            said = self.phrases_by_theme[theme]
            return said[rng.randrange(len(said))].split()
        if roll < 0.82:
            return self._walk(rng, theme)
        return self._template(rng)

    def text(self, rng: random.Random, themes: tuple[str, ...], words: int, *, spoken: bool = False) -> list[str]:
        """Sentences (as lists of words) adding up to about `words` words."""
        sentences, count = [], 0
        while count < words:
            sentence = self.sentence(rng, themes)
            if spoken and rng.random() < 0.35:
                filler = FILLERS[rng.randrange(len(FILLERS))].split()
                at = rng.randrange(len(sentence) + 1)
                sentence = sentence[:at] + filler + sentence[at:]
            sentences.append(sentence)
            count += len(sentence)
        return sentences

    def title(self, rng: random.Random) -> str:
        return TITLES[rng.randrange(len(TITLES))].format(a=self.everyday(rng), b=self.everyday(rng)).capitalize()


def _written(sentences: list[list[str]]) -> str:
    return " ".join(" ".join(s).rstrip(".!?") + "." for s in sentences)


def _lognormal_int(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, int(rng.lognormvariate(0, sigma) * median)))


# ---- the corpus --------------------------------------------------------------------------------


@dataclass
class Summary:
    """What was written, and what a benchmark needs to ask questions of it."""

    n: int
    seed: int
    programme_ids: list[int]
    areas: tuple[str, ...] = AREAS
    themes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    words: int = 0  # words of title, story and transcript text, all items
    by_level: dict[str, int] = field(default_factory=dict)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _when(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(int(SPAN.total_seconds())))


class _Writer:
    """Buffers rows per table and sends them in executemany batches, parents before children."""

    ORDER = ("programme", "listening_session", "participant", "artefact", "transcript", "transcript_segment",
             "theme_tag")

    def __init__(self, conn):
        self.conn = conn
        self.buffers: dict[str, list[dict]] = defaultdict(list)
        self.counts: Counter = Counter()
        self.tables = {t.__tablename__: t.__table__ for t in
                       (Programme, ListeningSession, Participant, Artefact, Transcript, TranscriptSegment, ThemeTag)}

    def add(self, table: str, row: dict) -> None:
        self.buffers[table].append(row)
        if len(self.buffers[table]) >= BATCH and table == "artefact":
            self.flush()

    def flush(self) -> None:
        for name in self.ORDER:
            rows = self.buffers.pop(name, [])
            if rows:
                self.conn.execute(insert(self.tables[name]), rows)
                self.counts[name] += len(rows)


def generate(engine: Engine, n: int = 100_000, seed: int = 7) -> Summary:
    """Write `n` artefacts (and their programmes, sessions, people, tags, transcripts) into an empty,
    migrated database, in one transaction."""
    rng = random.Random(seed)
    language = Language(source_phrases())
    summary = Summary(n=n, seed=seed, programme_ids=[], themes=language.themes)
    kinds, statuses, levels = Choice.of(KINDS), Choice.of(STATUSES), Choice.of(LEVELS)
    age_bands, places, polarities = Choice.of(AGE_BANDS), Choice.of(PLACES), Choice.of(POLARITIES)
    tag_sources, tag_statuses = Choice.of(TAG_SOURCES), Choice.of(TAG_STATUSES)
    transcript_statuses = Choice.of(TRANSCRIPT_STATUSES)
    themes = Choice(language.themes, zipf_weights(len(language.themes), 0.8))
    areas = Choice(AREAS, zipf_weights(len(AREAS), 0.6))  # a few wards are heard far more than others
    by_level: Counter = Counter()
    with engine.begin() as conn:
        out = _Writer(conn)
        for pid, (code, name) in enumerate(PROGRAMMES, start=1):
            out.add("programme", {"id": pid, "code": code, "name": name, "framework": FRAMEWORK, "created_at": START})
            summary.programme_ids.append(pid)
        sessions = []
        for sid in range(1, max(4, n // 250) + 1):
            band = age_bands(rng) if rng.random() < 0.7 else None
            session = {"id": sid, "programme_id": (sid - 1) % len(PROGRAMMES) + 1, "name": f"Session {sid}",
                       "place_type": places(rng), "area_code": areas(rng), "age_band": band,
                       "join_code": f"B{seed % 1000:03d}{sid:07d}", "join_code_expires_at": START, "created_at": START}
            out.add("listening_session", session)
            sessions.append(session)
        participants = []
        for number in range(1, max(4, n // 8) + 1):
            session = sessions[rng.randrange(len(sessions))]
            participant = {"id": _uuid(rng), "programme_id": session["programme_id"], "session_id": session["id"],
                           "alias": f"Voice {number}", "age_band": session["age_band"] or age_bands(rng),
                           "area_code": session["area_code"] if rng.random() < 0.8 else areas(rng),
                           "send": rng.random() < 0.12, "created_at": START}
            out.add("participant", participant)
            participants.append(participant)
        # Some people share far more than others: pick who made each item with Zipf weights.
        makers = Choice(participants, zipf_weights(len(participants), 0.7))
        # Integer keys are set here, so children can refer to their parents before anything is inserted.
        transcript_ids, segment_ids, tag_ids = (iter(range(1, 10**9)) for _ in range(3))
        for _ in range(n):
            row, transcript, segments, tags, words = _artefact(
                rng, language, makers(rng), kinds, statuses, levels, places, themes, polarities,
                tag_sources, tag_statuses, transcript_statuses, transcript_ids, segment_ids, tag_ids)
            summary.words += words
            by_level[row["consent_level"].label if row["status"] != ArtefactStatus.WITHDRAWN else "withdrawn"] += 1
            out.add("artefact", row)
            if transcript:
                out.add("transcript", transcript)
                for segment in segments:
                    out.add("transcript_segment", segment)
            for tag in tags:
                out.add("theme_tag", tag)
        out.flush()
    summary.rows = dict(out.counts)
    summary.by_level = dict(sorted(by_level.items()))
    return summary


def _artefact(rng, language, participant, kinds, statuses, levels, places, themes, polarities, tag_sources,
              tag_statuses, transcript_statuses, transcript_ids, segment_ids, tag_ids):
    kind = kinds(rng)
    status = statuses(rng)
    created = _when(rng)
    chosen = tuple(sorted({themes(rng) for _ in range(_lognormal_int(rng, 1.6, 0.6, 1, 4))}))
    if rng.random() < 0.07:
        chosen = ()  # nothing tagged yet: a failed tagger, or an item still in the queue
    artefact_id = _uuid(rng)
    title = language.title(rng) if rng.random() < 0.8 else ""
    story, image_text, spoken = "", "", []
    if kind == ArtefactKind.TEXT_STORY:
        story = _written(language.text(rng, chosen, _lognormal_int(rng, 70, 0.9, 3, 900)))
    elif kind in (ArtefactKind.PHOTO, ArtefactKind.DRAWING):
        if rng.random() < 0.85:
            story = _written(language.text(rng, chosen, _lognormal_int(rng, 18, 0.9, 2, 160)))
        if kind == ArtefactKind.DRAWING and rng.random() < 0.4:
            image_text = "\n".join(" ".join(s[:4]) for s in language.text(rng, chosen, rng.randint(1, 6)))
    else:
        if rng.random() < 0.3:
            story = _written(language.text(rng, chosen, _lognormal_int(rng, 10, 0.6, 2, 40)))
        seconds = _lognormal_int(rng, 40 if kind == ArtefactKind.VOICE_NOTE else 75, 0.85, 3, 360)
        spoken = language.text(rng, chosen, int(seconds * WORDS_PER_SECOND), spoken=True)
    level = levels(rng)
    reviewed = status == ArtefactStatus.READY and rng.random() < 0.78
    withdrawn = status == ArtefactStatus.WITHDRAWN
    if withdrawn:  # a tombstone: content cleared by erasure, no consent left
        title, story, image_text, spoken, chosen, level, reviewed = "", "", "", [], (), ConsentLevel.NONE, False
    row = {
        "id": artefact_id, "programme_id": participant["programme_id"], "session_id": participant["session_id"],
        "participant_id": participant["id"], "kind": kind, "title": title, "story": story,
        "image_text": image_text, "place": places(rng).value if rng.random() < 0.5 else None, "status": status,
        "failure_reason": "failed: the file could not be read" if status == ArtefactStatus.FAILED else None,
        "consent_level": level, "consent_credit": level >= ConsentLevel.REPORT and rng.random() < 0.4,
        "consent_face": level >= ConsentLevel.REPORT and rng.random() < 0.3,
        "consent_voice": level >= ConsentLevel.REPORT and rng.random() < 0.5,
        "reviewed_at": created + timedelta(days=rng.randint(1, 30)) if reviewed else None,
        "withdrawn_at": created + timedelta(days=rng.randint(1, 60)) if withdrawn else None,
        "erased_at": created + timedelta(days=61) if withdrawn else None,
        "created_at": created, "updated_at": created + timedelta(days=rng.randint(0, 90)),
    }
    transcript, segments = None, []
    if spoken:
        transcript_id = next(transcript_ids)
        transcript = {"id": transcript_id, "artefact_id": artefact_id, "language": "en",
                      "duration": 0.0, "model_name": "base", "status": transcript_statuses(rng),
                      "created_at": created}
        at = 0.0
        for position, (sentence, length) in enumerate(_segments(rng, spoken)):
            end = at + length
            segments.append({"id": next(segment_ids), "transcript_id": transcript_id, "position": position,
                             "start": round(at, 2), "end": round(end, 2), "text": " ".join(sentence),
                             "confidence": round(rng.uniform(0.55, 0.99), 3)})
            at = end + rng.uniform(0.1, 0.9)
        transcript["duration"] = round(at, 2)
    tags = []
    for code in chosen:
        tags.append({"id": next(tag_ids), "artefact_id": artefact_id, "framework": FRAMEWORK, "theme": code,
                     "source": tag_sources(rng), "confidence": round(rng.uniform(0.3, 0.98), 3),
                     "polarity": polarities(rng), "status": tag_statuses(rng), "created_at": created})
    words = sum(len(s.split()) for s in (title, story, image_text)) + sum(len(s) for s in spoken)
    return row, transcript, segments, tags, words


def _segments(rng: random.Random, spoken: list[list[str]]) -> Iterator[tuple[list[str], float]]:
    """Whisper-like segments: a sentence or two each, timed at a speaking pace."""
    i = 0
    while i < len(spoken):
        take = spoken[i] + (spoken[i + 1] if i + 1 < len(spoken) and len(spoken[i]) < 8 else [])
        i += 2 if len(take) > len(spoken[i]) else 1
        yield take, len(take) / WORDS_PER_SECOND * rng.uniform(0.8, 1.25)

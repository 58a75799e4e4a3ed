"""Suggested theme tags for what a participant said, wrote or showed.

Three signals, combined per clause (see docs/theme-tagging.md for what each can and
cannot do, and bench/tagging.py for the measured figures):

1. **Meaning.** Each clause is embedded with a small sentence model (``ingest.embeddings``)
   and compared with the theme's anchors: its example phrases, description, label and
   child label. The theme's score is the mean of the ``top_k`` best cosine similarities,
   after both sides are centred on the framework's mean anchor, so the part every
   sentence about family life shares drops out and what tells themes apart remains.
2. **Everyday words.** A clause that uses a plain word for a theme ("skint", "landlord",
   "bus", "CAMHS") gains ``cue_weight``. The shipped determinants framework has a curated
   word list per theme; any other theme, including a programme's own, uses the words of
   its label and child label.
3. **The participant's own picks.** A theme the participant chose gains ``pick_weight``,
   the same as one everyday word: their choice counts as a clear signal, but it cannot
   make a tag out of a text that says nothing about the theme.

A theme is suggested when its best clause scores at least ``threshold`` and no more than
``margin`` below the text's best theme. Confidence is a logistic curve over the score,
fitted on the labelled set so that it reads as a probability. Polarity comes from the
evidence clause: how much closer it sits to barrier than to asset example phrases (of
the theme, and of all themes), plus plain negation and sentiment words.

Everything here except loading the embedder is a pure function of its inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from archive.frameworks import Framework, Theme, load_framework
from archive.models.enums import Polarity

from .embeddings import Embedder, get_embedder

__all__ = [
    "DEFAULT_PARAMS",
    "Analysis",
    "Params",
    "Suggestion",
    "Unit",
    "analyse",
    "clause_spans",
    "cue_words",
    "decide",
    "suggest_tags",
]


@dataclass(frozen=True)
class Params:
    """The knobs of the decision; the defaults were tuned on bench/data/theme_texts.jsonl."""

    top_k: int = 5
    cue_weight: float = 0.15
    pick_weight: float = 0.15
    threshold: float = 0.23
    margin: float = 0.10
    # Logistic calibration of a score to a confidence: 1 / (1 + exp(-slope * (score - centre))).
    calibration_slope: float = 14.0
    calibration_centre: float = 0.27
    # Polarity: weights of the theme margin, global margin and word cues; > 0 means barrier.
    polarity_theme: float = 0.0
    polarity_global: float = 1.0
    polarity_cues: float = 0.2


DEFAULT_PARAMS = Params()


@dataclass(frozen=True)
class Suggestion:
    theme: str
    label: str
    confidence: float
    polarity: Polarity
    evidence: str
    # Character offsets of the evidence in the text, or in the segment's text when
    # segment_index is set.
    evidence_start: int
    evidence_end: int
    segment_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "theme": self.theme,
            "label": self.label,
            "confidence": self.confidence,
            "polarity": self.polarity.value,
            "evidence": self.evidence,
            "evidence_start": self.evidence_start,
            "evidence_end": self.evidence_end,
            "segment_index": self.segment_index,
        }


@dataclass(frozen=True)
class Unit:
    """A stretch of the participant's words that is scored on its own."""

    text: str
    start: int
    end: int
    segment_index: int | None


# --- splitting into clauses -------------------------------------------------------------

# Children rarely punctuate, so line breaks count as sentence ends too.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n\s*")
# "my mum can't afford the bus so we walk": each side of a joining word can carry its
# own theme, so the joining word ends one clause and is left out of the next.
_CLAUSE_BREAK = re.compile(
    r"\s*[,;:]\s+|\s+[-–—]+\s+|\s+(?:and|but|so|because|cos|coz|cuz|'cause|cause|"
    r"though|although|when|or|which|plus)\s+",
    re.IGNORECASE,
)
_EDGE = " \t\r\n.,;:!?\"“”‘’'()[]-–—…*"
# Fewer words than this carry no theme of their own; the sentence around them still counts.
_MIN_CLAUSE_WORDS = 2
# Beyond this the whole text is no longer one thought, and the model would truncate it.
_MAX_WHOLE_WORDS = 60


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    spans, cursor = [], start
    for match in pattern.finditer(text, start, end):
        spans.append(_trim(text, cursor, match.start()))
        cursor = match.end()
    spans.append(_trim(text, cursor, end))
    return [(s, e) for s, e in spans if e > s]


def _words(text: str) -> int:
    return len(text.split())


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Offsets of the whole text (when short), each sentence and each clause, without repeats."""
    spans: list[tuple[int, int]] = []
    whole = _trim(text, 0, len(text))
    if whole[1] > whole[0] and _words(text) <= _MAX_WHOLE_WORDS:
        spans.append(whole)
    for sentence in _pieces(text, 0, len(text), _SENTENCE_BREAK):
        spans.append(sentence)
        clauses = _pieces(text, *sentence, _CLAUSE_BREAK)
        if len(clauses) > 1:
            spans.extend(c for c in clauses if _words(text[c[0] : c[1]]) >= _MIN_CLAUSE_WORDS)
    return list(dict.fromkeys(spans))


def _segment_text(segment: Any) -> str:
    return segment if isinstance(segment, str) else str(getattr(segment, "text", "") or "")


def units_of(text: str, segments: Sequence[Any] | None = None) -> list[Unit]:
    units = [Unit(text[s:e], s, e, None) for s, e in clause_spans(text or "")]
    for index, segment in enumerate(segments or ()):
        seg_text = _segment_text(segment)
        units.extend(Unit(seg_text[s:e], s, e, index) for s, e in clause_spans(seg_text))
    return units


# --- everyday words per theme -----------------------------------------------------------

# Words children, teenagers and parents use for each determinant, written from how people
# talk rather than from the test texts. Each must point at its theme on its own in most
# sentences: "mum" and "dad" are left out of family because nearly every child's story
# mentions them, "club" out of peers because breakfast club is about food.
_DETERMINANT_CUES: Mapping[str, str] = {
    "money": (
        r"money|afford|affordable|skint|brass|dosh|quid|£\d*|cash|fiver|tenner|pocket money|"
        r"pennies|payday|pay day|bills?|debts?|owe|owed|loan|loans|borrow|borrowed|borrowing|"
        r"overdraft|bailiffs?|benefits?|universal credit|child benefit|cost of living|"
        r"expensive|too dear|so dear|prices?|cost|costs|savings?|saving up|piggy bank|"
        r"money box|budget|wages?|hard up|credit union|baby bank|grant|bursary|vouchers?|"
        r"payments?|meter|minted"
    ),
    "living_conditions": (
        r"mould|mouldy|mold|damp|condensation|draughty|draught|drafty|freezing|freezin|"
        r"heating|radiators?|thin walls|share a (?:room|bed|bedroom)|"
        r"sharing a (?:room|bed|bedroom)|own (?:room|bedroom)|my (?:room|bedroom)|bedroom|"
        r"bunk beds?|overcrowded|cramped|no space|no room|settee|carpet|cosy|toasty|mice|"
        r"cockroach(?:es)?|washing machine|hot water|noisy neighbours|boiler"
    ),
    "housing": (
        r"landlord|landlady|rent|renting|evict|evicted|eviction|homeless|hostel|b&b|"
        r"bed and breakfast|temporary accommodation|council house|council flat|housing|"
        r"tenancy|tenant|sofa surfing|sofa-surfing|move house|moving house|moved house|"
        r"keep moving|had to move|new house|new flat|forever home|mortgage|repairs?|"
        r"chucked out|kicked out|refuge"
    ),
    "family": (
        r"family|families|mum and dad|parents|split up|divorce|divorced|separated|stepdad|"
        r"stepmum|step-dad|step-mum|stepbrother|stepsister|half-brother|half-sister|nan|nana|"
        r"nanna|gran|grandma|grandad|granddad|grandparents|auntie|aunty|uncle|cousins?|"
        r"brothers?|sisters?|siblings?|young carer|foster|in care|custody|our kid|husband|"
        r"wife|single mum|single dad|single parent"
    ),
    "peers": (
        r"friends?|mates?|bestie|bully|bullied|bullying|bullies|group chat|left out|"
        r"nobody plays|no one plays|nobody to play|no one to play|play with me|peer pressure|"
        r"popular|gang up|picked on|calls? me names|toddler group|baby group|playgroup|"
        r"mums group|dads group|parents group|scouts|brownies|guides|cadets|"
        r"nobody talks to me|no one talks to me|don't know anyone|don't know a single person"
    ),
    "education": (
        r"school|schools|teacher|teachers|class|classroom|lessons?|homework|reading|"
        r"spellings?|maths|phonics|exams?|gcses?|a levels?|sixth form|college|uni|university|"
        r"tutor|nursery|preschool|pre-school|reception class|senco|ehcp|excluded|exclusion|"
        r"isolation|detention|pru|timetable|coursework|learn|learning|learned|learnt|"
        r"(?<!of )course|dyslexic|dyslexia|adhd|autism|autistic|teaching assistant"
    ),
    "employment": (
        r"job|jobs|work|works|working|worked|shift|shifts|boss|manager|wage|wages|paid|hiring|"
        r"apprenticeship|apprentice|interview|cv|unemployed|redundant|redundancy|laid off|"
        r"sacked|fired|zero-hours|zero hours|job centre|jobcentre|career|when i grow up|"
        r"saturday job|part-time job|paper round|works nights|rota|childcare|factory|"
        r"warehouse|overtime|self-employed"
    ),
    "place": (
        r"park|parks|playground|swings|estate|area|round here|around here|neighbourhood|"
        r"street|library|community centre|youth centre|youth club|family hub|"
        r"children's centre|shops|litter|rubbish|bins|fly-tipping|graffiti|needles|dog poo|"
        r"pollution|fumes|woods|fields|canal|beach|green space|nothing to do|gangs?|dealing|"
        r"drugs|anti-social|police|boarded up|neighbours?|skate park|rec"
    ),
    "transport": (
        r"bus|buses|train|trains|tram|trams|taxi|taxis|car|cars|drive|driving|driver|lift|"
        r"lifts|walk to|walking to|bike|bikes|cycle|cycling|scooter|scooting|bus pass|"
        r"bus stop|station|journey|travel|fare|fares|pram|pushchair|buggy|crossing|lollipop|"
        r"road safety|pavement|metro|traffic"
    ),
    "food": (
        r"food|hungry|starving|eat|eating|ate|meal|meals|dinner|dinners|lunch|breakfast|tea|"
        r"supper|snacks?|fruit|veg|vegetables|cook|cooking|cooked|takeaway|chippy|chips|"
        r"food bank|foodbank|pantry|community fridge|free school meals|formula|milk|weaning|"
        r"healthy start|fussy eater|cupboards|fridge|bread|pasta|cereal|packed lunch|"
        r"sandwich(?:es)?"
    ),
    "physical_health": (
        r"ill|poorly|sick|illness|asthma|inhaler|eczema|allergy|allergies|diabetes|diabetic|"
        r"epilepsy|doctor|doctors|gp|dentist|dental|teeth|tooth|hospital|a&e|walk-in|clinic|"
        r"nurse|health visitor|jabs|vaccines?|injury|injured|"
        r"broke my (?:arm|leg|wrist|ankle)|broken (?:arm|leg|wrist|ankle)|pain|pains|cough|"
        r"coughing|chesty|chest infection|infection|tired|knackered|exhausted|sleep|asleep|"
        r"fitter|exercise|gym|swimming|go running|went running|started running|sport|sports|"
        r"healthy|weight|medicine|operation|wheelchair|disabled|disability|period pains|"
        r"periods"
    ),
    "mental_health": (
        r"sad|upset|cry|crying|cried|worry|worried|worries|worrying|anxious|anxiety|panic|"
        r"panic attacks|stress|stressed|stressful|depressed|depression|feel low|feeling low|"
        r"feel dead low|lonely|loneliness|scared|frightened|angry|really cross|get cross|"
        r"self-harm|self harm|self-harming|self harming|camhs|counsellor|counselling|therapy|"
        r"therapist|mental health|feel better|feel calm|calm|calmer|mood|overwhelmed|"
        r"wits' end|wits end|can't cope|kooth|mindfulness|feelings|postnatal|clears my head"
    ),
}
_DETERMINANTS = "determinants"

# Words of a label that say nothing about a theme on their own.
_LABEL_STOPWORDS = frozenset(
    "and the for with from into about your their our my me inside having getting being "
    "other others things life lives people who what where when how have has".split()
)


def cue_words(framework: Framework, theme: Theme) -> str | None:
    """The alternation of everyday words for a theme, or None when it has none."""
    if framework.code == _DETERMINANTS and not theme.custom and theme.code in _DETERMINANT_CUES:
        return _DETERMINANT_CUES[theme.code]
    words = {
        w
        for w in re.findall(r"[a-z][a-z'-]+", f"{theme.label} {theme.child_label}".lower())
        if len(w) >= 4 and w not in _LABEL_STOPWORDS
    }
    return "|".join(f"{re.escape(w)}s?" for w in sorted(words)) or None


def _cue_pattern(words: str | None) -> re.Pattern[str] | None:
    return re.compile(rf"(?<![\w£])(?:{words})(?!\w)") if words else None


def _normalise(text: str) -> str:
    # Same length as the input, so match offsets stay valid in the original text.
    return text.lower().replace("’", "'").replace("‘", "'")


# --- polarity words ---------------------------------------------------------------------

_NEGATORS = (
    r"not|no|never|nothing|nobody|none|nowhere|without|can't|cannot|couldn't|won't|wouldn't|"
    r"don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|hadn't|ain't|cant|dont|"
    r"wont|didnt|doesnt|isnt|aint|no one|hardly|barely"
)
_BARRIER_WORDS = (
    r"hate|hates|hated|hard|harder|scared|scary|worried|worry|worries|broken|skint|struggle|"
    r"struggling|stuck|lonely|sad|horrible|awful|bad|worse|worst|rubbish|freezing|damp|mould|"
    r"mouldy|hungry|starving|poorly|lost|left out|bullied|shut|closed down|gone up|too|"
    r"waiting|ages|late|cancelled|dear|expensive|tired|knackered|exhausted|stressed|upset|"
    r"angry|cry|crying|dangerous|unsafe|noisy|argue|arguing|shout|shouting|fighting|pain|"
    r"hurts|alone|boring|kicked out|chucked out|evicted|debt|owe|killing|nightmare|miss"
)
_ASSET_WORDS = (
    r"love|loves|loved|like|likes|enjoy|enjoys|best|great|brilliant|amazing|ace|sound|lovely|"
    r"good|better|happy|happier|helped|helps|helpful|support|supported|free|finally|kind|fun|"
    r"favourite|safe|warm|cosy|toasty|buzzing|saved|sorted|proud|easy|passed|thriving|"
    r"lifesaver|glad|calm|nice|friendly|comfy|fitter|stronger|excited|fixed"
)


def _word_pattern(words: str) -> re.Pattern[str]:
    # Apostrophes count as word characters here, so "can" never matches inside "can't".
    return re.compile(rf"(?<![\w'])(?:{words})(?![\w'])")


_NEGATOR_RE = _word_pattern(_NEGATORS)
_BARRIER_RE = _word_pattern(_BARRIER_WORDS)
_ASSET_RE = _word_pattern(_ASSET_WORDS)
# "don't like", "not very good": a negator this many words before an asset word turns it.
_NEGATION_REACH = 3


def cue_polarity(text: str) -> float:
    """From -1 (all asset words) to +1 (all barrier words and negations); 0 when none."""
    text = _normalise(text)
    negators = [m.start() for m in _NEGATOR_RE.finditer(text)]
    barrier = len(negators) + len(_BARRIER_RE.findall(text))
    asset = 0
    for match in _ASSET_RE.finditer(text):
        if any(0 < _words(text[n : match.start()]) <= _NEGATION_REACH for n in negators):
            barrier += 1
        else:
            asset += 1
    return (barrier - asset) / (barrier + asset + 1)


# --- the framework's anchors, embedded once ---------------------------------------------


@dataclass(frozen=True)
class ThemeIndex:
    framework: Framework
    anchors: np.ndarray  # centred, unit length, one row per anchor text
    owner: np.ndarray  # theme position of each anchor
    barrier: np.ndarray  # True for barrier example phrases
    asset: np.ndarray  # True for asset example phrases
    polarity_anchors: np.ndarray  # example phrases used for polarity across all themes
    polarity_barrier: np.ndarray
    centre: np.ndarray
    cues: tuple[re.Pattern[str] | None, ...]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.clip(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9, None)


def _anchor_texts(theme: Theme) -> list[tuple[str, str | None]]:
    texts = [(e.text, e.polarity) for e in theme.examples]
    texts += [(t, None) for t in (theme.description, theme.label, theme.child_label) if t]
    return texts


def _polarity_examples(framework: Framework) -> list[tuple[str, str]]:
    # Barrier and asset sound alike across themes ("can't get", "helped me"), so the
    # shipped determinants examples also judge the polarity of themes that have none.
    pool = list(framework.themes) + list(load_framework(_DETERMINANTS).themes)
    seen: dict[str, str] = {}
    for theme in pool:
        for example in theme.examples:
            seen.setdefault(example.text, example.polarity)
    return list(seen.items())


@lru_cache(maxsize=16)
def theme_index(framework: Framework, embedder: Embedder) -> ThemeIndex:
    """The framework's anchors embedded and centred; cached because it costs ~0.5 s."""
    rows = [(pos, text, pol) for pos, t in enumerate(framework.themes) for text, pol in _anchor_texts(t)]
    polarity = _polarity_examples(framework)
    # Most polarity phrases are anchors too; each distinct text is embedded once.
    texts = list(dict.fromkeys([text for _, text, _ in rows] + [text for text, _ in polarity]))
    where = {text: i for i, text in enumerate(texts)}
    raw = embedder.embed(texts)
    centre = raw[: len(rows)].mean(axis=0) if rows else raw.mean(axis=0)
    vectors = _unit_rows(raw - centre)
    return ThemeIndex(
        framework=framework,
        anchors=vectors[[where[text] for _, text, _ in rows]],
        owner=np.array([pos for pos, _, _ in rows]),
        barrier=np.array([pol == "barrier" for _, _, pol in rows]),
        asset=np.array([pol == "asset" for _, _, pol in rows]),
        polarity_anchors=vectors[[where[text] for text, _ in polarity]],
        polarity_barrier=np.array([p == "barrier" for _, p in polarity]),
        centre=centre,
        cues=tuple(_cue_pattern(cue_words(framework, t)) for t in framework.themes),
    )


# --- analysis: everything the decision needs, computed once -----------------------------


@dataclass(frozen=True)
class Analysis:
    index: ThemeIndex
    units: tuple[Unit, ...]
    similarity: np.ndarray  # units x anchors, centred cosine
    polarity_similarity: np.ndarray  # units x polarity anchors
    cues: np.ndarray  # units x themes, 1.0 where the unit uses a word for the theme
    cue_polarity: np.ndarray  # per unit, see cue_polarity()


def _cue_matrix(units: Sequence[Unit], patterns: Sequence[re.Pattern[str] | None]) -> np.ndarray:
    texts = [_normalise(u.text) for u in units]
    return np.array(
        [[1.0 if p is not None and p.search(t) else 0.0 for p in patterns] for t in texts],
        dtype=np.float32,
    ).reshape(len(units), len(patterns))


def analyse(
    text: str,
    framework: Framework,
    *,
    segments: Sequence[Any] | None = None,
    embedder: Embedder | None = None,
) -> Analysis:
    embedder = embedder or get_embedder()
    index = theme_index(framework, embedder)
    units = tuple(units_of(text, segments))
    vectors = _unit_rows(embedder.embed([u.text for u in units]) - index.centre) if units else (
        np.zeros((0, index.anchors.shape[1]), dtype=np.float32)
    )
    return Analysis(
        index=index,
        units=units,
        similarity=vectors @ index.anchors.T,
        polarity_similarity=vectors @ index.polarity_anchors.T,
        cues=_cue_matrix(units, index.cues),
        cue_polarity=np.array([cue_polarity(u.text) for u in units], dtype=np.float32),
    )


# --- decision ---------------------------------------------------------------------------


def _top_k_mean(similarity: np.ndarray, k: int) -> float | np.ndarray:
    if similarity.shape[-1] == 0:
        return np.zeros(similarity.shape[:-1])
    k = min(k, similarity.shape[-1])
    return np.sort(similarity, axis=-1)[..., ::-1][..., :k].mean(axis=-1)


def theme_scores(analysis: Analysis, params: Params) -> np.ndarray:
    """Units x themes: meaning score plus the everyday-word bonus."""
    index = analysis.index
    columns = [
        _top_k_mean(analysis.similarity[:, index.owner == pos], params.top_k)
        for pos in range(len(index.framework.themes))
    ]
    meaning = np.stack(columns, axis=1) if columns else np.zeros((len(analysis.units), 0))
    return meaning + params.cue_weight * analysis.cues


def _best_unit(column: np.ndarray, units: Sequence[Unit]) -> int:
    # Among equal scores the shortest unit is the most precise evidence.
    best = column.max()
    candidates = [i for i in range(len(units)) if column[i] >= best - 1e-6]
    return min(candidates, key=lambda i: units[i].end - units[i].start)


def _margin(similarity: np.ndarray, barrier: np.ndarray, asset: np.ndarray, k: int) -> float:
    if not barrier.any() or not asset.any():
        return 0.0
    return float(_top_k_mean(similarity[barrier], k) - _top_k_mean(similarity[asset], k))


def polarity_score(analysis: Analysis, unit: int, theme_pos: int, params: Params) -> float:
    """Above zero reads as a barrier, below as an asset."""
    index = analysis.index
    own = index.owner == theme_pos
    theme_margin = _margin(
        analysis.similarity[unit], own & index.barrier, own & index.asset, 3
    )
    global_margin = _margin(
        analysis.polarity_similarity[unit], index.polarity_barrier, ~index.polarity_barrier, 5
    )
    return (
        params.polarity_theme * theme_margin
        + params.polarity_global * global_margin
        + params.polarity_cues * float(analysis.cue_polarity[unit])
    )


def confidence(score: float, params: Params) -> float:
    value = 1.0 / (1.0 + np.exp(-params.calibration_slope * (score - params.calibration_centre)))
    return round(float(value), 3)


def _pick_positions(framework: Framework, picks: Iterable[str]) -> set[int]:
    codes = framework.codes
    return {codes.index(framework.theme(code).code) for code in picks}


def decide(
    analysis: Analysis, params: Params = DEFAULT_PARAMS, participant_themes: Iterable[str] = ()
) -> list[Suggestion]:
    """The suggestions for an analysed text, most confident first."""
    if not analysis.units:
        return []
    framework = analysis.index.framework
    scores = theme_scores(analysis, params)
    best_unit_scores = scores.max(axis=0)
    for pos in _pick_positions(framework, participant_themes):
        best_unit_scores[pos] += params.pick_weight
    ceiling = best_unit_scores.max()
    chosen = [
        pos
        for pos, score in enumerate(best_unit_scores)
        if score >= params.threshold and score >= ceiling - params.margin
    ]
    suggestions = [
        _suggestion(analysis, pos, float(best_unit_scores[pos]), scores[:, pos], params)
        for pos in chosen
    ]
    return sorted(suggestions, key=lambda s: (-s.confidence, s.theme))


def _suggestion(
    analysis: Analysis, pos: int, score: float, column: np.ndarray, params: Params
) -> Suggestion:
    theme = analysis.index.framework.themes[pos]
    unit_pos = _best_unit(column, analysis.units)
    unit = analysis.units[unit_pos]
    leaning = polarity_score(analysis, unit_pos, pos, params)
    return Suggestion(
        theme=theme.code,
        label=theme.label,
        confidence=confidence(score, params),
        polarity=Polarity.BARRIER if leaning > 0 else Polarity.ASSET,
        evidence=unit.text,
        evidence_start=unit.start,
        evidence_end=unit.end,
        segment_index=unit.segment_index,
    )


def suggest_tags(
    text: str,
    framework: Framework,
    *,
    participant_themes: Iterable[str] = (),
    segments: Sequence[Any] | None = None,
    embedder: Embedder | None = None,
    params: Params = DEFAULT_PARAMS,
) -> list[Suggestion]:
    """Suggested themes for a participant's words, most confident first.

    `text` is the participant's own story or caption, with any OCR text appended.
    `segments` are transcript segments (strings or objects with a ``text`` attribute);
    evidence found in one gives its ``segment_index`` and offsets within its text.
    `participant_themes` are theme codes the participant picked; an unknown code raises
    ``UnknownTheme``. Blank text and no segments give no suggestions.
    """
    picks = tuple(participant_themes)
    _pick_positions(framework, picks)
    if not (text or "").strip() and not any(_segment_text(s).strip() for s in segments or ()):
        return []
    analysis = analyse(text or "", framework, segments=segments, embedder=embedder)
    return decide(analysis, params, picks)

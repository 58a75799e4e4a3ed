"""Suggested theme tags for what a participant said, wrote or showed.

The text is cut into units: the whole text when short, each sentence, and each clause
between commas and joining words ("and", "so", "cos"). Every unit is scored against every
theme of the programme's framework with three signals (docs/theme-tagging.md says what
each can and cannot do; bench/tagging.py measures them):

1. **Meaning.** The unit is rewritten in plain words (``ingest.wording``: text-speak,
   slang and spelling slips), embedded with a small sentence model (``ingest.embeddings``)
   and compared with the theme's anchors: its example phrases, description, label and
   child label. The score is the mean of the ``top_k`` best cosine similarities, with
   both sides centred on the framework's mean anchor, so what every sentence about
   family life shares drops out and what tells the themes apart remains. A linear
   classifier fitted on the same anchors adds ``probe_weight`` times its reading.
2. **Everyday words.** A unit that uses a topic word for a theme ("skint", "landlord",
   "bus pass", "CAMHS") gains ``cue_weight``; a setting word ("after school", "at dinner",
   "my sister") gains a fraction of it, because such words often say only where, when or
   with whom. The shipped determinants framework has curated lists; any other theme,
   including a programme's own, uses the words of its label and child label.
3. **The participant's own picks.** A picked theme gains ``pick_weight``, a prior that
   lifts a theme the words lean towards without inventing one they do not.

A theme is suggested when some unit scores it at least ``threshold`` and either names it
with a topic word or comes within ``margin`` of that unit's best theme. Confidence is a
logistic curve over the score and its gap to the unit's best, fitted on the labelled set
so that it reads roughly as a probability. Polarity is read from the evidence unit and
its sentence: closeness to barrier rather than asset example phrases (of the theme and of
all themes), plus negation and sentiment words.

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
from .wording import Plainer

__all__ = [
    "DEFAULT_PARAMS",
    "Analysis",
    "Params",
    "Suggestion",
    "ThemeIndex",
    "Unit",
    "analyse",
    "clause_spans",
    "cue_polarity",
    "cue_words",
    "decide",
    "evidence_unit",
    "format_suggestions",
    "meaning_scores",
    "polarity_inputs",
    "polarity_weights",
    "score_units",
    "suggest_tags",
    "tag_record",
    "theme_index",
]


@dataclass(frozen=True)
class Params:
    """The knobs of the decision; the defaults come from ``python -m bench.tagging --tune``."""

    top_k: int = 8
    # Weight of the theme read by a linear classifier over the anchors (see ThemeIndex).
    probe_weight: float = 0.3
    cue_weight: float = 0.1
    # A setting word ("after school", "at dinner") counts this fraction of a topic word.
    setting_weight: float = 0.25
    # A participant's pick is a prior: +0.1 on the score is about +1.5 on the logit of the
    # calibrated confidence, i.e. the odds of the theme times ~4.6. It lifts a theme the text
    # already leans towards; it does not invent one the words do not resemble. No labelled
    # picks exist yet to fit this, so it is set, not tuned.
    pick_weight: float = 0.1
    threshold: float = 0.4
    margin: float = 0.02
    # Confidence = 1 / (1 + exp(-(slope * (score - centre) + gap * (score - unit best)))):
    # a theme well behind the best theme of its own clause is less likely to be meant.
    calibration_slope: float = 15.2
    calibration_centre: float = 0.457
    calibration_gap: float = 4.6
    # Polarity: weights of the theme margin, global margin and word cues; > 0 means barrier.
    polarity_theme: float = 0.0
    polarity_global: float = 0.5
    polarity_cues: float = 0.1
    # Weight of the evidence's surroundings (the whole text, or its sentence in a long
    # one): "got my GCSE results and I passed maths" is good news only in its second half.
    polarity_context: float = 0.5
    # Subtracted before the sign is read: the embedding margins lean towards barrier on
    # any mention of a hardship ("the foodbank sorted us out"), so zero is not neutral.
    polarity_bias: float = 0.04


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
        """The fields of the `chorus tag --json` contract; offsets stay on the object."""
        return {
            "theme": self.theme,
            "label": self.label,
            "confidence": self.confidence,
            "polarity": self.polarity.value,
            "evidence": self.evidence,
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
_JOINING_WORDS = r"and|but|so|because|cos|coz|cuz|'cause|cause|though|although|when|or|which|plus"
_CLAUSE_BREAK = re.compile(
    rf"(?:\s*[,;:]|\s+[-–—]+)\s+(?:(?:{_JOINING_WORDS})\s+)?|\s+(?:{_JOINING_WORDS})\s+",
    re.IGNORECASE,
)
_EDGE = " \t\r\n.,;:!?\"“”‘’'()[]-–—…*"
# Shorter pieces are mostly halves of "X and Y" ("the mum" in "the mum and baby unit")
# and carry no theme of their own; the sentence around them still counts.
_MIN_CLAUSE_WORDS = 3
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
# talk rather than from any test text. "Topic" words name the theme itself ("skint",
# "landlord", "bus pass"). "Setting" words often just say where or when something
# happened, or who was there ("after school", "at dinner", "my sister"), so they count for
# less. "mum" and "dad" are left out: nearly every child's story mentions them.
_DETERMINANT_CUES: Mapping[str, tuple[str, str]] = {
    "money": (
        r"penny|fork out|hardship|afloat|leccy|electric bill|gas bill|top up|topping up|"
        r"payment plan|debt advice|debt adviser|cheaper|cheap|second-hand|hand-me-downs|"
        r"charity shop|yellow sticker|reduced|lunch money|dinner money|"
        r"money|afford|affordable|skint|brassic|brass|dosh|quid|£\d*|cash|fiver|tenner|"
        r"pocket money|pennies|payday|pay day|bills?|debts?|in debt|owe|owed|loans?|borrow|"
        r"borrowed|borrowing|on tick|overdraft|bailiffs?|arrears|behind on|benefits?|"
        r"universal credit|child benefit|cost of living|cost-of-living|expensive|too dear|"
        r"so dear|prices?|savings?|saving up|save up|piggy bank|money box|budget|hard up|"
        r"strapped|breadline|credit union|baby bank|grant|bursary|vouchers?|minted|purse|"
        r"wallet|pawn|can't pay|cannot pay|pay for|paying for",
        r"cost|costs|pay|paid|payment|payments|meter|pounds|gone up|put up",
    ),
    "living_conditions": (
        r"hole in|pipes|storage heaters?|heaters?|cooker|microwave|dry the washing|"
        r"windows stream|too small|tiny house|small house|no garden|"
        r"mould|mouldy|mold|damp|condensation|dehumidifier|draughty|draught|drafty|freezing|"
        r"freezin|heating|radiators?|thin walls|overcrowded|cramped|no space|no room|"
        r"bunk beds?|share a (?:room|bed|bedroom)|sharing a (?:room|bed|bedroom)|"
        r"own (?:room|bedroom)|mice|rats in|cockroach(?:es)?|"
        r"washing machine|hot water|noisy neighbours|leaks?|leaking|drips|ceiling|"
        r"cosy|toasty",
        r"bedroom|my room|settee|sofa|carpet|boiler|windows?|cold|hot|telly|kitchen|"
        r"bathroom|peace and quiet|no peace",
    ),
    "housing": (
        r"section 21|no-fault eviction|priority|on the street|sleeping rough|rough sleeping|"
        r"find somewhere|somewhere to stay|social housing|housing swap|emergency accommodation|"
        r"landlord|landlady|letting agent|rent|renting|evict|evicted|eviction|notice to quit|"
        r"homeless|hostel|b&b|bed and breakfast|temporary accommodation|hotel room|"
        r"council house|council flat|housing|tenancy|tenant|sofa surfing|sofa-surfing|"
        r"move house|moving house|moved house|keep moving|had to move|have to leave|"
        r"forever home|mortgage|repairs?|chucked out|kicked out|refuge|bidding|"
        r"housing list|waiting list for a house|three-bed|two-bed|one-bed|foyer|"
        r"supported housing|leaving care|somewhere to live",
        r"new house|new flat|our house|our flat|moved|the list",
    ),
    "family": (
        r"don't live together|live together|in prison|dementia|eldest|youngest|"
        r"little brother|little sister|big brother|big sister|baby brother|baby sister|"
        r"just us two|just us|on my own with|lone parent|family time|film night|days out|"
        r"family|families|mum and dad|parents|split up|divorce|divorced|separated|"
        r"stepdad|stepmum|step-dad|step-mum|stepbrother|stepsister|half-brother|"
        r"half-sister|new fella|new boyfriend|new girlfriend|young carer|foster|in care|"
        r"custody|contact visits?|single mum|single dad|single parent|looking after my|"
        r"look after my|together as a family",
        r"nan|nana|nanna|nannan|gran|grandma|grandad|granddad|grandpa|grandparents|auntie|"
        r"aunty|uncle|cousins?|brothers?|sisters?|sister-in-law|brother-in-law|siblings?|"
        r"our kid|husband|wife|partner|daddy|mummy|bedtime story",
    ),
    "peers": (
        r"squad|slag me off|slagging|screenshot|sleepover|play date|playdate|hang out|"
        r"hanging out|hung round|fell out|falling out|knew each other|turned on me|"
        r"spoke to me|hold hands|pals?|meet new people|beavers|cubs|rainbows|"
        r"bully|bullied|bullying|bullies|group chat|left out|nobody plays|no one plays|"
        r"nobody to play|no one to play|play with me|peer pressure|"
        r"gang up|picked on|calls? me names|fake account|toddler group|baby group|"
        r"playgroup|rhyme time|stay and play|mums group|dads group|parents group|"
        r"support group|scouts|brownies|guides|cadets|nobody talks to me|"
        r"no one talks to me|don't know anyone|don't know a single person|isolating|"
        r"best buddies|best mates?|best friends?|bestie|made friends|make friends|"
        r"no friends|new friends?|other mums|other dads|other parents",
        r"friends?|mates?|buddies|the lads|everyone in my year|popular|team|other kids",
    ),
    "education": (
        r"headteacher|head teacher|assembly|certificate|top group|bottom group|"
        r"home educated|home schooled|supply teachers?|fell behind|catch up|"
        r"speech and language|first choice|school report|parents evening|special school|"
        r"learning support|nurture group|expelled|suspended|suspension|"
        r"teacher|teachers|classroom|lessons?|homework|spellings?|maths|phonics|"
        r"times tables|exams?|exam season|revise|revision|mocks|sats|gcses?|a levels?|"
        r"sixth form|uni|university|ucas|tutor|preschool|pre-school|reception class|"
        r"senco|ehcp|excluded|exclusion|isolation|detention|pru|part-time timetable|"
        r"coursework|dyslexic|dyslexia|teaching assistant|down a set|top set|"
        r"bottom set|funded place|funded hours|careers",
        r"school|schools|class|college|nursery|reading|read|learn|learning|learned|learnt|"
        r"(?<!of )course|adhd|autism|autistic|register|year \w+|miss \w+|sir",
    ),
    "employment": (
        r"firefighter|fireman|police officer|policeman|cleaner|cleaning job|labourer|"
        r"builder|plumber|electrician|sparky|mechanic|hairdresser|care worker|"
        r"shop assistant|cashier|waitress|waiter|bar work|delivery driver|lorry driver|chef|"
        r"army|soldier|postman|binman|employer|employed|employment|maternity leave|"
        r"paternity leave|neet|early starts|night shift|agency work|payslip|pay rise|"
        r"promotion|on the dole|signing on|building site|earn|earning|earned|"
        r"job|jobs|shift|shifts|boss|manager|wage|wages|hiring|apprenticeship|apprentice|"
        r"interview|cv|references|unemployed|redundant|redundancy|laid off|sacked|fired|"
        r"zero-hours|zero hours|job centre|jobcentre|career|when i grow up|when i'm bigger|"
        r"saturday job|weekend job|part-time job|paper round|works nights|on lates|"
        r"on nights|rota|cut my hours|overtime|self-employed|back to work|go back to work|"
        r"childcare",
        r"work|works|working|worked|paid|factory|warehouse|care home|office|apply|applied",
    ),
    "place": (
        r"leisure centre|swimming baths|community garden|allotments?|bookies|vape shops|"
        r"town centre|high street|bad name|outside the shop|corner shop|ice cream van|farm|"
        r"nature reserve|countryside|play out|playing out|streetlights|"
        r"playground|swings|estate|round here|around here|round our way|round ours|"
        r"our area|the area|this area|neighbourhood|community centre|youth centre|"
        r"youth club|youth hub|family hub|children's centre|litter|rubbish everywhere|"
        r"fly-tipping|graffiti|needles|dog poo|dog muck|pollution|fumes|green space|"
        r"nothing to do|gangs?|dealing|drugs|anti-social|boarded up|skate park|reputation|"
        r"rough area|broken glass|community|looks? out for each other",
        r"park|parks|street|road|library|shops|woods|fields|canal|beach|police|"
        r"neighbours?|rec|town|area",
    ),
    "transport": (
        r"walking bus|ferry|strike|rammed|step-free|dial-a-ride|cycle scheme|bike scheme|"
        r"bus|buses|bus pass|bus stop|train|trains|tram|trams|taxi|taxis|coach|metro|"
        r"lift to|lifts|driving lessons|learning to drive|provisional|moped|scooter|"
        r"scooting|bike|bikes|cycle|cycling|cycle path|travel sick|journey|fare|fares|"
        r"crossing|lollipop|road safety|pavement|footpath|miles away|walk miles|get a lift|"
        r"car broke down",
        r"car|cars|van|drive|driving|driver|lift|walk to|walks me to|walking to|travel|"
        r"station|pram|pushchair|buggy|traffic|get to|getting to|picks me up",
    ),
    "food": (
        r"pizza|food parcels?|hot meal|beige food|picky eater|fussy|hunger|"
        r"school dinners?|ready meals|free breakfast|"
        r"food|hungry|starving|meal|meals|food bank|foodbank|pantry|larder|"
        r"community fridge|free school meals|formula|weaning|healthy start|fussy eater|"
        r"cupboards|empty fridge|nothing to eat|nowt to eat|packed lunch|takeaway|"
        r"chippy|veg|vegetables|fruit|cook|cooking|cooked|recipes?|breakfast club|"
        r"energy drinks|crisps",
        r"eat|eating|ate|dinner|dinners|lunch|breakfast|tea|supper|snacks?|milk|bread|"
        r"pasta|cereal|chips|sandwich(?:es)?",
    ),
    "physical_health": (
        r"chickenpox|measles|flu|tonsillitis|ear infections?|sore throat|fits|seizures?|"
        r"ambulance|pharmacist|pharmacy|chemist|prescription|sprained|stitches|"
        r"bedwetting|wetting the bed|constipation|hay fever|migraine|headaches?|"
        r"tummy ache|bellyache|vomiting|throwing up|gymnastics|dance class|dancing|karate|"
        r"boxing|judo|trampolining|netball|cricket|tennis|cartwheels?|active|fitness|"
        r"swollen|crutches|shattered|worn out|"
        r"poorly|illness|asthma|inhaler|eczema|allergy|allergies|diabetes|diabetic|"
        r"epilepsy|doctor|doctors|gp|dentist|dental|teeth|tooth|hospital|a&e|walk-in|"
        r"clinic|health visitor|jabs|vaccines?|injury|injured|"
        r"broke my (?:arm|leg|wrist|ankle)|broken (?:arm|leg|wrist|ankle)|cough|"
        r"coughing|chesty|chest infection|infection|rash|fever|temperature|ears|eyes|"
        r"glasses|hearing|physio|operation|medicine|paracetamol|wheelchair|"
        r"disabled|disability|period pains|breastfeeding|fitter|exercise|gym|swimming|"
        r"go running|went running|started running|sport|sports|rugby|football club",
        r"ill|sick|nurse|pain|pains|hurts|tired|knackered|exhausted|sleep|asleep|healthy|"
        r"weight|periods",
    ),
    "mental_health": (
        r"nervous|shy|anger|frustrated|embarrassed|ashamed|confident|confidence|"
        r"self-esteem|wobbly inside|butterflies|switch off|all over the place|"
        r"saved my life|wellbeing|well-being|get dressed|get out of bed|low mood|"
        r"breakdown|suicidal|hopeless|grief|grieving|"
        r"sad|upset|cry|crying|cried|worry|worries|worrying|anxious|anxiety|panic|"
        r"panic attacks|stress|stressed|stressful|depressed|depression|"
        r"feel low|feeling low|feel dead low|down in the dumps|lonely|loneliness|numb|"
        r"don't see the point|no way out|couldn't see a way out|baby blues|postnatal|"
        r"self-harm|self harm|self-harming|self harming|camhs|counsellor|counselling|"
        r"therapy|therapist|mental health|on edge|overwhelmed|wits' end|wits end|"
        r"can't cope|kooth|mindfulness|feelings|bad dreams|nightmares|"
        r"clears my head|head's a mess|calm down",
        r"scared|frightened|worried|angry|really cross|get cross|feel better|calm|calmer|"
        r"mood|head",
    ),
}
_DETERMINANTS = "determinants"

# Words of a label that say nothing about a theme on their own.
_LABEL_STOPWORDS = frozenset(
    "and the for with from into about your their our my me inside having getting being "
    "other others things life lives people who what where when how have has".split()
)


def cue_words(framework: Framework, theme: Theme) -> tuple[str | None, str | None]:
    """Regex alternations of a theme's topic words and setting words (either may be None).

    Themes other than the shipped determinants have no curated list; the words of their
    label and child label stand in as topic words, so a programme's own theme can still
    be found by name ("digital" for "Digital access").
    """
    if framework.code == _DETERMINANTS and not theme.custom and theme.code in _DETERMINANT_CUES:
        return _DETERMINANT_CUES[theme.code]
    words = {
        w
        for w in re.findall(r"[a-z][a-z'-]+", f"{theme.label} {theme.child_label}".lower())
        if len(w) >= 4 and w not in _LABEL_STOPWORDS
    }
    return ("|".join(f"{re.escape(w)}(?:e?s)?" for w in sorted(words)) or None), None


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
    r"mouldy|hungry|starving|poorly|lost|left out|bullied|shut|closed|closed down|gone up|too|"
    r"waiting|ages|late|cancelled|dear|expensive|tired|knackered|exhausted|shattered|"
    r"stressed|upset|angry|cry|cries|crying|dangerous|unsafe|noisy|argue|arguing|shout|"
    r"shouts|shouting|fighting|pain|hurts|alone|boring|kicked out|chucked out|evicted|debt|"
    r"owe|killing|nightmare|miss|had to|have to|has to|having to|behind on|fell behind|"
    r"arrears|on tick|only|strike|rammed|swollen|prison|turned on me|slag|dead|"
    r"bad name|nervous|shy|anger"
)
_ASSET_WORDS = (
    r"love|loves|loved|like|likes|enjoy|enjoys|best|great|brilliant|amazing|ace|sound|lovely|"
    r"good|better|happy|happier|helped|helps|helping|helpful|support|supported|free|finally|"
    r"kind|fun|favourite|safe|warm|cosy|toasty|buzzing|saved|sorted|proud|easy|passed|"
    r"thriving|lifesaver|lifeline|godsend|glad|calm|nice|friendly|comfy|fitter|stronger|"
    r"excited|fixed|now i can|means i can|so i can|i can actually|came through|better now|"
    r"sorted out|got into|done wonders|gets me|afloat|certificate|working"
)
# Phrases whose negation is good news; they are read first and taken out, so their
# "can't" or "not" is not also counted as a barrier.
_ASSET_IDIOMS = (
    r"can't wait|cannot wait|can't quite believe|can't believe|couldn't be happier|"
    r"not bad|no problem|not to worry|don't worry|without needing|never looked back"
)


def _word_pattern(words: str) -> re.Pattern[str]:
    # Apostrophes count as word characters here, so "can" never matches inside "can't".
    return re.compile(rf"(?<![\w'])(?:{words})(?![\w'])")


# Words that make a hardship smaller or past: "less stressed", "not as worried", "no
# longer scared"; and what after a hardship says it has ended: "not lonely any more".
_SOFTENERS = r"less|no longer|not as|not so|not that|hardly ever|used to"
_RELIEF = r"anymore|any more|no more|has gone|have gone|went away|has stopped|have stopped"
_SOFTENER_RE = _word_pattern(_SOFTENERS)
# Matched from the end of the barrier word: up to three words, then the ending.
_RELIEF_RE = re.compile(rf"(?:\W+\w+){{0,3}}?\W+(?:{_RELIEF})(?![\w'])")
_NEGATOR_RE = _word_pattern(_NEGATORS)
_BARRIER_RE = _word_pattern(_BARRIER_WORDS)
_ASSET_RE = _word_pattern(_ASSET_WORDS)
_IDIOM_RE = _word_pattern(_ASSET_IDIOMS)
# "don't like", "not very good": a negator this many words before an asset word turns it.
_NEGATION_REACH = 3


def _negated(text: str, position: int, negators: Sequence[int], reach: int) -> bool:
    return any(0 < _words(text[n:position]) <= reach for n in negators)


def cue_polarity(text: str) -> float:
    """From -1 (all asset words) to +1 (all barrier words and negations); 0 when none.

    A negator turns an asset word up to three words after it ("don't really like") into a
    barrier. It turns a barrier word straight after it ("not poorly", "never hungry") into
    an asset, and then is not counted itself; a wider reach would misread "can't stop crying".
    A softener up to three words before a barrier word ("less stressed", "used to get
    bullied"), or an ending up to three words after it ("the pain has gone"), makes it an
    asset too.
    """
    text = _normalise(text)
    asset = len(_IDIOM_RE.findall(text))
    text = _IDIOM_RE.sub(lambda m: " " * len(m.group()), text)
    # A softener's own "not" or "no" ("not as", "no longer") is not a negator as well.
    softeners = [m.start() for m in _SOFTENER_RE.finditer(text)]
    text = _SOFTENER_RE.sub(lambda m: "~" * len(m.group()), text)
    negators = [m.start() for m in _NEGATOR_RE.finditer(text)]
    barrier = len(negators)
    for match in _BARRIER_RE.finditer(text):
        if _negated(text, match.start(), negators, 1):
            barrier -= 1
            asset += 1
        elif _negated(text, match.start(), softeners, 3) or _RELIEF_RE.match(text, match.end()):
            asset += 1
        else:
            barrier += 1
    for match in _ASSET_RE.finditer(text):
        if _negated(text, match.start(), negators, _NEGATION_REACH):
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
    # Ridge regression from a centred vector (plus a constant) to its theme, fitted on the
    # anchors: where the top-k mean asks "which phrases is this like?", the probe asks
    # "which directions tell this theme from the others?", and reads paraphrases that sit
    # near no single phrase.
    probe: np.ndarray  # (dimension + 1) x themes
    plainer: Plainer
    topic_cues: tuple[re.Pattern[str] | None, ...]
    setting_cues: tuple[re.Pattern[str] | None, ...]


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


# Small: the anchors are few (50 a theme) but the probe must not learn them by heart.
_PROBE_RIDGE = 0.3


def _fit_probe(anchors: np.ndarray, owner: np.ndarray, themes: int) -> np.ndarray:
    x = np.column_stack([anchors, np.ones(len(anchors))]).astype(np.float64)
    penalty = _PROBE_RIDGE * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0  # the constant is not shrunk
    return np.linalg.solve(x.T @ x + penalty, x.T @ np.eye(themes)[owner]).astype(np.float32)


def _lexicon(framework: Framework, texts: Iterable[str]) -> set[str]:
    """The framework's own words, which spelling slips are corrected towards."""
    words = set(re.findall(r"[a-z]+", " ".join(texts).lower()))
    for theme in framework.themes:
        for alternation in filter(None, cue_words(framework, theme)):
            words.update(w for w in alternation.split("|") if w.isalpha())
    return words


@lru_cache(maxsize=16)
def theme_index(framework: Framework, embedder: Embedder) -> ThemeIndex:
    """The framework's anchors embedded and centred; cached because it costs ~0.5 s."""
    rows = [(pos, text, pol) for pos, t in enumerate(framework.themes) for text, pol in _anchor_texts(t)]
    polarity = _polarity_examples(framework)
    # Most polarity phrases are anchors too; each distinct text is embedded once.
    texts = list(dict.fromkeys([text for _, text, _ in rows] + [text for text, _ in polarity]))
    where = {text: i for i, text in enumerate(texts)}
    plainer = Plainer(_lexicon(framework, texts), embedder.vocabulary())
    raw = embedder.embed([plainer(text) for text in texts])
    centre = raw[[where[text] for _, text, _ in rows]].mean(axis=0)
    vectors = _unit_rows(raw - centre)
    anchors = vectors[[where[text] for _, text, _ in rows]]
    owner = np.array([pos for pos, _, _ in rows])
    return ThemeIndex(
        framework=framework,
        anchors=anchors,
        owner=owner,
        barrier=np.array([pol == "barrier" for _, _, pol in rows]),
        asset=np.array([pol == "asset" for _, _, pol in rows]),
        polarity_anchors=vectors[[where[text] for text, _ in polarity]],
        polarity_barrier=np.array([p == "barrier" for _, p in polarity]),
        centre=centre,
        probe=_fit_probe(anchors, owner, len(framework.themes)),
        plainer=plainer,
        topic_cues=tuple(_cue_pattern(cue_words(framework, t)[0]) for t in framework.themes),
        setting_cues=tuple(_cue_pattern(cue_words(framework, t)[1]) for t in framework.themes),
    )


# --- analysis: everything the decision needs, computed once -----------------------------


@dataclass(frozen=True)
class Analysis:
    index: ThemeIndex
    units: tuple[Unit, ...]
    similarity: np.ndarray  # units x anchors, centred cosine
    polarity_similarity: np.ndarray  # units x polarity anchors
    topic_cues: np.ndarray  # units x themes, 1.0 where the unit uses a topic word
    setting_cues: np.ndarray  # units x themes, 1.0 where the unit uses a setting word
    cue_polarity: np.ndarray  # per unit, see cue_polarity()
    probe: np.ndarray  # units x themes, the anchors' classifier (ThemeIndex.probe)


def _cue_matrix(texts: Sequence[str], patterns: Sequence[re.Pattern[str] | None]) -> np.ndarray:
    return np.array(
        [[1.0 if p is not None and p.search(t) else 0.0 for p in patterns] for t in texts],
        dtype=np.float32,
    ).reshape(len(texts), len(patterns))


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
    # The model and the word lists read the plain wording; evidence quotes the original.
    plain = [index.plainer(u.text) for u in units]
    vectors = _unit_rows(embedder.embed(plain) - index.centre) if units else (
        np.zeros((0, index.anchors.shape[1]), dtype=np.float32)
    )
    # A word list may hold the slang itself ("skint") or its plain meaning ("money").
    both = [f"{_normalise(u.text)}\n{p}" for u, p in zip(units, plain, strict=True)]
    return Analysis(
        index=index,
        units=units,
        similarity=vectors @ index.anchors.T,
        polarity_similarity=vectors @ index.polarity_anchors.T,
        topic_cues=_cue_matrix(both, index.topic_cues),
        setting_cues=_cue_matrix(both, index.setting_cues),
        cue_polarity=np.array([cue_polarity(p) for p in plain], dtype=np.float32),
        probe=vectors @ index.probe[:-1] + index.probe[-1],
    )


# --- decision ---------------------------------------------------------------------------


def _top_k_mean(similarity: np.ndarray, k: int) -> float | np.ndarray:
    if similarity.shape[-1] == 0:
        return np.zeros(similarity.shape[:-1])
    k = min(k, similarity.shape[-1])
    return np.sort(similarity, axis=-1)[..., ::-1][..., :k].mean(axis=-1)


def meaning_scores(analysis: Analysis, top_k: int) -> np.ndarray:
    """Units x themes: the mean similarity of each theme's ``top_k`` closest anchors."""
    index = analysis.index
    columns = [
        _top_k_mean(analysis.similarity[:, index.owner == pos], top_k)
        for pos in range(len(index.framework.themes))
    ]
    return np.stack(columns, axis=1) if columns else np.zeros((len(analysis.units), 0))


def theme_scores(analysis: Analysis, params: Params, meaning: np.ndarray | None = None) -> np.ndarray:
    """Units x themes: meaning score plus the everyday-word bonus.

    ``meaning`` is ``meaning_scores(analysis, params.top_k)`` when already known (tuning reuses it).
    """
    if meaning is None:
        meaning = meaning_scores(analysis, params.top_k)
    words = np.maximum(analysis.topic_cues, params.setting_weight * analysis.setting_cues)
    return meaning + params.probe_weight * analysis.probe + params.cue_weight * words


def _margin(similarity: np.ndarray, barrier: np.ndarray, asset: np.ndarray, k: int) -> float:
    if not barrier.any() or not asset.any():
        return 0.0
    return float(_top_k_mean(similarity[barrier], k) - _top_k_mean(similarity[asset], k))


def _context(units: Sequence[Unit], pos: int) -> int:
    """The longest unit that contains this one: the whole text or its sentence."""
    unit = units[pos]
    around = [
        i
        for i, u in enumerate(units)
        if u.segment_index == unit.segment_index and u.start <= unit.start and u.end >= unit.end
    ]
    return max(around, key=lambda i: units[i].end - units[i].start)


def polarity_inputs(analysis: Analysis, unit: int, theme_pos: int) -> np.ndarray:
    """The six unweighted inputs of the polarity: theme margin, global margin and word count,
    for the evidence unit and then for its surroundings (the same unit when it is the whole)."""
    context = _context(analysis.units, unit)
    own = _unit_polarity_inputs(analysis, unit, theme_pos)
    around = own if context == unit else _unit_polarity_inputs(analysis, context, theme_pos)
    return np.concatenate([own, around])


def polarity_weights(params: Params) -> np.ndarray:
    unit = np.array([params.polarity_theme, params.polarity_global, params.polarity_cues])
    return np.concatenate([unit, params.polarity_context * unit])


def polarity_score(analysis: Analysis, unit: int, theme_pos: int, params: Params) -> float:
    """Above zero reads as a barrier, below as an asset."""
    inputs = polarity_inputs(analysis, unit, theme_pos)
    return float(inputs @ polarity_weights(params)) - params.polarity_bias


# A theme has 5-10 examples of each polarity, so its closest 3 stand for it; across all
# themes there are about a hundred of each, and the closest 5 damp single odd phrases.
_THEME_POLARITY_K = 3
_GLOBAL_POLARITY_K = 5


def _unit_polarity_inputs(analysis: Analysis, unit: int, theme_pos: int) -> np.ndarray:
    index = analysis.index
    own = index.owner == theme_pos
    theme_margin = _margin(
        analysis.similarity[unit], own & index.barrier, own & index.asset, _THEME_POLARITY_K
    )
    global_margin = _margin(
        analysis.polarity_similarity[unit],
        index.polarity_barrier,
        ~index.polarity_barrier,
        _GLOBAL_POLARITY_K,
    )
    return np.array([theme_margin, global_margin, float(analysis.cue_polarity[unit])])


def confidence(score: float, unit_best: float, params: Params) -> float:
    logit = params.calibration_slope * (score - params.calibration_centre)
    logit += params.calibration_gap * (score - unit_best)
    return round(float(1.0 / (1.0 + np.exp(-logit))), 3)


def _pick_positions(framework: Framework, picks: Iterable[str]) -> set[int]:
    """Positions of the picked themes; an unknown code raises ``UnknownTheme``."""
    codes = framework.codes
    return {codes.index(framework.theme(code).code) for code in picks}


def decide(
    analysis: Analysis, params: Params = DEFAULT_PARAMS, participant_themes: Iterable[str] = ()
) -> list[Suggestion]:
    """The suggestions for an analysed text, most confident first.

    A theme is suggested when some unit scores it at least ``threshold`` and either
    names it with a topic word or scores within ``margin`` of that unit's own best theme.
    The margin is per unit, so a second theme carried by its own clause ("... so I can't
    get to work") is not crowded out by the theme that leads the text as a whole.
    """
    if not analysis.units:
        return []
    scores, unit_best, qualifies = score_units(analysis, params, participant_themes)
    suggestions = [
        _suggestion(analysis, pos, scores, unit_best, qualifies[:, pos], params)
        for pos in range(scores.shape[1])
        if qualifies[:, pos].any()
    ]
    return sorted(suggestions, key=lambda s: (-s.confidence, s.theme))


def score_units(
    analysis: Analysis,
    params: Params,
    participant_themes: Iterable[str] = (),
    meaning: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Units x themes scores with picks added, each unit's best score, and which pass."""
    scores = theme_scores(analysis, params, meaning)
    for pos in _pick_positions(analysis.index.framework, participant_themes):
        scores[:, pos] += params.pick_weight
    unit_best = scores.max(axis=1)
    close = scores >= unit_best[:, None] - params.margin
    # A theme the speaker named in plain words ("can't afford the bus") is not crowded
    # out by another named theme in the same clause; the margin only prunes themes that
    # rest on resemblance alone.
    named = analysis.topic_cues > 0
    qualifies = (scores >= params.threshold) & (close | named)
    return scores, unit_best, qualifies


def evidence_unit(column: np.ndarray, allowed: np.ndarray, units: Sequence[Unit]) -> int:
    """The highest-scoring allowed unit; among equal scores the shortest, being most precise."""
    best = column[allowed].max()
    candidates = [i for i in range(len(units)) if allowed[i] and column[i] >= best - 1e-6]
    return min(candidates, key=lambda i: units[i].end - units[i].start)


def _suggestion(
    analysis: Analysis,
    pos: int,
    scores: np.ndarray,
    unit_best: np.ndarray,
    allowed: np.ndarray,
    params: Params,
) -> Suggestion:
    theme = analysis.index.framework.themes[pos]
    unit_pos = evidence_unit(scores[:, pos], allowed, analysis.units)
    unit = analysis.units[unit_pos]
    leaning = polarity_score(analysis, unit_pos, pos, params)
    return Suggestion(
        theme=theme.code,
        label=theme.label,
        confidence=confidence(scores[unit_pos, pos], unit_best[unit_pos], params),
        polarity=Polarity.BARRIER if leaning > 0 else Polarity.ASSET,
        evidence=unit.text,
        evidence_start=unit.start,
        evidence_end=unit.end,
        segment_index=unit.segment_index,
    )


def suggest_tags(
    text: str,
    framework: Framework | str,
    *,
    participant_themes: Iterable[str] = (),
    segments: Sequence[Any] | None = None,
    embedder: Embedder | None = None,
    params: Params = DEFAULT_PARAMS,
) -> list[Suggestion]:
    """Suggested themes for a participant's words, most confident first.

    `text` is the participant's own story or caption, with any OCR text appended.
    `framework` is a ``Framework`` (with any custom themes) or a shipped framework's code.
    `segments` are transcript segments (strings or objects with a ``text`` attribute);
    evidence found in one gives its ``segment_index`` and offsets within its text.
    `participant_themes` are theme codes the participant picked; an unknown code raises
    ``UnknownTheme``. Blank text and no segments give no suggestions.
    """
    if isinstance(framework, str):
        framework = load_framework(framework)
    picks = tuple(participant_themes)
    _pick_positions(framework, picks)
    if not (text or "").strip() and not any(_segment_text(s).strip() for s in segments or ()):
        return []
    analysis = analyse(text or "", framework, segments=segments, embedder=embedder)
    return decide(analysis, params, picks)


# --- output for `chorus tag` ------------------------------------------------------------


def tag_record(text: str, suggestions: Sequence[Suggestion]) -> dict[str, Any]:
    """The JSON object `chorus tag --json` prints for one input line."""
    return {"text": text, "tags": [s.to_dict() for s in suggestions]}


def format_suggestions(suggestions: Sequence[Suggestion]) -> str:
    """One line per theme, for people: code, confidence, polarity and the quoted evidence."""
    if not suggestions:
        return "(no themes suggested)"
    width = max(len(s.theme) for s in suggestions)
    return "\n".join(
        f"{s.theme:<{width}}  {s.confidence:.2f}  {s.polarity.value:<7}  \u201c{s.evidence}\u201d"
        for s in suggestions
    )

"""Spotting personal details in what children and families say or write, for a facilitator to review.

Transcripts and stories can carry a child's name, a friend's, a teacher's, a school, a street or
a phone number. :func:`find_personal_details` marks the likely ones so a facilitator can check
and redact them before anything reaches a report or an exhibit. It is a reviewer's aid: it
favours flagging over missing, it is never a guarantee that nothing personal remains, and a
passage it leaves unmarked still needs a person's eyes.

Plain regular expressions and a bundled list of first names: no model, no download, and fast
enough (tens of microseconds per sentence) to run on every segment as it is written.

Kinds found: ``phone`` (UK mobiles, landlines and +44), ``email`` (written or spoken "at gmail
dot com"), ``postcode`` (UK), ``address`` ("12 Acacia Road", "on Mill Lane"), ``school``
("St Mary's Primary", "Kestrel Vale Academy") and ``name``. A name is flagged when a cue says a
person is meant ("my friend", "called", "my teacher Mrs", "I'm", "my name is") or when a
capitalised word is a common first name. First names that are also ordinary words ("Will",
"May", "Grace", "Poppy") need a cue or a place inside a sentence, so "Will you help?" is not
flagged while "me and Will" is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KINDS", "Detail", "FIRST_NAMES", "find_personal_details"]

KINDS = ("phone", "email", "postcode", "address", "school", "name")


@dataclass(frozen=True)
class Detail:
    """A likely personal detail: ``text == source[start:end]``."""

    kind: str
    start: int
    end: int
    text: str


# --- bundled data ---------------------------------------------------------------------------

# Common first names among children in England and Wales and their parents' generation, chosen
# by hand with the ONS "baby names" top-100 lists as the guide (not a copy of them), plus the
# short forms children use. Lower case; matching is on whole words.
FIRST_NAMES = frozenset(
    """
    aaron abdullah abigail ada adam ahmed aisha alan albert alex alexander alfie alfred ali alice
    amelia amelie amira amy andrew angel anna anne ann april archie arjun arlo arthur aryan ava
    ayaan bella ben benjamin beth bethany bill blessing bobby bradley brian buddy caitlin caleb
    callum cameron carl caitlyn charlie charlotte chloe chris christopher claire colin connor
    courtney craig daisy dan daniel danielle darius darren dave david dawn dean demi derek dev
    dominic donna drew dylan edie edward eleanor eli elijah eliza elizabeth ella ellie ellis elsie
    emilia emily emma erin esme ethan eva evelyn evie ezra faith fatima filip finley finn
    florence frank frankie freddie frederick freya gabriel gary gemma george georgia grace gracie graham hafsa
    hamza hana hannah harper harriet harrison harry hassan hayley hazel heidi henry holly honey
    hope hugo hunter hussain ian ibrahim imogen inaya isaac isabella isabelle isla ivy jack jacob
    jade jake jakub james jamie jan jane janet jasmine jason jaxon jay jayden jean jennifer
    jenson jess jesse jessica jo joe john jordan joseph josh joshua joy jude julia julie june
    kacper karen kate katie kayden kayla kayleigh keira keith kelly kerry kevin khadija kian
    kofi kwame kyle lacey laura lauren layla leah leanne lee leo lewis lexi liam lily linda
    lisa logan lola louie louise lucas lucy luca luke luna lydia mabel maisie maja mandy margaret mark
    martha martin mary maryam mason matilda mateusz matthew max may maya megan mia michael
    michelle mike millie miles mohamed mohammad mohammed molly muhammad nancy natalie nathan
    nathaniel neil niamh nicola nicole noah oliver olivia oliwia ollie omar orla oscar owen paige
    patricia patrick paul penny peter phoebe poppy precious priya rachel ray rayan rebecca
    reggie reuben richard riley robert robin robyn roman ronnie rory rose rosie rowan ruby ryan sam samantha
    samuel sarah scarlett scott sean sebastian shane shannon sharon sienna simon sofia sophia
    sophie stacey stanley stephen steve steven sue summer susan szymon taylor teddy terry theo
    thomas tia toby tom tommy tony tracey trevor tyler tyrone vicky vincent violet wayne will
    william willow yusuf zachary zainab zara zayn zoe zuzanna
    """.split()
)

# First names that are also everyday words, months or things: flagged only with a cue, or
# when capitalised inside a sentence (where capitals mean a name).
_WORD_LIKE_NAMES = frozenset(
    """
    angel april bill blessing buddy daisy dawn dean drew faith frank grace hazel holly honey
    hope hunter ivy jade jan jay joy june lily mark mason max may miles penny poppy
    precious ray robin rose ruby sue summer taylor teddy violet will willow amber
    """.split()
)

_CALENDAR = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december
    """.split()
)

# Capitalised words that follow a cue without being a name ("my friend And me").
_NOT_NAMES = frozenset(
    """
    a an and are as at because but by christmas dad did diwali do does easter eid english for
    from had has have he her his how i if in is it its mum my nan no not of oh ok okay on or
    our polish said says she so that the their then there they this to urdu was we were what
    when where who why with yes you your
    after before sometimes today tomorrow yesterday
    """.split()
) | _CALENDAR

# Words that can precede a street or school type without naming one ("the big school").
_GENERIC = frozenset(
    """
    a an any big boarding church dance different drama every faith football forest high
    holiday little local main music my new next no nursery old one other our primary private
    same secondary special summer sunday swimming that the their this your his her its
    """.split()
)

_DETERMINERS = frozenset("a an another any every her his its my one our some that the their this your".split())
# Words that describe a road or school rather than name it ("a busy road", "a good academy").
_DESCRIPTIONS = frozenset(
    """
    bad busy dangerous dark good horrible long massive nice noisy quiet scary short small steep
    """.split()
)
_NOT_SURNAMES = _NOT_NAMES | _GENERIC

# --- patterns -------------------------------------------------------------------------------

_NAME_WORD = r"(?:O['’]|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_ANY_WORD = r"[A-Za-z][A-Za-z'’-]*"

_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(?0[\s\-)]{0,2})(?:\d[\s\-)]{0,2}){8,10}\d(?!\d)")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b")
_SPOKEN_EMAIL = re.compile(
    r"(?i)\b[a-z0-9][a-z0-9._]* at (?:gmail|googlemail|hotmail|outlook|yahoo|icloud|live|btinternet|aol|sky)"
    r"(?:\s?(?:dot|\.)\s?[a-z]{2,4}){1,2}\b"
)
_POSTCODE_SHAPE = r"(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})"
_POSTCODE = re.compile(rf"\b{_POSTCODE_SHAPE}\b")
# Lower case only after the word "postcode": "b4 5pm" is text speak, not a place.
_SPOKEN_POSTCODE = re.compile(rf"(?i:post ?code(?: is|:)?)\s+((?i:{_POSTCODE_SHAPE}))\b")

_STREET_TYPES = (
    "Road|Rd|Street|Lane|Avenue|Ave|Close|Drive|Way|Crescent|Court|Gardens|Grove|Place|"
    "Terrace|Mews|Row|Square|Walk|Rise|Parade|Estate|Flats"
)
# "St" is a street only when no name follows it; "St Mary's" is a saint.
_STREET_SUFFIX = rf"(?:{_STREET_TYPES}|St\b(?!\.?\s+[A-Z]))"
_STREET = re.compile(
    rf"(?:\b\d{{1,4}}[A-Za-z]?,?\s+)?((?:{_NAME_WORD}\s+){{1,3}}){_STREET_SUFFIX}\b"
)
_LIVE_ON = re.compile(
    rf"(?i:\b(?:live[sd]?|living|stay(?:s|ed|ing)?|address is)\s+(?:on|in|at|is)?\s*(?:the\s+)?)"
    rf"((?:\d{{1,4}}[a-z]?\s+)?((?:[a-z'’-]+\s+){{1,2}})(?i:{_STREET_TYPES.lower()}))\b"
)

_SCHOOL_TYPES = (
    r"(?:Primary|Junior|Juniors|Infant|Infants|Nursery|Secondary|High|Grammar|Middle|Free|Prep|"
    r"Preparatory)(?:\s+(?:School|Academy))?|Academy|College|School"
)
_SCHOOL = re.compile(
    rf"\b((?:(?:St\.?|Saint)\s+)?(?:{_NAME_WORD}(?:['’]s)?\s+){{1,3}})"
    rf"(?:(?:C of E|CE|RC|Catholic|Church of England|Community|Church|Methodist)\s+)?(?:{_SCHOOL_TYPES})\b"
)
_GO_TO_SCHOOL = re.compile(
    r"(?i:\b(?:go(?:es)? to|went to|goes|going to|at|attends?|from)\s+)"
    r"((?:(?:st\.?|saint)\s+)?((?:[a-z'’]+\s+){1,3})"
    r"(?:primary(?:\s+school)?|juniors?|infants?(?:\s+school)?|academy|high school|grammar school|college))\b"
)

_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir)\.?\s+{_NAME_WORD}")
_STRONG_CUE = re.compile(
    r"(?i:\b(?:my\s+(?:best\s+)?(?:friend|mate|pal|brother|sister|cousin|teacher|neighbour|auntie|"
    r"aunty|aunt|uncle|nan|nanna|nana|gran|granny|grandma|grandad|grandpa|mum|mom|dad|stepmum|"
    r"stepdad|carer|key\s+worker|social\s+worker|boyfriend|girlfriend)(?:['’]s\s+name\s+is)?|"
    r"my\s+name\s+is|my\s+name['’]s|(?:i['’]m|i\s+am|he['’]s|she['’]s|(?:he|she)\s+is|they['’]re)\s+called|"
    r"(?:boy|girl|man|woman|lady|kid|child|baby|teacher|friend|someone)\s+(?:called|named)))"
    rf",?\s+({_ANY_WORD})"
)
_WEAK_CUE = re.compile(
    r"(?i:\b(?:i['’]m|im|i\s+am|this\s+is|it['’]s|with|and|called|named|hi|hello|dear|love|from|to|me))"
    rf"\s+({_ANY_WORD})"
)
_CAPITALISED = re.compile(rf"\b{_NAME_WORD}\b")
_FOLLOWING_NAME = re.compile(rf"\s+({_NAME_WORD})\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*)$")

# Where two findings overlap, the longer wins; at equal length, the more specific kind.
_PRIORITY = {kind: rank for rank, kind in enumerate(("email", "phone", "postcode", "school", "address", "name"))}


# --- public API -----------------------------------------------------------------------------


def find_personal_details(text: str) -> list[Detail]:
    """Likely personal details in ``text``, in order, without overlaps."""
    found = [
        *_phones(text),
        *_emails(text),
        *_postcodes(text),
        *_addresses(text),
        *_schools(text),
        *_names(text),
    ]
    return _without_overlaps(found)


# --- finders --------------------------------------------------------------------------------


def _detail(kind: str, text: str, start: int, end: int) -> Detail:
    return Detail(kind, start, end, text[start:end])


def _phones(text: str) -> list[Detail]:
    details = []
    for match in _PHONE.finditer(text):
        if _is_uk_number(_national_digits(match.group())):
            details.append(_detail("phone", text, match.start(), match.end()))
    return details


def _national_digits(number: str) -> str:
    """The number as dialled inside the UK: +44 (0)20 ... and 0044 20 ... both become 020 ..."""
    digits = re.sub(r"\D", "", number)
    for prefix in ("0044", "44"):
        if digits.startswith(prefix):
            return "0" + digits[len(prefix):].removeprefix("0")
    return digits


def _is_uk_number(national: str) -> bool:
    if national[:2] == "07":
        return len(national) == 11
    return national[:2] in ("01", "02", "03", "05", "08") and len(national) in (10, 11)


def _emails(text: str) -> list[Detail]:
    return [_detail("email", text, m.start(), m.end()) for p in (_EMAIL, _SPOKEN_EMAIL) for m in p.finditer(text)]


def _postcodes(text: str) -> list[Detail]:
    details = [_detail("postcode", text, m.start(), m.end()) for m in _POSTCODE.finditer(text)]
    details += [_detail("postcode", text, m.start(1), m.end(1)) for m in _SPOKEN_POSTCODE.finditer(text)]
    return details


def _addresses(text: str) -> list[Detail]:
    details = []
    for match in _STREET.finditer(text):
        start = _skip_generic_words(text, match.start(1), match.end(1))
        if start is not None:
            start = match.start() if match.start() < match.start(1) else start
            details.append(_detail("address", text, start, match.end()))
    for match in _LIVE_ON.finditer(text):
        if _names_a_place(match.group(2)):
            details.append(_detail("address", text, match.start(1), match.end(1)))
    return details


def _schools(text: str) -> list[Detail]:
    details = []
    for match in _SCHOOL.finditer(text):
        start = _skip_generic_words(text, match.start(1), match.end(1))
        if start is not None:
            details.append(_detail("school", text, start, match.end()))
    for match in _GO_TO_SCHOOL.finditer(text):
        if _names_a_place(match.group(2)):
            details.append(_detail("school", text, match.start(1), match.end(1)))
    return details


def _skip_generic_words(text: str, start: int, end: int) -> int | None:
    """Where a run of capitalised words starts once leading generic words are dropped; None if nothing is left."""
    for word in re.finditer(r"\S+", text[start:end]):
        bare = word.group().rstrip("'’s").lower()
        if bare not in _GENERIC and bare not in _NOT_NAMES:
            return start + word.start()
    return None


def _names_a_place(words: str) -> bool:
    """Lower-case words before "road" or "primary" that name one ("mill lane"), not describe one ("a busy road")."""
    words = words.lower().split()
    if not words or words[0] in _DETERMINERS:
        return False
    return not all(w in _GENERIC or w in _NOT_NAMES or w in _DESCRIPTIONS for w in words)


def _names(text: str) -> list[Detail]:
    details = [_detail("name", text, m.start(), m.end()) for m in _TITLE.finditer(text)]
    for match in _STRONG_CUE.finditer(text):
        if _is_cued_name(match.group(1), strong=True):
            details.append(_with_surname(text, match.start(1), match.end(1)))
    for match in _WEAK_CUE.finditer(text):
        if _is_cued_name(match.group(1), strong=False):
            details.append(_with_surname(text, match.start(1), match.end(1)))
    for match in _CAPITALISED.finditer(text):
        if _is_known_name_in_place(text, match):
            details.append(_with_surname(text, match.start(), match.end()))
    return details


def _is_cued_name(word: str, *, strong: bool) -> bool:
    lower = word.lower()
    if lower in _CALENDAR and not strong:
        return False  # "from May to June"
    if lower in FIRST_NAMES:
        return word[0].isupper() or lower not in _WORD_LIKE_NAMES
    # After "my friend" or "called", any capitalised word that is not an ordinary word is a name.
    return strong and word[0].isupper() and lower not in _NOT_NAMES


def _is_known_name_in_place(text: str, match: re.Match) -> bool:
    lower = match.group().lower()
    if lower not in FIRST_NAMES or lower in _CALENDAR:
        return False
    if lower not in _WORD_LIKE_NAMES:
        return True
    return not _SENTENCE_START.search(text, max(0, match.start() - 8), match.start())


def _with_surname(text: str, start: int, end: int) -> Detail:
    follower = _FOLLOWING_NAME.match(text, end)
    if follower and follower.group(1).lower() not in _NOT_SURNAMES and not _is_place_word(follower.group(1)):
        end = follower.end(1)
    return _detail("name", text, start, end)


def _is_place_word(word: str) -> bool:
    return re.fullmatch(rf"{_STREET_TYPES}|{_SCHOOL_TYPES}|St", word) is not None


def _without_overlaps(found: list[Detail]) -> list[Detail]:
    ranked = sorted(found, key=lambda d: (-(d.end - d.start), _PRIORITY[d.kind], d.start))
    kept: list[Detail] = []
    for detail in ranked:
        if all(detail.end <= other.start or detail.start >= other.end for other in kept):
            kept.append(detail)
    return sorted(kept, key=lambda d: d.start)

"""Plain wording for what the sentence model reads: text-speak, local slang and slips.

The embedding model learnt English from the web. It splits "aford" into "af ##ord" and
"CAMHS" into "cam ##hs", and has never seen "skint" next to its meaning, so a child's
"cant aford it, we're skint" lands far from "we can't afford it, we have no money".
``Plainer`` rewrites a text before it is embedded:

1. **Text-speak** and spoken spellings, word for word: "ur" → "your", "wiv" → "with",
   "idk" → "i don't know", "me mam" → "my mum".
2. **Glosses** for British slang and service names the model lacks: "skint" → "broke,
   no money", "CAMHS" → "child mental health services", "on tick" → "on credit".
3. **Spelling slips**: a word the model's vocabulary does not hold is replaced by the one
   word of the framework's own vocabulary within one edit (two for words of six letters
   or more) with the same first letter, if exactly one is closest: "freinds" → "friends",
   "docter" → "doctor", "skool" → "school". Words the model knows are never changed, so
   "lovely" cannot become "lonely".

The lists are general, written from how children, teenagers and parents in the North of
England write and talk, not from any test text. The output is for the model only:
evidence and offsets always quote the participant's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

__all__ = ["ACRONYMS", "GLOSSES", "TEXT_SPEAK", "Plainer", "edit_distance"]

# One word (or a digit spelling) for one or more plain words.
TEXT_SPEAK: Mapping[str, str] = {
    "u": "you", "ya": "you", "yu": "you", "ur": "your", "urself": "yourself", "r": "are",
    "n": "and", "im": "i'm", "ive": "i've", "youre": "you're", "theyre": "they're",
    "cant": "can't", "dont": "don't", "wont": "won't", "didnt": "didn't", "doesnt": "doesn't",
    "isnt": "isn't", "wasnt": "wasn't", "werent": "weren't", "arent": "aren't",
    "havent": "haven't", "hasnt": "hasn't", "couldnt": "couldn't", "wouldnt": "wouldn't",
    "shouldnt": "shouldn't", "aint": "ain't", "thats": "that's", "theres": "there's",
    "whats": "what's", "hes": "he's", "shes": "she's",
    "2day": "today", "2moro": "tomorrow", "2morrow": "tomorrow", "tmrw": "tomorrow",
    "tomoz": "tomorrow", "2nite": "tonight", "2night": "tonight", "tonite": "tonight",
    "nite": "night", "nites": "nights", "l8": "late", "l8r": "later", "gr8": "great",
    "b4": "before", "bc": "because", "bcos": "because", "bcoz": "because", "becoz": "because",
    "coz": "because", "cuz": "because", "cus": "because", "cos": "because",
    "wiv": "with", "wid": "with", "wivout": "without", "wot": "what", "wat": "what",
    "wen": "when", "wer": "where", "ther": "there", "thier": "their", "dat": "that",
    "dis": "this", "dem": "them", "luv": "love", "pls": "please", "plz": "please",
    "ppl": "people", "peeps": "people", "sum1": "someone", "some1": "someone",
    "any1": "anyone", "no1": "no one", "every1": "everyone", "gd": "good", "rly": "really",
    "rlly": "really", "rele": "really", "wk": "week", "wks": "weeks", "wkend": "weekend",
    "wknd": "weekend", "yr": "year", "yrs": "years", "hr": "hour", "hrs": "hours",
    "mins": "minutes", "msg": "message", "msgs": "messages", "txt": "text",
    "bf": "boyfriend", "gf": "girlfriend", "bff": "best friend", "bestie": "best friend",
    "m8": "mate", "m8s": "mates", "bro": "brother", "sis": "sister", "lil": "little",
    "idk": "i don't know", "idc": "i don't care", "tbh": "to be honest",
    "ngl": "not gonna lie", "imo": "in my opinion", "omg": "oh my god", "fr": "for real",
    "cba": "can't be bothered", "rn": "right now", "atm": "at the moment",
    "smh": "shaking my head", "ffs": "for goodness sake", "wtf": "what the hell",
    "lol": "", "lmao": "", "haha": "", "hahaha": "", "xx": "", "xxx": "",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "dunno": "don't know",
    "innit": "isn't it", "tho": "though", "thru": "through", "nuffin": "nothing",
    "nuffink": "nothing", "nothin": "nothing", "sumthin": "something", "summat": "something",
    "nowt": "nothing", "owt": "anything", "skl": "school", "skool": "school",
    "skewl": "school", "cld": "could", "wld": "would", "shld": "should", "probs": "probably",
    "deffo": "definitely", "obvs": "obviously", "mam": "mum", "mammy": "mummy", "mom": "mum",
    "mommy": "mummy", "ma": "mum", "nanna": "nan", "nannan": "nan",
    "lowkey": "a bit", "highkey": "really",
}

# Slang, dialect and service names the model has not learnt, as words it has. Keys may
# be phrases; longer keys are tried first.
GLOSSES: Mapping[str, str] = {
    # money
    "skint": "broke, no money", "brassic": "broke, no money", "boracic": "broke, no money",
    "on tick": "on credit, owing money", "the social": "the benefits office",
    "on the social": "on benefits", "the dole": "unemployment benefit",
    "on the dole": "on unemployment benefit", "uc": "universal credit benefits",
    "pip": "disability benefit", "dla": "disability benefit", "quid": "pounds",
    "fiver": "five pounds", "tenner": "ten pounds", "dosh": "money", "minted": "rich",
    "leccy": "electricity", "lecky": "electricity", "sanctioned": "had benefits stopped",
    # work
    "on the sick": "off work sick", "signed off": "off work sick",
    "cash in hand": "paid cash for work", "cscs card": "building site work card",
    "neet": "not in education, employment or training",
    # school
    "camhs": "child mental health services", "kooth": "online counselling",
    "senco": "special needs teacher", "ehcp": "special educational needs plan",
    "ehc plan": "special educational needs plan", "pru": "pupil referral unit for excluded pupils",
    "alternative provision": "a school for excluded pupils",
    "my ta": "my teaching assistant", "the ta": "the teaching assistant",
    "asd": "autism", "asc": "autism", "free dinners": "free school meals",
    # health
    "hv": "health visitor", "a&e": "hospital emergency department",
    "pnd": "postnatal depression", "mh": "mental health", "the docs": "the doctor's",
    "vape": "e-cigarette", "vapes": "e-cigarettes", "vaping": "smoking e-cigarettes",
    "ket": "ketamine drug", "clemmed": "hungry", "knackered": "exhausted",
    "cream crackered": "exhausted",
    # food
    "butty": "sandwich", "butties": "sandwiches", "barm": "bread roll", "barms": "bread rolls",
    "scran": "food", "chippy": "fish and chip shop", "maccies": "mcdonald's fast food",
    "maccy d's": "mcdonald's fast food",
    # home and place
    "gaff": "house", "hmo": "shared house", "b&b": "bed and breakfast temporary accommodation",
    "section 21": "eviction notice", "rec": "recreation ground park",
    "the precinct": "the shopping precinct", "ginnel": "alleyway", "snicket": "alleyway",
    "bizzies": "police", "feds": "police", "the old bill": "the police",
    # people and feelings
    "our kid": "my brother", "bairn": "child", "bairns": "children", "mandem": "friends",
    "bredrin": "friend", "gc": "group chat", "dm": "private message", "dms": "private messages",
    "buzzing": "very happy", "gutted": "very sad", "mardy": "moody", "narky": "grumpy",
    "vexed": "angry", "sus": "suspicious",
}

# Capitals that would be ordinary words in lower case ("send", "ta" for thanks), so they
# are read only as written.
ACRONYMS: Mapping[str, str] = {
    "SEND": "special educational needs", "SEN": "special educational needs",
    "TA": "teaching assistant", "HA": "housing association", "AP": "alternative provision",
}

_WORD = re.compile(r"[a-z0-9][a-z0-9&']*")
# "me mam", "me mates": the spoken "me" for "my" before family, friends and home.
_ME_MY = re.compile(
    r"\bme (?=(?:mam|mum|dad|nan|nana|grandad|mates?|brothers?|sisters?|bro|sis|kids?|"
    r"friends?|house|room|bed|teacher|school)\b)"
)


def _phrase_pattern(keys: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(keys, key=len, reverse=True)
    return re.compile(r"(?<![\w'&])(?:" + "|".join(re.escape(k) for k in ordered) + r")(?![\w'&])")


_ACRONYM_RE = re.compile(r"\b(?:" + "|".join(ACRONYMS) + r")\b")
_SPEAK_RE = _phrase_pattern(TEXT_SPEAK)
_GLOSS_RE = _phrase_pattern(GLOSSES)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (swapped neighbours count once); above ``limit``
    the exact value is not needed, so ``limit + 1`` is returned as soon as it is certain."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


class Plainer:
    """Rewrites texts into plain wording for the sentence model (see the module doc).

    ``lexicon`` is the vocabulary spelling slips are corrected towards (the framework's own
    words); ``known`` holds words never to correct (the model's vocabulary).
    """

    def __init__(self, lexicon: Iterable[str], known: Iterable[str]) -> None:
        self._lexicon = tuple(sorted({w for w in lexicon if len(w) >= 4 and w.isalpha()}))
        self._known = frozenset(known) | frozenset(self._lexicon) | frozenset(TEXT_SPEAK)
        self._correct = lru_cache(maxsize=4096)(self._nearest)

    def __call__(self, text: str) -> str:
        text = _ACRONYM_RE.sub(lambda m: ACRONYMS[m.group()], text)
        text = text.lower().replace("’", "'").replace("‘", "'")
        text = _ME_MY.sub("my ", text)
        text = _SPEAK_RE.sub(lambda m: TEXT_SPEAK[m.group()], text)
        text = _WORD.sub(lambda m: self._correct(m.group()), text)
        text = _GLOSS_RE.sub(lambda m: GLOSSES[m.group()], text)
        return " ".join(text.split())

    def _nearest(self, word: str) -> str:
        if word in self._known or word in GLOSSES or len(word) < 4 or not word.isalpha():
            return word
        limit = 1 if len(word) < 6 else 2
        best, found = limit + 1, []
        for candidate in self._lexicon:
            if candidate[0] != word[0]:
                continue
            distance = edit_distance(word, candidate, min(limit, best))
            if distance < best:
                best, found = distance, [candidate]
            elif distance == best:
                found.append(candidate)
        return found[0] if best <= limit and len(found) == 1 else word

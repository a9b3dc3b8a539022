"""The words of attribution: verbs of saying with their lemmas, the words around a cue."""

from __future__ import annotations

import re

# Verbs of saying: surface form -> lemma. Only these make an attribution.
_CUE_FORMS: dict[str, tuple[str, ...]] = {
    "say": ("said", "says", "say"),
    "tell": ("told", "tells", "tell"),
    "add": ("added", "adds", "add"),
    "write": ("wrote", "writes", "write"),
    "note": ("noted", "notes"),
    "warn": ("warned", "warns", "warn"),
    "claim": ("claimed", "claims", "claim"),
    "insist": ("insisted", "insists", "insist"),
    "promise": ("promised", "promises"),
    "state": ("stated", "states"),
    "explain": ("explained", "explains", "explain"),
    "argue": ("argued", "argues", "argue"),
    "announce": ("announced", "announces"),
    "declare": ("declared", "declares"),
    "assert": ("asserted", "asserts"),
    "acknowledge": ("acknowledged", "acknowledges", "acknowledge"),
    "admit": ("admitted", "admits", "admit"),
    "stress": ("stressed", "stresses", "stress"),
    "emphasize": ("emphasized", "emphasised", "emphasizes"),
    "report": ("reported", "reports"),
    "continue": ("continued",),
    "recall": ("recalled", "recalls"),
    "predict": ("predicted", "predicts", "predict"),
    "complain": ("complained", "complains"),
    "confirm": ("confirmed", "confirms", "confirm"),
    "reply": ("replied", "replies"),
    "respond": ("responded", "responds"),
    "counter": ("countered", "counters"),
    "tweet": ("tweeted", "tweets"),
    "post": ("posted",),
    "call": ("called", "calls"),
    "ask": ("asked", "asks"),
    "suggest": ("suggested", "suggests", "suggest"),
    "contend": ("contended", "contends", "contend"),
    "observe": ("observed",),
    "remark": ("remarked",),
    "concede": ("conceded",),
    "joke": ("joked",),
    "quip": ("quipped",),
    "vow": ("vowed", "vows"),
    "pledge": ("pledged",),
    "charge": ("charged",),
    "allege": ("alleged",),
    "maintain": ("maintained", "maintains", "maintain"),
    "boast": ("boasted",),
    "testify": ("testified",),
    "tell reporters": (),
}
_CUE_LEMMA: dict[str, str] = {form: lemma for lemma, forms in _CUE_FORMS.items() for form in forms}
CUES: frozenset[str] = frozenset(_CUE_FORMS) | {"according to"}
"""Every cue :func:`~pipeline.stages.attribution.quotes.find_quotes` may report (verb lemmas and
``according to``)."""

# Cues that only attribute a direct quote next to them, never reported speech on their own.
DIRECT_ONLY = frozenset({"continue", "ask", "call", "post", "tweet", "joke", "quip", "reply"})


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


PRONOUNS = {"he": "PER", "she": "PER", "i": "PER", "it": "ORG", "they": "ANY", "we": "ANY"}
SKIP_BEFORE_CUE = _wordset(
    "also later has have had was is would will then again once previously recently publicly "
    "privately repeatedly reportedly further simply earlier quickly flatly just often "
    "frequently already even still"
)
NP_STOP = _wordset(
    "that which who whom whose and but or because while when if as since after before than so "
    "where what how why not been be being is are was were has have had do does did to for in yet "
    "on at by with from about into over under against this these those said says told"
)
DETERMINERS = _wordset("the a an his her their its our my one some many several two")
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
AFTER_CUE = re.compile(
    r"(?:,?\s+(?:on\s+)?(?:"
    + _WEEKDAYS
    + r"|yesterday|today|tonight|earlier|later|recently|last\s+(?:week|month|year|night)|"
    r"this\s+(?:week|month|year|morning)|in\s+(?:an?|his|her|their|the)\s+\w+(?:\s+\w+)?"
    r"(?:\s+(?:with|to|on)\s+(?:the\s+)?[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*)?|"
    r"on\s+(?:Twitter|Facebook|CNN|Fox(?:\s+News)?|MSNBC|NBC|ABC|CBS)|"
    r"(?:morning|afternoon|evening|night)|(?:in|at)\s+(?:a|the)\s+(?:press\s+conference|"
    r"statement|interview|speech|rally|news\s+conference))(?:\s+(?:morning|afternoon|evening|"
    r"night))?)*,?\s*"
)
TIME_BEFORE_CUE = re.compile(
    r"(?:,\s*|\s+)(?:(?:on|late|early)\s+)?(?:"
    + _WEEKDAYS
    + r"|yesterday|today|tonight|last\s+(?:week|month|year|night)|"
    r"this\s+(?:week|month|year|morning|afternoon|evening)|earlier\s+this\s+(?:week|month|year)"
    r")(?:\s+(?:morning|afternoon|evening|night))?\s*,?\s*$"
)
"""A time between a speaker and the cue: "Lee on Thursday said", "Lee, last week, said"."""
THAT = re.compile(r"that\b\s*")
# "said during a rally in Michigan that ...": a prepositional phrase before "that".
PP_THAT = re.compile(
    r"(?:during|at|in|on|to|after|before|from|while|via|through|with|last|earlier|this)\s"
    r"[^,.;:\"“”]{0,80}?\bthat\b\s*"
)
TOKEN = re.compile(r"[A-Za-z0-9][\w'\u2019.-]*[\w]|[A-Za-z0-9]|[^\w\s]")


_CUE_RE = re.compile(
    r"\b(?:(?P<acc>[Aa]ccording\s+to)|(?P<verb>"
    + "|".join(sorted(_CUE_LEMMA, key=len, reverse=True))
    + r"))\b"
)


_MODAL_BEFORE = re.compile(
    r"\b(?:to|will|would|can|could|may|might|should|must|did|does|do|not|never|n't|"
    r"cannot|let|let's|and)\s+$"
)


def find_cues(body: str, start: int, end: int) -> list[tuple[int, int, str]]:
    out = []
    for m in _CUE_RE.finditer(body, start, end):
        if m.group("acc"):
            out.append((m.start(), m.end(), "according to"))
            continue
        verb = m.group("verb")
        lemma = _CUE_LEMMA[verb]
        if verb == lemma and _MODAL_BEFORE.search(body, max(start, m.start() - 12), m.start()):
            continue
        out.append((m.start(), m.end(), lemma))
    return out


_CUE_ALT = "|".join(_CUE_LEMMA)
_TRAILING = re.compile(
    r",\s*(?:[\w.'\u2019-]+\s+){1,5}(?:" + _CUE_ALT + r")\b[^,]*$"
    r"|(?:,\s*|;\s*|\s+)but\s+(?:[\w.'\u2019-]+\s+){1,5}(?:" + _CUE_ALT + r")\b"
    # a new verb phrase of the speaker: "..., and he urged", "... but noted", "and called it"
    r"|(?:,|;|\s[\u2014\u2013-])?\s+(?:and|but)\s+(?:(?:he|she|they|it|we|[A-Z][\w.]*"
    r"(?:\s+[A-Z][\w.]*)*)\s+)?(?:also\s+)?(?:[a-z]+ed|said|says|told)\b"
    # a participle clause: ", implicitly putting ...", ", forcing them ..."
    r"|,\s+(?:[a-z]+ly\s+)?(?!including\b|according\b)[a-z]+ing\b"
    # a contrast the speaker is not said to make: ", while 9 percent ..."
    r"|,\s+(?:while|whereas|however)\b"
    # a second verb of saying: "... and tells the crowd he ...", "and more than half said"
    r"|,?\s+(?:and|but)\s+(?:[\w.'\u2019-]+\s+){0,5}?(?:" + _CUE_ALT + r")\b"
)


def strip_trailing_attribution(body: str, start: int, end: int) -> int:
    m = _TRAILING.search(body, start, end)
    return m.start() if m else end


def skip_object(body: str, pos: int, end: int) -> int:
    """After 'told': skip the hearer ("reporters", "the BBC", "Fox News")."""
    m = re.compile(
        r"\s+(?:(?:the|a|an|his|her|their)\s+)?(?:[A-Z][\w.&'\u2019-]*(?:\s+[A-Z][\w.&'\u2019-]*)*|\w+)"
    ).match(body, pos, end)
    return m.end() if m else pos
